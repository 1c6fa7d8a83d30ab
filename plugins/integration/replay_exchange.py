"""Replay exchange: the offline exchange with "now" = the simulated clock.

Installed by ``plugins/integration/freqtrade_hooks.py`` when ``FREQTRADE_PACK_REPLAY=1`` (set by
``ftpack-replay``; it implies offline mode). Markets come from the bundled snapshot exactly as in
offline mode (``plugins/integration/offline.py``); what changes is where "now" comes from. Freqtrade
reads the time through ``datetime.now`` / ``time.time``, which ``ftpack-replay`` moves with
time-machine (``plugins/integration/replay_clock.py``), so this module simply asks the clock:

- **candles**: only candles *closed* by now (close time = open + timeframe <= now), the newest last,
  as many as freqtrade asks for, extended back so that the first candle closes at a UTC midnight
  (a 1h frame starts at 23:00, a 15m frame at 23:45). The running candle is never served, so no
  indicator sees the future. (Why that start: freqtrade's ``merge_informative_pair`` keys an
  informative candle to the base candle that opens one base timeframe before the informative
  candle closes - 23:00 for a 1d candle, 03:00, 07:00, ..., 23:00 for 4h. A base frame whose first
  row has no such match goes down the "fill the first rows" branch, a pandas ``.loc`` assignment
  that took 40 ms per 1d merge of 1000 rows where the matched start took 6 ms; the merged values
  are the same. The pack's strategies merge four 4h/1d frames per pair per candle. A live bot's
  window starts wherever its first download did; this costs at most a day of extra history.)
- **history downloads** (``get_historic_ohlcv``, FreqAI's start-up download): the candles since
  the asked date that closed by now, from the same store.
- **price at now** (tickers, order book): the open of the *finest* bundled candle that contains now,
  searched in ``PRICE_TIMEFRAMES`` order (5m, then 15m, then 1h, ...). At a 1h candle close every
  timeframe agrees (the new candle's open); between closes a pair with 5m/15m data moves with them,
  a pair with only 1h data keeps the running candle's open. An open is a price that was known at
  that moment, so nothing later leaks in.
- **tickers**: last = bid = ask = that price; 24 h volumes from the closed candles of the last day.
- **order book**: one level each side at that price with unlimited depth, so freqtrade's own dry-run
  code fills a limit buy when the price is at or below its limit (a sell at or above), a market order
  at that price, and a stop when the price crosses it.

Order simulation, fees, timeouts, partial-fill handling and persistence stay freqtrade's own.
freqtrade.exchange / freqtrade.util are imported inside the functions: this module is loaded while
``freqtrade.exchange.exchange`` itself is being imported (the start-up hook patches it then).
"""

import logging
import math

from freqtrade.exceptions import OperationalException

from plugins.integration.offline import install_offline_exchange
from plugins.integration.replay_freqai import SOURCE_DATADIR_KEY

logger = logging.getLogger(__name__)

PRICE_TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "2h", "4h", "1d")
VOLUME_TIMEFRAMES = ("1h", "15m", "5m", "4h", "1d")
UNLIMITED_DEPTH = 1e12
_DAY_MS = 86_400_000


def _store(exchange):
    from plugins.integration.replay_candles import ReplayCandles

    store = getattr(exchange, "_pack_replay_candles", None)
    if store is None:
        config = exchange._config
        # a FreqAI replay moves config["datadir"] to its own download folder (replay_freqai.py)
        datadir = config.get(SOURCE_DATADIR_KEY, config["datadir"])
        store = ReplayCandles(datadir, config.get("dataformat_ohlcv", "feather"))
        exchange._pack_replay_candles = store
    return store


def replay_price(exchange, pair: str, now_ms: int) -> float | None:
    """The documented price of ``pair`` at ``now_ms`` (None when no bundled candle contains it)."""
    store, candle_type = _store(exchange), exchange._config.get("candle_type_def")
    for timeframe in PRICE_TIMEFRAMES:
        if (price := store.running_open(pair, timeframe, candle_type, now_ms)) is not None:
            return price
    return None


def _day_volumes(exchange, pair: str, now_ms: int) -> tuple[float, float, float | None]:
    """(base volume, quote volume, open 24 h ago) over the candles closed in the last day."""
    from freqtrade.exchange import timeframe_to_msecs

    store, candle_type = _store(exchange), exchange._config.get("candle_type_def")
    for timeframe in VOLUME_TIMEFRAMES:
        count = max(1, _DAY_MS // timeframe_to_msecs(timeframe))
        day = store.closed(pair, timeframe, candle_type, now_ms, count)
        if not day.empty:
            return (float(day["volume"].sum()), float((day["close"] * day["volume"]).sum()),
                    float(day["open"].iat[0]))
    return 0.0, 0.0, None


def _now_ms() -> int:
    from freqtrade.util import dt_ts

    return dt_ts()


def replay_ticker(exchange, pair: str) -> dict | None:
    now_ms = _now_ms()
    price = replay_price(exchange, pair, now_ms)
    if price is None:
        return None
    base_volume, quote_volume, day_open = _day_volumes(exchange, pair, now_ms)
    return {
        "symbol": pair, "last": price, "close": price, "bid": price, "ask": price,
        "bidVolume": None, "askVolume": None,
        "baseVolume": base_volume, "quoteVolume": quote_volume,
        "percentage": (price / day_open - 1) * 100 if day_open else None,
        "timestamp": now_ms,
    }


def _no_price(exchange, pair: str) -> OperationalException:
    return OperationalException(
        f"Replay: no bundled candle of {pair} in "
        f"{exchange._config.get(SOURCE_DATADIR_KEY, exchange._config['datadir'])} contains the "
        "simulated time; the replay window must lie inside the data of every pair."
    )


def _replay_refresh_latest_ohlcv(
    self, pair_list, *, since_ms=None, cache=True, drop_incomplete=None
):
    from freqtrade.exchange import timeframe_to_msecs

    now_ms = _now_ms()
    store, result = _store(self), {}
    for pair, timeframe, candle_type in pair_list:
        limit = self.ohlcv_candle_limit(timeframe, candle_type, since_ms)
        # as many as stock freqtrade keeps: its startup may need several calls' worth
        wanted = limit * self.required_candle_call_count if since_ms is None else max(
            1, math.ceil((now_ms - since_ms) / timeframe_to_msecs(timeframe))
        )
        candles = store.closed(pair, timeframe, candle_type, now_ms, wanted, align_ms=_DAY_MS)
        if cache:
            self._klines[(pair, timeframe, candle_type)] = candles
        result[(pair, timeframe, candle_type)] = candles
    return result


def _replay_get_historic_ohlcv(self, pair, timeframe, since_ms, candle_type, is_new_pair=False,
                               until_ms=None):
    """A history download (FreqAI's start-up one): the candles since ``since_ms`` closed by now."""
    now_ms = _now_ms() if until_ms is None else min(_now_ms(), until_ms)
    return _store(self).closed_since(pair, timeframe, candle_type, since_ms, now_ms)


def _replay_get_tickers(self, symbols=None, *, cached=False, market_type=None):
    pairs = symbols or list(self.markets)
    return {p: t for p in pairs if (t := replay_ticker(self, p)) is not None}


def _replay_fetch_ticker(self, pair: str):
    if ticker := replay_ticker(self, pair):
        return ticker
    raise _no_price(self, pair)


def _replay_fetch_l2_order_book(self, pair: str, limit: int = 100):
    now_ms = _now_ms()
    price = replay_price(self, pair, now_ms)
    if price is None:
        raise _no_price(self, pair)
    level = [[price, UNLIMITED_DEPTH]]
    return {"symbol": pair, "bids": level, "asks": level, "timestamp": now_ms, "nonce": None}


def _replay_fetch_bids_asks(self, symbols=None, *, cached=False):
    return _replay_get_tickers(self, symbols)


REPLAY_METHODS = {
    "refresh_latest_ohlcv": _replay_refresh_latest_ohlcv,
    "get_historic_ohlcv": _replay_get_historic_ohlcv,
    "get_tickers": _replay_get_tickers,
    "fetch_ticker": _replay_fetch_ticker,
    "fetch_l2_order_book": _replay_fetch_l2_order_book,
    "fetch_bids_asks": _replay_fetch_bids_asks,
}


def install_replay_exchange(exchange_cls) -> None:
    """Offline markets plus candles, tickers and order books cut at the simulated now."""
    install_offline_exchange(exchange_cls, REPLAY_METHODS)
    exchange_cls._pack_replay = True  # ReplayRunner refuses to start without it

