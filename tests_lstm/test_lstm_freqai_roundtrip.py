"""The seed-000 member set (random_forest + xgboost + lstm) through FreqAI's own
train -> data drawer (joblib) -> fresh drawer load -> predict path."""

import numpy as np
import pandas as pd

from plugins.freqai.lstm_member import LstmRegressor
from tests.test_freqai_roundtrip import round_trip


SEED000 = {"random_forest": {"n_estimators": 10, "min_samples_leaf": 5},
           "xgboost": {"n_estimators": 20, "max_depth": 3},
           "lstm": {"window": 6, "max_epochs": 10, "validation_gap": 4}}


def test_seed000_set_round_trips_through_freqai_model_storage(tmp_path):
    run = round_trip(tmp_path, "EnsembleRegressor", False, SEED000)
    assert isinstance(run.loaded.members_["lstm"], LstmRegressor)
    assert run.loaded.members_["lstm"] is not run.trained.members_["lstm"]  # read back from disk
    pd.testing.assert_frame_equal(run.before, run.after)
    report = run.metadata["ensemble"]
    assert report["members"].keys() == SEED000.keys()
    assert report["members"]["lstm"]["weight"] > 0
    truth = run.new_df["&-mean_fwd_return"].to_numpy()
    assert np.corrcoef(run.after["&-mean_fwd_return"], truth)[0, 1] > 0.8
