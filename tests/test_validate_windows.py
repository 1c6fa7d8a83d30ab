"""ftpack-validate's pure math: calendar windows, walk-forward folds, equity-curve metrics."""

import math

import numpy as np
import pandas as pd
import pytest

from plugins.quant.validation import (
    Window,
    buy_and_hold_wallet,
    cagr,
    calendar_windows,
    chain_equity,
    curve_summary,
    drawdown_series,
    explicit_windows,
    in_out_of_sample_gap,
    max_drawdown,
    parameter_drift,
    parse_span,
    parse_walk_forward,
    robustness_summary,
    span_before,
    time_in_market,
    utc,
    walk_forward_folds,
)


def spans(windows):
    return [(w.label, f"{w.start:%Y-%m-%d}", f"{w.end:%Y-%m-%d}", w.partial) for w in windows]


def test_half_years_of_the_history_span_end_in_a_partial_2025h2():
    windows = calendar_windows("2020-01-01", "2025-09-01", "6M")
    assert [w.label for w in windows] == [f"{y}H{h}" for y in range(2020, 2026) for h in (1, 2)]
    assert spans(windows)[0] == ("2020H1", "2020-01-01", "2020-07-01", False)
    assert spans(windows)[-1] == ("2025H2", "2025-07-01", "2025-09-01", True)
    assert not any(w.partial for w in windows[:-1])
    # consecutive, no gap and no overlap
    assert all(a.end == b.start for a, b in zip(windows, windows[1:]))


def test_a_mid_period_start_aligns_to_the_calendar_and_is_partial():
    windows = calendar_windows("2024-09-14", "2025-03-01", "3M")
    assert spans(windows) == [
        ("2024Q3", "2024-09-14", "2024-10-01", True),
        ("2024Q4", "2024-10-01", "2025-01-01", False),
        ("2025Q1", "2025-01-01", "2025-03-01", True),
    ]


def test_exact_edges_give_no_empty_window():
    assert spans(calendar_windows("2021-01-01", "2023-01-01", "1Y")) == [
        ("2021", "2021-01-01", "2022-01-01", False),
        ("2022", "2022-01-01", "2023-01-01", False),
    ]
    # an end one second into a new window still opens it (partial)
    windows = calendar_windows("2021-01-01", pd.Timestamp("2022-01-01 00:00:01", tz="UTC"), "1Y")
    assert [w.label for w in windows] == ["2021", "2022"] and windows[1].partial


def test_monthly_and_odd_spans_and_explicit_lists():
    assert [w.label for w in calendar_windows("2025-01-15", "2025-03-10", "1M")] == [
        "2025-01", "2025-02", "2025-03"]
    # 5 months do not divide a year: windows start at the data start
    five = calendar_windows("2025-01-15", "2025-12-01", "5M")
    assert spans(five)[0] == ("20250115-20250615", "2025-01-15", "2025-06-15", False)
    assert len(five) == 3 and not five[1].partial and five[2].partial
    assert spans(explicit_windows("20200101-20200312, 20220501-20220601")) == [
        ("20200101-20200312", "2020-01-01", "2020-03-12", False),
        ("20220501-20220601", "2022-05-01", "2022-06-01", False),
    ]


@pytest.mark.parametrize("bad", ["6", "M", "0M", "6X", "", "six months"])
def test_bad_spans_are_refused(bad):
    with pytest.raises(ValueError):
        parse_span(bad)


def test_bad_explicit_windows_and_reversed_ranges_are_refused():
    with pytest.raises(ValueError):
        explicit_windows("20200101-2020")
    with pytest.raises(ValueError):
        explicit_windows("20200701-20200101")
    with pytest.raises(ValueError):
        calendar_windows("2021-01-01", "2020-01-01", "6M")


def test_rolling_walk_forward_folds_tile_the_test_spans():
    folds = walk_forward_folds("2020-01-01", "2022-09-01", "1Y", "6M")
    assert [(f"{f.train.start:%Y-%m}", f"{f.train.end:%Y-%m}", f.test.label, f.test.partial)
            for f in folds] == [
        ("2020-01", "2021-01", "2021H1", False),
        ("2020-07", "2021-07", "2021H2", False),
        ("2021-01", "2022-01", "2022H1", False),
        ("2021-07", "2022-07", "2022H2", True),
    ]
    assert folds[-1].test.end == utc("2022-09-01")
    for fold in folds:  # no test span overlaps its train span; each train is exactly 1 year
        assert fold.train.end == fold.test.start
        assert fold.train.start == fold.test.start - pd.DateOffset(years=1)


def test_anchored_walk_forward_grows_the_train_span():
    folds = walk_forward_folds("2020-01-01", "2022-01-01", "1Y", "6M", anchored=True)
    assert [f.train.start for f in folds] == [utc("2020-01-01")] * 2
    assert [f"{f.train.end:%Y-%m}" for f in folds] == ["2021-01", "2021-07"]


def test_the_table_fit_span_ends_where_its_window_starts():
    window = Window("2021H1", utc("2021-01-01"), utc("2021-07-01"))
    fit = span_before(window, "6M")
    assert (fit.start, fit.end) == (utc("2020-07-01"), utc("2021-01-01"))
    assert span_before(window, "90D").start == utc("2020-10-03")


def test_walk_forward_needs_room_for_one_test_span():
    with pytest.raises(ValueError, match="shorter than the train span"):
        walk_forward_folds("2020-01-01", "2020-12-31", "1Y", "6M")
    assert parse_walk_forward("2Y:6M") == ("2Y", "6M")
    with pytest.raises(ValueError):
        parse_walk_forward("2Y")


def scripted_curve():
    # 100 -> 120 (peak) -> 90 (25 % below the peak) -> 110 over 366 days
    dates = pd.to_datetime(["2024-01-01", "2024-04-01", "2024-08-01", "2025-01-01"], utc=True)
    return pd.Series([100.0, 120.0, 90.0, 110.0], index=dates)


def test_metrics_on_a_scripted_equity_curve():
    curve = scripted_curve()
    assert drawdown_series(curve).tolist() == pytest.approx([0, 0, -0.25, 110 / 120 - 1])
    assert max_drawdown(curve) == pytest.approx(0.25)
    summary = curve_summary(curve)
    years = 366 / 365
    assert summary["profit"] == pytest.approx(0.10)
    assert summary["cagr"] == pytest.approx(1.1 ** (1 / years) - 1)
    assert summary["calmar"] == pytest.approx(summary["cagr"] / 0.25)
    assert cagr(100, 200, 730) == pytest.approx(math.sqrt(2) - 1)
    assert cagr(100, 0, 10) == -1.0


def test_chained_windows_compound_from_where_the_last_ended():
    a = pd.Series([1000.0, 1100.0], index=pd.to_datetime(["2024-01-01", "2024-07-01"], utc=True))
    b = pd.Series([1000.0, 500.0, 900.0],
                  index=pd.to_datetime(["2024-07-01", "2024-10-01", "2025-01-01"], utc=True))
    chained = chain_equity([a, b], start_balance=100.0)
    assert chained.tolist() == pytest.approx([100.0, 110.0, 55.0, 99.0])
    assert chained.index.is_monotonic_increasing
    assert max_drawdown(chained) == pytest.approx(0.5)


def test_time_in_market_counts_overlapping_trades_once():
    start, end = "2025-01-01", "2025-01-11"  # 10 days
    opens = ["2025-01-01", "2025-01-02", "2025-01-08", "2024-12-20"]
    closes = ["2025-01-03", "2025-01-04", "2025-01-09", "2024-12-25"]  # last one outside
    # covered: Jan 1-4 (3 days) + Jan 8-9 (1 day)
    assert time_in_market(opens, closes, start, end) == pytest.approx(0.4)
    assert time_in_market([], [], start, end) == 0.0
    assert time_in_market(["2024-12-31"], ["2025-02-01"], start, end) == pytest.approx(1.0)


def test_buy_and_hold_wallet_by_hand():
    dates = pd.date_range("2025-01-01", periods=3, freq="1D", tz="UTC")
    closes = pd.DataFrame({"A": [10.0, 20.0, 15.0], "B": [100.0, 50.0, 100.0]}, index=dates)
    opens = pd.Series({"A": 10.0, "B": 100.0})
    wallet, final = buy_and_hold_wallet(closes, opens, balance=1000.0, fee=0.0)
    assert wallet["total_quote"].tolist() == pytest.approx([1000, 1000, 1250, 1250])
    assert final == pytest.approx(1250)


def test_robustness_summary_names_the_worst_window():
    profits = {"2020H1": 0.10, "2020H2": -0.05, "2021H1": -0.20}
    drawdowns = {"2020H1": 0.04, "2020H2": 0.12, "2021H1": 0.30}
    summary = robustness_summary(profits, drawdowns, scripted_curve())
    assert summary["windows"] == 3 and summary["windows_lost"] == 2
    assert summary["worst_window"] == "2021H1" and summary["worst_profit"] == -0.20
    assert summary["deepest_drawdown"] == 0.30
    assert summary["span_max_drawdown"] == pytest.approx(0.25)
    assert robustness_summary({}, {}, None)["worst_window"] is None


def test_walk_forward_gap_and_parameter_drift():
    gap = in_out_of_sample_gap([10.0, 20.0], [-2.0, 4.0])
    assert gap == {"in_sample_mean": 15.0, "out_of_sample_mean": 1.0, "gap": 14.0}
    drift = parameter_drift([{"rsi": 30, "tag": "x"}, {"rsi": 20, "tag": "y"}, {"rsi": 40}])
    assert set(drift) == {"rsi"}
    assert drift["rsi"]["min"] == 20 and drift["rsi"]["max"] == 40
    assert drift["rsi"]["cv"] == pytest.approx(np.std([30, 20, 40]) / 30)


def test_a_window_must_have_positive_length():
    with pytest.raises(ValueError):
        Window("x", utc("2020-01-02"), utc("2020-01-01"))
