"""RegimeHybrid: routing arithmetic (plugins.quant.hybrid_routing) on hand-made columns, the strategy's
populate_* methods on a constructed dataframe (never a trend entry in BEAR_TREND), risk-gate stake
scaling through custom_stake_amount, and a short offline backtest."""

import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from plugins.quant.hybrid_routing import (
    REGIME_PLOT_CODES,
    allowed_logics,
    entry_stake_multiplier,
    logic_of_tag,
    reduce_exposure,
    regime_of_tag,
    regime_plot_code,
    route_entries,
    scale_stake,
)
from tests.conftest import CONFIG, STRATEGY_DIR, error_lines, run_freqtrade


REGIME_ROWS = ["TIGHT_RANGE", "WIDE_RANGE", "QUIET_TRANSITION", "VOLATILE_TRANSITION",
               "BULL_TREND", "BEAR_TREND", "UNDEFINED"]


# --- routing arithmetic ----------------------------------------------------------------------------


def test_allowed_logics_follow_the_playbooks():
    allowed = allowed_logics(pd.Series(REGIME_ROWS + [None]))
    assert allowed["grid"].tolist() == [True, True, False, False, True, False, False, False]
    assert allowed["dca"].tolist() == [False, False, False, False, True, True, False, False]
    assert allowed["trend"].tolist() == [False, False, False, False, True, False, False, False]


def test_entry_stake_multiplier_is_the_risk_gate_of_the_active_regime():
    active = pd.Series(["TIGHT_RANGE", "WIDE_RANGE", "QUIET_TRANSITION", "VOLATILE_TRANSITION",
                        "BULL_TREND", "BULL_TREND", "BULL_TREND", "BEAR_TREND", "UNDEFINED"])
    label = active.copy()
    label[6] = "QUIET_TRANSITION"  # a pending switch: the active BULL_TREND is not confirmed now
    confidence = pd.Series([0.9, 0.9, 0.9, 0.9, 0.7, 0.6, 0.9, 0.9, 0.0])
    mult = entry_stake_multiplier(label, confidence, active, min_confidence=0.65)
    # risk_on 1.0; risk_small 0.5 (WIDE, BEAR, or risk_on below 0.65 / unconfirmed); else 0.
    assert mult.tolist() == [1.0, 0.5, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.0]


def test_route_entries_priority_tags_and_bear_never_trend():
    active = pd.Series(["BULL_TREND", "BULL_TREND", "BULL_TREND", "BEAR_TREND", "BEAR_TREND",
                        "TIGHT_RANGE", "QUIET_TRANSITION", "WIDE_RANGE"])
    trend = pd.Series([True, False, False, True, True, True, True, np.nan])
    dca = pd.Series([True, True, False, True, False, True, True, False])
    grid = pd.Series([True, True, True, True, True, True, True, True])
    mult = pd.Series([1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 0.0, 0.0])  # WIDE forced to 0: gate closed
    enter, tag = route_entries(active, {"trend": trend, "dca": dca, "grid": grid}, mult)
    assert enter.tolist() == [True, True, True, True, False, True, False, False]
    assert tag.tolist() == ["BULL_TREND:trend", "BULL_TREND:dca", "BULL_TREND:grid",
                            "BEAR_TREND:dca", None, "TIGHT_RANGE:grid", None, None]
    assert not tag.fillna("").str.startswith("BEAR_TREND:trend").any()


def test_route_entries_disabled_narrows_a_playbook():
    active = pd.Series(["BULL_TREND", "BULL_TREND", "TIGHT_RANGE"])
    signals = {"grid": pd.Series([True, True, True]), "dca": pd.Series([False, True, False])}
    enter, tag = route_entries(active, signals, pd.Series([1.0, 1.0, 1.0]),
                               disabled={"BULL_TREND": ("grid",)})
    assert enter.tolist() == [False, True, True]
    assert tag.tolist() == [None, "BULL_TREND:dca", "TIGHT_RANGE:grid"]
    with pytest.raises(ValueError, match="unknown regime"):
        route_entries(active, signals, pd.Series([1.0] * 3), disabled={"SIDEWAYS": ("grid",)})


def test_route_entries_validates_its_inputs():
    active = pd.Series(["BULL_TREND"])
    with pytest.raises(ValueError, match="logic must be one of"):
        route_entries(active, {"scalp": pd.Series([True])}, pd.Series([1.0]))
    with pytest.raises(ValueError, match="rows"):
        route_entries(active, {"grid": pd.Series([True, True])}, pd.Series([1.0]))
    with pytest.raises(ValueError, match="priority"):
        route_entries(active, {"grid": pd.Series([True])}, pd.Series([1.0]), priority=("grid",))


def test_reduce_exposure_only_in_risk_off():
    assert reduce_exposure(pd.Series(REGIME_ROWS)).tolist() == [False, False, False, True, False, False, False]


def test_tags_codes_and_stake_scaling():
    assert logic_of_tag("BEAR_TREND:dca") == "dca"
    assert regime_of_tag("BEAR_TREND:dca") == "BEAR_TREND"
    assert logic_of_tag("ema_bb_breakout") is None and logic_of_tag(None) is None
    assert logic_of_tag("BULL_TREND:scalp") is None and regime_of_tag("NOPE:grid") is None
    assert regime_plot_code(pd.Series(REGIME_ROWS + [None])).tolist() == [1, 2, 3, 4, 5, 6, 0, 0]
    assert REGIME_PLOT_CODES["UNDEFINED"] == 0
    assert scale_stake(200.0, 0.5) == 100.0
    assert scale_stake(200.0, 0.0) == 0.0 and scale_stake(200.0, float("nan")) == 0.0
    assert scale_stake(float("nan"), 1.0) == 0.0
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        scale_stake(200.0, 1.5)


# --- the strategy's populate_* and hooks on constructed data ---------------------------------------


@pytest.fixture(scope="module")
def strategy():
    from freqtrade.enums import CandleType

    sys.path.insert(0, str(STRATEGY_DIR))
    try:
        from RegimeHybrid import RegimeHybrid
    finally:
        sys.path.remove(str(STRATEGY_DIR))
    return RegimeHybrid({"candle_type_def": CandleType.SPOT, "stake_currency": "USDT"})


def signal_frame(regimes, rsi=30.0, market_state=3):
    """Rows on which EmaBbTrend's trend entry fires (fresh EMA cross, close above the band, volume,
    NATR, trend score) and, with rsi <= 35, DcaTrader's dip entry too; the grid template is valid.
    ``market_state`` is the market gate's state on every row (3 = risk_on)."""
    n = len(regimes)
    return pd.DataFrame({
        "date": pd.date_range("2025-03-01", periods=n, freq="1h", tz="UTC"),
        "open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": 1000.0,
        "volume_mean": 100.0, "bb_mid": 95.0, "bb_std": 1.0, "cross_age": 3, "rsi": rsi,
        "natr": 0.01, "atr": 1.0, "adx": 40.0, "trend_score": 0.5, "ema_fast": 101.0, "ema_slow": 100.0,
        "regime": regimes, "regime_active": regimes, "regime_confidence": 0.8,
        "grid_range": [int(r in ("TIGHT_RANGE", "WIDE_RANGE")) for r in regimes],
        "market_state": market_state,
    })


def test_bear_trend_never_opens_a_trend_entry(strategy):
    meta = {"pair": "BTC/USDT"}
    # Only the trend signal fires (RSI 50: no DCA dip): BEAR_TREND must not enter at all.
    df = strategy.populate_entry_trend(signal_frame(["BEAR_TREND"] * 3 + ["BULL_TREND"], rsi=50.0), meta)
    assert df["enter_long"].tolist() == [0, 0, 0, 1]
    assert df["enter_tag"].tolist() == [None, None, None, "BULL_TREND:trend|risk_on"]
    # Every signal fires: each regime routes to its playbook, BEAR_TREND to DCA.
    regimes = ["BEAR_TREND", "BULL_TREND", "TIGHT_RANGE", "WIDE_RANGE", "QUIET_TRANSITION",
               "VOLATILE_TRANSITION"]
    df = strategy.populate_entry_trend(signal_frame(regimes), meta)
    assert df["enter_tag"].tolist() == ["BEAR_TREND:dca|risk_on", "BULL_TREND:trend|risk_on",
                                        "TIGHT_RANGE:grid|risk_on", "WIDE_RANGE:grid|risk_on", None, None]
    assert df["entry_stake_mult"].tolist() == [0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    df = strategy.populate_exit_trend(df, meta)
    assert df["exit_tag"].tolist() == [None] * 5 + ["regime_risk_off"]
    assert df["trend_exit"].tolist() == [0] * 6  # ema_fast above ema_slow: no trend exit


def test_market_gate_overrides_every_playbook(strategy):
    """risk_off (0): no logic enters in any regime and every open trade gets the gate's exit;
    risk_small (2): entries stay, tagged for half size."""
    meta = {"pair": "BTC/USDT"}
    regimes = ["BEAR_TREND", "BULL_TREND", "TIGHT_RANGE", "WIDE_RANGE"]
    df = strategy.populate_entry_trend(signal_frame(regimes, market_state=0), meta)
    assert df["enter_long"].tolist() == [0, 0, 0, 0]
    df = strategy.populate_exit_trend(df, meta)
    assert df["exit_long"].tolist() == [1, 1, 1, 1]
    assert set(df["exit_tag"]) == {"market_risk_off"}
    df = strategy.populate_entry_trend(signal_frame(regimes, market_state=2), meta)
    assert df["enter_tag"].tolist() == ["BEAR_TREND:dca|risk_small", "BULL_TREND:trend|risk_small",
                                        "TIGHT_RANGE:grid|risk_small", "WIDE_RANGE:grid|risk_small"]


def test_custom_stake_amount_scales_each_logic_by_the_risk_gate(strategy):
    def stake(tag, mult):
        frame = signal_frame(["BULL_TREND"]).assign(entry_stake_mult=mult)
        strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (frame, None))
        strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: 1000.0)
        strategy.bot_start()
        return strategy.custom_stake_amount("BTC/USDT", None, 100.0, 200.0, 5.0, 1000.0, 1.0, tag, "long")

    # A ladder's budget = min(proposed 200, its 15 % share of 1000) = 150.
    # DCA: initial order of a 4-step ladder = 150 / 5 = 30, x 0.5.
    assert stake("BEAR_TREND:dca", 0.5) == pytest.approx(15.0)
    # Grid: ATR 1 -> lines 98..102 (5), start at 100 holds 2 of 4 lots = 75, x 0.5.
    assert stake("WIDE_RANGE:grid", 0.5) == pytest.approx(37.5)
    # Trend: 1% of 1000 risked on a 2 x ATR stop = 500, capped at 20% of equity = 200, x 1.0.
    assert stake("BULL_TREND:trend", 1.0) == pytest.approx(200.0)
    assert stake("QUIET_TRANSITION:grid", 0.0) == 0.0
    assert stake("no_logic_tag", 1.0) == 0.0


def test_ladder_share_reaches_both_delegates(strategy):
    """grid_max_ladder_share / dca_max_ladder_share cap each delegate's ladder (within_budget)."""
    grid, dca = strategy._ladder_logic["grid"], strategy._ladder_logic["dca"]
    strategy.bot_loop_start(current_time=None)
    # Both ladders default to 15 % here, whatever GridTrader's (5 %) and DcaTrader's (20 %) own are.
    assert (grid.max_ladder_share.value, dca.max_ladder_share.value) == (0.15, 0.15)
    strategy.grid_max_ladder_share.value, strategy.dca_max_ladder_share.value = 0.1, 0.3
    try:
        strategy.bot_loop_start(current_time=None)
        assert (grid.max_ladder_share.value, dca.max_ladder_share.value) == (0.1, 0.3)
        wallets = SimpleNamespace(get_total_stake_amount=lambda: 1000.0)
        grid.wallets = dca.wallets = wallets
        trade = SimpleNamespace(amount=0.5)  # 0.5 coin held at 100 = 50 of the 1000 equity
        assert grid.within_budget(trade, 50.0, 100.0) and not grid.within_budget(trade, 50.1, 100.0)
        assert dca.within_budget(trade, 250.0, 100.0) and not dca.within_budget(trade, 250.1, 100.0)
    finally:
        strategy.grid_max_ladder_share.value = strategy.dca_max_ladder_share.value = 0.15
        strategy.bot_loop_start(current_time=None)


def test_trend_trades_keep_the_staged_plan_that_ema_bb_trend_drops(strategy):
    """EmaBbTrend takes no profit (its TP levels not searched) and caps a position at 20 % of
    equity; the hybrid, its subclass, keeps the staged plan for trend trades and no cap."""
    ema_bb_trend = type(strategy).__mro__[1]
    assert ema_bb_trend.__name__ == "EmaBbTrend"
    levels = ("exit_tp1_atr", "exit_tp2_extra_atr", "exit_trail_atr")
    assert not ema_bb_trend.take_profits and ema_bb_trend.position_adjustment_enable
    assert ema_bb_trend.position_max_share.value == 0.2 and strategy.position_max_share.value == 0.0
    assert not any(getattr(ema_bb_trend, name).optimize for name in levels)
    assert strategy.take_profits and strategy.position_adjustment_enable
    assert all(getattr(strategy, name).optimize for name in levels)
    assert all(getattr(strategy, name) is not getattr(ema_bb_trend, name) for name in levels)


# --- offline backtest ----------------------------------------------------------------------------


def test_offline_backtest_routes_trades_by_regime(tmp_path):
    from freqtrade.data.btanalysis import load_backtest_stats

    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", "user_data", "--strategy", "RegimeHybrid",
        "--timerange", "20250505-20250520", "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT",
        "--export", "trades", "--backtest-directory", str(tmp_path), "--cache", "none", timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert error_lines(output) == []
    assert "Strategy caused the following exception" not in output, output[-3000:]
    trades = load_backtest_stats(tmp_path)["strategy"]["RegimeHybrid"]["trades"]
    assert len(trades) > 0
    tags = {t["enter_tag"] for t in trades}
    assert all(regime_of_tag(tag) and logic_of_tag(tag) for tag in tags), tags
    assert not any(regime_of_tag(tag) == "BEAR_TREND" and logic_of_tag(tag) == "trend" for tag in tags)
    # Ladder trades really run their ladders (position adjustments with ladder order tags).
    ladder_orders = [o["ft_order_tag"] for t in trades for o in t["orders"]
                     if (o["ft_order_tag"] or "").startswith(("grid:", "dca:"))]
    assert ladder_orders
