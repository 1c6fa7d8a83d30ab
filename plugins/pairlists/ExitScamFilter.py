"""
Exit-scam pairlist filter: drop pairs that just made an outsized single-candle move.
"""

import logging
import math

from freqtrade.constants import ListPairsWithTimeframes
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange.exchange_types import Tickers
from freqtrade.plugins.pairlist.IPairList import IPairList, PairlistParameter, SupportsBacktesting
from freqtrade.util import FtTTLCache

from plugins.candle_checks import largest_recent_move


logger = logging.getLogger(__name__)

BACKTEST_MODES = (RunMode.BACKTEST, RunMode.HYPEROPT)


class ExitScamFilter(IPairList):
    """
    Removes pairs whose largest close-to-close move over the last ``lookback_period`` candles of
    ``lookback_timeframe`` exceeds ``max_candle_change`` (a fraction: 0.2 = 20%). A pump or dump of
    that size is where "exit scams" and squeezes happen; entering right after one is a gamble.

    In backtesting and hyperopt the filter passes every pair: it only sees today's candles, which
    would leak the future into a past backtest. Strategies apply the same check per candle
    (``plugins.candle_checks.rolling_max_move``) for an honest backtest.
    """

    supports_backtesting = SupportsBacktesting.NO_ACTION

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pairlistconfig.setdefault("lookback_timeframe", "1h")
        self._pairlistconfig.setdefault("lookback_period", 48)
        self._init_lookback_config(required=True)

        self._max_change = self._pairlistconfig.get("max_candle_change", 0.2)
        if (
            isinstance(self._max_change, bool)
            or not isinstance(self._max_change, int | float)
            or not 0 < self._max_change
        ):
            raise OperationalException(
                f"{self.name}: max_candle_change must be a number > 0 (a fraction, 0.2 = 20%), "
                f"got {self._max_change!r}. Fix it in the pairlists section of your config."
            )
        self._refresh_period = self._pairlistconfig.get("refresh_period", 1800)
        self._pair_cache: FtTTLCache = FtTTLCache(maxsize=1000, ttl=self._refresh_period)
        self._def_candletype = self._config["candle_type_def"]

    def short_desc(self) -> str:
        return (
            f"{self.name} - Removing pairs with a single-candle move above "
            f"{self._max_change:.0%} in the last {self._lookback_period} x "
            f"{self._lookback_timeframe} candles."
        )

    @staticmethod
    def description() -> str:
        return "Drop pairs with a recent pump or dump candle (exit-scam filter)."

    @staticmethod
    def available_parameters() -> dict[str, PairlistParameter]:
        return {
            "max_candle_change": {
                "type": "number",
                "default": 0.2,
                "description": "Max single-candle move",
                "help": "Largest allowed close-to-close move of one candle (0.2 = 20%).",
            },
            "lookback_timeframe": {
                "type": "string",
                "default": "1h",
                "description": "Lookback timeframe",
                "help": "Timeframe of the candles that are checked.",
            },
            "lookback_period": {
                "type": "number",
                "default": 48,
                "description": "Lookback candles",
                "help": "Number of recent candles that are checked.",
            },
            **IPairList.refresh_period_parameter(),
        }

    def filter_pairlist(self, pairlist: list[str], tickers: Tickers) -> list[str]:
        if self._config.get("runmode") in BACKTEST_MODES:
            return pairlist
        needed: ListPairsWithTimeframes = [
            (p, self._lookback_timeframe, self._def_candletype)
            for p in pairlist
            if p not in self._pair_cache
        ]
        candles = self._exchange.refresh_ohlcv_with_cache(
            needed, lookback_period=self._lookback_period
        )
        kept = []
        for pair in pairlist:
            move = self._largest_move(pair, candles)
            if self._is_acceptable(pair, move):
                kept.append(pair)
        return kept

    def _largest_move(self, pair: str, candles: dict) -> float:
        if (cached := self._pair_cache.get(pair)) is not None:
            return cached
        pair_candles = candles.get((pair, self._lookback_timeframe, self._def_candletype))
        if pair_candles is None or pair_candles.empty:
            return math.nan
        move = largest_recent_move(pair_candles["close"], self._lookback_period)
        self._pair_cache[pair] = move
        return move

    def _is_acceptable(self, pair: str, move: float) -> bool:
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
        return True
