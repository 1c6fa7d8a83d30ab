"""Return correlations, default-table fallback and correlated clusters (hand-computed cases)."""

import math

import numpy as np
import pandas as pd
import pytest

from plugins.quant.correlation import (
    DEFAULT_CORRELATIONS,
    aligned_closes,
    base_currency,
    cluster_of,
    correlation_clusters,
    default_correlation,
    pair_correlation,
    return_correlations,
)


def closes_from_log_returns(returns: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame({p: 100 * np.exp(np.cumsum([0.0, *r])) for p, r in returns.items()})


def test_correlation_of_log_returns_hand_computed():
    # Log returns A = [1, 2, 3, 4] %, B = 2 * A, C = reversed A, D = [1, -1, 1, -1] %.
    a = [0.01, 0.02, 0.03, 0.04]
    closes = closes_from_log_returns(
        {
            "A/USDT": a,
            "B/USDT": [2 * x for x in a],
            "C/USDT": a[::-1],
            "D/USDT": [0.01, -0.01, 0.01, -0.01],
        }
    )
    m = return_correlations(closes, lookback=4)
    assert m.at["A/USDT", "B/USDT"] == pytest.approx(1.0)
    assert m.at["A/USDT", "C/USDT"] == pytest.approx(-1.0)
    # A - mean = [-1.5, -0.5, 0.5, 1.5], D - mean = [1, -1, 1, -1]: cov sum = -1.5+0.5+0.5-1.5 = -2,
    # |A| = sqrt(5), |D| = 2 -> -2 / (2 sqrt 5) = -0.4472.
    assert m.at["A/USDT", "D/USDT"] == pytest.approx(-1 / math.sqrt(5))


def test_lookback_uses_only_the_last_returns():
    closes = closes_from_log_returns(
        {"A": [0.05, -0.05, 0.01, 0.02, 0.03], "B": [-0.05, 0.05, 0.02, 0.04, 0.06]}
    )
    assert return_correlations(closes, lookback=5).at["A", "B"] < 0
    assert return_correlations(closes, lookback=3).at["A", "B"] == pytest.approx(1.0)


def test_flat_or_bad_prices_give_nan_not_an_error():
    closes = pd.DataFrame({"A": [1.0, 1.0, 1.0, 1.0, 1.0], "B": [1.0, 2.0, 0.0, 3.0, 4.0]})
    m = return_correlations(closes, lookback=4, min_periods=2)
    assert math.isnan(m.at["A", "B"])


def test_measured_correlation_preferred_then_defaults_then_unknown():
    m = pd.DataFrame(
        [[1.0, 0.5], [0.5, 1.0]], index=["BTC/USDT", "ETH/USDT"], columns=["BTC/USDT", "ETH/USDT"]
    )
    assert pair_correlation(m, "BTC/USDT", "ETH/USDT") == 0.5
    nan_m = m.copy()
    nan_m.loc["BTC/USDT", "ETH/USDT"] = np.nan
    assert pair_correlation(nan_m, "BTC/USDT", "ETH/USDT") == 0.85
    assert pair_correlation(None, "SOL/USDT", "BTC/USDC") == 0.75
    assert pair_correlation(None, "ETH/USDT", "SOL/USDT") == 0.70
    assert pair_correlation(None, "ADA/USDT", "BTC/USDT") == 0.0
    assert pair_correlation(None, "ADA/USDT", "ADA/USDT") == 1.0
    assert default_correlation("BTC/USDT", "BTC/USDC") == 1.0
    assert base_currency("eth/USDT:USDT") == "ETH"
    assert len(DEFAULT_CORRELATIONS) == 3


def test_clusters_are_single_linkage_components():
    pairs = ["A", "B", "C", "D"]
    m = pd.DataFrame(
        [[1, 0.9, 0.1, 0.1], [0.9, 1, 0.85, 0.1], [0.1, 0.85, 1, 0.1], [0.1, 0.1, 0.1, 1]],
        index=pairs,
        columns=pairs,
        dtype=float,
    )
    # A-B and B-C >= 0.8 link A, B, C although A-C is 0.1; D stays alone.
    assert correlation_clusters(pairs, m, 0.8) == [{"A", "B", "C"}, {"D"}]
    assert correlation_clusters(pairs, m, 0.86) == [{"A", "B"}, {"C"}, {"D"}]
    assert cluster_of("C", ["A", "D"], m, 0.8) == {"C"}
    assert cluster_of("C", ["A", "B"], m, 0.8) == {"A", "B", "C"}
    with pytest.raises(ValueError, match="threshold"):
        correlation_clusters(pairs, m, 1.5)


def test_aligned_closes_inner_joins_on_date():
    dates = pd.date_range("2025-01-01", periods=4, freq="1h", tz="UTC")
    a = pd.DataFrame({"date": dates, "close": [1.0, 2.0, 3.0, 4.0]})
    b = pd.DataFrame({"date": dates[[0, 1, 3]], "close": [5.0, 6.0, 8.0]})
    closes = aligned_closes({"A": a, "B": b, "EMPTY": pd.DataFrame()})
    assert list(closes.columns) == ["A", "B"]
    assert closes["A"].tolist() == [1.0, 2.0, 4.0] and closes["B"].tolist() == [5.0, 6.0, 8.0]
    outer = aligned_closes({"A": a, "B": b}, how="outer")
    assert outer["B"].isna().tolist() == [False, False, True, False]
    with pytest.raises(ValueError, match="how"):
        aligned_closes({"A": a}, how="left")


@pytest.mark.parametrize("lookback", [2, 2.5, True])
def test_bad_lookback_is_named(lookback):
    with pytest.raises(ValueError, match="lookback"):
        return_correlations(pd.DataFrame({"A": [1.0, 2.0]}), lookback)
