"""Backtest wall time of pack strategies as a ratio to freqtrade's SampleStrategy.

Both run in this process, on the same bundled data, pairs, timeframe and timerange (SampleStrategy
is run at the pack strategy's timeframe), offline. Each is run ``--repeat`` times; the median
wall time (data load + indicators + simulation) is compared.

    FREQTRADE_PACK_OFFLINE=1 .venv/bin/python benchmarks/backtest_speed.py --strategy RsiMeanReversion
"""

import argparse
import os
import statistics

# Offline before freqtrade's exchange module is imported (the pack hook reads it then).
os.environ.setdefault("FREQTRADE_PACK_OFFLINE", "1")
import sys
from pathlib import Path

import freqtrade

from plugins.demo import (
    DEFAULT_TIMERANGE,
    USER_DATA,
    backtest,
    build_config,
    discover_strategies,
    load_settings,
)


SAMPLE_PATH = str(Path(freqtrade.__file__).parent / "templates")


def median_seconds(strategy: str, timerange: str, settings: dict, repeat: int):
    """Median wall time of ``repeat`` backtests, and the timeframe the strategy ran at."""
    times = []
    for _ in range(repeat):
        stats, seconds = backtest(build_config(strategy, timerange, settings))
        times.append(seconds)
    return statistics.median(times), stats["timeframe"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", nargs="*", help="default: every pack strategy")
    parser.add_argument("--timerange", default=DEFAULT_TIMERANGE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    demo_settings = load_settings(USER_DATA / "demo.json").get("strategies", {})
    print(f"timerange {args.timerange}, median of {args.repeat} runs")
    print(f"{'strategy':<28}{'timeframe':>10}{'seconds':>10}{'Sample s':>10}{'ratio':>8}")
    for name in args.strategy or discover_strategies(USER_DATA):
        settings = demo_settings.get(name, {})
        ours, timeframe = median_seconds(name, args.timerange, settings, args.repeat)
        sample_settings = {**settings, "strategy_path": SAMPLE_PATH, "timeframe": timeframe}
        sample_settings.pop("freqaimodel", None)
        sample, _ = median_seconds("SampleStrategy", args.timerange, sample_settings, args.repeat)
        print(f"{name:<28}{timeframe:>10}{ours:>10.2f}{sample:>10.2f}{ours / sample:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
