"""Entry filters of the RSI bot (seed 001), checked at entry only: RSI time filter, pair maturity.

(The exit-scam filter is ``plugins.quant.candle_checks.rolling_max_move``.) Pure, vectorized and causal.
"""

import pandas as pd


def bars_in_zone(in_zone: pd.Series) -> pd.Series:
    """Consecutive candles, up to and including this one, that ``in_zone`` has been True (0 if False).

    The RSI time filter: a pair whose RSI has been oversold for many candles is falling, not
    dipping; the strategy only enters while the count is within a window. Missing values count
    as "not in the zone".
    """
    mask = in_zone.fillna(False).astype(bool)
    run_id = (~mask).cumsum()
    return mask.astype(int).groupby(run_id).cumsum()


def mature_history(volume: pd.Series, candles: int, min_valid_share: float = 1.0) -> pd.Series:
    """True where at least ``min_valid_share`` of the last ``candles`` candles traded (volume > 0).

    Maturity filter: a freshly listed pair, or one with holes and dead candles, has indicators
    that do not mean much yet. Uses a fixed rolling window, so the answer does not depend on how
    much history was loaded (False until ``candles`` candles exist).
    """
    if candles < 1:
        raise ValueError(f"candles must be >= 1, got {candles}")
    if not 0 < min_valid_share <= 1:
        raise ValueError(f"min_valid_share must be in (0, 1], got {min_valid_share}")
    traded = (volume.fillna(0) > 0).astype(float)
    share = traded.rolling(candles, min_periods=candles).mean()
    return share >= min_valid_share
