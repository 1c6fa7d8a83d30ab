"""Staged exit plan (plugins/quant/exits.py) on scripted price paths, and its freqtrade-hook wiring."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from freqtrade.strategy import BooleanParameter, DecimalParameter, stoploss_from_absolute
from plugins.quant.exits import ExitEvent, StagedExitPlan, atr_tp_sl
from plugins.strategy.staged_exits import (BREAK_EVEN_TAG, ENTRY_ATR_KEY, POSITION_CAP_TAG, TP1_TAG,
                                          TP2_TAG, StagedExitsMixin)


# entry 100, ATR 2: hard stop 96, TP1 103, TP2 108, trailing 3 behind the peak after TP1.
PLAN = StagedExitPlan(entry=100, atr=2, stop_atr=2, tp1_atr=1.5, tp2_atr=4, trail_atr=1.5, tp1_share=0.5)


def test_levels():
    assert (PLAN.initial_stop, PLAN.tp1, PLAN.tp2, PLAN.trail_distance) == (96, 103, 108, 3)
    tp, sl = atr_tp_sl(np.array([100.0, 50.0]), np.array([2.0, 1.0]), tp_atr=3, sl_atr=1.5)
    assert tp.tolist() == [106.0, 53.0] and sl.tolist() == [97.0, 48.5]
    assert atr_tp_sl(100.0, 2.0, 3, 1.5, is_short=True) == (94.0, 103.0)


def test_tp1_then_break_even_then_trailing_stop():
    state, events = PLAN.run_path([101, 103.5, 105, 104, 106.5, 103.4, 90], amount=10)
    # 103.5 >= TP1: sell 5; stop -> max(100, 103.5 - 3) = 100.5. Peak 105 -> 102, 106.5 -> 103.5.
    # 103.4 <= 103.5: the rest goes at 103.4; the path after the exit is ignored.
    assert events == [ExitEvent("tp1", 103.5, 5.0), ExitEvent("stop", 103.4, 5.0)]
    assert state.remaining == 0 and state.tp1_done and state.peak == 106.5


def test_stop_sequence_step_by_step():
    state = PLAN.start(10)
    stops = []
    for price in [101, 103.5, 105, 104, 106.5]:
        state, _ = PLAN.step(state, price)
        stops.append(PLAN.stop_price(state.tp1_done, state.peak))
    assert stops == [96, 100.5, 102, 102, 103.5]


def test_break_even_stop_with_fee_offset():
    plan = StagedExitPlan(entry=100, atr=2, stop_atr=2, tp1_atr=1.5, tp2_atr=4, trail_atr=1.5,
                          break_even_offset=0.002)
    # After TP1 at 103 the trailing stop (100.0) is below break-even (100.2): break-even holds.
    _, events = plan.run_path([103, 102, 100.3, 100.2], amount=4)
    assert events == [ExitEvent("tp1", 103, 2.0), ExitEvent("stop", 100.2, 2.0)]


def test_tp2_closes_the_rest():
    _, events = PLAN.run_path([104, 107.9, 108.5], amount=3)
    assert events == [ExitEvent("tp1", 104, 1.5), ExitEvent("tp2", 108.5, 1.5)]


def test_gap_through_tp1_and_tp2_sells_everything_at_tp2():
    _, events = PLAN.run_path([101, 109], amount=3)
    assert events == [ExitEvent("tp2", 109, 3.0)]


def test_hard_stop_before_tp1():
    state, events = PLAN.run_path([99, 97, 95.5], amount=10)
    assert events == [ExitEvent("stop", 95.5, 10.0)] and not state.tp1_done


def test_short_mirror():
    plan = StagedExitPlan(entry=100, atr=2, stop_atr=2, tp1_atr=1.5, tp2_atr=4, trail_atr=1.5,
                          is_short=True)
    assert (plan.initial_stop, plan.tp1, plan.tp2) == (104, 97, 92)
    # TP1 at 96.5 (stop -> min(100, 99.5)); peak 95 -> stop 98; 98.1 >= 98 closes the rest.
    _, events = plan.run_path([98, 96.5, 95, 98.1], amount=2)
    assert events == [ExitEvent("tp1", 96.5, 1.0), ExitEvent("stop", 98.1, 1.0)]


@pytest.mark.parametrize("kwargs, message", [
    ({"atr": 0}, "atr"), ({"entry": -1}, "entry"), ({"tp2_atr": 1.0}, "tp2_atr"),
    ({"tp1_share": 1.0}, "tp1_share"), ({"trail_atr": 0}, "trail_atr"),
])
def test_invalid_plans_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StagedExitPlan(**{"entry": 100, "atr": 2, **kwargs})


# --- the freqtrade hooks, on a stand-in trade -------------------------------------------------


class FakeTrade(SimpleNamespace):
    """The few Trade attributes the mixin reads; filled exit orders carry their tags."""

    def get_custom_data(self, key, default=None):
        return self.custom.get(key, default)

    def set_custom_data(self, key, value):
        self.custom[key] = value

    def select_filled_orders(self, side):
        return [SimpleNamespace(ft_order_tag=tag) for tag in self.filled_exit_tags]


class Hooks(StagedExitsMixin):
    timeframe = "1h"


def fake_trade(**overrides):
    values = dict(pair="BTC/USDT", open_rate=100.0, stake_amount=80.0, is_short=False,
                  exit_side="sell", has_open_orders=False, custom={ENTRY_ATR_KEY: 2.0},
                  filled_exit_tags=[])
    return FakeTrade(**{**values, **overrides})


def hooks() -> Hooks:
    strategy = Hooks()
    for name, value in {"exit_stop_atr": 2.0, "exit_tp1_atr": 1.5, "exit_tp2_extra_atr": 2.5,
                        "exit_trail_atr": 1.5, "exit_tp1_share": 0.5,
                        "exit_break_even_offset": 0.0}.items():
        getattr(strategy, name).value = value
    return strategy


def test_mixin_parameters_are_per_class():
    class Other(StagedExitsMixin):
        pass

    assert Other.exit_tp1_atr is not Hooks.exit_tp1_atr is not StagedExitsMixin.exit_tp1_atr


def test_take_profit_levels_are_searched_only_with_take_profits_on():
    class StopOnly(StagedExitsMixin):
        take_profits = False

    class PlanAgain(StopOnly):
        take_profits = True

    class OwnLevel(StopOnly):
        exit_tp1_atr = DecimalParameter(1.0, 2.0, default=1.5, space="sell")

    levels = ("exit_tp1_atr", "exit_tp2_extra_atr", "exit_trail_atr")
    assert not any(getattr(StopOnly, name).optimize for name in levels)
    assert all(getattr(PlanAgain, name).optimize for name in levels)
    assert StopOnly.exit_stop_atr.optimize  # the hard stop is still searched
    # A redeclared level keeps its own declaration; the inherited ones follow the switch.
    assert OwnLevel.exit_tp1_atr.optimize and OwnLevel.exit_tp1_atr.high == 2.0
    assert not OwnLevel.exit_trail_atr.optimize
    assert StagedExitsMixin.exit_tp1_atr.optimize  # the mixin's own declaration is untouched


def test_hooks_follow_the_plan():
    strategy, trade = hooks(), fake_trade()
    call = dict(current_time=None, current_profit=0.0, min_stake=5.0, max_stake=1000.0,
                current_entry_profit=0.0, current_exit_profit=0.0)

    def adjust(rate):
        return strategy.adjust_trade_position(trade, current_rate=rate, current_entry_rate=rate,
                                              current_exit_rate=rate, **call)

    assert adjust(102.9) is None
    assert adjust(103.0) == (-40.0, TP1_TAG)  # half of the 80 stake
    # Before TP1: the hard stop at 96, as a ratio below the current rate.
    stop = strategy.custom_stoploss("BTC/USDT", trade, None, 102.0, 0.02, after_fill=False)
    assert stop == pytest.approx(stoploss_from_absolute(96.0, 102.0)) and 102 * (1 - stop) == pytest.approx(96)
    trade.filled_exit_tags, trade.stake_amount = [TP1_TAG], 40.0
    # After TP1: no second partial exit; stop = max(break-even 100, 104 - 3) = 101.
    assert adjust(104.0) is None
    stop = strategy.custom_stoploss("BTC/USDT", trade, None, 104.0, 0.04, after_fill=True)
    assert 104 * (1 - stop) == pytest.approx(101.0)
    assert adjust(107.9) is None
    assert adjust(108.0) == (-40.0, TP2_TAG)  # TP2 = 100 + (1.5 + 2.5) x 2: the whole rest
    assert adjust(99.9) == (-40.0, BREAK_EVEN_TAG)
    trade.has_open_orders = True
    assert adjust(108.0) is None


def test_stop_only_plan_keeps_the_hard_stop_and_takes_no_profit():
    strategy, trade = hooks(), fake_trade()
    strategy.take_profits = False
    call = dict(current_time=None, current_profit=0.0, min_stake=5.0, max_stake=1000.0,
                current_entry_profit=0.0, current_exit_profit=0.0)
    # 103 is TP1 and 108 TP2 of the staged plan above: neither sells anything here.
    for rate in (103.0, 108.0, 150.0):
        assert strategy.adjust_trade_position(trade, current_rate=rate, current_entry_rate=rate,
                                              current_exit_rate=rate, **call) is None
    # The stop stays at 100 - 2 x 2 = 96 however far the price ran: no break-even, no trailing,
    # even if a TP1 exit were on the trade (one taken before the strategy changed its plan).
    trade.filled_exit_tags = [TP1_TAG]
    for rate in (102.0, 150.0):
        stop = strategy.custom_stoploss("BTC/USDT", trade, None, rate, 0.5, after_fill=False)
        assert rate * (1 - stop) == pytest.approx(96.0)


def test_take_profits_as_a_parameter_switches_the_plan():
    class Switchable(StagedExitsMixin):
        timeframe = "1h"
        take_profits = BooleanParameter(default=False, space="sell")

    # Searchable switch: hyperopt can turn the plan on, so its levels stay searchable.
    assert Switchable.exit_tp1_atr.optimize and Switchable.exit_trail_atr.optimize
    strategy, trade = Switchable(), fake_trade()
    for name, value in {"exit_stop_atr": 2.0, "exit_tp1_atr": 1.5}.items():
        getattr(strategy, name).value = value
    call = dict(current_time=None, current_profit=0.0, min_stake=5.0, max_stake=1000.0,
                current_entry_profit=0.0, current_exit_profit=0.0, current_rate=103.0,
                current_entry_rate=103.0, current_exit_rate=103.0)
    assert not strategy.takes_profits() and strategy.adjust_trade_position(trade, **call) is None
    strategy.take_profits.value = True
    try:
        assert strategy.adjust_trade_position(trade, **call) == (-40.0, TP1_TAG)
    finally:
        strategy.take_profits.value = False


def test_position_cap_trims_a_winner_back_to_its_share():
    strategy = hooks()
    strategy.take_profits = False
    strategy.position_max_share.value = 0.2
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: 1000.0)
    # 0.8 coins bought for 80 (stake 80): worth 240 at 300, 24 % of the 1,000 equity.
    trade = fake_trade(amount=0.8)
    call = dict(current_time=None, current_profit=0.0, min_stake=5.0, max_stake=1000.0,
                current_entry_profit=0.0, current_exit_profit=0.0)

    def adjust(rate):
        return strategy.adjust_trade_position(trade, current_rate=rate, current_entry_rate=rate,
                                              current_exit_rate=rate, **call)

    try:
        # 240 > 210 (20 % + 5 %): sell 1 - 200 / 240 = 1/6 of the stake, i.e. of the amount.
        stake, tag = adjust(300.0)
        assert tag == POSITION_CAP_TAG and stake == pytest.approx(-80.0 / 6)
        assert adjust(260.0) is None  # worth 208: within the tolerance
        trade.has_open_orders = True
        assert adjust(300.0) is None
    finally:
        strategy.position_max_share.value = 0.0
    trade.has_open_orders = False
    assert adjust(300.0) is None  # off by default


def with_candles(strategy, candles):
    strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (candles, None))
    return strategy


def test_entry_atr_is_the_signal_candles_and_is_stored():
    dates = pd.date_range("2025-03-01 00:00", periods=4, freq="1h", tz="UTC")
    candles = pd.DataFrame({"date": dates, "atr": [1.0, 2.0, 3.0, 4.0]})
    strategy = with_candles(hooks(), candles)
    # Opened at 02:00:05: the signal candle is 01:00 (closed at 02:00), ATR 2.
    trade = fake_trade(custom={}, open_date_utc=dates[2] + pd.Timedelta(seconds=5))
    assert strategy.entry_atr(trade) == 2.0 and trade.custom[ENTRY_ATR_KEY] == 2.0
    strategy.dp = None  # stored: no dataframe needed any more
    assert strategy.exit_plan(trade).initial_stop == 100 - 2 * 2.0


def test_no_atr_no_plan():
    strategy = with_candles(hooks(), pd.DataFrame())
    trade = fake_trade(custom={})
    assert strategy.exit_plan(trade) is None
    assert strategy.custom_stoploss("BTC/USDT", trade, None, 102.0, 0.02, after_fill=False) is None
    nan_atr = pd.DataFrame({"date": pd.date_range("2025-03-01", periods=2, freq="1h", tz="UTC"),
                            "atr": [np.nan, np.nan]})
    trade = fake_trade(custom={}, open_date_utc=nan_atr["date"][1])
    assert with_candles(hooks(), nan_atr).entry_atr(trade) is None
