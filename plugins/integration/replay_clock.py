"""The simulated clock of a replay: time-machine travel, moved forward by the bot loop.

``ReplayClock`` freezes the process clock at the replay start with ``time_machine.travel(...,
tick=False)`` (the library freqtrade's own tests use). Every ``datetime.now``, ``time.time`` and
``dt_now()`` in the process - the bot, its order timeouts, its database timestamps, the API
server's answers, FreqAI's retrain timer and the log lines - then reads simulated time. Monotonic
clocks (``time.monotonic``, ``time.perf_counter``, asyncio's loop) are not moved, so real sleeps,
timeouts and uvicorn keep working.

The clock is stepped, not ticking: ``advance()`` jumps one ``step`` forward (the bot loop calls it
where freqtrade's worker would sleep). With ``speed`` set, it also sleeps ``step / speed`` real
seconds minus the time the iteration took, i.e. the replay runs at ``speed`` x real time; without it
the replay runs as fast as the bot loop allows.

The simulated time of the last processed iteration is kept in freqtrade's ``KeyValueStore`` (in
the trade database itself, committed with the trades), so a replay restarted on the same database
resumes one step after it.
"""

import logging
import time
from datetime import UTC, datetime, timedelta

import time_machine

logger = logging.getLogger(__name__)

LAST_PROCESSED_KEY = "pack_replay_last_processed"


class ReplayClock:
    """Simulated time from ``start`` to ``end`` in steps of ``step``, optionally paced at ``speed``x."""

    def __init__(self, start: datetime, end: datetime, step: timedelta,
                 speed: float | None = None) -> None:
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("ReplayClock needs timezone-aware start and end times.")
        if end <= start:
            raise ValueError(f"Replay end {end:%Y-%m-%d %H:%M} is not after its start "
                             f"{start:%Y-%m-%d %H:%M}.")
        if step <= timedelta(0):
            raise ValueError(f"Replay step must be positive, got {step}.")
        if speed is not None and not speed > 0:
            raise ValueError(f"--speed must be a positive number, got {speed}.")
        self.start_at, self.end_at, self.step, self.speed = start, end, step, speed
        self._travel = None
        self._traveller = None
        self._iteration_started = time.perf_counter()

    def start(self, at: datetime | None = None) -> datetime:
        """Freeze the process clock at ``at`` (default: the replay start); returns that time."""
        at = at or self.start_at
        self._travel = time_machine.travel(at, tick=False)
        self._traveller = self._travel.start()
        self._iteration_started = time.perf_counter()
        return at

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = self._traveller = None

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    def finished(self) -> bool:
        return self.now() >= self.end_at

    def advance(self) -> datetime:
        """One step forward (not past ``end``), pacing the real time when ``speed`` is set."""
        if self.speed:
            budget = self.step.total_seconds() / self.speed
            time.sleep(max(0.0, budget - (time.perf_counter() - self._iteration_started)))
        target = min(self.now() + self.step, self.end_at)
        self._traveller.move_to(target, tick=False)
        self._iteration_started = time.perf_counter()
        return target


def resume_time(start: datetime, step: timedelta) -> datetime:
    """Where a replay on the current trade database continues: one step after the last iteration.

    ``start`` when the database has never been replayed. Needs ``init_db`` to have run.
    """
    from freqtrade.persistence import KeyValueStore

    last = KeyValueStore.get_datetime_value(LAST_PROCESSED_KEY)
    if last is None:
        return start
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return max(start, last + step)


def record_processed(at: datetime) -> None:
    """Persist ``at`` as the simulated time of the last fully processed iteration."""
    from freqtrade.persistence import KeyValueStore

    KeyValueStore.store_value(LAST_PROCESSED_KEY, at)
