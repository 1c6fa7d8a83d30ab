"""SMC primitives (plugins.quant.smc) on hand-built candles: exact indices and levels, and causality."""

import numpy as np
import pandas as pd
import pytest

from conftest import USER_DATA
from plugins.quant.smc import (
    bars_since,
    fair_value_gaps,
    liquidity_sweeps,
    order_blocks,
    range_position,
    smc_features,
    structure_breaks,
    swing_points,
)


NAN = np.nan


def candles(high, low, close=None, open_=None) -> pd.DataFrame:
    """OHLC frame; close defaults to the mid of the bar and open to the close (a doji)."""
    high, low = pd.Series(high, dtype=float), pd.Series(low, dtype=float)
    close = (high + low) / 2 if close is None else pd.Series(close, dtype=float)
    open_ = close.copy() if open_ is None else pd.Series(open_, dtype=float)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": 1.0})


def assert_values(series: pd.Series, expected) -> None:
    np.testing.assert_array_equal(series.to_numpy(dtype=float), np.asarray(expected, dtype=float))


# A swing high at candle 3 (15) and a swing low at candle 6 (10), confirmed 2 candles later; then a
# close above 15 (bullish BOS at 10) and a close below 10 (bearish CHOCH at 13).
STRUCTURE = candles(
    high=[10, 11, 12, 15, 13, 12, 11, 12, 13, 14, 16, 17, 16.5, 13],
    low=[9, 10, 11, 14, 12, 11, 10, 11, 12, 13, 13.5, 15, 12, 9],
    close=[9.5, 10.5, 11.5, 14.5, 12.5, 11.5, 10.2, 11.5, 12.5, 13.5, 15.5, 16.5, 12.5, 9.5],
    open_=[9.5, 10.5, 11.5, 14.5, 12.5, 11.5, 10.9, 11.5, 12.5, 13.5, 15.5, 15.2, 12.5, 9.5],
)


def test_swing_points_confirmed_right_candles_after_pivot():
    s = swing_points(STRUCTURE["high"].iloc[:10], STRUCTURE["low"].iloc[:10], left=2, right=2)
    assert list(s.index[s["swing_high"].notna()]) == [5]
    assert s.loc[5, "swing_high"] == 15 and s.loc[5, "swing_high_pivot"] == 3
    assert list(s.index[s["swing_low"].notna()]) == [8]
    assert s.loc[8, "swing_low"] == 10 and s.loc[8, "swing_low_pivot"] == 6
    assert_values(s["last_swing_high"], [NAN] * 5 + [15] * 5)
    assert_values(s["last_swing_low"], [NAN] * 8 + [10] * 2)


def test_swing_points_flat_top_marked_once():
    s = swing_points(pd.Series([1.0, 2, 5, 5, 3, 2]), pd.Series([0.0, 1, 4, 4, 2, 1]), 2, 2)
    assert list(s.index[s["swing_high"].notna()]) == [4]
    assert s.loc[4, "swing_high_pivot"] == 2


def test_bos_after_swing_then_choch():
    s = swing_points(STRUCTURE["high"], STRUCTURE["low"], left=2, right=2)
    # The spike to 17 at candle 11 is confirmed as a swing high on candle 13.
    assert list(s.index[s["swing_high"].notna()]) == [5, 13]
    b = structure_breaks(STRUCTURE["close"], s["swing_high"], s["swing_low"])
    assert_values(b["bos"], [0] * 10 + [1, 0, 0, 0])  # 15.5 > 15; the 16.5 close does not re-break
    assert_values(b["choch"], [0] * 13 + [-1])  # 9.5 < 10 against the up trend
    assert_values(b["break_level"], [NAN] * 10 + [15, NAN, NAN, 10])
    assert_values(b["trend"], [0] * 10 + [1, 1, 1, -1])


def test_order_blocks_last_opposite_candle_before_break():
    s = swing_points(STRUCTURE["high"], STRUCTURE["low"], left=2, right=2)
    b = structure_breaks(STRUCTURE["close"], s["swing_high"], s["swing_low"])
    o = order_blocks(STRUCTURE["open"], STRUCTURE["high"], STRUCTURE["low"], STRUCTURE["close"],
                     b["bos"] + b["choch"], lookback=10, max_age=50)
    # Bullish OB: bearish candle 6 [10, 11], created by the BOS on 10, broken by the 9.5 close on 13
    assert_values(o["ob_bull"], [0] * 10 + [1, 0, 0, 0])
    assert_values(o["ob_bull_top"], [NAN] * 10 + [11, 11, 11, NAN])
    assert_values(o["ob_bull_bottom"], [NAN] * 10 + [10, 10, 10, NAN])
    assert_values(o["ob_bull_mitigated"], [0] * 13 + [1])
    # Bearish OB: the last bullish candle (11, [15, 17]) before the CHOCH on 13.
    assert o.loc[13, "ob_bear"] == 1
    assert (o.loc[13, "ob_bear_bottom"], o.loc[13, "ob_bear_top"]) == (15, 17)
    # With a lookback of 3 the bearish candle 6 is too old for the break on 10.
    short = order_blocks(STRUCTURE["open"], STRUCTURE["high"], STRUCTURE["low"],
                         STRUCTURE["close"], b["bos"] + b["choch"], lookback=3, max_age=50)
    assert short["ob_bull"].sum() == 0


def test_liquidity_sweep_of_swing_low():
    df = STRUCTURE.copy()
    df.loc[13, "close"] = 10.5  # wick to 9 under the swing low 10, close back above: a sweep
    df.loc[14] = [10.2, 12, 8, 10.2, 1.0]  # second wick under 10: the liquidity is already taken
    s = swing_points(df["high"], df["low"], left=2, right=2)
    w = liquidity_sweeps(df["high"], df["low"], df["close"], s["swing_high"], s["swing_low"])
    assert_values(w["sweep_bull"], [0] * 13 + [1, 0])
    assert w.loc[13, "sweep_bull_level"] == 10 and w.loc[13, "sweep_bull_low"] == 9
    assert w["sweep_bull_level"].notna().sum() == 1
    # Candle 10 trades above the swing high 15 but closes above it: a break, not a sweep.
    assert w["sweep_bear"].sum() == 0


def test_first_close_through_the_level_is_a_break_not_a_sweep():
    s = swing_points(STRUCTURE["high"], STRUCTURE["low"], left=2, right=2)
    w = liquidity_sweeps(STRUCTURE["high"], STRUCTURE["low"], STRUCTURE["close"],
                         s["swing_high"], s["swing_low"])
    assert w["sweep_bull"].sum() == 0  # candle 13 closes at 9.5 under the swing low 10


# Bullish FVG on 2 ([10, 11]), tapped on 4, mitigated by the close 9.8 on 5, which also leaves a
# bearish FVG ([11, 12]) tapped on 7.
FVG = candles(
    high=[10, 12, 13, 13.5, 12.5, 11, 10.5, 11.5],
    low=[9, 9.5, 11, 12, 10.5, 9.5, 9.6, 10],
    close=[9.5, 11.5, 12, 13, 11.5, 9.8, 10, 11.2],
)


def test_fair_value_gaps_known_gap_tap_and_mitigation():
    f = fair_value_gaps(FVG["high"], FVG["low"], FVG["close"])
    assert_values(f["fvg_bull"], [0, 0, 1, 0, 0, 0, 0, 0])
    assert_values(f["fvg_bull_top"], [NAN, NAN, 11, 11, 11, NAN, NAN, NAN])
    assert_values(f["fvg_bull_bottom"], [NAN, NAN, 10, 10, 10, NAN, NAN, NAN])
    assert_values(f["fvg_bull_tap"], [0, 0, 0, 0, 1, 0, 0, 0])
    assert_values(f["fvg_bull_mitigated"], [0, 0, 0, 0, 0, 1, 0, 0])
    assert_values(f["fvg_bear"], [0, 0, 0, 0, 0, 1, 0, 0])
    assert_values(f["fvg_bear_top"], [NAN] * 5 + [12, 12, 12])
    assert_values(f["fvg_bear_bottom"], [NAN] * 5 + [11, 11, 11])
    assert_values(f["fvg_bear_tap"], [0] * 7 + [1])
    assert f["fvg_bear_mitigated"].sum() == 0


def test_fair_value_gap_expiry_and_min_gap():
    f = fair_value_gaps(FVG["high"], FVG["low"], FVG["close"], max_age=1)
    assert_values(f["fvg_bull_top"], [NAN, NAN, 11, 11, NAN, NAN, NAN, NAN])
    assert f["fvg_bull_tap"].sum() == 0 and f["fvg_bull_mitigated"].sum() == 0
    # The gap is 1.0 at a close of 12: 8.3% of the price.
    for min_gap, count in ((0.08, 1), (0.09, 0)):
        gaps = fair_value_gaps(FVG["high"], FVG["low"], FVG["close"], min_gap=min_gap)
        assert gaps["fvg_bull"].sum() == count


def test_range_position_and_bars_since():
    close = pd.Series([5.0, 10, 15, 7])
    high = pd.Series([20.0, 20, 20, 7])
    low = pd.Series([0.0, 0, 0, 7])  # last candle: empty range (flat prices)
    assert_values(range_position(close, high, low), [0.25, 0.5, 0.75, NAN])
    assert_values(bars_since(pd.Series([False, True, False, False, True, False])),
                  [NAN, 0, 1, 2, 0, 1])


def test_flat_prices_and_zero_volume_do_not_signal():
    df = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 0.0},
                      index=range(300))
    f = smc_features(df)
    flags = ["bos", "choch", "fvg_bull", "fvg_bear", "ob_bull", "ob_bear", "sweep_bull",
             "sweep_bear"]
    assert (f[flags] == 0).all().all()
    assert f[["swing_high", "swing_low", "range_position"]].isna().all().all()
    assert len(smc_features(df.iloc[:3])) == 3  # shorter than any window: no crash, no signal


def _random_walk(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    close[n // 3: n // 3 + 40] = close[n // 3]  # a flat stretch
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.002, n))  # gaps between candles
    high = np.maximum(open_, close) * (1 + rng.exponential(0.002, n))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.002, n))
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close})


@pytest.mark.parametrize("source", ["btc_15m", "random_walk"])
def test_appending_future_candles_never_changes_past_values(source):
    if source == "btc_15m":
        df = pd.read_feather(USER_DATA / "data" / "binance" / "BTC_USDT-15m.feather").iloc[:3000]
    else:
        df = _random_walk(3000, seed=7)
    kwargs = dict(left=3, right=3, fvg_min_gap=0.0005, fvg_max_age=48, ob_lookback=10)
    full = smc_features(df, **kwargs)
    assert full["bos"].abs().sum() > 10 and full["fvg_bull"].sum() > 10  # the data has events
    assert full["sweep_bull"].sum() > 3 and full["ob_bull_mitigated"].sum() > 3
    for cut in (50, 701, 1500, 2999):
        past = smc_features(df.iloc[:cut], **kwargs)
        pd.testing.assert_frame_equal(past, full.iloc[:cut])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: swing_points(s, s, left=0), "left"),
        (lambda s: swing_points(s, s, right=-1), "right"),
        (lambda s: swing_points(s, s, left=2.5), "left"),
        (lambda s: fair_value_gaps(s, s, s, max_age=0), "max_age"),
        (lambda s: fair_value_gaps(s, s, s, min_gap=1.5), "min_gap"),
        (lambda s: order_blocks(s, s, s, s, s, lookback=0), "lookback"),
        (lambda s: swing_points(s, s.reset_index(drop=True)), "same index"),
        (lambda s: smc_features(pd.DataFrame({"close": s})), "OHLC"),
    ],
)
def test_invalid_parameters_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call(pd.Series([1.0, 2.0, 3.0], index=[5, 6, 7]))


# --- the strategy on hand-made and real frames (no freqtrade run: a fake data provider) ----------

INFORMATIVE_RULES = {"1h": "1h", "4h": "4h", "1d": "1D"}


class _FakeDataProvider:
    """Serves informative candles: the bundled files of ``pair``, else resampled from ``base``."""

    def __init__(self, base: pd.DataFrame, pair: str | None = None):
        ohlcv = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
        if pair:
            data = USER_DATA / "data" / "binance"
            self.frames = {tf: pd.read_feather(data / f"{pair}-{tf}.feather")
                           for tf in INFORMATIVE_RULES}
            return
        self.frames = {
            tf: base.set_index("date").resample(rule, label="left", closed="left").agg(ohlcv)
            .dropna().reset_index()
            for tf, rule in INFORMATIVE_RULES.items()
        }

    def market(self, pair):
        return {"base": pair.split("/")[0], "quote": "USDT"}

    def get_pair_dataframe(self, pair, timeframe, candle_type=""):
        return self.frames[timeframe].copy()


def _analyze(base: pd.DataFrame, informative_pair: str | None = None) -> pd.DataFrame:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "SmcStructure", USER_DATA / "strategies" / "SmcStructure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    strategy = module.SmcStructure({"stake_currency": "USDT", "candle_type_def": "spot"})
    strategy.dp = _FakeDataProvider(base, informative_pair)
    meta = {"pair": "ETH/USDT"}
    df = strategy.advise_indicators(base.copy(), meta)
    return strategy.advise_exit(strategy.advise_entry(df, meta), meta)


def _eth_15m(n: int) -> pd.DataFrame:
    return pd.read_feather(USER_DATA / "data" / "binance" / "ETH_USDT-15m.feather").iloc[:n]


def test_strategy_entries_carry_a_valid_stop_and_a_near_signal_price():
    out = _analyze(_eth_15m(6000), informative_pair="ETH_USDT")
    entries = out[out["enter_long"] == 1]
    assert len(entries) >= 3
    risk = (entries["close"] - entries["smc_stop"]) / entries["close"]
    assert ((risk >= 0.003) & (risk <= 0.04)).all()  # default min_risk / max_risk
    assert (entries["close"] <= entries["tapped_top"] * 1.02).all()  # <= 2% from the FVG top
    assert (entries["fvg_bull_tap"] == 1).all()
    assert (entries["trend_4h"] == 1).all() and (entries["trend_1d"] == 1).all()
    assert (entries["range_position_1h"] <= 0.5).all()


@pytest.mark.parametrize("case", ["flat_zero_volume", "short_history", "gaps"])
def test_strategy_never_crashes_and_stays_quiet_without_structure(case):
    if case == "flat_zero_volume":
        base = _eth_15m(2000)
        base = base.assign(open=100.0, high=100.0, low=100.0, close=100.0, volume=0.0)
    elif case == "short_history":
        base = _eth_15m(30)
    else:
        base = _eth_15m(3000)
        base = base.drop(base.index[500:900]).drop(base.index[1500::7]).reset_index(drop=True)
    out = _analyze(base)
    assert len(out) == len(base)
    if case != "gaps":
        assert out["enter_long"].fillna(0).sum() == 0
