"""FreqAI in a replay: a fresh bot's model and candle folders, and a clock that waits for training.

Live, FreqAI (``IFreqaiModel.start_scanning``) trains in its own thread while the bot keeps
trading: a training takes seconds to minutes of wall time, a small part of a candle. A replay
moves the simulated clock as fast as the bot loop runs, so a training that takes 20 real seconds
would let dozens of simulated hours pass on the old model, and the training's end date (the
simulated ``now`` the thread happened to read) would depend on the machine's speed. Two things
keep the replay faithful and deterministic:

- ``FreqaiTrainingGate`` (called where the replay steps the clock) holds the clock until FreqAI's
  train thread has done what it would do at the current simulated time: while the pair at the
  head of its train queue is due for training (never trained, or trained more than
  ``live_retrain_hours`` ago) or a training is running, the clock does not move. A training thus
  takes no simulated time; its end date is the simulated time it started at, and the new model
  serves from the next step on. A training that raises is not waited for again at the same time
  (freqtrade logs it and moves on to the next pair, as live).
- ``isolate_freqai`` gives the replay what a freshly started live bot has: its own model folder
  (the config's ``identifier`` + ``-replay-`` + an id kept in the trade database, so a restart on
  the same database resumes its models, a new database starts without any, and a backtest's
  models - trained on later data - are never loaded) and its own candle folder, which freqtrade's
  start-up download (``download_all_data_for_training``) fills through the replay exchange with
  the candles closed by the simulated start. Without it FreqAI would read the bundled files up to
  ``now`` (the running candle included) and write them back.
"""

import logging
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

SOURCE_DATADIR_KEY = "pack_replay_datadir"  # where the replay exchange reads the bundled candles
REPLAY_ID_KEY = "pack_replay_freqai_id"  # KeyValueStore key, in the trade database
POLL_SECONDS = 0.2


def freqai_enabled(config: dict) -> bool:
    return bool(config.get("freqai", {}).get("enabled", False))


def replay_identifier(identifier: str, replay_id: str) -> str:
    """The FreqAI identifier of one replay (one trade database)."""
    return f"{identifier}-replay-{replay_id}"


def stored_replay_id() -> str:
    """The id of the replay on the current trade database, created on its first start.

    Needs ``init_db`` to have run.
    """
    from freqtrade.persistence import KeyValueStore

    replay_id = KeyValueStore.get_string_value(REPLAY_ID_KEY)
    if replay_id is None:
        replay_id = secrets.token_hex(5)
        KeyValueStore.store_value(REPLAY_ID_KEY, replay_id)
    return replay_id


def freqai_candle_folder(config: dict, identifier: str) -> Path:
    """The replay's own FreqAI candle folder (next to its model folder)."""
    return Path(config["user_data_dir"]) / "models" / f"{identifier}-candles"


def isolate_freqai(config: dict, replay_id: str) -> None:
    """Point FreqAI at the replay's own model and candle folders (no-op without FreqAI)."""
    if not freqai_enabled(config):
        return
    freqai = config["freqai"]
    freqai["identifier"] = replay_identifier(freqai.get("identifier", "freqai"), replay_id)
    candles = freqai_candle_folder(config, freqai["identifier"])
    candles.mkdir(parents=True, exist_ok=True)
    config[SOURCE_DATADIR_KEY] = str(config["datadir"])
    config["datadir"] = candles
    logger.info("Replay FreqAI: identifier %s, candles downloaded into %s.",
                freqai["identifier"], candles)


class FreqaiTrainingGate:
    """Holds the replay clock while FreqAI's train thread has work due at the simulated now."""

    def __init__(self, freqai, timeout_seconds: float = 3600.0) -> None:
        if not hasattr(freqai, "train_queue") or not hasattr(freqai, "dd"):
            raise ValueError("FreqaiTrainingGate needs a FreqAI model (IFreqaiModel).")
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}.")
        self.freqai = freqai
        self.timeout_seconds = timeout_seconds
        self.retrain_seconds = float(freqai.freqai_info.get("live_retrain_hours", 0)) * 3600
        self._training = threading.Event()
        self._failed: dict[str, int] = {}  # pair -> simulated time its training raised at
        self.trainings: list[tuple[str, int]] = []  # (pair, trained timestamp), in order
        self._wrap_training()

    def _wrap_training(self) -> None:
        """Mark the train thread busy around each training (instance attribute: one model only)."""
        train = self.freqai.extract_data_and_train_model

        def extract_data_and_train_model(new_trained_timerange, pair, *args, **kwargs):
            self._training.set()
            try:
                result = train(new_trained_timerange, pair, *args, **kwargs)
                self.trainings.append((pair, int(new_trained_timerange.stopts)))
                return result
            except Exception:
                self._failed[pair] = int(time.time())  # simulated: the clock is frozen
                raise
            finally:
                self._training.clear()

        self.freqai.extract_data_and_train_model = extract_data_and_train_model

    def _scanning(self) -> bool:
        threads = getattr(self.freqai, "_threads", [])
        return bool(getattr(self.freqai, "scanning", False)) and any(t.is_alive() for t in threads)

    def due(self, now: float) -> bool:
        """Would the train thread train the head of its queue at ``now`` (unix seconds)?"""
        queue = self.freqai.train_queue
        if not queue:
            return False
        pair = queue[0]
        if self._failed.get(pair) == int(now):
            return False
        trained = self.freqai.dd.pair_dict.get(pair, {}).get("trained_timestamp", 0)
        return not trained or now - trained > self.retrain_seconds

    def busy(self, now: float) -> bool:
        return self._scanning() and (self._training.is_set() or self.due(now))

    def wait(self, now: datetime) -> None:
        """Block (real time) until FreqAI has no training due or running at ``now``."""
        stamp, waited = now.timestamp(), time.monotonic()
        while self.busy(stamp):
            if time.monotonic() - waited > self.timeout_seconds:
                logger.warning("Replay: FreqAI training at %s still running after %.0f s; "
                               "the clock moves on.", now, self.timeout_seconds)
                return
            time.sleep(POLL_SECONDS)
