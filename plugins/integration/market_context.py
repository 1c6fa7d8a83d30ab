"""Market data for protections: how RegimeGuard and CorrelationGuard see candles.

The problem
    Freqtrade's ``IProtection`` receives trades (through ``Trade.get_trades_proxy``), a date and
    the starting balance; never candles. And freqtrade evaluates protections only right after a
    trade closes (``Backtesting.run_protections`` after an exit order fills,
    ``FreqtradeBot.handle_protections`` after an exit fill). A guard that reacts to the *market*
    (the BTC regime, how two pairs move together) therefore needs (1) a source of candles and
    (2) a chance to run right before an entry, not only after an exit.

The design
    1. **One candle source, freqtrade's own DataProvider.** The entry check below attaches the
       strategy's ``self.dp`` here on every call (``attach_dataprovider``). Guards
       read candles only through :func:`closed_candles`, which asks the DataProvider
       (``get_pair_dataframe``: the exchange's candle cache live, the backtest data - already cut
       at the candle being simulated - in backtesting) and keeps only candles that *closed* at or
       before ``date_now`` (``date + timeframe <= date_now``). No second download, no copy of the
       strategy's dataframe, causal by construction in backtesting and live alike. Live, the pair
       and timeframe a guard reads must be in the strategy's ``informative_pairs`` (see
       :func:`guard_informative_pairs`) or whitelist, as for any DataProvider read.
    2. **Guards register themselves.** Market-aware guards derive from :class:`MarketGuard`;
       instances are kept in a weak set, so exactly the guards of the live ProtectionManager
       (built by freqtrade from the strategy's ``protections`` only when protections are enabled
       - always live, with ``--enable-protections`` in backtesting) are known here. When
       freqtrade replaces its ProtectionManager (every backtest run), the old guards disappear.
    3. **Entry-time check through a freqtrade hook.** Right before an entry, freqtrade calls the
       strategy's ``confirm_trade_entry`` (backtesting ``_enter_trade``, live ``execute_entry``).
       :func:`install_entry_check` wraps that method of a loaded strategy (for every strategy,
       from a start-up hook on ``StrategyResolver.load_strategy``); a strategy can instead call
       :func:`confirm_entry` from its own ``confirm_trade_entry``. It runs every registered guard's
       ``global_stop`` / ``stop_per_pair`` for the candidate pair at ``current_time``; a guard that
       trips creates a regular freqtrade ``PairLock`` (the same ``PairLocks.lock_pair`` call
       ``ProtectionManager`` makes) and the entry is refused. The locks therefore show in
       ``/locks`` (FreqUI, Telegram) and in the backtest result's ``locks``. Freqtrade's own
       calls after exits keep working unchanged (the guards are ordinary IProtections).

    Nothing here runs when protections are off: no guard is registered, ``confirm_entry``
    returns True.

Limits
    Until the first entry check has attached the DataProvider, a market guard has no candles and
    does not lock (it logs that once). Entry-time locks are listed by ``/locks`` but, unlike locks
    from freqtrade's own calls, send no Telegram "protection triggered" message. The regime and
    correlations are recomputed from candles on each check (the regime is cached per closed
    candle): the three guards added 1-3 s to a ~10 s 7-month 1h backtest of RsiMeanReversion
    (8.7 -> 9.7 s and 11.2 -> 14.0 s in two measurements on a shared 2-core machine).
"""

import logging
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pandas as pd
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.persistence import PairLocks
from freqtrade.plugins.protections import IProtection, ProtectionReturn

logger = logging.getLogger(__name__)


class CandleSource(Protocol):
    def get_pair_dataframe(self, pair: str, timeframe: str | None = None) -> pd.DataFrame: ...


class StaticCandles:
    """A CandleSource over fixed dataframes, keyed by (pair, timeframe): tests and notebooks."""

    def __init__(self, frames: dict[tuple[str, str], pd.DataFrame]) -> None:
        self._frames = frames

    def get_pair_dataframe(self, pair: str, timeframe: str | None = None) -> pd.DataFrame:
        return self._frames.get((pair, timeframe), pd.DataFrame())


_source: CandleSource | None = None
_guards: "weakref.WeakSet[MarketGuard]" = weakref.WeakSet()


def attach_dataprovider(source: CandleSource | None) -> None:
    """Use ``source`` (a strategy's ``self.dp``) for every guard's candle reads."""
    global _source
    _source = source


def attached_source() -> CandleSource | None:
    return _source


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def closed_candles(pair: str, timeframe: str, date_now: datetime, count: int) -> pd.DataFrame:
    """The last ``count`` candles of ``pair`` that closed at or before ``date_now`` (may be empty).

    A candle dated ``d`` closes at ``d + timeframe``; keeping ``d + timeframe <= date_now`` means a
    guard at ``date_now`` never sees a candle still forming then.
    """
    if _source is None:
        return pd.DataFrame()
    try:
        data = _source.get_pair_dataframe(pair, timeframe)
    except Exception as err:  # an unavailable pair must not crash the bot: the guard abstains
        logger.warning("market_context: no candles for %s %s: %s", pair, timeframe, err)
        return pd.DataFrame()
    if data is None or data.empty or "date" not in data.columns:
        return pd.DataFrame()
    last_open = pd.Timestamp(_utc(date_now)) - timedelta(minutes=timeframe_to_minutes(timeframe))
    closed = data.loc[data["date"] <= last_open]
    return closed.iloc[-count:] if count > 0 else closed


def guard_informative_pairs(
    config: dict[str, Any], protections: list[dict]
) -> list[tuple[str, str]]:
    """(pair, timeframe) tuples the configured market guards read, for ``informative_pairs``.

    RegimeGuard reads its ``pair`` (default BTC/USDT); CorrelationGuard and RegimeGuard with
    ``regime_of: "pair"`` read whitelist pairs, which the DataProvider already has.
    """
    timeframe = config.get("timeframe", "1h")
    wanted = []
    for prot in protections:
        if prot.get("method") == "RegimeGuard" and prot.get("regime_of", "market") == "market":
            wanted.append((prot.get("pair", "BTC/USDT"), prot.get("timeframe", timeframe)))
    return list(dict.fromkeys(wanted))


class MarketGuard(IProtection):
    """Base of protections that read candles: registers the instance for entry-time checks."""

    def __init__(self, config: dict[str, Any], protection_config: dict[str, Any]) -> None:
        super().__init__(config, protection_config)
        if "unlock_at" in protection_config:
            raise OperationalException(
                f"{self.name}: unlock_at is not supported (the guard re-checks every candle); "
                "use stop_duration or stop_duration_candles."
            )
        self._timeframe: str = protection_config.get("timeframe", config.get("timeframe", "1h"))
        _guards.add(self)

    def lock_until(self, date_now: datetime) -> datetime:
        """End of a lock set at ``date_now``: ``stop_duration`` (default one candle) later.

        PairLocks rounds a lock's end up to the next candle start, so 1 s is taken off: a
        one-candle lock set at a candle's open ends exactly at the next candle's open.
        """
        if "stop_duration" in self._protection_config or self._stop_duration_candles:
            minutes = self._stop_duration
        else:
            minutes = timeframe_to_minutes(self._timeframe)
        return _utc(date_now) + timedelta(minutes=max(minutes, 1)) - timedelta(seconds=1)


def registered_guards() -> list[MarketGuard]:
    return list(_guards)


def _apply(result: ProtectionReturn | None, pair: str, now: datetime) -> bool:
    """Create the lock like ProtectionManager does; True when ``result`` is a lock."""
    if not result or not result.lock or not result.until:
        return False
    if pair == "*":
        if not PairLocks.is_global_lock(result.until, side=result.lock_side):
            PairLocks.lock_pair("*", result.until, result.reason, now=now, side=result.lock_side)
    elif not PairLocks.is_pair_locked(pair, result.until, result.lock_side):
        PairLocks.lock_pair(pair, result.until, result.reason, now=now, side=result.lock_side)
    return True


def confirm_entry(
    pair: str,
    side: str,
    current_time: datetime,
    starting_balance: float = 0.0,
    dataprovider: CandleSource | None = None,
) -> bool:
    """Run the registered market guards for an entry of ``pair`` at ``current_time``.

    Call it from a strategy's ``confirm_trade_entry`` (pass ``self.dp``); returns False (entry
    refused) when a guard locks the pair or all pairs.
    """
    if dataprovider is not None:
        attach_dataprovider(dataprovider)
    now = _utc(current_time)
    allowed = True
    for guard in registered_guards():
        if guard.has_global_stop and _apply(
            guard.global_stop(now, side, starting_balance), "*", now
        ):
            allowed = False
        if guard.has_local_stop and _apply(
            guard.stop_per_pair(pair, now, side, starting_balance), pair, now
        ):
            allowed = False
    return allowed


def _starting_balance(strategy: Any) -> float:
    wallets = getattr(strategy, "wallets", None)
    try:
        return float(wallets.get_starting_balance()) if wallets is not None else 0.0
    except Exception:  # wallets not ready (e.g. analysis modes): equity rules abstain
        return 0.0


class GuardedConfirmEntry:
    """A strategy's ``confirm_trade_entry`` with the market guards run first.

    A class rather than a closure so that the strategy still pickles (hyperopt workers); the
    strategy's own check is its class's method, looked up at call time.
    """

    def __init__(self, strategy: Any) -> None:
        self.strategy = strategy

    def __call__(self, **kwargs: Any) -> bool:
        if not confirm_entry(
            kwargs["pair"],
            kwargs.get("side", "long"),
            kwargs["current_time"],
            _starting_balance(self.strategy),
            dataprovider=getattr(self.strategy, "dp", None),
        ):
            return False
        return type(self.strategy).confirm_trade_entry(self.strategy, **kwargs)


def install_entry_check(strategy: Any) -> None:
    """Make ``strategy.confirm_trade_entry`` run the market guards before the strategy's own
    check (idempotent). Meant for a start-up hook right after freqtrade loads the strategy, so
    every strategy gets the entry-time check without code of its own; with no guard registered
    (protections off) it only forwards to the original method.
    """
    if isinstance(strategy.__dict__.get("confirm_trade_entry"), GuardedConfirmEntry):
        return
    strategy.confirm_trade_entry = GuardedConfirmEntry(strategy)
