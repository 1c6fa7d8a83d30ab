"""Unfilled-order timeouts of the pack's strategies (freqtrade's ``unfilledtimeout`` setting).

The committed config.json sets none, so each strategy's own value applies (a user's config that
sets ``unfilledtimeout`` still overrides every strategy, as in stock freqtrade).

- ``SIGNAL_ORDER_TIMEOUT``: entries and exits on a signal wait 10 minutes, then are cancelled.
- ``LADDER_ORDER_TIMEOUT``: a grid / DCA ladder order rests for up to a week; the ladder strategies'
  ``check_entry_timeout`` / ``check_exit_timeout`` cancel it as soon as the ladder wants another
  order (``plugins.strategy.ladder_strategy``), so the same order is not cancelled and re-placed on
  every candle.
"""

SIGNAL_ORDER_TIMEOUT = {"entry": 10, "exit": 10, "exit_timeout_count": 0, "unit": "minutes"}
LADDER_ORDER_TIMEOUT = {"entry": 7 * 24 * 60, "exit": 7 * 24 * 60, "exit_timeout_count": 0, "unit": "minutes"}



def order_age_minutes(order, current_time) -> float:
    """Minutes since ``order`` was placed."""
    return (current_time - order.order_date_utc).total_seconds() / 60
