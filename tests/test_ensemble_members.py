"""plugins.freqai.members: xgboost / random_forest members, the lstm member without PyTorch, the
per-window report (no-skill scores, window) and the start-up checks. Needs no PyTorch: the LSTM's
own fit/predict tests live in tests_lstm/ (make test-lstm)."""

import json
import sys

import numpy as np
import pytest

from plugins.freqai.ensemble import (
    WeightedEnsemble,
    build_member,
    config_problem,
    live_window_problem,
    training_window_dates,
)
from plugins.freqai.lstm_member import INSTALL_HINT, lagged_windows
from tests.conftest import CONFIG, USER_DATA, error_lines, run_freqtrade


def step_data(n=600, seed=0):
    """y = 1 if x0 > 0 else -1, plus a little noise: trees get it, a constant does not."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 4))
    return X, np.where(X[:, 0] > 0, 1.0, -1.0) + 0.05 * rng.normal(size=n)


@pytest.mark.parametrize("kind, params", [
    ("xgboost", {"n_estimators": 40, "max_depth": 3, "learning_rate": 0.2}),
    ("random_forest", {"n_estimators": 20, "min_samples_leaf": 5}),
])
def test_new_regression_members_fit_and_predict(kind, params):
    X, y = step_data()
    model = build_member(kind, "regression", params, random_state=1)
    model.fit(X[:500], y[:500])
    pred = model.predict(X[500:])
    assert pred.shape == (100,)
    no_skill = np.abs(y[500:] - y[:500].mean()).mean()
    assert np.abs(pred - y[500:]).mean() < 0.3 * no_skill


def test_xgboost_classifier_takes_string_labels():
    X, y = step_data(400)
    labels = np.where(y > 0, "up", "down")
    model = build_member("xgboost", "classification", {"n_estimators": 30}).fit(X, labels)
    assert list(model.classes_) == ["down", "up"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (model.predict(X) == labels).mean() > 0.95
    ensemble = WeightedEnsemble(task="classification", members={
        "xgboost": {"n_estimators": 30}, "linear": {"alpha": 1.0}}).fit(X, labels)
    assert set(ensemble.weights_) == {"xgboost", "linear"}
    assert (ensemble.predict(X) == labels).mean() > 0.9


def test_seed000_tree_members_in_an_ensemble_report_no_skill_scores():
    X, y = step_data(700)
    members = {"random_forest": {"n_estimators": 20, "min_samples_leaf": 5},
               "xgboost": {"n_estimators": 40, "max_depth": 3}}
    model = WeightedEnsemble(members=members, gap=2).fit(X[:600], y[:600],
                                                        validation=(X[600:], y[600:]))
    report = model.report
    assert set(report["members"]) == set(members)
    # the no-skill forecast is the fit rows' mean target: its MAE is computable by hand
    expected = np.abs(y[602:] - y[:600].mean()).mean()
    assert report["no_skill"]["mae"] == pytest.approx(expected)
    assert report["ensemble"]["mae"] < 0.3 * report["no_skill"]["mae"]
    assert "no_skill" in model.summary().splitlines()[-1]


def test_classification_no_skill_is_the_fit_rows_class_frequencies():
    X = np.zeros((100, 2))
    # fit rows: 60 up, 20 down -> p(up) = 0.75; validation rows: 15 up, 5 down
    labels = np.array((["up"] * 3 + ["down"]) * 25)
    model = WeightedEnsemble(task="classification", members={"linear": {}}).fit(
        X[:80], labels[:80], validation=(X[80:], labels[80:]))
    assert model.report["no_skill"]["brier"] == pytest.approx(
        (15 * 2 * 0.25 ** 2 + 5 * 2 * 0.75 ** 2) / 20)


def test_lagged_windows_never_hold_a_later_row():
    X = np.arange(5.0)[:, None]
    windows = lagged_windows(X, 3)[:, :, 0]
    np.testing.assert_array_equal(windows, [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 3],
                                            [2, 3, 4]])


def test_lstm_member_without_pytorch_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` sees when not installed
    with pytest.raises(ImportError, match=r"pip install -e \.\[lstm\]"):
        build_member("lstm", "regression")
    info = {"model_training_parameters": {"members": {"lstm": {"window": 8}}}}
    assert config_problem(info, "regression") == INSTALL_HINT


def test_lstm_member_is_regression_only():
    info = {"model_training_parameters": {"members": {"lstm": {}}}}
    assert "regression only" in config_problem(info, "classification")


def test_config_problems_are_one_line():
    bad_kind = {"model_training_parameters": {"members": {"catboost": {}}}}
    assert "Unknown ensemble member kind 'catboost'" in config_problem(bad_kind, "regression")
    assert config_problem({"model_training_parameters": {"members": {
        "xgboost": {}, "random_forest": {}}}}, "regression") is None


def test_live_window_warning_needs_conv_width_of_the_lstm_window():
    info = {"model_training_parameters": {"members": {"seq": {"kind": "lstm", "window": 12}}}}
    assert "conv_width" in live_window_problem(info)
    assert live_window_problem({**info, "conv_width": 12}) is None
    assert live_window_problem({"model_training_parameters": {"members": {"xgboost": {}}}}) is None


def test_training_window_dates():
    import pandas as pd

    dates = pd.Series(pd.date_range("2025-01-01", periods=3, freq="1h", tz="UTC"))
    window = training_window_dates(dates)
    assert window["first_candle"].startswith("2025-01-01T00:00")
    assert window["last_candle"].startswith("2025-01-01T02:00")
    assert training_window_dates(None) == {}


def test_seed000_preset_names_the_seed_members():
    preset = json.loads((USER_DATA / "config.freqai.seed000.json").read_text())
    freqai = preset["freqai"]
    members = freqai["model_training_parameters"]["members"]
    assert {p.get("kind", n) for n, p in members.items()} == {"random_forest", "xgboost", "lstm"}
    assert freqai["conv_width"] >= members["lstm"]["window"]
    assert live_window_problem(freqai) is None


def test_backtest_with_lstm_member_but_no_pytorch_stops_with_one_line(tmp_path, tmp_user_data):
    """The stock CLI, with `import torch` failing as on a default install."""
    fake = tmp_path / "no_torch"
    fake.mkdir()
    (fake / "torch.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\")\n")
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG),
        "--config", str(USER_DATA / "config.freqai.seed000.json"),
        "--userdir", str(tmp_user_data), "--freqaimodel", "EnsembleRegressor",
        "--strategy", "AiFusion", "--timerange", "20250601-20250605",
        env={"PYTHONPATH": str(fake)}, timeout=300,
    )
    output = result.stdout + result.stderr
    errors = error_lines(output)
    assert result.returncode != 0, output[-2000:]
    assert "Traceback" not in output
    assert len(errors) == 1, errors
    assert INSTALL_HINT in errors[0]
