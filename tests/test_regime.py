"""Regime detector: constructed price paths land in each of the six regimes and do not flicker."""

import numpy as np
import pandas as pd
import pytest

from plugins.quant.regime import (
    _CODE,
    BEAR_TREND,
    BULL_TREND,
    INDICATOR_COLUMNS,
    PLAYBOOKS,
    QUIET_TRANSITION,
    REGIME_COLUMNS,
    REGIMES,
    TIGHT_RANGE,
    UNDEFINED,
    VOLATILE_TRANSITION,
    WIDE_RANGE,
    allows,
    detect_regime,
    gate_switches,
    latch,
    playbook,
    regime_indicators,
    regime_startup_candles,
    risk_gate_column,
    stake_multiplier_column,
)


def candles(steps, spread=0.001, start=100.0, volume=1000.0) -> pd.DataFrame:
    """Candles whose close moves by the given fractional steps; high/low = close -/+ spread."""
    close = start * np.cumprod(1 + np.asarray(steps, dtype=float))
    return pd.DataFrame(
        {
            "date": pd.date_range("2025-01-01", periods=len(close), freq="1h", tz="UTC"),
            "open": np.r_[start, close[:-1]],
            "high": close * (1 + spread),
            "low": close * (1 - spread),
            "close": close,
            "volume": volume,
        }
    )


def zigzag(up: float, down: float, n: int) -> np.ndarray:
    """Alternating up/down steps. With a constant high-low spread every up candle is pure +DM
    and every down candle pure -DM, so ADX settles near 100 * (up - down) / (up + down)."""
    return np.tile([up, -down], n // 2)


# Steady state after the 150-candle warm-up: ADX ~4 (equal zigzag), ~27 (up = 1.74 x down), 100.
PATHS = {
    TIGHT_RANGE: zigzag(0.004, 0.004, 300),  # ADX ~4, ATR ~0.5 %
    WIDE_RANGE: zigzag(0.02, 0.0196, 300),  # ADX ~4, ATR ~2 %
    QUIET_TRANSITION: zigzag(0.0087, 0.005, 300),  # ADX ~27, ATR ~0.8 %
    VOLATILE_TRANSITION: zigzag(0.035, 0.02, 300),  # ADX ~26, ATR ~2.6 %
    BULL_TREND: np.full(300, 0.01),  # ADX 100, EMA20 > EMA50
    BEAR_TREND: np.full(300, -0.01),  # ADX 100, EMA20 < EMA50
}


@pytest.mark.parametrize("expected", REGIMES)
def test_each_constructed_path_lands_in_its_regime(expected):
    result = detect_regime(candles(PATHS[expected]))
    settled = result.iloc[regime_startup_candles() :]
    assert set(settled["regime"]) == {expected}
    assert set(settled["regime_active"]) == {expected}
    assert settled["regime_confidence"].between(0.5, 1.0).all()


def test_adds_columns_without_touching_the_input():
    df = candles(PATHS[BULL_TREND])
    before = df.copy()
    result = detect_regime(df)
    pd.testing.assert_frame_equal(df, before)
    assert set(REGIME_COLUMNS) | set(INDICATOR_COLUMNS) <= set(result.columns)
    assert list(result.columns[: len(df.columns)]) == list(df.columns)


def test_indicators_hand_computed_on_constant_candles():
    # Every candle: high 101, low 99, close 100 -> true range 2 -> ATR% 2 %; no price change
    # -> Bollinger width 0; volume doubling on the last candle -> ratio 2 / mean of 20.
    df = pd.DataFrame(
        {
            "high": [101.0] * 60,
            "low": [99.0] * 60,
            "close": [100.0] * 60,
            "volume": [10.0] * 59 + [20.0],
        }
    )
    ind = regime_indicators(df)
    assert ind["regime_atr_pct"].iloc[-1] == pytest.approx(0.02)
    assert ind["regime_bb_width"].iloc[-1] == pytest.approx(0.0)
    assert ind["regime_volume_ratio"].iloc[-2] == pytest.approx(1.0)
    assert ind["regime_volume_ratio"].iloc[-1] == pytest.approx(20 / (19 * 10 + 20) * 20)
    assert ind["regime_ema_slow"].iloc[-1] == pytest.approx(100.0)
    assert ind["regime_atr_pct"].iloc[:13].isna().all() and ind["regime_atr_pct"].iloc[14] > 0


def test_warmup_is_undefined_with_zero_confidence():
    result = detect_regime(candles(PATHS[BULL_TREND]))
    # EMA(50) is the slowest indicator: its first value is at index 49.
    assert (result["regime"].iloc[:49] == UNDEFINED).all()
    assert (result["regime_confidence"].iloc[:49] == 0.0).all()
    assert result["regime"].iloc[60] == BULL_TREND


def test_trend_does_not_flicker_while_adx_falls_between_25_and_32():
    # 150 trend candles (ADX 100), then a zigzag whose ADX settles near 27: with hysteresis the
    # trend holds (it ends only below 25); without it (trend_exit = 32) the label changes.
    df = candles(np.r_[np.full(150, 0.01), zigzag(0.0087, 0.005, 200)])
    result = detect_regime(df)
    adx = result["regime_adx"].iloc[150:]
    assert adx.min() > 25 and adx.iloc[-1] < 32  # ADX really crossed 32 and stays above 25
    assert set(result["regime"].iloc[60:]) == {BULL_TREND}
    no_hysteresis = detect_regime(df, trend_exit=32.0)
    assert set(no_hysteresis["regime"].iloc[60:]) == {BULL_TREND, QUIET_TRANSITION}


def test_range_does_not_flicker_while_adx_rises_between_18_and_22():
    df = candles(np.r_[zigzag(0.004, 0.004, 200), zigzag(0.006, 0.004, 200)])
    result = detect_regime(df)
    assert 18 < result["regime_adx"].iloc[300:].min() < result["regime_adx"].iloc[300:].max() < 22
    assert set(result["regime"].iloc[100:]) == {TIGHT_RANGE}
    no_hysteresis = detect_regime(df, range_exit=18.0)
    assert QUIET_TRANSITION in set(no_hysteresis["regime"].iloc[300:])


def test_latch_holds_between_thresholds():
    # ADX-like values around the trend thresholds (set > 32, clear < 25).
    adx = np.array([20, 31, 33, 31, 33, 26, 24, 31, 33, np.nan, 30])
    got = latch(adx > 32, adx < 25)
    assert got.tolist() == [False, False, True, True, True, True, False, False, True, True, True]
    assert latch(adx > 99, adx < 0, initial=True).all()
    with pytest.raises(ValueError, match="same shape"):
        latch(np.zeros(2, bool), np.zeros(3, bool))


def test_detector_is_causal_prefix_invariant():
    rng = np.random.default_rng(7)
    df = candles(rng.normal(0.0005, 0.012, 600), spread=0.004)
    df["volume"] = rng.uniform(500, 1500, len(df))
    full = detect_regime(df)
    for end in (120, 333, 599):
        part = detect_regime(df.iloc[:end])
        pd.testing.assert_frame_equal(part, full.iloc[:end])


def test_active_regime_needs_confidence_and_cooldown():
    t, b, u = _CODE[TIGHT_RANGE], _CODE[BULL_TREND], _CODE[UNDEFINED]
    codes = np.array([u, t, t, b, b, b, b, t, t, t])
    conf = np.array([0, 0.7, 0.7, 0.5, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9])
    active = gate_switches(codes, conf, 0.65, cooldown=3)
    # BULL at index 3 is too unsure; it switches at 4 (3 candles after the switch at 1);
    # TIGHT at 7 comes 3 candles after 4: allowed.
    assert active.tolist() == [u, t, t, t, b, b, b, t, t, t]
    active = gate_switches(codes, conf, 0.65, cooldown=5)
    # Cooldown 5 from index 1 -> BULL earliest at 6; TIGHT earliest at 11 (never).
    assert active.tolist() == [u, t, t, t, t, t, b, b, b, b]


def test_short_flat_and_zero_volume_data_do_not_crash():
    flat = candles(np.zeros(120))
    flat["volume"] = 0.0
    result = detect_regime(flat)
    assert result["regime_confidence"].between(0, 1).all()
    assert detect_regime(flat.iloc[:10])["regime"].eq(UNDEFINED).all()
    empty = detect_regime(flat.iloc[:0])
    assert empty.empty and "regime" in empty.columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ema_fast": 50, "ema_slow": 20}, "ema_fast"),
        ({"trend_enter": 20.0}, "ADX thresholds"),
        ({"range_atr": 0.03}, "ATR thresholds"),
        ({"adx_period": 1}, "adx_period"),
        ({"min_confidence": 1.5}, "min_confidence"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        detect_regime(candles(PATHS[BULL_TREND]), **kwargs)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="volume"):
        detect_regime(candles(PATHS[BULL_TREND]).drop(columns="volume"))


def test_risk_gate_and_routing_tables():
    regime = pd.Series(
        [BULL_TREND, BULL_TREND, WIDE_RANGE, QUIET_TRANSITION, VOLATILE_TRANSITION, UNDEFINED]
    )
    confidence = pd.Series([0.9, 0.5, 0.9, 0.9, 0.9, 0.0])
    assert risk_gate_column(regime, confidence).tolist() == [
        "risk_on",
        "risk_small",
        "risk_small",
        "neutral",
        "risk_off",
        "neutral",
    ]
    assert stake_multiplier_column(regime, confidence).tolist() == [1.0, 0.5, 0.5, 0.0, 0.0, 0.0]
    assert not allows(BEAR_TREND, "trend") and allows(BEAR_TREND, "dca")
    assert allows(BULL_TREND, "trend") and allows(TIGHT_RANGE, "grid")
    assert set(PLAYBOOKS) == {*REGIMES, UNDEFINED}
    with pytest.raises(ValueError, match="unknown regime"):
        playbook("SIDEWAYS")
