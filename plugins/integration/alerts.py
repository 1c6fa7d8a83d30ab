"""Operator alerts: protection locks, trading halts and market-leader regime changes.

Sent through freqtrade's own channel for strategy messages, ``DataProvider.send_msg`` (Telegram,
webhooks with a ``strategy_msg`` entry, FreqUI's message log), so no second notification stack is
configured. Freqtrade only delivers them in dry-run and live trading.

What is sent
    * **a lock** (``PairLocks.lock_pair``) created while protections are evaluated: the pack's
      entry-time guards (RegimeGuard, CorrelationGuard, inside ``confirm_trade_entry``) and
      freqtrade's after-exit protection runs (DrawdownGuard halts, and freqtrade's built-in
      protections), one message per lock. Manual ``/lock`` commands are not echoed.
    * **a regime change** of each RegimeGuard's market leader (BTC/USDT by default), checked once per
      bot loop on closed candles; the first regime seen after start-up is announced too.
    Each alert has a key (lock: pair + protection reason without its numbers; regime: the pair);
    a key alerts again only after ``cooldown_minutes`` (default 60), so a flapping regime or a
    lock re-created every candle does not spam. A suppressed regime change is reported with the
    next change after the cooldown.

Settings: ``"pack_alerts": {"enabled": true, "cooldown_minutes": 60}`` at the config's top level
(optional; validated when the strategy loads - a bad value stops start-up with one line).
"""

import contextvars
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from freqtrade.exceptions import OperationalException


logger = logging.getLogger(__name__)

ALERTS_KEY = "pack_alerts"
_NUMBERS = re.compile(r"[-+]?\d[\d.,:%]*")

# True while freqtrade (or the pack's entry check) evaluates protections: locks made then alert.
_evaluating = contextvars.ContextVar("pack_protections_evaluating", default=False)


class AlertSettings:
    """Validated ``pack_alerts`` settings."""

    def __init__(self, config: dict[str, Any]) -> None:
        raw = config.get(ALERTS_KEY, {})
        if not isinstance(raw, dict) or set(raw) - {"enabled", "cooldown_minutes"}:
            raise OperationalException(
                f'"{ALERTS_KEY}" must be an object with "enabled" (true/false) and '
                f'"cooldown_minutes" (a number >= 0), got {raw!r}.'
            )
        enabled, cooldown = raw.get("enabled", True), raw.get("cooldown_minutes", 60)
        if not isinstance(enabled, bool):
            raise OperationalException(f'"{ALERTS_KEY}.enabled" must be true or false, got {enabled!r}.')
        if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) or cooldown < 0:
            raise OperationalException(
                f'"{ALERTS_KEY}.cooldown_minutes" must be a number >= 0, got {cooldown!r}.'
            )
        self.enabled: bool = enabled
        self.cooldown = timedelta(minutes=cooldown)


class Alerter:
    """Sends alerts through a strategy's DataProvider, at most once per key per cooldown."""

    def __init__(self, strategy: Any, settings: AlertSettings) -> None:
        self.strategy = strategy
        self.settings = settings
        self._last_sent: dict[str, datetime] = {}
        self._regimes: dict[str, str] = {}  # pair -> last regime seen

    def send(self, key: str, message: str, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        last = self._last_sent.get(key)
        if not self.settings.enabled or (last is not None and now - last < self.settings.cooldown):
            return False
        dataprovider = getattr(self.strategy, "dp", None)
        if dataprovider is None:
            return False
        self._last_sent[key] = now
        dataprovider.send_msg(message, always_send=True)  # our cooldown replaces its per-candle cache
        return True

    def lock_created(self, pair: str, until: datetime, reason: str | None, side: str) -> None:
        scope = "all pairs" if pair == "*" else pair
        reason = reason or "no reason given"
        key = f"lock:{pair}:{side}:{_NUMBERS.sub('#', reason)}"
        self.send(key, f"Protection lock on {scope} ({side}) until "
                       f"{until:%Y-%m-%d %H:%M} UTC: {reason}")

    def regime_seen(self, pair: str, regime: str, confidence: float, now: datetime) -> None:
        previous = self._regimes.get(pair)
        if regime == previous:
            return
        text = (f"Market regime of {pair}: {regime} (confidence {confidence:.2f})" if previous is None
                else f"Market regime of {pair} changed {previous} -> {regime} "
                     f"(confidence {confidence:.2f})")
        if self.send(f"regime:{pair}", text, now):
            self._regimes[pair] = regime  # a suppressed change is reported after the cooldown


_alerter: Alerter | None = None


def alerter() -> Alerter | None:
    return _alerter


def lock_pair_alerting(original):
    """Wrap ``PairLocks.lock_pair`` so locks made during protection evaluation alert."""

    def lock_pair(pair, until, reason=None, *, now=None, side="*"):
        lock = original(pair, until, reason, now=now, side=side)
        if _evaluating.get() and _alerter is not None:
            try:
                _alerter.lock_created(pair, until, reason, side)
            except Exception as err:  # an alert must never stop a lock
                logger.warning("pack_alerts: lock alert failed: %s", err)
        return lock

    lock_pair._pack_alerts = True
    return lock_pair


def evaluating_protections(method):
    """Wrap a ProtectionManager method: locks it creates are alert-worthy."""

    def wrapper(*args, **kwargs):
        token = _evaluating.set(True)
        try:
            return method(*args, **kwargs)
        finally:
            _evaluating.reset(token)

    wrapper._pack_alerts = True
    return wrapper


class EvaluatingEntryCheck:
    """A strategy's (wrapped) ``confirm_trade_entry``: locks its market guards make alert.

    A class, not a closure, so the strategy still pickles (hyperopt workers)."""

    _pack_alerts = True

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        token = _evaluating.set(True)
        try:
            return self.inner(*args, **kwargs)
        finally:
            _evaluating.reset(token)


def check_regimes(now: datetime) -> None:
    """Report regime changes of every registered RegimeGuard's market leader."""
    from plugins.integration.market_context import registered_guards

    if _alerter is None:
        return
    for guard in registered_guards():
        if not hasattr(guard, "current_regime") or getattr(guard, "_regime_of", "market") != "market":
            continue
        seen = guard.current_regime(now)
        if seen is not None:
            _alerter.regime_seen(guard._pair, seen[0], seen[1], now)


class AlertingLoopStart:
    """A strategy's ``bot_loop_start`` followed by the regime check (picklable, like the others)."""

    def __init__(self, strategy: Any, inner: Any) -> None:
        self.strategy = strategy
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.inner(*args, **kwargs)
        current_time = kwargs.get("current_time", args[0] if args else None)
        from plugins.integration.market_context import attach_dataprovider

        if getattr(self.strategy, "dp", None) is not None:
            attach_dataprovider(self.strategy.dp)  # guards need candles before the first entry
        try:
            check_regimes(current_time or datetime.now(UTC))
        except Exception as err:  # alerts must never stop the bot loop
            logger.warning("pack_alerts: regime check failed: %s", err)


def install_alerts(strategy: Any) -> None:
    """Validate ``pack_alerts`` and route the strategy's alerts through its DataProvider."""
    from freqtrade.enums import RunMode

    global _alerter
    config = getattr(strategy, "config", {}) or {}
    settings = AlertSettings(config)  # validated in every mode, so a typo fails a backtest too
    if config.get("runmode") not in (RunMode.DRY_RUN, RunMode.LIVE):
        return  # freqtrade delivers strategy messages only while trading
    _alerter = Alerter(strategy, settings)
    if not isinstance(strategy.__dict__.get("bot_loop_start"), AlertingLoopStart):
        strategy.bot_loop_start = AlertingLoopStart(strategy, strategy.bot_loop_start)
    if not getattr(strategy.confirm_trade_entry, "_pack_alerts", False):
        strategy.confirm_trade_entry = EvaluatingEntryCheck(strategy.confirm_trade_entry)


def install_lock_alerts(pairlocks_class: Any, protection_manager_class: Any | None = None) -> None:
    """Patch freqtrade's lock creation and protection runs (idempotent)."""
    if not getattr(pairlocks_class.lock_pair, "_pack_alerts", False):
        pairlocks_class.lock_pair = staticmethod(lock_pair_alerting(pairlocks_class.lock_pair))
    if protection_manager_class is not None:
        for name in ("global_stop", "stop_per_pair"):
            method = getattr(protection_manager_class, name)
            if not getattr(method, "_pack_alerts", False):
                setattr(protection_manager_class, name, evaluating_protections(method))
