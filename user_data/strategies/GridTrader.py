"""
Grid trader (seed 002 §6.1, §7.3): a long-only spot grid run through freqtrade's position adjustment.

Trading plan
- Indicators (1h): ATR(14) for the grid template, ADX(14) as the trend gate.
- Grid template (plugins.quant.ladders.atr_grid_template): bounds = price ± bounds_atr_mult × ATR(14),
  levels = clamp(round(span / (step_atr_mult × ATR)), 5, 50); arithmetic or geometric spacing.
  Defaults (2 × ATR, step 1 × ATR) give 5 lines one ATR apart.
- Entry: ADX(14) < adx_max (no strong trend) and a valid template (RegimeHybrid, which reuses this
  class, gates it with the regime detector in plugins/quant/regime.py instead).
  The initial buy (custom_stake_amount) holds one lot per grid line above the start line, i.e.
  half the trade's stake for a symmetric grid; the other half stays reserved for the buys below,
  so the full ladder is always funded (with "unlimited" stake each trade gets 1/max_open_trades).
- Ladder (adjust_trade_position + custom_entry_price / custom_exit_price, limit orders AT the grid
  lines): every filled buy at line i is followed by a sell of one lot at line i+1 (profit per grid),
  every filled sell at line i by a rebuy at line i-1. Selling the last lot (price above the top
  line) closes the trade; a new grid then opens around the new price if ADX allows.
- Re-centring (recentre = True): when price is more than one step outside the lines and ADX is
  below adx_max, the grid is rebuilt around the current price with the same quote budget and the
  inventory is rebalanced to the new grid with one order.
- Risk: a stop on the whole position stop_pct below the lowest line (custom_stoploss, moved with
  the grid after fills); stoploss = -0.20 is only the safety net before the ladder exists.
- State: the ladder (lines, empty line, lot, realised grid profit, counters) lives in the trade's
  custom data (plugins.strategy.ladder_state), so a restarted bot resumes it and FreqUI shows it.

What a candle-based backtest can and cannot simulate
- Freqtrade holds ONE open order per trade and calls adjust_trade_position once per candle, so the
  grid rests only the order nearest to the candle's open (the next buy or the next sell) and fills
  at most one grid step per candle. A real exchange grid rests all orders at once and can fill
  several lines in one candle (both a buy and a sell in a whipsaw): the backtest UNDERSTATES the
  number of round trips in volatile candles. A limit order counts as filled when the candle's
  low <= price <= high (freqtrade's rule); a candle that opens beyond the line fills at the open.
- Unfilled ladder orders are cancelled by unfilledtimeout and re-placed on the next candle;
  live this means the resting order is refreshed every few minutes.
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
    IntParameter,
    IStrategy,
)

from plugins.strategy.ladder_state import exit_stake, last_closed_candle, order_tag, parse_order_tag
from plugins.strategy.ladder_strategy import LadderStrategyMixin
from plugins.quant.ladders import GridLadder, atr_grid_template, grid_entry_fraction, grid_levels
from plugins.strategy.pack_protections import ConfiguredProtections


logger = logging.getLogger(__name__)
KIND = "grid"


class GridTrader(ConfiguredProtections, LadderStrategyMixin, IStrategy):
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
    # ATR(14) / ADX(14) use Wilder smoothing: 200 candles make them independent of the start.
    startup_candle_count = 200

    adx_max = IntParameter(15, 40, default=25, space="buy")
    bounds_atr_mult = DecimalParameter(1.0, 3.0, default=2.0, decimals=1, space="buy")
    step_atr_mult = DecimalParameter(0.25, 1.0, default=1.0, decimals=2, space="buy")
    spacing = CategoricalParameter(["arithmetic", "geometric"], default="arithmetic", space="buy")
    recentre = BooleanParameter(default=True, space="buy")
    stop_pct = DecimalParameter(0.02, 0.15, default=0.05, decimals=2, space="sell")

    plot_config = {
        "main_plot": {
            "grid_upper": {"color": "green"},
            "grid_sell_line": {"color": "lightgreen"},
            "grid_buy_line": {"color": "salmon"},
            "grid_lower": {"color": "red"},
        },
        "subplots": {
            "ADX gate": {"adx": {"color": "blue"}, "adx_max": {"color": "grey"}},
            "ATR": {"atr": {"color": "orange"}},
        },
    }

    # --- signals -------------------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
        dataframe["adx"] = ta.ADX(dataframe, timeperiod=14)
        return dataframe

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
        dataframe["adx_max"] = self.adx_max.value
        dataframe.loc[
            (dataframe["adx"] < self.adx_max.value)
            & dataframe["grid_lower"].notna()
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "grid_start")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # No exit signal: the grid's last sell or the stop below the grid closes the trade.
        return dataframe

    # --- helpers -------------------------------------------------------------------------------

    def _template_inputs(self, pair: str) -> tuple[float, float] | None:
        """(ATR, ADX) of the last closed candle, or None when not available yet."""
        row = last_closed_candle(self.dp, pair, self.timeframe)
        if row is None or not np.isfinite(row.get("atr", np.nan)) or row["atr"] <= 0:
            return None
        return float(row["atr"]), float(row.get("adx", np.nan))

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

    def apply_fill(self, ladder: GridLadder, side: str, index: int | None, order) -> GridLadder | None:
        if index is None:
            return None  # re-centre rebalance: the new grid was stored when the order was placed
        return ladder.after_buy(index) if side == "buy" else ladder.after_sell(index)

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
        return proposed_stake * grid_entry_fraction(levels, current_rate)

    def adjust_trade_position(self, trade, current_time, current_rate, current_profit, min_stake,
                              max_stake, current_entry_rate, current_exit_rate, current_entry_profit,
                              current_exit_profit, **kwargs):
        ladder = self.open_ladder(trade)
        if ladder is None:
            return None
        min_stake = min_stake or 0.0

        if self.recentre.value and ladder.out_of_range(current_rate):
            inputs = self._template_inputs(trade.pair)
            if inputs is not None and inputs[1] < self.adx_max.value:
                new = ladder.recentred(current_rate, inputs[0], float(self.bounds_atr_mult.value),
                                       float(self.step_atr_mult.value), float(self.stop_pct.value))
                self.ladders.put(trade, new)
                delta = new.lots_held * new.lot_amount - trade.amount
                if delta > 0 and min_stake <= delta * current_rate <= max_stake:
                    return delta * current_rate, order_tag(KIND, "recentre")
                if delta < 0 and -delta * current_rate >= min_stake:
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
            if stake < min_stake or stake > max_stake:
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
