"""
Correlation guard: no new entry that doubles a bet already open in a correlated pair.
"""

import logging
from datetime import datetime
from typing import Any

import pandas as pd
from freqtrade.constants import Config, LongShort
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.persistence import Trade
from freqtrade.plugins.protections import ProtectionReturn

from plugins.quant.correlation import aligned_closes, cluster_of, pair_correlation, return_correlations
from plugins.integration.market_context import MarketGuard, closed_candles
from plugins.integration.settings import Setting, lock_settings, validate_protection

logger = logging.getLogger(__name__)

DEFAULT_LOOKBACK_CANDLES = 168


class CorrelationGuard(MarketGuard):
    """
    Locks ``pair`` while a trade is open in another pair whose log-return correlation with it, over
    the last ``lookback_period_candles`` (default 168) / ``lookback_period`` minutes of closed
    ``timeframe`` candles, is >= ``max_correlation`` (default 0.8). Measured correlations are
    preferred; the built-in table (BTC-ETH 0.85, BTC-SOL 0.75, ETH-SOL 0.70) is the fallback
    when history is short. It also caps the open trades of one correlated cluster (pairs linked
    by correlation >= ``cluster_correlation``, default 0.7) at ``max_cluster_trades`` (default 3).

    Per-pair lock for ``stop_duration`` / ``stop_duration_candles`` (default one candle),
    re-checked at the next entry (see ``plugins.integration.market_context``).
    """

    has_global_stop: bool = False
    has_local_stop: bool = True

    SETTINGS = {
        "max_correlation": Setting("number", 0.8, minimum=0, maximum=1, exclusive_minimum=True,
                                   hint="(a correlation)"),
        "cluster_correlation": Setting("number", 0.7, minimum=0, maximum=1,
                                       exclusive_minimum=True, hint="(a correlation)"),
        "max_cluster_trades": Setting("integer", 3, minimum=1),
        "timeframe": Setting("timeframe", None),
        **lock_settings(lookback=True),
    }

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        # Before the base class, which int()s lookback_period_candles & co. with no message.
        settings = validate_protection(self.__class__.__name__, protection_config, self.SETTINGS)
        super().__init__(config, protection_config)
        self._max_correlation = settings["max_correlation"]
        self._cluster_correlation = settings["cluster_correlation"]
        self._max_cluster_trades = settings["max_cluster_trades"]
        if "lookback_period" in protection_config or "lookback_period_candles" in protection_config:
            self._lookback = self._lookback_period // timeframe_to_minutes(self._timeframe)
        else:
            self._lookback = DEFAULT_LOOKBACK_CANDLES
        if self._lookback < 3:
            raise OperationalException(
                f"{self.name}: lookback_period / lookback_period_candles must cover at least 3 "
                f"{self._timeframe} candles, got {self._lookback}."
            )

    def short_desc(self) -> str:
        return (
            f"{self.name} - No entry in a pair with return correlation >= "
            f"{self._max_correlation:.2f} to an open trade's pair over {self._lookback} "
            f"{self._timeframe} candles; at most {self._max_cluster_trades} open trades per "
            f"cluster (correlation >= {self._cluster_correlation:.2f})."
        )

    def correlations(self, pairs: list[str], date_now: datetime) -> pd.DataFrame | None:
        """Measured correlation matrix of ``pairs`` at ``date_now`` (None: use the defaults)."""
        candles = {
            p: closed_candles(p, self._timeframe, date_now, self._lookback + 1) for p in pairs
        }
        closes = aligned_closes(candles, how="outer")
        if closes.shape[1] < 2:
            return None
        # Fewer than lookback // 2 common returns for two pairs -> NaN -> built-in default.
        return return_correlations(closes, self._lookback)

    def stop_per_pair(
        self, pair: str, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        open_trades = [t for t in Trade.get_trades_proxy(is_open=True) if t.pair != pair]
        open_pairs = list(dict.fromkeys(t.pair for t in open_trades))
        if not open_pairs:
            return None
        matrix = self.correlations([pair, *open_pairs], date_now)
        partner, corr = max(
            ((p, pair_correlation(matrix, pair, p)) for p in open_pairs), key=lambda x: x[1]
        )
        if corr >= self._max_correlation:
            reason = (
                f"{pair} correlation {corr:.2f} with open {partner} >= {self._max_correlation:.2f}"
            )
        else:
            cluster = cluster_of(pair, open_pairs, matrix, self._cluster_correlation)
            in_cluster = sum(t.pair in cluster for t in open_trades)
            if in_cluster < self._max_cluster_trades:
                return None
            reason = (
                f"{in_cluster} open trades in {pair}'s correlated cluster "
                f"(>= {self._max_cluster_trades})"
            )
        self.log_once(f"Entry locked: {reason}.", logger.info)
        return ProtectionReturn(lock=True, until=self.lock_until(date_now), reason=reason)

    def global_stop(
        self, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        return None
