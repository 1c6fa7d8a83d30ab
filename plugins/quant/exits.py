"""ATR exit levels and the staged exit plan (seed 003).

Hard stop, TP1 partial exit, break-even, trailing stop, TP2.

The plan, for a long entered at ``entry`` with ``atr`` the ATR known at entry:

    stop  = entry - stop_atr  x ATR      hard stop until TP1
    TP1   = entry + tp1_atr   x ATR      close ``tp1_share`` (50%) of the position
    then  stop = max(break-even, peak - trail_atr x ATR)   (break-even = entry x (1 + offset))
    TP2   = entry + tp2_atr   x ATR      close the rest

(a short mirrors every level around the entry). Percent mode (seed 003's own defaults):
``StagedExitPlan.percent`` states the same plan in fractions of the entry price - stop -5%, TP1
+2% closing 50%, then break-even and a 3% trailing stop, TP2 +5% - by taking the entry price as
the unit the multiples apply to (``atr = entry``), so both modes share every rule below. ``StagedExitPlan`` holds the levels and answers the
three questions freqtrade's hooks ask - is TP2 or TP1 due (``adjust_trade_position``), where
is the stop (``custom_stoploss``); ``step``/``run_path`` run the same rules over a
price path, so the hook logic is unit-tested on scripted paths with exact prices and amounts.

Price semantics (same as freqtrade live): a level triggers at the first observed price at or
beyond it, and fills at that observed price. The stop only ever moves in the trade's favour.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np


def atr_tp_sl(entry, atr, tp_atr: float, sl_atr: float, is_short: bool = False):
    """Take-profit and stop-loss prices ``entry +/- k x ATR`` (seed 002).

    TP = entry + tp_atr x ATR, SL = entry - sl_atr x ATR (mirrored for a short).

    Works on scalars, numpy arrays or pandas Series (element-wise).
    Returns ``(take_profit, stop_loss)``.
    """
    if not tp_atr > 0 or not sl_atr > 0:
        raise ValueError(f"tp_atr and sl_atr must be > 0, got {tp_atr!r}, {sl_atr!r}")
    side = -1.0 if is_short else 1.0
    return entry + side * tp_atr * atr, entry - side * sl_atr * atr


@dataclass(frozen=True)
class ExitEvent:
    """One exit: ``kind`` is "tp1", "tp2" or "stop"; ``amount`` in position units, at ``price``."""

    kind: str
    price: float
    amount: float


@dataclass(frozen=True)
class ExitState:
    """A trade's place in the plan: ``remaining`` amount, TP1 filled or not, best price since TP1."""

    remaining: float
    tp1_done: bool = False
    peak: float = float("nan")


@dataclass(frozen=True)
class StagedExitPlan:
    """Levels of the staged exit plan for one trade (all multiples of the ATR known at entry).

    Attributes: ``entry`` price, ``atr`` at entry, ``stop_atr`` (hard stop distance), ``tp1_atr``,
    ``tp2_atr`` (> tp1_atr), ``trail_atr`` (trailing distance after TP1), ``tp1_share`` (share of
    the position closed at TP1, in (0, 1)), ``break_even_offset`` (break-even stop = entry moved
    by this fraction in the trade's favour, e.g. 0.002 to cover two 0.1% fees), ``is_short``.
    """

    entry: float
    atr: float
    stop_atr: float = 2.0
    tp1_atr: float = 2.0
    tp2_atr: float = 4.0
    trail_atr: float = 2.0
    tp1_share: float = 0.5
    break_even_offset: float = 0.0
    is_short: bool = False
    side: float = field(init=False, repr=False)

    def __post_init__(self):
        if not (np.isfinite(self.entry) and self.entry > 0):
            raise ValueError(f"entry must be a finite price > 0, got {self.entry!r}")
        if not (np.isfinite(self.atr) and self.atr > 0):
            raise ValueError(f"atr must be finite and > 0, got {self.atr!r}")
        for name in ("stop_atr", "tp1_atr", "tp2_atr", "trail_atr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not self.tp2_atr > self.tp1_atr:
            raise ValueError(f"tp2_atr ({self.tp2_atr}) must be above tp1_atr ({self.tp1_atr})")
        if not 0 < self.tp1_share < 1:
            raise ValueError(f"tp1_share must be in (0, 1), got {self.tp1_share!r}")
        if not 0 <= self.break_even_offset < 0.1:
            raise ValueError(
                f"break_even_offset must be in [0, 0.1), got {self.break_even_offset!r}"
            )
        object.__setattr__(self, "side", -1.0 if self.is_short else 1.0)

    @classmethod
    def percent(cls, entry: float, stop_pct: float = 0.05, tp1_pct: float = 0.02,
                tp2_pct: float = 0.05, trail_pct: float = 0.03, tp1_share: float = 0.5,
                break_even_offset: float = 0.0, is_short: bool = False) -> "StagedExitPlan":
        """The plan with every distance a fraction of ``entry`` (seed 003: -5% / +2% / 3% / +5%)."""
        for name, value in (("stop_pct", stop_pct), ("tp1_pct", tp1_pct), ("tp2_pct", tp2_pct),
                            ("trail_pct", trail_pct)):
            if not 0 < value < 1:
                raise ValueError(f"{name} must be a fraction in (0, 1), got {value!r}")
        return cls(entry=entry, atr=entry, stop_atr=stop_pct, tp1_atr=tp1_pct, tp2_atr=tp2_pct,
                   trail_atr=trail_pct, tp1_share=tp1_share,
                   break_even_offset=break_even_offset, is_short=is_short)

    # --- levels ---------------------------------------------------------------------------------
    def _level(self, atr_multiple: float) -> float:
        return self.entry + self.side * atr_multiple * self.atr

    @property
    def initial_stop(self) -> float:
        return self._level(-self.stop_atr)

    @property
    def tp1(self) -> float:
        return self._level(self.tp1_atr)

    @property
    def tp2(self) -> float:
        return self._level(self.tp2_atr)

    @property
    def break_even(self) -> float:
        return self.entry * (1 + self.side * self.break_even_offset)

    @property
    def trail_distance(self) -> float:
        return self.trail_atr * self.atr

    # --- the questions the hooks ask ------------------------------------------------------------
    def _beyond(self, price: float, level: float) -> bool:
        """Price at or beyond ``level`` in the trade's favour."""
        return self.side * (price - level) >= 0

    def tp1_due(self, tp1_done: bool, price: float) -> bool:
        return not tp1_done and self._beyond(price, self.tp1)

    def tp2_due(self, price: float) -> bool:
        return self._beyond(price, self.tp2)

    def stop_price(self, tp1_done: bool, peak: float) -> float:
        """The stop: the hard stop before TP1; after it, break-even or ``peak`` minus the trail."""
        if not tp1_done:
            return self.initial_stop
        trailing = peak - self.side * self.trail_distance
        if self.is_short:
            return min(self.break_even, trailing)
        return max(self.break_even, trailing)

    def stop_hit(self, stop: float, price: float) -> bool:
        return self.side * (price - stop) <= 0

    # --- state machine --------------------------------------------------------------------------
    def start(self, amount: float) -> ExitState:
        if not amount > 0:
            raise ValueError(f"amount must be > 0, got {amount!r}")
        return ExitState(remaining=amount)

    def step(self, state: ExitState, price: float) -> tuple[ExitState, list[ExitEvent]]:
        """Apply one observed price: TP2 (all), else TP1 (partial); then move the stop and check it.

        Same order as freqtrade's hooks on one price: ``adjust_trade_position`` (TP2 / TP1) runs
        first, then ``custom_stoploss`` moves the stop and the stop is checked.
        """
        if state.remaining <= 0:
            return state, []
        if self.tp2_due(price):  # also a gap through TP1 and TP2 at once: everything goes
            return replace(state, remaining=0.0), [ExitEvent("tp2", price, state.remaining)]
        events: list[ExitEvent] = []
        if self.tp1_due(state.tp1_done, price):
            sold = state.remaining * self.tp1_share
            events.append(ExitEvent("tp1", price, sold))
            state = ExitState(remaining=state.remaining - sold, tp1_done=True, peak=price)
        elif state.tp1_done:
            better = max(state.peak, price) if not self.is_short else min(state.peak, price)
            state = replace(state, peak=better)
        if self.stop_hit(self.stop_price(state.tp1_done, state.peak), price):
            events.append(ExitEvent("stop", price, state.remaining))
            return replace(state, remaining=0.0), events
        return state, events

    def run_path(self, prices: Iterable[float], amount: float) -> tuple[ExitState, list[ExitEvent]]:
        """Run ``step`` over ``prices`` until the position is closed; returns (final state, exits)."""
        state, events = self.start(amount), []
        for price in prices:
            state, new = self.step(state, float(price))
            events.extend(new)
            if state.remaining <= 0:
                break
        return state, events
