"""The demo: buy-and-hold arithmetic by hand, an end-to-end run, and a missing data file."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from plugins.commands.demo import buy_and_hold_wallet, render_markdown, Row
from tests.conftest import CONFIG, USER_DATA, REPO


def test_buy_and_hold_wallet_by_hand():
    dates = pd.date_range("2025-01-01", periods=3, freq="1D", tz="UTC")
    closes = pd.DataFrame({"A": [10.0, 12.0, 11.0], "B": [100.0, 90.0, 120.0]}, index=dates)
    opens = pd.Series({"A": 10.0, "B": 100.0})
    wallet, final = buy_and_hold_wallet(closes, opens, balance=1000.0, fee=0.001)
    # 500 USDT each, 0.1% fee: 49.95 A and 4.995 B.
    assert wallet["total_quote"].tolist() == pytest.approx([1000.0, 999.0, 1048.95, final])
    assert final == pytest.approx((49.95 * 11 + 4.995 * 120) * 0.999)
    assert wallet["date"].iloc[0] == dates[0] - pd.Timedelta(days=1)


def test_markdown_has_one_row_per_result():
    row = Row("X", 3, 1.5, 2.25, 0.5, 1.0, 10, "2025-02-01 00:00:00", "2025-03-01 00:00:00")
    text = render_markdown([row])
    assert "| X | 3 | 1.50 | 2.25 | 0.50 | 1.00 | 10 | 2025-02-01 → 2025-03-01 |" in text


def make_userdir(tmp_path, skip_file: str | None = None):
    userdir = tmp_path / "user_data"
    (userdir / "data" / "binance").mkdir(parents=True)
    for item in (USER_DATA / "data" / "binance").iterdir():
        if item.name != skip_file:
            (userdir / "data" / "binance" / item.name).symlink_to(item)
    for name in ("markets", "strategies"):
        (userdir / name).symlink_to(USER_DATA / name)
    shutil.copy(CONFIG, userdir / "config.json")
    return userdir


def run_demo(userdir, *args):
    demo = [sys.executable, "-m", "plugins.commands.demo", "--userdir", str(userdir), *args]
    return subprocess.run(demo, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_demo_end_to_end_writes_table(tmp_path):
    userdir = make_userdir(tmp_path)
    result = run_demo(userdir, "--strategy", "RsiMeanReversion", "--timerange", "20250501-20250701")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| RsiMeanReversion |" in result.stdout
    assert "| Buy & hold (equal weight) | 10 |" in result.stdout
    rows = json.loads((userdir / "demo" / "comparison.json").read_text())
    assert [r["name"] for r in rows] == ["RsiMeanReversion", "Buy & hold (equal weight)"]
    assert rows[0]["trades"] > 0
    assert (userdir / "demo" / "comparison.md").read_text().startswith("| Strategy |")


def test_demo_missing_data_file_is_one_clear_line(tmp_path):
    userdir = make_userdir(tmp_path, skip_file="BTC_USDT-1h.feather")
    result = run_demo(userdir, "--strategy", "RsiMeanReversion")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("ftpack-demo:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "Missing data file" in lines[0] and "BTC_USDT-1h.feather" in lines[0]
    assert "git checkout" in lines[0]
