"""The shortest FreqAI training window the ensemble can learn its member weights on.

``WeightedEnsemble.fit`` (``plugins/freqai/ensemble.py``) needs at least ``MIN_SLICE_ROWS`` rows in
the validation slice after purging ``gap`` rows (and, with ``train_tail``, as many fit rows).
A ``train_period_days`` too short for that used to fail inside every training ("validation has 6
rows; need >= 10 after purging gap=12 rows"), which FreqAI logs with a traceback and skips, so a
whole backtest ran without a single model. The FreqAI model classes call
:func:`training_window_problem` at start-up and stop with that one line instead.

Row counts follow FreqAI 2026.9: the training window holds ``train_period_days`` of candles of the
strategy timeframe; the last ``label_period_candles`` rows have no label and are dropped; the test
split is the last ``ceil(test_size x rows)`` rows (scikit-learn's ``train_test_split``, unshuffled,
default ``test_size`` 0.25); the SVM outlier filter drops about ``nu`` of the training rows.
"""

import math
from collections.abc import Mapping
from typing import Any


MIN_SLICE_ROWS = 10  # rows WeightedEnsemble.fit / time_ordered_split need in each slice
SKLEARN_DEFAULT_TEST_SIZE = 0.25
DEFAULT_VALIDATION_FRACTION = 0.2  # WeightedEnsemble's default validation_fraction
TIMEFRAME_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}


def timeframe_minutes(timeframe: str) -> int:
    """Minutes of a timeframe like '5m', '1h', '1d' (ValueError otherwise)."""
    unit, amount = timeframe[-1:], timeframe[:-1]
    if unit not in TIMEFRAME_MINUTES or not amount.isdigit() or int(amount) < 1:
        raise ValueError(f"not a timeframe: {timeframe!r}")
    return int(amount) * TIMEFRAME_MINUTES[unit]


def minimum_training_rows(freqai_info: Mapping[str, Any]) -> int:
    """Labelled rows a training window needs so both slices of the ensemble have enough rows."""
    params = freqai_info.get("model_training_parameters") or {}
    features = freqai_info.get("feature_parameters") or {}
    split = freqai_info.get("data_split_parameters") or {}
    gap = int(params.get("gap", features.get("label_period_candles", 0)))
    test_size = float(split.get("test_size", SKLEARN_DEFAULT_TEST_SIZE) or 0)
    mode = params.get("validation", "test_split" if test_size > 0 else "train_tail")
    if mode == "test_split" and test_size > 0:
        # ceil(test_size x rows) - gap >= MIN_SLICE_ROWS
        return math.floor((MIN_SLICE_ROWS + gap - 1) / test_size) + 1
    fraction = float(params.get("validation_fraction", DEFAULT_VALIDATION_FRACTION))
    # round(rows x fraction) >= MIN and rows - round(rows x fraction) - gap >= MIN, on the
    # training part that is left after FreqAI's test split.
    train_rows = max(
        math.ceil((MIN_SLICE_ROWS - 0.5) / fraction),
        math.ceil((MIN_SLICE_ROWS + gap + 0.5) / (1 - fraction)),
    )
    return math.ceil(train_rows / (1 - test_size)) if 0 < test_size < 1 else train_rows


def minimum_training_days(freqai_info: Mapping[str, Any], timeframe: str) -> int:
    """``train_period_days`` the ensemble needs on ``timeframe`` candles."""
    features = freqai_info.get("feature_parameters") or {}
    rows = minimum_training_rows(freqai_info)
    if features.get("use_SVM_to_remove_outliers"):
        nu = float((features.get("svm_params") or {}).get("nu", 0.01))
        rows = math.ceil(rows / (1 - nu))
    candles = rows + int(features.get("label_period_candles", 0))
    return math.ceil(candles * timeframe_minutes(timeframe) / 1440)


def training_window_problem(freqai_info: Mapping[str, Any], timeframe: str) -> str | None:
    """One line when ``train_period_days`` is too short for the ensemble; None when it is enough."""
    days = freqai_info.get("train_period_days")
    if isinstance(days, bool) or not isinstance(days, int | float):
        return None  # FreqAI's own config schema reports a missing or non-numeric value
    needed = minimum_training_days(freqai_info, timeframe)
    if days >= needed:
        return None
    features = freqai_info.get("feature_parameters") or {}
    split = freqai_info.get("data_split_parameters") or {}
    return (
        f"freqai.train_period_days {days} is too short for the ensemble: on {timeframe} candles "
        f"it needs >= {needed} days (>= {MIN_SLICE_ROWS} validation rows after purging "
        f"label_period_candles={features.get('label_period_candles', 0)} rows, test_size "
        f"{split.get('test_size', SKLEARN_DEFAULT_TEST_SIZE)}). Raise train_period_days, or "
        "lower label_period_candles / raise data_split_parameters.test_size."
    )
