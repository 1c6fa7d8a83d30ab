"""Candle-history checks shared by strategies (entry filters) and pairlists (pair filters).

Pure, vectorized and causal: the value on a candle uses only that candle and earlier ones.
"""

import numpy as np
import pandas as pd


def candle_moves(close: pd.Series) -> pd.Series:
    """Absolute close-to-close change of each candle, as a fraction (first candle: NaN)."""
    return (close / close.shift(1) - 1.0).abs()


def rolling_max_move(close: pd.Series, window: int) -> pd.Series:
    """Largest single-candle move within the last ``window`` candles (NaN until enough history).

    Used as an exit-scam filter: a pair that just pumped or dumped by more than X% in one candle
    is not entered, whatever the other signals say.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    return candle_moves(close).rolling(window, min_periods=window).max()


def largest_recent_move(close: pd.Series, window: int) -> float:
    """Largest single-candle move over the last ``window`` candles; NaN if history is shorter."""
    if len(close) < window + 1:
        return float("nan")
    moves = candle_moves(close.iloc[-(window + 1):])
    return float(np.nanmax(moves.to_numpy()))


def _pump_and_dump_in_windows(windows: np.ndarray, min_rise: float, min_fall: float) -> np.ndarray:
    """True for each row (a window of closes, oldest first) holding a pump followed by a dump.

    For every candle j of the window: ``rise_j`` = close_j over the lowest close at or before j,
    ``fall_j`` = how far the lowest close at or after j lies below close_j. A window has the shape
    when some j has ``rise_j >= min_rise`` and ``fall_j >= min_fall``: the price ran up by at least
    ``min_rise`` into a peak and then gave back at least ``min_fall`` of the peak price.
    """
    low_before = np.minimum.accumulate(windows, axis=1)
    low_after = np.minimum.accumulate(windows[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = windows / low_before - 1.0
        fall = 1.0 - low_after / windows
    return np.any((rise >= min_rise) & (fall >= min_fall), axis=1)


def _check_pump_and_dump_args(window: int, min_rise: float, min_fall: float) -> None:
    if window < 2:
        raise ValueError(f"window must be >= 2 candles (a pump and a dump), got {window}")
    if not min_rise > 0 or not 0 < min_fall < 1:
        raise ValueError(
            f"min_rise must be > 0 and min_fall in (0, 1) (fractions: 0.3 = 30%), "
            f"got min_rise={min_rise!r}, min_fall={min_fall!r}"
        )


def rolling_pump_and_dump(
    close: pd.Series, window: int, min_rise: float, min_fall: float
) -> pd.Series:
    """Per candle: 1.0 if the last ``window`` candles (plus the one before them) hold a pump of at
    least ``min_rise`` followed by a dump of at least ``min_fall``, else 0.0 (NaN until enough
    history, or when the window holds a NaN/non-positive close).

    Unlike a single-candle filter (``rolling_max_move``) this catches a pump-and-dump spread over
    several candles: +10% per candle for 4 candles, then -8% per candle for 3 candles has no
    single move above 10%, but is the classic exit-scam shape. Causal: the value at candle t uses
    closes t-window .. t only. Vectorized over all windows at once (numpy sliding windows).
    """
    _check_pump_and_dump_args(window, min_rise, min_fall)
    values = close.to_numpy(dtype=float)
    result = np.full(len(values), np.nan)
    if len(values) > window:
        windows = np.lib.stride_tricks.sliding_window_view(values, window + 1)
        valid = np.all(np.isfinite(windows) & (windows > 0), axis=1)
        flags = _pump_and_dump_in_windows(windows, min_rise, min_fall).astype(float)
        result[window:] = np.where(valid, flags, np.nan)
    return pd.Series(result, index=close.index)


def recent_pump_and_dump(close: pd.Series, window: int, min_rise: float, min_fall: float) -> bool:
    """One-shot version of ``rolling_pump_and_dump`` on the last ``window`` + 1 closes.

    Returns False when history is shorter (callers check history length separately, e.g. with
    ``largest_recent_move`` which returns NaN then).
    """
    _check_pump_and_dump_args(window, min_rise, min_fall)
    values = close.to_numpy(dtype=float)[-(window + 1):]
    if len(values) < window + 1 or not np.all(np.isfinite(values) & (values > 0)):
        return False
    return bool(_pump_and_dump_in_windows(values[np.newaxis, :], min_rise, min_fall)[0])
