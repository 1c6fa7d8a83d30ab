"""
EMA / Bollinger trend follower (seed 002 §6.3) with multi-timeframe confirmation (seed 003).

Trading plan (1h candles, long only on spot)
- Indicators: fast/slow EMA (periods per pair from ema_periods.json, default 20/50, fitted on
  2024-09-14..2025-01-31, see plugins/quant/pair_params.py); Bollinger bands (20, buy_bb_std = 2.0);
  RSI(14); ATR(14) and NATR = ATR / close; 20-candle average volume; the weighted 1h/4h/1d trend
  score ``trend_score`` (plugins/quant/trend.py, seed weights 0.4/0.3/0.2, ATR-adapted, renormalised).
- Entry: the fast EMA crossed above the slow EMA within buy_cross_window candles, close above the
  upper band, RSI in [buy_rsi_min, buy_rsi_max] (30-70), volume > buy_volume_mult (1.5) x average,
  NATR in [buy_natr_min, buy_natr_max] (ATR filter: not dead, not wild; seed 002 asks for ATR > 5 %
  of price instead, ``buy_natr_rule = "seed"``, but on 1h candles that rule made 0 trades from
  2020-01 to 2025-08 on the ten pairs, so the band stays the default), trend_score >=
  buy_trend_min (never against the weighted higher-timeframe trend).
- Exit: fast EMA back below the slow EMA, or the hard stop entry - exit_stop_atr x ATR. No
  take-profit (``take_profits = False``, plugins/strategy/staged_exits.py): a breakout is held
  until its trend breaks. Measured reason, the rule chosen on 2020-2021 only (ftpack-validate,
  the history data, half-years): with the staged plan (TP1 at 2 ATR closing half, then
  break-even and a 2.5 ATR trail, TP2 at 5 ATR) 2020-2021 made a chained CAGR of 1.71 %
  (Calmar 0.16), stop only 42.70 % (3.41): the plan sold the few large trends the strategy
  catches. Out of sample, 2022-01 -> 2025-08: staged -2.85 % a year, stop only 10.97 %
  (Calmar 1.05). docs/validation.md, "EmaBbTrend without take-profit".
- Risk (shared frame, plugins/strategy/atr_strategy.py): stake sized so the ATR stop costs sizing_risk of
  equity (max sizing_max_share per trade), -25% static stop behind it, DrawdownGuard protection.
  Position cap: a held position worth more than position_max_share (20 %) of equity is trimmed
  back to it (tag ``position_cap``). Measured reason (ftpack-validate, history half-years, the
  per-pair table refitted on the 6 months before each window): without it 2021H1 drew down
  23.05 %, past the 15 % budget; with it every 2020-2021 half-year stayed within it (deepest
  14.71 %) and the chained 2020-2021 Calmar rose from 2.43 to 2.87. Out of sample, 2022-01 ->
  2025-08: CAGR 8.78 % against 9.27 %, Calmar 0.58 against 0.56, every half-year within the
  budget (deepest 14.33 % against 15.78 %). docs/validation.md, "Per-pair tables".
"""

from pathlib import Path

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter

from plugins.strategy.atr_strategy import AtrManagedStrategy
from plugins.quant.candles import merge_aligned_startup
from plugins.quant.entry_filters import bars_in_zone
from plugins.quant.pair_params import PairTable


class EmaBbTrend(AtrManagedStrategy):
    # 1000 1h candles: the per-pair EMAs (up to 100) converge (checked with recursive-analysis);
    # the 4h/1d informative columns are loaded with 1000 candles of their own timeframe.
    startup_candle_count = merge_aligned_startup(1000, timeframe_minutes=60)

    # Indicator settings (not searched). EMA periods per pair: the committed table.
    ema_periods = PairTable(Path(__file__).with_name("ema_periods.json"), "EmaBbTrend")
    bb_period = IntParameter(10, 40, default=20, space="buy", optimize=False)
    rsi_period = IntParameter(7, 21, default=14, space="buy", optimize=False)
    volume_period = IntParameter(10, 50, default=20, space="buy", optimize=False)

    buy_cross_window = IntParameter(1, 24, default=12, space="buy")
    buy_bb_std = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="buy")
    buy_rsi_min = IntParameter(20, 45, default=30, space="buy")
    buy_rsi_max = IntParameter(60, 85, default=70, space="buy")
    buy_volume_mult = DecimalParameter(1.0, 3.0, default=1.5, decimals=1, space="buy")
    buy_natr_min = DecimalParameter(0.002, 0.010, default=0.004, decimals=3, space="buy")
    buy_natr_max = DecimalParameter(0.02, 0.08, default=0.05, decimals=2, space="buy")
    # "band": NATR within [buy_natr_min, buy_natr_max] (pack); "seed": seed 002's ATR > 5% of price.
    # Default and measured reason: the module docstring.
    buy_natr_rule = CategoricalParameter(["band", "seed"], default="band", space="buy", optimize=False)
    buy_trend_min = DecimalParameter(0.0, 0.8, default=0.3, decimals=1, space="buy")

    # Exits: the trend's end or the hard stop (exit_stop_atr); the staged plan's take-profit,
    # break-even and trailing levels are off (hyperopt no longer searches them). A winner held
    # without take-profit is trimmed back to position_max_share of equity (the plan's position
    # cap, through adjust_trade_position): measured reason in the module docstring ("Risk").
    take_profits = False
    position_max_share = DecimalParameter(0.0, 0.5, default=0.2, decimals=2, space="sizing",
                                          optimize=False)

    plot_config = {
        "main_plot": {
            "ema_fast": {"color": "#ff7f0e"},
            "ema_slow": {"color": "#1f77b4"},
            "bb_upper": {"color": "#7f7f7f"},
            "bb_mid": {"color": "#9e9e9e"},
        },
        "subplots": {
            "RSI": {"rsi": {"color": "#9467bd"}},
            "Trend score": {"trend_score": {"color": "#1f77b4"}, "htf_score": {"color": "#d62728"}},
            "ATR": {"natr": {"color": "#8c564b"}},
            "Market gate": {"market_state": {"color": "#e65100"}},
        },
    }

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        pair = metadata["pair"]
        dataframe["ema_fast"] = ta.EMA(dataframe, timeperiod=self.ema_periods.get(pair, "ema_fast"))
        dataframe["ema_slow"] = ta.EMA(dataframe, timeperiod=self.ema_periods.get(pair, "ema_slow"))
        # Bands as mid + k x std so k (buy_bb_std) can be searched without recomputing indicators
        # (the upper band is drawn in populate_entry_trend, with the epoch's k); TA-Lib's STDDEV is
        # the population deviation BBANDS uses.
        dataframe["bb_mid"] = ta.SMA(dataframe, timeperiod=self.bb_period.value)
        dataframe["bb_std"] = ta.STDDEV(dataframe, timeperiod=self.bb_period.value, nbdev=1.0)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=self.rsi_period.value)
        self.add_atr(dataframe)
        dataframe["natr"] = dataframe["atr"] / dataframe["close"]
        dataframe["volume_mean"] = dataframe["volume"].rolling(self.volume_period.value).mean()
        dataframe["cross_age"] = bars_in_zone(dataframe["ema_fast"] > dataframe["ema_slow"])
        self.add_trend_scores(dataframe)
        return self.add_market_gate(dataframe)

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        upper = dataframe["bb_upper"] = dataframe["bb_mid"] + self.buy_bb_std.value * dataframe["bb_std"]
        dataframe.loc[
            dataframe["cross_age"].between(1, self.buy_cross_window.value)
            & (dataframe["close"] > upper)
            & dataframe["rsi"].between(self.buy_rsi_min.value, self.buy_rsi_max.value)
            & (dataframe["volume"] > self.buy_volume_mult.value * dataframe["volume_mean"])
            & self._natr_filter(dataframe)
            & (dataframe["trend_score"] >= self.buy_trend_min.value)
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "ema_bb_breakout")
        return self.gate_entries(dataframe)

    def _natr_filter(self, dataframe: DataFrame):
        if self.buy_natr_rule.value == "seed":
            return dataframe["natr"] > self.buy_natr_max.value
        return dataframe["natr"].between(self.buy_natr_min.value, self.buy_natr_max.value)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[
            (dataframe["ema_fast"] < dataframe["ema_slow"]) & (dataframe["volume"] > 0),
            ["exit_long", "exit_tag"],
        ] = (1, "ema_cross_down")
        return self.gate_exits(dataframe)
