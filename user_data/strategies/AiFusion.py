"""
AI fusion (seeds 000 + 003): a technical score blended with a FreqAI ensemble's prediction.

Trading plan
- Indicators (1h): EMA20/EMA50, RSI(14), ADX(14), ATR% and Bollinger width (for the plot).
  Technical score in [0, 1] (``plugins.quant.fusion.technical_score``): uptrend (EMA20 vs EMA50),
  pullback (low RSI) and trend strength (ADX, counted in uptrends only).
- AI (optional, FreqAI): ``EnsembleRegressor`` predicts the mean forward return over the next
  ``label_period_candles`` candles (``EnsembleClassifier``: up/down). The prediction becomes a
  score in [0, 1] (logistic of prediction / training-label std; classifier: P(up)). Predictions
  flagged by FreqAI (``do_predict != 1``: dissimilarity index above ``DI_threshold``, SVM
  outlier, NaN features) are skipped: no fused score, no signal on that candle.
- Fusion: fused = (1 - ai_weight) * technical + ai_weight * ai, defaults 0.65 / 0.35.
  Without FreqAI (no ``freqai`` section or ``enabled: false``) the AI weight is 0 and the fused
  score is the technical score alone: the strategy still trades.
- Skill check: the model's part counts only in FreqAI training windows whose out-of-sample skill
  was positive (``ensemble_skill``: the ensemble's Spearman correlation on the time-ordered
  validation rows, logged at every training, plugins/freqai/ensemble.py). In a window without
  skill the fused score is the technical score alone.
- Entry: fused >= entry_threshold, volume > 0, and the market gate open
  (plugins/strategy/market_gate.py: risk_on full size, risk_small half size).
- Exit: fused <= exit_threshold, the gate's risk_off exit, ROI ladder, 7% stoploss. Long only (spot).

FreqAI features (``feature_engineering_*``): returns, RSI, ATR%, regime features (ADX, EMA20/50
spread, Bollinger width, distance to EMA), relative volume, hour/day; all TA-Lib, causal.

    freqtrade backtesting --config user_data/config.json --config user_data/config.freqai.json \
        --freqaimodel EnsembleRegressor --strategy AiFusion --timerange 20250201-20250831
"""

import logging

import numpy as np
import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import BooleanParameter, DecimalParameter, IntParameter, IStrategy

from plugins.quant.fusion import SKILL_COLUMN, fused_score, prediction_score, technical_score
from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.order_timeouts import SIGNAL_ORDER_TIMEOUT
from plugins.strategy.pack_protections import ConfiguredProtections


logger = logging.getLogger(__name__)

REGRESSION_TARGET = "&-mean_fwd_return"
CLASS_TARGET = "&s-up_or_down"


class AiFusion(ConfiguredProtections, MarketGateMixin, IStrategy):
    INTERFACE_VERSION = 3

    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 0.08, "720": 0.04, "1440": 0.01}
    stoploss = -0.07
    process_only_new_candles = True
    use_exit_signal = True
    unfilledtimeout = SIGNAL_ORDER_TIMEOUT
    # ADX(14)/EMA50 need ~200 candles to settle (recursive-analysis: < 0.001% at 199); FreqAI adds
    # its training window on top by itself.
    startup_candle_count = 200

    # Fusion (buy space): AI weight (technical gets 1 - ai_weight) and the entry threshold.
    ai_weight = DecimalParameter(0.0, 0.6, default=0.35, decimals=2, space="buy")
    entry_threshold = DecimalParameter(0.50, 0.80, default=0.70, decimals=2, space="buy")
    ai_gain = DecimalParameter(0.5, 6.0, default=3.0, decimals=1, space="buy")
    ai_fallback_technical = BooleanParameter(default=False, space="buy", optimize=False)
    # Technical score shape (buy space).
    rsi_low = IntParameter(20, 40, default=30, space="buy")
    rsi_high = IntParameter(60, 80, default=70, space="buy")
    adx_low = IntParameter(10, 20, default=15, space="buy", optimize=False)
    adx_high = IntParameter(25, 45, default=35, space="buy", optimize=False)
    ema_spread_scale = DecimalParameter(0.005, 0.05, default=0.02, decimals=3, space="buy")
    # Exit (sell space).
    exit_threshold = DecimalParameter(0.20, 0.50, default=0.31, decimals=2, space="sell")

    plot_config = {
        "main_plot": {"ema20": {"color": "#ff7f0e"}, "ema50": {"color": "#1f77b4"}},
        "subplots": {
            "Scores": {
                "tech_score": {"color": "#2ca02c"},
                "ai_score": {"color": "#9467bd"},
                "fused_score": {"color": "#1f77b4"},
            },
            "Market gate": {"market_state": {"color": "#e65100"}},
            "FreqAI": {"do_predict": {"color": "#8c564b"}, "DI_values": {"color": "#7f7f7f"}},
            "RSI / ADX": {"rsi": {"color": "#d62728"}, "adx": {"color": "#26a69a"}},
        },
    }

    # --- FreqAI -----------------------------------------------------------------------------------

    @property
    def ai_enabled(self) -> bool:
        return bool(self.config.get("freqai", {}).get("enabled", False))

    @property
    def uses_classifier(self) -> bool:
        return "Classifier" in str(self.config.get("freqaimodel") or "")

    def feature_engineering_expand_all(self, dataframe: DataFrame, period: int,
                                       metadata: dict, **kwargs) -> DataFrame:
        """Per indicator period, timeframe and correlated pair: momentum, volatility, regime."""
        close = dataframe["close"]
        dataframe["%-rsi-period"] = ta.RSI(dataframe, timeperiod=period)
        dataframe["%-roc-period"] = close / close.shift(period) - 1
        dataframe["%-atrp-period"] = ta.ATR(dataframe, timeperiod=period) / close
        dataframe["%-adx-period"] = ta.ADX(dataframe, timeperiod=period)
        dataframe["%-ema_dist-period"] = close / ta.EMA(dataframe, timeperiod=period) - 1
        bands = ta.BBANDS(dataframe, timeperiod=period, nbdevup=2.0, nbdevdn=2.0)
        width = bands["upperband"] - bands["lowerband"]
        dataframe["%-bb_width-period"] = width / bands["middleband"]
        volume_mean = dataframe["volume"].rolling(period).mean()
        dataframe["%-rel_volume-period"] = dataframe["volume"] / volume_mean.where(volume_mean > 0)
        return dataframe

    def feature_engineering_expand_basic(self, dataframe: DataFrame, metadata: dict,
                                         **kwargs) -> DataFrame:
        """Per timeframe and correlated pair: last return, candle range, EMA20/EMA50 spread."""
        close = dataframe["close"]
        dataframe["%-return_1"] = close.pct_change()
        dataframe["%-range"] = (dataframe["high"] - dataframe["low"]) / close
        dataframe["%-ema20_50_spread"] = (
            ta.EMA(dataframe, timeperiod=20) / ta.EMA(dataframe, timeperiod=50) - 1
        )
        return dataframe

    def feature_engineering_standard(self, dataframe: DataFrame, metadata: dict,
                                     **kwargs) -> DataFrame:
        """Once, base timeframe: time of day / week (crypto has intraday seasonality)."""
        hour = dataframe["date"].dt.hour
        dataframe["%-hour_sin"] = np.sin(2 * np.pi * hour / 24)
        dataframe["%-hour_cos"] = np.cos(2 * np.pi * hour / 24)
        dataframe["%-day_of_week"] = dataframe["date"].dt.dayofweek / 6
        return dataframe

    def set_freqai_targets(self, dataframe: DataFrame, metadata: dict, **kwargs) -> DataFrame:
        """Mean close over the next N candles vs the current close (FreqAI's label; N =
        label_period_candles). The classifier gets "up"/"down" from the sign of the same value."""
        horizon = int(self.freqai_info["feature_parameters"]["label_period_candles"])
        close = dataframe["close"]
        forward = close.shift(-horizon).rolling(horizon).mean() / close - 1
        if self.uses_classifier:
            dataframe[CLASS_TARGET] = np.where(forward > 0, "up", "down")
            dataframe.loc[forward.isna(), CLASS_TARGET] = np.nan
        else:
            dataframe[REGRESSION_TARGET] = forward
        return dataframe

    # --- indicators and scores --------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if self.ai_enabled:
            dataframe = self.freqai.start(dataframe, metadata, self)
        dataframe["ema20"] = ta.EMA(dataframe, timeperiod=20)
        dataframe["ema50"] = ta.EMA(dataframe, timeperiod=50)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["adx"] = ta.ADX(dataframe, timeperiod=14)
        dataframe["atr_pct"] = ta.ATR(dataframe, timeperiod=14) / dataframe["close"]
        return self.add_market_gate(dataframe)

    def _scores(self, dataframe: DataFrame) -> DataFrame:
        """tech_score, ai_score, ai_valid and fused_score with the current parameter values."""
        dataframe["tech_score"] = technical_score(
            dataframe["ema20"], dataframe["ema50"], dataframe["rsi"], dataframe["adx"],
            spread_scale=self.ema_spread_scale.value, rsi_low=self.rsi_low.value,
            rsi_high=self.rsi_high.value, adx_low=self.adx_low.value, adx_high=self.adx_high.value,
        )
        ai = None
        if self.ai_enabled:
            if self.uses_classifier and "up" in dataframe:
                ai = dataframe["up"].astype(float)
            elif REGRESSION_TARGET in dataframe:
                ai = prediction_score(dataframe[REGRESSION_TARGET],
                                      dataframe[f"{REGRESSION_TARGET}_std"], self.ai_gain.value)
        if ai is None:
            dataframe["ai_score"] = np.nan
            dataframe["ai_valid"] = 0
        else:
            dataframe["ai_score"] = ai
            dataframe["ai_valid"] = (dataframe["do_predict"] == 1).astype(int)
        weight = float(self.ai_weight.value)
        fused = fused_score(
            dataframe["tech_score"], ai, dataframe["ai_valid"] == 1, w_tech=1.0 - weight,
            w_ai=weight, fallback_to_technical=self.ai_fallback_technical.value,
        )
        if ai is not None and SKILL_COLUMN in dataframe:
            # A training window without out-of-sample skill: its predictions are noise.
            fused = fused.where(dataframe[SKILL_COLUMN] > 0, dataframe["tech_score"])
        dataframe["fused_score"] = fused
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self._scores(dataframe)
        dataframe.loc[
            (dataframe["fused_score"] >= self.entry_threshold.value) & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "fused_ai" if self.ai_enabled else "fused_tech")
        return self.gate_entries(dataframe)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if "fused_score" not in dataframe:
            dataframe = self._scores(dataframe)
        dataframe.loc[
            (dataframe["fused_score"] <= self.exit_threshold.value) & (dataframe["volume"] > 0),
            ["exit_long", "exit_tag"],
        ] = (1, "fused_low")
        return self.gate_exits(dataframe)
