"""Portfolio risk arithmetic: drawdown from peak, daily loss (UTC day), loss streak (by hand)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from plugins.quant.risk import (
    daily_loss_fraction,
    drawdown_from_peak,
    loss_streak,
    next_utc_day,
    utc_day_start,
)


def test_drawdown_from_peak_hand_computed():
    # Equity 1000 -> 1100 -> 1000 -> 1050: peak 1100, last 1050 -> 50 / 1100.
    assert drawdown_from_peak([100, -100, 50], 1000) == pytest.approx(50 / 1100)
    assert drawdown_from_peak([-100], 1000) == pytest.approx(0.1)
    assert drawdown_from_peak([], 1000) == 0.0
    assert drawdown_from_peak([10, 20], 1000) == 0.0


def test_daily_loss_fraction_hand_computed():
    # Day starts at 1000 + 100 - 50 = 1050; the day loses 30 + 12 - 10 = 32 -> 32 / 1050.
    assert daily_loss_fraction([100, -50], [-30, -12, 10], 1000) == pytest.approx(32 / 1050)
    assert daily_loss_fraction([], [-20, 30], 1000) == 0.0  # net gain
    assert daily_loss_fraction([-1000], [-1], 1000) == 1.0  # nothing left
    with pytest.raises(ValueError, match="starting_balance"):
        daily_loss_fraction([], [-1], 0)


def test_loss_streak_counts_trailing_losses():
    assert loss_streak([5, -1, -2, -3]) == 3
    assert loss_streak([-1, -2]) == 2
    assert loss_streak([-1, 0, -2]) == 1  # a break-even trade ends a streak
    assert loss_streak([-1, 4]) == 0
    assert loss_streak([]) == 0


def test_utc_day_boundaries():
    moment = datetime(
        2025, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=-2))
    )  # 01:30 UTC on the 5th
    assert utc_day_start(moment) == datetime(2025, 3, 5, tzinfo=UTC)
    assert next_utc_day(moment) == datetime(2025, 3, 6, tzinfo=UTC)
    assert utc_day_start(datetime(2025, 3, 5, 0, 0)) == datetime(2025, 3, 5, tzinfo=UTC)
