"""ftpack-metrics against a real offline dry-run bot (freqtrade trade, REST API on 127.0.0.1),
parsed with prometheus_client's own parser; then a real Prometheus scrapes the exporter.

The Prometheus test needs Debian's ``prometheus`` binary: ``.ci/run`` installs it
(``apt-get install -y --no-install-recommends prometheus``) before ``make test``.
"""

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from plugins.quant.risk import drawdown_from_peak
from tests.conftest import REPO, USER_DATA
from tests.test_ops_backup import make_trades
from tests.test_ops_lock import API_SECRETS, start_bot, stop, wait_for

METRICS = Path(sys.executable).parent / "ftpack-metrics"
TRADES = 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, timeout: float = 30) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    samples = {}
    for family in text_string_to_metric_families(fetch(f"http://127.0.0.1:{port}/metrics")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def start_exporter(api_port: int, port: int, env_extra: dict | None = None) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin", **API_SECRETS, **(env_extra or {})}
    return subprocess.Popen([str(METRICS), "--api-url", f"http://127.0.0.1:{api_port}",
                             "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def answers(port: int) -> bool:
    try:
        fetch(f"http://127.0.0.1:{port}/metrics", timeout=5)
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    """A dry-run bot over a database with 1000 closed trades, and its exporter."""
    root = tmp_path_factory.mktemp("metrics")
    user_data = root / "user_data"
    user_data.mkdir()
    for name in ("data", "markets", "strategies", "freqaimodels"):
        (user_data / name).symlink_to(USER_DATA / name)
    db = root / "trades.sqlite"
    make_trades(db, TRADES)
    api_port, exporter_port = free_port(), free_port()
    process = start_bot(user_data, db, root / "bot.log", api_port=api_port)
    exporter = start_exporter(api_port, exporter_port)
    try:
        assert wait_for(lambda: "to: RUNNING" in (root / "bot.log").read_text(), process), \
            (root / "bot.log").read_text()[-3000:]
        assert wait_for(lambda: answers(exporter_port), exporter, 60)
        # the heartbeat exists once the bot finished its first loop
        assert wait_for(lambda: ("freqtrade_seconds_since_last_process", ()) in scrape(exporter_port),
                        process, 120)
        yield {"db": db, "api_port": api_port, "port": exporter_port, "process": process}
    finally:
        stop(exporter)
        stop(process)


def add_lock(api_port: int, pair: str, reason: str) -> None:
    from freqtrade_client import FtRestClient

    client = FtRestClient(f"http://127.0.0.1:{api_port}", API_SECRETS["FREQTRADE__API_SERVER__USERNAME"],
                          API_SECRETS["FREQTRADE__API_SERVER__PASSWORD"])
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert client.lock_add(pair, until, reason=reason)["lock_count"] >= 1


def closed_profits_from_db(db: Path) -> list[float]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT close_profit_abs FROM trades WHERE is_open = 0 ORDER BY close_date, id")
        return [row[0] for row in rows]


def test_exporter_reports_the_bot(bot):
    add_lock(bot["api_port"], "ETH/USDT", "RegimeGuard: BEAR_TREND")
    add_lock(bot["api_port"], "SOL/USDT", "RegimeGuard: BEAR_TREND")
    add_lock(bot["api_port"], "BTC/USDT", "manual")
    started = time.perf_counter()
    samples = scrape(bot["port"])
    elapsed = time.perf_counter() - started
    print(f"\nscrape of a bot with {TRADES} trades: {elapsed:.3f} s (exporter reports "
          f"{samples[('freqtrade_exporter_scrape_seconds', ())]:.3f} s reading the API)")

    assert samples[("freqtrade_up", ())] == 1
    assert samples[("freqtrade_bot_state", (("state", "running"),))] == 1
    assert samples[("freqtrade_bot_state", (("state", "stopped"),))] == 0
    assert samples[("freqtrade_trades_total", (("status", "closed"),))] == TRADES
    profits = closed_profits_from_db(bot["db"])
    assert samples[("freqtrade_profit_closed", ())] == pytest.approx(sum(profits), rel=1e-6)
    wins = sum(p > 0 for p in profits)
    assert samples[("freqtrade_trades_total", (("status", "winning"),))] == wins
    assert samples[("freqtrade_locks", (("reason", "RegimeGuard: BEAR_TREND"),))] == 2
    assert samples[("freqtrade_locks", (("reason", "manual"),))] == 1
    capital = samples[("freqtrade_starting_capital", ())]
    open_profit = samples[("freqtrade_profit_open", ())]
    expected = drawdown_from_peak([*profits, open_profit], capital)
    assert expected > 0  # the scripted trades lose every third trade: there is a drawdown
    assert samples[("freqtrade_drawdown_ratio", ())] == pytest.approx(expected, rel=1e-6)
    assert 0 <= samples[("freqtrade_seconds_since_last_process", ())] < 60


def test_exporter_reports_down_when_the_bot_is_unreachable():
    port = free_port()
    exporter = start_exporter(free_port(), port)  # nothing listens on the API port
    try:
        assert wait_for(lambda: answers(port), exporter, 60)
        samples = scrape(port)
    finally:
        stop(exporter)
    assert samples[("freqtrade_up", ())] == 0
    assert not any(name == "freqtrade_trades_total" for name, _ in samples)


def test_exporter_without_credentials_is_one_error_line():
    result = subprocess.run([str(METRICS), "--port", str(free_port())], env={"PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "FREQTRADE__API_SERVER__USERNAME" in lines[0]


def test_prometheus_scrapes_the_exporter(bot, tmp_path):
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 5s\n  scrape_timeout: 5s\n"
        "scrape_configs:\n  - job_name: freqtrade\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{bot['port']}']\n")
    prometheus = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    query = urllib.parse.quote('freqtrade_trades_total{status="closed"}')
    url = f"http://127.0.0.1:{prom_port}/api/v1/query?query={query}"

    def series():
        try:
            return json.loads(fetch(url, timeout=5))["data"]["result"]
        except OSError:
            return []

    try:
        assert wait_for(lambda: bool(series()), prometheus, 90)
        result = series()
    finally:
        stop(prometheus)
    assert result[0]["metric"]["job"] == "freqtrade"
    assert float(result[0]["value"][1]) == TRADES
