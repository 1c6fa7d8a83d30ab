"""Replay speed and memory: ftpack-replay on the bundled market, timed and sampled from outside.

Each run is the real command in a subprocess (``python -m plugins.commands.replay``), API server
off; the parent samples the child's resident memory (RSS, psutil) every ``--sample`` seconds.

- ``speed``: ``--days`` (default 30) of 1h candles on the config's 10 pairs with a light 1h strategy
  (``BenchRsi`` below: RSI(14) and EMA(50) from TA-Lib, no informative timeframes), one iteration
  per candle close (``--step 1h``) and, if asked, per 15 minutes. Target: under 2 minutes.
- ``memory``: the same strategy over ``--memory-days`` (default 182, about six months): RSS at
  each tenth of the run and the peak, to show it stays flat (the candle store holds one copy of
  each file; freqtrade keeps a bounded candle window per pair).
- ``--strategy NAME --pack-days N`` (alias ``--pack-strategy``): the same timing for a pack
  strategy (its own indicator cost per candle, in freqtrade's live mode, dominates; reported
  separately, with the start-up time - process start to the first simulated candle - apart).

    .venv/bin/python benchmarks/replay_speed.py [--days 30] [--memory-days 182] [--steps 1h 15m]
        [--strategy RsiMeanReversion --pack-days 3] [--skip-memory] [--skip-speed]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
START = datetime(2025, 2, 1, tzinfo=UTC)

BENCH_STRATEGY = '''
import talib.abstract as ta
from freqtrade.strategy import IStrategy


class BenchRsi(IStrategy):
    """Light 1h strategy for the replay benchmark: buys RSI(14) < 30, sells RSI > 70 or ROI/stop."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 0.03}
    stoploss = -0.05
    startup_candle_count = 100
    process_only_new_candles = True

    def populate_indicators(self, dataframe, metadata):
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["ema"] = ta.EMA(dataframe, timeperiod=50)
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe.loc[(dataframe["rsi"] < 30) & (dataframe["volume"] > 0), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["rsi"] > 70, "exit_long"] = 1
        return dataframe
'''


def run_replay(strategy: str, days: float, step: str, workdir: Path, strategy_path: Path | None,
               sample_every: float) -> dict:
    """Run one replay; wall time, RSS samples (MB), final summary line."""
    db = workdir / f"{strategy}-{step}-{days}.sqlite"
    end = START + timedelta(days=days)
    command = [sys.executable, "-m", "plugins.commands.replay", "--strategy", strategy,
               "--start", f"{START:%Y%m%d%H%M}", "--end", f"{end:%Y%m%d%H%M}", "--step", step,
               "--db-url", f"sqlite:///{db}"]
    if strategy_path:
        command += ["--strategy-path", str(strategy_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQTRADE")}
    env["FREQTRADE__API_SERVER__ENABLED"] = "false"
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    first_candle: list[float] = []  # wall time of the first log line on the simulated clock
    watcher = threading.Thread(target=_watch_log, args=(child.stderr, started, first_candle),
                               daemon=True)
    watcher.start()
    proc, samples = psutil.Process(child.pid), []
    while child.poll() is None:
        try:
            samples.append((time.perf_counter() - started, proc.memory_info().rss / 1e6))
        except psutil.NoSuchProcess:
            break
        time.sleep(sample_every)
    summary = child.stdout.read().strip().splitlines()
    watcher.join(timeout=10)
    return {"strategy": strategy, "days": days, "step": step, "returncode": child.returncode,
            "seconds": round(time.perf_counter() - started, 1), "rss_mb": samples,
            "startup_seconds": round(first_candle[0], 1) if first_candle else None,
            "summary": summary[-1] if summary else ""}


def _watch_log(stream, started: float, first_candle: list[float]) -> None:
    """Drain the replay's log; note when its first line stamped with the simulated start appears."""
    stamp = f"{START:%Y-%m-%d %H:%M}"
    for line in stream:
        if not first_candle and line.startswith(stamp):
            first_candle.append(time.perf_counter() - started)


def deciles(samples: list[tuple[float, float]]) -> list[float]:
    if not samples:
        return []
    return [round(samples[min(len(samples) - 1, i * len(samples) // 10)][1]) for i in range(10)] + [
        round(samples[-1][1])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--steps", nargs="+", default=["1h"])
    parser.add_argument("--memory-days", type=float, default=182)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--strategy", "--pack-strategy", dest="pack_strategy",
                        help="also time this pack strategy (user_data/strategies) over --pack-days")
    parser.add_argument("--pack-days", type=float, default=3)
    parser.add_argument("--sample", type=float, default=1.0, help="RSS sampling period, seconds")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        strategies = workdir / "strategies"
        strategies.mkdir()
        (strategies / "BenchRsi.py").write_text(BENCH_STRATEGY)
        for step in [] if args.skip_speed else args.steps:
            results.append(run_replay("BenchRsi", args.days, step, workdir, strategies, args.sample))
        if not args.skip_memory:
            results.append(run_replay("BenchRsi", args.memory_days, "1h", workdir, strategies,
                                      max(args.sample, 2.0)))
        if args.pack_strategy:
            results.append(run_replay(args.pack_strategy, args.pack_days, "1h", workdir, None,
                                      args.sample))
    for result in results:
        rss = [mb for _, mb in result["rss_mb"]]
        candles = result["days"] * 24
        print(f"{result['strategy']:>18} {result['days']:>6g} days step {result['step']:>4}: "
              f"{result['seconds']:7.1f} s ({result['seconds'] / candles * 1000:.0f} ms per 1h candle), "
              f"exit {result['returncode']}, RSS peak {max(rss, default=0):.0f} MB, "
              f"RSS by tenths {deciles(result['rss_mb'])} MB")
        if result["startup_seconds"] is not None:
            loop = result["seconds"] - result["startup_seconds"]
            print(f"{'':>20}start-up {result['startup_seconds']:.1f} s, then {loop:.1f} s "
                  f"({loop / candles * 1000:.0f} ms per 1h candle)")
        print(f"{'':>20}{result['summary']}")
    return 0 if all(r["returncode"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
