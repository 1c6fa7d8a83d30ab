"""Hand-computed cases for the scanner math (plugins.quant.scanner) and pump-and-dump shape checks."""

import math

import numpy as np
import pandas as pd
import pytest

from plugins.quant.candle_checks import recent_pump_and_dump, rolling_pump_and_dump
from plugins.quant.scanner import (
    quote_volume,
    rank_pairs,
    regime_confidence,
    scan,
    stack_candles,
    trend_confidence,
)


def frame(closes, volumes=None) -> pd.DataFrame:
    closes = [float(c) for c in closes]
    volumes = volumes or [1.0] * len(closes)
    dates = pd.date_range("2025-01-01", periods=len(closes), freq="1h", tz="UTC")
    return pd.DataFrame(
        {"date": dates, "open": closes, "high": closes, "low": closes, "close": closes,
         "volume": [float(v) for v in volumes]}
    )


def column(values) -> np.ndarray:
    return np.asarray(values, dtype=float)[:, np.newaxis]


# --------------------------------------------------------------------------- trend confidence


def test_steady_exponential_trend_has_confidence_one():
    closes = column(100 * 1.01 ** np.arange(10))  # log-close is a straight line
    assert trend_confidence(closes)[0] == pytest.approx(1.0)


def test_zigzag_confidence_is_hand_computed_r_squared():
    # log2(closes) = [0, 1, 0, 1]; t - mean = [-1.5, -.5, .5, 1.5]; y - mean = [-.5, .5, -.5, .5]
    # sum(tc*yc) = 1, sum(tc^2) = 5, sum(yc^2) = 1  ->  r = 1/sqrt(5), r^2 = 0.2 (slope > 0)
    closes = column([1, 2, 1, 2])
    assert trend_confidence(closes)[0] == pytest.approx(0.2)


def test_direction_up_zeroes_falling_trends_any_keeps_them():
    closes = column(100 * 0.99 ** np.arange(10))
    assert trend_confidence(closes, "up")[0] == 0.0
    assert trend_confidence(closes, "any")[0] == pytest.approx(1.0)


def test_flat_and_immature_columns():
    closes = np.column_stack([[5.0, 5.0, 5.0], [np.nan, 1.0, 2.0], [1.0, 0.0, 2.0]])
    result = trend_confidence(closes)
    assert result[0] == 0.0
    assert math.isnan(result[1]) and math.isnan(result[2])  # missing / non-positive close


def test_columns_are_scored_independently():
    up = 100 * 1.01 ** np.arange(10)
    together = trend_confidence(np.column_stack([up, up[::-1], np.full(10, 3.0)]), "any")
    assert together.tolist() == pytest.approx([1.0, 1.0, 0.0])


def test_trend_confidence_validates():
    with pytest.raises(ValueError, match="direction"):
        trend_confidence(column([1, 2]), "down")
    with pytest.raises(ValueError, match=">= 2 rows"):
        trend_confidence(column([1]))


# --------------------------------------------------------------------------- stacking, volume


def test_stack_candles_aligns_on_the_last_candle_and_pads_short_history():
    pairs, arrays = stack_candles({"A": frame([1, 2, 3, 4]), "B": frame([7, 8]), "C": None}, 3)
    assert pairs == ["A", "B", "C"]
    closes = arrays["close"]
    assert closes[:, 0].tolist() == [2, 3, 4]
    assert math.isnan(closes[0, 1]) and closes[1:, 1].tolist() == [7, 8]
    assert np.isnan(closes[:, 2]).all()


def test_quote_volume_sums_close_times_volume_of_the_last_candles():
    closes = np.column_stack([[1.0, 2.0, 3.0], [np.nan, 10.0, 10.0]])
    volumes = np.column_stack([[100.0, 10.0, 20.0], [np.nan, 1.0, 2.0]])
    # A: 2*10 + 3*20 = 80; B: 10*1 + 10*2 = 30
    assert quote_volume(closes, volumes, 2).tolist() == [80.0, 30.0]
    # NaN rows count as 0: B over 3 candles is still 30
    assert quote_volume(closes, volumes, 3).tolist() == [180.0, 30.0]
    with pytest.raises(ValueError, match="candles"):
        quote_volume(closes, volumes, 0)


# --------------------------------------------------------------------------- ranking


def test_rank_pairs_thresholds_top_n_and_reasons():
    table = rank_pairs(
        ["A", "B", "C", "D", "E", "F"],
        np.array([0.9, 0.8, np.nan, 0.95, 0.5, 0.7]),
        np.array([10e6, 20e6, 50e6, 1e6, 30e6, 8e6]),
        min_score=0.65, min_volume=5e6, number_assets=2,
    )
    assert table.index.tolist()[:2] == ["A", "B"]  # kept, best first
    assert table.loc[["A", "B"], "rank"].tolist() == [1, 2]
    assert table.loc["A", "reason"] is None
    assert table.loc["C", "reason"] == "not enough valid history to score"
    assert table.loc["D", "reason"] == "24h volume 1,000,000 below 5,000,000"  # best score, thin
    assert table.loc["E", "reason"] == "confidence 0.50 below min_score 0.65"
    assert table.loc["F", "reason"] == "rank 3 outside the top 2 (score 0.70)"


def test_rank_ties_break_on_volume_then_input_order():
    table = rank_pairs(
        ["A", "B", "C"], np.array([0.8, 0.8, 0.8]), np.array([1.0, 3.0, 1.0]),
        min_score=0.0, min_volume=0.0, number_assets=3,
    )
    assert table.index.tolist() == ["B", "A", "C"]


def test_volume_weight_blends_confidence_with_volume_percentile():
    # percentiles among the passing pairs: A (vol 1) 0.5, B (vol 2) 1.0
    # scores: A = 0.5*0.9 + 0.5*0.5 = 0.70, B = 0.5*0.7 + 0.5*1.0 = 0.85
    table = rank_pairs(
        ["A", "B"], np.array([0.9, 0.7]), np.array([1.0, 2.0]),
        min_score=0.0, min_volume=0.0, number_assets=2, volume_weight=0.5,
    )
    assert table.index.tolist() == ["B", "A"]
    assert table["score"].tolist() == pytest.approx([0.85, 0.70])


@pytest.mark.parametrize("kwargs, match", [
    ({"number_assets": 0}, "number_assets"),
    ({"volume_weight": 1.5}, "volume_weight"),
])
def test_rank_pairs_validates(kwargs, match):
    args = {"min_score": 0.5, "min_volume": 0.0, "number_assets": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        rank_pairs(["A"], np.array([1.0]), np.array([1.0]), **args)


def test_scan_end_to_end_on_small_frames():
    frames = {
        "UP/USDT": frame(100 * 1.01 ** np.arange(6), [1000] * 6),
        "DOWN/USDT": frame(100 * 0.99 ** np.arange(6), [1000] * 6),
        "YOUNG/USDT": frame([1, 2, 3], [1000] * 3),
        "THIN/USDT": frame(100 * 1.02 ** np.arange(6), [1] * 6),
    }
    table = scan(frames, window=6, volume_candles=2, min_score=0.65, min_volume=50_000,
                 number_assets=5)
    assert table.index[table["reason"].isna()].tolist() == ["UP/USDT"]
    assert table.loc["UP/USDT", "confidence"] == pytest.approx(1.0)
    # 24h volume of UP: (100*1.01^4 + 100*1.01^5) * 1000
    assert table.loc["UP/USDT", "volume"] == pytest.approx((1.01 ** 4 + 1.01 ** 5) * 100_000)
    assert table.loc["DOWN/USDT", "reason"].startswith("confidence 0.00")
    assert table.loc["YOUNG/USDT", "reason"] == "not enough valid history to score"
    assert table.loc["THIN/USDT", "reason"].startswith("24h volume")


def test_scan_validates_method_and_volume_window():
    frames = {"A/USDT": frame([1, 2, 3])}
    with pytest.raises(ValueError, match="method"):
        scan(frames, window=3, volume_candles=1, min_score=0, min_volume=0, number_assets=1,
             method="magic")
    with pytest.raises(ValueError, match="volume_candles"):
        scan(frames, window=3, volume_candles=4, min_score=0, min_volume=0, number_assets=1)


def test_regime_method_counts_only_accepted_regimes(monkeypatch):
    import plugins.quant.regime

    labels = {100.0: ("BULL_TREND", 0.8), 200.0: ("BEAR_TREND", 0.9), 300.0: ("UNDEFINED", 0.0)}

    def fake_detect_regime(df):
        regime, confidence = labels[df["close"].iloc[0]]
        return df.assign(regime=regime, regime_confidence=confidence)

    monkeypatch.setattr(plugins.quant.regime, "detect_regime", fake_detect_regime)
    frames = {"A": frame([100.0] * 3), "B": frame([200.0] * 3), "C": frame([300.0] * 3)}
    assert regime_confidence(frames, ["BULL_TREND"]).tolist() == pytest.approx([0.8, 0.0, 0.0])
    table = scan(frames, window=3, volume_candles=1, min_score=0.65, min_volume=0,
                 number_assets=3, method="regime", accepted_regimes=["BULL_TREND"])
    assert table.index[table["reason"].isna()].tolist() == ["A"]


def test_regime_method_runs_the_real_detector():
    rng = np.random.default_rng(1)
    closes = 100 * np.exp(np.cumsum(0.004 + 0.002 * rng.standard_normal(300)))
    df = frame(closes, [1000.0] * 300)
    df["high"], df["low"] = df["close"] * 1.003, df["close"] * 0.997
    result = regime_confidence({"UP": df}, ["BULL_TREND"])
    assert 0.0 < result[0] <= 1.0  # a steady uptrend is a confident BULL_TREND
    assert regime_confidence({"UP": df}, ["BEAR_TREND"])[0] == 0.0


# --------------------------------------------------------------------------- pump and dump


PUMP_DUMP = pd.Series([100.0, 110.0, 121.0, 133.1, 146.41, 134.7, 123.9, 114.0])


def test_pump_and_dump_over_several_candles_is_found():
    # 100 -> 146.41 is +46.4% (no candle above +10%), then 146.41 -> 114 is -22.1%
    assert recent_pump_and_dump(PUMP_DUMP, 7, min_rise=0.4, min_fall=0.2)
    assert not recent_pump_and_dump(PUMP_DUMP, 7, min_rise=0.5, min_fall=0.2)  # rise too small
    assert not recent_pump_and_dump(PUMP_DUMP, 7, min_rise=0.4, min_fall=0.25)  # fall too small
    assert not recent_pump_and_dump(PUMP_DUMP[:5], 7, 0.4, 0.2)  # too little history


def test_pump_then_dump_order_matters():
    dump_then_pump = pd.Series(PUMP_DUMP.to_numpy()[::-1])  # falls first, then recovers
    assert not recent_pump_and_dump(dump_then_pump, 7, 0.4, 0.2)


def test_rolling_pump_and_dump_is_causal():
    flags = rolling_pump_and_dump(PUMP_DUMP, 5, min_rise=0.3, min_fall=0.07)
    # windows of 6 closes ending at t=5: 100 -> 146.41 (+46.4%) -> 134.7 (-8.0%)  -> 1
    #                          t=6: 110 -> 146.41 (+33.1%) -> 123.9 (-15.4%) -> 1
    #                          t=7: 121 -> 146.41 (+21.0%: below 30%)         -> 0
    assert flags[:5].isna().all()
    assert flags[5:].tolist() == [1.0, 1.0, 0.0]
    extended = pd.concat([PUMP_DUMP, pd.Series([500.0])], ignore_index=True)
    assert rolling_pump_and_dump(extended, 5, 0.3, 0.07)[:8].equals(flags)


def test_rolling_pump_and_dump_needs_valid_prices():
    close = pd.Series([100.0, np.nan, 130.0, 100.0])
    assert math.isnan(rolling_pump_and_dump(close, 3, 0.2, 0.2).iloc[-1])
    with pytest.raises(ValueError, match="window"):
        rolling_pump_and_dump(close, 1, 0.2, 0.2)
    with pytest.raises(ValueError, match="min_fall"):
        recent_pump_and_dump(close, 3, 0.2, 1.0)
