"""The ensemble's member kinds: one small builder per kind, unfitted estimators out.

Every member is a scikit-learn style estimator (``fit(X, y[, sample_weight])``, ``predict``,
``predict_proba`` + ``classes_`` for classification). Libraries are imported inside the builders,
so configuring a kind costs only that kind's import; PyTorch (the ``lstm`` member) is an optional
extra and is only imported when an ``lstm`` member is configured (``plugins/freqai/lstm_member.py``).

Kinds: ``lightgbm`` (LightGBM), ``xgboost`` (XGBoost's scikit-learn API), ``extra_trees`` and
``random_forest`` (scikit-learn), ``hist_gb`` (scikit-learn's HistGradientBoosting), ``linear``
(Ridge / L2 logistic regression) and ``lstm`` (a small PyTorch LSTM over the last ``window`` rows,
regression only).
"""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def _lightgbm(regression: bool, params: dict, n_jobs: int, random_state: int):
    from lightgbm import LGBMClassifier, LGBMRegressor

    params.setdefault("verbosity", -1)
    params.setdefault("n_jobs", n_jobs)
    params.setdefault("random_state", random_state)
    return (LGBMRegressor if regression else LGBMClassifier)(**params)


def _xgboost(regression: bool, params: dict, n_jobs: int, random_state: int):
    from xgboost import XGBRegressor

    params.setdefault("n_jobs", n_jobs)
    params.setdefault("random_state", random_state)
    params.setdefault("verbosity", 0)
    params.setdefault("tree_method", "hist")
    if regression:
        return XGBRegressor(**params)
    return LabelEncodedXGBClassifier(**params)


def _sklearn_trees(kind: str) -> Callable:
    def build(regression: bool, params: dict, n_jobs: int, random_state: int):
        from sklearn.ensemble import (
            ExtraTreesClassifier,
            ExtraTreesRegressor,
            RandomForestClassifier,
            RandomForestRegressor,
        )

        classes = {("extra_trees", True): ExtraTreesRegressor,
                   ("extra_trees", False): ExtraTreesClassifier,
                   ("random_forest", True): RandomForestRegressor,
                   ("random_forest", False): RandomForestClassifier}
        params.setdefault("n_jobs", n_jobs)
        params.setdefault("random_state", random_state)
        return classes[(kind, regression)](**params)

    return build


def _hist_gb(regression: bool, params: dict, n_jobs: int, random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    params.setdefault("random_state", random_state)
    params.setdefault("early_stopping", False)
    return (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(
        **params)


def _linear(regression: bool, params: dict, n_jobs: int, random_state: int):
    from sklearn.linear_model import LogisticRegression, Ridge

    if regression:
        return Ridge(**params)
    alpha = float(params.pop("alpha", 1.0))
    if alpha <= 0:
        raise ValueError(f"linear member: alpha must be > 0, got {alpha}")
    params.setdefault("C", 1.0 / alpha)
    params.setdefault("max_iter", 500)
    return LogisticRegression(**params)


def _lstm(regression: bool, params: dict, n_jobs: int, random_state: int):
    if not regression:
        raise ValueError("The lstm member is regression only (EnsembleRegressor); drop it from "
                         "EnsembleClassifier's members.")
    from plugins.freqai.lstm_member import LstmRegressor

    params.setdefault("n_threads", n_jobs)
    params.setdefault("random_state", random_state)
    return LstmRegressor(**params)


BUILDERS: dict[str, Callable] = {
    "lightgbm": _lightgbm,
    "xgboost": _xgboost,
    "extra_trees": _sklearn_trees("extra_trees"),
    "random_forest": _sklearn_trees("random_forest"),
    "hist_gb": _hist_gb,
    "linear": _linear,
    "lstm": _lstm,
}
MEMBER_KINDS = tuple(BUILDERS)


def build_member(kind: str, task: str, params: Mapping[str, Any] | None = None,
                 n_jobs: int = 1, random_state: int = 0):
    """A fresh, unfitted estimator of ``kind`` for ``task`` ("regression" / "classification").

    ``params`` are passed to the estimator (e.g. ``n_estimators``); ``n_jobs`` (threads) and
    ``random_state`` are set where the estimator accepts them unless ``params`` sets them.
    ``linear`` is Ridge for regression and L2 logistic regression for classification (``alpha``
    becomes ``C = 1 / alpha``).
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    if kind not in BUILDERS:
        raise ValueError(f"Unknown ensemble member kind {kind!r}; use one of "
                         f"{', '.join(MEMBER_KINDS)} (set \"kind\" in the member's parameters to "
                         f"use another name).")
    return BUILDERS[kind](task == "regression", dict(params or {}), n_jobs, random_state)


class LabelEncodedXGBClassifier:
    """XGBoost classifier for any class labels (FreqAI's are strings such as "up" / "down").

    ``XGBClassifier`` only accepts labels 0..k-1; this wrapper encodes them and exposes the
    original labels as ``classes_`` (sorted, like scikit-learn), so the ensemble can align its
    probability columns with the other members'.
    """

    def __init__(self, **params):
        from xgboost import XGBClassifier

        self.params = dict(params)
        self.model = XGBClassifier(**self.params)  # validates nothing yet; fails at fit on typos
        self.classes_ = np.array([])

    def fit(self, X, y, sample_weight=None) -> "LabelEncodedXGBClassifier":
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"xgboost member needs >= 2 classes, got {self.classes_}")
        self.model.fit(X, codes, sample_weight=sample_weight)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.model.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
