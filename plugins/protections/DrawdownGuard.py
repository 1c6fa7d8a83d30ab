"""
Drawdown guard: halt all new entries while realised equity is too far below its peak.
"""

import logging
from datetime import datetime
from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.exceptions import OperationalException
from freqtrade.persistence import Trade
from freqtrade.plugins.protections import IProtection, ProtectionReturn

from plugins.risk import drawdown_from_peak


logger = logging.getLogger(__name__)


class DrawdownGuard(IProtection):
    """
    Locks all pairs for ``stop_duration`` (or ``stop_duration_candles``) once realised equity
    (starting balance + closed-trade profits, in close order) is ``max_drawdown`` or more below its
    all-time peak. Unlike freqtrade's MaxDrawdown, which looks at a rolling window of trades, the
    peak here is the equity high-water mark since the first trade.

    Parameters: ``max_drawdown`` (fraction, 0 < x < 1, default 0.2).
    """

    has_global_stop: bool = True
    has_local_stop: bool = False

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        super().__init__(config, protection_config)
        self._max_drawdown = protection_config.get("max_drawdown", 0.2)
        if (
            isinstance(self._max_drawdown, bool)
            or not isinstance(self._max_drawdown, int | float)
            or not 0 < self._max_drawdown < 1
        ):
            raise OperationalException(
                f"{self.name}: max_drawdown must be a fraction between 0 and 1 (0.2 = 20%), "
                f"got {self._max_drawdown!r}. Fix it in the strategy's protections."
            )

    def short_desc(self) -> str:
        return (
            f"{self.name} - Stop trading when realised equity is {self._max_drawdown:.0%} "
            f"below its peak, locking {self.unlock_reason_time_element}."
        )

    def global_stop(
        self, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        trades = sorted(
            Trade.get_trades_proxy(is_open=False), key=lambda t: t.close_date_utc
        )
        if not trades:
            return None
        drawdown = drawdown_from_peak([t.close_profit_abs or 0.0 for t in trades], starting_balance)
        if drawdown < self._max_drawdown:
            return None
        until = self.calculate_lock_end(trades)
        if until <= date_now:
            # The halt after the last closing trade is over; the next closed trade re-checks.
            return None
        self.log_once(
            f"Trading stopped: realised drawdown {drawdown:.1%} from peak equity "
            f">= {self._max_drawdown:.0%}.",
            logger.info,
        )
        return ProtectionReturn(
            lock=True,
            until=until,
            reason=f"Drawdown {drawdown:.1%} from peak equity >= {self._max_drawdown:.0%}",
        )

    def stop_per_pair(
        self, pair: str, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        return None
