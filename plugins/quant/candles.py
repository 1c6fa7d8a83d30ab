"""Aggregate candles to a longer timeframe, keeping only complete buckets.

Used to build 15m candles from 5m ones for history the exchange dump does not hold at 15m
(``ftpack-resample``). A bucket is kept only when every one of its finer candles is present: a
15m candle built from two of its three 5m candles (an exchange outage) would carry a wrong
open, high, low or close, and a strategy would read it as a real candle. ``technical``'s
``resample_to_interval`` keeps such partial buckets, hence this function.
"""

import pandas as pd


OHLCV_AGGREGATION = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def aggregate_complete(candles: pd.DataFrame, source_minutes: int, target_minutes: int) -> pd.DataFrame:
    """``candles`` (date = candle open time, UTC) aggregated to ``target_minutes`` candles.

    Buckets are aligned to UTC multiples of the target (as the exchange aligns them) and labelled
    by their open time; a bucket missing any of its ``target_minutes / source_minutes`` source
    candles is dropped. Raises ValueError when the target is not a whole multiple of the source.
    """
    if source_minutes <= 0 or target_minutes <= source_minutes or target_minutes % source_minutes:
        raise ValueError(f"target timeframe ({target_minutes} min) must be a whole multiple > 1 of the "
                         f"source ({source_minutes} min)")
    per_bucket = target_minutes // source_minutes
    frame = candles[["date", *OHLCV_AGGREGATION]].set_index("date").sort_index()
    buckets = frame.resample(f"{target_minutes}min", label="left", closed="left", origin="epoch")
    out = buckets.agg(OHLCV_AGGREGATION)
    complete = buckets["close"].count() == per_bucket
    return out[complete].reset_index()
