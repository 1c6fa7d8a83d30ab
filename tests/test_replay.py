"""ftpack-replay end to end: stock freqtrade trade in dry-run on the replayed bundled market.

Each test starts the real command in a subprocess (the clock is process-wide), on a few pairs and
hours where the strategy trades in a backtest of the same data (see docs/replay.md):
RsiMeanReversion's 2025-07-23 stop-loss cluster, GridTrader's 2025-04-28 grid fills.
"""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import CONFIG, REPO

API_USER, API_PASSWORD = "replay-test", "replay-test-password"
RSI_PAIRS = ["XRP/USDT", "SOL/USDT", "ADA/USDT", "DOGE/USDT"]
GRID_PAIRS = ["BTC/USDT", "ADA/USDT", "LINK/USDT", "AVAX/USDT"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def overlay(tmp_path: Path, pairs: list[str], *, api: bool = False, **extra) -> Path:
    """A config layered on user_data/config.json: fewer pairs, API server, webhook, ..."""
    data = {"exchange": {"pair_whitelist": pairs},
            "api_server": {"enabled": api, "username": API_USER, "password": API_PASSWORD,
                           "jwt_secret_key": "replay-test-secret-" + "x" * 32}}
    data.update(extra)
    path = tmp_path / "overlay.json"
    path.write_text(json.dumps(data))
    return path


def replay_command(tmp_path: Path, strategy: str, start: str, end: str, config: Path, *args: str):
    db = tmp_path / f"{strategy}.sqlite"
    command = [sys.executable, "-m", "plugins.commands.replay", "--config", str(CONFIG),
               "--config", str(config), "--strategy", strategy, "--start", start, "--end", end,
               "--db-url", f"sqlite:///{db}", *args]
    return command, db


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE")}
    env["COLUMNS"] = "200"
    return env


def run(command, timeout=600):
    return subprocess.run(command, cwd=REPO, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def db_rows(db: Path, query: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", _Receiver.received
    server.shutdown()


def poll_api(client, process, seen: dict) -> None:
    """Query the REST API until the replay process ends; keep what changed."""
    while process.poll() is None:
        try:
            candles = client.pair_candles("XRP/USDT", "1h", limit=5)
            trades = client.trades()
            answers = {"status": client.status(), "profit": client.profit(),
                       "balance": client.balance(), "locks": client.locks()}
        except (OSError, ValueError):  # server not up yet / shutting down
            time.sleep(0.5)
            continue
        if isinstance(candles, dict) and candles.get("data"):
            seen["candle_dates"].add(candles["data"][-1][0])
        if isinstance(trades, dict):
            seen["trade_counts"].add(trades.get("total_trades", 0))
        for name, answer in answers.items():
            if answer is not None:
                seen["answered"].add(name)
        time.sleep(0.5)


def test_rsi_replay_trades_api_and_webhook(tmp_path, webhook_receiver):
    from freqtrade_client import FtRestClient

    url, received = webhook_receiver
    port = free_port()
    webhook = {"enabled": True, "url": url, "format": "json",
               "entry_fill": {"event": "entry_fill", "pair": "{pair}"},
               "exit_fill": {"event": "exit_fill", "pair": "{pair}", "reason": "{exit_reason}"}}
    config = overlay(tmp_path, RSI_PAIRS, api=True, webhook=webhook)
    command, db = replay_command(tmp_path, "RsiMeanReversion", "202507231000", "202507240200",
                                 config, "--step", "1h", "--speed", "1800",
                                 "--api-port", str(port))
    process = subprocess.Popen(command, cwd=REPO, env=clean_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    seen = {"candle_dates": set(), "trade_counts": set(), "answered": set()}
    client = FtRestClient(f"http://127.0.0.1:{port}", API_USER, API_PASSWORD)
    poll_api(client, process, seen)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output[-3000:]
    assert "Traceback" not in output

    trades = db_rows(db, "select pair, open_date, close_date, is_open, exit_reason from trades")
    closed = [t for t in trades if not t[3]]
    assert len(trades) >= 3 and closed, trades
    assert all(t[1] >= "2025-07-23 10:00" for t in trades)  # opened on the simulated clock
    orders = db_rows(db, "select ft_order_side, status from orders")
    assert ("buy", "closed") in orders and ("sell", "closed") in orders

    assert seen["answered"] == {"status", "profit", "balance", "locks"}
    assert len(seen["candle_dates"]) >= 3, seen  # /pair_candles followed the clock
    assert max(seen["trade_counts"]) >= 1, seen

    events = [(m["event"], m["pair"]) for m in received]
    assert {e for e, _ in events} == {"entry_fill", "exit_fill"}, events
    assert sum(e == "exit_fill" for e, _ in events) == len(closed)


def _snapshot(db: Path) -> dict:
    return {
        "trades": db_rows(db, "select id, pair, open_date from trades order by id"),
        "orders": db_rows(db, "select id, ft_trade_id, order_id, ft_order_side, price, amount "
                              "from orders order by id"),
        "custom": db_rows(db, "select ft_trade_id, cd_key, cd_value from trade_custom_data "
                              "order by id"),
        "locks": db_rows(db, "select id, pair, lock_end_time from PairLocks order by id"),
        "clock": db_rows(db, "select datetime_value from KeyValueStore "
                             "where key = 'pack_replay_last_processed'"),
    }


def test_grid_replay_survives_sigkill(tmp_path):
    config = overlay(tmp_path, GRID_PAIRS)
    command, db = replay_command(tmp_path, "GridTrader", "202504272200", "202504290000", config,
                                 "--step", "30m")
    process = subprocess.Popen(command, cwd=REPO, env=clean_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 400
    before = None
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(1)
        if db.exists():
            try:
                state = _snapshot(db)
            except sqlite3.Error:
                continue
            if state["custom"] and len(state["trades"]) >= 2 and state["clock"]:
                process.send_signal(signal.SIGKILL)
                process.wait()
                before = _snapshot(db)
                break
    assert before is not None, "the grid never opened two trades with ladder data before the end"
    assert process.returncode == -signal.SIGKILL

    restarted = run(command)
    assert restarted.returncode == 0, restarted.stdout[-3000:] + restarted.stderr[-3000:]
    after = _snapshot(db)
    last_processed = datetime.fromisoformat(before["clock"][0][0])
    resumed = last_processed + timedelta(minutes=30)  # one --step after the last iteration
    assert f"Replay of GridTrader from {resumed:%Y-%m-%d %H:%M} " in restarted.stdout

    assert set(before["trades"]) <= set(after["trades"])  # no lost trade
    assert set(before["orders"]) <= set(after["orders"])  # orders kept, same price and amount
    order_ids = [row[2] for row in after["orders"]]
    assert len(order_ids) == len(set(order_ids))  # no duplicated order
    before_keys = {(t, k) for t, k, _ in before["custom"]}
    assert before_keys <= {(t, k) for t, k, _ in after["custom"]}  # ladders still there
    assert set(before["locks"]) <= set(after["locks"])
    assert after["clock"][0][0] > before["clock"][0][0]
    assert len(after["trades"]) >= len(before["trades"])

    # --compare on the finished database: no replay again, a backtest, a parity report
    compared = run([*command, "--compare"])
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert "Replay already complete" in compared.stdout
    report = db.with_suffix(".parity.md").read_text()
    assert f"- trades: replay {len(after['trades'])} (" in report
    assert "matched" in report and "| pair | open (backtest) |" in report


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--start", "20200101"], {}, "outside the"),
        (["--start", "20250801", "--end", "20260101"], {}, "is after the"),
        (["--start", "2025-06-01"], {}, "is not a date"),
        (["--start", "20250601"], {"FREQTRADE__EXCHANGE__KEY": "live-key"}, "live exchange key"),
        (["--start", "20250601"], {"FREQTRADE__DRY_RUN": "false"}, "dry-run only"),
        (["--start", "20250601", "--step", "7x"], {}, "not a timeframe"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, env, message):
    config = overlay(tmp_path, ["BTC/USDT"])
    command = [sys.executable, "-m", "plugins.commands.replay", "--config", str(CONFIG),
               "--config", str(config), "--strategy", "RsiMeanReversion",
               "--db-url", f"sqlite:///{tmp_path / 'bad.sqlite'}", *args]
    result = subprocess.run(command, cwd=REPO, env={**clean_env(), **env}, capture_output=True,
                            text=True, timeout=300, check=False)
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]
    assert result.returncode == 2
    assert len(errors) == 1 and message in errors[0], errors
    assert "Traceback" not in result.stderr


def test_missing_timeframe_and_pair_are_one_line(tmp_path):
    datadir = tmp_path / "data"
    datadir.mkdir()
    source = REPO / "user_data" / "data" / "binance"
    for name in ("BTC_USDT-1h.feather", "BTC_USDT-4h.feather", "BTC_USDT-1d.feather",
                 "ETH_USDT-1h.feather", "ETH_USDT-1d.feather"):
        (datadir / name).symlink_to(source / name)
    base = [sys.executable, "-m", "plugins.commands.replay", "--config", str(CONFIG),
            "--strategy", "RsiMeanReversion", "--start", "20250601", "--datadir", str(datadir),
            "--db-url", f"sqlite:///{tmp_path / 'bad.sqlite'}"]
    for pairs, message in ((["ETH/USDT"], "no 4h candles of ETH/USDT"),
                           (["BTC/USDT", "SOL/USDT"], "candles of SOL/USDT")):
        config = overlay(tmp_path, pairs)
        result = run([*base, "--config", str(config)], timeout=300)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]
        assert result.returncode == 2
        assert len(errors) == 1 and message in errors[0], errors
