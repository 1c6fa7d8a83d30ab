"""plugins.freqai.ensemble: time-ordered validation, member weights, fit/predict on deterministic data."""

import math

import numpy as np
import pytest

from plugins.freqai.ensemble import (
    WeightedEnsemble,
    build_members,
    classification_scores,
    ensemble_from_freqai_config,
    inverse_error_weights,
    regression_scores,
    stacking_weights,
    time_ordered_split,
)


# Small members: the whole file runs in a few seconds.
SMALL = {
    "lightgbm": {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 10},
    "extra_trees": {"n_estimators": 20, "min_samples_leaf": 5},
    "hist_gb": {"max_iter": 30, "max_leaf_nodes": 7},
    "linear": {"alpha": 0.1},
}


def linear_data(n=600, noise=0.05, seed=0):
    """y = 2 x0 - x1 + small noise: the linear member is truly the best."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 4))
    return X, 2 * X[:, 0] - X[:, 1] + noise * rng.normal(size=n)


def step_data(n=600, seed=0):
    """y = 1 if x0 > 0 else -1 (no noise): trees are exact, a line is not."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 4))
    return X, np.where(X[:, 0] > 0, 1.0, -1.0)


# --- split and weights ---------------------------------------------------------------------------


def test_time_ordered_split_takes_the_most_recent_rows_and_purges_the_gap():
    assert time_ordered_split(100, 0.2, gap=5) == (75, 80)
    assert time_ordered_split(100, 0.25) == (75, 75)


@pytest.mark.parametrize(
    "args", [(100, 0.0), (100, 1.0), (100, 0.2, -1), (30, 0.2), (100, 0.5, 45)])
def test_time_ordered_split_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        time_ordered_split(*args)


def test_inverse_error_weights_hand_computed():
    np.testing.assert_allclose(inverse_error_weights(np.array([1.0, 2.0, 4.0])),
                               [4 / 7, 2 / 7, 1 / 7])
    np.testing.assert_allclose(inverse_error_weights(np.array([1.0, 2.0, 4.0]), power=2),
                               [16 / 21, 4 / 21, 1 / 21])
    np.testing.assert_allclose(inverse_error_weights(np.array([0.0, 2.0, 0.0])), [0.5, 0, 0.5])
    with pytest.raises(ValueError):
        inverse_error_weights(np.array([1.0, np.nan]))
    with pytest.raises(ValueError):
        inverse_error_weights(np.array([1.0, 2.0]), power=0)


def test_stacking_weights_recover_an_exact_convex_mix():
    rng = np.random.default_rng(1)
    a, b, c = rng.normal(size=(3, 200))
    y = 0.25 * a + 0.75 * b
    np.testing.assert_allclose(stacking_weights(np.column_stack([a, b, c]), y), [0.25, 0.75, 0.0],
                               atol=1e-9)
    # a member anti-correlated with the target gets weight 0 (non-negative); all zero -> None
    assert stacking_weights(np.column_stack([-y]), y) is None


def test_scores_hand_computed():
    s = regression_scores(np.array([0.0, 1, 2, 3]), np.array([0.0, 1, 3, 2]))
    assert s["mae"] == 0.5
    assert s["rmse"] == pytest.approx(math.sqrt(0.5))
    assert s["spearman"] == pytest.approx(0.8)
    proba = np.array([[0.8, 0.2], [0.4, 0.6]])
    c = classification_scores(np.array(["down", "down"]), proba, np.array(["down", "up"]))
    assert c["log_loss"] == pytest.approx((-math.log(0.8) - math.log(0.4)) / 2)
    assert c["accuracy"] == 0.5
    assert c["brier"] == pytest.approx(((0.2 ** 2 + 0.2 ** 2) + (0.6 ** 2 + 0.6 ** 2)) / 2)


# --- ensemble ------------------------------------------------------------------------------------


def test_weights_favour_the_linear_member_on_linear_data():
    X, y = linear_data()
    model = WeightedEnsemble(members=SMALL, power=2, gap=3).fit(X, y)
    weights = model.weights_
    assert max(weights, key=weights.get) == "linear"
    assert sum(weights.values()) == pytest.approx(1.0)
    report = model.report
    assert report["rows"] == {"source": "train_tail", "fit": 477, "gap": 3, "validation": 120}
    assert report["members"]["linear"]["mae"] < min(
        report["members"][m]["mae"] for m in ("lightgbm", "extra_trees", "hist_gb"))
    # the prediction is exactly the weighted mean of the members' predictions
    members = model.member_predictions(X[:5])
    expected = sum(weights[name] * pred for name, pred in members.items())
    np.testing.assert_allclose(model.predict(X[:5]), expected)
    assert "linear" in model.summary()


def test_weights_favour_trees_on_step_data_and_stacking_is_convex():
    X, y = step_data()
    model = WeightedEnsemble(members=SMALL, weighting="stacking").fit(X, y)
    weights = model.weights_
    # a straight line cannot fit a step: stacking gives (almost) everything to the trees
    assert weights["linear"] < 0.05
    assert max(weights, key=weights.get) in ("lightgbm", "extra_trees", "hist_gb")
    assert all(w >= 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0)


def test_given_validation_rows_fit_members_once_on_all_training_rows():
    X, y = linear_data(700)
    model = WeightedEnsemble(members=SMALL, gap=4).fit(X[:600], y[:600],
                                                       validation=(X[600:], y[600:]))
    assert model.report["rows"] == {"source": "given", "fit": 600, "gap": 4, "validation": 96}
    assert model.report["refit"] is False
    assert max(model.weights_, key=model.weights_.get) == "linear"


def test_fit_is_deterministic_and_equal_sample_weights_change_nothing():
    X, y = linear_data(300)
    a = WeightedEnsemble(members=SMALL, random_state=3).fit(X, y)
    b = WeightedEnsemble(members=SMALL, random_state=3).fit(X, y, sample_weight=np.ones(300))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.weights_ == b.weights_


def test_classifier_probabilities_follow_sorted_classes():
    X, y = step_data(400)
    labels = np.where(y > 0, "up", "down")
    model = WeightedEnsemble(task="classification", members=SMALL).fit(X, labels)
    assert list(model.classes_) == ["down", "up"]
    proba = model.predict_proba(X[:20])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X[:20]), model.classes_[proba.argmax(axis=1)])
    assert (model.predict(X) == labels).mean() > 0.95
    assert model.report["metric"] == "log_loss"


def test_invalid_configuration_is_rejected():
    with pytest.raises(ValueError, match="Unknown ensemble member kind"):
        build_members("regression", {"svm": {}})
    with pytest.raises(ValueError, match="weighting"):
        WeightedEnsemble(weighting="median")
    with pytest.raises(ValueError, match="task"):
        WeightedEnsemble(task="ranking")
    with pytest.raises(ValueError, match="not fitted"):
        WeightedEnsemble(members=SMALL).predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="2 classes"):
        WeightedEnsemble(task="classification", members=SMALL).fit(np.zeros((100, 2)),
                                                                   np.array(["up"] * 100))


def test_freqai_config_refuses_shuffled_rows_and_unknown_keys():
    base = {"feature_parameters": {"label_period_candles": 12},
            "data_split_parameters": {"test_size": 0.1, "shuffle": False},
            "model_training_parameters": {"members": SMALL, "weighting": "stacking"}}
    model = ensemble_from_freqai_config(base, "regression")
    assert (model.gap, model.weighting) == (12, "stacking")
    shuffled = {**base, "data_split_parameters": {"shuffle": True}}
    with pytest.raises(ValueError, match="time order"):
        ensemble_from_freqai_config(shuffled, "regression")
    unknown = {**base, "model_training_parameters": {"n_estimators": 100}}
    with pytest.raises(ValueError, match="n_estimators"):
        ensemble_from_freqai_config(unknown, "regression")
