"""Shared test helpers: run stock freqtrade commands offline against the bundled data."""

import os
import re
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
    full_env["COLUMNS"] = "200"  # rich wraps log lines at the console width
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


LOG_RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - ")


def log_records(output: str) -> list[str]:
    """Output split into log records: rich wraps long messages onto continuation lines."""
    records: list[str] = []
    for line in output.splitlines():
        if LOG_RECORD_START.match(line) or not records or line.startswith("Traceback"):
            records.append(line)
        else:
            records[-1] += " " + line.strip()
    return [" ".join(record.split()) for record in records]


def error_lines(output: str) -> list[str]:
    """Log records at ERROR/CRITICAL level, and any traceback."""
    return [
        record
        for record in log_records(output)
        if " - ERROR - " in record or " - CRITICAL - " in record or record.startswith("Traceback")
    ]


def flat_candles(closes, volume=1e6, start: str = "2025-01-01"):
    """1h candles with open = high = low = close (for checks that read closes only)."""
    import numpy as np
    import pandas as pd

    closes = np.asarray(closes, dtype=float)
    dates = pd.date_range(start, periods=len(closes), freq="1h", tz="UTC")
    return pd.DataFrame(
        {"date": dates, "open": closes, "high": closes, "low": closes, "close": closes,
         "volume": volume}
    )


def link_user_data(ud: Path) -> Path:
    """Make ``ud`` a scratch user_data dir sharing the bundled data, markets and strategies."""
    ud.mkdir(exist_ok=True)
    for name in ("data", "markets", "strategies", "freqaimodels"):
        (ud / name).symlink_to(USER_DATA / name)
    return ud


@pytest.fixture
def tmp_user_data(tmp_path: Path) -> Path:
    """A scratch user_data dir sharing the bundled data, markets and strategies (read-only)."""
    return link_user_data(tmp_path / "user_data")
