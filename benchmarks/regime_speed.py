"""Regime detector speed on the bundled BTC/USDT 1h candles, repeated to ``--copies`` x 8,448 rows.

Measured in this process, median of ``--repeat`` runs, on the same candles:

- ``reference``: the TA-Lib calls alone (EMA20, EMA50, ADX, ATR, BBANDS, RSI, SMA of volume): the
  least any detector on these indicators must spend.
- ``regime_indicators``: those calls plus the derived columns (ATR%, width and its median, ...).
- ``detect_regime``: the whole detector (indicators, hysteresis latches, confidence, switches).
- ``gate_switches``: the confidence/cooldown switch loop alone (a loop over runs of equal labels).

    .venv/bin/python benchmarks/regime_speed.py [--copies 12] [--repeat 5]
"""

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import talib

from plugins.quant.regime import _CODE, detect_regime, gate_switches, regime_indicators


def timed(func, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def talib_only(df: pd.DataFrame) -> None:
    high, low, close = (df[c].to_numpy(float) for c in ("high", "low", "close"))
    talib.EMA(close, 20), talib.EMA(close, 50), talib.ADX(high, low, close, 14)
    talib.ATR(high, low, close, 14), talib.BBANDS(close, 20), talib.RSI(close, 14)
    talib.SMA(df["volume"].to_numpy(float), 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    one = pd.read_feather("user_data/data/binance/BTC_USDT-1h.feather")
    df = pd.concat([one] * args.copies, ignore_index=True)
    result = detect_regime(df)
    codes = result["regime"].map(_CODE).to_numpy(np.int64)
    confidence = result["regime_confidence"].to_numpy()
    runs = int((codes[1:] != codes[:-1]).sum()) + 1
    reference = timed(lambda: talib_only(df), args.repeat)
    rows = [
        ("reference (TA-Lib calls)", reference),
        ("regime_indicators", timed(lambda: regime_indicators(df), args.repeat)),
        ("detect_regime", timed(lambda: detect_regime(df), args.repeat)),
        ("gate_switches", timed(lambda: gate_switches(codes, confidence, 0.65, 12), args.repeat)),
    ]
    print(f"{len(df):,} candles, {runs:,} runs of equal labels")
    for name, seconds in rows:
        print(f"{name:26s} {seconds * 1000:8.1f} ms   x{seconds / reference:6.2f} reference")


if __name__ == "__main__":
    main()
