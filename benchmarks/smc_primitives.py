"""Speed and causality of the SMC primitives (plugins.quant.smc), compared with ``smartmoneyconcepts``.

Data: one year (35,040) of 15m candles. The bundled BTC/USDT 15m file has 8 months (23,328 candles),
so it is continued with its own first 11,712 candles, rescaled to start at the last close (dates
continue every 15 minutes). Only speed and causality are measured, not trading value.

Causality, two measures:
- "live view": for up to ``--events`` event candles of each kind (swing, FVG, BOS, CHOCH, OB,
  sweep/liquidity) in the first ``--window`` candles, the primitives are recomputed on the candles
  up to and including that candle only (what a live bot sees when it closes). "missed": share of the
  events that are not there yet; "false": share of as many event-free candles that show an event
  when they are the last candle. A causal function: 0 and 0. This is what freqtrade's
  lookahead-analysis checks on entry candles.
- "past rewritten": the whole year vs its first ``--cut`` candles; the share of those rows whose
  value differs (a causal function: 0).
Speed: median wall time of ``--repeat`` runs (after a warm-up run) of all primitives of each
implementation, on the year.

The comparison with smartmoneyconcepts runs only if it is installed (it is not a pack dependency):
    .venv/bin/pip install --no-deps smartmoneyconcepts
    .venv/bin/python benchmarks/smc_primitives.py
"""

import argparse
import contextlib
import io
import statistics
import sys
import timeit
from pathlib import Path

import numpy as np
import pandas as pd

from plugins.quant.smc import smc_features


DATA = Path("user_data/data/binance/BTC_USDT-15m.feather")
YEAR = 365 * 96


def one_year_of_candles() -> pd.DataFrame:
    df = pd.read_feather(DATA)[["date", "open", "high", "low", "close", "volume"]]
    extra = df.iloc[: YEAR - len(df)].copy()
    scale = df["close"].iloc[-1] / extra["open"].iloc[0]
    for column in ("open", "high", "low", "close"):
        extra[column] *= scale
    extra["date"] = df["date"].iloc[-1] + pd.to_timedelta(np.arange(1, len(extra) + 1) * 15, "min")
    return pd.concat([df, extra], ignore_index=True)


def timed(func, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls (after one warm-up call, whose result is returned)."""
    result = func()
    return statistics.median(timeit.repeat(func, number=1, repeat=repeat)), result


def changed_share(full: pd.DataFrame, past: pd.DataFrame) -> pd.Series:
    """Per column: share of rows of ``past`` whose value differs in ``full`` (NaN == NaN)."""
    a = full.iloc[: len(past)].reset_index(drop=True)
    b = past.reset_index(drop=True)
    same = (a == b) | (a.isna() & b.isna())
    return 1.0 - same.mean()


OUR_EVENTS = {
    "swing_high": lambda f: f["swing_high"].notna(),
    "swing_low": lambda f: f["swing_low"].notna(),
    "fvg": lambda f: (f["fvg_bull"] + f["fvg_bear"]) > 0,
    "bos": lambda f: f["bos"] != 0,
    "choch": lambda f: f["choch"] != 0,
    "order_block": lambda f: (f["ob_bull"] + f["ob_bear"]) > 0,
    "sweep": lambda f: (f["sweep_bull"] + f["sweep_bear"]) > 0,
}
THEIR_EVENTS = {
    "swing": lambda f: f[("swing", "HighLow")].notna(),
    "fvg": lambda f: f[("fvg", "FVG")].notna(),
    "bos": lambda f: f[("bos_choch", "BOS")].notna(),
    "choch": lambda f: f[("bos_choch", "CHOCH")].notna(),
    "order_block": lambda f: f[("ob", "OB")].notna(),
    "liquidity": lambda f: f[("liquidity", "Liquidity")].notna(),
}


def live_view(compute, events: dict, df: pd.DataFrame, per_kind: int) -> dict[str, tuple]:
    """Per event kind: (events checked, share missed live, share of false events live).

    missed: an event of the full computation that is not there when computed on the candles up to
    its own candle. false: a candle without event in the full computation that shows one when it is
    the last candle (checked on as many non-event candles, evenly spread).
    """
    full = compute(df)
    cache: dict[int, pd.DataFrame] = {}

    def live(row: int) -> pd.DataFrame:
        if row not in cache:
            cache[row] = compute(df.iloc[: row + 1])
        return cache[row]

    def spread(rows: np.ndarray) -> np.ndarray:
        rows = rows[rows >= 50]
        return rows[np.linspace(0, len(rows) - 1, min(per_kind, len(rows))).astype(int)]

    result = {}
    for kind, flag in events.items():
        flags = flag(full).to_numpy()
        hits, quiet = spread(np.flatnonzero(flags)), spread(np.flatnonzero(~flags))
        missed = sum(not bool(flag(live(r)).iloc[r]) for r in hits)
        false = sum(bool(flag(live(r)).iloc[r]) for r in quiet)
        result[kind] = (len(hits), missed / max(len(hits), 1), false / max(len(quiet), 1))
    return result


def print_live(name: str, result: dict) -> None:
    print(f"live view, {name}: on the close of each checked candle (computed on candles up to it)")
    print(f"  {'kind':<12}{'events':>7}{'missed':>8}{'false':>8}")
    for kind, (count, missed, false) in result.items():
        print(f"  {kind:<12}{count:>7}{missed:>8.2f}{false:>8.2f}")


def ours(df: pd.DataFrame) -> pd.DataFrame:
    return smc_features(df, left=3, right=3, fvg_min_gap=0.0, fvg_max_age=96, ob_lookback=20)


def theirs(df: pd.DataFrame) -> pd.DataFrame:
    from smartmoneyconcepts import smc

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a banner
        swings = smc.swing_highs_lows(df, swing_length=3)
        parts = {
            "swing": swings,
            "fvg": smc.fvg(df),
            "bos_choch": smc.bos_choch(df, swings),
            "ob": smc.ob(df, swings),
            "liquidity": smc.liquidity(df, swings),
        }
    return pd.concat({k: v for k, v in parts.items()}, axis=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cut", type=int, default=30_000)
    parser.add_argument("--window", type=int, default=1500)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    df = one_year_of_candles()
    past = df.iloc[: args.cut]
    print(f"{len(df)} candles of 15m ({df['date'].iloc[0]} .. {df['date'].iloc[-1]}), "
          f"causality cut at {args.cut}")

    seconds, full = timed(lambda: ours(df), args.repeat)
    changed = changed_share(full, ours(past))
    print(f"plugins.quant.smc.smc_features: {seconds:.3f} s (median of {args.repeat}), "
          f"{full.shape[1]} columns; max share of past values changed: {changed.max():.4f}")
    window = df.iloc[: args.window]
    print_live("plugins.quant.smc", live_view(ours, OUR_EVENTS, window, args.events))

    try:
        import smartmoneyconcepts  # noqa: F401
    except ImportError:
        print("smartmoneyconcepts not installed: comparison skipped")
        return 0
    repeat = max(1, args.repeat // 3)
    their_seconds, their_full = timed(lambda: theirs(df), repeat)
    their_changed = changed_share(their_full, theirs(past))
    print(f"smartmoneyconcepts (swings, fvg, bos_choch, ob, liquidity): {their_seconds:.3f} s "
          f"(median of {repeat}); ratio to plugins.quant.smc: {their_seconds / seconds:.1f}x")
    print("past rewritten, smartmoneyconcepts: share of the first --cut rows changed by the rest")
    for (group, column), share in their_changed.items():
        print(f"  {group:<10}{column:<16}{share:8.4f}")
    print_live("smartmoneyconcepts", live_view(theirs, THEIR_EVENTS, window, args.events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
