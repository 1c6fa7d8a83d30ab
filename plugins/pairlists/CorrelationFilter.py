"""
Correlation filter: keep a diversified whitelist by dropping pairs that move with a better one.
"""

import logging

import numpy as np

from freqtrade.exchange.exchange_types import Tickers
from freqtrade.plugins.pairlist.IPairList import IPairList, PairlistParameter, SupportsBacktesting
from freqtrade.util import FtTTLCache

from plugins.quant.correlation import aligned_closes, pair_correlation, return_correlations
from plugins.integration.pairlist_data import (
    fetch_candles,
    historical_cutoff,
    is_historical,
    lookback_parameters,
)
from plugins.integration.settings import PAIRLIST_LOOKBACK_REFINE, validate_pairlist


logger = logging.getLogger(__name__)


class CorrelationFilter(IPairList):
    """
    Walks the incoming list in order (its ranking: put it after a scanner or VolumePairList) and
    keeps a pair only if the correlation of its log returns with every pair already kept is below
    ``max_correlation``. So of two pairs that move together, the higher-ranked one stays.

    Correlations come from ``plugins.quant.correlation``: Pearson correlation of log returns over the
    last ``lookback_period`` x ``lookback_timeframe`` candles (timestamps aligned across pairs);
    when a correlation cannot be measured, ``pair_correlation`` falls back to the pack's built-in
    table (BTC-ETH 0.85, ...) and otherwise treats the pair as uncorrelated (kept). Pairs with
    fewer candles than the lookback are kept without being measured (and logged); AgeFilter is
    the tool to drop young pairs.

    Backtesting/hyperopt: like RegimeScanner, measured on the candles closed before the backtest
    start (causal, ``SupportsBacktesting.YES``), then fixed for the whole backtest.
    """

    supports_backtesting = SupportsBacktesting.YES

    # Ranges that available_parameters() (the FreqUI source of truth) cannot express.
    REFINE = {
        **PAIRLIST_LOOKBACK_REFINE,
        "lookback_period": {"kind": "integer", "minimum": 3, "hint": "(returns)"},
        "max_correlation": {"minimum": -1, "maximum": 1},
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = validate_pairlist(
            self.name, self._pairlistconfig, self.available_parameters(), self.REFINE
        )
        self._pairlistconfig.setdefault("lookback_timeframe", "1h")
        self._pairlistconfig.setdefault("lookback_period", 168)
        self._init_lookback_config(required=True)
        self._max_correlation = settings["max_correlation"]
        self._refresh_period = settings["refresh_period"]
        self._pair_cache: FtTTLCache = FtTTLCache(maxsize=100, ttl=self._refresh_period)
        if is_historical(self._config):
            historical_cutoff(self._config, self.name)  # a clear error now, not at refresh

    def short_desc(self) -> str:
        return (
            f"{self.name} - dropping pairs whose return correlation with a higher-ranked pair is "
            f">= {self._max_correlation} over {self._lookback_period} x {self._lookback_timeframe} "
            "candles."
        )

    @staticmethod
    def description() -> str:
        return "Diversify: drop pairs strongly correlated with a higher-ranked pair."

    @staticmethod
    def available_parameters() -> dict[str, PairlistParameter]:
        return {
            "max_correlation": {
                "type": "number",
                "default": 0.9,
                "description": "Max correlation",
                "help": "Drop a pair whose return correlation with an already kept pair "
                "is >= this (-1..1).",
            },
            **lookback_parameters(168, "whose returns are correlated"),
            **IPairList.refresh_period_parameter(),
        }

    def filter_pairlist(self, pairlist: list[str], tickers: Tickers) -> list[str]:
        key = tuple(pairlist)
        cached = self._pair_cache.get(key)
        if cached is not None:
            return cached.copy()
        candles = fetch_candles(
            self._exchange, self._config, pairlist, self._lookback_timeframe, self._lookback_period
        )
        force = is_historical(self._config)  # backtests silence pairlist logs otherwise
        mature = {p: c for p, c in candles.items() if len(c) > self._lookback_period}
        for pair in pairlist:
            if pair not in mature:
                self.log_once(
                    f"{pair}: fewer than {self._lookback_period + 1} {self._lookback_timeframe} "
                    "candles, kept without a measured correlation.",
                    logger.info,
                    force,
                )
        matrix = return_correlations(aligned_closes(mature), self._lookback_period)
        # Measured values as one array (fast walk over hundreds of pairs); a missing value
        # falls back exactly as plugins.quant.correlation.pair_correlation does (built-in table / 0).
        values = matrix.reindex(index=pairlist, columns=pairlist).to_numpy(dtype=float)
        kept: list[int] = []
        for i, pair in enumerate(pairlist):
            row = values[i, kept]
            for j in np.flatnonzero(~np.isfinite(row)):
                row[j] = pair_correlation(None, pair, pairlist[kept[j]])
            if row.size and row.max() >= self._max_correlation:
                other = pairlist[kept[int(row.argmax())]]
                self.log_once(
                    f"Removed {pair} from whitelist: return correlation {row.max():.2f} with "
                    f"higher-ranked {other} >= {self._max_correlation}.",
                    logger.info,
                    force,
                )
                continue
            kept.append(i)
        kept_pairs = [pairlist[i] for i in kept]
        self._pair_cache[key] = kept_pairs.copy()
        return kept_pairs
