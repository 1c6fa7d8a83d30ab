"""Seed 003's nine technical signals as pure, vectorised functions over an OHLCV frame.

Every signal takes a frame with ``open/high/low/close/volume`` columns (plus its settings) and
returns a frame on the same index with three columns:

- ``direction``: +1 (long), -1 (short / exit for a long-only strategy), 0 (nothing);
- ``confidence``: in [0, 1], 0 wherever ``direction`` is 0;
- ``reason``: a short code saying which rule fired (``"supertrend_up"``, ...), ``""`` when nothing.

All rules are mirror-symmetric: on the price path mirrored around a level (``K - price``) a signal
gives the opposite direction. A candle with a NaN price or a volume <= 0 never fires, and neither
does a candle whose indicators are still warming up (NaN comparisons are False).

Indicators come from the field's libraries: TA-Lib (EMA, ATR, RSI, ADX/DI, Bollinger bands),
pandas-ta (Donchian, Keltner, stochastic), technical (supertrend, rolling VWAP). Not used, and why:
pandas-ta's ``supertrend`` loops with ``.iloc`` (2.1 s per year of 1h candles, over the 0.5 s
budget for all nine) - technical's numpy loop gives the same bands in milliseconds; a session VWAP
(pandas-ta's ``vwap``) resets daily, which means nothing for a 24/7 market, so the rolling VWAP
of ``window`` candles is used.

``SIGNALS`` maps each name (seed order) to its function; ``all_signals`` runs them all.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandas_ta as pta
import talib
from technical import qtpylib
from technical.indicators import supertrend as technical_supertrend


OHLCV = ("open", "high", "low", "close", "volume")
NO_REASON = ""


# --- shared pieces --------------------------------------------------------------------------------
def valid_candles(frame: pd.DataFrame) -> pd.Series:
    """True on candles with all five OHLCV values present and a volume > 0."""
    missing = [column for column in OHLCV if column not in frame]
    if missing:
        raise ValueError(f"signal input lacks OHLCV column(s) {missing}")
    prices = frame[list(OHLCV)]
    return prices.notna().all(axis=1) & (frame["volume"] > 0)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def _period(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _strength(value, full) -> np.ndarray:
    """``|value| / full`` clipped to [0, 1] (NaN -> 0): how far a rule is past its line."""
    ratio = np.abs(np.asarray(value, dtype=float)) / np.asarray(full, dtype=float)
    return np.nan_to_num(np.clip(ratio, 0.0, 1.0), nan=0.0, posinf=1.0)


def _event_confidence(value, full) -> np.ndarray:
    """Confidence of an event rule (a cross, a breakout): 0.5 when it just fires, up to 1."""
    return 0.5 + 0.5 * _strength(value, full)


def decision(frame: pd.DataFrame, long, short, confidence, name: str,
             long_reason: str = "up", short_reason: str = "down") -> pd.DataFrame:
    """The (direction, confidence, reason) frame from boolean ``long`` / ``short`` rules.

    Invalid candles (``valid_candles``) and candles where both rules hold give 0.
    """
    valid = valid_candles(frame).to_numpy()
    long = np.asarray(long, dtype=bool) & valid
    short = np.asarray(short, dtype=bool) & valid
    both = long & short
    long, short = long & ~both, short & ~both
    direction = long.astype(np.int8) - short.astype(np.int8)
    fired = direction != 0
    conf = np.where(fired, np.nan_to_num(np.asarray(confidence, dtype=float), nan=0.0), 0.0)
    reason = np.where(long, f"{name}_{long_reason}", np.where(short, f"{name}_{short_reason}",
                                                               NO_REASON))
    return pd.DataFrame({"direction": direction, "confidence": np.clip(conf, 0.0, 1.0),
                         "reason": reason}, index=frame.index)


def _pandas_ta(result, frame: pd.DataFrame, columns: int) -> list[pd.Series]:
    """The columns of a pandas-ta result; all NaN when pandas-ta returned None (frame too short)."""
    if result is None:
        return [pd.Series(np.nan, index=frame.index) for _ in range(columns)]
    return [result.iloc[:, i] for i in range(columns)]


def _crossed_above(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a > b) & (a.shift(1) <= b.shift(1))


def _crossed_below(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a < b) & (a.shift(1) >= b.shift(1))


def _atr(frame: pd.DataFrame, period: int) -> pd.Series:
    return pd.Series(talib.ATR(frame["high"].to_numpy(float), frame["low"].to_numpy(float),
                               frame["close"].to_numpy(float), timeperiod=period),
                     index=frame.index)


def _ema(series: pd.Series, period: int) -> pd.Series:
    return pd.Series(talib.EMA(series.to_numpy(float), timeperiod=period), index=series.index)


# --- the nine signals -----------------------------------------------------------------------------
def ema_atr(frame: pd.DataFrame, fast: int = 12, slow: int = 26, atr_period: int = 14,
            max_atr_pct: float = 0.05, min_slope: float = 0.0) -> pd.DataFrame:
    """EMA trend with an ATR filter (seed 003 ``ema_atr``): fast EMA above the slow one and rising.

    Long: EMA(fast) > EMA(slow), the fast EMA's slope (change per candle / close) > ``min_slope``
    and ATR / close <= ``max_atr_pct`` (no entries into wild candles). Confidence: the EMA spread
    in ATRs (1 ATR apart = 1).
    """
    for name, value in (("fast", fast), ("slow", slow), ("atr_period", atr_period)):
        _period(name, value)
    if not fast < slow:
        raise ValueError(f"fast ({fast}) must be below slow ({slow})")
    _positive("max_atr_pct", max_atr_pct)
    if not min_slope >= 0:
        raise ValueError(f"min_slope must be >= 0, got {min_slope!r}")
    close = frame["close"]
    ema_fast, ema_slow = _ema(close, fast), _ema(close, slow)
    atr = _atr(frame, atr_period)
    calm = (atr / close) <= max_atr_pct
    slope = ema_fast.diff() / close
    long = (ema_fast > ema_slow) & (slope > min_slope) & calm
    short = (ema_fast < ema_slow) & (slope < -min_slope) & calm
    return decision(frame, long, short, _strength(ema_fast - ema_slow, atr), "ema_atr")


def ema_cross(frame: pd.DataFrame, fast: int = 9, slow: int = 21,
              atr_period: int = 14) -> pd.DataFrame:
    """EMA cross (event): the fast EMA crosses the slow one on this candle.

    Confidence: 0.5 at the cross, plus how far the close is beyond the slow EMA (1 ATR -> 1).
    """
    for name, value in (("fast", fast), ("slow", slow), ("atr_period", atr_period)):
        _period(name, value)
    if not fast < slow:
        raise ValueError(f"fast ({fast}) must be below slow ({slow})")
    close = frame["close"]
    ema_fast, ema_slow = _ema(close, fast), _ema(close, slow)
    confidence = _event_confidence(close - ema_slow, _atr(frame, atr_period))
    return decision(frame, _crossed_above(ema_fast, ema_slow), _crossed_below(ema_fast, ema_slow),
                    confidence, "ema_cross", "cross_up", "cross_down")


def supertrend(frame: pd.DataFrame, period: int = 10, multiplier: float = 3.0) -> pd.DataFrame:
    """Supertrend state (technical's ``supertrend``): +1 while the close is above the line.

    Confidence: 0.5 on the line, 1 at ``multiplier`` ATRs (the band width) beyond it.
    """
    _period("period", period)
    _positive("multiplier", multiplier)
    line, _ = technical_supertrend(frame[["high", "low", "close"]], period=period,
                                   multiplier=multiplier)
    line = pd.Series(line, index=frame.index).where(lambda s: s > 0)  # 0 = not warmed up yet
    close = frame["close"]
    band = multiplier * _atr(frame, period)
    confidence = _event_confidence(close - line, band)
    return decision(frame, close > line, close < line, confidence, "supertrend")


def donchian_breakout(frame: pd.DataFrame, period: int = 20, atr_period: int = 14) -> pd.DataFrame:
    """Donchian breakout (pandas-ta ``donchian``): close beyond the previous ``period`` high / low.

    The channel of the *previous* candle, so the breakout candle is compared with the range before
    it. Confidence: 0.5 at the channel, 1 one ATR beyond it.
    """
    _period("period", period)
    _period("atr_period", atr_period)
    lower, _, upper = _pandas_ta(pta.donchian(frame["high"], frame["low"], lower_length=period,
                                              upper_length=period), frame, 3)
    upper, lower = upper.shift(1), lower.shift(1)
    close = frame["close"]
    long, short = close > upper, close < lower
    beyond = np.where(long, close - upper, lower - close)
    confidence = _event_confidence(beyond, _atr(frame, atr_period))
    return decision(frame, long, short, confidence, "donchian_breakout", "break_up", "break_down")


def rsi_momentum(frame: pd.DataFrame, period: int = 14, upper: float = 55.0,
                 lower: float = 45.0) -> pd.DataFrame:
    """RSI momentum: RSI above ``upper`` and rising (long), below ``lower`` and falling (short).

    Confidence: the RSI's distance from 50 (60 -> 0.5, 70 and beyond -> 1).
    """
    _period("period", period)
    if not 0 < lower <= 50 <= upper < 100:
        raise ValueError(f"need 0 < lower <= 50 <= upper < 100, got lower={lower}, upper={upper}")
    rsi = pd.Series(talib.RSI(frame["close"].to_numpy(float), timeperiod=period), index=frame.index)
    change = rsi.diff()
    long = (rsi > upper) & (change > 0)
    short = (rsi < lower) & (change < 0)
    return decision(frame, long, short, _strength(rsi - 50.0, 20.0), "rsi_momentum")


def stochastic_adx(frame: pd.DataFrame, k: int = 14, d: int = 3, smooth_k: int = 3,
                   adx_period: int = 14, adx_min: float = 20.0) -> pd.DataFrame:
    """Stochastic cross in a trending market (pandas-ta ``stoch``, TA-Lib ADX / DI).

    Long: %K crosses above %D, ADX >= ``adx_min`` and +DI > -DI (short: mirrored).
    Confidence: ADX / 50 (ADX 25 -> 0.5, 50 and above -> 1).
    """
    for name, value in (("k", k), ("d", d), ("smooth_k", smooth_k), ("adx_period", adx_period)):
        _period(name, value)
    _positive("adx_min", adx_min)
    stoch_k, stoch_d = _pandas_ta(pta.stoch(frame["high"], frame["low"], frame["close"], k=k, d=d,
                                            smooth_k=smooth_k), frame, 2)
    high, low, close = (frame[c].to_numpy(float) for c in ("high", "low", "close"))
    adx = pd.Series(talib.ADX(high, low, close, timeperiod=adx_period), index=frame.index)
    plus_di = talib.PLUS_DI(high, low, close, timeperiod=adx_period)
    minus_di = talib.MINUS_DI(high, low, close, timeperiod=adx_period)
    trending = adx >= adx_min
    long = _crossed_above(stoch_k, stoch_d) & trending & (plus_di > minus_di)
    short = _crossed_below(stoch_k, stoch_d) & trending & (minus_di > plus_di)
    return decision(frame, long, short, _strength(adx, 50.0), "stochastic_adx",
                    "cross_up", "cross_down")


def bollinger_bands(frame: pd.DataFrame, period: int = 20, std: float = 2.0) -> pd.DataFrame:
    """Bollinger mean reversion (TA-Lib ``BBANDS``): the close comes back inside a band.

    Long: previous close below the lower band, this close above it (short: back below the upper).
    Confidence: 0.5 at the band, 1 when the room left to the middle band is a full half-band.
    """
    _period("period", period)
    _positive("std", std)
    upper, middle, lower = (pd.Series(band, index=frame.index) for band in talib.BBANDS(
        frame["close"].to_numpy(float), timeperiod=period, nbdevup=std, nbdevdn=std))
    close = frame["close"]
    long = _crossed_above(close, lower)
    short = _crossed_below(close, upper)
    confidence = _event_confidence(middle - close, upper - middle)
    return decision(frame, long, short, confidence, "bollinger_bands", "reenter_low",
                    "reenter_high")


def keltner_squeeze(frame: pd.DataFrame, period: int = 20, bb_std: float = 2.0,
                    kc_scalar: float = 1.5) -> pd.DataFrame:
    """Squeeze release (TA-Lib Bollinger inside a pandas-ta Keltner channel, then out).

    A squeeze: both Bollinger bands inside the Keltner channel. On the first candle after a
    squeeze, long if the close is above the Keltner middle, short below it. Confidence: 0.5 at the
    middle, 1 at the channel edge.
    """
    _period("period", period)
    _positive("bb_std", bb_std)
    _positive("kc_scalar", kc_scalar)
    close = frame["close"]
    bb_upper, _, bb_lower = talib.BBANDS(close.to_numpy(float), timeperiod=period,
                                         nbdevup=bb_std, nbdevdn=bb_std)
    kc_lower, kc_mid, kc_upper = _pandas_ta(
        pta.kc(frame["high"], frame["low"], close, length=period, scalar=kc_scalar), frame, 3)
    squeezed = pd.Series((bb_upper < kc_upper.to_numpy()) & (bb_lower > kc_lower.to_numpy()),
                         index=frame.index)
    released = squeezed.shift(1, fill_value=False) & ~squeezed & kc_upper.notna()
    confidence = _event_confidence(close - kc_mid, kc_upper - kc_mid)
    return decision(frame, released & (close > kc_mid), released & (close < kc_mid), confidence,
                    "keltner_squeeze", "release_up", "release_down")


def vwap_reversion(frame: pd.DataFrame, window: int = 24, z_entry: float = 2.0) -> pd.DataFrame:
    """Reversion to the rolling VWAP (technical's ``rolling_vwap``).

    z = (close - VWAP) / rolling std of that gap over ``window`` candles. Long: z comes back above
    ``-z_entry`` from below (the stretch below VWAP ends); short: mirrored. Confidence: 0.5 at the
    line, 1 at ``2 x z_entry`` on the previous candle (how stretched it was).
    """
    _period("window", window)
    if window < 2:
        raise ValueError(f"window must be >= 2, got {window!r}")
    _positive("z_entry", z_entry)
    vwap = qtpylib.rolling_vwap(frame, window=window)
    gap = frame["close"] - vwap
    z = gap / gap.rolling(window).std()
    line = pd.Series(z_entry, index=frame.index)
    long = _crossed_above(z, -line)
    short = _crossed_below(z, line)
    confidence = 0.5 + 0.5 * _strength(z.shift(1), 2.0 * z_entry)
    return decision(frame, long, short, confidence, "vwap_reversion", "revert_up", "revert_down")


Signal = Callable[..., pd.DataFrame]

SIGNALS: dict[str, Signal] = {
    "ema_atr": ema_atr,
    "ema_cross": ema_cross,
    "supertrend": supertrend,
    "donchian_breakout": donchian_breakout,
    "rsi_momentum": rsi_momentum,
    "stochastic_adx": stochastic_adx,
    "bollinger_bands": bollinger_bands,
    "keltner_squeeze": keltner_squeeze,
    "vwap_reversion": vwap_reversion,
}


def all_signals(frame: pd.DataFrame, names=None,
                settings: dict[str, dict] | None = None) -> dict[str, pd.DataFrame]:
    """Run the signals ``names`` (default all nine, seed order) with per-signal ``settings``."""
    names = list(SIGNALS) if names is None else list(names)
    unknown = sorted(set(names) - set(SIGNALS)) + sorted(set(settings or {}) - set(SIGNALS))
    if unknown:
        raise ValueError(f"unknown signal(s) {unknown}; known: {list(SIGNALS)}")
    settings = settings or {}
    return {name: SIGNALS[name](frame, **settings.get(name, {})) for name in names}
