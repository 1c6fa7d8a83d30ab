"""
Exit-scam pairlist filter: drop pairs that just made an outsized single-candle move or traced a
pump-and-dump over several candles.
"""

import logging
import math

from freqtrade.exceptions import OperationalException
from freqtrade.exchange.exchange_types import Tickers
from freqtrade.plugins.pairlist.IPairList import IPairList, PairlistParameter, SupportsBacktesting
from freqtrade.util import FtTTLCache

from plugins.quant.candle_checks import largest_recent_move, recent_pump_and_dump
from plugins.integration.pairlist_data import fetch_candles, is_historical, lookback_parameters
from plugins.integration.settings import PAIRLIST_LOOKBACK_REFINE, validate_pairlist


logger = logging.getLogger(__name__)


class ExitScamFilter(IPairList):
    """
    Removes pairs whose recent ``lookback_period`` candles of ``lookback_timeframe`` show

    - a single close-to-close move above ``max_candle_change`` (a fraction: 0.2 = 20%), or
    - a pump-and-dump shape: a run-up of at least ``pump_dump_rise`` from the lowest earlier
      close into a peak, followed by a fall of at least ``pump_dump_fall`` below that peak
      (``plugins.quant.candle_checks.recent_pump_and_dump``). This catches a pump spread over several
      candles that no single candle exceeds. ``pump_dump_rise: 0`` disables this rule.

    A pair with fewer than ``lookback_period`` + 1 candles cannot be checked and is removed
    (maturity; use AgeFilter for a longer listing-age rule).

    In backtesting, hyperopt and lookahead/recursive analysis the filter passes every pair
    (``SupportsBacktesting.NO_ACTION``): it would only see today's candles, which would leak the
    future into a past backtest, and a check frozen at the backtest start would exclude a pair
    for months over a spike that a live bot forgets after ``lookback_period`` candles. Strategies
    apply the same checks per candle, causally, for an honest backtest
    (``plugins.quant.candle_checks.rolling_max_move`` / ``rolling_pump_and_dump``).
    """

    supports_backtesting = SupportsBacktesting.NO_ACTION

    # Ranges that available_parameters() (the FreqUI source of truth) cannot express.
    REFINE = {
        **PAIRLIST_LOOKBACK_REFINE,
        "max_candle_change": {"minimum": 0, "exclusive_minimum": True,
                              "hint": "(a fraction, 0.2 = 20%)"},
        "pump_dump_rise": {"minimum": 0, "hint": "(0 disables the pump-and-dump rule)"},
        "pump_dump_fall": {"minimum": 0, "maximum": 0.99},
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = validate_pairlist(
            self.name, self._pairlistconfig, self.available_parameters(), self.REFINE
        )
        self._pairlistconfig.setdefault("lookback_timeframe", "1h")
        self._pairlistconfig.setdefault("lookback_period", 48)
        self._init_lookback_config(required=True)
        self._max_change = settings["max_candle_change"]
        self._pump_rise = settings["pump_dump_rise"]
        self._pump_fall = settings["pump_dump_fall"]
        if self._pump_rise > 0 and self._pump_fall == 0:
            raise OperationalException(
                f"{self.name}: pump_dump_fall must be > 0 when pump_dump_rise is set "
                "(set pump_dump_rise to 0 to disable the pump-and-dump rule)."
            )
        if self._pump_rise > 0 and self._lookback_period < 2:
            raise OperationalException(
                f"{self.name}: the pump-and-dump rule needs lookback_period >= 2 candles."
            )
        self._refresh_period = settings["refresh_period"]
        self._pair_cache: FtTTLCache = FtTTLCache(maxsize=1000, ttl=self._refresh_period)
        if is_historical(self._config):
            # Freqtrade's generic "do not generate any changes" warning does not say why.
            logger.info(
                f"{self.name}: keeps every pair in backtests (it judges the candles before now, "
                "which a backtest replaying the past does not have); it filters in dry-run/live."
            )

    def short_desc(self) -> str:
        shape = (
            f" or a pump of {self._pump_rise:.0%} then a dump of {self._pump_fall:.0%}"
            if self._pump_rise > 0
            else ""
        )
        return (
            f"{self.name} - Removing pairs with a single-candle move above "
            f"{self._max_change:.0%}{shape} in the last {self._lookback_period} x "
            f"{self._lookback_timeframe} candles."
        )

    @staticmethod
    def description() -> str:
        return "Drop pairs with a recent pump or dump candle or pump-and-dump (exit-scam filter)."

    @staticmethod
    def available_parameters() -> dict[str, PairlistParameter]:
        return {
            "max_candle_change": {
                "type": "number",
                "default": 0.2,
                "description": "Max single-candle move",
                "help": "Largest allowed close-to-close move of one candle (0.2 = 20%).",
            },
            "pump_dump_rise": {
                "type": "number",
                "default": 0.3,
                "description": "Pump size",
                "help": "Run-up into a peak (0.3 = +30%) that, followed by a dump of "
                "pump_dump_fall, removes the pair. 0 disables the pump-and-dump rule.",
            },
            "pump_dump_fall": {
                "type": "number",
                "default": 0.2,
                "description": "Dump size",
                "help": "Fall below that peak (0.2 = -20%) completing the pump-and-dump.",
            },
            **lookback_parameters(48, "that are checked"),
            **IPairList.refresh_period_parameter(),
        }

    def filter_pairlist(self, pairlist: list[str], tickers: Tickers) -> list[str]:
        if is_historical(self._config):
            return pairlist
        needed = [p for p in pairlist if p not in self._pair_cache]
        candles = fetch_candles(
            self._exchange, self._config, needed, self._lookback_timeframe, self._lookback_period
        )
        return [pair for pair in pairlist if self._is_acceptable(pair, self._check(pair, candles))]

    def _check(self, pair: str, candles: dict) -> tuple[float, bool]:
        """(largest single-candle move, pump-and-dump shape found) for ``pair``, cached."""
        if (cached := self._pair_cache.get(pair)) is not None:
            return cached
        pair_candles = candles.get(pair)
        if pair_candles is None or pair_candles.empty:
            return math.nan, False
        close = pair_candles["close"]
        move = largest_recent_move(close, self._lookback_period)
        shape = self._pump_rise > 0 and recent_pump_and_dump(
            close, self._lookback_period, self._pump_rise, self._pump_fall
        )
        self._pair_cache[pair] = (move, shape)
        return move, shape

    def _is_acceptable(self, pair: str, check: tuple[float, bool]) -> bool:
        move, shape = check
        if math.isnan(move):
            self.log_once(
                f"Removed {pair} from whitelist: fewer than {self._lookback_period + 1} "
                f"{self._lookback_timeframe} candles to check.",
                logger.info,
            )
            return False
        if move > self._max_change:
            self.log_once(
                f"Removed {pair} from whitelist: a {move:.1%} single-candle move in the last "
                f"{self._lookback_period} x {self._lookback_timeframe} candles exceeds "
                f"{self._max_change:.0%}.",
                logger.info,
            )
            return False
        if shape:
            self.log_once(
                f"Removed {pair} from whitelist: pump-and-dump in the last "
                f"{self._lookback_period} x {self._lookback_timeframe} candles (a rise of >= "
                f"{self._pump_rise:.0%} into a peak, then a fall of >= {self._pump_fall:.0%}).",
                logger.info,
            )
            return False
        return True
