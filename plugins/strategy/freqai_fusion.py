"""FreqAI in a pack strategy: the features, the target, and the blend of a technical score with the
model's prediction (seed 003's 65 / 35 fusion, math in ``plugins.quant.fusion``).

``FreqAiFusionMixin`` (put it before ``IStrategy`` or the strategy base) gives a strategy:

- FreqAI's hooks ``feature_engineering_expand_all`` / ``_expand_basic`` / ``_standard`` and
  ``set_freqai_targets`` (returns, RSI, ATR %, ADX, EMA distance, Bollinger width, relative
  volume, time of day; target: the mean close over the next ``label_period_candles`` vs now);
- ``self.start_freqai(dataframe, metadata)`` at the start of ``populate_indicators`` (a no-op
  without a ``freqai`` section or with ``enabled: false``);
- ``self.fuse(dataframe, technical)``: ``(1 - ai_weight) x technical + ai_weight x ai``, where ai
  is the prediction as a score in [0, 1]. Candles FreqAI flags (``do_predict != 1``) get no fused
  score unless ``ai_fallback_technical``; in a training window without out-of-sample skill
  (``ensemble_skill <= 0``) the technical score stands alone. Without FreqAI it returns
  ``technical`` unchanged, so the strategy trades on its technical part.

Used by AiFusion (technical score = trend / pullback / ADX) and SignalVote (technical score = the
aggregate vote's confidence on long candles).
"""

import copy

import numpy as np
import talib.abstract as ta
from pandas import DataFrame, Series

from freqtrade.strategy import BooleanParameter, DecimalParameter

from plugins.quant.fusion import SKILL_COLUMN, fused_score, prediction_score
from plugins.strategy.strategy_params import OwnParametersMixin


REGRESSION_TARGET = "&-mean_fwd_return"
CLASS_TARGET = "&s-up_or_down"


class FreqAiFusionMixin(OwnParametersMixin):
    """FreqAI features and target, and the technical / AI blend of seed 003 (65 / 35)."""

    ai_weight = DecimalParameter(0.0, 0.6, default=0.35, decimals=2, space="buy")
    ai_gain = DecimalParameter(0.5, 6.0, default=3.0, decimals=1, space="buy")
    ai_fallback_technical = BooleanParameter(default=False, space="buy", optimize=False)
    # The parameters only the model's part reads.
    AI_PARAMETERS = ("ai_weight", "ai_gain")

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        if not self.ai_enabled:
            # Freqtrade finds parameters with getattr on the strategy object, so an instance copy
            # takes them out of this run's search without touching the class (other instances,
            # a later run with FreqAI in the same process).
            for name in self.AI_PARAMETERS:
                frozen = copy.deepcopy(getattr(type(self), name))
                frozen.optimize = False
                setattr(self, name, frozen)

    @property
    def ai_enabled(self) -> bool:
        return bool(self.config.get("freqai", {}).get("enabled", False))

    @property
    def uses_classifier(self) -> bool:
        return "Classifier" in str(self.config.get("freqaimodel") or "")

    # --- FreqAI hooks ---------------------------------------------------------------------------

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

    # --- the strategy's calls -------------------------------------------------------------------

    def start_freqai(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """FreqAI's predictions merged onto the frame (train/predict), when FreqAI is enabled."""
        return self.freqai.start(dataframe, metadata, self) if self.ai_enabled else dataframe

    def ai_score(self, dataframe: DataFrame) -> Series | None:
        """The model's prediction as a score in [0, 1] (classifier: P(up)); None without FreqAI."""
        if not self.ai_enabled:
            return None
        if self.uses_classifier and "up" in dataframe:
            return dataframe["up"].astype(float)
        if REGRESSION_TARGET in dataframe:
            return prediction_score(dataframe[REGRESSION_TARGET],
                                    dataframe[f"{REGRESSION_TARGET}_std"], self.ai_gain.value)
        return None

    def fuse(self, dataframe: DataFrame, technical: Series) -> Series:
        """The fused score (also writes ``ai_score`` and ``ai_valid`` for the plot)."""
        ai = self.ai_score(dataframe)
        if ai is None:
            dataframe["ai_score"] = np.nan
            dataframe["ai_valid"] = 0
        else:
            dataframe["ai_score"] = ai
            dataframe["ai_valid"] = (dataframe["do_predict"] == 1).astype(int)
        weight = float(self.ai_weight.value)
        fused = fused_score(
            technical, ai, dataframe["ai_valid"] == 1, w_tech=1.0 - weight, w_ai=weight,
            fallback_to_technical=self.ai_fallback_technical.value,
        )
        if ai is not None and SKILL_COLUMN in dataframe:
            # A training window without out-of-sample skill: its predictions are noise.
            fused = fused.where(dataframe[SKILL_COLUMN] > 0, technical)
        return fused
