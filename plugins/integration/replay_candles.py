"""Bundled candles held in memory for a replay, cut at the simulated "now".

A replay asks for the same candle files thousands of times (every bot iteration, every pair, every
informative timeframe). ``ReplayCandles`` reads each file once through freqtrade's own data handler
and answers by binary search on the candles' close times, so an iteration costs a slice, not a file
read, and memory stays at one copy of each file however long the replay runs.
"""

import logging
from datetime import datetime
from pathlib import Path

import numpy as np
from freqtrade.data.history.datahandlers import get_datahandler
from freqtrade.exchange import timeframe_to_msecs
from pandas import DataFrame

logger = logging.getLogger(__name__)

_NS_PER_MS = 1_000_000


class ReplayCandles:
    """Candle files of one data folder, served as "closed by now" and "running at now"."""

    def __init__(self, datadir, dataformat: str = "feather") -> None:
        if not datadir:
            raise ValueError("ReplayCandles needs a data folder (config['datadir']).")
        self._handler = get_datahandler(Path(datadir), dataformat)
        self._frames: dict[tuple, tuple[DataFrame, np.ndarray, np.ndarray]] = {}

    def _entry(self, pair: str, timeframe: str, candle_type) -> tuple[DataFrame, np.ndarray, np.ndarray]:
        """(candles, open times in ms, close times in ms) of one file, read on first use."""
        key = (pair, timeframe, str(candle_type))
        if key not in self._frames:
            candles = self._handler.ohlcv_load(
                pair, timeframe, candle_type, fill_missing=False, warn_no_data=False
            )
            opens = (
                candles["date"].to_numpy(dtype="datetime64[ns]").astype(np.int64) // _NS_PER_MS
                if not candles.empty
                else np.empty(0, dtype=np.int64)
            )
            self._frames[key] = (candles, opens, opens + timeframe_to_msecs(timeframe))
        return self._frames[key]

    def all(self, pair: str, timeframe: str, candle_type) -> DataFrame:
        """Every candle of the file (empty when there is none)."""
        return self._entry(pair, timeframe, candle_type)[0]

    def closed(self, pair: str, timeframe: str, candle_type, now_ms: int, count: int,
               align_ms: int | None = None) -> DataFrame:
        """The last ``count`` candles whose close time is at or before ``now_ms``.

        With ``align_ms`` the slice is extended back so that its first candle *closes* at a
        multiple of ``align_ms`` (a 1h frame starts with a 23:00 candle for a UTC day): a few more
        candles, never fewer.
        """
        candles, _, closes = self._entry(pair, timeframe, candle_type)
        end = int(np.searchsorted(closes, now_ms, side="right"))
        first = max(0, end - count)
        if align_ms and first < end:
            boundary = closes[first] - closes[first] % align_ms
            first = int(np.searchsorted(closes, boundary, side="left"))
        return candles.iloc[first:end].reset_index(drop=True)

    def closed_since(self, pair: str, timeframe: str, candle_type, since_ms: int,
                     now_ms: int) -> DataFrame:
        """The candles opened at or after ``since_ms`` and closed at or before ``now_ms``."""
        candles, opens, closes = self._entry(pair, timeframe, candle_type)
        first = int(np.searchsorted(opens, since_ms, side="left"))
        end = int(np.searchsorted(closes, now_ms, side="right"))
        return candles.iloc[first:max(first, end)].reset_index(drop=True)

    def running_open(self, pair: str, timeframe: str, candle_type, now_ms: int) -> float | None:
        """Open price of the candle that contains ``now_ms`` (None when the file has no such candle)."""
        candles, opens, closes = self._entry(pair, timeframe, candle_type)
        index = int(np.searchsorted(opens, now_ms, side="right")) - 1
        if index < 0 or closes[index] <= now_ms:
            return None
        return float(candles["open"].iat[index])

    def span(self, pair: str, timeframe: str, candle_type) -> tuple[datetime, datetime] | None:
        """(first candle open, last candle close) of the file, or None when it is empty."""
        candles, _, closes = self._entry(pair, timeframe, candle_type)
        if candles.empty:
            return None
        first = candles["date"].iat[0].to_pydatetime()
        return first, datetime.fromtimestamp(closes[-1] / 1000, tz=first.tzinfo)

    def files_loaded(self) -> int:
        return len(self._frames)
