"""Multi-timeframe weighted trend score (plugins/quant/trend.py) on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from plugins.quant.trend import (
    BASE_WEIGHTS, ema_trend_direction, trend_weights, volatility_factor, weighted_trend_score,
)


def test_ema_trend_direction():
    # EMA(3): SMA seed 2 at index 2, then alpha 0.5: 3, 4, 4, 3.5.
    close = pd.Series([1.0, 2, 3, 4, 5, 4, 3])
    direction = ema_trend_direction(close, 3)
    assert direction.iloc[:2].isna().all()
    assert direction.iloc[2:].tolist() == [1, 1, 1, 0, -1]


def test_volatility_factor_median_over_current_and_clip():
    # Flat close 100, ATR(1) = high - low: NATR 2%, 2%, 2%, 8%, 1%, 2% (first candle: NaN).
    ranges = np.array([2, 2, 2, 2, 8, 1, 2], dtype=float)
    close = pd.Series(100.0, index=range(7))
    factor = volatility_factor(close + ranges / 2, close - ranges / 2, close, atr_period=1, lookback=3)
    # Medians of the last 3 NATR: 2%, 2%, 2%, 2% -> 0.02/0.02, 0.02/0.08 = 0.25 -> 0.5, 0.02/0.01 -> 2.
    assert factor.iloc[:3].isna().all()
    assert factor.iloc[3:].tolist() == pytest.approx([1.0, 0.5, 2.0, 1.0])


def test_weights_adapt_and_renormalise():
    directions = {
        "1h": pd.Series([1.0, 1.0, np.nan]),
        "4h": pd.Series([-1.0, 1.0, 1.0]),
        "1d": pd.Series([1.0, np.nan, -1.0]),
    }
    factors = {"1h": pd.Series([1.0, 1, 1]), "4h": pd.Series([2.0, 1, 1]), "1d": pd.Series([1.0, 1, 1])}
    weights = trend_weights(directions, factors)
    # Row 0: 0.4, 0.3 x 2, 0.2 over 1.2. Row 1: 0.4, 0.3 over 0.7. Row 2: 0.3, 0.2 over 0.5.
    assert weights.iloc[0].tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 6])
    assert weights.iloc[1].tolist()[:2] == pytest.approx([4 / 7, 3 / 7]) and np.isnan(weights.iloc[1, 2])
    assert weights.iloc[2].tolist()[1:] == pytest.approx([0.6, 0.4]) and np.isnan(weights.iloc[2, 0])
    assert weights.sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    score = weighted_trend_score(directions, factors)
    assert score.tolist() == pytest.approx([1 / 3 - 1 / 2 + 1 / 6, 1.0, 0.6 - 0.4])


def test_without_1w_the_base_weights_renormalise():
    one = pd.Series([1.0])
    weights = trend_weights({"1h": one, "4h": one, "1d": -one})
    assert weights.iloc[0].tolist() == pytest.approx([0.4 / 0.9, 0.3 / 0.9, 0.2 / 0.9])
    assert weighted_trend_score({"1h": one, "4h": one, "1d": -one}).iloc[0] == pytest.approx(0.5 / 0.9)
    assert sum(BASE_WEIGHTS.values()) == pytest.approx(1.0)


def test_no_votes_gives_nan():
    nan = pd.Series([np.nan, np.nan])
    assert weighted_trend_score({"1h": nan, "4h": nan}).isna().all()


def test_causal_truncation_does_not_change_past_values():
    rng = np.random.default_rng(0)
    close = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))))
    high, low = close * 1.01, close * 0.99

    def score(n):
        d = ema_trend_direction(close[:n], 20)
        f = volatility_factor(high[:n], low[:n], close[:n], 14, 30)
        return weighted_trend_score({"1h": d, "4h": d.shift(4)}, {"1h": f, "4h": f.shift(4)})

    full, cut = score(300), score(200)
    pd.testing.assert_series_equal(full[:200], cut)


@pytest.mark.parametrize("call, message", [
    (lambda: trend_weights({}), "at least one"),
    (lambda: trend_weights({"2h": pd.Series([1.0])}), "no base weight"),
    (lambda: trend_weights({"1h": pd.Series([1.0])}, {"4h": pd.Series([1.0])}), "same timeframes"),
    (lambda: trend_weights({"1h": pd.Series([1.0]), "4h": pd.Series([1.0, 2.0])}), "rows"),
    (lambda: ema_trend_direction(pd.Series([1.0]), 1), "period"),
    (lambda: volatility_factor(pd.Series([1.0]), pd.Series([1.0]), pd.Series([1.0]), clip=(1.5, 2)), "clip"),
])
def test_invalid_inputs_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_volatility_factor_seed_weighting_is_the_inverse():
    import numpy as np
    import pandas as pd

    from plugins.quant.trend import volatility_factor

    rng = np.random.default_rng(3)
    close = pd.Series(100 + np.cumsum(rng.normal(0, 1, 200)))
    high, low = close + rng.uniform(0.1, 2, 200), close - rng.uniform(0.1, 2, 200)
    inverse = volatility_factor(high, low, close, 14, 30, clip=(0.01, 100))
    seed = volatility_factor(high, low, close, 14, 30, clip=(0.01, 100), weighting="seed")
    valid = inverse.notna()
    np.testing.assert_allclose((inverse * seed)[valid], 1.0)  # one is the reciprocal of the other
    with pytest.raises(ValueError):
        volatility_factor(high, low, close, weighting="louder")
