"""Replay building blocks on hand-made candles: the candle cut, the price rule, the clock, parity."""

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest
import time_machine
from freqtrade.data.history.datahandlers import get_datahandler
from freqtrade.enums import CandleType

from plugins.integration.replay_candles import ReplayCandles
from plugins.integration.replay_clock import ReplayClock
from plugins.integration.replay_exchange import (
    REPLAY_METHODS,
    replay_price,
    replay_ticker,
)
from plugins.integration.replay_parity import match_trades, parity_summary

SPOT = CandleType.SPOT
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def candles(freq: str, periods: int, opens: list[float], start=T0 - timedelta(days=1)):
    dates = pd.date_range(start, periods=periods, freq=freq, tz="UTC")
    opens = (opens * periods)[:periods]
    return pd.DataFrame({"date": dates, "open": opens, "high": [o + 1 for o in opens],
                         "low": [o - 1 for o in opens], "close": [o + 0.5 for o in opens],
                         "volume": [10.0] * periods})


@pytest.fixture
def datadir(tmp_path):
    handler = get_datahandler(tmp_path, "feather")
    hourly = candles("1h", 48, [100.0 + i for i in range(48)])  # T0-1d .. T0+1d, open 100..147
    handler.ohlcv_store("BTC/USDT", "1h", hourly, SPOT)
    handler.ohlcv_store("ETH/USDT", "1h", hourly, SPOT)
    fine = candles("15min", 8, [500.0 + i for i in range(8)], start=T0)  # ETH 15m on T0 .. T0+2h
    handler.ohlcv_store("ETH/USDT", "15m", fine, SPOT)
    return tmp_path


def test_closed_serves_only_candles_closed_by_now(datadir):
    store = ReplayCandles(datadir)
    now = T0 + timedelta(minutes=30)  # inside the T0 candle
    got = store.closed("BTC/USDT", "1h", SPOT, ms(now), 5)
    assert len(got) == 5
    assert got["date"].iloc[-1] == pd.Timestamp(T0 - timedelta(hours=1))  # the T0 candle runs
    at_close = store.closed("BTC/USDT", "1h", SPOT, ms(T0 + timedelta(hours=1)), 5)
    assert at_close["date"].iloc[-1] == pd.Timestamp(T0)  # closed exactly now: served


def test_closed_aligns_its_start_to_a_day_boundary(datadir):
    store = ReplayCandles(datadir)
    now = T0 + timedelta(hours=5)
    got = store.closed("BTC/USDT", "1h", SPOT, ms(now), 3, align_ms=86_400_000)
    # extended back to the candle that closes at midnight: it opens at 23:00
    assert got["date"].iloc[0] == pd.Timestamp(T0 - timedelta(hours=1))
    assert got["date"].iloc[-1] == pd.Timestamp(T0 + timedelta(hours=4))
    assert len(got) == 6
    exact = store.closed("BTC/USDT", "1h", SPOT, ms(T0 + timedelta(hours=4)), 5,
                         align_ms=86_400_000)
    assert len(exact) == 5  # its first candle already closes at midnight: nothing added


def test_aligned_window_keeps_informative_merges_off_the_refill_branch():
    """The first base row matches a 1d and a 4h candle: freqtrade's merge has nothing to refill."""
    from freqtrade.strategy import merge_informative_pair

    base = candles("1h", 30, [1.0], start=T0 - timedelta(hours=1))  # starts 23:00, as served
    for timeframe in ("4h", "1d"):
        informative = candles(timeframe, 30, [2.0], start=T0 - timedelta(days=3))
        merged = merge_informative_pair(base, informative, "1h", timeframe, ffill=False)
        assert merged[f"date_{timeframe}"].notna().iat[0], timeframe


def test_running_open_and_span(datadir):
    store = ReplayCandles(datadir)
    assert store.running_open("BTC/USDT", "1h", SPOT, ms(T0 + timedelta(minutes=59))) == 124.0
    assert store.running_open("BTC/USDT", "1h", SPOT, ms(T0 + timedelta(days=2))) is None
    first, last = store.span("BTC/USDT", "1h", SPOT)
    assert (first, last) == (T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert store.span("SOL/USDT", "1h", SPOT) is None


def test_closed_since_cuts_both_ends(datadir):
    store = ReplayCandles(datadir)
    got = store.closed_since("BTC/USDT", "1h", SPOT, ms(T0 - timedelta(hours=3)),
                             ms(T0 + timedelta(minutes=30)))
    assert list(got["date"]) == [pd.Timestamp(T0 - timedelta(hours=h)) for h in (3, 2, 1)]
    assert store.closed_since("BTC/USDT", "1h", SPOT, ms(T0), ms(T0)).empty  # T0 still runs


def test_history_download_stops_at_the_simulated_now(datadir):
    exchange = exchange_for(datadir)
    download = REPLAY_METHODS["get_historic_ohlcv"]
    since = ms(T0 - timedelta(days=1))
    with time_machine.travel(T0 + timedelta(hours=2, minutes=15), tick=False):
        got = download(exchange, "BTC/USDT", "1h", since, SPOT)
        capped = download(exchange, "BTC/USDT", "1h", since, SPOT, until_ms=ms(T0))
    assert len(got) == 26 and got["date"].iloc[-1] == pd.Timestamp(T0 + timedelta(hours=1))
    assert capped["date"].iloc[-1] == pd.Timestamp(T0 - timedelta(hours=1))
    moved = {"datadir": "/elsewhere", "pack_replay_datadir": datadir, "candle_type_def": SPOT}
    with time_machine.travel(T0, tick=False):  # a FreqAI replay reads the bundle from its own key
        assert len(download(SimpleNamespace(_config=moved), "BTC/USDT", "1h", since, SPOT)) == 24


def exchange_for(datadir):
    return SimpleNamespace(_config={"datadir": datadir, "candle_type_def": SPOT})


def test_price_rule_finest_running_candle_open(datadir):
    exchange = exchange_for(datadir)
    inside = ms(T0 + timedelta(minutes=40))
    assert replay_price(exchange, "ETH/USDT", inside) == 502.0  # 15m candle 00:30 opens at 502
    assert replay_price(exchange, "BTC/USDT", inside) == 124.0  # only 1h data: the 1h open
    after_fine = ms(T0 + timedelta(hours=3))  # ETH's 15m data ended: falls back to the 1h open
    assert replay_price(exchange, "ETH/USDT", after_fine) == 127.0
    assert replay_price(exchange, "SOL/USDT", inside) is None


def test_ticker_reads_the_clock(datadir):
    exchange = exchange_for(datadir)
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        ticker = replay_ticker(exchange, "BTC/USDT")
    assert ticker["last"] == ticker["bid"] == ticker["ask"] == 124.0
    assert ticker["timestamp"] == ms(T0 + timedelta(minutes=10))
    assert ticker["baseVolume"] == 240.0  # the 24 closed 1h candles of the last day x 10


def test_clock_steps_and_stops_at_the_end():
    clock = ReplayClock(T0, T0 + timedelta(minutes=45), timedelta(minutes=20))
    clock.start()
    try:
        assert datetime.now(UTC) == T0 and time.time() == T0.timestamp()
        assert clock.advance() == T0 + timedelta(minutes=20)
        assert datetime.now(UTC) == T0 + timedelta(minutes=20)
        clock.advance()
        assert not clock.finished()
        assert clock.advance() == T0 + timedelta(minutes=45)  # capped at the end
        assert clock.finished()
    finally:
        clock.stop()
    assert datetime.now(UTC).year >= 2026


def test_clock_speed_paces_real_time():
    clock = ReplayClock(T0, T0 + timedelta(hours=1), timedelta(minutes=1), speed=300)
    clock.start()
    try:
        started = time.perf_counter()
        clock.advance()
        clock.advance()
        elapsed = time.perf_counter() - started
    finally:
        clock.stop()
    assert 0.35 <= elapsed < 1.5  # 2 x 60 s / 300 = 0.4 s


@pytest.mark.parametrize("bad", [
    {"start": T0, "end": T0, "step": timedelta(minutes=5)},
    {"start": T0, "end": T0 + timedelta(days=1), "step": timedelta(0)},
    {"start": T0, "end": T0 + timedelta(days=1), "step": timedelta(minutes=5), "speed": 0},
    {"start": T0.replace(tzinfo=None), "end": T0 + timedelta(days=1), "step": timedelta(minutes=5)},
])
def test_clock_rejects_bad_parameters(bad):
    with pytest.raises(ValueError):
        ReplayClock(**bad)


def trades(rows):
    return pd.DataFrame(rows, columns=["pair", "open_date", "close_date", "open_rate", "close_rate",
                                       "profit_abs", "profit_ratio", "exit_reason", "is_open"])


def test_parity_matches_pair_and_open_candle():
    replayed = trades([
        ("BTC/USDT", "2025-06-01 10:00", "2025-06-01 14:15", 101.0, 110.0, 9.0, 0.09, "roi", False),
        ("ETH/USDT", "2025-06-01 11:00", None, 50.0, None, None, None, None, True),
        ("SOL/USDT", "2025-06-02 00:00", "2025-06-02 01:00", 10.0, 9.0, -1.0, -0.1, "stop", False),
    ])
    backtested = trades([
        ("BTC/USDT", "2025-06-01 10:00", "2025-06-01 14:00", 100.0, 110.0, 10.0, 0.1, "roi", False),
        ("ETH/USDT", "2025-06-01 12:00", "2025-06-01 13:00", 50.0, 51.0, 1.0, 0.02, "roi", False),
    ])
    matched = match_trades(replayed, backtested, timedelta(hours=1))
    assert list(matched["pair"]) == ["BTC/USDT"]  # ETH opened one candle apart: not matched
    row = matched.iloc[0]
    assert row["close_delay_min"] == 15
    assert row["open_rate_diff_pct"] == pytest.approx(1.0)
    assert row["profit_abs_diff"] == pytest.approx(-1.0)
    summary = parity_summary(replayed, backtested, matched)
    assert summary["matched_pct_of_backtest"] == 50.0
    assert summary["matched_pct_of_replay"] == pytest.approx(100 / 3)
    assert summary["replay_open_at_end"] == 1
    assert summary["profit_abs_diff"] == pytest.approx(8.0 - 11.0)
