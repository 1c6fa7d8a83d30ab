"""Freqtrade-running side of ``ftpack-validate``: one task = one (strategy x window x fold).

``run_task`` is what a Dask worker executes. It runs freqtrade's own in-process ``Backtesting``
(and, for walk-forward folds, freqtrade's own ``Hyperopt`` on the train span first) offline through
the pack's mechanism (``FREQTRADE_PACK_OFFLINE=1``), and returns a plain, JSON-ready dict: the row
metrics, a daily mark-to-market equity curve, or ``status = "failed"`` with a one-line reason. It
never raises, so one crashing cell cannot stop the rest of the report.

The equal-weight buy-and-hold peer is measured with the same freqtrade wallet metrics as the
strategies (``plugins.integration.wallet_metrics``).

``task_cache_key`` hashes what determines a result (strategy source and the pack code it runs, config
files, task parameters, the data files of the window, freqtrade's version); ``ResultCache`` keeps
finished results on disk under that key.
"""

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from plugins import PACK_DIR
from plugins.integration.freqtrade_hooks import OFFLINE_ENV
from plugins.quant.validation import Window, buy_and_hold_wallet, time_in_market


BACKTEST, BUY_AND_HOLD, WALK_FORWARD = "backtest", "buy_and_hold", "walk_forward"
BUY_AND_HOLD_NAME = "Buy & hold"
FREQTRADE_UNDEFINED_RATIO = -100.0  # freqtrade.data.metrics._calculate_annualized_ratio
CACHE_VERSION = 1  # bump when the result layout changes
BACKTEST_OPTIONS = ["--export", "none", "--cache", "none"]


@dataclass(frozen=True)
class ValidationTask:
    """Everything a worker needs to compute one cell; plain data so Dask can ship it."""

    kind: str
    name: str                       # row name in the report (strategy name or peer label)
    window: Window                  # the judged (test) span
    configs: tuple[str, ...]        # absolute config paths, stacked in order
    userdir: str
    datadir: str
    strategy: str | None = None     # freqtrade strategy class (None for buy-and-hold)
    strategy_path: str | None = None
    timeframe: str = "1h"
    freqaimodel: str | None = None
    train: Window | None = None     # walk-forward: the span hyperopt optimises on
    table_fit: Window | None = None  # the span the strategy's per-pair tables are fitted on
    epochs: int = 0
    spaces: tuple[str, ...] = ()
    hyperopt_loss: str | None = None
    pairs: tuple[str, ...] = ()     # buy-and-hold: the pairs held
    fee: float = 0.001
    balance: float = 1000.0
    skip_reason: str | None = None  # known before running (e.g. timeframe absent from the datadir)
    peer: bool = False              # a baseline row (buy-and-hold, SampleStrategy)
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self):
        if self.kind not in (BACKTEST, BUY_AND_HOLD, WALK_FORWARD):
            raise ValueError(f"unknown task kind {self.kind!r}")
        if self.kind != BUY_AND_HOLD and not self.strategy:
            raise ValueError(f"{self.kind} task needs a strategy")
        if self.kind == WALK_FORWARD and (self.train is None or self.epochs < 1):
            raise ValueError("walk-forward task needs a train window and epochs >= 1")

    @property
    def cell(self) -> str:
        return f"{self.name} @ {self.window.label}"


# --- timeranges ----------------------------------------------------------------------------------


def freqtrade_timerange(window: Window) -> str:
    """Freqtrade timerange (epoch seconds) covering ``[start, end)``.

    Freqtrade keeps candles up to and including its stop date, so the stop is one second before
    ``end``: consecutive windows share no candle.
    """
    return f"{int(window.start.timestamp())}-{int(window.end.timestamp()) - 1}"


def one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return f"{type(err).__name__}: {text}"[:300]


# --- cache ---------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Pack code that runs in every backtest whatever the strategy: the start-up hook and what it loads
# (offline exchange, market snapshot, guards), and the pairlists/protections a config may name.
ALWAYS_LOADED = ("integration/freqtrade_hooks.py", "pairlists", "protections")


def pack_module_file(module: str) -> Path | None:
    """The file of a ``plugins.*`` module (None for anything outside the pack)."""
    parts = module.split(".")
    if parts[0] != "plugins":
        return None
    base = PACK_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_pack_files(path: Path, strategy_dir: Path | None = None) -> set[Path]:
    """Pack modules a source file imports (also inside functions), read from its syntax tree.

    With ``strategy_dir``, also the modules of that folder imported by their bare name: freqtrade
    puts the strategy folder on ``sys.path``, so ``from EmaBbTrend import EmaBbTrend`` in
    RegimeHybrid runs the sibling file.
    """
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(f for name in names if (f := pack_module_file(name)) is not None)
        if strategy_dir is not None:
            found.update(f for name in names
                         if (f := strategy_dir / f"{name}.py").is_file() and "." not in name)
    return found


def code_digest(strategy_file: str | None) -> str:
    """Digest of the strategy source, every module it runs and the data files beside it.

    Modules: the pack modules it imports (transitively) and the strategy-folder modules it imports
    by bare name. Data files: every ``*.json`` in the strategy folder (freqtrade's parameter file
    ``<Strategy>.json``, the per-pair tables such as ``ema_periods.json``), since both change a
    backtest without a line of code changing. Only what a result depends on counts, so editing an
    unrelated pack module (or the report) keeps the cache, while editing a mixin the strategy
    inherits, a parent strategy or a table invalidates it.
    """
    seeds = [PACK_DIR / entry for entry in ALWAYS_LOADED]
    todo = [f for seed in seeds for f in ([seed] if seed.is_file() else sorted(seed.glob("*.py")))]
    strategy_dir = Path(strategy_file).parent if strategy_file else None
    if strategy_file:
        todo.append(Path(strategy_file))
        todo.extend(sorted(strategy_dir.glob("*.json")))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix == ".py":
            todo.extend(imported_pack_files(path, strategy_dir) - seen)
    digest = hashlib.sha256()
    for path in sorted(seen):
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def data_files_digest(datadir: str, pairs: tuple[str, ...], timeframes: tuple[str, ...]) -> str:
    """Size and modification time of each data file the task may read (cheap, changes on rewrite)."""
    digest = hashlib.sha256()
    for pair in sorted(pairs):
        for timeframe in sorted(timeframes):
            path = Path(datadir) / f"{pair.replace('/', '_')}-{timeframe}.feather"
            stat = path.stat() if path.is_file() else None
            digest.update(f"{path.name}:{stat and (stat.st_size, stat.st_mtime_ns)}".encode())
    return digest.hexdigest()


def task_cache_key(task: ValidationTask, pairs: tuple[str, ...], code: str) -> str:
    """Hash of everything that determines the task's result (``code``: ``code_digest``)."""
    import freqtrade

    payload = {
        "version": CACHE_VERSION,
        "freqtrade": freqtrade.__version__,
        "task": {k: v for k, v in asdict(task).items() if k not in ("extra", "configs", "userdir")},
        "window": [str(task.window.start), str(task.window.end)],
        "train": [str(task.train.start), str(task.train.end)] if task.train else None,
        "table_fit": [str(task.table_fit.start), str(task.table_fit.end)] if task.table_fit else None,
        "configs": [_file_digest(Path(c)) for c in task.configs],
        "code": code,
        "data": data_files_digest(task.datadir, pairs, ("5m", "15m", "1h", "4h", "1d")),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class ResultCache:
    """Finished task results as JSON files named by their cache key."""

    def __init__(self, directory: Path, enabled: bool = True):
        self.directory = Path(directory)
        self.enabled = enabled
        if enabled:
            self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"cache key {key!r} is not a hex digest")
        return self.directory / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return None  # a torn write: recompute

    def put(self, key: str, result: dict) -> None:
        # Failed cells are not cached: a crash may be fixed without a source change (data, env).
        if not self.enabled or result.get("status") != "ok":
            return
        path = self._path(key)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result), encoding="utf-8")
        tmp.replace(path)


# --- running one task (on a worker) --------------------------------------------------------------


def run_task(task: ValidationTask) -> dict[str, Any]:
    """Compute one cell; always returns a result dict (``status`` ok / failed / skipped)."""
    started = time.perf_counter()
    base = {"name": task.name, "kind": task.kind, "window": task.window.label,
            "start": str(task.window.start), "end": str(task.window.end),
            "partial": task.window.partial, "peer": task.peer}
    if task.skip_reason:
        return {**base, "status": "skipped", "reason": task.skip_reason, "seconds": 0.0}
    os.environ.setdefault(OFFLINE_ENV, "1")
    # Freqtrade's configuration re-enables INFO logging; the report carries what matters.
    logging.disable(logging.WARNING)
    # After an in-process Hyperopt, Dask's worker fails to pickle the result's *type* (``dict``)
    # for its bookkeeping, logs a traceback at ERROR and falls back to the type's name; the result
    # itself travels fine. A real serialisation failure still fails the future (a failed cell).
    logging.getLogger("distributed.protocol.pickle").setLevel(logging.CRITICAL)
    try:
        if task.kind == BUY_AND_HOLD:
            metrics = _buy_and_hold(task)
        elif task.kind == WALK_FORWARD:
            metrics = _walk_forward(task)
        else:
            metrics = _backtest(task)
        result = {**base, "status": "ok", **metrics}
    except Exception as err:  # noqa: BLE001 - a crashing cell becomes a failed cell, never a crash
        result = {**base, "status": "failed", "reason": one_line(err)}
    except SystemExit as err:  # freqtrade exits on some configuration errors
        result = {**base, "status": "failed", "reason": f"SystemExit: {err}"}
    result["seconds"] = time.perf_counter() - started
    return result


def _config(task: ValidationTask, window: Window, command: str, options: list[str] = ()) -> dict:
    """Freqtrade's configuration for ``freqtrade <command>`` with the task's flags.

    The flags go through freqtrade's own argument parser, so every default is the stock CLI's.
    """
    from freqtrade.commands import Arguments
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    argv = [command]
    for path in task.configs:
        argv += ["--config", path]
    argv += ["--userdir", task.userdir, "--datadir", task.datadir, "--strategy", task.strategy,
             "--timerange", freqtrade_timerange(window), "--timeframe", task.timeframe,
             *options]
    if task.strategy_path:
        argv += ["--strategy-path", task.strategy_path]
    if task.freqaimodel:
        argv += ["--freqaimodel", task.freqaimodel]
    args = Arguments(argv).get_parsed_arg()
    runmode = RunMode.HYPEROPT if command == "hyperopt" else RunMode.BACKTEST
    config = Configuration(args, runmode).get_config()
    if config.get("freqai", {}).get("enabled"):
        # Fresh models per cell, under an identifier no other cell or user run shares.
        identifier = f"validate-{task.name}-{window.label}-{int(window.start.timestamp())}"
        config["freqai"]["identifier"] = identifier
        shutil.rmtree(Path(config["user_data_dir"]) / "models" / identifier, ignore_errors=True)
    return config


def daily_equity(wallet_summary: pd.DataFrame, start_balance: float, start) -> pd.Series:
    """Freqtrade's per-candle wallet captures -> daily closing mark-to-market balance."""
    frame = wallet_summary.assign(total_quote=wallet_summary["rate"] * wallet_summary["balance"])
    total = frame.groupby("date")["total_quote"].sum().sort_index()
    daily = total.resample("1D").last().dropna()
    first = pd.Series([start_balance], index=[pd.Timestamp(start)])
    return pd.concat([first, daily[daily.index > first.index[0]]])


def equity_points(equity: pd.Series) -> list[list]:
    return [[ts.isoformat(), round(float(v), 6)] for ts, v in equity.items()]


@contextlib.contextmanager
def pair_tables_fitted_on(strategy, config: dict, span: Window | None):
    """The strategy's per-pair tables (``PairTable`` attributes) fitted on ``span`` only.

    Yields ``{table section: fitted pairs}`` (empty when there is no span or no table). The fit is
    ``plugins.quant.pair_params.fit_table`` on the config's pairs and candle directory, the same
    as ``python -m plugins.commands.fit_pair_params``; a pair without candles in the span (or too
    few signals) keeps the table's default. The committed tables are back after the block.
    """
    from plugins.quant.pair_params import fit_table, pair_tables_of

    tables = pair_tables_of(strategy)
    if span is None or not tables:
        yield {}
        return
    fitted = fit_table(Path(config["datadir"]), config["exchange"]["pair_whitelist"],
                       f"{span.start:%Y%m%d}-{span.end:%Y%m%d}")
    with contextlib.ExitStack() as stack:
        for table in tables:
            # the committed table's defaults, the periods fitted on the span per pair
            section = {"default": table.load()["default"], "pairs": fitted[table.strategy]["pairs"]}
            stack.enter_context(table.replaced_by(section))
        yield {table.strategy: fitted[table.strategy]["pairs"] for table in tables}


def backtest_metrics(config: dict, strategy_params: dict | None = None,
                     table_fit: Window | None = None) -> dict[str, Any]:
    """Run freqtrade's Backtesting for ``config``; the row metrics and the daily equity curve.

    ``table_fit``: fit the strategy's per-pair tables on that span first (``pair_tables_fitted_on``).
    """
    from freqtrade.optimize.backtesting import Backtesting

    engine = Backtesting(config)
    engine.progress = None  # freqtrade's live bars would interleave across workers; tqdm reports
    name = config["strategy"]
    if strategy_params:
        apply_parameters(engine.strategylist[0], strategy_params)
    with contextlib.redirect_stdout(io.StringIO()), \
            pair_tables_fitted_on(engine.strategylist[0], config, table_fit) as tables:
        engine.start()  # freqtrade's own report tables go to the redirected stdout
    stats = engine.results["strategy"][name]
    wallet = stats.get("wallet_stats") or {}
    balance = float(config["dry_run_wallet"])
    content = engine.all_bt_content[name]
    summary = content.get("wallet_summary")
    start = pd.Timestamp(stats["backtest_start"], tz="UTC")
    end = pd.Timestamp(stats["backtest_end"], tz="UTC")
    if summary is not None and not summary.empty:
        equity = daily_equity(summary, balance, start)
    else:
        equity = pd.Series([balance, balance], index=[start, end])
    trades = stats["trades"]
    opens = [t["open_date"] for t in trades]
    closes = [t["close_date"] for t in trades]
    total = int(stats["total_trades"])
    return {
        "trades": total,
        "profit_pct": float(stats["profit_total"]) * 100,
        "max_drawdown_pct": float(wallet.get("max_drawdown_account", 0.0)) * 100,
        "calmar": defined_ratio(wallet.get("calmar", stats["calmar"])),
        "sharpe": defined_ratio(wallet.get("sharpe", stats["sharpe"])),
        "win_rate_pct": (int(stats["wins"]) / total * 100) if total else 0.0,
        "time_in_market_pct": time_in_market(opens, closes, start, end) * 100 if end > start else 0.0,
        "pairs": len(stats["pairlist"]),
        **({"pair_tables": tables, "table_fit_start": str(table_fit.start),
            "table_fit_end": str(table_fit.end)} if tables else {}),
        "backtest_start": stats["backtest_start"],
        "backtest_end": stats["backtest_end"],
        "equity": equity_points(equity),
    }


def defined_ratio(value) -> float | None:
    """Freqtrade's ratio, or None where freqtrade returns its -100 "zero denominator" sentinel.

    A window without trades (flat wallet) has no drawdown and no variance; -100 there would rank
    it as the worst window in the report instead of an empty one.
    """
    value = float(value)
    return None if value == FREQTRADE_UNDEFINED_RATIO else value


def apply_parameters(strategy, params: dict[str, dict]) -> None:
    """Give a loaded strategy hyperopt's chosen values ({space: {name: value}}).

    Through freqtrade's own parameter-file path (the dict a ``<Strategy>.json`` export would hold),
    so ROI, stoploss, trailing and every buy/sell/protection parameter are set exactly as a
    backtest after ``freqtrade hyperopt`` would set them, without writing a file.
    """
    strategy._ft_params_from_file = params
    strategy.ft_load_hyper_params(hyperopt=False)
    strategy.ft_set_special_params_from_file()


def _backtest(task: ValidationTask) -> dict[str, Any]:
    return backtest_metrics(_config(task, task.window, "backtesting", BACKTEST_OPTIONS),
                            table_fit=task.table_fit)


def _hyperopt(task: ValidationTask) -> tuple[dict, float]:
    """Freqtrade's Hyperopt on the train span; returns (best params by space, best profit %)."""
    from freqtrade.optimize.hyperopt import Hyperopt

    # A private userdir per fold: hyperopt locks its userdir and writes results files there.
    with tempfile.TemporaryDirectory(prefix="ftpack-validate-") as scratch:
        userdir = Path(scratch) / "user_data"
        userdir.mkdir()
        for name in ("data", "markets", "strategies", "freqaimodels", "hyperopts"):
            source = Path(task.userdir) / name
            if source.exists():
                (userdir / name).symlink_to(source.resolve())
        local = replace(task, userdir=str(userdir))
        config = _config(local, task.train, "hyperopt", [
            "--epochs", str(task.epochs), "--spaces", *task.spaces,
            "--hyperopt-loss", task.hyperopt_loss, "-j", "1", "--random-state", "1",
            "--disable-param-export", "--no-color",
        ])
        if not config.get("strategy_path") and not task.strategy_path:
            config["strategy_path"] = str((Path(task.userdir) / "strategies").resolve())
        hyperopt = Hyperopt(config)
        quiet = io.StringIO()  # freqtrade's epoch table and progress bar
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), \
                pair_tables_fitted_on(hyperopt.hyperopter.backtesting.strategy, config, task.table_fit):
            hyperopt.start()
        best = hyperopt.current_best_epoch
        if not best:
            raise RuntimeError(f"hyperopt found no result on {task.train.label}")
        params = best["params_details"]
        in_sample = float(best["results_metrics"]["profit_total"]) * 100
    return params, in_sample


def _walk_forward(task: ValidationTask) -> dict[str, Any]:
    params, in_sample = _hyperopt(task)
    config = _config(task, task.window, "backtesting", BACKTEST_OPTIONS)
    metrics = backtest_metrics(config, params, table_fit=task.table_fit)
    return {**metrics, "params": params, "in_sample_profit_pct": in_sample,
            "train_start": str(task.train.start), "train_end": str(task.train.end)}


def load_closes(datadir: str, timeframe: str, pairs, window: Window) -> pd.DataFrame:
    """Close prices of ``pairs`` in ``window``, one column each (pairs without data left out)."""
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import load_data

    timerange = TimeRange("date", "date", int(window.start.timestamp()),
                          int(window.end.timestamp()) - 1)
    data = load_data(Path(datadir), timeframe, list(pairs), timerange=timerange, fail_without_data=False)
    return {p: df.set_index("date") for p, df in data.items() if not df.empty}


def _buy_and_hold(task: ValidationTask) -> dict[str, Any]:
    """Equal weights in every pair that trades from the window's first day, held to its end."""
    from plugins.integration.wallet_metrics import wallet_metrics

    candles = load_closes(task.datadir, task.timeframe, task.pairs, task.window)
    first_day = task.window.start + pd.Timedelta(days=1)
    held = sorted(p for p, df in candles.items() if df.index[0] < first_day)
    if not held:
        raise ValueError(f"no pair has {task.timeframe} candles from {task.window.start:%Y-%m-%d}")
    closes = pd.DataFrame({p: candles[p]["close"] for p in held}).ffill().dropna()
    opens = pd.Series({p: candles[p]["open"].loc[closes.index[0]] for p in held})
    wallet, final = buy_and_hold_wallet(closes, opens, task.balance, task.fee)
    metrics = wallet_metrics(wallet)
    daily = wallet.set_index("date")["total_quote"]
    daily = pd.concat([daily.iloc[:1], daily.iloc[1:].resample("1D").last().dropna()])
    daily.iloc[-1] = final
    return {
        "trades": len(held),
        "profit_pct": (final / task.balance - 1) * 100,
        "max_drawdown_pct": metrics["max_drawdown"] * 100,
        "calmar": defined_ratio(metrics["calmar"]),
        "sharpe": defined_ratio(metrics["sharpe"]),
        "win_rate_pct": sum(closes[p].iloc[-1] > opens[p] for p in held) / len(held) * 100,
        "time_in_market_pct": 100.0,
        "pairs": len(held),
        "held_pairs": held,
        "backtest_start": str(closes.index[0]),
        "backtest_end": str(closes.index[-1]),
        "equity": equity_points(daily),
    }
