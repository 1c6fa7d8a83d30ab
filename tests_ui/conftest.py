"""FreqUI 3.1.1 served by `freqtrade webserver` (offline, 127.0.0.1, a free port), driven by Playwright.

Needs (all set up by `make test-ui`): the `ui` extra (Playwright's Python package), Debian's
chromium at /usr/bin/chromium (`scripts/ensure-chromium`) and a FreqUI build, found through
``FREQUI_DIR`` or at ``../shared/frequi`` beside the repo (what `freqtrade install-ui` would
download). A missing piece fails the suite with one message naming it; nothing is skipped.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
FREQUI_VERSION = "3.1.1"
# Generous: a cold webserver start loads the snapshot and the strategies; a month's backtest of
# ten pairs runs on a 2-core machine shared with other work. These bound a hang, not speed.
SERVER_START_SECONDS = 180
UI_TIMEOUT_MS = 240_000


def frequi_dir() -> Path:
    """The FreqUI build to serve: $FREQUI_DIR, else ../shared/frequi next to the repo."""
    configured = os.environ.get("FREQUI_DIR")
    folder = Path(configured) if configured else REPO.parent / "shared" / "frequi"
    if not (folder / "index.html").is_file():
        pytest.fail(
            f"FreqUI build not found at {folder} (no index.html): set FREQUI_DIR to a FreqUI "
            f"{FREQUI_VERSION} build (a user runs `freqtrade install-ui`)", pytrace=False)
    return folder


def ui_install_dir() -> Path:
    """Where `freqtrade webserver` serves FreqUI from (what `freqtrade install-ui` fills)."""
    import freqtrade.rpc.api_server.web_ui as web_ui

    return Path(web_ui.__file__).parent / "ui" / "installed"


@pytest.fixture(scope="session")
def installed_frequi():
    """FreqUI linked into freqtrade's ui/installed for the session; an existing install is kept."""
    from freqtrade.commands.deploy_ui import read_ui_version

    source = frequi_dir()
    target = ui_install_dir()
    created = False
    if target.is_symlink() and not target.exists():
        target.unlink()  # a link left by an interrupted run
    if not target.exists():
        target.symlink_to(source, target_is_directory=True)
        created = True
    version = (read_ui_version(target) or "").strip()
    if version != FREQUI_VERSION:
        pytest.fail(f"{target} holds FreqUI {version}, the test drives {FREQUI_VERSION}: remove it "
                    f"or reinstall {FREQUI_VERSION}", pytrace=False)
    yield target
    if created and target.is_symlink():
        target.unlink()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Webserver:
    """A running `freqtrade webserver` with throwaway credentials."""

    def __init__(self, port: int, username: str, password: str, process: subprocess.Popen,
                 log_path: Path):
        self.port, self.username, self.password = port, username, password
        self.process, self.log_path = process, log_path
        self.url = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def api(self, path: str, method: str = "GET", body: bytes | None = None) -> bytes:
        """Freqtrade's REST API with HTTP basic auth (what freqtrade-client does)."""
        import base64

        request = urllib.request.Request(f"{self.url}/api/v1/{path}", data=body, method=method)
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()


def wait_until_serving(server: Webserver) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"freqtrade webserver exited ({server.process.returncode}):\n"
                        f"{server.log()[-3000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{server.url}/api/v1/ping", timeout=2) as response:
                if b"pong" in response.read():
                    return
        except OSError:
            time.sleep(0.5)  # polling interval while the server starts, not a wait for the UI
    pytest.fail(f"freqtrade webserver did not answer within {SERVER_START_SECONDS}s:\n"
                f"{server.log()[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def webserver(installed_frequi, tmp_path_factory):
    """`freqtrade webserver --config user_data/config.json`, offline, as the README starts it."""
    port = free_port()
    username, password = "ui-test", secrets.token_urlsafe(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE")}
    env.update({
        "FREQTRADE_PACK_OFFLINE": "1",
        "FREQTRADE__API_SERVER__USERNAME": username,
        "FREQTRADE__API_SERVER__PASSWORD": password,
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY": secrets.token_hex(32),
        "FREQTRADE__API_SERVER__LISTEN_PORT": str(port),
        # Backtest result files of the test go to a temporary folder, not user_data/backtest_results.
        "FREQTRADE__EXPORTDIRECTORY": str(tmp_path_factory.mktemp("backtest_results")),
        "COLUMNS": "200",
    })
    log_path = tmp_path_factory.mktemp("webserver") / "webserver.log"
    freqtrade = Path(sys.executable).parent / "freqtrade"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(freqtrade), "webserver", "--config", "user_data/config.json"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Webserver(port, username, password, process, log_path)
    try:
        wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium (apt-get install chromium)",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install -e '.[test,ui]' (make venv-ui)",
                    pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    """Screenshots of each step, for a person to look at; kept out of the repo."""
    folder = Path(os.environ.get("FREQUI_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="frequi-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nFreqUI screenshots: {folder}")
    return folder


@pytest.fixture(scope="session")
def page(browser, webserver):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
