"""Grid / DCA ladder math (plugins.quant.ladders) on hand-computed cases and scripted price paths.

The path harness mirrors freqtrade's backtest rules for a ladder: one resting order per candle
(``next_order`` at the candle's open), a limit order fills when low <= price <= high, and a candle
opening beyond the order's price fills at the open.
"""

import numpy as np
import pandas as pd
import pytest

from plugins.quant.ladders import (
    DcaLadder,
    GridLadder,
    atr_dca_template,
    atr_grid_template,
    average_entry,
    dca_initial_stake,
    dca_step_stakes,
    dca_trigger_price,
    grid_entry_fraction,
    grid_levels,
    nearest_level_index,
    round_trip_pnl,
    take_profit_price,
)


FEE = 0.001


def fill_price(side: str, price: float, candle: tuple[float, float, float]) -> float | None:
    """Freqtrade's fill rule for a limit order placed at the open of ``candle`` (open, high, low)."""
    open_, high, low = candle
    rate = min(price, open_) if side == "buy" else max(price, open_)
    return rate if low <= rate <= high else None


# --- grid lines and templates --------------------------------------------------------------------


def test_grid_levels_arithmetic_and_geometric():
    assert grid_levels(100, 110, 5) == pytest.approx([100, 102.5, 105, 107.5, 110], abs=1e-12)
    assert grid_levels(100, 400, 3, "geometric") == pytest.approx([100, 200, 400], abs=1e-9)


@pytest.mark.parametrize(
    "args, message",
    [
        ((110, 100, 5), "upper"),
        ((100, 110, 1), "n_levels"),
        ((0, 110, 5), "lower"),
        ((100, 110, 5, "fibonacci"), "spacing"),
        ((100, 110, 2.5), "n_levels"),
    ],
)
def test_grid_levels_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        grid_levels(*args)


def test_atr_grid_template_seed_defaults_and_clamps():
    # Seed: bounds = price ± 2×ATR, levels = clamp(span / ATR, 5, 50): span 4 ATR -> 4 -> 5 lines.
    assert atr_grid_template(100.0, 2.5) == (95.0, 105.0, 5.0)
    # Step of half an ATR: 8 lines; a tiny step clamps at 50.
    assert atr_grid_template(100.0, 2.0, step_mult=0.5) == (96.0, 104.0, 8.0)
    assert atr_grid_template(100.0, 2.0, bounds_mult=3.0, step_mult=0.1)[2] == 50.0


def test_atr_grid_template_is_vectorised_and_nan_safe():
    close = pd.Series([100.0, 100.0, 10.0, 100.0], index=[3, 4, 5, 6])
    atr = pd.Series([np.nan, 0.0, 6.0, 5.0], index=close.index)
    lower, upper, n = atr_grid_template(close, atr)
    assert list(lower.index) == [3, 4, 5, 6]
    # NaN ATR, zero ATR (flat prices) and a lower bound below zero give no grid.
    assert lower.iloc[:3].isna().all() and upper.iloc[:3].isna().all() and n.iloc[:3].isna().all()
    assert (lower.iloc[3], upper.iloc[3], n.iloc[3]) == (90.0, 110.0, 5.0)


def test_atr_grid_template_validates_parameters():
    with pytest.raises(ValueError, match="max_levels"):
        atr_grid_template(100.0, 2.0, min_levels=10, max_levels=5)
    with pytest.raises(ValueError, match="step_mult"):
        atr_grid_template(100.0, 2.0, step_mult=0)


def test_atr_dca_template_seed_defaults():
    trigger, tp = atr_dca_template(100.0, 2.0)
    assert (trigger, tp) == pytest.approx((0.03, 0.06))
    trig_s, tp_s = atr_dca_template(pd.Series([50.0, 50.0]), pd.Series([np.nan, 1.0]))
    assert np.isnan(trig_s.iloc[0]) and trig_s.iloc[1] == pytest.approx(0.03)
    assert tp_s.iloc[1] == pytest.approx(0.06)


def test_grid_entry_fraction_and_nearest_level():
    levels = [95.0, 97.5, 100.0, 102.5, 105.0]
    assert nearest_level_index(levels, 100.4) == 2
    assert grid_entry_fraction(levels, 100.0) == 0.5  # 2 lots above the start line of 4
    assert grid_entry_fraction(levels, 97.6) == 0.75


# --- DCA sizing ----------------------------------------------------------------------------------


def test_dca_stakes_reserve_the_whole_ladder():
    assert dca_initial_stake(150.0, 4) == pytest.approx(30.0)
    # Scaled: 1 + 2 + 4 = 7 units of budget.
    assert dca_initial_stake(70.0, 2, scale=2.0) == pytest.approx(10.0)
    assert dca_step_stakes(10.0, 2, 2.0) == pytest.approx([10.0, 20.0, 40.0])
    assert sum(dca_step_stakes(dca_initial_stake(200.0, 5, 1.5), 5, 1.5)) == pytest.approx(200.0)


def test_dca_price_helpers():
    assert dca_trigger_price(100.0, 0.05) == pytest.approx(95.0)
    assert take_profit_price(92.0, 0.04) == pytest.approx(95.68)
    assert average_entry([100.0, 90.0], [1.0, 3.0]) == pytest.approx(92.5)
    assert round_trip_pnl(400.0, 416.0, FEE) == pytest.approx(15.184)
    with pytest.raises(ValueError, match="trigger_pct"):
        dca_trigger_price(100.0, 1.5)
    with pytest.raises(ValueError, match="equal length"):
        average_entry([100.0], [1.0, 2.0])


# --- scripted price paths ------------------------------------------------------------------------


def run_dca(ladder: DcaLadder, candles):
    """Drive a DCA ladder over candles; returns (ladder, buy prices, exit price or None)."""
    buys, exit_price = [], None
    for candle in candles:
        side, _, price = ladder.next_order(candle[0])
        rate = fill_price(side, price, candle)
        if rate is None:
            continue
        if side == "sell":
            exit_price = rate
            break
        stake = ladder.next_stake
        ladder = ladder.after_buy(rate, stake / rate)
        buys.append(rate)
    return ladder, buys, exit_price


def test_v_shaped_path_gives_three_safety_buys_and_one_take_profit():
    # Initial buy of 100 USDT at 100; triggers 5% below each buy, 3 safety orders, TP 4%.
    ladder = DcaLadder.start(100.0, 1.0, trigger_pct=0.05, take_profit_pct=0.04, stop_pct=0.2,
                             max_steps=3)
    # (open, high, low): down 3 per candle, then back up.
    path = [(100, 100.5, 96.5), (97, 97.5, 93.5), (94, 94.5, 90.5), (91, 91.5, 87.5), (88, 88.5, 84.5),
            (85, 85.5, 81.5), (84, 88, 83.5), (88, 92, 87.5), (92, 96, 91.5), (96, 100, 95.5), (100, 104, 99)]
    ladder, buys, exit_price = run_dca(ladder, path)
    assert buys == pytest.approx([95.0, 90.25, 85.7375])  # each 5% below the previous buy
    assert ladder.steps_filled == 3 and ladder.next_trigger is None
    amount = 1 + 100 / 95 + 100 / 90.25 + 100 / 85.7375
    assert ladder.amount == pytest.approx(amount)
    assert ladder.avg_entry == pytest.approx(400 / amount)
    assert ladder.avg_entry == pytest.approx(92.44247, abs=1e-5)
    assert exit_price == pytest.approx(ladder.avg_entry * 1.04)  # 96.1402, on the 10th candle
    # 400 USDT bought (fee on top), everything sold at avg × 1.04 = 416 USDT (fee deducted).
    pnl = exit_price * ladder.amount * (1 - FEE) - ladder.cost * (1 + FEE)
    assert pnl == pytest.approx(15.184)


def test_dca_stops_adding_in_a_crash_and_stop_follows_average():
    ladder = DcaLadder.start(100.0, 1.0, 0.05, 0.04, stop_pct=0.1, max_steps=2)
    assert ladder.stop_price == pytest.approx(90.0)
    path = [(96, 96, 94), (92, 92, 89), (87, 87, 80), (80, 81, 70)]
    ladder, buys, exit_price = run_dca(ladder, path)
    assert buys == pytest.approx([95.0, 90.25]) and exit_price is None
    assert ladder.stop_price == pytest.approx(0.9 * 300 / (1 + 100 / 95 + 100 / 90.25))
    with pytest.raises(ValueError, match="already filled"):
        ladder.after_buy(80.0, 1.0)


def run_grid(ladder: GridLadder, candles):
    fills = []
    for candle in candles:
        order = ladder.next_order(candle[0])
        if order is None:
            break
        side, index, price = order
        rate = fill_price(side, price, candle)
        if rate is None:
            continue
        ladder = ladder.after_buy(index) if side == "buy" else ladder.after_sell(index)
        fills.append((side, rate))
    return ladder, fills


def test_grid_start_from_atr_template():
    ladder = GridLadder.start(100.0, 2.5, amount=2.0, stop_pct=0.05)
    assert ladder.levels == pytest.approx((95, 97.5, 100, 102.5, 105))
    assert ladder.empty_index == 2 and ladder.lots_held == 2 and ladder.lot_amount == 1.0
    assert ladder.buy_price == 97.5 and ladder.sell_price == 102.5
    assert ladder.stop_price == pytest.approx(90.25)
    assert ladder.grid_budget == pytest.approx(395.0)


def test_grid_path_buys_low_and_sells_one_level_up():
    ladder = GridLadder.start(100.0, 2.5, amount=2.0, fee=FEE)
    path = [(99, 99.5, 97.0),     # buy at 97.5
            (98, 100.5, 97.8),    # its rebalancing sell one level up, at 100
            (101, 102.8, 100.6),  # sell at 102.5 (a lot of the initial buy)
            (103, 105.5, 102.9),  # sell the last lot at 105: grid empty
            (106, 107, 104)]
    ladder, fills = run_grid(ladder, path)
    assert fills == [("buy", 97.5), ("sell", 100.0), ("sell", 102.5), ("sell", 105.0)]
    assert (ladder.buys, ladder.sells, ladder.lots_held) == (1, 3, 0)
    # Each sell books lot × step minus the fee on both legs: 2.5 - 0.001 × (buy + sell).
    assert ladder.realised_profit == pytest.approx(2.3025 + 2.2975 + 2.2925)


def test_grid_rebuys_after_a_sell_and_rejects_out_of_order_fills():
    ladder = GridLadder.start(100.0, 2.5, amount=2.0)
    ladder = ladder.after_sell(3)
    assert ladder.next_order(101.0) == ("buy", 2, 100.0)  # re-armed buy one level down
    with pytest.raises(ValueError, match="expected 2"):
        ladder.after_buy(1)
    with pytest.raises(ValueError, match="expected 4"):
        ladder.after_sell(3)


def test_grid_out_of_range_and_recentre_keeps_budget():
    ladder = GridLadder.start(100.0, 2.5, amount=2.0)
    assert ladder.out_of_range(92.4) and ladder.out_of_range(107.6)
    assert not ladder.out_of_range(92.6) and not ladder.out_of_range(107.4)
    moved = ladder.after_buy(1).recentred(90.0, 2.0)
    assert moved.levels == pytest.approx((86, 88, 90, 92, 94))
    assert moved.lot_amount == pytest.approx(395.0 / 356.0)
    assert moved.grid_budget == pytest.approx(ladder.grid_budget)
    assert (moved.buys, moved.recentres, moved.empty_index) == (1, 1, 2)


def test_grid_geometric_levels_from_start():
    ladder = GridLadder.start(100.0, 2.5, amount=2.0, spacing="geometric")
    assert ladder.levels[0] == pytest.approx(95.0) and ladder.levels[-1] == pytest.approx(105.0)
    ratios = np.diff(np.log(ladder.levels))
    assert ratios == pytest.approx([ratios[0]] * 4)
