"""Grid/DCA ladder state kept in the trade itself (freqtrade trade custom data).

The ladder of an open trade is stored under one custom-data key, ``"ladder"``, as a JSON object:
the ladder's fields (``GridLadder.to_dict()`` / ``DcaLadder.to_dict()``, tagged with ``"kind"``)
plus read-only headline numbers (``next_buy``, ``next_sell``, ``avg_entry``). Freqtrade persists
custom data in its trades database, so a restarted ``freqtrade trade`` resumes the same ladder, and
FreqUI shows it in the trade's detail view (and ``/api/v1/trades`` returns it).

``LadderStore`` adds a per-strategy write-through cache: freqtrade's in-memory custom-data store
(used in backtesting) is a list scanned and JSON-decoded on every read, which would make a
candle-by-candle ``adjust_trade_position`` quadratic in the number of trades. Reads hit the cache;
the custom data is read only on a cache miss (e.g. after a restart) and written on every change.
"""

from typing import Any

from freqtrade.strategy import stoploss_from_absolute

from plugins.quant.ladders import DcaLadder, GridLadder


LADDER_KEY = "ladder"
_KINDS = {"grid": GridLadder, "dca": DcaLadder}
_SUMMARY_KEYS = ("next_buy", "next_sell", "avg_entry")


def ladder_from_dict(data: dict[str, Any]) -> GridLadder | DcaLadder:
    """Rebuild a ladder from its stored dict; ValueError when the dict is not a known ladder."""
    if not isinstance(data, dict) or data.get("kind") not in _KINDS:
        raise ValueError(f"not a stored ladder (expected a dict with kind in {sorted(_KINDS)}): {data!r}")
    return _KINDS[data["kind"]].from_dict({k: v for k, v in data.items() if k not in _SUMMARY_KEYS})


def ladder_to_dict(ladder: GridLadder | DcaLadder) -> dict[str, Any]:
    """The ladder's fields plus its headline numbers (next buy / next sell / average entry)."""
    if isinstance(ladder, GridLadder):
        extra = {"next_buy": ladder.buy_price, "next_sell": ladder.sell_price, "avg_entry": None}
    else:
        extra = {"next_buy": ladder.next_trigger, "next_sell": ladder.take_profit,
                 "avg_entry": ladder.avg_entry}
    return {**ladder.to_dict(), **extra}


def save_ladder(trade, ladder: GridLadder | DcaLadder) -> None:
    """Store ``ladder`` in ``trade``'s custom data."""
    trade.set_custom_data(LADDER_KEY, ladder_to_dict(ladder))


def load_ladder(trade) -> GridLadder | DcaLadder | None:
    """The ladder stored in ``trade``'s custom data, or None when the trade has none yet."""
    data = trade.get_custom_data(LADDER_KEY)
    return None if data is None else ladder_from_dict(data)


class LadderStore:
    """Write-through cache of ladders (by trade id) in front of the trades' custom data.

    Freqtrade hands strategy callbacks a deep copy of the trade, so the cache cannot key on the
    trade object. Trade ids restart with every backtest / hyperopt epoch, so the strategy calls
    ``on_loop(current_time)`` from ``bot_loop_start``: a loop time that does not move forward
    means a new backtest started, and the cache is emptied (live, time only moves forward).
    """

    def __init__(self):
        self._cache: dict[int, GridLadder | DcaLadder] = {}
        self._last_loop = None

    def on_loop(self, current_time) -> None:
        if self._last_loop is not None and current_time <= self._last_loop:
            self._cache.clear()
        self._last_loop = current_time

    def get(self, trade) -> GridLadder | DcaLadder | None:
        ladder = self._cache.get(trade.id)
        if ladder is None:
            ladder = load_ladder(trade)
            if ladder is not None:
                self._cache[trade.id] = ladder
        return ladder

    def put(self, trade, ladder: GridLadder | DcaLadder) -> None:
        save_ladder(trade, ladder)
        self._cache[trade.id] = ladder

    def forget(self, trade) -> None:
        """Drop a closed trade from the cache (its custom data stays with the trade)."""
        self._cache.pop(trade.id, None)


# --- glue between ladders and freqtrade callbacks -------------------------------------------------


def order_tag(kind: str, side: str, index: int | None = None) -> str:
    """Order tag naming the ladder step an order belongs to, e.g. ``grid:buy:3``, ``dca:sell``."""
    return f"{kind}:{side}" if index is None else f"{kind}:{side}:{index}"


def parse_order_tag(tag: str | None, kind: str) -> tuple[str, int | None] | None:
    """``(side, index)`` from a tag made by ``order_tag`` for ``kind``; None for any other tag."""
    parts = (tag or "").split(":")
    if len(parts) not in (2, 3) or parts[0] != kind:
        return None
    try:
        return parts[1], (int(parts[2]) if len(parts) == 3 else None)
    except ValueError:
        return None


def exit_stake(trade, amount: float) -> float:
    """Negative stake for ``adjust_trade_position`` that sells ``amount`` base units of ``trade``.

    Freqtrade turns a negative stake into ``|stake| * trade.amount / trade.stake_amount`` units; an
    amount at or above the position sells all of it (and closes the trade).
    """
    if amount >= trade.amount or trade.amount <= 0:
        return -float(trade.stake_amount)
    return -float(amount * trade.stake_amount / trade.amount)


class ClosedCandle:
    """Read access to the last row of an analysed dataframe, one column at a time.

    ``df.iloc[-1]`` builds a Series across every column (an object-dtype copy of a wide, mixed
    frame) on each call; the ladder and trend hooks call this once per open trade per candle and
    read two or three columns, so reading just those columns is what they need.
    """

    __slots__ = ("_frame",)

    def __init__(self, frame):
        self._frame = frame

    def __getitem__(self, column: str):
        return self._frame[column].iat[-1]

    def get(self, column: str, default=None):
        return self._frame[column].iat[-1] if column in self._frame.columns else default


def last_closed_candle(dp, pair: str, timeframe: str) -> ClosedCandle | None:
    """The last closed analysed candle of ``pair``, or None when there is none yet.

    In backtesting freqtrade slices the analysed dataframe to the current time, so this never
    looks ahead; live it is the last complete candle.
    """
    if dp is None:
        return None
    df, _ = dp.get_analyzed_dataframe(pair, timeframe)
    if df is None or df.empty:
        return None
    return ClosedCandle(df)


def ladder_stoploss(trade, stop_price: float, current_rate: float, after_fill: bool) -> float | None:
    """``custom_stoploss`` value that puts the stop at the absolute ``stop_price``.

    Freqtrade stores the stop as a ratio. After a fill it applies our ratio at the fill price
    (``current_rate``, allowed to move down) and, when it recalculates the trade from its orders,
    again at the new average ``open_rate`` (only upwards). Taking the ratio against the larger of
    the two makes the stop land exactly on ``stop_price`` whichever is applied last; on ordinary
    candles the ratio is against ``current_rate`` as usual. None when there is no valid stop.
    """
    if not stop_price or stop_price <= 0:
        return None
    reference = max(current_rate, trade.open_rate or 0.0) if after_fill else current_rate
    return stoploss_from_absolute(stop_price, reference)
