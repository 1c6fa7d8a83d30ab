"""Freqtrade wiring of ``plugins.quant.trend`` for 1h strategies: 4h/1d informative trend columns, scores.

``HigherTimeframeTrendMixin`` (put it before ``IStrategy``) adds, through ``@informative``, the
4h and 1d columns ``trend_dir_4h``, ``vol_factor_4h``, ``trend_dir_1d``, ``vol_factor_1d`` (each
timeframe's close vs its EMA, and its ATR weight factor). Freqtrade merges them so a 4h / 1d candle
is only seen once it has closed. Call ``self.add_trend_scores(dataframe)`` at the end of
``populate_indicators`` to get:

- ``trend_score``: 1h + 4h + 1d vote (base weights 0.4 / 0.3 / 0.2, ATR-adapted, renormalised);
- ``htf_score``: the higher timeframes only (4h + 1d, base 0.3 / 0.2, renormalised).

No 1w vote: the pack has no weekly candles (see ``plugins.quant.trend``), so its 0.1 is renormalised away.
Startup: freqtrade loads each informative timeframe with ``startup_candle_count`` candles *of that
timeframe*, so the 4h/1d columns (EMA, ATR + median window: about ``3 x EMA + 14 + 30`` candles)
are warm whenever the 1h columns are; the strategy's own 1h indicators set its startup count.
"""

from pandas import DataFrame

from freqtrade.strategy import CategoricalParameter, IntParameter, informative

from plugins.strategy.strategy_params import OwnParametersMixin
from plugins.quant.trend import ema_trend_direction, volatility_factor, weighted_trend_score


class HigherTimeframeTrendMixin(OwnParametersMixin):
    """4h/1d trend votes and the weighted ``trend_score`` / ``htf_score`` columns (1h strategy)."""

    # Indicator settings: declared as parameters (loadable from the strategy's json), not searched.
    trend_ema_1h = IntParameter(20, 200, default=50, space="buy", optimize=False)
    trend_ema_4h = IntParameter(20, 200, default=50, space="buy", optimize=False)
    trend_ema_1d = IntParameter(10, 50, default=20, space="buy", optimize=False)
    vol_atr_period = IntParameter(7, 28, default=14, space="buy", optimize=False)
    vol_lookback = IntParameter(10, 60, default=30, space="buy", optimize=False)
    # "inverse": a volatile timeframe's vote counts less (pack); "seed": more (seed 003). The
    # default and the measured reason are in plugins/quant/trend.py's volatility_factor docs.
    vol_weighting = CategoricalParameter(["inverse", "seed"], default="inverse", space="buy", optimize=False)

    def _trend_columns(self, dataframe: DataFrame, ema_period: int) -> DataFrame:
        dataframe["trend_dir"] = ema_trend_direction(dataframe["close"], ema_period)
        dataframe["vol_factor"] = volatility_factor(
            dataframe["high"], dataframe["low"], dataframe["close"],
            atr_period=self.vol_atr_period.value, lookback=self.vol_lookback.value,
            weighting=self.vol_weighting.value,
        )
        return dataframe

    @informative("4h")
    def populate_trend_4h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._trend_columns(dataframe, self.trend_ema_4h.value)

    @informative("1d")
    def populate_trend_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._trend_columns(dataframe, self.trend_ema_1d.value)

    def add_trend_scores(self, dataframe: DataFrame) -> DataFrame:
        """Add the 1h vote and the ``trend_score`` / ``htf_score`` columns (after the merge)."""
        self._trend_columns(dataframe, self.trend_ema_1h.value)
        directions = {"1h": dataframe["trend_dir"], "4h": dataframe["trend_dir_4h"],
                      "1d": dataframe["trend_dir_1d"]}
        factors = {"1h": dataframe["vol_factor"], "4h": dataframe["vol_factor_4h"],
                   "1d": dataframe["vol_factor_1d"]}
        dataframe["trend_score"] = weighted_trend_score(directions, factors)
        higher = ("4h", "1d")
        dataframe["htf_score"] = weighted_trend_score(
            {tf: directions[tf] for tf in higher}, {tf: factors[tf] for tf in higher}
        )
        return dataframe
