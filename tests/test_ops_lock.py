"""Instance lock: two real ``freqtrade trade`` processes on one database (offline dry-run bots).

Also holds the helpers the other operations tests use to start a real offline dry-run bot.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from plugins.integration.instance_lock import lock_path_for
from tests.conftest import CONFIG, FREQTRADE, REPO, error_lines, log_records

API_SECRETS = {
    "FREQTRADE__API_SERVER__USERNAME": "ops-test",
    "FREQTRADE__API_SERVER__PASSWORD": "ops-test-password",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "0123456789abcdef0123456789abcdef-ops",
}


def bot_env(api_port: int | None = None, extra: dict | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE")}
    env.update(COLUMNS="200", FREQTRADE_PACK_OFFLINE="1", **API_SECRETS)
    if api_port is None:
        env["FREQTRADE__API_SERVER__ENABLED"] = "false"
    else:
        env["FREQTRADE__API_SERVER__LISTEN_PORT"] = str(api_port)
    env.update(extra or {})
    return env


def start_bot(user_data: Path, db: Path, log: Path, api_port: int | None = None,
              extra_env: dict | None = None, configs: tuple[Path, ...] = ()) -> subprocess.Popen:
    """A real offline dry-run ``freqtrade trade`` writing its output to ``log``."""
    args = [str(FREQTRADE), "trade", "--config", str(CONFIG)]
    for config in configs:
        args += ["--config", str(config)]
    args += ["--userdir", str(user_data), "--db-url", f"sqlite:///{db}",
             "--strategy", "RsiMeanReversion"]
    with log.open("w") as out:
        return subprocess.Popen(args, cwd=REPO, env=bot_env(api_port, extra_env),
                                stdout=out, stderr=subprocess.STDOUT)


def wait_for(predicate, process: subprocess.Popen | None, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if process is not None and process.poll() is not None:
            return predicate()
        time.sleep(0.5)
    return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def lock_owner(path: Path) -> str:
    try:
        return path.read_text().split("\n", 1)[0]
    except OSError:
        return ""


def test_lock_paths():
    assert lock_path_for("sqlite://", None) is None
    assert lock_path_for("sqlite:////tmp/x/trades.sqlite", None) == Path("/tmp/x/trades.sqlite.lock")
    server = lock_path_for("postgresql://u@db/trades", "/tmp/ud")
    assert server.parent == Path("/tmp/ud") and server.name.startswith("trade-db-")
    assert server != lock_path_for("postgresql://u@db/other", "/tmp/ud")


def test_second_bot_on_same_database_refuses_and_stale_lock_is_taken_over(tmp_user_data, tmp_path):
    db = tmp_path / "trades.sqlite"
    lock = lock_path_for(f"sqlite:///{db}", None)
    first = start_bot(tmp_user_data, db, tmp_path / "first.log")
    try:
        assert wait_for(lambda: "to: RUNNING" in (tmp_path / "first.log").read_text(), first), \
            (tmp_path / "first.log").read_text()[-3000:]
        assert lock_owner(lock) == str(first.pid)

        second = start_bot(tmp_user_data, db, tmp_path / "second.log")
        assert second.wait(timeout=120) != 0
        output = (tmp_path / "second.log").read_text()
        errors = error_lines(output)
        assert len(errors) == 1, output[-3000:]
        assert f"Another freqtrade trade (PID {first.pid}) is using the database" in errors[0]
        assert first.poll() is None  # the running bot is untouched

        first.send_signal(signal.SIGKILL)  # dies without cleaning up: the lock file stays
        first.wait(timeout=30)
        assert lock.exists() and lock_owner(lock) == str(first.pid)

        third = start_bot(tmp_user_data, db, tmp_path / "third.log")
        try:
            assert wait_for(lambda: lock_owner(lock) == str(third.pid), third, 120), \
                (tmp_path / "third.log").read_text()[-3000:]
            records = log_records((tmp_path / "third.log").read_text())
            assert any("WARNING" in r and f"stale instance lock {lock} of PID {first.pid}" in r
                       for r in records)
            # stop it once it trades, as an operator would (SIGTERM mid-start-up can hang freqtrade)
            assert wait_for(lambda: "to: RUNNING" in (tmp_path / "third.log").read_text(), third)
        finally:
            stop(third)
        assert third.returncode == 130  # freqtrade turns SIGTERM into its Ctrl-C shutdown
        assert not lock.exists()  # a clean exit removes its lock
    finally:
        if first.poll() is None:
            first.kill()

