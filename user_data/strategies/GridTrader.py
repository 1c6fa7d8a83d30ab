"""
Grid trader (seed 002 §6.1, §7.3): a long-only spot grid run through freqtrade's position adjustment.

Trading plan
- Indicators (1h): ATR(14) for the grid template; the pack's regime detector (plugins/quant/regime.py)
  on 1h candles; the market gate (plugins/strategy/market_gate.py: leader and pair 1d/4h trend).
- Grid template (plugins.quant.ladders.atr_grid_template): bounds = price ± bounds_atr_mult × ATR(14),
  levels = clamp(round(span / (step_atr_mult × ATR)), 5, 50); arithmetic or geometric spacing.
  Defaults (2 × ATR, step 1 × ATR) give 5 lines one ATR apart.
- Entry: only in a range regime (``regime_active`` TIGHT_RANGE or WIDE_RANGE: a grid earns in a
  range and bleeds in a trend), a valid template, and the market gate open (risk_on; risk_small
  halves the whole ladder).
  The initial buy (custom_stake_amount) holds one lot per grid line above the start line, i.e.
  half the trade's stake for a symmetric grid; the other half stays reserved for the buys below,
  so the full ladder is always funded (with "unlimited" stake each trade gets 1/max_open_trades).
- Ladder (adjust_trade_position + custom_entry_price / custom_exit_price, limit orders AT the grid
  lines): every filled buy at line i is followed by a sell of one lot at line i+1 (profit per grid),
  every filled sell at line i by a rebuy at line i-1. Selling the last lot (price above the top
  line) closes the trade; a new grid then opens around the new price if ADX allows.
- Re-centring (recentre = True): when price is more than one step ABOVE the lines and the regime is
  still a range, the grid is rebuilt around the current price with the same quote budget and the
  inventory is rebalanced to the new grid with one order. The new grid becomes the trade's ladder
  only when that order fills (the ladder follows fills, never orders); no order, no re-centre.
- Range breakdown (exit rule): when a candle closes below the lowest grid line, the range the grid
  was built for has broken; the resting order is cancelled and the whole position exits
  ("range_break", through adjust_trade_position).
  The market gate's risk_off exit and the stop stop_pct below the lowest line back it up;
  stoploss = -0.20 is only the safety net before the ladder exists.
- Exposure: no grid buy takes the position's value past max_ladder_share (5%) of equity.
- State: the ladder (lines, empty line, lot, realised grid profit, counters) lives in the trade's
  custom data (plugins.strategy.ladder_state), so a restarted bot resumes it and FreqUI shows it.

What a candle-based backtest can and cannot simulate
- Freqtrade holds ONE open order per trade and calls adjust_trade_position once per candle, so the
  grid rests only the order nearest to the candle's open (the next buy or the next sell) and fills
  at most one grid step per candle. A real exchange grid rests all orders at once and can fill
  several lines in one candle (both a buy and a sell in a whipsaw): the backtest UNDERSTATES the
  number of round trips in volatile candles. A limit order counts as filled when the candle's
  low <= price <= high (freqtrade's rule); a candle that opens beyond the line fills at the open.
- A resting ladder order stays open while its line is still a neighbour of the empty line
  (plugins/strategy/ladder_strategy.py); it is not cancelled and re-placed on every candle. While
  it rests, the other neighbour's order is not placed (one open order per trade).
- A ladder order is placed only when its line is within custom_price_max_distance_ratio (2%) of
  the price (live, freqtrade would move a farther custom price to 2%); a candle that opens farther
  away and then reaches the line is not filled in the backtest.
- plot_config draws the template anchored on each candle's close (what a grid started on that
  candle would use: grid_upper / grid_lower and the first buy / sell lines), computed causally.
  The lines of an open trade's actual grid are in the trade's custom data ("ladder"), not in the
  dataframe.
"""

import logging

import numpy as np
import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IStrategy,
)

from plugins.strategy.ladder_state import exit_stake, last_closed_candle, order_tag, parse_order_tag
from plugins.strategy.ladder_strategy import LadderStrategyMixin
from plugins.quant.candles import merge_aligned_startup
from plugins.quant.ladders import GridLadder, atr_grid_template, grid_entry_fraction, grid_levels
from plugins.quant.regime import TIGHT_RANGE, WIDE_RANGE, detect_regime, regime_startup_candles
from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.pack_protections import ConfiguredProtections


logger = logging.getLogger(__name__)
KIND = "grid"
RANGE_REGIMES = (TIGHT_RANGE, WIDE_RANGE)
RECENTRE_PENDING_KEY = "grid_recentre_pending"
RANGE_BREAK_TAG = "range_break"


class GridTrader(ConfiguredProtections, MarketGateMixin, LadderStrategyMixin, IStrategy):
    INTERFACE_VERSION = 3
    ladder_kind = KIND

    timeframe = "1h"
    can_short = False
    # Exits come from the grid's sells and the stop below the grid, not from ROI.
    minimal_roi = {"0": 100}
    stoploss = -0.20
    use_custom_stoploss = True
    process_only_new_candles = True
    position_adjustment_enable = True
    # Buys and sells alternate for as long as the grid runs; the grid's lines bound the inventory.
    max_entry_position_adjustment = -1
    # The regime detector's latches and Wilder-smoothed ATR/ADX need this much history; the gate's
    # 1d/4h informatives get as many candles of their own timeframe.
    startup_candle_count = merge_aligned_startup(max(200, regime_startup_candles()), timeframe_minutes=60)
    bounds_atr_mult = DecimalParameter(1.0, 3.0, default=2.0, decimals=1, space="buy")
    step_atr_mult = DecimalParameter(0.25, 1.0, default=1.0, decimals=2, space="buy")
    spacing = CategoricalParameter(["arithmetic", "geometric"], default="arithmetic", space="buy")
    recentre = BooleanParameter(default=True, space="buy")
    stop_pct = DecimalParameter(0.02, 0.15, default=0.05, decimals=2, space="sell")
    # 5 % (the ladder mixin's default is 20 %): the largest of 5/10/15/20 % whose every 2020-2021
    # half-year stayed within max DD 15 % and loss -10 % (docs/validation.md, "Ladder share").
    max_ladder_share = DecimalParameter(0.02, 0.5, default=0.05, decimals=2, space="buy", optimize=False)

    plot_config = {
        "main_plot": {
            "grid_upper": {"color": "#2ca02c"},
            "grid_sell_line": {"color": "#43a047"},
            "grid_buy_line": {"color": "#ef5350"},
            "grid_lower": {"color": "#d62728"},
        },
        "subplots": {
            "Range regime": {"grid_range": {"color": "#00acc1", "type": "bar"}},
            "Market gate": {"market_state": {"color": "#e65100"}},
            "ATR": {"atr": {"color": "#ff7f0e"}},
        },
    }

    # --- signals -------------------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
        regime = detect_regime(dataframe[["high", "low", "close", "volume"]])
        dataframe["grid_range"] = regime["regime_active"].isin(RANGE_REGIMES).astype(int)
        return self.add_market_gate(dataframe)

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # Template columns depend on hyperopt parameters, so they are built here (per epoch).
        lower, upper, n_levels = atr_grid_template(
            dataframe["close"], dataframe["atr"], self.bounds_atr_mult.value, self.step_atr_mult.value
        )
        dataframe["grid_lower"], dataframe["grid_upper"] = lower, upper
        if self.spacing.value == "geometric":
            ratio = (upper / lower) ** (1 / (n_levels - 1))
            dataframe["grid_buy_line"] = dataframe["close"] / ratio
            dataframe["grid_sell_line"] = dataframe["close"] * ratio
        else:
            step = (upper - lower) / (n_levels - 1)
            dataframe["grid_buy_line"] = dataframe["close"] - step
            dataframe["grid_sell_line"] = dataframe["close"] + step
        dataframe.loc[
            (dataframe["grid_range"] == 1)
            & dataframe["grid_lower"].notna()
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "grid_start")
        return self.gate_entries(dataframe)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # The grid's last sell, the range break (adjust_trade_position) or the stop close a trade; the market
        # gate adds its risk_off exit.
        return self.gate_exits(dataframe)

    # --- helpers -------------------------------------------------------------------------------

    def _template_inputs(self, pair: str) -> tuple[float, bool, float] | None:
        """(ATR, in a range regime, close) of the last closed candle, or None when not available yet."""
        row = last_closed_candle(self.dp, pair, self.timeframe)
        if row is None or not np.isfinite(row.get("atr", np.nan)) or row["atr"] <= 0:
            return None
        return float(row["atr"]), bool(row.get("grid_range", 0) == 1), float(row["close"])

    def start_ladder(self, trade, price: float, amount: float) -> GridLadder | None:
        inputs = self._template_inputs(trade.pair)
        if inputs is None:
            return None
        try:
            return GridLadder.start(
                price, inputs[0], amount, float(self.bounds_atr_mult.value), float(self.step_atr_mult.value),
                self.spacing.value, float(self.stop_pct.value), fee=trade.fee_open or 0.0,
            )
        except ValueError as err:
            logger.warning("%s: no grid started: %s", trade.pair, err)
            return None

    def apply_fill(self, ladder: GridLadder, side: str, index: int | None, order, trade) -> GridLadder | None:
        if index is None:
            return self._take_pending_recentre(trade)
        return ladder.after_buy(index) if side == "buy" else ladder.after_sell(index)

    def resting_orders(self, ladder: GridLadder, pair: str) -> list[tuple[str, float | None]]:
        # Either neighbour line of the empty one: a resting sell is kept when price dips toward the
        # buy line (and the other way round) instead of being cancelled and re-placed. After a range
        # break nothing rests: the order is cancelled so the break exit can go out.
        if self._range_broken(ladder, pair):
            return []
        return [("buy", ladder.buy_price), ("sell", ladder.sell_price)]

    def _range_broken(self, ladder: GridLadder, pair: str) -> bool:
        """The last closed candle closed below the grid's lowest line."""
        inputs = self._template_inputs(pair)
        return inputs is not None and inputs[2] < ladder.levels[0]

    def _take_pending_recentre(self, trade) -> GridLadder | None:
        """The re-centred grid stored when its rebalancing order was placed, now that it filled."""
        pending = trade.get_custom_data(RECENTRE_PENDING_KEY)
        if not pending:
            return None
        trade.set_custom_data(RECENTRE_PENDING_KEY, None)
        return GridLadder.from_dict(pending)

    # --- freqtrade hooks -----------------------------------------------------------------------

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                            max_stake, leverage, entry_tag, side, **kwargs) -> float:
        """Initial buy = the lots above the start line; the buys below keep the rest reserved."""
        inputs = self._template_inputs(pair)
        if inputs is None:
            return 0.0
        lower, upper, n = atr_grid_template(current_rate, inputs[0], float(self.bounds_atr_mult.value),
                                            float(self.step_atr_mult.value))
        if not np.isfinite(lower):
            return 0.0
        levels = grid_levels(lower, upper, int(n), self.spacing.value)
        budget = min(proposed_stake, float(self.max_ladder_share.value) * self.wallets.get_total_stake_amount())
        return self.gated_stake(entry_tag, budget * grid_entry_fraction(levels, current_rate))

    def adjust_trade_position(self, trade, current_time, current_rate, current_profit, min_stake,
                              max_stake, current_entry_rate, current_exit_rate, current_entry_profit,
                              current_exit_profit, **kwargs):
        ladder = self.open_ladder(trade)
        if ladder is None:
            return None
        min_stake = min_stake or 0.0
        # Checked here rather than in custom_exit: every extra callback deep-copies the trade with
        # all its orders, the grid's main backtest cost.
        if self._range_broken(ladder, trade.pair):
            return exit_stake(trade, trade.amount), RANGE_BREAK_TAG

        if self.recentre.value and current_rate > ladder.levels[-1] and ladder.out_of_range(current_rate):
            inputs = self._template_inputs(trade.pair)
            if inputs is not None and inputs[1]:
                new = ladder.recentred(current_rate, inputs[0], float(self.bounds_atr_mult.value),
                                       float(self.step_atr_mult.value), float(self.stop_pct.value))
                delta = new.lots_held * new.lot_amount - trade.amount
                if delta > 0 and min_stake <= delta * current_rate <= max_stake \
                        and self.within_budget(trade, delta * current_rate, current_rate):
                    trade.set_custom_data(RECENTRE_PENDING_KEY, new.to_dict())
                    return delta * current_rate, order_tag(KIND, "recentre")
                if delta < 0 and -delta * current_rate >= min_stake:
                    trade.set_custom_data(RECENTRE_PENDING_KEY, new.to_dict())
                    return exit_stake(trade, -delta), order_tag(KIND, "recentre")
                return None

        order = ladder.next_order(current_rate)
        if order is None:
            return None
        side, index, price = order
        if not self.in_reach(price, current_rate):
            return None
        if side == "buy":
            stake = ladder.lot_amount * min(price, current_rate)
            if stake < min_stake or stake > max_stake or not self.within_budget(trade, stake, current_rate):
                return None
            return stake, order_tag(KIND, "buy", index)
        amount = trade.amount if ladder.lots_held <= 1 else ladder.lot_amount
        return exit_stake(trade, amount), order_tag(KIND, "sell", index)

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side, **kwargs):
        step = parse_order_tag(entry_tag, KIND)
        ladder = self.ladders.get(trade) if trade is not None else None
        if ladder is None or step is None or step[0] != "buy" or step[1] is None:
            return proposed_rate
        return min(ladder.levels[step[1]], proposed_rate)

    def custom_exit_price(self, pair, trade, current_time, proposed_rate, current_profit, exit_tag,
                          **kwargs):
        step = parse_order_tag(exit_tag, KIND)
        ladder = self.ladders.get(trade)
        if ladder is None or step is None or step[0] != "sell" or step[1] is None:
            return proposed_rate
        return max(ladder.levels[step[1]], proposed_rate)
