"""aggregate_complete: 5m -> 15m buckets on hand-built candles, incomplete buckets dropped;
merge_aligned_startup: startup counts that line a backtest up with the informative merges."""

import pandas as pd
import pytest

from plugins.quant.candles import aggregate_complete, merge_aligned_startup


def five_minute(times, opens, highs, lows, closes, volumes):
    return pd.DataFrame({"date": pd.to_datetime(times, utc=True), "open": opens, "high": highs,
                         "low": lows, "close": closes, "volume": volumes})


def test_three_five_minute_candles_make_one_fifteen_minute_candle():
    c = five_minute(["2025-01-01 00:00", "2025-01-01 00:05", "2025-01-01 00:10"],
                    [10, 11, 12], [11, 15, 13], [9, 10, 8], [11, 12, 12.5], [1, 2, 3])
    out = aggregate_complete(c, 5, 15)
    assert out.to_dict("records") == [{"date": pd.Timestamp("2025-01-01 00:00", tz="UTC"), "open": 10,
                                       "high": 15, "low": 8, "close": 12.5, "volume": 6}]


def test_a_bucket_with_a_missing_candle_is_dropped_and_buckets_align_to_utc():
    # 00:05 starts mid-bucket (00:00 bucket has 2 of 3); 00:15 bucket complete; 00:30 bucket lacks 00:35.
    times = ["2025-01-01 00:05", "2025-01-01 00:10", "2025-01-01 00:15", "2025-01-01 00:20",
             "2025-01-01 00:25", "2025-01-01 00:30", "2025-01-01 00:40"]
    n = len(times)
    c = five_minute(times, range(n), range(1, n + 1), range(n), range(n), [1] * n)
    out = aggregate_complete(c, 5, 15)
    assert out["date"].dt.strftime("%H:%M").tolist() == ["00:15"]
    assert out.loc[0, ["open", "close", "volume"]].tolist() == [2, 4, 3]


def test_target_must_be_a_multiple_of_the_source():
    c = five_minute(["2025-01-01 00:00"], [1], [1], [1], [1], [1])
    with pytest.raises(ValueError, match="whole multiple"):
        aggregate_complete(c, 5, 12)
    with pytest.raises(ValueError, match="whole multiple"):
        aggregate_complete(c, 15, 5)


@pytest.mark.parametrize("min_candles, minutes, expected", [
    (400, 60, 409),     # 1h: 17 days and one hour
    (409, 60, 409),     # already aligned
    (1500, 60, 1513),
    (200, 60, 217),
    (400, 240, 403),    # 4h: 6 candles a day
    (400, 15, 481),     # 15m: 96 candles a day
    (400, 1440, 400),   # 1d: every count is aligned
    (0, 60, 1),
])
def test_merge_aligned_startup_hand_computed(min_candles, minutes, expected):
    assert merge_aligned_startup(min_candles, minutes) == expected


@pytest.mark.parametrize("minutes", [15, 60, 240])
def test_the_first_candle_is_where_the_previous_days_informative_candles_land(minutes):
    # freqtrade merges a higher-timeframe candle at open + its timeframe - the base timeframe.
    midnight = pd.Timestamp("2025-03-01", tz="UTC")
    first = midnight - merge_aligned_startup(400, minutes) * pd.Timedelta(minutes=minutes)
    for informative in ("4h", "1d"):
        step = pd.Timedelta(informative)
        if step <= pd.Timedelta(minutes=minutes):
            continue
        informative_open = (first + pd.Timedelta(minutes=minutes)) - step
        # the informative candle that lands on the first row opens on its own boundary: it exists
        assert informative_open == informative_open.floor(informative)


def test_merge_aligned_startup_rejects_bad_settings():
    with pytest.raises(ValueError, match="divides"):
        merge_aligned_startup(400, 7)
    with pytest.raises(ValueError, match="min_candles"):
        merge_aligned_startup(-1, 60)
