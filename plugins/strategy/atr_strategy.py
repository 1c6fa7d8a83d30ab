"""Common frame of the pack's 1h ATR-managed strategies (RsiMeanReversion, EmaBbTrend, ...).

``AtrManagedStrategy`` = ``MarketGateMixin`` (leader + pair 1d/4h market gate, see
``plugins.strategy.market_gate``) + ``StagedExitsMixin`` (ATR sizing + hard stop / TP1 / break-even / trailing
/ TP2, see ``plugins.strategy.staged_exits``) + ``HigherTimeframeTrendMixin`` (4h/1d trend votes and the
weighted ``trend_score`` / ``htf_score``, see ``plugins.strategy.trend_mixin``) on a 1h, spot, long-only
``IStrategy``: exits come from the strategy's signals and the staged plan, never from ROI; the
-25% static stop is only a last resort behind the ATR stop. A subclass writes its trading plan:
indicators (calling ``self.add_atr``, ``self.add_trend_scores`` and ``self.add_market_gate``), entry
and exit signals (ending with ``self.gate_entries`` / ``self.gate_exits``). The ATR stake is
scaled by the gate state the entry was taken in (risk_small: half).

Freqtrade lists only classes defined in a strategy file, so this abstract base is never listed.
"""

import talib.abstract as ta
from pandas import DataFrame

from freqtrade.strategy import IntParameter, IStrategy, informative

from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.order_timeouts import SIGNAL_ORDER_TIMEOUT
from plugins.strategy.pack_protections import ConfiguredProtections
from plugins.strategy.staged_exits import StagedExitsMixin
from plugins.strategy.trend_mixin import HigherTimeframeTrendMixin


class AtrManagedStrategy(
    ConfiguredProtections, MarketGateMixin, StagedExitsMixin, HigherTimeframeTrendMixin, IStrategy
):
    INTERFACE_VERSION = 3

    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 100}
    stoploss = -0.25
    process_only_new_candles = True
    unfilledtimeout = SIGNAL_ORDER_TIMEOUT

    atr_period = IntParameter(7, 28, default=14, space="buy", optimize=False)

    # The pair's own 4h / 1d candles are merged once, for the trend votes and the market gate.
    gate_pair_in_own_informatives = True

    @informative("4h")
    def populate_trend_4h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self._trend_columns(dataframe, self.trend_ema_4h.value)
        return self._intraday_flags(dataframe)

    @informative("1d")
    def populate_trend_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self._trend_columns(dataframe, self.trend_ema_1d.value)
        return self._daily_flags(dataframe)

    def add_atr(self, dataframe: DataFrame) -> DataFrame:
        """The ``atr`` column the sizing and exit hooks read (TA-Lib Wilder ATR)."""
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=self.atr_period.value)
        return dataframe
