"""Freqtrade callback plumbing shared by the ladder strategies (GridTrader, DcaTrader).

``LadderStrategyMixin`` goes before ``IStrategy`` in a strategy's bases. It owns the trade's ladder
(``self.ladders``, a ``plugins.strategy.ladder_state.LadderStore``) and implements the hooks whose logic is
the same for every ladder:

* ``bot_loop_start``: tells the store when a new backtest / hyperopt epoch starts;
* ``order_filled``: starts the ladder on the initial fill (``start_ladder``), applies a fill tagged
  ``<kind>:buy[:i]`` / ``<kind>:sell[:i]`` (``apply_fill``) and forgets the ladder when the trade
  closes;
* ``custom_stoploss``: keeps the stop exactly on the ladder's absolute ``stop_price``.

A strategy sets ``ladder_kind`` and implements ``start_ladder(trade, price, amount)`` and
``apply_fill(ladder, side, index, order)``; both return the new ladder (or None to keep it).
"""

import logging

from plugins.strategy.ladder_state import LadderStore, ladder_stoploss, parse_order_tag


logger = logging.getLogger(__name__)


class LadderStrategyMixin:
    ladder_kind: str = ""

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.ladders = LadderStore()

    def start_ladder(self, trade, price: float, amount: float):
        raise NotImplementedError

    def apply_fill(self, ladder, side: str, index: int | None, order):
        raise NotImplementedError

    def open_ladder(self, trade):
        """The trade's ladder when the next ladder order may be placed, else None.

        Freqtrade calls ``adjust_trade_position`` also while an order is open; it keeps one open
        order per trade, so the ladder waits until that order filled or was cancelled.
        """
        return None if trade.has_open_orders else self.ladders.get(trade)

    def in_reach(self, price: float, current_rate: float) -> bool:
        """True when a ladder order at ``price`` may be placed now.

        Live, freqtrade moves a custom order price that is further than
        ``custom_price_max_distance_ratio`` (default 2%) from the market to that distance, which
        would buy above a DCA trigger / sell below a grid line. A ladder order is therefore placed
        only when its price is within that distance; backtests apply the same rule, so they do not
        fill orders that live trading would not have placed.
        """
        ratio = float(self.config.get("custom_price_max_distance_ratio", 0.02))
        return abs(price / current_rate - 1) <= ratio + 1e-9  # the bound itself is allowed

    def bot_loop_start(self, current_time, **kwargs) -> None:
        self.ladders.on_loop(current_time)

    def order_filled(self, pair, trade, order, current_time, **kwargs) -> None:
        ladder = self.ladders.get(trade)
        is_entry = order.ft_order_side == trade.entry_side
        if ladder is None:
            if is_entry and (ladder := self.start_ladder(trade, order.safe_price, order.safe_filled)):
                self.ladders.put(trade, ladder)
            return
        step = parse_order_tag(order.ft_order_tag, self.ladder_kind)
        if step is not None:
            try:
                new = self.apply_fill(ladder, step[0], step[1], order)
            except ValueError as err:
                logger.warning("%s: %s fill not applied to the ladder: %s", pair, self.ladder_kind, err)
                new = None
            if new is not None:
                self.ladders.put(trade, new)  # saved also when it closes the trade (final state)
        if not is_entry and (step is None or order.safe_filled >= trade.amount):
            self.ladders.forget(trade)  # stop, forced exit or the ladder's last sell: trade closes

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, after_fill,
                        **kwargs):
        ladder = self.ladders.get(trade)
        if ladder is None:
            return None
        return ladder_stoploss(trade, ladder.stop_price, current_rate, after_fill)
