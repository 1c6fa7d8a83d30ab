"""Offline exchange: markets from the bundled snapshot, candles and tickers from bundled data.

Installed on freqtrade's ``Exchange`` class by ``plugins/integration/freqtrade_hooks.py`` when
``FREQTRADE_PACK_OFFLINE=1`` is set. Three network paths are replaced:

- market loading   -> ``user_data/markets/<exchange>-<mode>.json`` (``plugins.integration.market_snapshot``)
- recent candles   -> the last candles of the bundled data files (``config["datadir"]``), as if the
                      data's last candle were "now"; pairlists that scan candles run unchanged.
- tickers          -> derived from the last bundled candle of each pair (last = bid = ask = close,
                      quoteVolume = close x volume summed over the last 24 hours).

Everything else (order simulation, fees, precision) is freqtrade's own code working on the snapshot.
"""

import logging
import math
from types import MethodType

from pandas import DataFrame

from plugins.integration.market_snapshot import SnapshotError, load_for_config


logger = logging.getLogger(__name__)

TICKER_TIMEFRAMES = ("1h", "15m", "5m", "4h", "1d")


def _operational_error(err: SnapshotError):
    from freqtrade.exceptions import OperationalException

    return OperationalException(str(err))


def _datahandler(config):
    from freqtrade.data.history.datahandlers import get_datahandler

    return get_datahandler(config["datadir"], config.get("dataformat_ohlcv", "feather"))


def _load_candles(exchange, pair: str, timeframe: str, candle_type) -> DataFrame:
    return _datahandler(exchange._config).ohlcv_load(
        pair, timeframe, candle_type, fill_missing=False, warn_no_data=False
    )


def _candles_wanted(timeframe: str, since_ms: int | None, limit: int) -> int:
    """How many trailing candles a request 'since since_ms until now' asks for."""
    from freqtrade.exchange import timeframe_to_msecs
    from freqtrade.util import dt_ts

    if since_ms is None:
        return limit
    return max(1, math.ceil((dt_ts() - since_ms) / timeframe_to_msecs(timeframe)))


def _offline_refresh_latest_ohlcv(
    self, pair_list, *, since_ms=None, cache=True, drop_incomplete=None
):
    result = {}
    for pair, timeframe, candle_type in pair_list:
        limit = self.ohlcv_candle_limit(timeframe, candle_type, since_ms)
        candles = _load_candles(self, pair, timeframe, candle_type)
        candles = candles.tail(_candles_wanted(timeframe, since_ms, limit)).reset_index(drop=True)
        if cache:
            self._klines[(pair, timeframe, candle_type)] = candles
        result[(pair, timeframe, candle_type)] = candles
    return result


def offline_ticker(exchange, pair: str) -> dict | None:
    """A ticker built from the last bundled candles of ``pair`` (None when there are none)."""
    from freqtrade.exchange import timeframe_to_minutes

    candle_type = exchange._config.get("candle_type_def")
    for timeframe in TICKER_TIMEFRAMES:
        candles = _load_candles(exchange, pair, timeframe, candle_type)
        if candles.empty:
            continue
        last_day = candles.tail(max(1, 1440 // timeframe_to_minutes(timeframe)))
        close = float(last_day["close"].iloc[-1])
        first_open = float(last_day["open"].iloc[0])
        return {
            "symbol": pair,
            "last": close,
            "close": close,
            "bid": close,
            "ask": close,
            "bidVolume": None,
            "askVolume": None,
            "baseVolume": float(last_day["volume"].sum()),
            "quoteVolume": float((last_day["close"] * last_day["volume"]).sum()),
            "percentage": (close / first_open - 1) * 100 if first_open else None,
            "timestamp": int(last_day["date"].iloc[-1].timestamp() * 1000),
        }
    return None


def _offline_get_tickers(self, symbols=None, *, cached=False, market_type=None):
    pairs = symbols or list(self.markets)
    return {p: t for p in pairs if (t := offline_ticker(self, p)) is not None}


def _offline_fetch_ticker(self, pair: str):
    if ticker := offline_ticker(self, pair):
        return ticker
    from freqtrade.exceptions import OperationalException

    raise OperationalException(
        f"No bundled candles for {pair} in {self._config['datadir']}: offline mode cannot price "
        "it. Add its data (freqtrade download-data while online) or remove it from the pairlist."
    )


def _offline_load_async_markets(self, reload: bool = False) -> None:
    try:
        markets, path = load_for_config(self._config, self._api_async.id)
    except SnapshotError as err:
        raise _operational_error(err) from None
    self._api_async.set_markets(markets)
    logger.info(
        "Offline mode: %d markets from %s, candles and tickers from %s.",
        len(markets), path, self._config.get("datadir"),
    )


INSTANCE_METHODS = {
    "refresh_latest_ohlcv": _offline_refresh_latest_ohlcv,
    "get_tickers": _offline_get_tickers,
    "fetch_ticker": _offline_fetch_ticker,
}


def install_offline_exchange(exchange_cls, instance_methods=None) -> None:
    """Make every ``exchange_cls`` instance use the snapshot, bundled candles and tickers.

    ``instance_methods`` replaces ``INSTANCE_METHODS`` (replay mode binds its own, cut at the
    simulated now: ``plugins/integration/replay_exchange.py``).

    Market loading is replaced on the class (no exchange subclass overrides it). Candles and tickers
    are bound on each instance right after construction, because subclasses override some of them
    (e.g. ``Binance.get_tickers``) and some commands (``test-pairlist``) construct the exchange
    without loading markets first.
    """
    exchange_cls._load_async_markets = _offline_load_async_markets
    methods = INSTANCE_METHODS if instance_methods is None else instance_methods
    original_init = exchange_cls.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        for name, method in methods.items():
            setattr(self, name, MethodType(method, self))

    exchange_cls.__init__ = __init__
