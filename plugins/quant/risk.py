"""Portfolio risk arithmetic over closed-trade results (pure functions, used by protections).

Drawdown from the equity peak, the UTC day's realised loss and the trailing loss streak, each on
a plain list of closed-trade profits in close order, so they are unit-tested by hand without
freqtrade.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np


def drawdown_from_peak(profits: Sequence[float], starting_balance: float) -> float:
    """Current drawdown of realised equity from its running peak, as a fraction of the peak.

    Equity starts at ``starting_balance`` and adds each closed trade's absolute profit in order.
    The peak includes the starting balance, so a first losing trade is already a drawdown.
    """
    if starting_balance <= 0:
        raise ValueError(f"starting_balance must be > 0, got {starting_balance}")
    equity = starting_balance + np.cumsum(np.asarray(profits, dtype=float))
    if equity.size == 0:
        return 0.0
    peak = max(starting_balance, float(equity.max()))
    return max(0.0, (peak - float(equity[-1])) / peak)


def utc_day_start(moment: datetime) -> datetime:
    """Midnight UTC of the day containing ``moment`` (naive datetimes are taken as UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def next_utc_day(moment: datetime) -> datetime:
    """Midnight UTC after ``moment`` (the daily loss limit resets there)."""
    return utc_day_start(moment) + timedelta(days=1)


def daily_loss_fraction(
    profits_before_day: Sequence[float], profits_today: Sequence[float], starting_balance: float
) -> float:
    """Net realised loss of the day as a fraction of the day's starting balance (0 on a net gain).

    The day's starting balance is ``starting_balance`` plus every profit closed before the day.
    """
    if starting_balance <= 0:
        raise ValueError(f"starting_balance must be > 0, got {starting_balance}")
    day_start = starting_balance + float(np.sum(np.asarray(profits_before_day, dtype=float)))
    if day_start <= 0:
        return 1.0  # the account is already gone: any further loss is a full loss
    day_result = float(np.sum(np.asarray(profits_today, dtype=float)))
    return max(0.0, -day_result / day_start)


def loss_streak(profits: Sequence[float]) -> int:
    """Number of losing trades (profit < 0) at the end of ``profits`` (in close order)."""
    losing = np.asarray(profits, dtype=float) < 0
    if not losing.size:
        return 0
    not_losing = np.flatnonzero(~losing)
    return int(losing.size if not not_losing.size else losing.size - 1 - not_losing[-1])
