"""Shared test helpers: run stock freqtrade commands offline against the bundled data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parent.parent
USER_DATA = REPO / "user_data"
CONFIG = USER_DATA / "config.json"
STRATEGY_DIR = USER_DATA / "strategies"
FREQTRADE = Path(sys.executable).parent / "freqtrade"


def pack_strategy_names() -> list[str]:
    """Every IStrategy subclass in user_data/strategies (through freqtrade's own resolver)."""
    from freqtrade.resolvers import StrategyResolver

    config = {"user_data_dir": USER_DATA, "strategy_path": str(STRATEGY_DIR)}
    found = StrategyResolver.search_all_objects(config, enum_failed=False)
    return sorted({s["name"] for s in found if Path(s["location"]).parent == STRATEGY_DIR})


def run_freqtrade(*args: str, offline: bool = True, timeout: int = 900, env: dict | None = None):
    """Run the stock freqtrade CLI from the repo root; returns the CompletedProcess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE")}
    if offline:
        full_env["FREQTRADE_PACK_OFFLINE"] = "1"
    full_env.update(env or {})
    return subprocess.run(
        [str(FREQTRADE), *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def error_lines(output: str) -> list[str]:
    """Log lines at ERROR/CRITICAL level, and any traceback header."""
    return [
        line
        for line in output.splitlines()
        if " - ERROR - " in line or " - CRITICAL - " in line or line.startswith("Traceback")
    ]


@pytest.fixture
def tmp_user_data(tmp_path: Path) -> Path:
    """A scratch user_data dir sharing the bundled data, markets and strategies (read-only)."""
    ud = tmp_path / "user_data"
    ud.mkdir()
    for name in ("data", "markets", "strategies", "freqaimodels"):
        (ud / name).symlink_to(USER_DATA / name)
    return ud
