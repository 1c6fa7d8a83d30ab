"""Freqtrade-hook wiring of the ATR blocks: ``AtrSizingMixin`` (stake), ``StagedExitsMixin`` (exits).

Use them in front of ``IStrategy`` and provide an ATR column (default name ``"atr"``) on the
strategy timeframe::

    class MyStrategy(StagedExitsMixin, IStrategy):      # StagedExitsMixin includes the sizing
        def populate_indicators(self, dataframe, metadata):
            dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
            ...

What the hooks do (all levels from ``plugins.quant.exits.StagedExitPlan`` / ``plugins.quant.sizing``):

- ``custom_stake_amount``: stake = equity x ``sizing_risk`` / (``exit_stop_atr`` x ATR) x price,
  capped at ``sizing_max_share`` x equity and freqtrade's min/max stake (seed 004).
- ``custom_stoploss``: the hard stop ``entry - exit_stop_atr x ATR``; once TP1 filled, break-even
  then a trailing stop ``exit_trail_atr x ATR`` below the best price. Freqtrade only ever raises a
  long's stop, so returning ``max(break-even, current_rate - trail)`` on every call *is* the trailing
  stop from the peak (in backtesting ``current_rate`` is the candle high).
- ``adjust_trade_position``: at TP1 (``entry + exit_tp1_atr x ATR``) a partial exit of
  ``exit_tp1_share`` of the stake, tagged ``"tp1"``; at TP2 (``entry + (exit_tp1_atr +
  exit_tp2_extra_atr) x ATR``) an exit of the rest, tagged ``"tp2"``; ``"break_even"`` (the rest)
  if, after TP1, the price is already back below break-even (live: freqtrade ignores a stop above
  the price). It never adds to a position. ``custom_exit`` is left free for the strategy.

Percent mode (``exit_mode = "percent"``, seed 003): the same plan with distances as fractions of
the entry price - ``exit_stop_pct`` (5%), ``exit_tp1_pct`` (2%), ``exit_trail_pct`` (3%),
``exit_tp2_pct`` (5%) - and the sizing stop at ``exit_stop_pct`` below the price. ``"atr"`` stays
the default; the percent parameters are not searched unless a strategy redeclares them.

Stop only (``take_profits = False`` on the strategy class, or a ``BooleanParameter`` named
``take_profits`` so a parameter file or hyperopt can switch the plan back on, as SignalVote does):
the plan keeps its hard stop and nothing else - no TP1/TP2, no break-even or trailing stop - and
the strategy's exit signal closes the trade. For trend followers, whose winners a take-profit cuts
short (EmaBbTrend, see its docstring); such a strategy can turn ``position_adjustment_enable`` off
when it has no position cap either, as nothing else in the plan adjusts a position. The ATR take-profit levels (``TAKE_PROFIT_LEVELS``) follow the switch in
hyperopt: a class that inherits them searches them only while its ``take_profits`` is True (so a
subclass of a stop-only strategy that turns the plan back on searches them again); a class that
redeclares one keeps its own declaration.

Position cap (``position_max_share`` > 0, off by default): a held position worth more than that
share of equity (freqtrade's stake capital: free balance + open stakes at cost) is trimmed back to
it through ``adjust_trade_position``, tag ``"position_cap"`` (``plugins.quant.sizing.
position_trim_share``, 5 % tolerance). Without take-profits a winner can grow to dominate the
wallet and hand a large part of it back in one crash; the cap sells the growth above the share.

The ATR of a trade is the ATR of the last candle closed before it opened, stored once on the trade
(``trade.set_custom_data("entry_atr", ...)``), so restarts and backtests see the same plan. In
backtesting, TP1/TP2 are checked at the candle open (the rate freqtrade passes that hook); the
stop is checked against the candle's range.

Hyperopt parameters are declared here once; each strategy class gets its own copies (see
``plugins.strategy.strategy_params``), and a strategy may redeclare any of them to change its range or default.
"""

import math
from datetime import datetime

import pandas as pd

from freqtrade.exchange import timeframe_to_prev_date
from freqtrade.persistence import Trade
from freqtrade.strategy import CategoricalParameter, DecimalParameter, stoploss_from_absolute
from freqtrade.strategy.parameters import BaseParameter

from plugins.quant.exits import StagedExitPlan
from plugins.quant.sizing import atr_risk_stake, position_trim_share
from plugins.strategy.strategy_params import OwnParametersMixin


TP1_TAG = "tp1"
TP2_TAG = "tp2"
BREAK_EVEN_TAG = "break_even"
POSITION_CAP_TAG = "position_cap"
ENTRY_ATR_KEY = "entry_atr"
EXIT_MODES = ["atr", "percent"]
# The ATR plan's parameters that only matter with take-profits on (searched only then).
TAKE_PROFIT_LEVELS = ("exit_tp1_atr", "exit_tp2_extra_atr", "exit_trail_atr")


class AtrSizingMixin(OwnParametersMixin):
    """``custom_stake_amount``: risk ``sizing_risk`` of equity on a stop ``exit_stop_atr`` ATRs away."""

    atr_column = "atr"

    exit_stop_atr = DecimalParameter(1.0, 3.5, default=2.0, decimals=1, space="sell")
    sizing_risk = DecimalParameter(0.005, 0.03, default=0.01, decimals=3, space="sizing")
    sizing_max_share = DecimalParameter(0.1, 0.5, default=0.2, decimals=2, space="sizing")

    def last_candle_value(self, pair: str, column: str) -> float:
        """``column`` on the last closed candle of ``pair`` (NaN when there is none)."""
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if dataframe.empty or column not in dataframe:
            return float("nan")
        return float(dataframe[column].iat[-1])

    def sizing_stop(self, pair: str, current_rate: float) -> dict[str, float]:
        """The stop distance the stake is sized on, as ``atr`` x ``atr_multiple``."""
        return {"atr": self.last_candle_value(pair, self.atr_column),
                "atr_multiple": float(self.exit_stop_atr.value)}

    def custom_stake_amount(
        self, pair: str, current_time: datetime, current_rate: float, proposed_stake: float,
        min_stake: float | None, max_stake: float, leverage: float, entry_tag: str | None,
        side: str, **kwargs,
    ) -> float:
        # Never above freqtrade's own proposal (a fixed stake_amount, or with "unlimited" the free
        # balance split over the free slots), as TrendRider and the ladders size: otherwise the
        # first trades take a share of equity each and a later signal is refused for lack of funds,
        # so whether a trade happens depends on what the other open positions took.
        return atr_risk_stake(
            equity=self.wallets.get_total_stake_amount(),
            risk_fraction=float(self.sizing_risk.value),
            entry_price=current_rate,
            **self.sizing_stop(pair, current_rate),
            max_share=float(self.sizing_max_share.value),
            min_stake=min_stake,
            max_stake=min(max_stake, proposed_stake),
        )


class StagedExitsMixin(AtrSizingMixin):
    """Hard ATR stop -> TP1 partial exit -> break-even -> trailing stop -> TP2 (plus ATR sizing)."""

    position_adjustment_enable = True
    use_custom_stoploss = True
    # False: the hard stop only (the module docstring's "Stop only"); may be a BooleanParameter.
    take_profits = True

    def __init_subclass__(cls, **kwargs):
        declared = {name for name in TAKE_PROFIT_LEVELS if name in cls.__dict__}
        super().__init_subclass__(**kwargs)  # OwnParametersMixin: the inherited ones become copies
        switch = cls.take_profits
        # A searchable switch can turn the plan on in hyperopt, so the levels stay searchable.
        may_take_profits = (switch.optimize or switch.value) if isinstance(switch, BaseParameter) \
            else switch
        for name in TAKE_PROFIT_LEVELS:
            if name not in declared:
                getattr(cls, name).optimize = bool(
                    may_take_profits and getattr(StagedExitsMixin, name).optimize)

    exit_tp1_atr = DecimalParameter(1.0, 4.0, default=2.0, decimals=1, space="sell")
    exit_tp2_extra_atr = DecimalParameter(1.0, 6.0, default=3.0, decimals=1, space="sell")
    exit_trail_atr = DecimalParameter(1.0, 4.0, default=2.5, decimals=1, space="sell")
    exit_tp1_share = DecimalParameter(
        0.3, 0.7, default=0.5, decimals=2, space="sell", optimize=False
    )
    exit_break_even_offset = DecimalParameter(
        0.0, 0.01, default=0.002, decimals=3, space="sell", optimize=False
    )
    # Percent mode (seed 003's defaults); not searched here, a strategy may redeclare them.
    exit_mode = CategoricalParameter(EXIT_MODES, default="atr", space="sell", optimize=False)
    exit_stop_pct = DecimalParameter(0.02, 0.10, default=0.05, decimals=3, space="sell",
                                     optimize=False)
    exit_tp1_pct = DecimalParameter(0.01, 0.05, default=0.02, decimals=3, space="sell",
                                    optimize=False)
    exit_tp2_pct = DecimalParameter(0.03, 0.15, default=0.05, decimals=3, space="sell",
                                    optimize=False)
    exit_trail_pct = DecimalParameter(0.01, 0.06, default=0.03, decimals=3, space="sell",
                                      optimize=False)

    # 0: off (the module docstring's "Position cap").
    position_max_share = DecimalParameter(0.0, 0.5, default=0.0, decimals=2, space="sizing",
                                          optimize=False)

    def percent_mode(self) -> bool:
        return self.exit_mode.value == "percent"

    def takes_profits(self) -> bool:
        """The ``take_profits`` switch: a class constant, or a parameter's current value."""
        switch = self.take_profits
        return bool(switch.value if isinstance(switch, BaseParameter) else switch)

    def sizing_stop(self, pair: str, current_rate: float) -> dict[str, float]:
        if self.percent_mode():
            return {"atr": current_rate, "atr_multiple": float(self.exit_stop_pct.value)}
        return super().sizing_stop(pair, current_rate)

    # --- plan ----------------------------------------------------------------------------------
    def entry_atr(self, trade: Trade) -> float | None:
        """ATR of the last candle closed before the trade opened (stored on the trade once)."""
        stored = trade.get_custom_data(ENTRY_ATR_KEY)
        if stored is not None:
            return float(stored)
        dataframe, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        if dataframe.empty or self.atr_column not in dataframe:
            return None
        # The candle that produced the entry signal opened one timeframe before the trade.
        signal_candle = pd.Timestamp(timeframe_to_prev_date(self.timeframe, trade.open_date_utc))
        position = int(dataframe["date"].searchsorted(signal_candle, side="left")) - 1
        if position < 0:
            return None
        atr = float(dataframe[self.atr_column].iat[position])
        if not (math.isfinite(atr) and atr > 0):
            return None
        trade.set_custom_data(ENTRY_ATR_KEY, atr)
        return atr

    def exit_plan(self, trade: Trade) -> StagedExitPlan | None:
        """The trade's ``StagedExitPlan`` from the current parameters (None without a usable ATR)."""
        if self.percent_mode():
            return StagedExitPlan.percent(
                entry=trade.open_rate,
                stop_pct=float(self.exit_stop_pct.value),
                tp1_pct=float(self.exit_tp1_pct.value),
                tp2_pct=float(self.exit_tp2_pct.value),
                trail_pct=float(self.exit_trail_pct.value),
                tp1_share=float(self.exit_tp1_share.value),
                break_even_offset=float(self.exit_break_even_offset.value),
                is_short=trade.is_short,
            )
        atr = self.entry_atr(trade)
        if atr is None:
            return None
        tp1 = float(self.exit_tp1_atr.value)
        return StagedExitPlan(
            entry=trade.open_rate,
            atr=atr,
            stop_atr=float(self.exit_stop_atr.value),
            tp1_atr=tp1,
            tp2_atr=tp1 + float(self.exit_tp2_extra_atr.value),
            trail_atr=float(self.exit_trail_atr.value),
            tp1_share=float(self.exit_tp1_share.value),
            break_even_offset=float(self.exit_break_even_offset.value),
            is_short=trade.is_short,
        )

    @staticmethod
    def tp1_done(trade: Trade) -> bool:
        """True once a partial exit tagged ``"tp1"`` has filled."""
        return any(o.ft_order_tag == TP1_TAG for o in trade.select_filled_orders(trade.exit_side))

    # --- freqtrade hooks -----------------------------------------------------------------------
    def custom_stoploss(
        self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
        current_profit: float, after_fill: bool, **kwargs,
    ) -> float | None:
        plan = self.exit_plan(trade)
        if plan is None:
            return None
        stop = plan.stop_price(self.takes_profits() and self.tp1_done(trade), peak=current_rate)
        return stoploss_from_absolute(stop, current_rate, is_short=trade.is_short)

    def adjust_trade_position(
        self, trade: Trade, current_time: datetime, current_rate: float, current_profit: float,
        min_stake: float | None, max_stake: float, current_entry_rate: float,
        current_exit_rate: float, current_entry_profit: float, current_exit_profit: float,
        **kwargs,
    ) -> float | tuple[float | None, str | None] | None:
        """The position cap's trim, else TP2 (everything), else TP1 (``exit_tp1_share`` of the
        stake), else the break-even guard.

        All plan-driven exits go through this one hook: freqtrade deep-copies the trade for every
        strategy hook it calls, so one hook instead of ``custom_exit`` too keeps backtests fast.
        Returning ``-trade.stake_amount`` closes the whole position (freqtrade's documented way);
        a part of it sells that part of the amount.
        """
        if trade.has_open_orders:
            return None
        trim = self.position_trim(trade, current_exit_rate)
        if trim is not None:
            return trim
        if not self.takes_profits():
            return None
        plan = self.exit_plan(trade)
        if plan is None:
            return None
        if plan.tp2_due(current_exit_rate):
            return -trade.stake_amount, TP2_TAG
        tp1_done = self.tp1_done(trade)
        if plan.tp1_due(tp1_done, current_exit_rate):
            return -(trade.stake_amount * plan.tp1_share), TP1_TAG
        if tp1_done and plan.stop_hit(plan.break_even, current_exit_rate):
            return -trade.stake_amount, BREAK_EVEN_TAG
        return None

    def position_trim(self, trade: Trade, rate: float) -> tuple[float, str] | None:
        """The partial exit that brings a position above ``position_max_share`` back to it."""
        cap = float(self.position_max_share.value)
        if cap <= 0:
            return None
        share = position_trim_share(trade.amount * rate, self.wallets.get_total_stake_amount(), cap)
        if share <= 0:
            return None
        return -trade.stake_amount * share, POSITION_CAP_TAG
