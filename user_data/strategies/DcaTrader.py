"""
DCA trader (seed 002 §6.2, §7.3): dollar-cost averaging into dips through freqtrade's position adjustment.

Trading plan
- Indicators (1h): ATR(14) for the ladder template, RSI(14) for the entry, a 20-candle volume ratio
  and the prior candle's high for the safety-order confirmation, the lowest low of the last
  stop_lookback candles for the structure stop; the market gate (plugins/strategy/market_gate.py).
- Entry: RSI(14) <= buy_rsi (a dip) with a valid ATR template, only while the market gate is open
  (risk_on full size; risk_small, e.g. the pair's 4h below its EMA, half the whole ladder).
- Ladder template (plugins.quant.ladders.atr_dca_template), fixed at the initial fill from the last closed
  candle: trigger = trigger_atr_mult × ATR / price (seed: 1.5), take profit = tp_atr_mult × ATR / price
  (seed: 3).
- Safety orders (adjust_trade_position): a further buy once price is trigger below the LAST buy AND
  the last closed candle confirms it (plugins.quant.ladders.safety_buy_confirmed: a capitulation
  candle, volume >= 2x its mean with RSI <= 25, or a reclaim, close above the previous high), up
  to max_steps; averaging down into a falling knife without either sign is what emptied the
  account in 2022. Each is
  initial_stake × step_scale**k. custom_stake_amount makes the initial order proposed_stake divided by
  the ladder's total weight, so the full ladder is always funded from the trade's share of the wallet
  (with "unlimited" stake each trade is sized at 1/max_open_trades of the wallet).
- Exit: the whole position is sold at average entry × (1 + take profit) (adjust_trade_position with a
  full negative stake, limit price at the TP via custom_exit_price). The resting TP is cancelled
  as soon as a safety buy is due at the last close (freqtrade holds one open order per trade, so
  it would block the buy until the week-long ladder timeout; fixed in session 10).
- Risk: a stop for the whole position under market structure: the lowest low of the last
  stop_lookback (168, one week) candles before entry minus one ATR (plugins.quant.ladders.structure_stop), or
  stop_pct below the average entry when that is unusable (custom_stoploss). No buy takes the
  position past max_ladder_share (20%) of equity. The market gate's risk_off exit closes it.
  max_entry_position_adjustment = 6 is the hard cap (the top of max_steps' range).
- State: the ladder (trigger, TP, filled steps, cost, amount, last buy) lives in the trade's custom
  data (plugins.strategy.ladder_state), so a restarted bot resumes it and FreqUI shows the next trigger, the
  TP price and the average entry.

What a candle-based backtest can and cannot simulate
- Freqtrade holds ONE open order per trade and calls adjust_trade_position once per candle, so only
  the order nearer the candle's open rests (next safety buy or take profit); at most one safety
  order fills per candle even if a crash candle crosses several triggers (live, the next one is
  placed seconds later). A limit order fills when the candle's low <= price <= high; a candle that
  opens beyond the trigger / TP fills at the open.
- A ladder order is placed only when its price is within custom_price_max_distance_ratio (2%) of
  the price (live, freqtrade would move a farther custom price to 2%, i.e. buy above the trigger);
  a candle that opens farther away and then reaches the trigger / TP is not filled in the backtest.
- plot_config draws, for every candle, where the next safety buy and the take profit would be for a
  single buy at that candle's close (dca_next_trigger / dca_take_profit, causal). The actual average
  entry, next trigger and TP of an open trade are in its custom data ("ladder").
"""

import numpy as np
import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy

from plugins.strategy.ladder_state import exit_stake, last_closed_candle, order_tag, parse_order_tag
from plugins.strategy.ladder_strategy import LadderStrategyMixin
from plugins.quant.candles import merge_aligned_startup
from plugins.quant.ladders import (
    DcaLadder,
    atr_dca_template,
    dca_initial_stake,
    safety_buy_confirmed,
    structure_stop,
)
from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.pack_protections import ConfiguredProtections


KIND = "dca"


class DcaTrader(ConfiguredProtections, MarketGateMixin, LadderStrategyMixin, IStrategy):
    INTERFACE_VERSION = 3
    ladder_kind = KIND

    timeframe = "1h"
    can_short = False
    # Exits come from the take profit and the stop on the whole position, not from ROI.
    minimal_roi = {"0": 100}
    stoploss = -0.30
    use_custom_stoploss = True
    process_only_new_candles = True
    position_adjustment_enable = True
    max_entry_position_adjustment = 6
    # ATR(14) / RSI(14) use Wilder smoothing: 200 candles make them independent of the start.
    startup_candle_count = merge_aligned_startup(200, timeframe_minutes=60)

    buy_rsi = IntParameter(20, 50, default=35, space="buy")
    max_steps = IntParameter(1, 6, default=4, space="buy")
    step_scale = DecimalParameter(1.0, 2.0, default=1.0, decimals=1, space="buy")
    trigger_atr_mult = DecimalParameter(0.5, 3.0, default=1.5, decimals=1, space="buy")
    tp_atr_mult = DecimalParameter(1.0, 5.0, default=3.0, decimals=1, space="sell")
    stop_pct = DecimalParameter(0.05, 0.25, default=0.15, decimals=2, space="sell")
    stop_lookback = IntParameter(48, 336, default=168, space="sell", optimize=False)

    plot_config = {
        "main_plot": {
            "dca_take_profit": {"color": "#2ca02c"},
            "dca_next_trigger": {"color": "#d62728"},
        },
        "subplots": {
            "RSI": {"rsi": {"color": "#9467bd"}, "buy_rsi": {"color": "#7f7f7f"}},
            "Safety confirm": {"dca_confirm": {"color": "#43a047", "type": "bar"}},
            "Market gate": {"market_state": {"color": "#e65100"}},
        },
    }

    # --- signals -------------------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        volume_mean = dataframe["volume"].rolling(20).mean()
        dataframe["dca_confirm"] = safety_buy_confirmed(
            dataframe["volume"] / volume_mean.where(volume_mean > 0), dataframe["rsi"],
            dataframe["close"], dataframe["high"].shift(1),
        ).astype(int)
        dataframe["recent_low"] = dataframe["low"].rolling(self.stop_lookback.value).min()
        return self.add_market_gate(dataframe)

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # Template columns depend on hyperopt parameters, so they are built here (per epoch).
        trigger, tp = atr_dca_template(
            dataframe["close"], dataframe["atr"], self.trigger_atr_mult.value, self.tp_atr_mult.value
        )
        dataframe["dca_next_trigger"] = dataframe["close"] * (1 - trigger)
        dataframe["dca_take_profit"] = dataframe["close"] * (1 + tp)
        dataframe["buy_rsi"] = self.buy_rsi.value
        dataframe.loc[
            (dataframe["rsi"] <= self.buy_rsi.value)
            & dataframe["dca_next_trigger"].notna()
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "dca_start")
        return self.gate_entries(dataframe)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # The take profit or the stop closes the whole position; the gate adds its risk_off exit.
        return self.gate_exits(dataframe)

    # --- freqtrade hooks -----------------------------------------------------------------------

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                            max_stake, leverage, entry_tag, side, **kwargs) -> float:
        """Initial order sized so the initial order plus every safety order cost the ladder budget."""
        budget = min(proposed_stake, float(self.max_ladder_share.value) * self.wallets.get_total_stake_amount())
        stake = dca_initial_stake(budget, self.max_steps.value, float(self.step_scale.value))
        return self.gated_stake(entry_tag, stake)

    def start_ladder(self, trade, price: float, amount: float) -> DcaLadder | None:
        row = last_closed_candle(self.dp, trade.pair, self.timeframe)
        if row is None:
            return None
        trigger, tp = atr_dca_template(price, row.get("atr", np.nan), float(self.trigger_atr_mult.value),
                                       float(self.tp_atr_mult.value))
        if not (np.isfinite(trigger) and np.isfinite(tp)):
            return None
        stop = structure_stop(float(row.get("recent_low", np.nan)), float(row.get("atr", np.nan)))
        return DcaLadder.start(price, amount, trigger, tp, float(self.stop_pct.value),
                               self.max_steps.value, float(self.step_scale.value),
                               structure_stop=stop if stop < price else 0.0)

    def apply_fill(self, ladder: DcaLadder, side: str, index: int | None, order, trade) -> DcaLadder | None:
        if side != "buy":
            return None  # the take profit closes the trade
        return ladder.after_buy(order.safe_price, order.safe_filled)

    def adjust_trade_position(self, trade, current_time, current_rate, current_profit, min_stake,
                              max_stake, current_entry_rate, current_exit_rate, current_entry_profit,
                              current_exit_profit, **kwargs):
        ladder = self.open_ladder(trade)
        if ladder is None:
            return None
        if self._safety_buy_due(ladder, trade.pair, current_rate):
            stake = ladder.next_stake
            if stake < (min_stake or 0.0) or stake > max_stake or not self.within_budget(trade, stake, current_rate):
                return None
            return stake, order_tag(KIND, "buy", ladder.steps_filled + 1)
        if not self.in_reach(ladder.take_profit, current_rate):
            return None
        return exit_stake(trade, trade.amount), order_tag(KIND, "sell")

    def _safety_buy_due(self, ladder: DcaLadder, pair: str, rate: float) -> bool:
        """Price at or below the next trigger (above the stop), confirmed by the last closed candle."""
        trigger = ladder.next_trigger
        if trigger is None or rate > trigger or trigger <= ladder.stop_price:
            return False
        row = last_closed_candle(self.dp, pair, self.timeframe)
        return row is not None and row.get("dca_confirm", 0) == 1

    def resting_orders(self, ladder: DcaLadder, pair: str) -> list[tuple[str, float | None]]:
        # The take profit rests until a safety buy is due at the last close: freqtrade keeps one
        # open order per trade, so a resting take profit would block the buy (until the week-long
        # ladder timeout). A safety buy is placed at the market only on a confirmed candle, so a
        # buy that did not fill on that candle is stale.
        row = last_closed_candle(self.dp, pair, self.timeframe)
        if row is not None and self._safety_buy_due(ladder, pair, float(row["close"])):
            return []
        return [("sell", ladder.take_profit)]

    def custom_exit_price(self, pair, trade, current_time, proposed_rate, current_profit, exit_tag,
                          **kwargs):
        ladder = self.ladders.get(trade)
        if ladder is None or parse_order_tag(exit_tag, KIND) != ("sell", None):
            return proposed_rate
        return max(ladder.take_profit, proposed_rate)
