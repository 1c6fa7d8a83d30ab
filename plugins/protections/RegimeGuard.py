"""
Regime guard: no new entries while the market leader (BTC/USDT by default) is in a bad regime.
"""

import logging
from datetime import datetime
from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.exceptions import OperationalException
from freqtrade.plugins.protections import ProtectionReturn

from plugins.integration.market_context import MarketGuard, closed_candles
from plugins.integration.settings import Setting, lock_settings, validate_protection
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

    SETTINGS = {
        "pair": Setting("string", "BTC/USDT", hint="(a pair name like 'BTC/USDT')"),
        "regimes": Setting("list", ["BEAR_TREND", "VOLATILE_TRANSITION"], options=tuple(REGIMES)),
        "min_confidence": Setting("number", 0.0, minimum=0, maximum=1),
        "only_per_pair": Setting("boolean", False),
        "regime_of": Setting("option", "market", options=("market", "pair"),
                             hint="('market': the regime of `pair`, 'pair': of the pair entered)"),
        "timeframe": Setting("timeframe", None),
        **lock_settings(lookback=False),
    }

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        # Before the base class, which int()s stop_duration_candles & co. with no message.
        settings = validate_protection(self.__class__.__name__, protection_config, self.SETTINGS)
        super().__init__(config, protection_config)
        self._pair = settings["pair"]
        self._regimes = settings["regimes"]
        self._min_confidence = settings["min_confidence"]
        self._only_per_pair = settings["only_per_pair"]
        self._regime_of = settings["regime_of"]
        self._validate()
        if self._regime_of == "pair":
            self._only_per_pair = True
        self._cache: dict[str, tuple[Any, str, float]] = {}

    def _validate(self) -> None:
        """The rules between settings (each one alone is checked by SETTINGS)."""
        if "/" not in self._pair:
            raise OperationalException(
                f"{self.name}: pair must be a pair name like 'BTC/USDT', got {self._pair!r}."
            )
        if not self._regimes:
            raise OperationalException(
                f"{self.name}: regimes must be a non-empty list of {list(REGIMES)}."
            )
        if self._regime_of == "pair" and "pair" in self._protection_config:
            raise OperationalException(
                f"{self.name}: pair is only used with regime_of 'market'; remove it or set "
                "regime_of to 'market'."
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
