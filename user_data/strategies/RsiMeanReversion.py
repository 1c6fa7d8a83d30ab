"""
RSI mean reversion (seed 001): buy oversold dips of pairs whose higher-timeframe trend is not down.

Trading plan (1h candles; long only on spot, the short mirror only where the trading mode allows it)
- Indicators: RSI(14); the pair's "optimal EMA" (period per pair from ema_periods.json, fitted on
  2024-09-14..2025-01-31, see plugins/quant/pair_params.py); ATR(14); the weighted 4h/1d trend score
  ``htf_score`` (plugins/quant/trend.py, seed 003 weights renormalised without 1w).
- Entry (long): RSI <= buy_rsi (29), with every filter checked on the entry candle only:
  - higher-timeframe trend not down: htf_score >= buy_htf_min_score;
  - the pair's optimal EMA rising over buy_ema_slope candles;
  - RSI time filter: RSI in the zone for buy_rsi_min_bars..buy_rsi_max_bars consecutive candles;
  - exit scam: no single candle moved more than buy_scam_move in the last buy_scam_window;
  - maturity: every candle of the last buy_maturity_days days traded.
  Short mirror (futures subclasses with can_short = True): RSI >= short_rsi (71), htf_score <= -min.
- Exit: RSI >= sell_rsi (65) (short: RSI <= short_exit_rsi, 35), or the staged plan
  (plugins/strategy/staged_exits.py): hard stop exit_stop_atr x ATR; TP1 at exit_tp1_atr x ATR closes
  exit_tp1_share (50%), then stop to break-even and trailing exit_trail_atr x ATR; TP2 closes the
  rest.
- Risk: each trade risks sizing_risk (1%) of equity to its ATR stop, capped at sizing_max_share;
  last-resort -25% stop and DrawdownGuard come from plugins/strategy/atr_strategy.py.
"""

from pathlib import Path

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import DecimalParameter, IntParameter

from plugins.strategy.atr_strategy import AtrManagedStrategy
from plugins.quant.candle_checks import rolling_max_move
from plugins.quant.candles import merge_aligned_startup
from plugins.quant.entry_filters import bars_in_zone, mature_history
from plugins.quant.pair_params import PairTable


class RsiMeanReversion(AtrManagedStrategy):
    # 1500 1h candles (62.5 days): the 60-day maturity window fits and the per-pair 1h EMA (up to
    # 200) has converged (recursive-analysis: 0.000% from 999 on). The 4h/1d informative columns
    # are loaded with 1500 candles of their own timeframe, so they are warm too.
    startup_candle_count = merge_aligned_startup(1500, timeframe_minutes=60)

    # Indicator settings (not searched). "Optimal EMA" periods per pair: the committed table.
    ema_periods = PairTable(Path(__file__).with_name("ema_periods.json"), "RsiMeanReversion")
    rsi_period = IntParameter(7, 21, default=14, space="buy", optimize=False)

    buy_rsi = IntParameter(20, 35, default=29, space="buy")
    buy_rsi_min_bars = IntParameter(1, 4, default=1, space="buy")
    buy_rsi_max_bars = IntParameter(4, 24, default=12, space="buy")
    buy_htf_min_score = DecimalParameter(-0.6, 0.6, default=0.0, decimals=1, space="buy")
    buy_ema_slope = IntParameter(6, 72, default=24, space="buy")
    buy_scam_move = DecimalParameter(0.05, 0.30, default=0.15, decimals=2, space="buy")
    buy_scam_window = IntParameter(12, 72, default=24, space="buy")
    buy_maturity_days = IntParameter(7, 60, default=30, space="buy")
    short_rsi = IntParameter(65, 85, default=71, space="buy")

    sell_rsi = IntParameter(55, 80, default=65, space="sell")
    short_exit_rsi = IntParameter(20, 45, default=35, space="sell")

    plot_config = {
        "main_plot": {"ema_opt": {"color": "#ff7f0e"}},
        "subplots": {
            "RSI": {
                "rsi": {"color": "#9467bd"},
                "rsi_bars_in_zone": {"color": "#7f7f7f", "type": "bar"},
            },
            "Trend score": {"htf_score": {"color": "#d62728"}, "trend_score": {"color": "#1f77b4"}},
            "ATR": {"atr": {"color": "#8c564b"}},
            "Market gate": {"market_state": {"color": "#e65100"}},
        },
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=self.rsi_period.value)
        self.add_atr(dataframe)
        ema_period = self.ema_periods.get(metadata["pair"], "ema")
        dataframe["ema_opt"] = ta.EMA(dataframe, timeperiod=ema_period)
        self.add_trend_scores(dataframe)
        return self.add_market_gate(dataframe)

    def _common_filters(self, dataframe: DataFrame):
        max_move = rolling_max_move(dataframe["close"], self.buy_scam_window.value)
        return (
            (max_move < self.buy_scam_move.value)
            & mature_history(dataframe["volume"], self.buy_maturity_days.value * 24)
            & (dataframe["volume"] > 0)
        )

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        common = self._common_filters(dataframe)
        ema_change = dataframe["ema_opt"] - dataframe["ema_opt"].shift(self.buy_ema_slope.value)

        bars = (self.buy_rsi_min_bars.value, self.buy_rsi_max_bars.value)

        dataframe["rsi_bars_in_zone"] = bars_in_zone(dataframe["rsi"] <= self.buy_rsi.value)
        dataframe.loc[
            dataframe["rsi_bars_in_zone"].between(*bars)
            & (dataframe["htf_score"] >= self.buy_htf_min_score.value)
            & (ema_change > 0)
            & common,
            ["enter_long", "enter_tag"],
        ] = (1, "rsi_oversold")

        if self.can_short:
            short_bars = bars_in_zone(dataframe["rsi"] >= self.short_rsi.value)
            dataframe.loc[
                short_bars.between(*bars)
                & (dataframe["htf_score"] <= -self.buy_htf_min_score.value)
                & (ema_change < 0)
                & common,
                ["enter_short", "enter_tag"],
            ] = (1, "rsi_overbought")
        return self.gate_entries(dataframe)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (dataframe["rsi"] >= self.sell_rsi.value) & (dataframe["volume"] > 0),
            ["exit_long", "exit_tag"],
        ] = (1, "rsi_overbought")
        if self.can_short:
            dataframe.loc[
                (dataframe["rsi"] <= self.short_exit_rsi.value) & (dataframe["volume"] > 0),
                ["exit_short", "exit_tag"],
            ] = (1, "rsi_oversold")
        return self.gate_exits(dataframe)
