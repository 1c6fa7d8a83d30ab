"""ftpack-validate's own overhead over the backtests it runs.

Runs one small validation (default: 2 strategies x 4 monthly windows on the bundled data, no
peers, no cache) through the full engine: planning and checks, cache keys, the Dask LocalCluster
start, task shipping and result collection, report rendering. Each task measures its own
freqtrade run inside the worker; the engine's overhead is

    overhead = (workers x engine wall time - sum of task times) / sum of task times

i.e. the worker-seconds that were not spent inside a backtest, as a share of those that were.
With one worker that is exactly wall minus backtests. The target is <= 10 %. The driver's import
of freqtrade (paid by any freqtrade command) is timed and printed apart. A task's time includes
its freqtrade configuration and data load, as a stock ``freqtrade backtesting`` run's would.

    .venv/bin/python benchmarks/validate_overhead.py [--workers 1] [--strategy A B] [--windows ...]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FREQTRADE_PACK_OFFLINE", "1")

from plugins.commands.validate import DEFAULT_CONFIGS, USER_DATA  # noqa: E402
from plugins.commands.validate_report import assemble, write_reports  # noqa: E402
from plugins.integration.validation_engine import ValidationRequest, execute, plan  # noqa: E402

DEFAULT_WINDOWS = "20250501-20250601,20250601-20250701,20250701-20250801,20250801-20250901"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", nargs="+", default=["EmaBbTrend", "RsiMeanReversion"])
    parser.add_argument("--windows", default=DEFAULT_WINDOWS)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--datadir", type=Path, default=USER_DATA / "data" / "binance")
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    # The driver's own freqtrade import is paid by any freqtrade command; timed apart.
    import_started = time.perf_counter()
    import freqtrade.configuration.load_config  # noqa: F401
    import freqtrade.resolvers  # noqa: F401

    import_seconds = time.perf_counter() - import_started
    with tempfile.TemporaryDirectory() as scratch:
        request = ValidationRequest(
            userdir=USER_DATA, configs=[USER_DATA / c for c in DEFAULT_CONFIGS],
            datadir=args.datadir, strategies=args.strategy, windows=args.windows, peers=False,
            workers=args.workers, use_cache=False, cache_dir=Path(scratch) / "cache")
        started = time.perf_counter()
        planned = plan(request)
        results, timing = execute(planned, request, progress=False)
        doc = assemble(results, planned.windows, timing, {"datadir": str(args.datadir),
                                                          "start": "", "end": ""})
        write_reports(doc, Path(scratch) / "out")
        wall = time.perf_counter() - started
    failed = [r for r in results if r["status"] != "ok"]
    task_sum = sum(r["seconds"] for r in results)
    overhead = (args.workers * wall - task_sum) / task_sum
    print(f"tasks: {len(results)} ({len(failed)} failed), workers: {args.workers}")
    print(f"driver freqtrade import:     {import_seconds:8.1f} s (not counted below)")
    print(f"engine wall time:            {wall:8.1f} s")
    print(f"  of which cluster start:    {timing['cluster_start_seconds']:8.1f} s")
    print(f"sum of backtest task times:  {task_sum:8.1f} s")
    print(f"engine overhead:             {overhead * 100:8.1f} % (target <= 10 %)")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
