"""Grid and DCA ladder math (seed 002 §6.1, §6.2, §7.3), shared by GridTrader and DcaLadder.

Everything here is pure: no freqtrade objects, no I/O. The strategies turn freqtrade callbacks
(``order_filled``, ``adjust_trade_position``, ``custom_entry_price``...) into calls of these
functions, and ``plugins.strategy.ladder_state`` stores the resulting ladder in the trade's custom data.

Two kinds of functions:

* Templates (``atr_grid_template``, ``atr_dca_template``): vectorised over numpy arrays / pandas
  Series, causal (a value at candle t uses only that candle's price and ATR), so strategies can
  compute them as dataframe columns for ``plot_config``; invalid inputs (NaN / non-positive ATR,
  a lower bound <= 0) give NaN instead of raising, so short or flat history simply does not trade.
* Ladders (``GridLadder``, ``DcaLadder``): immutable state of one open trade's ladder with
  transition methods returning a new ladder (``after_buy``, ``after_sell``). A ladder moves only on
  fills; it does not simulate prices itself (the tests drive it with scripted price paths).

Grid model (spot, long only): ``n`` price lines; the line of the last fill is "empty"; every line
below it holds a resting buy, every line above it a resting sell of one lot bought one line lower.
A filled buy at line i therefore gets its rebalancing sell at line i+1 (profit per grid =
lot * (L[i+1] - L[i]) minus fees) and a filled sell at line i re-arms a buy at line i-1. Inventory
is always ``(n - 1 - empty) * lot``, so the state is just the empty line's index.

DCA model: an initial buy, then a further buy each time price trades ``trigger_pct`` below the
LAST buy (up to ``max_steps`` safety orders, stake ``initial * scale**k``); the whole position is
sold at ``avg_entry * (1 + take_profit_pct)``; the stop is ``avg_entry * (1 - stop_pct)``.
"""

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np


SPACINGS = ("arithmetic", "geometric")


# --- validation helpers --------------------------------------------------------------------------


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction in (0, 1), got {value!r}")
    return value


def _steps(name: str, value: int, minimum: int = 0) -> int:
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --- grid lines and templates --------------------------------------------------------------------


def grid_levels(lower: float, upper: float, n_levels: int, spacing: str = "arithmetic") -> list[float]:
    """The ``n_levels`` grid lines from ``lower`` to ``upper`` (both included), ascending.

    ``arithmetic``: equal price steps (equal profit per grid in quote for a fixed lot);
    ``geometric``: equal ratios (equal profit per grid in percent), the usual choice for wide grids.
    """
    lower, upper = _positive("lower", lower), _positive("upper", upper)
    if upper <= lower:
        raise ValueError(f"upper ({upper}) must be above lower ({lower})")
    n_levels = _steps("n_levels", n_levels, minimum=2)
    if spacing == "arithmetic":
        lines = np.linspace(lower, upper, n_levels)
    elif spacing == "geometric":
        lines = np.geomspace(lower, upper, n_levels)
    else:
        raise ValueError(f"spacing must be one of {SPACINGS}, got {spacing!r}")
    return [float(x) for x in lines]


def atr_grid_template(price, atr, bounds_mult: float = 2.0, step_mult: float = 1.0,
                      min_levels: int = 5, max_levels: int = 50):
    """ATR grid template for a new pair (seed §7.3): bounds = price ± bounds_mult×ATR,
    levels = clamp(round(span / (step_mult×ATR)), min_levels, max_levels).

    With the seed's defaults (2×ATR(14), step 1×ATR) the span is 4 ATR, so 4 -> clamped to 5 lines,
    i.e. 4 intervals of exactly 1 ATR. Vectorised over scalars, arrays or Series; returns
    ``(lower, upper, n_levels)`` as floats (NaN where ATR is NaN/<= 0 or the lower bound <= 0).
    """
    _positive("bounds_mult", bounds_mult)
    _positive("step_mult", step_mult)
    min_levels = _steps("min_levels", min_levels, minimum=2)
    if _steps("max_levels", max_levels, minimum=2) < min_levels:
        raise ValueError(f"max_levels ({max_levels}) must be >= min_levels ({min_levels})")
    price_a = np.asarray(price, dtype=float)
    atr_a = np.asarray(atr, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = price_a - bounds_mult * atr_a
        upper = price_a + bounds_mult * atr_a
        n_levels = np.clip(np.round((upper - lower) / (step_mult * atr_a)), min_levels, max_levels)
        bad = ~((atr_a > 0) & (lower > 0) & np.isfinite(price_a))
    lower, upper, n_levels = (np.where(bad, np.nan, x) for x in (lower, upper, n_levels))
    if lower.ndim == 0:
        return float(lower), float(upper), float(n_levels)
    if hasattr(price, "index"):
        import pandas as pd

        return tuple(pd.Series(x, index=price.index) for x in (lower, upper, n_levels))
    return lower, upper, n_levels


def atr_dca_template(price, atr, trigger_mult: float = 1.5, tp_mult: float = 3.0):
    """ATR DCA template (seed §7.3): trigger = trigger_mult×ATR/price, take profit = tp_mult×ATR/price.

    Vectorised; returns ``(trigger_pct, take_profit_pct)`` as fractions, NaN where ATR or price is
    not positive or the trigger would be >= 100%.
    """
    _positive("trigger_mult", trigger_mult)
    _positive("tp_mult", tp_mult)
    price_a = np.asarray(price, dtype=float)
    atr_a = np.asarray(atr, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        trigger = trigger_mult * atr_a / price_a
        tp = tp_mult * atr_a / price_a
        bad = ~((atr_a > 0) & (price_a > 0) & (trigger < 1))
    trigger, tp = np.where(bad, np.nan, trigger), np.where(bad, np.nan, tp)
    if trigger.ndim == 0:
        return float(trigger), float(tp)
    if hasattr(price, "index"):
        import pandas as pd

        return pd.Series(trigger, index=price.index), pd.Series(tp, index=price.index)
    return trigger, tp


def nearest_level_index(levels: list[float], price: float) -> int:
    """Index of the grid line closest to ``price`` (ties go to the lower line)."""
    if not levels:
        raise ValueError("levels must not be empty")
    return int(np.argmin(np.abs(np.asarray(levels, dtype=float) - float(price))))


def grid_entry_fraction(levels: list[float], price: float) -> float:
    """Share of the grid budget spent on the initial buy when the grid starts at ``price``.

    The initial buy holds one lot per line above the start line; the remaining lines below get
    resting buys. Used by ``custom_stake_amount`` so the rest of the ladder stays funded.
    """
    empty = nearest_level_index(levels, price)
    return (len(levels) - 1 - empty) / (len(levels) - 1)


# --- DCA sizing and prices -----------------------------------------------------------------------


def dca_step_stakes(initial_stake: float, max_steps: int, scale: float = 1.0) -> list[float]:
    """Stake of the initial order and of each of the ``max_steps`` safety orders: initial×scale**k."""
    initial_stake = _positive("initial_stake", initial_stake)
    max_steps = _steps("max_steps", max_steps)
    scale = _positive("scale", scale)
    return [initial_stake * scale**k for k in range(max_steps + 1)]


def dca_initial_stake(budget: float, max_steps: int, scale: float = 1.0) -> float:
    """Initial order stake so that the initial order plus all safety orders cost exactly ``budget``."""
    budget = _positive("budget", budget)
    return budget / sum(dca_step_stakes(1.0, max_steps, scale))


def dca_trigger_price(last_buy_price: float, trigger_pct: float) -> float:
    """Price at which the next safety order buys: ``trigger_pct`` below the last buy."""
    return _positive("last_buy_price", last_buy_price) * (1 - _fraction("trigger_pct", trigger_pct))


def average_entry(prices: list[float], amounts: list[float]) -> float:
    """Amount-weighted average entry price (fees excluded, as freqtrade's ``open_rate``)."""
    p, a = np.asarray(prices, dtype=float), np.asarray(amounts, dtype=float)
    if p.size == 0 or p.shape != a.shape:
        raise ValueError("prices and amounts must be non-empty and of equal length")
    if (a <= 0).any() or (p <= 0).any():
        raise ValueError("prices and amounts must all be > 0")
    return float((p * a).sum() / a.sum())


def take_profit_price(avg_entry: float, take_profit_pct: float) -> float:
    """Price that takes profit on the whole position: ``take_profit_pct`` above the average entry."""
    return _positive("avg_entry", avg_entry) * (1 + _positive("take_profit_pct", take_profit_pct))


def round_trip_pnl(buy_cost: float, sell_proceeds: float, fee: float) -> float:
    """Quote profit of buying for ``buy_cost`` and selling for ``sell_proceeds``, fee paid on both legs."""
    if not 0 <= fee < 1:
        raise ValueError(f"fee must be in [0, 1), got {fee!r}")
    return sell_proceeds * (1 - fee) - buy_cost * (1 + fee)


def _nearest_order(current_rate: float, buy: tuple | None, sell: tuple | None):
    """Of two candidate orders (side, key, price), the one whose price is closest to the market.

    Freqtrade keeps at most one open order per trade, so a ladder can rest only one order at a
    time; the nearest one is the one most likely to fill next.
    """
    if buy is None or sell is None:
        return buy or sell
    return buy if abs(current_rate / buy[2] - 1) <= abs(sell[2] / current_rate - 1) else sell


def structure_stop(recent_low: float, atr: float, atr_buffer: float = 1.0) -> float:
    """Stop under market structure: the recent swing low minus ``atr_buffer`` ATRs (0.0 if unusable)."""
    if not (np.isfinite(recent_low) and np.isfinite(atr)) or recent_low <= 0 or atr < 0:
        return 0.0
    return max(float(recent_low - atr_buffer * atr), 0.0)


def safety_buy_confirmed(volume_ratio, rsi, close, previous_high,
                         capitulation_volume: float = 2.0, capitulation_rsi: float = 25.0):
    """Per candle: may a DCA safety order fill after this candle (capitulation or reclaim)?

    - capitulation: volume at least ``capitulation_volume`` x its mean and RSI <= ``capitulation_rsi``
      (forced selling: the move is more likely near its end);
    - reclaim: the candle closed above the previous candle's high (buyers took the drop back).
    NaN inputs never confirm. Works on scalars and arrays (element-wise).
    """
    volume_ratio, rsi, close, previous_high = (np.asarray(x, dtype=float)
                                               for x in (volume_ratio, rsi, close, previous_high))
    with np.errstate(invalid="ignore"):
        capitulation = (volume_ratio >= capitulation_volume) & (rsi <= capitulation_rsi)
        reclaim = close > previous_high
    return capitulation | reclaim


# --- grid ladder ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridLadder:
    """One trade's grid: lines, the empty line, lot size and the realised grid profit."""

    levels: tuple[float, ...]
    empty_index: int
    lot_amount: float
    stop_price: float
    spacing: str = "arithmetic"
    fee: float = 0.001
    buys: int = 0
    sells: int = 0
    realised_profit: float = 0.0
    recentres: int = 0
    kind: str = field(default="grid", init=False)

    def __post_init__(self):
        if len(self.levels) < 2 or any(b <= a for a, b in zip(self.levels, self.levels[1:])):
            raise ValueError(f"levels must hold >= 2 strictly ascending prices, got {self.levels}")
        if not 0 <= self.empty_index < len(self.levels):
            raise ValueError(f"empty_index {self.empty_index} outside 0..{len(self.levels) - 1}")
        _positive("lot_amount", self.lot_amount)

    @classmethod
    def start(cls, price: float, atr: float, amount: float, bounds_mult: float = 2.0,
              step_mult: float = 1.0, spacing: str = "arithmetic", stop_pct: float = 0.05,
              fee: float = 0.001, min_levels: int = 5, max_levels: int = 50) -> "GridLadder":
        """Grid from the ATR template anchored on the initial fill (``price``, base ``amount``).

        The initial buy holds one lot per line above the start line, so the lot is ``amount``
        divided by that count; the stop sits ``stop_pct`` below the lowest line.
        """
        lower, upper, n = atr_grid_template(price, atr, bounds_mult, step_mult, min_levels, max_levels)
        if not np.isfinite(lower):
            raise ValueError(f"no grid for price {price} and ATR {atr}")
        levels = grid_levels(lower, upper, int(n), spacing)
        empty = nearest_level_index(levels, price)
        lots = len(levels) - 1 - empty
        if lots < 1:
            raise ValueError("the start price must lie below the top grid line")
        return cls(levels=tuple(levels), empty_index=empty, lot_amount=_positive("amount", amount) / lots,
                   stop_price=levels[0] * (1 - _fraction("stop_pct", stop_pct)), spacing=spacing, fee=fee)

    @property
    def lots_held(self) -> int:
        return len(self.levels) - 1 - self.empty_index

    @property
    def buy_price(self) -> float | None:
        """Resting buy nearest the market: one line below the empty line (None at the bottom)."""
        return self.levels[self.empty_index - 1] if self.empty_index > 0 else None

    @property
    def sell_price(self) -> float | None:
        """Resting sell nearest the market: one line above the empty line (None at the top)."""
        return self.levels[self.empty_index + 1] if self.empty_index < len(self.levels) - 1 else None

    @property
    def grid_budget(self) -> float:
        """Quote needed to hold a lot on every line but the top one at its own line's price."""
        return self.lot_amount * sum(self.levels[:-1])

    def next_order(self, current_rate: float) -> tuple[str, int, float] | None:
        """``(side, line index, price)`` of the order to rest now: the nearer of buy and sell."""
        buy = ("buy", self.empty_index - 1, self.buy_price) if self.buy_price else None
        sell = ("sell", self.empty_index + 1, self.sell_price) if self.sell_price else None
        return _nearest_order(current_rate, buy, sell)

    def after_buy(self, index: int) -> "GridLadder":
        """A buy filled at line ``index`` (the line below the empty one)."""
        if index != self.empty_index - 1:
            raise ValueError(f"grid buy at line {index}, expected {self.empty_index - 1}")
        return replace(self, empty_index=index, buys=self.buys + 1)

    def after_sell(self, index: int) -> "GridLadder":
        """A sell filled at line ``index``: books one lot's profit from line index-1 to index."""
        if index != self.empty_index + 1:
            raise ValueError(f"grid sell at line {index}, expected {self.empty_index + 1}")
        pnl = round_trip_pnl(self.lot_amount * self.levels[index - 1],
                             self.lot_amount * self.levels[index], self.fee)
        return replace(self, empty_index=index, sells=self.sells + 1,
                       realised_profit=self.realised_profit + pnl)

    def out_of_range(self, price: float) -> bool:
        """True when ``price`` is more than one grid step beyond the lowest or highest line."""
        lv = self.levels
        return price < lv[0] - (lv[1] - lv[0]) or price > lv[-1] + (lv[-1] - lv[-2])

    def recentred(self, price: float, atr: float, bounds_mult: float = 2.0, step_mult: float = 1.0,
                  stop_pct: float = 0.05) -> "GridLadder":
        """A new grid around ``price`` with the same quote budget; counters carry over.

        The caller rebalances the inventory to ``lots_held * lot_amount`` of the new grid.
        """
        fresh = GridLadder.start(price, atr, 1.0, bounds_mult, step_mult, self.spacing, stop_pct, self.fee)
        lot = self.grid_budget / sum(fresh.levels[:-1])
        return replace(fresh, lot_amount=lot, buys=self.buys, sells=self.sells,
                       realised_profit=self.realised_profit, recentres=self.recentres + 1)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"] = list(self.levels)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GridLadder":
        data = {k: v for k, v in data.items() if k != "kind"}
        return cls(**{**data, "levels": tuple(data["levels"])})


# --- DCA ladder -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DcaLadder:
    """One trade's DCA ladder: triggers, filled steps, cost and amount bought so far."""

    trigger_pct: float
    take_profit_pct: float
    stop_pct: float
    max_steps: int
    scale: float
    initial_stake: float
    last_buy_price: float
    cost: float
    amount: float
    steps_filled: int = 0
    # Absolute stop for the whole position set by market structure (0: none, use stop_pct).
    structure_stop: float = 0.0
    kind: str = field(default="dca", init=False)

    def __post_init__(self):
        _fraction("trigger_pct", self.trigger_pct)
        _positive("take_profit_pct", self.take_profit_pct)
        _fraction("stop_pct", self.stop_pct)
        _steps("max_steps", self.max_steps)
        _positive("scale", self.scale)
        for name in ("initial_stake", "last_buy_price", "cost", "amount"):
            _positive(name, getattr(self, name))

    @classmethod
    def start(cls, price: float, amount: float, trigger_pct: float, take_profit_pct: float,
              stop_pct: float, max_steps: int, scale: float = 1.0,
              structure_stop: float = 0.0) -> "DcaLadder":
        """Ladder after the initial buy of ``amount`` at ``price``.

        ``structure_stop`` (absolute price below ``price``, or 0) replaces the ``stop_pct`` stop.
        """
        stake = _positive("price", price) * _positive("amount", amount)
        if not 0 <= structure_stop < price:
            raise ValueError(f"structure_stop must be in [0, price), got {structure_stop!r}")
        return cls(trigger_pct=trigger_pct, take_profit_pct=take_profit_pct, stop_pct=stop_pct,
                   max_steps=max_steps, scale=scale, initial_stake=stake, last_buy_price=price,
                   cost=stake, amount=amount, structure_stop=float(structure_stop))

    @property
    def avg_entry(self) -> float:
        return self.cost / self.amount

    @property
    def next_trigger(self) -> float | None:
        """Price of the next safety order, None once ``max_steps`` safety orders filled."""
        if self.steps_filled >= self.max_steps:
            return None
        return dca_trigger_price(self.last_buy_price, self.trigger_pct)

    @property
    def next_stake(self) -> float:
        """Stake of the next safety order: initial × scale**(steps filled + 1)."""
        return self.initial_stake * self.scale ** (self.steps_filled + 1)

    @property
    def take_profit(self) -> float:
        return take_profit_price(self.avg_entry, self.take_profit_pct)

    @property
    def stop_price(self) -> float:
        """The structure stop when one is set, else ``stop_pct`` below the average entry."""
        if self.structure_stop > 0:
            return self.structure_stop
        return self.avg_entry * (1 - self.stop_pct)

    @property
    def budget(self) -> float:
        """Stake of the initial order plus every planned safety order."""
        return sum(dca_step_stakes(self.initial_stake, self.max_steps, self.scale))

    def next_order(self, current_rate: float) -> tuple[str, int, float] | None:
        """``(side, step, price)`` to rest now: next safety buy or the take profit, whichever is nearer."""
        trig = self.next_trigger
        buy = ("buy", self.steps_filled + 1, trig) if trig is not None else None
        return _nearest_order(current_rate, buy, ("sell", 0, self.take_profit))

    def after_buy(self, price: float, amount: float) -> "DcaLadder":
        """A safety order filled: ``amount`` bought at ``price``."""
        if self.steps_filled >= self.max_steps:
            raise ValueError(f"all {self.max_steps} safety orders already filled")
        return replace(self, steps_filled=self.steps_filled + 1, last_buy_price=_positive("price", price),
                       cost=self.cost + price * _positive("amount", amount), amount=self.amount + amount)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DcaLadder":
        return cls(**{k: v for k, v in data.items() if k != "kind"})
