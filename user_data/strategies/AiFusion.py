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

FreqAI features, target and the fusion: ``plugins/strategy/freqai_fusion.py`` (shared with SignalVote):
returns, RSI, ATR%, regime features (ADX, EMA20/50 spread, Bollinger width, distance to EMA),
relative volume, hour/day; all TA-Lib, causal.

    freqtrade backtesting --config user_data/config.json --config user_data/config.freqai.json \
        --freqaimodel EnsembleRegressor --strategy AiFusion --timerange 20250201-20250831
"""

import logging

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy

from plugins.quant.candles import merge_aligned_startup
from plugins.quant.fusion import technical_score
from plugins.strategy.freqai_fusion import FreqAiFusionMixin
from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.order_timeouts import SIGNAL_ORDER_TIMEOUT
from plugins.strategy.pack_protections import ConfiguredProtections


logger = logging.getLogger(__name__)

class AiFusion(ConfiguredProtections, FreqAiFusionMixin, MarketGateMixin, IStrategy):
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
    startup_candle_count = merge_aligned_startup(200, timeframe_minutes=60)

    # Fusion: ai_weight / ai_gain / ai_fallback_technical come from FreqAiFusionMixin (buy space).
    entry_threshold = DecimalParameter(0.50, 0.80, default=0.70, decimals=2, space="buy")
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

    # --- indicators and scores --------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self.start_freqai(dataframe, metadata)
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
        dataframe["fused_score"] = self.fuse(dataframe, dataframe["tech_score"])
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
