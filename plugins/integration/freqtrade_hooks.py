"""Glue between stock freqtrade 2026.9 and the pack, installed at interpreter start-up.

The pack's ``freqtrade_strategy_pack.pth`` file imports this module whenever Python starts in an
environment where the pack is installed. It does nothing until freqtrade itself is imported; then:

1. **Plugin loading (always on).** Freqtrade resolves pairlists and protections only from its own
   package folder (``PairListResolver.user_subdir = None``) and its config schema only accepts the
   built-in pairlist names. When ``freqtrade.resolvers.pairlist_resolver`` /
   ``protection_resolver`` load, the pack's ``plugins/pairlists`` and ``plugins/protections``
   folders are appended to their search paths (after the built-in folder, so a built-in name always
   wins), and the pack's pairlist names are added to ``freqtrade.constants.AVAILABLE_PAIRLISTS``.
   Built-in behaviour is unchanged; ``"method": "ExitScamFilter"`` simply becomes resolvable.

2. **API credentials (always on).** FreqUI's API server refuses to start while its username,
   password or JWT secret are empty or placeholders (``plugins/integration/api_guard.py``); stock freqtrade only
   warns. The committed config holds no secrets; they come from ``FREQTRADE__API_SERVER__*``.

3. **Entry-time market protections (always on, inert without them).** Freqtrade evaluates
   protections only after a trade closes, and never gives them candles. After
   ``StrategyResolver.load_strategy``, the strategy's ``confirm_trade_entry`` is wrapped so the
   pack's market guards (RegimeGuard, CorrelationGuard) run right before each entry on candles
   from freqtrade's DataProvider (``plugins/integration/market_context.py``). With no such guard configured
   it only forwards to the strategy's own method.

4. **Bad data, one clear line (always on).** A corrupt candle file stops the run with one line
   naming it and the command that restores it (freqtrade logs a traceback and goes on without
   the pair, exit 0); a pair whose ``@informative`` timeframe file is missing is skipped with one
   warning naming the file and the ``freqtrade download-data`` command (freqtrade aborts the whole
   backtest with a traceback); a broken per-pair table stops the run at strategy load. See
   ``plugins/integration/data_guard.py``. Freqtrade's own protection checks exit 2 with one line
   instead of 0 (``plugins/integration/settings.py``).

5. **Offline markets (opt-in).** With ``FREQTRADE_PACK_OFFLINE=1`` in the environment, the
   exchange reads markets from the bundled snapshot and candles/tickers from the bundled data
   (see ``plugins/integration/offline.py``) instead of calling the exchange API. Without it, all is stock.
   ``FREQTRADE_PACK_REPLAY=1`` (set by ``ftpack-replay``) serves them cut at the simulated clock
   instead (``plugins/integration/replay_exchange.py``).

Post-import patching (rather than subclassing) is used because freqtrade instantiates these classes
itself; a meta-path finder is the standard-library way to run code right after a module loads.
Every patch is defensive: a failure here must never stop Python from starting.
"""

import importlib.abc
import importlib.machinery
import logging
import os
import sys
from collections.abc import Callable
from types import ModuleType


logger = logging.getLogger(__name__)

OFFLINE_ENV = "FREQTRADE_PACK_OFFLINE"
REPLAY_ENV = "FREQTRADE_PACK_REPLAY"  # set by ftpack-replay (docs/replay.md); implies offline


def offline_enabled() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def pack_pairlist_names() -> list[str]:
    """Class names of the pack's pairlists (one class per file, file name = class name)."""
    from plugins import PAIRLIST_DIR

    return sorted(p.stem for p in PAIRLIST_DIR.glob("*.py") if not p.stem.startswith("_"))


def _append_search_path(resolver_cls, directory) -> None:
    """Make ``resolver_cls`` also search ``directory``, after its built-in folder."""
    original = resolver_cls.build_search_paths.__func__
    if getattr(original, "_pack_directory", None) == directory:
        return

    def build_search_paths(cls, config, user_subdir=None, extra_dirs=None):
        paths = original(cls, config, user_subdir, extra_dirs)
        if directory not in paths:
            paths.append(directory)
        return paths

    build_search_paths._pack_directory = directory
    resolver_cls.build_search_paths = classmethod(build_search_paths)


def _patch_constants(module: ModuleType) -> None:
    # The config schema holds a reference to this very list, so extending it in place is enough.
    for name in pack_pairlist_names():
        if name not in module.AVAILABLE_PAIRLISTS:
            module.AVAILABLE_PAIRLISTS.append(name)


def _patch_pairlist_resolver(module: ModuleType) -> None:
    from plugins import PAIRLIST_DIR

    _append_search_path(module.PairListResolver, PAIRLIST_DIR)


def _patch_protection_resolver(module: ModuleType) -> None:
    from plugins import PROTECTION_DIR

    _append_search_path(module.ProtectionResolver, PROTECTION_DIR)


def _patch_exchange(module: ModuleType) -> None:
    if os.environ.get(REPLAY_ENV, "").strip() == "1":
        from plugins.integration.replay_exchange import install_replay_exchange

        install_replay_exchange(module.Exchange)
        return
    if not offline_enabled():
        return
    from plugins.integration.offline import install_offline_exchange

    install_offline_exchange(module.Exchange)


def _patch_webserver(module: ModuleType) -> None:
    from plugins.integration.api_guard import check_api_credentials

    original_init = module.ApiServer.__init__

    def __init__(self, config, *args, **kwargs):
        check_api_credentials(config)
        original_init(self, config, *args, **kwargs)

    module.ApiServer.__init__ = __init__


def _patch_strategy_resolver(module: ModuleType) -> None:
    original = module.StrategyResolver.load_strategy
    if getattr(original, "_pack_entry_check", False):
        return

    def load_strategy(config=None):
        from plugins.integration.data_guard import check_pair_tables
        from plugins.integration.alerts import install_alerts
        from plugins.integration.exposure import install_exposure_check
        from plugins.integration.market_context import install_entry_check

        strategy = original(config)
        check_pair_tables(strategy)  # a broken per-pair table: one line now, not mid-backtest
        install_entry_check(strategy)  # market protections are checked before each entry
        install_exposure_check(strategy)  # issue 17: exposure/slippage caps (exposure.py)
        install_alerts(strategy)  # issue 17: lock/halt/regime alerts via dp.send_msg (alerts.py)
        return strategy

    load_strategy._pack_entry_check = True
    module.StrategyResolver.load_strategy = staticmethod(load_strategy)


def _patch_freqtradebot(module: ModuleType) -> None:
    # Operations (issue 17): one bot per trade database (plugins/integration/instance_lock.py).
    from plugins.integration.instance_lock import install_instance_lock

    install_instance_lock(module.FreqtradeBot)


def _patch_protection_manager(module: ModuleType) -> None:
    # Issue 19: freqtrade's own protection checks fail in one line, exit 2 (settings.py).
    from plugins.integration.settings import install_protection_checks

    install_protection_checks(module.ProtectionManager)
    # Operations (issue 17): locks made by protection runs alert (plugins/integration/alerts.py).
    from plugins.integration.alerts import install_lock_alerts

    install_lock_alerts(module.PairLocks, module.ProtectionManager)


def _patch_candle_files(module: ModuleType) -> None:
    from plugins.integration.data_guard import install_candle_file_check

    install_candle_file_check(module.ArrowDataHandler)


def _patch_history(module: ModuleType) -> None:
    from plugins.integration.data_guard import install_lenient_download

    install_lenient_download(module)


def _patch_strategy_interface(module: ModuleType) -> None:
    from plugins.integration.data_guard import install_informative_check

    install_informative_check(module)


PATCHES: dict[str, Callable[[ModuleType], None]] = {
    "freqtrade.constants": _patch_constants,
    "freqtrade.resolvers.pairlist_resolver": _patch_pairlist_resolver,
    "freqtrade.resolvers.protection_resolver": _patch_protection_resolver,
    "freqtrade.exchange.exchange": _patch_exchange,
    "freqtrade.rpc.api_server.webserver": _patch_webserver,
    "freqtrade.resolvers.strategy_resolver": _patch_strategy_resolver,
    "freqtrade.freqtradebot": _patch_freqtradebot,
    "freqtrade.plugins.protectionmanager": _patch_protection_manager,
    "freqtrade.data.history.datahandlers.arrowdatahandler": _patch_candle_files,
    "freqtrade.data.history.history_utils": _patch_history,
    "freqtrade.strategy.interface": _patch_strategy_interface,
}


def _apply(name: str, module: ModuleType) -> None:
    try:
        PATCHES[name](module)
    except Exception as err:  # never break the host program over a pack hook
        logger.warning("freqtrade-strategy-pack: could not patch %s: %s", name, err)


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of a patched module to run its patch."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _apply(fullname, module)

        spec.loader.exec_module = exec_and_patch
        return spec


def install() -> None:
    if any(isinstance(finder, _PatchAfterImport) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _PatchAfterImport())
    # Modules imported before the hook (only possible when installed late, e.g. in a REPL).
    for name in PATCHES:
        if name in sys.modules:
            _apply(name, sys.modules[name])


install()
