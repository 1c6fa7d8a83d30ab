"""Docker image: the pack's metadata admits the official image's Python, and the HEALTHCHECK's
command really tells a pinging API from a dead one (run here against real sockets on 127.0.0.1)."""

import json
from pathlib import Path
import os
import re
import socket
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer

import yaml
from packaging.specifiers import SpecifierSet

from tests.conftest import REPO


DOCKERFILE = (REPO / "Dockerfile").read_text()
# freqtradeorg/freqtrade:2026.9 is built FROM python:3.13-slim-bookworm (freqtrade's own Dockerfile).
IMAGE_PYTHON = "3.13"


def requires_python() -> SpecifierSet:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    return SpecifierSet(meta["project"]["requires-python"])


def test_metadata_admits_the_image_python_and_every_supported_version():
    spec = requires_python()
    assert f"{IMAGE_PYTHON}.0" in spec and f"{IMAGE_PYTHON}.7" in spec
    for version in ("3.11.0", "3.12.5", "3.13.1"):
        assert version in spec, version
    assert "3.10.14" not in spec
    # the Dockerfile's note about the image's Python is the one this test checks
    assert f"runs Python {IMAGE_PYTHON}" in DOCKERFILE


def test_running_interpreter_is_admitted():
    assert f"{sys.version_info.major}.{sys.version_info.minor}.0" in requires_python()


def healthcheck_command() -> list[str]:
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", DOCKERFILE.replace("\\\n", " "), re.M)
    assert match, "Dockerfile has no exec-form HEALTHCHECK"
    return json.loads(match.group(1))


def test_healthcheck_targets_freqtrades_public_ping_route():
    from freqtrade.rpc.api_server.api_v1 import router_public

    assert "/ping" in {route.path for route in router_public.routes}
    assert "/api/v1/ping" in " ".join(healthcheck_command())
    assert "--start-period=" in DOCKERFILE  # the bot needs time to load markets and strategy


class _Ping(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b'{"status":"pong"}' if self.path == "/api/v1/ping" else b"{}"
        self.send_response(200 if self.path == "/api/v1/ping" else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def run_healthcheck(port: int) -> int:
    command = healthcheck_command()
    command[0] = sys.executable  # the image's "python"
    env = {**os.environ, "FT_HEALTH_PORT": str(port)}
    return subprocess.run(command, env=env, capture_output=True, timeout=30).returncode


def test_healthcheck_passes_on_pong_and_fails_on_a_dead_port():
    server = HTTPServer(("127.0.0.1", 0), _Ping)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert run_healthcheck(server.server_address[1]) == 0
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    assert run_healthcheck(dead_port) != 0


def test_compose_services_parse_and_keep_ports_on_localhost():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_adds_backup_metrics_prometheus_and_grafana():
    services = COMPOSE["services"]
    assert {"freqtrade", "backup", "metrics", "prometheus", "grafana"} <= set(services)
    assert services["metrics"]["command"][:2] == ["--api-url", "http://freqtrade:8080"]
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith(
        "${GF_SECURITY_ADMIN_PASSWORD:?")
    assert "GF_SECURITY_ADMIN_PASSWORD=" in (REPO / ".env.example").read_text()
    prometheus = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    assert prometheus["scrape_configs"][0]["static_configs"][0]["targets"] == ["metrics:9100"]


def test_prometheus_config_and_rules_pass_promtool():
    """Debian's prometheus package ships promtool (.ci/run installs it)."""
    result = subprocess.run(["promtool", "check", "config", str(REPO / "deploy" / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 rules found" in result.stdout + result.stderr


def test_dashboard_and_rules_query_only_series_the_exporter_serves():
    exporter = (REPO / "plugins" / "commands" / "metrics.py").read_text()
    served = set(re.findall(r'gauge\("(freqtrade_\w+)"', exporter))
    assert len(served) >= 12
    dashboard = (REPO / "deploy" / "grafana" / "dashboards" / "freqtrade.json").read_text()
    rules = (REPO / "deploy" / "alerts.yml").read_text()
    queried = set(re.findall(r"freqtrade_[a-z_]+", dashboard + rules)) - {"freqtrade_pack"}
    assert queried and queried <= served, queried - served
    assert json.loads(dashboard)["panels"]


def test_backup_service_backs_up_at_start_and_at_shutdown(tmp_path):
    """The compose service's own shell loop, run here with a scratch user_data."""
    import signal
    import time

    from tests.test_ops_backup import make_trades

    user_data = tmp_path / "user_data"
    user_data.mkdir()
    make_trades(user_data / "tradesv3.sqlite", 3)
    script = COMPOSE["services"]["backup"]["command"][0].replace("$$", "$")
    script = script.replace("/freqtrade/user_data", str(user_data))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    loop = subprocess.Popen(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    backups = lambda: sorted((user_data / "backups").glob("ftpack-backup-*.zip"))  # noqa: E731
    deadline = time.monotonic() + 120
    while not backups() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(backups()) == 1
    time.sleep(1.2)  # the shutdown backup gets its own timestamp
    loop.send_signal(signal.SIGTERM)
    output, _ = loop.communicate(timeout=120)
    assert loop.returncode == 0, output
    assert output.count("Wrote ") == 2, output  # one at start, one at shutdown
    # retention keeps the newest backup of each day: the shutdown one replaced the start one
    assert len(backups()) == 1 and "pruned 1 old backups" in output.splitlines()[-1]
