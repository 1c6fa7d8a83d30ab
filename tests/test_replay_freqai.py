"""FreqAI live retraining on the replay's simulated clock.

The end-to-end test replays AiFusion (EnsembleRegressor, ``user_data/config.freqai.json``) on
BTC/USDT for 30 simulated hours with ``live_retrain_hours`` 6 and reads the model folders FreqAI
writes (``sub-train-BTC_<trained timestamp>``): FreqAI must train several times, each training's
end date on the simulated clock, one retrain interval apart, and the bundled candles must stay
untouched. The unit tests drive ``FreqaiTrainingGate`` with a hand-made train thread.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from freqtrade.configuration import TimeRange

from plugins.integration.replay_freqai import (
    REPLAY_ID_KEY,
    FreqaiTrainingGate,
    freqai_candle_folder,
    isolate_freqai,
    replay_identifier,
)
from tests.conftest import CONFIG, REPO
from tests.test_replay import clean_env, db_rows

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


class FakeFreqai:
    """The parts of IFreqaiModel the gate reads: train queue, pair dictionary, train thread."""

    def __init__(self, trained: dict[str, int], retrain_hours: float = 6, fail: bool = False):
        self.freqai_info = {"live_retrain_hours": retrain_hours}
        self.train_queue = deque(trained)
        self.dd = SimpleNamespace(pair_dict={p: {"trained_timestamp": t} for p, t in trained.items()})
        self.scanning = True
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._stop.wait, daemon=True)]
        self._threads[0].start()
        self.fail = fail

    def extract_data_and_train_model(self, timerange, pair, *args):
        time.sleep(0.3)
        if self.fail:
            raise RuntimeError("training failed")
        self.dd.pair_dict[pair]["trained_timestamp"] = timerange.stopts

    def train_head_later(self, at: int) -> threading.Thread:
        """What freqtrade's train thread does once the head pair is due: train it, rotate."""
        def train():
            time.sleep(0.2)
            try:
                self.extract_data_and_train_model(TimeRange(None, "date", 0, at), self.train_queue[0])
            except RuntimeError:
                pass
            self.train_queue.rotate(-1)

        thread = threading.Thread(target=train)
        thread.start()
        return thread


def test_gate_does_not_wait_when_nothing_is_due():
    now = int(NOW.timestamp())
    freqai = FakeFreqai({"BTC/USDT": now - 3600})
    gate = FreqaiTrainingGate(freqai)
    started = time.monotonic()
    gate.wait(NOW)
    assert time.monotonic() - started < 0.1
    assert gate.trainings == []
    freqai._stop.set()


def test_gate_holds_the_clock_until_the_due_training_is_done():
    now = int(NOW.timestamp())
    freqai = FakeFreqai({"BTC/USDT": now - 7 * 3600, "ETH/USDT": now - 3600})
    gate = FreqaiTrainingGate(freqai)
    assert gate.due(now)
    trainer = freqai.train_head_later(now)
    started = time.monotonic()
    gate.wait(NOW)
    assert time.monotonic() - started >= 0.4  # waited for the 0.2 s delay + 0.3 s training
    assert gate.trainings == [("BTC/USDT", now)]
    assert freqai.dd.pair_dict["BTC/USDT"]["trained_timestamp"] == now
    trainer.join()
    freqai._stop.set()


def test_gate_does_not_wait_twice_for_a_failed_training():
    now = int(NOW.timestamp())
    freqai = FakeFreqai({"BTC/USDT": 0}, fail=True)
    gate = FreqaiTrainingGate(freqai)
    with time_machine.travel(NOW, tick=False):  # the replay's frozen clock
        trainer = freqai.train_head_later(now)
        gate.wait(NOW)
        trainer.join()
    assert gate.trainings == [] and not gate.due(now)
    assert gate.due(now + 3600)  # retried at the next step, as freqtrade's thread would
    freqai._stop.set()


def test_gate_ignores_a_model_that_is_not_scanning():
    freqai = FakeFreqai({"BTC/USDT": 0})
    freqai.scanning = False
    gate = FreqaiTrainingGate(freqai)
    gate.wait(NOW)  # returns: no train thread yet
    freqai._stop.set()


@pytest.mark.parametrize("bad", [object(), SimpleNamespace(train_queue=deque())])
def test_gate_needs_a_freqai_model(bad):
    with pytest.raises(ValueError, match="FreqAI model"):
        FreqaiTrainingGate(bad)


def test_isolate_freqai_gives_the_replay_its_own_folders(tmp_path):
    config = {"freqai": {"enabled": True, "identifier": "ai"}, "datadir": "/bundle",
              "user_data_dir": tmp_path}
    isolate_freqai(config, "0123456789")
    assert config["freqai"]["identifier"] == replay_identifier("ai", "0123456789")
    assert config["pack_replay_datadir"] == "/bundle"
    assert config["datadir"] == freqai_candle_folder(config, config["freqai"]["identifier"])
    assert config["datadir"].is_dir()
    plain = {"datadir": "/bundle"}
    isolate_freqai(plain, "0123456789")
    assert plain == {"datadir": "/bundle"}


# --- end to end -----------------------------------------------------------------------------

START, END = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 2, 6, tzinfo=UTC)
RETRAIN_HOURS, STEP = 6, timedelta(hours=1)
BUNDLE = REPO / "user_data" / "data" / "binance"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_aifusion_retrains_on_the_simulated_clock(tmp_path):
    overlay = tmp_path / "overlay.json"
    overlay.write_text(json.dumps({
        "exchange": {"pair_whitelist": ["BTC/USDT"]},
        "api_server": {"enabled": False},
        "freqai": {"train_period_days": 30, "live_retrain_hours": RETRAIN_HOURS,
                   "purge_old_models": 0},  # keep every model folder
    }))
    db = tmp_path / "AiFusion.sqlite"
    bundle_before = {p.name: digest(p) for p in BUNDLE.glob("BTC_USDT-*.feather")}
    command = [sys.executable, "-m", "plugins.commands.replay", "--config", str(CONFIG),
               "--config", str(REPO / "user_data" / "config.freqai.json"), "--config", str(overlay),
               "--strategy", "AiFusion",
               "--start", f"{START:%Y%m%d%H%M}", "--end", f"{END:%Y%m%d%H%M}",
               "--step", "1h", "--db-url", f"sqlite:///{db}"]
    models = candles = REPO / "user_data" / "models" / "not-created"
    try:
        done = subprocess.run(command, cwd=REPO, env=clean_env(), capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        replay_id = db_rows(db, f"select string_value from KeyValueStore where key = '{REPLAY_ID_KEY}'")
        identifier = replay_identifier("ai-fusion-ensemble-v1", replay_id[0][0])
        models = REPO / "user_data" / "models" / identifier
        candles = freqai_candle_folder({"user_data_dir": REPO / "user_data"}, identifier)
        stamps = sorted(int(m.group(1)) for d in models.iterdir()
                        if (m := re.fullmatch(r"sub-train-BTC_(\d+)", d.name)))
        pair_dict = json.loads((models / "pair_dictionary.json").read_text())
        downloaded = sorted(p.name for p in candles.glob("*.feather"))
    finally:
        shutil.rmtree(models, ignore_errors=True)
        shutil.rmtree(candles, ignore_errors=True)

    assert len(stamps) >= 4, stamps  # trained at the start, then again and again
    assert stamps[0] == int(START.timestamp())  # the first training: at the simulated start
    assert stamps[-1] <= int(END.timestamp())
    gaps = [b - a for a, b in pairwise(stamps)]
    # FreqAI retrains once more than live_retrain_hours have passed: at the next step after them
    retrain, step = RETRAIN_HOURS * 3600, int(STEP.total_seconds())
    assert all(retrain < gap <= retrain + step for gap in gaps), gaps
    assert pair_dict["BTC/USDT"]["trained_timestamp"] == stamps[-1]
    # FreqAI's start-up download went to the replay's own folder; the bundle is untouched
    assert "BTC_USDT-1h.feather" in downloaded and "BTC_USDT-4h.feather" in downloaded
    assert {p.name: digest(p) for p in BUNDLE.glob("BTC_USDT-*.feather")} == bundle_before
