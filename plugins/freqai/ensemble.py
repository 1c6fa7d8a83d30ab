"""Weighted model ensembles whose member weights are learned on a time-ordered validation slice.

Used by the FreqAI models ``EnsembleRegressor`` and ``EnsembleClassifier``
(``user_data/freqaimodels/``), which stay thin: everything here works on plain numpy arrays and is
tested directly (tests/test_ensemble.py).

How an ensemble is fitted (``WeightedEnsemble.fit``)
1. A validation slice that comes *after* the fit rows in time: either rows given by the caller
   (FreqAI: its unshuffled test split, the candles right after the training rows) or the most
   recent ``validation_fraction`` of the training rows. The first ``gap`` rows after the fit rows
   are purged: a target that looks N candles ahead would otherwise let the last fit rows see
   prices of the validation period. Rows are never shuffled, so weights are never learned on
   "future" rows mixed into the past.
2. Every member (by default LightGBM, ExtraTrees, HistGradientBoosting and a regularised linear
   model; also XGBoost, RandomForest and a small LSTM, see ``plugins/freqai/members.py``) is
   fitted on the fit rows and scored on the validation slice, beside a no-skill forecast (the fit
   rows' mean target, or their class frequencies).
3. Member weights come from those validation predictions: ``"inverse_error"`` (weight ~
   1 / error**power) or ``"stacking"`` (non-negative least squares of the target on the members'
   predictions, normalised to sum to 1: a convex combination).
4. With the training-tail slice and ``refit=True`` every member is refitted on all training rows
   (weights kept), so the most recent candles are not used for validation only. With a given
   validation slice the members have already seen every training row: no refit, half the cost.

``report`` holds, per member, its validation scores and weight (JSON-friendly) and
``summary()`` renders it as a small table for logs: a user sees why the ensemble predicts what
it does.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from plugins.freqai.lstm_member import DEFAULT_WINDOW
from plugins.freqai.members import MEMBER_KINDS, build_member  # noqa: F401 (re-exported)
from plugins.freqai.training_window import training_window_problem
from plugins.quant.fusion import SKILL_COLUMN


logger = logging.getLogger(__name__)

TASKS = ("regression", "classification")
WEIGHTINGS = ("inverse_error", "stacking")

# Light defaults (2-core machine, ~1-2k rows per FreqAI training window). Regularised on purpose:
# the target (a forward return) is mostly noise, so large leaves and shallow trees.
DEFAULT_MEMBERS: dict[str, dict[str, Any]] = {
    "lightgbm": {"n_estimators": 150, "learning_rate": 0.03, "num_leaves": 15,
                 "min_child_samples": 40, "subsample": 0.8, "subsample_freq": 1,
                 "colsample_bytree": 0.8},
    "extra_trees": {"n_estimators": 60, "min_samples_leaf": 40, "max_features": 0.5},
    "hist_gb": {"max_iter": 100, "learning_rate": 0.05, "max_leaf_nodes": 15,
                "min_samples_leaf": 40},
    "linear": {"alpha": 10.0},
}


# --- members (builders per kind: plugins/freqai/members.py) ---------------------------------


def build_members(task: str, members: Mapping[str, Mapping[str, Any]] | None = None,
                  n_jobs: int = 1, random_state: int = 0) -> dict[str, Any]:
    """Unfitted estimators by member name, from ``{"name": {params}}``.

    A member's kind is its name (``lightgbm``, ``extra_trees``...) or ``params["kind"]``, so the
    same kind can appear twice under two names. ``None`` gives ``DEFAULT_MEMBERS``.
    """
    spec = DEFAULT_MEMBERS if members is None else members
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"members must be a non-empty mapping name -> parameters, got {spec!r}")
    built = {}
    for name, params in spec.items():
        params = dict(params or {})
        kind = params.pop("kind", name)
        built[name] = build_member(kind, task, params, n_jobs=n_jobs, random_state=random_state)
    return built


# --- time-ordered validation and weights ---------------------------------------------------------


def time_ordered_split(n_rows: int, validation_fraction: float, gap: int = 0,
                       min_rows: int = 10) -> tuple[int, int]:
    """Row bounds ``(fit_end, val_start)``: fit on ``[0, fit_end)``, validate on ``[val_start, n)``.

    The validation slice is the most recent ``round(n_rows * validation_fraction)`` rows; the
    ``gap`` rows before it are purged (belong to neither slice).
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    n_val = int(round(n_rows * validation_fraction))
    val_start = n_rows - n_val
    fit_end = val_start - gap
    if n_val < min_rows or fit_end < min_rows:
        raise ValueError(
            f"Not enough rows for a time-ordered validation split: {n_rows} rows, "
            f"validation_fraction {validation_fraction}, gap {gap} leave {max(fit_end, 0)} fit and "
            f"{n_val} validation rows (need >= {min_rows} each). Use more training data "
            f"(train_period_days) or a smaller gap."
        )
    return fit_end, val_start


def inverse_error_weights(errors: np.ndarray, power: float = 1.0) -> np.ndarray:
    """Weights proportional to ``1 / error**power``, summing to 1.

    A member with zero error takes all the weight (shared equally if several have zero error).
    """
    errors = np.asarray(errors, dtype=float)
    if errors.ndim != 1 or errors.size == 0:
        raise ValueError(f"errors must be a non-empty 1-d array, got shape {errors.shape}")
    if not np.all(np.isfinite(errors)) or np.any(errors < 0):
        raise ValueError(f"errors must be finite and >= 0, got {errors}")
    if power <= 0:
        raise ValueError(f"power must be > 0, got {power}")
    zero = errors == 0
    if zero.any():
        return zero / zero.sum()
    inverse = errors ** -power
    return inverse / inverse.sum()


def stacking_weights(predictions: np.ndarray, target: np.ndarray,
                     sample_weight: np.ndarray | None = None) -> np.ndarray:
    """Non-negative least-squares weights of the members' predictions, normalised to sum to 1.

    ``predictions`` has one column per member (rows x members) or, for probabilities,
    shape (rows, members, classes) with ``target`` one-hot (rows, classes). Returns ``None`` when
    NNLS gives all-zero weights (no member helps), so the caller can fall back.
    """
    predictions = np.asarray(predictions, dtype=float)
    target = np.asarray(target, dtype=float)
    if predictions.ndim == 3:  # (rows, members, classes) -> stack classes as extra rows
        n_members = predictions.shape[1]
        predictions = predictions.transpose(0, 2, 1).reshape(-1, n_members)
        if sample_weight is not None:
            sample_weight = np.repeat(np.asarray(sample_weight, dtype=float), target.shape[1])
        target = target.reshape(-1)
    if predictions.ndim != 2 or predictions.shape[0] != target.shape[0]:
        raise ValueError(f"predictions {predictions.shape} and target {target.shape} do not match")
    if sample_weight is not None:
        root = np.sqrt(np.asarray(sample_weight, dtype=float))
        predictions, target = predictions * root[:, None], target * root
    weights, _ = nnls(predictions, target)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        return None
    return weights / total


# --- scores --------------------------------------------------------------------------------------


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray,
                      sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """MAE, RMSE (weighted if ``sample_weight``) and Spearman rank correlation of predictions."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    w = np.ones_like(y_true) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    err = y_pred - y_true
    rank = spearmanr(y_true, y_pred).statistic if np.ptp(y_pred) > 0 and np.ptp(y_true) > 0 else 0.0
    return {
        "mae": float(np.average(np.abs(err), weights=w)),
        "rmse": float(np.sqrt(np.average(err ** 2, weights=w))),
        "spearman": float(rank),
    }


def classification_scores(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray,
                          sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """Log loss (probabilities clipped to [1e-6, 1]), accuracy and Brier score."""
    y_true = np.asarray(y_true)
    onehot = (y_true[:, None] == np.asarray(classes)[None, :]).astype(float)
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    p_true = np.clip((proba * onehot).sum(axis=1), 1e-6, 1.0)
    predicted = np.asarray(classes)[np.argmax(proba, axis=1)]
    return {
        "log_loss": float(np.average(-np.log(p_true), weights=w)),
        "accuracy": float(np.average(predicted == y_true, weights=w)),
        "brier": float(np.average(((proba - onehot) ** 2).sum(axis=1), weights=w)),
    }


# --- the ensemble --------------------------------------------------------------------------------


class WeightedEnsemble:
    """Weighted average of member models; weights learned on a time-ordered validation slice.

    Parameters (all validated): ``task`` "regression" or "classification"; ``members`` as in
    ``build_members``; ``weighting`` "inverse_error" or "stacking"; ``validation_fraction`` of
    the most recent rows used to learn the weights when ``fit`` gets no later ``validation``
    rows; ``gap`` purged rows between fit and validation rows (use the label horizon);
    ``power`` of the inverse error; ``refit`` members on all rows afterwards (training-tail
    validation only); ``n_jobs`` threads per member (also caps OpenMP/BLAS threads);
    ``random_state``.

    Fitted attributes: ``weights_`` (name -> weight), ``members_`` (name -> fitted estimator),
    ``classes_`` (classification), ``report`` (JSON-friendly scores and weights),
    ``fit_seconds_``.
    """

    def __init__(self, task: str = "regression",
                 members: Mapping[str, Mapping[str, Any]] | None = None,
                 weighting: str = "inverse_error", validation_fraction: float = 0.2,
                 gap: int = 0, power: float = 1.0, refit: bool = True, n_jobs: int = 1,
                 random_state: int = 0):
        _check_task(task)
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if not 0 < validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
        if int(gap) < 0:
            raise ValueError(f"gap must be >= 0, got {gap}")
        if power <= 0:
            raise ValueError(f"power must be > 0, got {power}")
        if int(n_jobs) < 1:
            raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")
        build_members(task, members)  # validate the member spec early (cheap: unfitted)
        self.task = task
        self.members = members
        self.weighting = weighting
        self.validation_fraction = float(validation_fraction)
        self.gap = int(gap)
        self.power = float(power)
        self.refit = bool(refit)
        self.n_jobs = int(n_jobs)
        self.random_state = int(random_state)
        self.members_: dict[str, Any] = {}
        self.weights_: dict[str, float] = {}
        self.report: dict[str, Any] = {}

    # -- fitting --

    def fit(self, X, y, sample_weight=None, validation=None) -> "WeightedEnsemble":
        """Fit members and learn their weights. Rows must be in time order, oldest first.

        ``validation``: optional ``(X_val, y_val)`` or ``(X_val, y_val, w_val)`` of rows that
        come right *after* ``X`` in time (e.g. FreqAI's unshuffled test split). Members are then
        fitted once on all of ``X`` and weighted on those rows (the first ``gap`` validation rows
        are purged), which halves the training cost. Without it, the most recent
        ``validation_fraction`` of ``X`` is the validation slice (see the module docstring).
        """
        started = time.perf_counter()
        X, y, w = self._check_rows(X, y, sample_weight)
        if self.task == "classification":
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(f"classification needs >= 2 classes in y, got {self.classes_}")
        if validation is None:
            fit_end, val_start = time_ordered_split(len(y), self.validation_fraction, self.gap)
            X_fit, y_fit, w_fit = X[:fit_end], y[:fit_end], None if w is None else w[:fit_end]
            history = X[:val_start]  # feature rows before the validation rows (sequence members)
            X_val, y_val, w_val = X[val_start:], y[val_start:], None if w is None else w[val_start:]
            rows = {"source": "train_tail", "fit": fit_end, "gap": val_start - fit_end,
                    "validation": len(y) - val_start}
            refit = self.refit
        else:
            if len(validation) not in (2, 3):
                raise ValueError("validation must be (X_val, y_val) or (X_val, y_val, w_val)")
            X_val, y_val, w_val = self._check_rows(*validation)
            if len(y_val) - self.gap < 10:
                raise ValueError(f"validation has {len(y_val)} rows; need >= 10 after purging "
                                 f"gap={self.gap} rows")
            history = np.vstack([X, X_val[:self.gap]])
            X_val, y_val = X_val[self.gap:], y_val[self.gap:]
            w_val = None if w_val is None else w_val[self.gap:]
            X_fit, y_fit, w_fit = X, y, w
            rows = {"source": "given", "fit": len(y), "gap": self.gap, "validation": len(y_val)}
            refit = False  # members already saw every training row

        with threadpool_limits(limits=self.n_jobs):
            members = build_members(self.task, self.members, self.n_jobs, self.random_state)
            val_preds, scores, seconds = {}, {}, {}
            for name, model in members.items():
                t0 = time.perf_counter()
                _fit(model, X_fit, y_fit, w_fit)
                seconds[name] = time.perf_counter() - t0
                val_preds[name] = self._member_output(model, X_val, history)
                scores[name] = self._scores(y_val, val_preds[name], w_val)
            weights = self._learn_weights(val_preds, scores, y_val, w_val)
            self.weights_ = dict(zip(members, (float(v) for v in weights), strict=True))
            ensemble_val = self._combine(val_preds)
            if refit:
                members = build_members(self.task, self.members, self.n_jobs, self.random_state)
                for name, model in members.items():
                    t0 = time.perf_counter()
                    _fit(model, X, y, w)
                    seconds[name] += time.perf_counter() - t0
            self.members_ = members

        self.fit_seconds_ = time.perf_counter() - started
        self.report = {
            "task": self.task,
            "weighting": self.weighting,
            "metric": self._error_metric,
            "rows": rows,
            "refit": refit,
            "members": {
                name: {"weight": self.weights_[name], **scores[name],
                       "fit_seconds": round(seconds[name], 4)}
                for name in members
            },
            "ensemble": self._scores(y_val, ensemble_val, w_val),
            "no_skill": self._scores(y_val, self._no_skill_output(y_fit, w_fit, len(y_val)),
                                     w_val),
            "fit_seconds": round(self.fit_seconds_, 4),
        }
        return self

    def _check_rows(self, X, y, sample_weight=None):
        X, y = _as_2d_float(X), _as_1d(y, self.task)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
        if w is not None and len(w) != len(y):
            raise ValueError(f"sample_weight has {len(w)} rows but y has {len(y)}")
        if w is not None and len(w) and np.all(w == w[0]):
            # Equal weights (FreqAI's default np.ones) change nothing but slow some members down
            # (HistGradientBoosting loses its constant-hessian path): fit unweighted.
            w = None
        return X, y, w

    def evaluate(self, X, y, sample_weight=None, history=None) -> dict[str, Any]:
        """Scores of every member and of the ensemble on held-out rows (e.g. FreqAI's test set).

        ``history``: feature rows right before ``X`` in time (e.g. the training rows), read by
        sequence members (the LSTM) for the first rows' windows.
        """
        X, y = _as_2d_float(X), _as_1d(y, self.task)
        history = None if history is None else _as_2d_float(history)
        with threadpool_limits(limits=self.n_jobs):
            outputs = {name: self._member_output(m, X, history)
                       for name, m in self._fitted().items()}
        result = {name: self._scores(y, out, sample_weight) for name, out in outputs.items()}
        result["ensemble"] = self._scores(y, self._combine(outputs), sample_weight)
        return result

    # -- prediction --

    def member_predictions(self, X) -> dict[str, np.ndarray]:
        """Each member's prediction (regression) or class probabilities (classification)."""
        X = _as_2d_float(X)
        with threadpool_limits(limits=self.n_jobs):
            return {name: self._member_output(m, X) for name, m in self._fitted().items()}

    def predict(self, X) -> np.ndarray:
        """Weighted mean prediction (regression) or the most probable class (classification)."""
        combined = self._combine(self.member_predictions(X))
        if self.task == "regression":
            return combined
        return self.classes_[np.argmax(combined, axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """Weighted mean of the members' class probabilities, columns in ``classes_`` order."""
        if self.task != "classification":
            raise AttributeError("predict_proba is only available for classification ensembles")
        return self._combine(self.member_predictions(X))

    # -- reporting --

    def summary(self) -> str:
        """The validation report as a text table (one line per member, then the ensemble)."""
        if not self.report:
            return "ensemble not fitted"
        metric_names = list(self.report["ensemble"])
        rows = self.report["rows"]
        where = ("the last training rows" if rows["source"] == "train_tail"
                 else "the rows after the training rows")
        lines = [
            f"Ensemble ({self.report['task']}, {self.report['weighting']} weights learned on "
            f"{rows['validation']} of {where}, {rows['gap']} purged, members fit on {rows['fit']}"
            f"{', then refitted on all rows' if self.report['refit'] else ''}):",
            f"  {'member':<16}{'weight':>8}" + "".join(f"{m:>10}" for m in metric_names),
        ]
        for name, info in self.report["members"].items():
            lines.append(f"  {name:<16}{info['weight']:>8.3f}"
                         + "".join(f"{info[m]:>10.5f}" for m in metric_names))
        for label in ("ensemble", "no_skill"):  # no_skill: the fit rows' mean / class shares
            lines.append(f"  {label:<16}{'':>8}"
                         + "".join(f"{self.report[label][m]:>10.5f}" for m in metric_names))
        return "\n".join(lines)

    # -- internals --

    @property
    def _error_metric(self) -> str:
        return "mae" if self.task == "regression" else "log_loss"

    def _fitted(self) -> dict[str, Any]:
        if not self.members_:
            raise ValueError("WeightedEnsemble is not fitted yet; call fit() first")
        return self.members_

    def _member_output(self, model, X: np.ndarray, history: np.ndarray | None = None
                       ) -> np.ndarray:
        """The member's output on ``X``. A sequence member (``window`` > 1, the LSTM) also reads
        the ``window - 1`` rows of ``history`` (rows right before ``X`` in time) instead of
        padding its first windows; row-wise members ignore it."""
        context = max(int(getattr(model, "window", 1)) - 1, 0)
        if history is not None and context and len(history):
            lead = history[-context:]
            return self._row_output(model, np.vstack([lead, X]))[len(lead):]
        return self._row_output(model, X)

    def _row_output(self, model, X: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return np.asarray(model.predict(X), dtype=float).ravel()
        proba = np.asarray(model.predict_proba(X), dtype=float)
        aligned = np.zeros((len(X), len(self.classes_)))
        for j, cls in enumerate(model.classes_):  # a class absent from a member's fit rows -> 0
            aligned[:, np.searchsorted(self.classes_, cls)] = proba[:, j]
        return aligned

    def _no_skill_output(self, y_fit, w_fit, n_rows: int) -> np.ndarray:
        """The forecast that knows only the fit rows' target distribution, for ``n_rows`` rows."""
        if self.task == "regression":
            return np.full(n_rows, np.average(y_fit, weights=w_fit))
        onehot = (y_fit[:, None] == self.classes_[None, :]).astype(float)
        return np.tile(np.average(onehot, axis=0, weights=w_fit), (n_rows, 1))

    def _scores(self, y, output, sample_weight) -> dict[str, float]:
        if self.task == "regression":
            return regression_scores(y, output, sample_weight)
        return classification_scores(y, output, self.classes_, sample_weight)

    def _learn_weights(self, val_preds, scores, y_val, w_val) -> np.ndarray:
        errors = np.array([scores[name][self._error_metric] for name in val_preds])
        if self.weighting == "stacking":
            if self.task == "regression":
                stacked = np.column_stack(list(val_preds.values()))
                target = y_val.astype(float)
            else:
                stacked = np.stack(list(val_preds.values()), axis=1)
                target = (y_val[:, None] == self.classes_[None, :]).astype(float)
            weights = stacking_weights(stacked, target, w_val)
            if weights is not None:
                return weights
            logger.warning("Stacking gave all-zero weights; falling back to inverse-error weights.")
        return inverse_error_weights(errors, self.power)

    def _combine(self, outputs: dict[str, np.ndarray]) -> np.ndarray:
        return sum(self.weights_[name] * out for name, out in outputs.items())


# --- FreqAI glue (plain dicts in, no freqtrade import) -------------------------------------------


def ensemble_from_freqai_config(freqai_info: Mapping[str, Any], task: str) -> WeightedEnsemble:
    """A ``WeightedEnsemble`` configured from a FreqAI config section.

    ``freqai.model_training_parameters`` holds the ensemble settings (``members``, ``weighting``,
    ``validation_fraction``, ``power``, ``refit``, ``n_jobs``, ``random_state``, ``gap`` (default
    ``feature_parameters.label_period_candles``) and ``validation`` (see
    ``fit_freqai_ensemble``)). Refuses shuffled splits (``data_split_parameters.shuffle`` /
    ``feature_parameters.shuffle_after_split``): weights must be learned on rows that come after
    the fit rows in time.
    """
    split = freqai_info.get("data_split_parameters", {}) or {}
    features = freqai_info.get("feature_parameters", {}) or {}
    if split.get("shuffle") or features.get("shuffle_after_split"):
        raise ValueError(
            "The ensemble learns member weights on rows that follow the fit rows in time, so the "
            "training rows must stay in time order: set data_split_parameters.shuffle and "
            "feature_parameters.shuffle_after_split to false."
        )
    params = dict(freqai_info.get("model_training_parameters", {}) or {})
    params.pop("validation", None)
    known = {"members", "weighting", "validation_fraction", "gap", "power", "refit", "n_jobs",
             "random_state"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(
            f"Unknown ensemble parameter(s) {unknown} in model_training_parameters; expected "
            f"{sorted(known | {'validation'})} (member settings go under \"members\": "
            f"{{\"lightgbm\": {{...}}}})."
        )
    params.setdefault("gap", int(features.get("label_period_candles", 0)))
    return WeightedEnsemble(task=task, **params)


def fit_freqai_ensemble(data_dictionary: Mapping[str, Any], freqai_info: Mapping[str, Any],
                        task: str, dk: Any = None) -> WeightedEnsemble:
    """Fit an ensemble on FreqAI's data dictionary, log its report and keep it in ``dk.data``.

    ``dk`` (FreqAI's data kitchen, optional) gives the pair for the log and receives the report
    as ``dk.data["ensemble"]``, which FreqAI's data drawer writes to the model's metadata JSON.

    ``model_training_parameters.validation`` chooses the weight-learning slice:
    - ``"test_split"`` (default when FreqAI holds out a test set, ``test_size`` > 0): FreqAI's
      unshuffled test split, i.e. the candles right after the training rows, first ``gap`` rows
      purged. Members are fitted once on all training rows (cheapest).
    - ``"train_tail"``: the most recent ``validation_fraction`` of the training rows, then
      (``refit``) members refitted on all of them; FreqAI's test split, if any, stays untouched
      and members/ensemble are scored on it (``report["test"]``).
    """
    labels = data_dictionary["train_labels"]
    if getattr(labels, "ndim", 1) == 2 and labels.shape[1] != 1:
        raise ValueError(f"The ensemble predicts a single target; got {labels.shape[1]} label "
                         f"columns ({list(labels.columns)}). Define one '&' target.")
    ensemble = ensemble_from_freqai_config(freqai_info, task)
    test_size = (freqai_info.get("data_split_parameters", {}) or {}).get("test_size", 0.1)
    test_features = data_dictionary.get("test_features")
    has_test = bool(test_size) and test_features is not None and len(test_features) > 0
    mode = (freqai_info.get("model_training_parameters", {}) or {}).get(
        "validation", "test_split" if has_test else "train_tail")
    if mode not in ("test_split", "train_tail"):
        raise ValueError(f"validation must be 'test_split' or 'train_tail', got {mode!r}")
    if mode == "test_split" and not has_test:
        raise ValueError("validation 'test_split' needs FreqAI's data_split_parameters.test_size "
                         "> 0; set it (e.g. 0.1) or use validation 'train_tail'.")
    test = (test_features, data_dictionary["test_labels"], data_dictionary.get("test_weights"))
    ensemble.fit(data_dictionary["train_features"], labels, data_dictionary.get("train_weights"),
                 validation=test if mode == "test_split" else None)
    pair = getattr(dk, "pair", "")
    prefix = f"{pair}: " if pair else ""
    logger.info("%s%s", prefix, ensemble.summary())
    if mode == "train_tail" and has_test:
        ensemble.report["test"] = ensemble.evaluate(
            *test, history=data_dictionary["train_features"])
        metric = ensemble._error_metric
        parts = ", ".join(f"{k} {v[metric]:.5f}" for k, v in ensemble.report["test"].items())
        logger.info("%sFreqAI test-split %s: %s", prefix, metric, parts)
    skill = validation_skill(ensemble.report, task, data_dictionary["test_labels"] if mode == "test_split" else None)
    ensemble.report["skill"] = skill
    ensemble.report["pair"] = pair
    ensemble.report["window"] = training_window_dates(data_dictionary.get("train_dates"))
    logger.info("%sout-of-sample skill of this training window: %.4f", prefix, skill)
    if dk is not None:
        dk.data["ensemble"] = ensemble.report
        extra = dk.data.get("extra_returns_per_train") or {}
        if SKILL_COLUMN in extra:
            # A new dict: FreqAI's kitchen starts from the config's own dict, which must stay intact.
            dk.data["extra_returns_per_train"] = {**extra, SKILL_COLUMN: skill}
    return ensemble


def training_window_dates(dates) -> dict[str, str]:
    """First and last labelled candle of a training window (FreqAI's ``train_dates``), ISO text."""
    if dates is None or len(dates) == 0:
        return {}
    values = pd.to_datetime(pd.Series(np.asarray(dates).ravel()))
    return {"first_candle": values.min().isoformat(), "last_candle": values.max().isoformat()}


def config_problem(freqai_info: Mapping[str, Any], task: str) -> str | None:
    """One line when the ensemble settings cannot work (bad parameter, unknown member, missing
    PyTorch for an ``lstm`` member); None when they can. The FreqAI model classes call it at
    start-up, so the problem stops the run once instead of failing (and being skipped) in every
    training window.
    """
    try:
        ensemble_from_freqai_config(freqai_info, task)
    except ImportError as err:  # the install hint of an optional extra, already one line
        return str(err)
    except (ValueError, TypeError) as err:
        return f"freqai.model_training_parameters: {err}"
    return None


def startup_problem(freqai_info: Mapping[str, Any], timeframe: str, task: str) -> str | None:
    """The first reason the FreqAI ensemble model cannot train (one line), or None."""
    return training_window_problem(freqai_info, timeframe) or config_problem(freqai_info, task)


def live_window_problem(freqai_info: Mapping[str, Any]) -> str | None:
    """A warning when live predictions would see fewer candles than an ``lstm`` member's window.

    Live, FreqAI predicts on the last ``conv_width`` candles (default 1); an LSTM with a 24-row
    window would then pad its history from the live candle alone.
    """
    members = (freqai_info.get("model_training_parameters") or {}).get("members") or {}
    windows = [int((p or {}).get("window", DEFAULT_WINDOW)) for name, p in members.items()
               if (p or {}).get("kind", name) == "lstm"]
    conv_width = int(freqai_info.get("conv_width", 1))
    if windows and conv_width < max(windows):
        return (f"freqai.conv_width is {conv_width} but an lstm member reads {max(windows)} rows: "
                f"live predictions would pad the missing history; set \"conv_width\": "
                f"{max(windows)} in the freqai section.")
    return None


def validation_skill(report: Mapping[str, Any], task: str, y_val=None) -> float:
    """One number per training window: > 0 when the ensemble beat a no-skill forecast out of sample.

    Regression: the Spearman rank correlation of the ensemble's predictions with the labels on the
    time-ordered validation rows (0 = no ranking skill). Classification: validation accuracy minus
    the share of the most common class in ``y_val`` (always predicting it scores 0); NaN without
    ``y_val``.
    """
    scores = report.get("ensemble", {})
    if task == "regression":
        return float(scores.get("spearman", float("nan")))
    if y_val is None or "accuracy" not in scores:
        return float("nan")
    labels = np.asarray(y_val).ravel()
    if labels.size == 0:
        return float("nan")
    _, counts = np.unique(labels, return_counts=True)
    return float(scores["accuracy"] - counts.max() / labels.size)


# --- helpers -------------------------------------------------------------------------------------


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def _as_2d_float(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d (rows x features), got shape {X.shape}")
    return X


def _as_1d(y, task: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be a single column, got shape {y.shape}")
    return y.astype(float) if task == "regression" else y


def _fit(model, X, y, sample_weight) -> None:
    if sample_weight is None:
        model.fit(X, y)
    else:
        model.fit(X, y, sample_weight=sample_weight)
