"""
Trend rider: hold the pairs that trend up on the daily chart while the market leader does too;
step aside when either trend breaks. The pack's flagship for surviving every market era.

Why
    The pack's dip buyers and ladders lost money in every bear phase, and in bull phases they sold
    their winners after a few percent. Time-series momentum (hold while price is above its rising
    daily average) is the most persistent effect in crypto: it is in the market through the 2020-21
    and 2023-24 bulls and mostly out of the 2022 bear and the 2025 spring sell-off. Buy-and-hold of
    the ten pairs fell 79 % peak to trough from 2021 to 2022; this plan keeps the losses of a broken
    trend small and sizes every position on its volatility, so one wild altcoin cannot sink the wallet.

Trading plan (4h candles, long only on spot)
- Indicators: the pack's market gate (plugins/strategy/market_gate.py) on 1d and 4h for the pair
  and the leader (BTC): daily close vs its EMA(50) and that EMA's 5-day slope, 4h close vs EMA(50);
  the pair's realised daily volatility (20 days of 4h log returns, plugins/quant/sizing.py).
- Entry: ``market_state`` turns risk_on: the pair AND the leader close above a rising daily EMA
  and above their 4h EMA; the candle the 4h close gets back above its EMA times the entry.
- Exit: the daily trend of the pair or of the leader breaks (``market_state`` falls to neutral or
  risk_off: close below the EMA, or the EMA no longer rising). No take-profit: a trend is held
  as long as it lasts.
- Hold at half size through 4h dips: the first time the state falls to risk_small (the 4h close
  below its EMA inside a daily uptrend) half the position is sold (``adjust_trade_position``,
  tag ``risk_small_cut``), seed 003's half size for risk_small applied to a held position. Once
  per trade; a cut position is not bought back (buying back on every 4h recross paid two fees per
  crossing and re-bought failing bounces: 2021H1 drawdown 14.4 % against 7.3 % without).
- Risk: each position gets ``sizing_max_share`` (20 %) of equity (never above freqtrade's
  proposed stake), scaled down so its daily volatility is ``buy_vol_target`` (1 %) of its stake
  share: a pair moving 5 % a day gets a fifth. Why 1 %: the flagship's risk budget is a 10 %
  half-year drawdown; five positions at 1 % daily volatility each keep a wallet's daily swing
  near 1-2 % even when all are correlated. (2 % was sized for 15 % and reached 19 %.) A risk
  budget, not a fitted value. A -25 % static stop is the disaster brake behind the trend exit
  (a daily-close exit cannot react to a crash inside the day).

Parameters
    Few on purpose: the gate's EMA(50)/5-day slope (shared with every pack strategy, not searched
    here) and ``buy_vol_target``. ``docs/trend-rider.md`` has the history results per half-year
    and the walk-forward check of ``buy_vol_target``.
"""

from datetime import datetime

import numpy as np
from pandas import DataFrame

from freqtrade.persistence import Trade
from freqtrade.strategy import DecimalParameter, IStrategy

from plugins.quant.candles import merge_aligned_startup
from plugins.quant.market_gate import NEUTRAL, RISK_ON, held_position_cut
from plugins.quant.sizing import realised_daily_volatility, volatility_target_share
from plugins.strategy.ladder_state import last_closed_candle
from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.order_timeouts import SIGNAL_ORDER_TIMEOUT


class TrendRider(MarketGateMixin, IStrategy):
    INTERFACE_VERSION = 3
    can_short = False
    timeframe = "4h"
    # The gate's daily EMA(50) + 5-day slope needs 55 daily candles = 330 4h candles; 400 lets
    # the EMA converge (recursive-analysis) and covers the 20-day volatility window (120 candles).
    startup_candle_count = merge_aligned_startup(400, timeframe_minutes=240)
    process_only_new_candles = True

    # No ROI: the trend exit decides. The static stop is a disaster brake (see the docstring).
    minimal_roi = {"0": 100}
    stoploss = -0.25
    use_exit_signal = True
    exit_profit_only = False
    unfilledtimeout = SIGNAL_ORDER_TIMEOUT
    # The first 4h dip inside the daily trend (risk_small) halves the position (adjust_trade_position).
    position_adjustment_enable = True

    volatility_days = 20
    candles_per_day = 6

    buy_vol_target = DecimalParameter(0.01, 0.05, default=0.01, decimals=3, space="buy")
    sizing_max_share = DecimalParameter(0.1, 0.5, default=0.2, decimals=2, space="buy", optimize=False)

    plot_config = {
        "main_plot": {},
        "subplots": {
            # Gate codes: 3 risk_on, 2 risk_small, 1 neutral, 0 risk_off.
            "Market gate": {
                "market_state": {"color": "#ef6c00"},
                "leader_state": {"color": "#0288d1"},
                "pair_state": {"color": "#43a047"},
            },
            "Daily volatility": {"daily_volatility": {"color": "#8e24aa"}},
        },
    }

    # --- indicators ---------------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["daily_volatility"] = realised_daily_volatility(
            dataframe["close"], self.candles_per_day, self.volatility_days)
        return self.add_market_gate(dataframe)

    # --- entry rules --------------------------------------------------------------------------

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # The candle the state turns risk_on (a new daily trend, or the 4h close back above its EMA
        # after a dip inside it): an event, not a level, so a pair that found every slot taken
        # waits for the next pullback to end instead of jumping in whenever a slot frees.
        state = dataframe["market_state"]
        entering = (state == RISK_ON) & (state.shift(1) < RISK_ON) & (dataframe["volume"] > 0)
        # Whole columns, not .loc[mask, [...]] = (1, "trend"): with no candle matching (short
        # history) pandas would create void-typed columns.
        dataframe["enter_long"] = entering.astype(int)
        dataframe["enter_tag"] = np.where(entering, "trend", None)
        return self.gate_entries(dataframe)

    # --- exit rules ---------------------------------------------------------------------------

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # Neutral = one of the two daily trends broke (risk_off exits come from the gate itself).
        broken = dataframe["market_state"] == NEUTRAL
        dataframe["exit_long"] = broken.astype(int)
        dataframe["exit_tag"] = np.where(broken, "trend_broken", None)
        return self.gate_exits(dataframe)

    # --- risk -----------------------------------------------------------------------------------

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str, **kwargs) -> float:
        candle = last_closed_candle(self.dp, pair, self.timeframe)
        volatility = float("nan") if candle is None else float(candle["daily_volatility"])
        share = volatility_target_share(volatility, float(self.buy_vol_target.value),
                                        float(self.sizing_max_share.value))
        # Never above freqtrade's own proposal (stake_amount, or with "unlimited" the free balance
        # split over the free slots): an entry is never refused for lack of funds, which would make
        # a trade depend on how much the other open positions happened to take.
        stake = min(self.wallets.get_total_stake_amount() * share, proposed_stake, max_stake)
        if min_stake is not None and stake < min_stake:
            return 0.0
        return self.gated_stake(entry_tag, stake)

    def adjust_trade_position(self, trade: Trade, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              current_entry_rate: float, current_exit_rate: float,
                              current_entry_profit: float, current_exit_profit: float,
                              **kwargs) -> tuple[float | None, str] | None:
        # Seed 003's risk_small is half size, for a held position too: a crash starts as a 4h
        # close below the 4h EMA, days before the daily trend breaks, so half the exposure is out
        # before the exit. Once per trade; the trade's own exits say whether it was cut already.
        if trade.nr_of_successful_exits > 0:
            return None  # cut already: held_position_cut is 0 in every state, no candle to read
        candle = last_closed_candle(self.dp, trade.pair, self.timeframe)
        if candle is None:
            return None
        share = held_position_cut(int(candle["market_state"]), already_cut=False)
        if share <= 0:
            return None
        return -trade.stake_amount * share, "risk_small_cut"
