"""Start-up warnings for run settings under which a pack strategy silently trades differently.

Called from ``MarketGateMixin.bot_start`` (every pack strategy has the gate), so each line shows
once per run in the log, and in FreqUI's Logs page for backtests started from the browser:

- a timeframe override (``--timeframe`` or FreqUI's Timeframe field) on a strategy whose indicator
  windows are counted in candles of its own timeframe: e.g. RsiMeanReversion on 4h gave 0 trades;
- pairs of a static whitelist without candles at the strategy's base timeframe in a backtest:
  freqtrade leaves them out with a "No history" warning per pair (SmcStructure on 15m and the
  bundled data's AVAX / LINK).
"""

import logging
from pathlib import Path

from freqtrade.data.history.datahandlers import get_datahandler
from freqtrade.enums import TradingMode

from plugins.integration.pairlist_data import is_historical


logger = logging.getLogger(__name__)


def timeframe_override_warning(strategy) -> str | None:
    """A line when the run's timeframe is not the one the strategy class declares."""
    declared = type(strategy).timeframe
    if strategy.timeframe == declared:
        return None
    return (
        f"{type(strategy).__name__} is built for {declared} candles and runs on "
        f"{strategy.timeframe} (timeframe override): its indicator windows count candles, so "
        f"signals change and may vanish (0 trades). Drop the override to use {declared}."
    )


def missing_base_data_warning(strategy) -> str | None:
    """In a backtest: the static whitelist's pairs without candles at the base timeframe."""
    config = strategy.config
    if not is_historical(config) or "datadir" not in config:
        return None
    datadir = Path(config["datadir"])
    handler = get_datahandler(datadir, config.get("dataformat_ohlcv", "feather"))
    trading_mode = TradingMode(config.get("trading_mode") or "spot")
    available = {pair for pair, timeframe, _ in handler.ohlcv_get_available_data(datadir, trading_mode)
                 if timeframe == strategy.timeframe}
    whitelist = config.get("exchange", {}).get("pair_whitelist", [])
    missing = [pair for pair in whitelist if pair not in available]
    if not missing:
        return None
    return (
        f"{type(strategy).__name__}: no {strategy.timeframe} candles in {datadir} for "
        f"{', '.join(missing)}; the backtest leaves them out. Download them "
        f"(freqtrade download-data -t {strategy.timeframe} --pairs {' '.join(missing)}) or "
        f"backtest a whitelist that has {strategy.timeframe} data."
    )


def log_run_warnings(strategy) -> None:
    for line in (timeframe_override_warning(strategy), missing_base_data_warning(strategy)):
        if line:
            logger.warning(line)
