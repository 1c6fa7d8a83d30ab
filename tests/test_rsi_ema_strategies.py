"""RSI / EMA strategies: entry-filter blocks, the per-pair EMA table, and an offline backtest
showing the staged exits (TP1 partial exits, then TP2 / break-even / trailing) really happen."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from plugins.quant.entry_filters import bars_in_zone, mature_history
from plugins.quant.pair_params import (
    PairTable,
    fit_cross_emas,
    load_pair_table,
    pair_setting,
    pair_tables_of,
)
from tests.conftest import CONFIG, STRATEGY_DIR, USER_DATA, error_lines, run_freqtrade


def test_bars_in_zone_counts_consecutive_candles():
    mask = pd.Series([False, True, True, np.nan, True, True, True, False])
    assert bars_in_zone(mask).tolist() == [0, 1, 2, 0, 1, 2, 3, 0]


def test_mature_history_rolling_share():
    volume = pd.Series([5.0, 0, 3, 4, 2, 1])
    assert mature_history(volume, 3).tolist() == [False, False, False, False, True, True]
    assert mature_history(volume, 3, min_valid_share=0.6).tolist() == [False, False, True, True, True, True]
    with pytest.raises(ValueError, match="candles"):
        mature_history(volume, 0)


def test_committed_ema_table_covers_the_whitelist():
    pairs = json.loads(CONFIG.read_text())["exchange"]["pair_whitelist"]
    table = json.loads((STRATEGY_DIR / "ema_periods.json").read_text())
    assert table["fitted_on"]["timerange"] == "20240914-20250131"  # before the demo range
    for strategy, keys in {"RsiMeanReversion": ["ema"], "EmaBbTrend": ["ema_fast", "ema_slow"]}.items():
        section = load_pair_table(STRATEGY_DIR / "ema_periods.json", strategy)
        for pair in pairs:
            periods = [pair_setting(section, pair, key) for key in keys]
            assert all(p >= 2 for p in periods)
    fallback = PairTable(STRATEGY_DIR / "ema_periods.json", "EmaBbTrend")
    assert fallback.get("NOT/LISTED", "ema_slow") == table["EmaBbTrend"]["default"]["ema_slow"]


def test_pair_table_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_pair_table(tmp_path / "missing.json", "X")
    (tmp_path / "t.json").write_text('{"X": {"default": {"ema": 1}}}')
    with pytest.raises(ValueError, match="integer >= 2"):
        PairTable(tmp_path / "t.json", "X").get("BTC/USDT", "ema")


def test_a_replaced_pair_table_is_read_in_the_block_and_the_file_after(tmp_path):
    (tmp_path / "t.json").write_text('{"X": {"default": {"ema": 100}, "pairs": {"BTC/USDT": {"ema": 50}}}}')
    table = PairTable(tmp_path / "t.json", "X")
    with table.replaced_by({"default": {"ema": 100}, "pairs": {"BTC/USDT": {"ema": 200}}}):
        assert table.get("BTC/USDT", "ema") == 200
        assert table.get("ETH/USDT", "ema") == 100
    assert table.get("BTC/USDT", "ema") == 50


def test_pair_tables_of_a_subclass_lists_each_inherited_table_once(tmp_path):
    own, inherited = PairTable(tmp_path / "a.json", "A"), PairTable(tmp_path / "b.json", "B")
    Parent = type("Parent", (), {"periods": inherited})
    Child = type("Child", (Parent,), {"own": own, "same": inherited})
    assert pair_tables_of(Child()) == [own, inherited]
    assert pair_tables_of(object()) == []


def test_cross_fit_picks_the_pair_with_best_forward_return():
    # A saw-tooth trend: every candidate crosses; the fit returns one of the candidates.
    close = pd.Series(100 + np.sin(np.arange(2000) / 40) * 10 + np.arange(2000) * 0.01)
    assert fit_cross_emas(pd.DataFrame({"close": close}), min_signals=3) in [(10, 30), (20, 50), (20, 100), (50, 100)]


def backtest_trades(strategy: str, tmp_path: Path) -> list[dict]:
    """The trades of an offline freqtrade backtest of ``strategy`` on 2025-03..06 (bundled data)."""
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", str(USER_DATA), "--strategy", strategy,
        "--timerange", "20250301-20250701", "--export", "trades", "--backtest-directory", str(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0 and not error_lines(result.stdout + result.stderr), result.stderr[-3000:]
    from freqtrade.data.btanalysis import load_backtest_stats

    trades = load_backtest_stats(tmp_path)["strategy"][strategy]["trades"]
    assert len(trades) > 0
    return trades


def test_offline_backtest_takes_partial_exits(tmp_path):
    trades = backtest_trades("RsiMeanReversion", tmp_path)
    partial = [(t, o) for t in trades for o in t["orders"] if not o["ft_is_entry"] and o["ft_order_tag"] == "tp1"]
    assert partial, "no TP1 partial exit in the backtest"
    for trade, order in partial:
        entry = next(o for o in trade["orders"] if o["ft_is_entry"])
        # TP1 sells half of the position (amount precision may round it down a little).
        assert order["amount"] == pytest.approx(entry["amount"] / 2, rel=0.02)
        assert trade["exit_reason"] in {"tp2", "trailing_stop_loss", "stop_loss", "break_even",
                                        "rsi_overbought", "market_risk_off", "force_exit"}


def test_ema_bb_trend_holds_until_the_trend_breaks_or_the_stop(tmp_path):
    """EmaBbTrend takes no profit: one closing exit per trade, by its signal, the gate or the hard
    stop; only the position cap may sell part of a winner before it."""
    trades = backtest_trades("EmaBbTrend", tmp_path)
    for trade in trades:
        exits = [o for o in trade["orders"] if not o["ft_is_entry"]]
        trims = [o for o in exits[:-1] if o["ft_order_tag"] == "position_cap"]
        assert len(trims) == len(exits) - 1
        assert exits[-1]["ft_order_tag"] not in {"tp1", "tp2", "break_even", "position_cap"}
        assert trade["exit_reason"] in {"ema_cross_down", "market_risk_off", "stop_loss",
                                        "trailing_stop_loss", "force_exit"}, trade["exit_reason"]
        if trade["exit_reason"] in {"stop_loss", "trailing_stop_loss"}:
            # The ATR hard stop below the entry, never a break-even or trailing stop above it.
            assert trade["close_rate"] < trade["open_rate"]


def tiny_datadir(tmp_path, candles: int, price) -> Path:
    """1h/4h/1d feather files for BTC/USDT: ``candles`` hourly candles of ``price(i)``, some with no volume."""
    datadir = tmp_path / "data"
    datadir.mkdir()
    hours = pd.date_range("2025-01-01", periods=candles, freq="1h", tz="UTC")
    close = pd.Series([float(price(i)) for i in range(candles)], index=hours)
    volume = pd.Series([0.0 if i % 5 == 0 else 10.0 for i in range(candles)], index=hours)
    for tf, rule in (("1h", "1h"), ("4h", "4h"), ("1d", "1D")):
        frame = pd.DataFrame({
            "open": close.resample(rule).first(), "high": close.resample(rule).max() * 1.0,
            "low": close.resample(rule).min(), "close": close.resample(rule).last(),
            "volume": volume.resample(rule).sum(),
        }).reset_index(names="date")
        frame.to_feather(datadir / f"BTC_USDT-{tf}.feather")
    return datadir


@pytest.mark.parametrize("strategy_name", ["RsiMeanReversion", "EmaBbTrend"])
@pytest.mark.parametrize("candles, price", [(30, lambda i: 100.0), (400, lambda i: 100.0 - i * 0.1)])
def test_short_flat_or_falling_history_does_not_crash_or_signal(strategy_name, candles, price, tmp_path):
    from freqtrade.configuration import Configuration
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.enums import RunMode
    from freqtrade.resolvers import StrategyResolver

    args = {"config": [str(CONFIG)], "user_data_dir": str(USER_DATA), "strategy": strategy_name,
            "datadir": str(tiny_datadir(tmp_path, candles, price))}
    config = Configuration(args, RunMode.BACKTEST).get_config()
    config["exchange"]["pair_whitelist"] = ["BTC/USDT"]
    strategy = StrategyResolver.load_strategy(config)
    # Candles come from the tiny datadir; the exchange stand-in only answers market look-ups.
    market = {"symbol": "BTC/USDT", "base": "BTC", "quote": "USDT"}
    strategy.dp = DataProvider(config, SimpleNamespace(markets={"BTC/USDT": market}))
    candles_1h = pd.read_feather(tmp_path / "data" / "BTC_USDT-1h.feather")
    analyzed = strategy.advise_all_indicators({"BTC/USDT": candles_1h})["BTC/USDT"]
    signals = strategy.advise_exit(strategy.advise_entry(analyzed, {"pair": "BTC/USDT"}), {"pair": "BTC/USDT"})
    assert len(signals) == candles
    assert {"atr", "trend_score", "htf_score", "trend_dir_4h", "vol_factor_1d"} <= set(signals.columns)
    if candles >= 400:  # enough 4h candles for the 4h EMA(50): the 4h vote is there, and "down"
        assert signals["trend_dir_4h"].iloc[-1] == -1
    assert signals.get("enter_long", pd.Series(dtype=float)).fillna(0).sum() == 0
