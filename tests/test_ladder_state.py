"""Ladder state in trade custom data (plugins.strategy.ladder_state), including a dry-run DB restart."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from plugins.strategy.ladder_state import (
    LADDER_KEY,
    LadderStore,
    exit_stake,
    ladder_from_dict,
    ladder_stoploss,
    ladder_to_dict,
    last_closed_candle,
    load_ladder,
    order_tag,
    parse_order_tag,
)
from plugins.quant.ladders import DcaLadder, GridLadder


def grid() -> GridLadder:
    return GridLadder.start(100.0, 2.5, amount=2.0).after_buy(1).after_sell(2)


def dca() -> DcaLadder:
    return DcaLadder.start(100.0, 1.0, 0.05, 0.04, 0.2, max_steps=3).after_buy(95.0, 100 / 95)


def test_dict_round_trip_and_headline_numbers():
    g, d = grid(), dca()
    assert ladder_from_dict(ladder_to_dict(g)) == g
    assert ladder_from_dict(ladder_to_dict(d)) == d
    gd, dd = ladder_to_dict(g), ladder_to_dict(d)
    assert (gd["kind"], gd["next_buy"], gd["next_sell"]) == ("grid", 97.5, 102.5)
    assert dd["kind"] == "dca" and dd["next_buy"] == pytest.approx(90.25)
    assert dd["avg_entry"] == pytest.approx(200 / (1 + 100 / 95))
    assert dd["next_sell"] == pytest.approx(dd["avg_entry"] * 1.04)
    with pytest.raises(ValueError, match="not a stored ladder"):
        ladder_from_dict({"kind": "martingale"})


def test_order_tags():
    assert order_tag("grid", "buy", 3) == "grid:buy:3"
    assert parse_order_tag("grid:sell:4", "grid") == ("sell", 4)
    assert parse_order_tag("dca:sell", "dca") == ("sell", None)
    assert parse_order_tag("dca:buy:2", "grid") is None
    assert parse_order_tag("grid:buy:x", "grid") is None
    assert parse_order_tag(None, "grid") is None


def test_exit_stake_converts_amount_to_freqtrade_stake():
    trade = SimpleNamespace(amount=2.0, stake_amount=200.0)
    assert exit_stake(trade, 0.5) == pytest.approx(-50.0)
    assert exit_stake(trade, 2.0) == -200.0 and exit_stake(trade, 3.0) == -200.0


def test_ladder_stoploss_lands_on_the_absolute_stop():
    trade = SimpleNamespace(open_rate=100.0)
    assert ladder_stoploss(trade, 90.0, 95.0, after_fill=False) == pytest.approx(1 - 90 / 95)
    # After a fill below the average, the ratio is taken against the average (applied last).
    assert ladder_stoploss(trade, 90.0, 95.0, after_fill=True) == pytest.approx(0.1)
    assert ladder_stoploss(trade, 0.0, 95.0, after_fill=False) is None


def test_store_caches_by_trade_id_and_clears_when_a_new_backtest_starts():
    class FakeTrade:
        def __init__(self, data):
            self.id, self.data, self.reads = 1, data, 0

        def set_custom_data(self, key, value):
            self.data[key] = value

        def get_custom_data(self, key, default=None):
            self.reads += 1
            return self.data.get(key, default)

    store = LadderStore()
    store.on_loop(datetime(2025, 3, 1, 0, tzinfo=UTC))
    first = FakeTrade({})
    store.put(first, grid())
    copy = FakeTrade(first.data)  # freqtrade passes deep copies of the trade to callbacks
    store.on_loop(datetime(2025, 3, 1, 1, tzinfo=UTC))
    assert store.get(copy) == grid() and copy.reads == 0  # served from the cache
    # Time going back = a new backtest / hyperopt epoch: trade id 1 is another trade now.
    store.on_loop(datetime(2025, 3, 1, 0, tzinfo=UTC))
    other = FakeTrade({})
    assert store.get(other) is None and other.reads == 1
    store.put(other, dca())
    store.forget(other)
    assert store.get(other) == dca() and other.reads == 2  # re-read from the custom data


def test_ladder_survives_a_dry_run_database_restart(tmp_path):
    from freqtrade.persistence import Trade, init_db
    from freqtrade.persistence.custom_data import CustomDataWrapper

    url = f"sqlite:///{tmp_path / 'tradesv3.dryrun.sqlite'}"
    init_db(url)
    try:
        assert CustomDataWrapper.use_db
        trade = Trade(pair="BTC/USDT", stake_amount=100.0, amount=0.001, amount_requested=0.001,
                      open_rate=100000.0, fee_open=0.001, fee_close=0.001, exchange="binance",
                      open_date=datetime(2025, 3, 1, tzinfo=UTC), is_open=True)
        Trade.session.add(trade)
        Trade.session.commit()
        LadderStore().put(trade, grid())
        Trade.commit()
        trade_id = trade.id

        # "Restart": drop every session and the engine, then open the same file again.
        Trade.session.remove()
        Trade.session.get_bind().dispose()
        init_db(url)
        reloaded = Trade.get_trades_proxy(is_open=True)
        assert [t.id for t in reloaded] == [trade_id]
        assert reloaded[0] is not trade
        assert load_ladder(reloaded[0]) == grid()
        # A fresh strategy (empty cache) resumes the very same ladder and can move it on.
        store = LadderStore()
        ladder = store.get(reloaded[0])
        assert ladder == grid() and ladder.buy_price == 97.5 and ladder.realised_profit > 0
        store.put(reloaded[0], ladder.after_buy(1))
        assert reloaded[0].get_custom_data(LADDER_KEY)["empty_index"] == 1
    finally:
        Trade.session.remove()
        Trade.session.get_bind().dispose()
        init_db("sqlite://")


def test_ladder_orders_are_placed_only_within_freqtrades_price_distance():
    from plugins.strategy.ladder_strategy import LadderStrategyMixin

    mixin = LadderStrategyMixin.__new__(LadderStrategyMixin)
    mixin.config = {}
    assert mixin.in_reach(98.0, 100.0) and mixin.in_reach(102.0, 100.0)
    assert not mixin.in_reach(97.9, 100.0)
    mixin.config = {"custom_price_max_distance_ratio": 0.05}
    assert mixin.in_reach(95.5, 100.0)


def test_last_closed_candle_reads_the_last_row_column_by_column():
    import pandas as pd

    frame = pd.DataFrame({"atr": [1.0, 2.5], "regime_active": ["RANGE", "BULL_TREND"]})
    dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (frame, None))
    row = last_closed_candle(dp, "BTC/USDT", "1h")
    assert row["atr"] == 2.5 and row.get("regime_active") == "BULL_TREND"
    assert row.get("missing", 0) == 0
    empty = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (pd.DataFrame(), None))
    assert last_closed_candle(empty, "BTC/USDT", "1h") is None
    assert last_closed_candle(None, "BTC/USDT", "1h") is None
