"""Return correlation between pairs, default correlations, and correlated clusters (pure functions).

Why: two long positions in pairs that move together are one bet at twice the size. The
correlation guard and filter need (1) a measured correlation of recent returns, (2) a fallback
when there is not enough history (the seed's built-in table: BTC-ETH 0.85, BTC-SOL 0.75,
ETH-SOL 0.70), and (3) clusters of pairs linked by a correlation >= a threshold.

* ``aligned_closes`` joins per-pair candles on their ``date`` (inner join on timestamps, so a gap
  in one pair never pairs returns of different hours).
* ``return_correlations`` is the Pearson correlation of log returns over the last ``lookback``
  returns: log returns because they add over time and are symmetric for ups and downs. A value at
  the end of the frame uses only rows in the frame; callers slice candles to ``<= now`` (causal).
* ``pair_correlation`` prefers the measured value and falls back to ``DEFAULT_CORRELATIONS``
  (matched on base currency, so BTC/USDT and BTC/USDC both hit the BTC row).
* ``correlation_clusters`` is single-linkage grouping (connected components of the graph "corr >=
  threshold"), a loop over pairs (a whitelist is tens of pairs), never over candles.
"""

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

DEFAULT_CORRELATIONS: dict[frozenset[str], float] = {
    frozenset({"BTC", "ETH"}): 0.85,
    frozenset({"BTC", "SOL"}): 0.75,
    frozenset({"ETH", "SOL"}): 0.70,
}


def base_currency(pair: str) -> str:
    """``BTC/USDT`` -> ``BTC`` (also ``BTC/USDT:USDT``); a bare name is returned unchanged."""
    return pair.split("/", 1)[0].upper()


def aligned_closes(candles: Mapping[str, pd.DataFrame], how: str = "inner") -> pd.DataFrame:
    """Close prices of several pairs side by side, indexed by ``date``.

    ``how="inner"`` keeps the dates every pair has; ``"outer"`` keeps all dates with NaN where a
    pair has no candle (``return_correlations`` then pairs returns pairwise, so one pair's short
    history does not shorten the others).
    """
    if how not in ("inner", "outer"):
        raise ValueError(f"how must be 'inner' or 'outer', got {how!r}")
    series = []
    for pair, df in candles.items():
        if df is None or df.empty or not {"date", "close"} <= set(df.columns):
            continue
        series.append(
            df.drop_duplicates("date", keep="last").set_index("date")["close"].rename(pair)
        )
    if not series:
        return pd.DataFrame()
    return pd.concat(series, axis=1, join=how).sort_index()


def return_correlations(
    closes: pd.DataFrame, lookback: int, min_periods: int | None = None
) -> pd.DataFrame:
    """Pair x pair Pearson correlation of log returns over the last ``lookback`` returns.

    ``closes``: one column per pair, rows in time order (aligned, e.g. from ``aligned_closes``).
    Non-positive or missing prices give NaN returns, which are skipped pairwise; two pairs with
    fewer than ``min_periods`` (default ``lookback // 2``, at least 3) common returns, or a flat
    price, gets NaN (then ``pair_correlation`` falls back to the defaults).
    """
    if isinstance(lookback, bool) or not isinstance(lookback, int | np.integer) or lookback < 3:
        raise ValueError(f"lookback must be an integer >= 3 returns, got {lookback!r}")
    if min_periods is None:
        min_periods = max(3, lookback // 2)
    if not 2 <= min_periods <= lookback:
        raise ValueError(f"min_periods must be in [2, lookback={lookback}], got {min_periods!r}")
    prices = closes.astype(float).where(closes > 0)
    returns = np.log(prices).diff().iloc[-lookback:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return returns.corr(min_periods=min_periods)


def default_correlation(a: str, b: str) -> float | None:
    """Built-in correlation between the base currencies of ``a`` and ``b`` (None if not listed)."""
    base_a, base_b = base_currency(a), base_currency(b)
    if base_a == base_b:
        return 1.0
    return DEFAULT_CORRELATIONS.get(frozenset({base_a, base_b}))


def pair_correlation(matrix: pd.DataFrame | None, a: str, b: str, unknown: float = 0.0) -> float:
    """Correlation of ``a`` and ``b``: measured (``matrix``) if finite, else the built-in default,
    else ``unknown`` (0.0: a pair we know nothing about is treated as uncorrelated)."""
    if a == b:
        return 1.0
    if matrix is not None and a in matrix.index and b in matrix.columns:
        value = matrix.at[a, b]
        if value is not None and math.isfinite(value):
            return float(value)
    default = default_correlation(a, b)
    return unknown if default is None else float(default)


def correlation_clusters(
    pairs: Iterable[str], matrix: pd.DataFrame | None, threshold: float
) -> list[set[str]]:
    """Groups of ``pairs`` linked (directly or through others) by correlation >= ``threshold``.

    Every pair is in exactly one cluster (a pair with no partner is a cluster of one). Clusters
    are ordered by their first pair's position in ``pairs``.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not -1 <= threshold <= 1
    ):
        raise ValueError(f"threshold must be a correlation in [-1, 1], got {threshold!r}")
    ordered = list(dict.fromkeys(pairs))
    parent = {p: p for p in ordered}

    def root(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if pair_correlation(matrix, a, b) >= threshold:
                parent[root(b)] = root(a)
    clusters: dict[str, set[str]] = {}
    for p in ordered:
        clusters.setdefault(root(p), set()).add(p)
    return list(clusters.values())


def cluster_of(
    pair: str, others: Iterable[str], matrix: pd.DataFrame | None, threshold: float
) -> set[str]:
    """The cluster containing ``pair`` when clustered together with ``others``."""
    for cluster in correlation_clusters([pair, *others], matrix, threshold):
        if pair in cluster:
            return cluster
    return {pair}
