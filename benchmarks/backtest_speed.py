"""Backtest time of pack strategies as a ratio to freqtrade's SampleStrategy.

Both run in this process, on the same bundled data, pairs, timeframe and timerange (SampleStrategy
is run at the pack strategy's timeframe), offline. Runs are interleaved (ours, Sample, ours, ...)
so load from other processes hits both alike; the medians of wall time and of CPU time (data load
+ indicators + simulation) are compared. CPU time is the steadier figure on a shared machine.

    .venv/bin/python benchmarks/backtest_speed.py [--strategy RsiMeanReversion ...] [--repeat 3]
"""

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

# Offline before freqtrade's exchange module is imported (the pack hook reads it then).
os.environ.setdefault("FREQTRADE_PACK_OFFLINE", "1")

import freqtrade  # noqa: E402

from plugins.commands.demo import (  # noqa: E402
    DEFAULT_TIMERANGE,
    USER_DATA,
    backtest,
    build_config,
    discover_strategies,
    load_settings,
)


SAMPLE_PATH = str(Path(freqtrade.__file__).parent / "templates")


def timed_backtest(strategy: str, timerange: str, settings: dict) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, timeframe) of one backtest."""
    config = build_config(strategy, timerange, settings)
    cpu_start = time.process_time()
    stats, wall = backtest(config)
    return wall, time.process_time() - cpu_start, stats["timeframe"]


def sample_settings_for(settings: dict, timeframe: str) -> dict:
    """A pack strategy's demo settings turned into SampleStrategy's: its path, the same timeframe,
    no FreqAI model."""
    sample = {**settings, "strategy_path": SAMPLE_PATH, "timeframe": timeframe}
    sample.pop("freqaimodel", None)
    return sample


def compare(name: str, timerange: str, settings: dict, repeat: int) -> dict[str, float]:
    ours_wall, ours_cpu, sample_wall, sample_cpu = [], [], [], []
    _, _, timeframe = timed_backtest(name, timerange, settings)  # warm-up, and the timeframe
    sample_settings = sample_settings_for(settings, timeframe)
    for _ in range(repeat):
        wall, cpu, _ = timed_backtest(name, timerange, settings)
        ours_wall.append(wall)
        ours_cpu.append(cpu)
        wall, cpu, _ = timed_backtest("SampleStrategy", timerange, sample_settings)
        sample_wall.append(wall)
        sample_cpu.append(cpu)
    med = statistics.median
    return {
        "timeframe": timeframe,
        "wall": med(ours_wall), "sample_wall": med(sample_wall),
        "cpu": med(ours_cpu), "sample_cpu": med(sample_cpu),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", nargs="*", help="default: every pack strategy")
    parser.add_argument("--timerange", default=DEFAULT_TIMERANGE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # freqtrade's INFO/WARNING chatter; errors still show
    demo_settings = load_settings(USER_DATA / "demo.json").get("strategies", {})
    print(f"timerange {args.timerange}, medians of {args.repeat} interleaved runs")
    print(f"{'strategy':<22}{'tf':>5}{'wall s':>9}{'Sample':>9}{'ratio':>7}"
          f"{'cpu s':>9}{'Sample':>9}{'ratio':>7}")
    for name in args.strategy or discover_strategies(USER_DATA):
        r = compare(name, args.timerange, demo_settings.get(name, {}), args.repeat)
        print(f"{name:<22}{r['timeframe']:>5}{r['wall']:>9.2f}{r['sample_wall']:>9.2f}"
              f"{r['wall'] / r['sample_wall']:>7.2f}{r['cpu']:>9.2f}{r['sample_cpu']:>9.2f}"
              f"{r['cpu'] / r['sample_cpu']:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
