"""GridTrader and DcaTrader: a short offline backtest shows the ladders working through freqtrade.

One freqtrade run backtests both strategies (--strategy-list) on 3 pairs for 10 days; the exported
trades must show position adjustments at the ladder prices.
"""

import json
import shutil

import pytest

from tests.conftest import CONFIG, STRATEGY_DIR, error_lines, run_freqtrade


@pytest.fixture(scope="module")
def trades(tmp_path_factory):
    from freqtrade.data.btanalysis import load_backtest_data

    out = tmp_path_factory.mktemp("bt")
    # Copies of the strategies with a freqtrade parameter file that turns grid re-centring off, so
    # the exported orders follow one fixed grid per trade (re-centring is tested in test_ladders).
    strategies = tmp_path_factory.mktemp("strategies")
    for name in ("GridTrader", "DcaTrader"):
        shutil.copy(STRATEGY_DIR / f"{name}.py", strategies / f"{name}.py")
    (strategies / "GridTrader.json").write_text(json.dumps(
        {"strategy_name": "GridTrader", "params": {"buy": {"recentre": False}}}
    ))
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", "user_data",
        "--strategy-path", str(strategies),
        "--strategy-list", "GridTrader", "DcaTrader", "--timeframe", "1h", "--timerange", "20250515-20250601",
        "--pairs", "BTC/USDT", "ETH/USDT", "SOL/USDT", "--export", "trades",
        "--backtest-directory", str(out), "--cache", "none",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert error_lines(output) == []
    assert "Strategy caused the following exception" not in output, output[-3000:]
    return {name: load_backtest_data(out, strategy=name) for name in ("GridTrader", "DcaTrader")}


def test_grid_trades_buy_and_sell_on_the_grid(trades):
    grid = trades["GridTrader"]
    orders = [o for t in grid["orders"] for o in t]
    tags = [o["ft_order_tag"] or "" for o in orders]
    buys = [o for o, tag in zip(orders, tags) if tag.startswith("grid:buy:")]
    sells = [o for o, tag in zip(orders, tags) if tag.startswith("grid:sell:")]
    assert buys and sells, sorted(set(tags))
    assert all(o["ft_is_entry"] for o in buys) and not any(o["ft_is_entry"] for o in sells)
    # A trade that ends on a grid sell sold its last lot at the top line.
    assert (grid["exit_reason"].str.startswith("grid:sell:")).any()
    # One fixed grid per trade: every grid buy fills below the trade's last start/sell fill (buys
    # sit below price; a buy may fill below its line when a candle opens lower), and every sell at
    # line i fills above the last buy at line i-1 (profit per grid).
    paired = 0
    for trade_orders in grid["orders"]:
        last_buy: dict[int, float] = {}
        last_start_or_sell = trade_orders[0]["safe_price"]
        for order in trade_orders[1:]:
            tag = order["ft_order_tag"] or ""
            assert tag != "grid:recentre"
            if tag.startswith("grid:buy:"):
                assert order["safe_price"] < last_start_or_sell, tag
            else:
                last_start_or_sell = order["safe_price"]
            if tag.startswith("grid:buy:"):
                last_buy[int(tag.rsplit(":", 1)[1])] = order["safe_price"]
            elif tag.startswith("grid:sell:") and int(tag.rsplit(":", 1)[1]) - 1 in last_buy:
                assert order["safe_price"] > last_buy[int(tag.rsplit(":", 1)[1]) - 1], tag
                paired += 1
    assert paired > 0


def test_dca_adds_below_the_last_buy_and_takes_profit_on_the_whole_position(trades):
    dca = trades["DcaTrader"]
    adds = 0
    for trade_orders in dca["orders"]:
        entries = [o for o in trade_orders if o["ft_is_entry"]]
        assert len(entries) <= 1 + 6  # initial + max_entry_position_adjustment
        for prev, order in zip(entries, entries[1:]):
            assert order["ft_order_tag"].startswith("dca:buy:")
            assert order["safe_price"] < prev["safe_price"]  # each safety order below the last buy
            adds += 1
    assert adds > 0
    tp = dca[dca["exit_reason"] == "dca:sell"]
    assert len(tp) > 0 and (tp["profit_ratio"] > 0).all()


@pytest.mark.parametrize("name", ["GridTrader", "DcaTrader"])
def test_short_or_flat_history_gives_no_signal(name):
    import numpy as np
    import pandas as pd
    from freqtrade.resolvers import StrategyResolver

    from tests.conftest import STRATEGY_DIR, USER_DATA

    from freqtrade.enums import CandleType

    # The gate is off so the strategy's own rules meet the short / flat candles (without the
    # informative merge the gate alone would already refuse every entry).
    strategy = StrategyResolver.load_strategy(
        {"strategy": name, "strategy_path": str(STRATEGY_DIR), "user_data_dir": USER_DATA,
         "stake_currency": "USDT", "dry_run": True, "max_open_trades": 5, "stake_amount": "unlimited",
         "candle_type_def": CandleType.SPOT, "pack_market_gate": {"enabled": False}}
    )
    dates = pd.date_range("2025-03-01", periods=40, freq="1h", tz="UTC")
    flat = pd.DataFrame({"date": dates, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0,
                         "volume": 0.0})
    short = flat.iloc[:5].assign(close=np.linspace(1, 2, 5), high=2.0, volume=10.0)
    for frame in (flat, short):  # freqtrade itself never analyses an empty frame
        out = strategy.advise_entry(strategy.populate_indicators(frame.copy(), {"pair": "BTC/USDT"}),
                                    {"pair": "BTC/USDT"})
        assert out.get("enter_long", pd.Series(dtype=float)).fillna(0).sum() == 0


def test_dca_take_profit_rests_until_a_safety_buy_is_due():
    """Freqtrade keeps one open order per trade: a resting take profit would block the safety buy
    that price reached, so the TP is stale as soon as that buy is due at the last close."""
    import sys
    from datetime import UTC, datetime
    from types import SimpleNamespace

    import pandas as pd
    from freqtrade.enums import CandleType

    from plugins.quant.ladders import DcaLadder
    from plugins.strategy.ladder_state import order_tag

    sys.path.insert(0, str(STRATEGY_DIR))
    try:
        from DcaTrader import DcaTrader
    finally:
        sys.path.remove(str(STRATEGY_DIR))
    strategy = DcaTrader({"candle_type_def": CandleType.SPOT, "stake_currency": "USDT"})
    # first buy at 100: next trigger 95 (5 %), take profit 104 (4 %), stop 80
    ladder = DcaLadder.start(100.0, 1.0, 0.05, 0.04, 0.2, max_steps=3)
    trade = SimpleNamespace(id=1, pair="BTC/USDT", get_custom_data=lambda key, default=None: None,
                            set_custom_data=lambda key, value: None)
    strategy.ladders.put(trade, ladder)
    tp_order = SimpleNamespace(ft_order_tag=order_tag("dca", "sell"), safe_price=ladder.take_profit,
                               order_date_utc=datetime(2025, 3, 1, tzinfo=UTC))

    def stale_at(close: float, confirm: int) -> bool:
        frame = pd.DataFrame({"close": [close], "dca_confirm": [confirm]})
        strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (frame, None))
        return strategy.check_exit_timeout("BTC/USDT", trade, tp_order, datetime(2025, 3, 2, tzinfo=UTC))

    assert not stale_at(101.0, 1)  # above the trigger: the TP keeps resting
    assert not stale_at(94.0, 0)   # below it but not confirmed: no buy due, the TP rests
    assert stale_at(94.0, 1)       # a confirmed candle below the trigger: cancel, the buy goes out
    assert stale_at(95.0, 1)       # the trigger itself counts
