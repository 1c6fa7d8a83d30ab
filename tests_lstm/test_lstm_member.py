"""plugins.freqai.lstm_member with PyTorch installed (make test-lstm): fit/predict, no look-ahead,
early stopping, determinism and joblib round trip."""

import io

import joblib
import numpy as np
import pytest

from plugins.freqai.ensemble import WeightedEnsemble, build_member
from plugins.freqai.lstm_member import LstmRegressor


FIT_ROWS = 1200


def features(n=1500, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4))


def out_of_sample_mae(y, shift_window=8, seed=1):
    """MAE on rows after FIT_ROWS of an LSTM fitted on the rows before, and the no-skill MAE."""
    X = features()
    model = LstmRegressor(window=shift_window, random_state=seed).fit(X[:FIT_ROWS], y[:FIT_ROWS])
    pred = model.predict(X[FIT_ROWS:])
    held_out = y[FIT_ROWS:]
    return (np.abs(pred - held_out).mean(),
            np.abs(held_out - y[:FIT_ROWS].mean()).mean(), model)


def test_a_past_feature_value_is_learnable():
    """Positive control: y[t] = x0[t-1] is inside the window, so the LSTM must find it."""
    x0 = features()[:, 0]
    mae, no_skill, model = out_of_sample_mae(np.r_[0.0, x0[:-1]])
    assert mae < 0.25 * no_skill
    assert model.best_epoch_ >= 1 and model.epochs_run_ <= model.max_epochs


def test_a_future_feature_value_is_not_learnable():
    """Leak test: y[t] = x0[t+1]. A model that saw row t+1 would predict it almost perfectly
    (as the positive control shows for t-1); the LSTM must stay at the no-skill level."""
    x0 = features()[:, 0]
    mae, no_skill, _ = out_of_sample_mae(np.r_[x0[1:], 0.0])
    assert mae > 0.95 * no_skill


def test_a_prediction_does_not_change_when_later_rows_change():
    X = features(300)
    y = np.r_[0.0, X[:-1, 0]]
    model = LstmRegressor(window=6, max_epochs=5).fit(X[:200], y[:200])
    full = model.predict(X)
    altered = X.copy()
    altered[150:] = 100.0  # rows from 150 on: rows before 150 must predict exactly as before
    np.testing.assert_array_equal(model.predict(altered)[:150], full[:150])
    # a live call on the last rows only gives the same last prediction once it holds a window
    np.testing.assert_allclose(model.predict(X[-6:])[-1], full[-1], rtol=1e-6)


def test_early_stopping_keeps_the_best_epoch_and_is_deterministic():
    X = features(600)
    y = np.random.default_rng(5).normal(size=600)  # pure noise: validation loss stops improving
    a = LstmRegressor(window=4, max_epochs=60, patience=3, random_state=7).fit(X, y)
    b = LstmRegressor(window=4, max_epochs=60, patience=3, random_state=7).fit(X, y)
    assert a.epochs_run_ < 60
    assert a.epochs_run_ == a.best_epoch_ + 3
    assert min(a.validation_loss_) == a.validation_loss_[a.best_epoch_ - 1]
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_joblib_round_trip_predicts_the_same():
    X = features(400)
    y = np.r_[0.0, X[:-1, 0]]
    model = LstmRegressor(window=5, max_epochs=5).fit(X, y)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    assert loaded._net is None  # pickled as numpy weights, network rebuilt on first use
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("params, match", [
    ({"window": 0}, "window"), ({"hidden_size": 2.5}, "hidden_size"),
    ({"dropout": 1.0}, "dropout"), ({"validation_fraction": 0}, "validation_fraction"),
    ({"validation_gap": -1}, "validation_gap"), ({"learning_rate": 0}, "learning_rate"),
])
def test_parameters_are_validated_at_construction(params, match):
    with pytest.raises(ValueError, match=match):
        LstmRegressor(**params)


def test_lstm_member_in_the_ensemble():
    X = features(700)
    y = np.r_[0.0, X[:-1, 0]]
    members = {"lstm": {"window": 4, "max_epochs": 15}, "linear": {"alpha": 1.0}}
    model = WeightedEnsemble(members=members).fit(X[:600], y[:600],
                                                  validation=(X[600:], y[600:]))
    # the linear member only sees row t, the LSTM sees t-1: the LSTM must win the weights
    assert model.weights_["lstm"] > model.weights_["linear"]
    assert model.report["members"]["lstm"]["mae"] < 0.5 * model.report["no_skill"]["mae"]
    assert isinstance(build_member("lstm", "regression"), LstmRegressor)


def test_ensemble_validation_gives_the_lstm_the_rows_before_the_validation_slice():
    """The validation rows' windows reach back into the training rows (which come first in
    time) instead of padding: same as predicting on the whole series and keeping the tail."""
    X = features(500)
    y = np.r_[0.0, X[:-1, 0]]
    gap = 3
    model = WeightedEnsemble(members={"lstm": {"window": 8, "max_epochs": 5}}, gap=gap).fit(
        X[:400], y[:400], validation=(X[400:], y[400:]))
    member = model.members_["lstm"]
    expected = member.predict(X)[400 + gap:]
    padded = member.predict(X[400 + gap:])
    assert model.report["members"]["lstm"]["mae"] == pytest.approx(
        np.abs(expected - y[400 + gap:]).mean())
    assert not np.allclose(expected[:7], padded[:7])  # the first windows do differ


def test_evaluate_reads_the_history_before_the_held_out_rows():
    X = features(500)
    y = np.r_[0.0, X[:-1, 0]]
    model = WeightedEnsemble(members={"lstm": {"window": 8, "max_epochs": 5}}).fit(X[:400],
                                                                                 y[:400])
    with_history = model.evaluate(X[400:], y[400:], history=X[:400])["lstm"]["mae"]
    expected = np.abs(model.members_["lstm"].predict(X)[400:] - y[400:]).mean()
    assert with_history == pytest.approx(expected)
    assert model.evaluate(X[400:], y[400:])["lstm"]["mae"] != pytest.approx(expected)
