"""The nine signals (plugins.quant.signals) on constructed price paths.

Each scenario is a close path built so one rule must fire inside a known window of candles:
the signal fires long there, the mirrored path (``2 x 100 - price``, high and low swapped) fires
short there and never long, and NaN or zero-volume candles never fire.
"""

import time

import numpy as np
import pandas as pd
import pytest

from plugins.quant import signals
from plugins.quant.signals import SIGNALS, all_signals


def candles(close, spread=0.3, volume=1000.0) -> pd.DataFrame:
    """OHLCV from a close path: open = previous close, high/low = max/min(open, close) +- spread."""
    close = np.asarray(close, dtype=float)
    opens = np.concatenate([[close[0]], close[:-1]])
    spread = np.broadcast_to(np.asarray(spread, dtype=float), close.shape)
    return pd.DataFrame({
        "date": pd.date_range("2025-01-01", periods=len(close), freq="1h", tz="UTC"),
        "open": opens, "high": np.maximum(opens, close) + spread,
        "low": np.minimum(opens, close) - spread, "close": close,
        "volume": np.full(len(close), volume),
    })


def mirrored(frame: pd.DataFrame, level: float = 100.0) -> pd.DataFrame:
    out = frame.copy()
    for column in ("open", "close"):
        out[column] = 2 * level - frame[column]
    out["high"], out["low"] = 2 * level - frame["low"], 2 * level - frame["high"]
    return out


def wiggle(n, amplitude=0.4, period=7):
    return amplitude * np.sin(np.arange(n) * 2 * np.pi / period)


def flat(n, level=100.0):
    return level + wiggle(n)


def scenario_ramp():
    """Flat, then a steady climb: trend-state signals go long in the climb."""
    close = np.concatenate([flat(80), 100 + 0.4 * np.arange(1, 61) + wiggle(60, 0.1)])
    return candles(close), slice(100, 140)


def scenario_turn():
    """Down for 60 candles, then up: the fast EMA crosses above the slow one after the turn."""
    down = 110 - 0.25 * np.arange(60)
    up = down[-1] + 0.6 * np.arange(1, 41)
    return candles(np.concatenate([down, up]) + wiggle(100, 0.05)), slice(60, 100)


def scenario_breakout():
    """Flat range, then a jump above the 20-candle high."""
    close = np.concatenate([flat(60), [103.0, 104.0, 104.5]])
    return candles(close), slice(60, 61)


def scenario_accelerating():
    """Flat, then gains that grow: RSI above 55 and rising."""
    close = np.concatenate([flat(60), 100 + np.cumsum(np.linspace(0.1, 1.0, 20))])
    return candles(close), slice(62, 80)


def scenario_stair():
    """An uptrend in steps (three up, one down): %K crosses %D upward while ADX is high."""
    steps = np.tile([1.0, 1.0, 1.0, -0.8], 30)
    close = np.concatenate([flat(40), 100 + np.cumsum(steps)])
    return candles(close), slice(60, 160)


def scenario_dip():
    """Flat, a sharp three-candle drop below the lower bands, then a recovery to the range."""
    close = np.concatenate([flat(60), [98.0, 96.0, 94.5], [96.5, 98.0, 99.0, 99.5], flat(10)])
    return candles(close), slice(63, 67)


def scenario_squeeze():
    """Wide candles with closes that barely move (a squeeze), then closes running up."""
    quiet = 100 + wiggle(60, 0.05, 5)
    close = np.concatenate([quiet, 100 + 0.8 * np.arange(1, 16)])
    spread = np.concatenate([np.full(60, 1.5), np.full(15, 0.3)])
    return candles(close, spread=spread), slice(60, 75)


SCENARIOS = {
    "ema_atr": scenario_ramp,
    "ema_cross": scenario_turn,
    "supertrend": scenario_ramp,
    "donchian_breakout": scenario_breakout,
    "rsi_momentum": scenario_accelerating,
    "stochastic_adx": scenario_stair,
    "bollinger_bands": scenario_dip,
    "keltner_squeeze": scenario_squeeze,
    "vwap_reversion": scenario_dip,
}


def test_every_signal_has_a_scenario():
    assert list(SCENARIOS) == list(SIGNALS)


@pytest.mark.parametrize("name", list(SIGNALS))
def test_fires_long_where_it_should(name):
    frame, window = SCENARIOS[name]()
    out = SIGNALS[name](frame)
    assert list(out.columns) == ["direction", "confidence", "reason"]
    assert out.index.equals(frame.index)
    fired = out.iloc[window]
    assert (fired["direction"] == 1).any(), f"{name} never long in {window}"
    assert not (fired["direction"] == -1).any()
    longs = out[out["direction"] == 1]
    assert longs["confidence"].between(0, 1).all() and (longs["confidence"] > 0).all()
    assert longs["reason"].str.startswith(name).all()
    quiet = out[out["direction"] == 0]
    assert (quiet["confidence"] == 0).all() and (quiet["reason"] == "").all()


@pytest.mark.parametrize("name", list(SIGNALS))
def test_mirrored_path_is_short_not_long(name):
    frame, window = SCENARIOS[name]()
    original = SIGNALS[name](frame)
    out = SIGNALS[name](mirrored(frame))
    assert not (out.iloc[window]["direction"] == 1).any()
    assert (out.iloc[window]["direction"] == -1).any()
    # Candle by candle the mirror of the original inside the window (supertrend's arbitrary
    # starting side makes its warm-up candles asymmetric until the first flip).
    np.testing.assert_array_equal(out.iloc[window]["direction"].to_numpy(),
                                  -original.iloc[window]["direction"].to_numpy())
    np.testing.assert_allclose(out.iloc[window]["confidence"],
                               original.iloc[window]["confidence"], atol=1e-9)


@pytest.mark.parametrize("name", list(SIGNALS))
def test_never_fires_on_nan_or_zero_volume(name):
    frame, window = SCENARIOS[name]()
    fired = SIGNALS[name](frame)["direction"].to_numpy() != 0
    row = np.flatnonzero(fired)[0]
    for column, bad in (("close", np.nan), ("volume", 0.0), ("high", np.nan), ("volume", np.nan)):
        broken = frame.copy()
        broken.loc[row, column] = bad
        out = SIGNALS[name](broken)
        assert out.loc[row, "direction"] == 0 and out.loc[row, "confidence"] == 0, (column, bad)


def test_all_nan_and_short_frames_never_fire():
    frame = candles(flat(10))
    frame[["open", "high", "low", "close"]] = np.nan
    for out in all_signals(frame).values():
        assert (out["direction"] == 0).all()
    for out in all_signals(candles(flat(5))).values():  # shorter than every warm-up
        assert (out["direction"] == 0).all()


def test_ema_atr_filter_blocks_wild_candles():
    frame, window = scenario_ramp()
    assert (signals.ema_atr(frame).iloc[window]["direction"] == 1).any()
    # The ramp's ATR is about 0.6% of the price: a 0.3% cap blocks every entry.
    assert (signals.ema_atr(frame, max_atr_pct=0.003)["direction"] == 0).all()


def test_confidence_grows_with_the_move():
    frame, window = scenario_ramp()
    conf = signals.ema_atr(frame).iloc[80:]["confidence"]
    longs = conf[conf > 0]
    assert longs.iloc[0] < 0.5 and longs.max() == 1.0  # spread: fractions of an ATR, then > 1


@pytest.mark.parametrize("call, message", [
    (lambda f: signals.ema_atr(f, fast=26, slow=12), "fast"),
    (lambda f: signals.supertrend(f, multiplier=0), "multiplier"),
    (lambda f: signals.rsi_momentum(f, upper=40), "lower"),
    (lambda f: signals.vwap_reversion(f, window=1), "window"),
    (lambda f: signals.donchian_breakout(f, period=2.5), "period"),
    (lambda f: all_signals(f, names=["macd"]), "unknown"),
    (lambda f: signals.ema_cross(f.drop(columns="volume")), "volume"),
])
def test_bad_settings_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call(candles(flat(50)))


def test_nine_signals_on_a_year_of_candles_are_fast():
    rng = np.random.default_rng(3)
    frame = candles(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 8760))))
    all_signals(frame)
    start = time.perf_counter()
    all_signals(frame)
    assert time.perf_counter() - start < 0.5
