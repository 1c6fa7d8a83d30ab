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
