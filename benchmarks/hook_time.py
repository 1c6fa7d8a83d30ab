"""Where a pack strategy's backtest time goes: its hooks, freqtrade's copy of the trade, the rest.

Freqtrade calls every strategy hook that takes a ``trade`` through ``strategy_safe_wrapper``, which
deep-copies the trade (with its orders) first, so a strategy cannot change it by accident. This
script runs one offline backtest on the bundled data with timers around that wrapper, the copy,
freqtrade's backtest loop and the phases around it (data load, indicators with their informative
loads, entry/exit signals, report), and prints seconds and call counts beside the same timers for
freqtrade's SampleStrategy at the strategy's timeframe. cProfile is no use here: it inflates the
many small Python calls of ``copy.deepcopy`` several times over.

    .venv/bin/python benchmarks/hook_time.py [--strategy GridTrader ...] [--timerange 20250201-20250831]

The timers wrap freqtrade's functions in this process only; nothing is changed on disk.
"""

import argparse
import collections
import logging
import sys
import time

# The speed benchmark's set-up (offline mode before freqtrade is imported, the demo's data and
# settings, SampleStrategy's path), so both measure the same backtest.
from backtest_speed import (
    DEFAULT_TIMERANGE,
    USER_DATA,
    backtest,
    build_config,
    discover_strategies,
    load_settings,
    sample_settings_for,
)
from freqtrade.optimize import backtesting
from freqtrade.strategy import interface as strategy_interface
from freqtrade.strategy import strategy_wrapper

SECONDS: collections.Counter = collections.Counter()
CALLS: collections.Counter = collections.Counter()


def _timed(key: str, func):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            SECONDS[key] += time.perf_counter() - started
            CALLS[key] += 1
    return timed


def install_timers() -> None:
    """Wrap freqtrade's trade copy, its hook wrapper and its backtest loop with timers."""
    strategy_wrapper.deepcopy = _timed("trade deep copy", strategy_wrapper.deepcopy)
    original_wrapper = strategy_wrapper.strategy_safe_wrapper

    def safe_wrapper(f, *args, **kwargs):
        name = getattr(f, "__name__", type(f).__name__)
        return _timed(f"hook {name} (copy included)", original_wrapper(f, *args, **kwargs))

    # Both modules imported the name; rebinding it where it is looked up times every hook call.
    backtesting.strategy_safe_wrapper = safe_wrapper
    strategy_interface.strategy_safe_wrapper = safe_wrapper
    backtesting.Backtesting.backtest = _timed("backtest loop", backtesting.Backtesting.backtest)
    # The phases around the loop, to tell the strategy's own cost from freqtrade's fixed one.
    backtesting.Backtesting.load_bt_data = _timed("phase: data load", backtesting.Backtesting.load_bt_data)
    backtesting.Backtesting._get_ohlcv_as_lists = _timed(
        "phase: entry/exit signals", backtesting.Backtesting._get_ohlcv_as_lists)
    backtesting.generate_backtest_stats = _timed("phase: report", backtesting.generate_backtest_stats)
    strategy_cls = strategy_interface.IStrategy
    strategy_cls.advise_all_indicators = _timed(
        "phase: indicators (informative loads included)", strategy_cls.advise_all_indicators)


def measure(strategy: str, timerange: str, settings: dict) -> tuple[float, str, dict, dict]:
    SECONDS.clear()
    CALLS.clear()
    started = time.process_time()
    stats, _ = backtest(build_config(strategy, timerange, settings))
    return time.process_time() - started, stats["timeframe"], dict(SECONDS), dict(CALLS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", nargs="*", help="default: every pack strategy")
    parser.add_argument("--timerange", default=DEFAULT_TIMERANGE)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    install_timers()
    demo_settings = load_settings(USER_DATA / "demo.json").get("strategies", {})
    for name in args.strategy or discover_strategies(USER_DATA):
        settings = demo_settings.get(name, {})
        measure(name, args.timerange, settings)  # warm-up: imports and file caches
        cpu, timeframe, seconds, calls = measure(name, args.timerange, settings)
        sample = sample_settings_for(settings, timeframe)
        sample_cpu, _, sample_seconds, _ = measure("SampleStrategy", args.timerange, sample)
        print(f"\n{name} ({timeframe}, {args.timerange}): CPU {cpu:.2f} s, SampleStrategy {sample_cpu:.2f} s "
              f"({cpu / sample_cpu:.2f}x)")
        print(f"  {'':<48}{'seconds':>10}{'calls':>9}{'Sample s':>10}")
        for key, value in sorted(seconds.items(), key=lambda item: -item[1]):
            if value >= 0.05:
                print(f"  {key:<48}{value:>8.2f} s{calls[key]:>9}{sample_seconds.get(key, 0.0):>8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
