"""
Drawdown guard: halt new entries on a deep drawdown from peak equity, a bad UTC day, a loss streak.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.persistence import Trade
from freqtrade.plugins.protections import IProtection, ProtectionReturn

from plugins.integration.settings import Setting, lock_settings, validate_protection
from plugins.quant.risk import (
    daily_loss_fraction,
    drawdown_from_peak,
    loss_streak,
    next_utc_day,
    utc_day_start,
)

logger = logging.getLogger(__name__)


class DrawdownGuard(IProtection):
    """
    Global halts from realised equity (starting balance + closed-trade profits, in close order).
    Each rule is checked whenever freqtrade evaluates protections (after every closed trade):

    * ``max_drawdown`` (fraction, 0 < x < 1, default 0.2): equity is that far below its all-time
      peak -> lock for ``stop_duration`` / ``stop_duration_candles`` / ``unlock_at`` after the last
      closed trade. Unlike freqtrade's MaxDrawdown (a rolling window of trades) the peak is the
      high-water mark since the first trade.
    * ``max_daily_loss`` (fraction, 0 < x < 1, default off): the net realised loss of trades
      closed in the current UTC day is at least that fraction of the day's starting balance
      (starting balance + profits closed before 00:00 UTC) -> lock until the next 00:00 UTC.
    * ``max_loss_streak`` (integer >= 1, default off): the last that many closed trades all lost
      -> lock for ``streak_stop_duration`` minutes (default: ``stop_duration``) after the last one.
      A further loss while the streak lasts locks again; a winning trade resets the streak.

    Freqtrade's CooldownPeriod, StoplossGuard, MaxDrawdown and LowProfitPairs cover the rest.
    """

    has_global_stop: bool = True
    has_local_stop: bool = False

    SETTINGS = {
        "max_drawdown": Setting("number", 0.2, minimum=0, maximum=1, exclusive_minimum=True,
                                exclusive_maximum=True, hint="(a fraction, 0.2 = 20%)"),
        "max_daily_loss": Setting("number", None, minimum=0, maximum=1, exclusive_minimum=True,
                                  exclusive_maximum=True, nullable=True,
                                  hint="(a fraction of the day's starting balance)"),
        "max_loss_streak": Setting("integer", None, minimum=1, nullable=True, hint="(trades)"),
        # Default: stop_duration, else 60 minutes (resolved after the base class read it).
        "streak_stop_duration": Setting("integer", None, minimum=1, hint="(minutes)"),
        **lock_settings(lookback=False),
    }

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        # Before the base class, which int()s stop_duration_candles & co. with no message.
        settings = validate_protection(self.__class__.__name__, protection_config, self.SETTINGS)
        super().__init__(config, protection_config)
        self._max_drawdown = settings["max_drawdown"]
        self._max_daily_loss = settings["max_daily_loss"]
        self._max_loss_streak = settings["max_loss_streak"]
        self._streak_stop_duration = settings["streak_stop_duration"] or self._stop_duration or 60

    def short_desc(self) -> str:
        rules = [
            f"realised equity is {self._max_drawdown:.0%} below its peak "
            f"(locking {self.unlock_reason_time_element})"
        ]
        if self._max_daily_loss is not None:
            rules.append(f"the UTC day lost {self._max_daily_loss:.0%} (locking until 00:00 UTC)")
        if self._max_loss_streak is not None:
            rules.append(
                f"{self._max_loss_streak} trades in a row lost "
                f"(locking for {self._streak_stop_duration} minutes)"
            )
        return f"{self.name} - Stop trading when " + "; or when ".join(rules) + "."

    def _drawdown_lock(
        self, trades: list, date_now: datetime, starting_balance: float
    ) -> ProtectionReturn | None:
        drawdown = drawdown_from_peak([t.close_profit_abs or 0.0 for t in trades], starting_balance)
        if drawdown < self._max_drawdown:
            return None
        until = self.calculate_lock_end(trades)
        if until <= date_now:
            # The halt after the last closing trade is over; the next closed trade re-checks.
            return None
        return ProtectionReturn(
            lock=True,
            until=until,
            reason=f"Drawdown {drawdown:.1%} from peak equity >= {self._max_drawdown:.0%}",
        )

    def _daily_lock(
        self, trades: list, date_now: datetime, starting_balance: float
    ) -> ProtectionReturn | None:
        if self._max_daily_loss is None:
            return None
        day_start = utc_day_start(date_now)
        before = [t.close_profit_abs or 0.0 for t in trades if t.close_date_utc < day_start]
        today = [t.close_profit_abs or 0.0 for t in trades if t.close_date_utc >= day_start]
        if not today:
            return None
        loss = daily_loss_fraction(before, today, starting_balance)
        if loss < self._max_daily_loss:
            return None
        # PairLocks rounds a lock's end up to the next candle start: 1 s before midnight -> 00:00.
        return ProtectionReturn(
            lock=True,
            until=next_utc_day(date_now) - timedelta(seconds=1),
            reason=f"Daily realised loss {loss:.1%} >= {self._max_daily_loss:.0%} (UTC day)",
        )

    def _streak_lock(self, trades: list, date_now: datetime) -> ProtectionReturn | None:
        if self._max_loss_streak is None:
            return None
        streak = loss_streak([t.close_profit_abs or 0.0 for t in trades])
        if streak < self._max_loss_streak:
            return None
        until = trades[-1].close_date_utc + timedelta(minutes=self._streak_stop_duration)
        if until <= date_now:
            return None
        return ProtectionReturn(lock=True, until=until, reason=f"{streak} losing trades in a row")

    def global_stop(
        self, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        trades = sorted(Trade.get_trades_proxy(is_open=False), key=lambda t: t.close_date_utc)
        if not trades:
            return None
        candidates = [self._streak_lock(trades, date_now)]
        if starting_balance > 0:
            candidates += [
                self._drawdown_lock(trades, date_now, starting_balance),
                self._daily_lock(trades, date_now, starting_balance),
            ]
        else:
            self.log_once(
                f"{self.name}: no starting balance, equity rules skipped.", logger.warning
            )
        locks = [lock for lock in candidates if lock is not None]
        if not locks:
            return None
        lock = max(locks, key=lambda r: r.until)
        self.log_once(f"Trading stopped: {lock.reason}.", logger.info)
        return lock

    def stop_per_pair(
        self, pair: str, date_now: datetime, side: LongShort, starting_balance: float
    ) -> ProtectionReturn | None:
        return None
