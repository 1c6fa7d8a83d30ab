"""Missing and broken data files: one clear line instead of a traceback or a silent wrong result.

Installed by ``plugins/integration/freqtrade_hooks.py``. Three cases:

1. **Corrupt candle files** (a text file, a truncated or empty feather/parquet, wrong columns or
   column types). Freqtrade's ``ArrowDataHandler._ohlcv_load`` logs the reader's traceback and
   returns an empty frame, so a backtest silently runs without that pair and exits 0. With the
   pack, reading such a file raises :class:`CandleFileError` (an ``OperationalException``):
   freqtrade prints one ERROR line naming the file and the ``freqtrade download-data ... --erase``
   command that restores it, and exits 2. The offline layer and the pack's pairlists read through
   the same handler, so they report the same line. ``freqtrade download-data`` itself keeps
   freqtrade's behaviour (a broken file is re-downloaded), so the fix it is told to run works.
   Only the columnar formats (feather, parquet) are checked; JSON candle files stay stock.
2. **A pair whose informative timeframe file is missing** (``@informative``): freqtrade raises
   "Informative dataframe ... is empty" and the whole backtest dies. With the pack, in backtesting,
   hyperopt and the analysis commands, the pair is skipped with one warning naming the missing
   file and the ``freqtrade download-data`` command that fetches it; when no pair is left, or
   outside ``advise_all_indicators`` (e.g. ``plot-dataframe``), the run stops with that one line
   (exit 2). Live/dry-run keeps freqtrade's behaviour.
3. **The per-pair tables** (``plugins.quant.pair_params.PairTable`` attributes of a strategy) are
   loaded and checked right after freqtrade loads the strategy: a broken table stops the run with
   one line, before any candle is processed.
"""

import logging
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from freqtrade.enums import CandleType, RunMode
from freqtrade.exceptions import OperationalException, StrategyError


logger = logging.getLogger(__name__)

REPO_DIR = Path(__file__).resolve().parents[2]
OHLCV_COLUMNS = ("date", "open", "high", "low", "close", "volume")
LIVE_RUNMODES = (RunMode.LIVE, RunMode.DRY_RUN)
# freqtrade/strategy/informative_decorator.py, _create_and_merge_informative_pair (2026.9).
_EMPTY_INFORMATIVE = re.compile(r"^Informative dataframe for \((.+), (\S+), (\S*)\) is empty")


class CandleFileError(OperationalException):
    """A candle file that exists but cannot be read as candles (one line, with the fix)."""


class MissingInformativeData(StrategyError, ValueError):
    """An informative timeframe without candles. A StrategyError (freqtrade's ``main`` prints it
    as one ERROR line) and a ValueError (what freqtrade raised before, for existing handlers)."""


# --- 1. corrupt candle files -----------------------------------------------------------------

_lenient_depth = 0


@contextmanager
def lenient_candle_files():
    """Inside: freqtrade's own handling of broken files (``download-data`` re-downloads them)."""
    global _lenient_depth
    _lenient_depth += 1
    try:
        yield
    finally:
        _lenient_depth -= 1


def _restore_hint(filename: Path, pair: str, timeframe: str) -> str:
    datadir = filename.parent
    if datadir.name == "futures":
        datadir = datadir.parent
    hint = (
        f"`freqtrade download-data --exchange {datadir.name} --pairs {pair} "
        f"--timeframes {timeframe} --datadir {datadir} --erase`"
    )
    try:
        bundled = filename.resolve().relative_to(REPO_DIR)
    except ValueError:
        return f"re-download it with {hint}"
    return f"restore the bundled file with `git checkout -- {bundled}` or re-download it with {hint}"


def _arrow_columns(handler, filename: Path) -> dict[str, Any]:
    """{column: arrow type} of a feather/parquet file; raises when the file is unreadable."""
    from pyarrow import dataset

    try:
        schema = dataset.dataset(filename, format=handler._get_file_extension()).schema
        return {field.name: field.type for field in schema}
    except Exception:  # feather V1 files are not datasets: read them as freqtrade falls back to
        frame = handler._load_dataframe(filename)
        return {name: None for name in frame.columns}


def _column_problem(columns: dict[str, Any]) -> str | None:
    import pyarrow as pa

    if missing := [c for c in OHLCV_COLUMNS if c not in columns]:
        return f"missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
    date_type = columns["date"]
    if date_type is not None and not pa.types.is_timestamp(date_type):
        return f"column date is {date_type}, not a timestamp"
    for name in OHLCV_COLUMNS[1:]:
        kind = columns[name]
        if kind is not None and not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            return f"column {name} is {kind}, not a number"
    return None


def check_candle_file(handler, pair: str, timeframe: str, candle_type) -> None:
    """Raise :class:`CandleFileError` when the file freqtrade would read for these candles exists
    but is unreadable or lacks OHLCV columns. A missing file is freqtrade's business (no data)."""
    filename = handler._pair_data_filename(handler._datadir, pair, timeframe, candle_type)
    if not filename.exists():
        filename = handler._pair_data_filename(
            handler._datadir, pair, timeframe, candle_type, no_timeframe_modify=True
        )
        if not filename.exists():
            return
    try:
        columns = _arrow_columns(handler, filename)
    except Exception as err:
        reason = " ".join(str(err).split()) or err.__class__.__name__
        problem = f"is not a readable {handler._get_file_extension()} file ({reason[:120]})"
    else:
        wanted_ohlcv = candle_type not in (CandleType.FUNDING_RATE, CandleType.OPEN_INTEREST)
        detail = _column_problem(columns) if wanted_ohlcv else None
        if detail is None:
            return
        problem = f"is not a candle file ({detail})"
    raise CandleFileError(
        f"Candle file {filename} {problem}: {_restore_hint(filename, pair, timeframe)}."
    )


def install_candle_file_check(handler_cls) -> None:
    """Check each candle file before ``handler_cls._ohlcv_load`` reads (and would swallow) it."""
    original = handler_cls._ohlcv_load
    if getattr(original, "_pack_checked", False):
        return

    def _ohlcv_load(self, pair, timeframe, timerange, candle_type):
        if not _lenient_depth:
            check_candle_file(self, pair, timeframe, candle_type)
        return original(self, pair, timeframe, timerange, candle_type)

    _ohlcv_load._pack_checked = True
    handler_cls._ohlcv_load = _ohlcv_load


def install_lenient_download(history_module) -> None:
    """``download-data`` keeps freqtrade's handling: a broken file is re-downloaded."""
    original = history_module._download_pair_history
    if getattr(original, "_pack_lenient", False):
        return

    def _download_pair_history(*args, **kwargs):
        with lenient_candle_files():
            return original(*args, **kwargs)

    _download_pair_history._pack_lenient = True
    history_module._download_pair_history = _download_pair_history


# --- 2. missing informative candles ----------------------------------------------------------


def _datafile(config: dict, pair: str, timeframe: str, candle_type: str) -> Path:
    from freqtrade.data.history.datahandlers import get_datahandler

    datadir = Path(config["datadir"])
    handler = get_datahandler(datadir, config.get("dataformat_ohlcv", "feather"))
    return handler._pair_data_filename(datadir, pair, timeframe, CandleType.from_string(candle_type))


def missing_informative_message(config: dict, pair: str, timeframe: str, candle_type: str) -> str:
    """One line: which informative file is missing (or empty) and the command that fetches it."""
    filename = _datafile(config, pair, timeframe, candle_type)
    state = "has no candles for this run" if filename.exists() else "is missing"
    exchange = config.get("exchange", {}).get("name", "<exchange>")
    return (
        f"Informative {pair} {timeframe} candles: {filename} {state}. Fetch them with "
        f"`freqtrade download-data --exchange {exchange} --pairs {pair} --timeframes {timeframe} "
        f"--datadir {filename.parent}` (add --timerange to cover the run and its startup candles)"
    )


def install_informative_check(interface_module) -> None:
    """Turn freqtrade's "Informative dataframe ... is empty" ValueError into
    :class:`MissingInformativeData` (outside live modes) and let ``advise_all_indicators`` skip
    the pairs it concerns."""
    original_merge = interface_module._create_and_merge_informative_pair
    if getattr(original_merge, "_pack_checked", False):
        return

    def _create_and_merge_informative_pair(strategy, *args, **kwargs):
        try:
            return original_merge(strategy, *args, **kwargs)
        except ValueError as err:
            match = _EMPTY_INFORMATIVE.match(str(err))
            if not match or strategy.config.get("runmode") in LIVE_RUNMODES:
                raise
            raise MissingInformativeData(
                missing_informative_message(strategy.config, *match.groups())
            ) from None

    _create_and_merge_informative_pair._pack_checked = True
    interface_module._create_and_merge_informative_pair = _create_and_merge_informative_pair
    strategy_cls = interface_module.IStrategy
    original_advise = strategy_cls.advise_all_indicators

    def advise_all_indicators(self, data):
        result, skipped = {}, []
        for pair, frame in data.items():
            try:
                result.update(original_advise(self, {pair: frame}))
            except MissingInformativeData as err:
                logger.warning("%s skipped: %s.", pair, err)
                skipped.append(str(err))
        if skipped and not result:
            raise OperationalException(f"No pair left to run: {skipped[0]}.")
        return result

    strategy_cls.advise_all_indicators = advise_all_indicators


# --- 3. per-pair tables ----------------------------------------------------------------------


def check_pair_tables(strategy) -> None:
    """Load every ``PairTable`` the strategy declares; a broken one -> one-line error now."""
    from plugins.quant.pair_params import pair_tables_of

    for table in pair_tables_of(strategy):
        try:
            table.load()
        except ValueError as err:
            raise OperationalException(f"{type(strategy).__name__}: {err}") from None
