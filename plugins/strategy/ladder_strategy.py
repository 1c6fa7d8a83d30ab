"""Freqtrade callback plumbing shared by the ladder strategies (GridTrader, DcaTrader).

``LadderStrategyMixin`` goes before ``IStrategy`` in a strategy's bases. It owns the trade's ladder
(``self.ladders``, a ``plugins.strategy.ladder_state.LadderStore``) and implements the hooks whose logic is
the same for every ladder:

* ``bot_loop_start``: tells the store when a new backtest / hyperopt epoch starts;
* ``order_filled``: starts the ladder on the initial fill (``start_ladder``), applies a fill tagged
  ``<kind>:buy[:i]`` / ``<kind>:sell[:i]`` (``apply_fill``) and forgets the ladder when the trade
  closes;
* ``custom_stoploss``: keeps the stop exactly on the ladder's absolute ``stop_price``;
* ``check_entry_timeout`` / ``check_exit_timeout``: a resting ladder order stays while it is still an
  order the ladder wants at the last close (same side, same price: ``resting_orders``); it is
  cancelled only when the ladder moved on or wants another order first. ``unfilledtimeout`` is a week (``plugins.strategy.order_timeouts``), so freqtrade's own timeout does not
  cancel and re-place the same order on every candle (that churn cost the grid 17x SampleStrategy's
  backtest time, because freqtrade deep-copies a trade with all its orders on each callback);
* ``within_budget``: no ladder buy takes the position's value past ``max_ladder_share`` of equity,
  whatever the ladder's own state says.

A strategy sets ``ladder_kind``, implements ``resting_orders(ladder, pair)`` (the ``(side, price)`` orders
the ladder may keep resting) and ``start_ladder(trade, price, amount)`` and
``apply_fill(ladder, side, index, order, trade)``; both return the new ladder (or None to keep it).
"""

import logging
import math

from freqtrade.exchange import timeframe_to_minutes
from freqtrade.strategy import DecimalParameter

from plugins.strategy.order_timeouts import LADDER_ORDER_TIMEOUT, order_age_minutes
from plugins.strategy.ladder_state import LadderStore, ladder_stoploss, parse_order_tag
from plugins.strategy.strategy_params import OwnParametersMixin


logger = logging.getLogger(__name__)


# Ladder lines are at least a fraction of an ATR apart; 0.1% absorbs tick rounding of the order price.
PRICE_TOLERANCE = 1e-3


class LadderStrategyMixin(OwnParametersMixin):
    ladder_kind: str = ""
    unfilledtimeout = LADDER_ORDER_TIMEOUT

    max_ladder_share = DecimalParameter(0.05, 0.5, default=0.2, decimals=2, space="buy", optimize=False)

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.ladders = LadderStore()

    def start_ladder(self, trade, price: float, amount: float):
        raise NotImplementedError

    def apply_fill(self, ladder, side: str, index: int | None, order, trade):
        raise NotImplementedError

    def resting_orders(self, ladder, pair: str) -> list[tuple[str, float | None]]:
        """``(side, price)`` of every order the ladder of a ``pair`` trade may keep resting now."""
        raise NotImplementedError

    def within_budget(self, trade, stake: float, rate: float) -> bool:
        """True when buying ``stake`` more keeps the position's value within the ladder cap."""
        equity = float(self.wallets.get_total_stake_amount()) if self.wallets else math.inf
        cap = float(self.max_ladder_share.value) * equity
        return trade.amount * rate + stake <= cap * (1 + 1e-9)

    def _order_is_stale(self, trade, order, current_time) -> bool:
        """Cancel a resting order only when the ladder no longer wants it (see module docstring)."""
        step = parse_order_tag(order.ft_order_tag, self.ladder_kind)
        ladder = self.ladders.get(trade)
        if ladder is None or step is None or step[0] not in ("buy", "sell"):
            # Initial entry, re-centre rebalance or a stop: one candle, as any ordinary order.
            return order_age_minutes(order, current_time) >= timeframe_to_minutes(self.timeframe)
        return not any(
            side == step[0] and price and abs(order.safe_price / price - 1) <= PRICE_TOLERANCE
            for side, price in self.resting_orders(ladder, trade.pair)
        )

    def check_entry_timeout(self, pair, trade, order, current_time, **kwargs) -> bool:
        return self._order_is_stale(trade, order, current_time)

    def check_exit_timeout(self, pair, trade, order, current_time, **kwargs) -> bool:
        return self._order_is_stale(trade, order, current_time)

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
                new = self.apply_fill(ladder, step[0], step[1], order, trade)
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
