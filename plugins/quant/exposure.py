"""Exposure and execution-quality limits for a new entry (pure functions).

Exposure is stake in open positions as a fraction of equity (the bot's total stake capital);
a new entry may neither push the total above ``max_total`` nor one pair's position above
``max_position``. Execution quality compares the fill rate with the signal candle's close
(slippage) and the ticker's ask with its bid (spread).
"""

import math


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1:
        raise ValueError(f"{name} must be a fraction in (0, 1], got {value!r}")


def validate_limits(max_total: float, max_position: float, max_slippage: float,
                    max_spread: float) -> None:
    """Raise ValueError naming the first limit that is not a fraction in (0, 1]."""
    for name, value in (("max_total_exposure", max_total), ("max_position", max_position),
                        ("max_slippage", max_slippage), ("max_spread", max_spread)):
        _check_fraction(name, value)
    if max_position > max_total:
        raise ValueError(f"max_position ({max_position}) cannot exceed max_total_exposure "
                         f"({max_total})")


def stake_room(equity: float, open_total: float, open_in_pair: float, max_total: float,
               max_position: float) -> float:
    """The largest stake a new entry may use under both caps (0 when there is no room)."""
    if equity <= 0:
        return 0.0
    return max(0.0, min(max_total * equity - open_total, max_position * equity - open_in_pair))


def slippage(signal_price: float, fill_rate: float) -> float:
    """How far the fill is from the signal price, as a fraction of the signal price."""
    if signal_price <= 0 or not math.isfinite(signal_price):
        raise ValueError(f"signal price must be > 0, got {signal_price}")
    return abs(fill_rate / signal_price - 1.0)


def spread(bid: float, ask: float) -> float:
    """Ask over bid as a fraction of the mid price."""
    if bid <= 0 or ask < bid:
        raise ValueError(f"bid/ask must satisfy 0 < bid <= ask, got {bid}/{ask}")
    return (ask - bid) / ((ask + bid) / 2)


def entry_refusal(stake: float, room: float, slip: float | None, spread_now: float | None,
                  max_slippage: float, max_spread: float) -> str | None:
    """Why an entry of ``stake`` must be refused, or None. ``slip``/``spread_now`` None = unknown.

    A stake up to 0.1 % above the room passes: exchanges round amounts to their precision.
    """
    if stake > room * 1.001:
        return f"stake {stake:.2f} exceeds the exposure room {room:.2f}"
    if slip is not None and slip > max_slippage:
        return f"fill {slip:.2%} away from the signal price (max {max_slippage:.2%})"
    if spread_now is not None and spread_now > max_spread:
        return f"spread {spread_now:.2%} above {max_spread:.2%}"
    return None
