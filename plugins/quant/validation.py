"""Walk-forward validation math: calendar windows, walk-forward folds, equity-curve metrics.

Pure functions over timestamps and pandas series, no freqtrade: ``ftpack-validate`` cuts the data
span into windows/folds here, runs freqtrade's backtests elsewhere, and summarises the results here.

Conventions
- Every window is half-open ``[start, end)`` in UTC; ``partial`` says it was clipped by the data span.
- An equity curve is a ``pd.Series`` of wallet values (stake currency) indexed by UTC timestamps.
- Ratios are fractions (0.05 = 5 %) unless a name ends in ``_pct``.
"""

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


SPAN_PATTERN = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Window:
    """One half-open calendar span ``[start, end)``; ``partial`` when clipped by the data span."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    partial: bool = False

    def __post_init__(self):
        if not self.end > self.start:
            raise ValueError(f"window {self.label}: end {self.end} is not after start {self.start}")

    @property
    def days(self) -> float:
        return (self.end - self.start) / pd.Timedelta(days=1)


@dataclass(frozen=True)
class Fold:
    """One walk-forward step: optimise on ``train``, judge on ``test`` (the next span)."""

    index: int
    train: Window
    test: Window


def utc(value) -> pd.Timestamp:
    """A UTC timestamp from a date string (``20200101``, ``2020-01-01``), datetime or Timestamp."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def parse_span(text: str) -> pd.DateOffset:
    """``6M`` / ``3M`` / ``1Y`` / ``2W`` / ``90D`` -> a calendar offset (months stay calendar months)."""
    match = SPAN_PATTERN.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"span {text!r} is not a count and unit such as 6M, 3M, 1Y, 2W or 90D")
    count, unit = int(match.group(1)), match.group(2).upper()
    return {
        "D": pd.DateOffset(days=count),
        "W": pd.DateOffset(weeks=count),
        "M": pd.DateOffset(months=count),
        "Y": pd.DateOffset(years=count),
    }[unit]


def span_months(offset: pd.DateOffset) -> int | None:
    """Whole calendar months of an offset built by ``parse_span`` (None for day/week spans)."""
    kwds = offset.kwds
    if set(kwds) <= {"months", "years"}:
        return kwds.get("years", 0) * 12 + kwds.get("months", 0)
    return None


def window_label(start: pd.Timestamp, end: pd.Timestamp, months: int | None) -> str:
    """Trader-readable label: 2020H1 (half-years), 2020Q3 (quarters), 2021 (years), 2020-05 (months)."""
    if months == 6 and start.month in (1, 7) and start.day == 1:
        return f"{start.year}H{1 if start.month == 1 else 2}"
    if months == 3 and start.month in (1, 4, 7, 10) and start.day == 1:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if months == 12 and start.month == 1 and start.day == 1:
        return f"{start.year}"
    if months == 1 and start.day == 1:
        return f"{start:%Y-%m}"
    return f"{start:%Y%m%d}-{end:%Y%m%d}"


def calendar_anchor(start: pd.Timestamp, months: int | None) -> pd.Timestamp:
    """The calendar boundary at or before ``start`` that windows of ``months`` align to.

    Month spans that divide a year (1, 2, 3, 4, 6, 12 months) align to the calendar (January 1st,
    July 1st, ...), so 6M windows are half-years even when the data starts mid-half; other spans
    start at the data start.
    """
    if months and 12 % months == 0:
        month_index = (start.month - 1) // months * months
        return pd.Timestamp(year=start.year, month=month_index + 1, day=1, tz="UTC")
    if months and months % 12 == 0:
        return pd.Timestamp(year=start.year, month=1, day=1, tz="UTC")
    return start.normalize()


def calendar_windows(start, end, span: str) -> list[Window]:
    """Consecutive calendar windows of ``span`` covering ``[start, end)``.

    The first and last window are clipped to the span and flagged ``partial`` when the clip cut them.
    """
    start, end = utc(start), utc(end)
    if not end > start:
        raise ValueError(f"timerange end {end:%Y-%m-%d} is not after its start {start:%Y-%m-%d}")
    offset = parse_span(span)
    months = span_months(offset)
    edge = calendar_anchor(start, months)
    windows = []
    while edge < end:
        nxt = edge + offset
        lo, hi = max(edge, start), min(nxt, end)
        if hi > lo:
            label = window_label(edge, nxt, months)
            windows.append(Window(label, lo, hi, partial=(lo, hi) != (edge, nxt)))
        edge = nxt
    return windows


def explicit_windows(text: str) -> list[Window]:
    """Windows from ``20200101-20200701,20200701-20210101`` (comma separated, end exclusive)."""
    windows = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        bounds = part.split("-")
        if len(bounds) != 2 or not all(re.fullmatch(r"\d{8}", b) for b in bounds):
            raise ValueError(f"window {part!r} is not YYYYMMDD-YYYYMMDD")
        windows.append(Window(part, utc(bounds[0]), utc(bounds[1])))
    if not windows:
        raise ValueError(f"no windows in {text!r}")
    return windows


def walk_forward_folds(start, end, train: str, test: str, anchored: bool = False) -> list[Fold]:
    """Folds whose test spans tile ``[start + train, end)``; the last test span may be partial.

    Rolling: each train span is the ``train`` length right before its test span. Anchored: every
    train span starts at ``start`` and grows. No test span overlaps its own train span.
    """
    start, end = utc(start), utc(end)
    train_offset, test_offset = parse_span(train), parse_span(test)
    months = span_months(test_offset)
    folds = []
    test_start = start + train_offset
    while test_start < end:
        test_end = min(test_start + test_offset, end)
        train_start = start if anchored else test_start - train_offset
        index = len(folds)
        train_window = Window(f"train{index}", train_start, test_start)
        label = window_label(test_start, test_start + test_offset, months)
        test_window = Window(label, test_start, test_end, partial=test_end < test_start + test_offset)
        folds.append(Fold(index, train_window, test_window))
        test_start = test_start + test_offset
    if not folds:
        raise ValueError(
            f"timerange {start:%Y-%m-%d} -> {end:%Y-%m-%d} is shorter than the train span {train}"
        )
    return folds


def span_before(window: Window, span: str) -> Window:
    """The ``span`` (``6M``, ``90D`` ...) that ends where ``window`` starts: fit on it, judge on it."""
    return Window(f"{window.label} fit", window.start - parse_span(span), window.start)


def parse_walk_forward(text: str) -> tuple[str, str]:
    """``2Y:6M`` -> ("2Y", "6M"), both validated as spans."""
    parts = (text or "").split(":")
    if len(parts) != 2:
        raise ValueError(f"--walk-forward {text!r} is not TRAIN:TEST such as 2Y:6M")
    for part in parts:
        parse_span(part)
    return parts[0].strip(), parts[1].strip()


# --- equity-curve metrics ------------------------------------------------------------------------


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Underwater curve: ``equity / running peak - 1`` (0 at a new high, negative below it)."""
    values = equity.astype(float)
    return values / values.cummax() - 1.0


def max_drawdown(equity: pd.Series) -> float:
    """Deepest fall from a running peak, as a positive fraction (0.25 = 25 % below the peak)."""
    if equity.empty:
        return 0.0
    return float(-drawdown_series(equity).min())


def cagr(start_balance: float, end_balance: float, days: float) -> float:
    """Compound annual growth rate over ``days`` calendar days."""
    if start_balance <= 0 or days <= 0:
        raise ValueError("CAGR needs a positive start balance and a positive number of days")
    if end_balance <= 0:
        return -1.0
    return (end_balance / start_balance) ** (DAYS_PER_YEAR / days) - 1.0


def calmar(annual_return: float, drawdown: float) -> float:
    """Annual return over max drawdown; 0 without drawdown (freqtrade's convention is similar)."""
    return annual_return / drawdown if drawdown > 0 else 0.0


def curve_summary(equity: pd.Series) -> dict[str, float]:
    """Profit, max drawdown, CAGR and Calmar of one equity curve (first value = start balance)."""
    if len(equity) < 2:
        raise ValueError("an equity curve needs at least two points")
    days = (equity.index[-1] - equity.index[0]) / pd.Timedelta(days=1)
    growth = cagr(float(equity.iloc[0]), float(equity.iloc[-1]), days)
    drawdown = max_drawdown(equity)
    return {
        "profit": float(equity.iloc[-1] / equity.iloc[0] - 1.0),
        "max_drawdown": drawdown,
        "cagr": growth,
        "calmar": calmar(growth, drawdown),
    }


def chain_equity(curves: list[pd.Series], start_balance: float = 1.0) -> pd.Series:
    """One compounded curve from consecutive window curves, each restarted from a fresh wallet.

    Each window's curve is scaled so it starts where the previous one ended: the whole-span curve
    is what a trader gets by re-running the strategy each window with everything the last left.
    """
    pieces, level = [], float(start_balance)
    for curve in curves:
        if curve.empty:
            continue
        scaled = curve.astype(float) / float(curve.iloc[0]) * level
        if pieces:  # the window's first point equals the previous window's last
            scaled = scaled.iloc[1:] if scaled.index[0] <= pieces[-1].index[-1] else scaled
        pieces.append(scaled)
        level = float(curve.iloc[-1]) / float(curve.iloc[0]) * level
    if not pieces:
        return pd.Series(dtype=float)
    return pd.concat(pieces)


def time_in_market(opens, closes, start, end) -> float:
    """Share of ``[start, end)`` with at least one trade open (overlapping trades count once)."""
    start, end = utc(start), utc(end)
    total = (end - start).total_seconds()
    if total <= 0:
        raise ValueError("time in market needs a positive span")
    if len(opens) == 0:
        return 0.0
    frame = pd.DataFrame({"open": pd.to_datetime(opens, utc=True),
                          "close": pd.to_datetime(closes, utc=True)})
    frame = frame.assign(open=frame["open"].clip(lower=start, upper=end),
                         close=frame["close"].clip(lower=start, upper=end)).sort_values("open")
    # Merge overlapping intervals: an interval starts a new block when it opens after every
    # earlier interval closed.
    running_close = frame["close"].cummax()
    new_block = frame["open"] > running_close.shift(fill_value=frame["open"].iloc[0])
    block = new_block.cumsum()
    merged = frame.groupby(block).agg(open=("open", "min"), close=("close", "max"))
    covered = (merged["close"] - merged["open"]).dt.total_seconds().sum()
    return float(covered / total)


def buy_and_hold_wallet(closes: pd.DataFrame, opens: pd.Series, balance: float, fee: float):
    """Mark-to-market wallet of an equal-weight buy-and-hold over the columns of ``closes``.

    ``opens`` holds each pair's open price of the first candle (the purchase price); every pair gets
    ``balance / n_pairs`` and pays ``fee`` on the purchase. Returns a frame (date, total_quote) and
    the final balance after selling everything at the last close with ``fee`` again.
    """
    allocation = balance / closes.shape[1]
    units = allocation * (1 - fee) / opens
    value = (closes * units).sum(axis=1)
    wallet = pd.DataFrame({"date": closes.index, "total_quote": value.to_numpy()})
    # The day before the first candle: the untouched starting balance.
    start = pd.DataFrame({"date": [closes.index[0] - pd.Timedelta(days=1)], "total_quote": [balance]})
    wallet = pd.concat([start, wallet], ignore_index=True)
    final_balance = float(value.iloc[-1]) * (1 - fee)
    wallet.loc[wallet.index[-1], "total_quote"] = final_balance
    return wallet, final_balance


# --- robustness ----------------------------------------------------------------------------------


def robustness_summary(window_profits: dict[str, float], window_drawdowns: dict[str, float],
                       equity: pd.Series | None) -> dict:
    """Worst window, windows lost, deepest drawdown and whole-span CAGR/Calmar of one strategy.

    ``window_profits`` / ``window_drawdowns``: fractions per window label (failed windows left out);
    ``equity``: the chained whole-span curve (``chain_equity``), or None when nothing ran.
    """
    if not window_profits:
        return {"windows": 0, "windows_lost": 0, "worst_window": None, "worst_profit": None,
                "deepest_drawdown": None, "cagr": None, "calmar": None, "span_max_drawdown": None}
    worst = min(window_profits, key=window_profits.get)
    span = curve_summary(equity) if equity is not None and len(equity) > 1 else {}
    return {
        "windows": len(window_profits),
        "windows_lost": int(sum(p < 0 for p in window_profits.values())),
        "worst_window": worst,
        "worst_profit": window_profits[worst],
        "deepest_drawdown": max(window_drawdowns.values()) if window_drawdowns else None,
        "cagr": span.get("cagr"),
        "calmar": span.get("calmar"),
        "span_max_drawdown": span.get("max_drawdown"),
    }


def in_out_of_sample_gap(in_sample: list[float], out_of_sample: list[float]) -> dict[str, float]:
    """Mean train (in-sample) vs mean test (out-of-sample) profit per fold, and their gap."""
    if not in_sample or not out_of_sample:
        return {"in_sample_mean": math.nan, "out_of_sample_mean": math.nan, "gap": math.nan}
    ins, outs = float(np.mean(in_sample)), float(np.mean(out_of_sample))
    return {"in_sample_mean": ins, "out_of_sample_mean": outs, "gap": ins - outs}


def parameter_drift(fold_params: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per numeric parameter chosen across folds: min, max and the coefficient of variation.

    A parameter whose optimum jumps between folds (large ``cv``) was fitted to noise.
    """
    frame = pd.DataFrame(fold_params)
    numeric = frame.select_dtypes(include="number")
    drift = {}
    for name in numeric.columns:
        values = numeric[name].dropna().astype(float)
        mean = float(values.mean()) if len(values) else math.nan
        std = float(values.std(ddof=0)) if len(values) else math.nan
        drift[name] = {
            "min": float(values.min()), "max": float(values.max()),
            "cv": std / abs(mean) if mean else math.nan,
        }
    return drift
