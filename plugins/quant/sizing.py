"""Position sizing: risk a fixed share of equity between entry and an ATR stop (seed 004), or
size a position on the pair's realised volatility (``volatility_target_share``, TrendRider).

    units = equity x risk_fraction / stop_distance        (stop_distance = atr_multiple x ATR)
    stake = units x entry_price, capped at max_share x equity and at the exchange/wallet maximum

So a trade stopped out at its stop loses ``risk_fraction`` of equity (before fees and slippage),
whatever the pair's volatility: volatile pairs get smaller stakes, quiet pairs larger ones, up to
the cap. Pure arithmetic, used by ``plugins.strategy.staged_exits.AtrSizingMixin.custom_stake_amount`` and
importable by any strategy that sizes on a stop distance.

``position_trim_share`` is the other side of sizing: how much of a held position to sell so that
a winner that grew past its cap is worth ``max_share`` of equity again (SignalVote's position cap).
"""

import math

import numpy as np
import pandas as pd


def _check_fraction(name: str, value: float, upper: float = 1.0) -> None:
    if not (isinstance(value, (int, float)) and 0.0 < value <= upper):
        raise ValueError(f"{name} must be in (0, {upper}], got {value!r}")


def atr_stop_distance(atr: float, atr_multiple: float) -> float:
    """Price distance from entry to an ATR stop: ``atr_multiple x atr`` (NaN if ATR is unusable)."""
    if not atr_multiple > 0:
        raise ValueError(f"atr_multiple must be > 0, got {atr_multiple!r}")
    if atr is None or not math.isfinite(atr) or atr <= 0:
        return float("nan")
    return atr_multiple * atr


def risk_stake(
    equity: float,
    risk_fraction: float,
    entry_price: float,
    stop_distance: float,
    max_share: float,
    min_stake: float | None = None,
    max_stake: float | None = None,
) -> float:
    """Stake (in quote currency) that loses ``risk_fraction`` of ``equity`` if the stop is hit.

    ``stop_distance`` is in price units (entry minus stop for a long). The stake is capped at
    ``max_share x equity`` and at ``max_stake`` (freqtrade's available balance / exchange limit).
    Returns 0.0 - meaning "do not trade" - when the market data is unusable (non-finite or
    non-positive price, stop distance or equity) or when the risk-sized stake is below
    ``min_stake``: rounding it up to the exchange minimum would risk more than allowed.

    Raises ValueError for invalid settings (risk_fraction or max_share outside (0, 1]).
    """
    _check_fraction("risk_fraction", risk_fraction)
    _check_fraction("max_share", max_share)
    values = (equity, entry_price, stop_distance)
    if not all(v is not None and math.isfinite(v) and v > 0 for v in values):
        return 0.0
    stake = equity * risk_fraction / stop_distance * entry_price
    stake = min(stake, equity * max_share)
    if max_stake is not None:
        stake = min(stake, max_stake)
    if min_stake is not None and stake < min_stake:
        return 0.0
    return stake


def atr_risk_stake(
    equity: float,
    risk_fraction: float,
    entry_price: float,
    atr: float,
    atr_multiple: float,
    max_share: float,
    min_stake: float | None = None,
    max_stake: float | None = None,
) -> float:
    """``risk_stake`` with the stop ``atr_multiple x atr`` from ``entry_price`` (seed: 2 x ATR)."""
    distance = atr_stop_distance(atr, atr_multiple)
    return risk_stake(equity, risk_fraction, entry_price, distance, max_share, min_stake, max_stake)


def volatility_target_share(volatility: float, target: float, max_share: float) -> float:
    """Share of equity for one position so its daily volatility is about ``target`` of equity.

        share = max_share x min(1, target / volatility)

    ``volatility`` is the pair's daily return standard deviation (0.04 = 4 % a day). A pair calmer
    than the target gets the full ``max_share``; a pair twice as volatile gets half. Returns 0.0
    ("do not trade") when the volatility is unusable (NaN, zero, negative): a flat or missing price
    history says nothing about risk.
    """
    _check_fraction("target", target)
    _check_fraction("max_share", max_share)
    if volatility is None or not math.isfinite(volatility) or volatility <= 0:
        return 0.0
    return max_share * min(1.0, target / volatility)


def position_trim_share(position_value: float, equity: float, max_share: float,
                        tolerance: float = 0.05) -> float:
    """Share of a held position to sell so it is worth ``max_share`` of ``equity`` again.

        share = 1 - max_share x equity / position_value      (0 while within the cap)

    The trim starts only once the position is worth more than ``max_share x (1 + tolerance)`` of
    equity: a position hovering at the cap would otherwise be trimmed on every candle, a fee each
    time. Returns 0.0 ("sell nothing") when a value is unusable (NaN, zero, negative).

    Raises ValueError for invalid settings (max_share outside (0, 1], tolerance negative).
    """
    _check_fraction("max_share", max_share)
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    values = (position_value, equity)
    if not all(v is not None and math.isfinite(v) and v > 0 for v in values):
        return 0.0
    cap = max_share * equity
    if position_value <= cap * (1 + tolerance):
        return 0.0
    return 1.0 - cap / position_value


def realised_daily_volatility(close: pd.Series, candles_per_day: int, window_days: int) -> pd.Series:
    """Standard deviation of log returns over the last ``window_days`` days, scaled to one day.

    ``candles_per_day`` converts the candle timeframe (6 for 4h, 24 for 1h): the per-candle
    deviation times sqrt(candles_per_day). Causal (each value uses closes up to its own candle);
    NaN while the window fills, and where a price is missing or not positive.
    """
    if candles_per_day < 1 or window_days < 1:
        raise ValueError(f"candles_per_day and window_days must be >= 1, got {candles_per_day}, {window_days}")
    values = close.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_close = np.where(values > 0, np.log(values), np.nan)
    returns = pd.Series(log_close, index=close.index).diff()
    window = candles_per_day * window_days
    return returns.rolling(window, min_periods=window).std() * math.sqrt(candles_per_day)
