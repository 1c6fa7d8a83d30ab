"""
RSI mean reversion (seed 001): buy oversold pullbacks while the daily trend is not down.

Trading plan
- Indicators: RSI(14) on 1h; daily close vs its 20-day SMA (from the 1d informative timeframe).
- Entry: RSI <= buy_rsi (29) and the daily trend is not down, no exit-scam candle recently.
- Exit: RSI >= sell_rsi (65).
- Risk: 10% hard stop; long only (spot).
"""

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy, informative

from plugins.candle_checks import rolling_max_move
from plugins.pack_protections import configured_protections


class RsiMeanReversion(IStrategy):
    INTERFACE_VERSION = 3

    timeframe = "1h"
    can_short = False
    # Exits come from the RSI rule and the stoploss, not from ROI.
    minimal_roi = {"0": 100}
    stoploss = -0.10
    process_only_new_candles = True
    # 21 days of 1h candles: the 1d SMA(20) needs 20 complete daily candles.
    startup_candle_count = 21 * 24

    buy_rsi = IntParameter(20, 35, default=29, space="buy")
    scam_move = DecimalParameter(0.05, 0.30, default=0.15, decimals=2, space="buy")
    sell_rsi = IntParameter(55, 80, default=65, space="sell")

    plot_config = {
        "main_plot": {"sma20_1d": {"color": "orange"}},
        "subplots": {
            "RSI": {"rsi": {"color": "purple"}},
            "Daily trend": {"trend_down_1d": {"color": "red", "type": "bar"}},
        },
    }

    @property
    def protections(self):
        return configured_protections(
            self.config, [{"method": "DrawdownGuard", "max_drawdown": 0.25, "stop_duration_candles": 24}]
        )

    @informative("1d")
    def populate_indicators_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["sma20"] = ta.SMA(dataframe, timeperiod=20)
        dataframe["trend_down"] = (dataframe["close"] < dataframe["sma20"]).astype(int)
        return dataframe

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["max_move_24"] = rolling_max_move(dataframe["close"], 24)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (dataframe["rsi"] <= self.buy_rsi.value)
            & (dataframe["trend_down_1d"] == 0)
            & (dataframe["max_move_24"] < self.scam_move.value)
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "rsi_oversold")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (dataframe["rsi"] >= self.sell_rsi.value) & (dataframe["volume"] > 0),
            ["exit_long", "exit_tag"],
        ] = (1, "rsi_overbought")
        return dataframe
