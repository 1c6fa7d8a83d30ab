"""Candles for the pack's pairlists: "now" in live/dry-run, the backtest's start in backtests.

Freqtrade runs pairlists once when a backtest starts. A pairlist that fetched candles through the
exchange there would rank pairs on *today's* candles and leak the future into a past backtest
(freqtrade marks such pairlists NO or BIASED). The pack's scanners instead read, in historical
run modes, the bundled/downloaded candles that had CLOSED by the first candle of the backtest
(``--timerange`` start): exactly what a live bot scanning at that moment would have seen. The
choice is then fixed for the whole backtest (like StaticPairList), and the pairlists log that.

Historical run modes: backtesting, hyperopt and the utilities that replay them without an exchange
(lookahead-analysis and recursive-analysis run as UTIL_NO_EXCHANGE).
"""

import logging
from datetime import datetime

import pandas as pd

from freqtrade.configuration import TimeRange
from freqtrade.constants import Config
from freqtrade.data.history.datahandlers import get_datahandler
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds


logger = logging.getLogger(__name__)

HISTORICAL_RUNMODES = (RunMode.BACKTEST, RunMode.HYPEROPT, RunMode.UTIL_NO_EXCHANGE)


def is_historical(config: Config) -> bool:
    """True in run modes replaying the past (backtest, hyperopt, lookahead/recursive analysis)."""
    return config.get("runmode") in HISTORICAL_RUNMODES


def historical_cutoff(config: Config, owner: str) -> datetime:
    """The backtest's first candle: candles closed by then are "the past"; raises if unknown."""
    timerange = TimeRange.parse_timerange(
        None if config.get("timerange") is None else str(config["timerange"])
    )
    if timerange.startdt is None:
        raise OperationalException(
            f"{owner} in a backtest ranks pairs on the candles before the backtest starts, so it "
            "needs a --timerange with a start date (e.g. --timerange 20250301-20250501) and "
            "enough downloaded history before it (its lookback_period)."
        )
    return timerange.startdt


def fetch_candles(
    exchange, config: Config, pairs: list[str], timeframe: str, lookback_period: int
) -> dict[str, pd.DataFrame]:
    """{pair: candles} with at least the last ``lookback_period`` + 1 candles when available.

    Live-like modes: ``exchange.refresh_ohlcv_with_cache`` (freqtrade's per-candle expiring
    cache; offline mode serves the bundled data's last candles). Historical modes: candles from
    ``config["datadir"]`` that closed at or before the backtest start (``historical_cutoff``).
    Pairs without candles map to an empty frame.
    """
    candle_type = config.get("candle_type_def")
    if not is_historical(config):
        found = exchange.refresh_ohlcv_with_cache(
            [(p, timeframe, candle_type) for p in pairs], lookback_period=lookback_period
        )
        empty = pd.DataFrame(columns=["date", "open", "high", "low", "close", "volume"])
        return {p: found.get((p, timeframe, candle_type), empty) for p in pairs}

    cutoff = pd.Timestamp(historical_cutoff(config, "a pack pairlist"))
    candle_length = pd.Timedelta(seconds=timeframe_to_seconds(timeframe))
    handler = get_datahandler(config["datadir"], config.get("dataformat_ohlcv", "feather"))
    result = {}
    for pair in pairs:
        candles = handler.ohlcv_load(
            pair, timeframe, candle_type, fill_missing=False, warn_no_data=False
        )
        if not candles.empty:
            candles = candles[candles["date"] + candle_length <= cutoff]
        result[pair] = candles.tail(lookback_period + 1).reset_index(drop=True)
    return result


def lookback_parameters(default_period: int, what: str) -> dict:
    """FreqUI entries for ``lookback_timeframe`` (default 1h) and ``lookback_period``.

    Freqtrade's own ``IPairList.lookback_parameters`` advertises a 1d default and lookback_days;
    the pack's pairlists default to 1h candles (set before ``_init_lookback_config``), so the
    editor must show that. ``what``: what the candles are used for, shown in the help text.
    """
    return {
        "lookback_timeframe": {
            "type": "string",
            "default": "1h",
            "description": "Lookback timeframe",
            "help": f"Timeframe of the candles {what}.",
        },
        "lookback_period": {
            "type": "number",
            "default": default_period,
            "description": "Lookback candles",
            "help": f"Number of recent candles {what}.",
        },
    }
