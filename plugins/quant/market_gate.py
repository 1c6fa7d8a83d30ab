"""The market gate: may a long entry open now, and at what size (pure, vectorized, causal).

Why
    Every pack strategy lost most of its money buying into market-wide downtrends (2022, the
    2025 spring sell-off): a dip in a falling market keeps falling, and altcoins fall with the
    market leader. The gate asks two questions on higher timeframes before any long entry:
    is the market leader (BTC/USDT by default) in a bear state, and is the pair itself?

Rule (per series, on candles that have closed)
    ``trend_up_1d``  = daily close > EMA(``ema_1d``) of daily closes,
    ``rising_1d``    = that EMA is above its value ``slope_days`` days earlier,
    ``trend_up_4h``  = 4h close > EMA(``ema_4h``) of 4h closes.

    ========================================  ===========  =============================
    condition                                 state        what a strategy may do
    ========================================  ===========  =============================
    up and rising on 1d, up on 4h             risk_on      enter at full size
    up and rising on 1d, down on 4h           risk_small   enter at half size
    1d mixed (up but falling / down rising)   neutral      exits only
    down and falling on 1d                    risk_off     no entries; exit what is open
    missing or warming-up data                risk_off     (never signal on missing data)
    ========================================  ===========  =============================

    The market's state is the lower of the leader's and the pair's (a pair in its own downtrend
    stays gated in a bull market; a strong pair stays gated while the leader is in a bear state).
    The four state names and their stake multipliers are seed 003's risk gates
    (``plugins.quant.regime.RISK_GATES``).

    Why this and not the six-regime detector on 1d: the detector's ADX phases switch the bear
    label off inside long downtrends whenever ADX dips below 25 (a slow bleed is a "transition"),
    and its hysteresis needs ~150 daily candles of history; close-vs-EMA with the EMA's slope is
    the classic trend filter, needs ``ema_1d + slope_days`` daily candles, and has three
    parameters. The validation report (``ftpack-validate``) shows its effect per half-year.
"""

import numpy as np
import pandas as pd
import talib

from plugins.quant.regime import RISK_GATES


# Ordered from most to least restrictive: the combined state is the minimum code.
GATE_STATES: tuple[str, ...] = ("risk_off", "neutral", "risk_small", "risk_on")
RISK_OFF, NEUTRAL, RISK_SMALL, RISK_ON = range(len(GATE_STATES))
GATE_MULTIPLIERS = np.array([RISK_GATES[s].stake_multiplier for s in GATE_STATES], dtype=float)
TAG_SEPARATOR = "|"
DEFAULT_ENTRY_TAG = "entry"


def _ema(values: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib EMA, all NaN when the series is shorter than the period (short history)."""
    if values.size < period:
        return np.full(values.size, np.nan)
    return talib.EMA(values, timeperiod=period)


def _check_period(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def daily_trend(close: pd.Series, ema_period: int, slope_days: int) -> pd.DataFrame:
    """Per daily candle: ``gate_trend_up_1d`` and ``gate_rising_1d`` as 1.0 / 0.0 (NaN = unknown).

    Computed on the daily frame itself (before freqtrade merges it onto the base timeframe), so a
    value only appears on base candles once its daily candle has closed.
    """
    _check_period("ema_period", ema_period, 2)
    _check_period("slope_days", slope_days)
    values = close.to_numpy(dtype=float)
    ema = _ema(values, ema_period)
    ema_before = pd.Series(ema).shift(slope_days).to_numpy()
    known = np.isfinite(ema) & np.isfinite(values)
    known_slope = known & np.isfinite(ema_before)
    return pd.DataFrame({
        "gate_trend_up_1d": np.where(known, (values > ema).astype(float), np.nan),
        "gate_rising_1d": np.where(known_slope, (ema > ema_before).astype(float), np.nan),
    }, index=close.index)


def intraday_trend(close: pd.Series, ema_period: int) -> pd.Series:
    """Per 4h candle: ``gate_trend_up_4h`` as 1.0 / 0.0 (NaN while the EMA warms up)."""
    _check_period("ema_period", ema_period, 2)
    values = close.to_numpy(dtype=float)
    ema = _ema(values, ema_period)
    known = np.isfinite(ema) & np.isfinite(values)
    return pd.Series(np.where(known, (values > ema).astype(float), np.nan), index=close.index,
                     name="gate_trend_up_4h")


def series_state(trend_up_1d, rising_1d, trend_up_4h) -> np.ndarray:
    """Gate state code (``GATE_STATES`` index) of one series from its three trend flags.

    Inputs are array-likes of 1.0 / 0.0 / NaN (or None after a merge); any unknown flag gives
    ``RISK_OFF``.
    """
    up, rising, up_4h = (np.asarray(flags, dtype=float) for flags in (trend_up_1d, rising_1d, trend_up_4h))
    known = np.isfinite(up) & np.isfinite(rising) & np.isfinite(up_4h)
    bull_1d = (up == 1) & (rising == 1)
    bear_1d = (up == 0) & (rising == 0)
    state = np.select(
        [~known, bear_1d, bull_1d & (up_4h == 1), bull_1d],
        [RISK_OFF, RISK_OFF, RISK_ON, RISK_SMALL],
        default=NEUTRAL,
    )
    return state.astype(int)


def combined_state(*states: np.ndarray) -> np.ndarray:
    """The most restrictive state per candle (leader and pair: the minimum code)."""
    if not states:
        raise ValueError("combined_state needs at least one state array")
    return np.minimum.reduce([np.asarray(s, dtype=int) for s in states])


def stake_multiplier(state) -> np.ndarray:
    """Stake multiplier of each state code: risk_on 1.0, risk_small 0.5, neutral / risk_off 0."""
    return GATE_MULTIPLIERS[np.asarray(state, dtype=int)]


def state_name(code: int) -> str:
    """``GATE_STATES[code]`` (ValueError for a code outside 0..3)."""
    if isinstance(code, bool) or not 0 <= int(code) < len(GATE_STATES):
        raise ValueError(f"gate state code must be in 0..{len(GATE_STATES) - 1}, got {code!r}")
    return GATE_STATES[int(code)]


def gated_tag(tag: str | None, code: int) -> str:
    """Enter tag with the gate state appended: ``"ema_bb_breakout"`` -> ``"ema_bb_breakout|risk_on"``."""
    return f"{tag or DEFAULT_ENTRY_TAG}{TAG_SEPARATOR}{state_name(code)}"


def state_of_tag(enter_tag: str | None) -> str | None:
    """The gate state a trade entered under, from its enter tag (None for untagged trades)."""
    if not enter_tag or TAG_SEPARATOR not in enter_tag:
        return None
    name = enter_tag.rsplit(TAG_SEPARATOR, 1)[1]
    return name if name in GATE_STATES else None


def tag_stake_multiplier(enter_tag: str | None) -> float:
    """Stake multiplier for a trade's tag; 1.0 when the tag carries no gate state (gate off)."""
    name = state_of_tag(enter_tag)
    return 1.0 if name is None else float(GATE_MULTIPLIERS[GATE_STATES.index(name)])


def held_position_cut(state: int, already_cut: bool) -> float:
    """Share of a held long to sell now that the gate state moved under it (seed 003's sizes).

    risk_small is half size for an open position too: a full position is cut to half the first
    time the state falls to risk_small (returns 0.5); otherwise 0.0. Cut once: a cut position is
    not bought back when the state returns to risk_on (the 4h close crosses its EMA every few
    days inside a trend; buying back each time paid two fees per crossing and re-bought bounces
    that failed; docs/trend-rider.md has the figures). Neutral and risk_off are exits, not cuts.
    """
    if state == RISK_SMALL and not already_cut:
        return 1.0 - float(GATE_MULTIPLIERS[RISK_SMALL])
    return 0.0
