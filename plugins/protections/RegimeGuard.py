"""
Regime guard: no new entries while the market leader (BTC/USDT by default) is in a bad regime.
"""

import logging
from datetime import datetime
from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.plugins.protections import ProtectionReturn

from plugins.integration.market_context import MarketGuard, closed_candles
from plugins.quant.regime import REGIMES, detect_regime, regime_startup_candles

logger = logging.getLogger(__name__)

# Candles the regime is computed on at each check (startup + enough for the hysteresis latches).
WINDOW = 2 * regime_startup_candles()


class RegimeGuard(MarketGuard):
    """
    Locks new entries while ``pair`` (default ``BTC/USDT``) on ``timeframe`` (default: the
    strategy's) is in one of ``regimes`` (default ``["BEAR_TREND", "VOLATILE_TRANSITION"]``) with
    ``regime_confidence`` >= ``min_confidence`` (default 0). The regime is
    ``plugins.quant.regime.detect_regime`` on the last candles that closed at or before the check
    (``plugins.integration.market_context`` explains how the guard gets candles and runs before entries).

    The lock is global, or per pair with ``only_per_pair: true``. With ``regime_of: "pair"`` the
    regime is that of the pair being entered instead of ``pair`` (a per-pair lock: no entry in a
    pair that is itself in a blocked regime). A lock lasts ``stop_duration`` minutes /
    ``stop_duration_candles`` (default: one candle) and is re-checked at the next entry.
    """

    has_global_stop: bool = True
    has_local_stop: bool = True

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        super().__init__(config, protection_config)
        self._pair = protection_config.get("pair", "BTC/USDT")
        self._regimes = protection_config.get("regimes", ["BEAR_TREND", "VOLATILE_TRANSITION"])
        self._min_confidence = protection_config.get("min_confidence", 0.0)
        self._only_per_pair = protection_config.get("only_per_pair", False)
        self._regime_of = protection_config.get("regime_of", "market")
        self._validate()
        if self._regime_of == "pair":
            self._only_per_pair = True
        self._cache: dict[str, tuple[Any, str, float]] = {}

    def _validate(self) -> None:
        if not isinstance(self._pair, str) or "/" not in self._pair:
            raise OperationalException(
                f"{self.name}: pair must be a pair name like 'BTC/USDT', got {self._pair!r}."
            )
        try:
            timeframe_to_minutes(self._timeframe)
        except Exception:
            raise OperationalException(
                f"{self.name}: timeframe must be a timeframe like '1h', got {self._timeframe!r}."
            ) from None
        if (
            not isinstance(self._regimes, list | tuple)
            or not self._regimes
            or any(r not in REGIMES for r in self._regimes)
        ):
            raise OperationalException(
                f"{self.name}: regimes must be a non-empty list of {list(REGIMES)}, "
                f"got {self._regimes!r}."
            )
        if (
            isinstance(self._min_confidence, bool)
            or not isinstance(self._min_confidence, int | float)
            or not 0 <= self._min_confidence <= 1
        ):
            raise OperationalException(
                f"{self.name}: min_confidence must be a number in [0, 1], "
                f"got {self._min_confidence!r}."
            )
        if self._regime_of not in ("market", "pair"):
            raise OperationalException(
                f"{self.name}: regime_of must be 'market' (the regime of `pair`) or 'pair' (the "
                f"regime of the pair being entered), got {self._regime_of!r}."
            )
        if self._regime_of == "pair" and "pair" in self._protection_config:
            raise OperationalException(
                f"{self.name}: pair is only used with regime_of 'market'; remove it or set "
                "regime_of to 'market'."
            )
        if not isinstance(self._only_per_pair, bool):
            raise OperationalException(
                f"{self.name}: only_per_pair must be true or false, got {self._only_per_pair!r}."
            )

    def short_desc(self) -> str:
        subject = "the pair" if self._regime_of == "pair" else self._pair
        return (
            f"{self.name} - No entries while {subject} {self._timeframe} is in "
            f"{', '.join(self._regimes)} (confidence >= {self._min_confidence:.2f}), "
            f"re-checked each candle."
        )

    def current_regime(
        self, date_now: datetime, pair: str | None = None
    ) -> tuple[str, float] | None:
        """(regime, confidence) of ``pair`` (default: the configured one) at the last candle
        closed at ``date_now``; None without data. Cached per pair and candle."""
        pair = pair or self._pair
        candles = closed_candles(pair, self._timeframe, date_now, WINDOW)
        if candles.empty:
            self.log_once(
                f"{self.name}: no {pair} {self._timeframe} candles (attach the DataProvider "
                "via plugins.integration.market_context); not locking.",
                logger.warning,
            )
            return None
        last_date = candles["date"].iloc[-1]
        cached = self._cache.get(pair)
        if cached is None or cached[0] != last_date:
            row = detect_regime(candles).iloc[-1]
            cached = self._cache[pair] = (last_date, row["regime"], float(row["regime_confidence"]))
        return cached[1], cached[2]

    def _regime_lock(self, date_now: datetime, pair: str | None = None) -> ProtectionReturn | None:
        source = pair if self._regime_of == "pair" else self._pair
        current = self.current_regime(date_now, source)
        if current is None:
            return None
        regime, confidence = current
        if regime not in self._regimes or confidence < self._min_confidence:
            return None
        reason = f"{source} regime {regime} (confidence {confidence:.2f})"
        self.log_once(f"Entries locked: {reason}.", logger.info)
        return ProtectionReturn(lock=True, until=self.lock_until(date_now), reason=reason)

    def global_stop(
        self, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        return None if self._only_per_pair else self._regime_lock(date_now)

    def stop_per_pair(
        self, pair: str, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        return self._regime_lock(date_now, pair) if self._only_per_pair else None
