"""EnsembleRegressor / EnsembleClassifier through FreqAI's own train -> data drawer -> load path."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from freqtrade.freqai.data_drawer import FreqaiDataDrawer
from freqtrade.freqai.data_kitchen import FreqaiDataKitchen
from freqtrade.resolvers.freqaimodel_resolver import FreqaiModelResolver

from plugins.freqai.ensemble import WeightedEnsemble
from tests.conftest import USER_DATA


PAIR = "BTC/USDT"
STAMP = 1735689600
MEMBERS = {
    "lightgbm": {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 10},
    "extra_trees": {"n_estimators": 10, "min_samples_leaf": 5},
    "hist_gb": {"max_iter": 20, "max_leaf_nodes": 7},
    "linear": {"alpha": 1.0},
}


def freqai_config(tmp_path: Path, model: str, members: dict | None = None) -> dict:
    config_file = tmp_path / "config.json"  # FreqAI copies the config file beside its models
    config_file.write_text("{}")
    return {
        "user_data_dir": tmp_path, "freqaimodel": model, "config_files": [str(config_file)],
        "freqaimodel_path": str(USER_DATA / "freqaimodels"),
        "timerange": "20250101-20250301", "timeframe": "1h", "stake_currency": "USDT",
        "exchange": {"name": "binance", "pair_whitelist": [PAIR]},
        "freqai": {
            "enabled": True, "identifier": "roundtrip", "train_period_days": 30,
            "backtest_period_days": 7, "activate_tensorboard": False,
            "data_kitchen_thread_count": 1,
            "feature_parameters": {"include_timeframes": ["1h"], "include_corr_pairlist": [],
                                   "label_period_candles": 4, "indicator_periods_candles": [10],
                                   "DI_threshold": 0.9, "shuffle_after_split": False},
            "data_split_parameters": {"test_size": 0.2, "shuffle": False},
            "model_training_parameters": {"members": members or MEMBERS, "random_state": 1},
        },
    }


def dataset(n: int, classes: bool) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(n, 3))
    y = 0.02 * x[:, 0] - 0.01 * x[:, 1] + 0.002 * rng.normal(size=n)
    df = pd.DataFrame({"date": pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC")})
    for i in range(3):
        df[f"%-x{i}"] = x[:, i]
    if classes:
        df["&s-up_or_down"] = np.where(y > 0, "up", "down")
    else:
        df["&-mean_fwd_return"] = y
    return df


def kitchen(config: dict) -> FreqaiDataKitchen:
    dk = FreqaiDataKitchen(config, live=False, pair=PAIR)
    dk.set_paths(PAIR, STAMP)
    dk.set_new_model_names(PAIR, STAMP)
    return dk


@pytest.mark.parametrize("model_name, classes", [("EnsembleRegressor", False),
                                                  ("EnsembleClassifier", True)])
def test_train_save_load_predict_round_trip(tmp_path, model_name, classes):
    run = round_trip(tmp_path, model_name, classes, MEMBERS)
    trained, loaded = run.trained, run.loaded
    assert isinstance(trained, WeightedEnsemble)
    assert trained.report["rows"]["source"] == "given"  # FreqAI's unshuffled test split
    assert loaded is not trained
    assert loaded.weights_ == trained.weights_
    assert run.dk_loaded.data["ensemble"]["members"].keys() == MEMBERS.keys()
    assert run.metadata["ensemble"]["members"]["linear"]["weight"] == pytest.approx(
        trained.weights_["linear"])
    after = run.after
    pd.testing.assert_frame_equal(run.before, after)
    np.testing.assert_array_equal(run.do_before, run.do_after)
    if classes:
        assert {"up", "down", "&s-up_or_down"} <= set(after.columns)
        np.testing.assert_allclose(after[["down", "up"]].sum(axis=1), 1.0)
    else:
        # the signal is linear and strong: predictions track the true value
        truth = run.new_df["&-mean_fwd_return"].to_numpy()
        assert np.corrcoef(after["&-mean_fwd_return"], truth)[0, 1] > 0.8


def round_trip(tmp_path: Path, model_name: str, classes: bool, members: dict) -> SimpleNamespace:
    """Train through FreqAI, save with its data drawer, load in a fresh drawer (as a restarted
    bot would), predict with both models on the same new rows."""
    config = freqai_config(tmp_path, model_name, members)
    freqai = FreqaiModelResolver.load_freqaimodel(config)
    train_df, new_df = dataset(400, classes), dataset(460, classes).tail(60)
    dk = kitchen(config)
    dk.find_features(train_df)
    dk.find_labels(train_df)
    freqai.dd.get_pair_dict_info(PAIR)
    trained = freqai.train(train_df, PAIR, dk)
    freqai.dd.save_data(trained, PAIR, dk)
    freqai.model = trained
    before, do_before = freqai.predict(new_df, dk)
    dk_loaded = kitchen(config)
    loaded = FreqaiDataDrawer(Path(freqai.full_path), config).load_data(PAIR, dk_loaded)
    freqai.model = loaded
    after, do_after = freqai.predict(new_df, dk_loaded)
    metadata = json.loads(next(dk_loaded.data_path.glob("*_metadata.json")).read_text())
    return SimpleNamespace(trained=trained, loaded=loaded, before=before, after=after,
                           do_before=do_before, do_after=do_after, dk_loaded=dk_loaded,
                           metadata=metadata, new_df=new_df)


SEED000_TREES = {"random_forest": {"n_estimators": 10, "min_samples_leaf": 5},
                 "xgboost": {"n_estimators": 20, "max_depth": 3}}


@pytest.mark.parametrize("model_name, classes", [("EnsembleRegressor", False),
                                                  ("EnsembleClassifier", True)])
def test_xgboost_and_random_forest_round_trip_with_the_window_report(tmp_path, model_name,
                                                                      classes):
    run = round_trip(tmp_path, model_name, classes, SEED000_TREES)
    assert run.loaded is not run.trained
    pd.testing.assert_frame_equal(run.before, run.after)
    report = run.metadata["ensemble"]
    assert report["members"].keys() == SEED000_TREES.keys()
    assert report["pair"] == PAIR
    # the window is the labelled candles of the training data (400 rows minus the label horizon)
    assert report["window"]["first_candle"].startswith("2025-01-01")
    assert pd.Timestamp(report["window"]["last_candle"]) < pd.Timestamp("2025-01-18", tz="UTC")
    metric = report["metric"]
    assert report["ensemble"][metric] < report["no_skill"][metric]  # the signal is strong
    assert report["members"]["xgboost"]["weight"] == pytest.approx(
        run.trained.weights_["xgboost"])
