"""Every pack strategy passes freqtrade's lookahead-analysis offline: zero biased signals.

Strategies are discovered through freqtrade's own StrategyResolver, so a new strategy file is
checked automatically. EXTRA_ARGS holds per-strategy command-line additions (pairs, configs).
"""

import csv

import pytest

from tests.conftest import CONFIG, pack_strategy_names, run_freqtrade


TIMERANGE = "20250501-20250701"
EXTRA_ARGS: dict[str, list[str]] = {
    # 15m strategy: only 8 of the bundled pairs have 15m candles.
    "SmcStructure": ["--config", "user_data/config.15m.json"],
    # Grid ladders carry many orders per trade (slow to simulate): one month still gives 20 signals.
    "GridTrader": ["--timerange", "20250501-20250601"],
    # The market gate keeps it out until late April 2025; this span gives its 20 signals.
    "RsiMeanReversion": ["--timerange", "20250420-20250831"],
}
STRATEGIES = pack_strategy_names()


def test_strategies_are_discovered():
    assert "RsiMeanReversion" in STRATEGIES


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_lookahead_bias(strategy, tmp_path):
    report = tmp_path / "lookahead.csv"
    args = EXTRA_ARGS.get(strategy, [])
    if "--timerange" not in args:
        args = [*args, "--timerange", TIMERANGE]
    result = run_freqtrade(
        "lookahead-analysis", "--config", str(CONFIG), "--userdir", "user_data",
        "--strategy", strategy, "--lookahead-analysis-exportfilename", str(report), *args,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    rows = [r for r in csv.DictReader(report.open()) if r["strategy"] == strategy]
    assert len(rows) == 1, output[-3000:]
    row = rows[0]
    assert int(row["total_signals"]) > 0, "no signals: lookahead-analysis checked nothing"
    assert int(row["biased_entry_signals"]) == 0, row
    assert int(row["biased_exit_signals"]) == 0, row
    assert row["has_bias"] == "False", row
