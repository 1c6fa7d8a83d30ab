"""Exposure and slippage limits at entry time, across every open trade of the bot.

Configured as one entry of ``pack_protections`` (``plugins/protections/ExposureLimit.py``)::

    {"method": "ExposureLimit", "max_total_exposure": 0.5, "max_position": 0.1,
     "max_slippage": 0.01, "max_spread": 0.005}

The protection validates the numbers when freqtrade builds its ProtectionManager (at start-up: a
bad value stops the bot with one line) and registers them here. Two strategy hooks are wrapped
on every loaded strategy (from the start-up hook, like market_context's entry check):

- ``custom_stake_amount``: the stake is cut to the room left under both caps (total stake in open
  trades <= ``max_total_exposure`` x equity; the pair's open stake <= ``max_position`` x equity),
  where equity is freqtrade's ``Wallets.get_total_stake_amount()`` (free + tied-up stake, after
  ``tradable_balance_ratio``). A stake cut below the exchange minimum makes freqtrade skip the entry.
- ``confirm_trade_entry``: the entry is refused when its stake still exceeds the room, when the fill
  rate is more than ``max_slippage`` away from the close of the signal candle, or when the
  ticker's spread is above ``max_spread`` (no ticker, e.g. in backtesting: spread not checked).

"All strategies" means every open trade in this bot's database, whatever strategy opened it.
Bots on separate databases do not see each other's exposure. Freqtrade's position-adjustment
orders (DCA/grid safety buys) do not pass through these hooks: the ladder strategies' own stake
reserve bounds them. Nothing happens while no ExposureLimit is configured.
"""

import inspect
import logging
import weakref
from typing import Any

from freqtrade.exceptions import OperationalException

from plugins.quant.exposure import entry_refusal, slippage, spread, stake_room, validate_limits


logger = logging.getLogger(__name__)

DEFAULTS = {"max_total_exposure": 0.5, "max_position": 0.1, "max_slippage": 0.01,
            "max_spread": 0.005}


class ExposureSettings:
    """Validated exposure and execution limits (fractions in (0, 1])."""

    def __init__(self, protection_config: dict[str, Any]) -> None:
        unknown = set(protection_config) - set(DEFAULTS) - {"method"}
        if unknown:
            raise OperationalException(
                f"pack_protections ExposureLimit: unknown setting(s) {sorted(unknown)}; "
                f"allowed: {sorted(DEFAULTS)}."
            )
        values = {key: protection_config.get(key, default) for key, default in DEFAULTS.items()}
        try:
            validate_limits(values["max_total_exposure"], values["max_position"],
                            values["max_slippage"], values["max_spread"])
        except ValueError as err:
            raise OperationalException(f"pack_protections ExposureLimit: {err}.") from None
        self.max_total: float = values["max_total_exposure"]
        self.max_position: float = values["max_position"]
        self.max_slippage: float = values["max_slippage"]
        self.max_spread: float = values["max_spread"]


_active: "weakref.WeakSet[Any]" = weakref.WeakSet()  # live ExposureLimit protections


def register(protection: Any) -> None:
    """Called by an ExposureLimit protection; it holds ``.settings`` (an ExposureSettings)."""
    _active.add(protection)


def active_settings() -> ExposureSettings | None:
    protections = list(_active)
    return protections[-1].settings if protections else None


def _open_stakes(pair: str) -> tuple[float, float]:
    """Stake in all open trades, and in the open trades of ``pair`` (live and backtesting)."""
    from freqtrade.persistence import Trade

    open_trades = Trade.get_trades_proxy(is_open=True)
    total = sum(t.stake_amount for t in open_trades)
    return total, sum(t.stake_amount for t in open_trades if t.pair == pair)


def _equity(strategy: Any) -> float:
    try:
        return float(strategy.wallets.get_total_stake_amount())
    except Exception:  # wallets not ready (analysis modes): no room rather than unlimited room
        return 0.0


def room_for(strategy: Any, pair: str, settings: ExposureSettings) -> float:
    total, in_pair = _open_stakes(pair)
    return stake_room(_equity(strategy), total, in_pair, settings.max_total, settings.max_position)


def _signal_price(strategy: Any, pair: str) -> float | None:
    try:
        frame, _ = strategy.dp.get_analyzed_dataframe(pair, strategy.timeframe)
        return float(frame["close"].iloc[-1]) if len(frame) else None
    except Exception:
        return None


def _spread(strategy: Any, pair: str) -> float | None:
    try:
        ticker = strategy.dp.ticker(pair) or {}
        bid, ask = ticker.get("bid"), ticker.get("ask")
        return spread(float(bid), float(ask)) if bid and ask else None
    except Exception:  # no ticker (backtesting) or a broken one: spread unknown
        return None


def entry_problem(strategy: Any, pair: str, amount: float, rate: float) -> str | None:
    """Why the entry must be refused under the active limits, or None."""
    settings = active_settings()
    if settings is None:
        return None
    signal = _signal_price(strategy, pair)
    slip = slippage(signal, rate) if signal else None
    return entry_refusal(amount * rate, room_for(strategy, pair, settings), slip,
                         _spread(strategy, pair), settings.max_slippage, settings.max_spread)


def _arguments(method: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The call's arguments by name (freqtrade passes keywords; direct callers may not)."""
    signature = inspect.signature(method)
    arguments = dict(signature.bind_partial(*args, **kwargs).arguments)
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(name, {}))
    return arguments


class ExposureCheckedEntry:
    """A strategy's (possibly already wrapped) ``confirm_trade_entry`` behind the limits.

    A class, not a closure, so the strategy still pickles (hyperopt workers)."""

    def __init__(self, strategy: Any, inner: Any) -> None:
        self.strategy = strategy
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        if active_settings() is not None:
            call = _arguments(type(self.strategy).confirm_trade_entry, (self.strategy, *args), kwargs)
            problem = entry_problem(self.strategy, call["pair"], call["amount"], call["rate"])
            if problem:
                logger.info("ExposureLimit refused %s entry: %s", call["pair"], problem)
                return False
        return self.inner(*args, **kwargs)


class CappedStakeAmount:
    """A strategy's ``custom_stake_amount`` with the result cut to the exposure room."""

    def __init__(self, strategy: Any, inner: Any) -> None:
        self.strategy = strategy
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        stake = self.inner(*args, **kwargs)
        settings = active_settings()
        if settings is None:
            return stake
        call = _arguments(type(self.strategy).custom_stake_amount, (self.strategy, *args), kwargs)
        return min(stake, room_for(self.strategy, call["pair"], settings))


def install_exposure_check(strategy: Any) -> None:
    """Wrap ``strategy``'s stake and entry hooks (idempotent, inert without an ExposureLimit)."""
    if not isinstance(strategy.__dict__.get("confirm_trade_entry"), ExposureCheckedEntry):
        strategy.confirm_trade_entry = ExposureCheckedEntry(strategy, strategy.confirm_trade_entry)
    if not isinstance(strategy.__dict__.get("custom_stake_amount"), CappedStakeAmount):
        strategy.custom_stake_amount = CappedStakeAmount(strategy, strategy.custom_stake_amount)
