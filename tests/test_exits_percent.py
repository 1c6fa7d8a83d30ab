"""Percent mode of the staged exit plan (seed 003: SL -5%, TP1 +2% closes 50%, break-even, 3% trail, TP2 +5%)."""

from types import SimpleNamespace

import pytest

from plugins.quant.exits import ExitEvent, StagedExitPlan
from plugins.strategy.staged_exits import (BREAK_EVEN_TAG, ENTRY_ATR_KEY, TP1_TAG, TP2_TAG,
                                           StagedExitsMixin)
from tests.test_exits import FakeTrade


PLAN = StagedExitPlan.percent(entry=100.0)  # seed 003 defaults, break-even exactly at entry


def test_levels_are_seed_003_percentages():
    assert PLAN.initial_stop == pytest.approx(95.0)
    assert PLAN.tp1 == pytest.approx(102.0) and PLAN.tp2 == pytest.approx(105.0)
    assert PLAN.trail_distance == pytest.approx(3.0) and PLAN.tp1_share == 0.5
    assert PLAN.break_even == 100.0
    other = StagedExitPlan.percent(entry=250.0, stop_pct=0.04, tp1_pct=0.01, tp2_pct=0.06,
                                   trail_pct=0.02, break_even_offset=0.002)
    assert (other.initial_stop, other.tp1, other.tp2, other.trail_distance, other.break_even) == \
        pytest.approx((240.0, 252.5, 265.0, 5.0, 250.5))


def test_tp1_half_then_trailing_stop():
    state, events = PLAN.run_path([101, 102, 103, 104, 104.5, 101.6, 101.4, 80], amount=10)
    # 102 = TP1: sell 5, stop -> max(100, 102 - 3) = 100; peaks 103 -> 100, 104 -> 101,
    # 104.5 -> 101.5; 101.6 stays; 101.4 <= 101.5: the other 5 go at 101.4.
    assert events == [ExitEvent("tp1", 102.0, 5.0), ExitEvent("stop", 101.4, 5.0)]
    assert state.remaining == 0 and state.peak == 104.5


def test_stop_moves_break_even_then_trails():
    state, stops = PLAN.start(10), []
    for price in [101, 102, 103, 104, 104.5, 104.0]:
        state, _ = PLAN.step(state, price)
        stops.append(PLAN.stop_price(state.tp1_done, state.peak))
    assert stops == pytest.approx([95, 100, 100, 101, 101.5, 101.5])


def test_break_even_after_tp1():
    _, events = PLAN.run_path([101, 102.4, 101, 100.0], amount=8)
    assert events == [ExitEvent("tp1", 102.4, 4.0), ExitEvent("stop", 100.0, 4.0)]


def test_hard_stop_before_tp1():
    _, events = PLAN.run_path([99, 97, 95.2, 94.9, 90], amount=10)
    assert events == [ExitEvent("stop", 94.9, 10.0)]


def test_tp2_closes_the_rest_and_a_gap_closes_everything():
    _, events = PLAN.run_path([101, 102.5, 104.9, 105.0], amount=10)
    assert events == [ExitEvent("tp1", 102.5, 5.0), ExitEvent("tp2", 105.0, 5.0)]
    _, events = PLAN.run_path([100.5, 106.0], amount=10)
    assert events == [ExitEvent("tp2", 106.0, 10.0)]


def test_short_mirror():
    plan = StagedExitPlan.percent(entry=100.0, is_short=True)
    assert (plan.initial_stop, plan.tp1, plan.tp2) == pytest.approx((105.0, 98.0, 95.0))
    _, events = plan.run_path([99, 98, 96, 98.9, 99.1], amount=10)  # stop min(100, 96 + 3)
    assert events == [ExitEvent("tp1", 98.0, 5.0), ExitEvent("stop", 99.1, 5.0)]


@pytest.mark.parametrize("kwargs, message", [
    ({"stop_pct": 0.0}, "stop_pct"), ({"tp1_pct": 1.5}, "tp1_pct"),
    ({"tp1_pct": 0.05, "tp2_pct": 0.03}, "tp2_atr"), ({"trail_pct": -0.01}, "trail_pct"),
])
def test_invalid_percent_plans_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StagedExitPlan.percent(entry=100.0, **kwargs)


# --- the mixin in percent mode ----------------------------------------------------------------
class PercentHooks(StagedExitsMixin):
    timeframe = "1h"


def percent_hooks(mode="percent", offset=0.002):
    strategy = PercentHooks()
    strategy.exit_mode.value = mode
    strategy.exit_break_even_offset.value = offset
    strategy.dp = None  # percent mode needs no candles: a dataframe access would fail
    return strategy


def trade(**overrides):
    values = dict(pair="BTC/USDT", open_rate=100.0, stake_amount=80.0, is_short=False,
                  exit_side="sell", has_open_orders=False, custom={}, filled_exit_tags=[])
    return FakeTrade(**{**values, **overrides})


def test_atr_stays_the_default_mode():
    class Other(StagedExitsMixin):
        pass

    assert Other().exit_mode.value == "atr" and not Other().percent_mode()
    atr_plan = Other().exit_plan(trade(custom={ENTRY_ATR_KEY: 2.0}))
    assert atr_plan.initial_stop == 96.0  # 100 - 2 x ATR 2, as before


def test_hooks_follow_the_percent_plan():
    strategy, open_trade = percent_hooks(), trade()
    call = dict(current_time=None, current_profit=0.0, min_stake=5.0, max_stake=1000.0,
                current_entry_profit=0.0, current_exit_profit=0.0)

    def adjust(rate):
        return strategy.adjust_trade_position(open_trade, current_rate=rate,
                                              current_entry_rate=rate, current_exit_rate=rate,
                                              **call)

    def stop_at(rate):
        ratio = strategy.custom_stoploss("BTC/USDT", open_trade, None, rate, 0.0, after_fill=False)
        return rate * (1 - ratio)

    assert adjust(101.9) is None
    assert stop_at(101.0) == pytest.approx(95.0)
    assert adjust(102.0) == (-40.0, TP1_TAG)
    open_trade.filled_exit_tags, open_trade.stake_amount = [TP1_TAG], 40.0
    assert adjust(103.0) is None
    assert stop_at(103.0) == pytest.approx(100.2)  # break-even (+0.2% for the fees) beats 100
    assert stop_at(104.5) == pytest.approx(101.5)  # 3% trail below the best price
    assert adjust(100.1) == (-40.0, BREAK_EVEN_TAG)
    assert adjust(105.0) == (-40.0, TP2_TAG)


def test_percent_sizing_uses_the_percent_stop():
    strategy = percent_hooks()
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: 1000.0)
    strategy.sizing_risk.value, strategy.sizing_max_share.value = 0.004, 0.5
    stake = strategy.custom_stake_amount("BTC/USDT", None, 50.0, 500.0, 5.0, 1000.0, 1.0, None,
                                         "long")
    assert stake == pytest.approx(1000 * 0.004 / 0.05)  # 4 lost at the 5% stop -> 80 stake
