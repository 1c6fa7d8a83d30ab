"""Run freqtrade's own ``Worker`` on the simulated clock: the engine behind ``ftpack-replay``.

``ReplayRunner`` checks the window against the bundled data (every whitelisted pair, the strategy
timeframe and every informative timeframe), freezes the clock at the start (or where a previous
replay on the same database stopped), builds the stock ``Worker`` (which builds ``FreqtradeBot``,
the API server and the other RPC handlers from the config) and loops ``Worker._worker`` until the
simulated end. ``Worker._sleep`` - the seam freqtrade's worker sleeps through, meant for tests -
is bound to "record this iteration, move the clock one step" instead of a real sleep. With FreqAI,
the step first waits for the trainings due at the simulated now (``replay_freqai.py``).
"""

import logging
from datetime import datetime, timedelta

from freqtrade.enums import State
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes

from plugins.integration.replay_candles import ReplayCandles
from plugins.integration.replay_clock import ReplayClock, record_processed, resume_time
from plugins.integration.replay_freqai import (
    FreqaiTrainingGate,
    freqai_enabled,
    isolate_freqai,
    stored_replay_id,
)

logger = logging.getLogger(__name__)


def _step_of(step: str, timeframe: str) -> timedelta:
    import ccxt

    try:
        minutes = timeframe_to_minutes(step)
    except (ValueError, ccxt.BaseError):
        raise OperationalException(f"--step {step!r} is not a timeframe (e.g. 5m, 15m, 1h).") from None
    return timedelta(minutes=min(minutes, timeframe_to_minutes(timeframe)))


class ReplayRunner:
    """One replay: config and freqtrade arguments, window, step, optional pacing."""

    def __init__(self, config: dict, ft_args: dict, start: datetime, end: datetime,
                 step: str, speed: float | None) -> None:
        self.check_replay_exchange()
        self.config, self.ft_args = config, ft_args
        self.strategy = self._load_strategy()
        self.clock = ReplayClock(start, end, _step_of(step, self.config["timeframe"]), speed)
        self.check_data()
        self.worker = None
        self.training_gate = None

    @staticmethod
    def check_replay_exchange() -> None:
        """The replay exchange must be in place, or the bot would call the real exchange."""
        from freqtrade.exchange.exchange import Exchange

        if not getattr(Exchange, "_pack_replay", False):
            raise OperationalException(
                "Replay exchange not installed (FREQTRADE_PACK_REPLAY=1 must be set before "
                "freqtrade loads; see the warning above): refusing to run against the real exchange."
            )

    def _load_strategy(self):
        from freqtrade.resolvers import StrategyResolver

        strategy = StrategyResolver.load_strategy(dict(self.config))
        self.config["timeframe"] = strategy.timeframe
        return strategy

    def needed_files(self) -> list[tuple[str, str]]:
        """(pair, timeframe) of every candle file the strategy reads during the replay."""
        stake = self.config["stake_currency"]
        whitelist = list(self.config["exchange"]["pair_whitelist"])
        needed = {(pair, self.strategy.timeframe) for pair in whitelist}
        for inf_data, _ in self.strategy._ft_informative:
            pairs = [inf_data.asset.replace("{stake}", stake)] if inf_data.asset else whitelist
            needed |= {(pair, inf_data.timeframe) for pair in pairs}
        try:
            needed |= {(p[0], p[1]) for p in self.strategy.informative_pairs()}
        except (AttributeError, OperationalException) as err:  # it needs the DataProvider
            logger.debug("informative_pairs() not checked before the start: %s", err)
        return sorted(needed)

    def check_data(self) -> None:
        """One clear error when the window does not lie inside the data of every needed file."""
        store = ReplayCandles(self.config["datadir"], self.config.get("dataformat_ohlcv", "feather"))
        start, end = self.clock.start_at, self.clock.end_at
        candle_type = self.config.get("candle_type_def")
        for pair, timeframe in self.needed_files():
            span = store.span(pair, timeframe, candle_type)
            if span is None:
                raise OperationalException(
                    f"Replay: no {timeframe} candles of {pair} in {self.config['datadir']} (the "
                    f"strategy needs them); download them with freqtrade download-data --pairs {pair} "
                    f"--timeframes {timeframe}, or remove the pair from the whitelist."
                )
            first, last = span
            if start < first + timedelta(minutes=timeframe_to_minutes(timeframe)) or start >= last:
                raise OperationalException(
                    f"Replay start {start:%Y-%m-%d %H:%M} is outside the {timeframe} data of {pair} "
                    f"({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M})."
                )
            if end > last:
                raise OperationalException(
                    f"Replay end {end:%Y-%m-%d %H:%M} is after the {timeframe} data of {pair} "
                    f"(it ends {last:%Y-%m-%d %H:%M}); pass an earlier --end."
                )

    def _after_iteration(self, _sleep_seconds: float) -> None:
        """Where the worker would sleep: the iteration at now is done; step the clock."""
        if self.training_gate is not None:
            self.training_gate.wait(self.clock.now())
        record_processed(self.clock.now())
        self.clock.advance()

    def run(self) -> str:
        from freqtrade.persistence import Trade, init_db
        from freqtrade.worker import Worker

        self.clock.start()
        try:
            init_db(self.config["db_url"])
            resume_at = resume_time(self.clock.start_at, self.clock.step)
            if resume_at >= self.clock.end_at:
                return f"Replay already complete up to {self.clock.end_at:%Y-%m-%d %H:%M} in {self.config['db_url']}."
            if resume_at != self.clock.start_at:
                logger.info("Replay resumes at %s (database %s).", resume_at, self.config["db_url"])
            if freqai_enabled(self.config):
                isolate_freqai(self.config, stored_replay_id())
            self.clock.stop()
            self.clock.start(resume_at)
            self.worker = Worker(self.ft_args, config=self.config)
            self.worker._sleep = self._after_iteration
            if freqai_enabled(self.config):
                self.training_gate = FreqaiTrainingGate(self.worker.freqtrade.strategy.freqai)
            self._loop()
        finally:
            if self.worker is not None:
                self.worker.exit()
            self.clock.stop()
        trades = Trade.get_trades_proxy()
        open_trades = sum(1 for trade in trades if trade.is_open)
        return (f"Replay of {self.strategy.get_strategy_name()} from {resume_at:%Y-%m-%d %H:%M} "
                f"to {self.clock.end_at:%Y-%m-%d %H:%M}: {len(trades)} trades "
                f"({open_trades} open) in {self.config['db_url']}.")

    def _loop(self) -> None:
        state = None
        while not self.clock.finished():
            state = self.worker._worker(old_state=state)
            if state == State.RELOAD_CONFIG:
                self.worker._reconfigure()
