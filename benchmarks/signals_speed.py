"""Time of the nine signals (plugins.quant.signals) on one year of 1h candles per pair.

For every pair with 1h candles in ``--datadir`` (default: the bundled user_data/data/binance), the
last 8,760 candles; median of ``--repeat`` runs of ``all_signals`` per pair, plus each signal's
median share on the first pair. Target: all nine < 0.5 s per pair.

    .venv/bin/python benchmarks/signals_speed.py [--datadir /work/shared/data/history/binance] [--repeat 5]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from plugins.quant.signals import SIGNALS, all_signals


YEAR_OF_1H = 8760
BUDGET_SECONDS = 0.5


def median_seconds(func, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datadir", type=Path, default=Path("user_data/data/binance"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = sorted(args.datadir.glob("*-1h.feather"))
    if not files:
        print(f"ERROR: no *-1h.feather candles in {args.datadir}", file=sys.stderr)
        return 2
    worst = 0.0
    for path in files:
        frame = pd.read_feather(path).tail(YEAR_OF_1H).reset_index(drop=True)
        all_signals(frame)  # warm-up: imports, first-call allocations
        seconds = median_seconds(lambda: all_signals(frame), args.repeat)
        worst = max(worst, seconds)
        print(f"{path.stem:<18} {len(frame):>6} candles  all nine signals {seconds:.3f} s")
        if path == files[0]:
            for name, signal in SIGNALS.items():
                print(f"    {name:<18} {median_seconds(lambda: signal(frame), args.repeat):.4f} s")
    verdict = "within" if worst < BUDGET_SECONDS else "OVER"
    print(f"slowest pair {worst:.3f} s: {verdict} the {BUDGET_SECONDS} s budget")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
