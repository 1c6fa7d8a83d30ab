"""Driver side of ``ftpack-validate``: check the request, plan the tasks, fan them out on Dask.

- ``plan`` turns a ``ValidationRequest`` into ``ValidationTask``s (strategy x window, or strategy x
  walk-forward fold, plus the peer rows) after checking, in one line each, what a user can get
  wrong: unknown strategy, a timerange outside the data, a data file missing for a pair/timeframe.
- ``execute`` serves cached results from disk and sends the rest to Dask: an embedded
  ``LocalCluster`` (processes, one thread each) or an existing scheduler. Each task is one Dask
  future; a tqdm bar over ``distributed.as_completed`` shows done / left / ETA.
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from plugins.integration.validation_runner import (
    BACKTEST,
    BUY_AND_HOLD,
    BUY_AND_HOLD_NAME,
    WALK_FORWARD,
    ResultCache,
    ValidationTask,
    code_digest,
    run_task,
    task_cache_key,
)
from plugins.quant.validation import (
    Window,
    calendar_windows,
    explicit_windows,
    parse_span,
    parse_walk_forward,
    span_before,
    utc,
    walk_forward_folds,
)


SAMPLE_STRATEGY = "SampleStrategy"
PAIR_TABLE_MODES = ("refit", "committed")
SCHEDULER_TIMEOUT = "10s"


class ValidationError(Exception):
    """A problem the user can fix, explained in one line."""


@dataclass
class ValidationRequest:
    """What the user asked for (the CLI flags, resolved to paths)."""

    userdir: Path
    configs: list[Path]
    datadir: Path
    strategies: list[str] | None = None
    timerange: str | None = None
    windows: str = "6M"
    walk_forward: str | None = None
    anchored: bool = False
    epochs: int = 30
    spaces: list[str] = field(default_factory=lambda: ["buy", "sell"])
    hyperopt_loss: str = "SharpeHyperOptLossDaily"
    peers: bool = True
    workers: int = 2
    scheduler: str | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    strategy_settings: dict = field(default_factory=dict)  # user_data/demo.json "strategies"
    # Per-pair tables (ema_periods.json): "refit" fits them for each window on the table_fit_span
    # before it (walk-forward: on the fold's train span); "committed" uses the file as it is.
    pair_tables: str = "refit"
    table_fit_span: str = "6M"


@dataclass
class Plan:
    tasks: list[ValidationTask]
    windows: list[Window]
    strategy_files: dict[str, str | None]
    pairs: tuple[str, ...]
    folds: list = field(default_factory=list)


# --- discovery and checks ------------------------------------------------------------------------


def discover_strategies(userdir: Path) -> dict[str, dict]:
    """Pack strategies in ``userdir/strategies``: name -> {file, timeframe}."""
    from freqtrade.resolvers import StrategyResolver

    folder = (userdir / "strategies").resolve()
    found = StrategyResolver.search_all_objects(
        {"user_data_dir": userdir, "strategy_path": str(folder)}, enum_failed=False
    )
    return {
        s["name"]: {"file": str(Path(s["location"]).resolve()),
                    "timeframe": getattr(s["class"], "timeframe", "1h")}
        for s in found if Path(s["location"]).resolve().parent == folder
    }


def sample_strategy() -> dict:
    """Freqtrade's own SampleStrategy template, the naive peer row."""
    import freqtrade

    path = Path(freqtrade.__file__).parent / "templates" / "sample_strategy.py"
    return {"file": str(path), "path": str(path.parent)}


def merged_config(configs: list[Path]) -> dict:
    from freqtrade.configuration.load_config import load_from_files

    for path in configs:
        if not path.is_file():
            raise ValidationError(f"Config file {path} not found; pass an existing --config.")
    return load_from_files([str(p) for p in configs])


def data_file(datadir: Path, pair: str, timeframe: str) -> Path:
    return datadir / f"{pair.replace('/', '_')}-{timeframe}.feather"


def missing_data(datadir: Path, pairs, timeframe: str) -> list[str]:
    return [p for p in pairs if not data_file(datadir, p, timeframe).is_file()]


def data_span(datadir: Path, pairs, timeframe: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First candle of the earliest pair and the end of the latest pair's last candle."""
    from freqtrade.exchange import timeframe_to_minutes

    firsts, lasts = [], []
    for pair in pairs:
        dates = pd.read_feather(data_file(datadir, pair, timeframe), columns=["date"])["date"]
        if len(dates):
            firsts.append(dates.iloc[0])
            lasts.append(dates.iloc[-1])
    if not firsts:
        raise ValidationError(f"The {timeframe} data files in {datadir} hold no candles.")
    step = pd.Timedelta(minutes=timeframe_to_minutes(timeframe))
    return utc(min(firsts)), utc(max(lasts)) + step


def requested_span(timerange: str | None, data_start, data_end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``YYYYMMDD-YYYYMMDD`` (either side may be empty) within the data span."""
    if not timerange:
        return data_start, data_end
    parts = timerange.split("-")
    if len(parts) != 2 or not all(p == "" or (p.isdigit() and len(p) == 8) for p in parts):
        raise ValidationError(f"--timerange {timerange!r} is not YYYYMMDD-YYYYMMDD.")
    start = utc(parts[0]) if parts[0] else data_start
    end = utc(parts[1]) if parts[1] else data_end
    if end <= start:
        raise ValidationError(f"--timerange {timerange}: the end is not after the start.")
    if end <= data_start or start >= data_end:
        raise ValidationError(
            f"--timerange {timerange} is outside the data ({data_start:%Y-%m-%d} -> "
            f"{data_end:%Y-%m-%d} in this datadir); pass a timerange inside it or another --datadir."
        )
    return max(start, data_start), min(end, data_end)


# --- planning ------------------------------------------------------------------------------------


def plan(request: ValidationRequest) -> Plan:
    """Check the request and build every task (strategies x windows/folds, then peers)."""
    config = merged_config(request.configs)
    pairs = tuple(config.get("exchange", {}).get("pair_whitelist", []))
    if not pairs:
        raise ValidationError("The config has no exchange.pair_whitelist; add the pairs to test.")
    if not request.datadir.is_dir():
        raise ValidationError(f"--datadir {request.datadir} does not exist.")
    known = discover_strategies(request.userdir)
    names = request.strategies or sorted(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationError(
            f"Unknown strategy {', '.join(unknown)}; available in "
            f"{request.userdir / 'strategies'}: {', '.join(sorted(known))}."
        )
    skip_reasons = timeframe_checks(request, names, known, pairs)
    runnable = [n for n in names if n not in skip_reasons] or names
    span_timeframe = known[runnable[0]]["timeframe"] if runnable[0] not in skip_reasons else "1h"
    data_start, data_end = data_span(request.datadir, pairs, span_timeframe)
    start, end = requested_span(request.timerange, data_start, data_end)
    folds = []
    try:
        if request.walk_forward:
            train, test = parse_walk_forward(request.walk_forward)
            folds = walk_forward_folds(start, end, train, test, anchored=request.anchored)
            windows = [f.test for f in folds]
        elif request.windows and request.windows[0].isdigit() and "-" in request.windows:
            windows = explicit_windows(request.windows)
        else:
            windows = calendar_windows(start, end, request.windows)
    except ValueError as err:
        raise ValidationError(str(err)) from None
    outside = [w.label for w in windows if w.end <= data_start or w.start >= data_end]
    if outside:
        raise ValidationError(
            f"Window {', '.join(outside)} is outside the data ({data_start:%Y-%m-%d} -> "
            f"{data_end:%Y-%m-%d}); pick windows inside it or another --datadir."
        )
    if request.pair_tables not in PAIR_TABLE_MODES:
        raise ValidationError(f"--pair-tables {request.pair_tables!r} is not one of "
                              f"{', '.join(PAIR_TABLE_MODES)}.")
    try:
        parse_span(request.table_fit_span)
    except ValueError as err:
        raise ValidationError(f"--table-fit-span: {err}") from None
    refit = request.pair_tables == "refit"
    base = dict(configs=tuple(str(p.resolve()) for p in request.configs),
                userdir=str(request.userdir.resolve()), datadir=str(request.datadir.resolve()),
                fee=float(config.get("fee") or 0.001),
                balance=float(config.get("dry_run_wallet", 1000)))
    tasks = []
    for name in names:
        settings = request.strategy_settings.get(name, {})
        extra_configs = tuple(str((request.userdir / c).resolve()) for c in settings.get("config", []))
        common = dict(base, configs=base["configs"] + extra_configs, name=name, strategy=name,
                      timeframe=known[name]["timeframe"], freqaimodel=settings.get("freqaimodel"),
                      skip_reason=skip_reasons.get(name))
        if folds:
            tasks += [ValidationTask(kind=WALK_FORWARD, window=f.test, train=f.train,
                                     table_fit=f.train if refit else None,
                                     epochs=request.epochs, spaces=tuple(request.spaces),
                                     hyperopt_loss=request.hyperopt_loss, **common) for f in folds]
        else:
            tasks += [ValidationTask(kind=BACKTEST, window=w, **common,
                                     table_fit=span_before(w, request.table_fit_span) if refit else None)
                      for w in windows]
    files = {n: known[n]["file"] for n in names}
    if request.peers:
        timeframes = sorted({known[n]["timeframe"] for n in runnable if n not in skip_reasons}
                            or {"1h"})
        sample = sample_strategy()
        for timeframe in timeframes:
            suffix = "" if len(timeframes) == 1 else f" {timeframe}"
            for window in windows:
                tasks.append(ValidationTask(kind=BUY_AND_HOLD, name=BUY_AND_HOLD_NAME + suffix,
                                            window=window, timeframe=timeframe, pairs=pairs, peer=True,
                                            **base))
                tasks.append(ValidationTask(kind=BACKTEST, name=SAMPLE_STRATEGY + suffix,
                                            strategy=SAMPLE_STRATEGY, strategy_path=sample["path"],
                                            window=window, timeframe=timeframe, peer=True, **base))
            files[SAMPLE_STRATEGY + suffix] = sample["file"]
            files[BUY_AND_HOLD_NAME + suffix] = None
    return Plan(tasks=tasks, windows=windows, strategy_files=files, pairs=pairs, folds=folds)


def timeframe_checks(request: ValidationRequest, names, known, pairs) -> dict[str, str]:
    """Strategies whose data files are missing: an error when named, a skipped row otherwise."""
    reasons = {}
    for name in names:
        timeframe = known[name]["timeframe"]
        settings = request.strategy_settings.get(name, {})
        strategy_pairs = pairs
        for extra in settings.get("config", []):
            extra_config = merged_config([request.userdir / extra])
            strategy_pairs = tuple(extra_config.get("exchange", {}).get("pair_whitelist",
                                                                        strategy_pairs))
        missing = missing_data(request.datadir, strategy_pairs, timeframe)
        if not missing:
            continue
        message = (f"{request.datadir} has no {timeframe} candles for {', '.join(missing)} "
                   f"({name} trades {timeframe})")
        if request.strategies:
            raise ValidationError(
                f"{message}; download them (freqtrade download-data -t {timeframe}) or pass "
                "another --datadir."
            )
        reasons[name] = message
    return reasons


# --- execution -----------------------------------------------------------------------------------


def open_client(workers: int, scheduler: str | None):
    """A Dask client: to ``scheduler`` when given, else to an embedded LocalCluster."""
    import dask
    from distributed import Client, LocalCluster

    # Freqtrade's Hyperopt starts helper processes (log queue, joblib); daemonic workers may not.
    dask.config.set({"distributed.worker.daemon": False})
    if scheduler:
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            raise ValidationError(
                f"Dask scheduler {scheduler} did not answer within {SCHEDULER_TIMEOUT} "
                f"({type(err).__name__}); start it (`dask scheduler`) and its workers, "
                "or drop --scheduler to use the local machine."
            ) from None
    if workers < 1:
        raise ValidationError(f"--workers {workers}: need at least 1.")
    # No dashboard; the scheduler's small HTTP server on a free port (several engineers or runs
    # may share this machine, so the fixed default 8787 can be taken).
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           scheduler_kwargs={"dashboard_address": ":0"})
    return Client(cluster)


def close_client(client) -> None:
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def cache_keys(plan_: Plan) -> list[str]:
    digests: dict[str | None, str] = {}
    keys = []
    for task in plan_.tasks:
        source = plan_.strategy_files.get(task.name)
        if source not in digests:
            digests[source] = code_digest(source)
        keys.append(task_cache_key(task, plan_.pairs, digests[source]))
    return keys


def execute(plan_: Plan, request: ValidationRequest, progress: bool = True) -> tuple[list, dict]:
    """Results in task order (cached ones from disk, the rest computed on Dask) and timings."""
    started = time.perf_counter()
    cache = ResultCache(request.cache_dir or request.userdir / "validate" / "cache",
                        enabled=request.use_cache)
    keys = cache_keys(plan_)
    results: list[dict | None] = [cache.get(k) for k in keys]
    for result in results:
        if result is not None:
            result["cached"] = True
    todo = [i for i, r in enumerate(results) if r is None]
    cluster_seconds = 0.0
    if todo:
        cluster_started = time.perf_counter()
        client = open_client(request.workers, request.scheduler)
        cluster_seconds = time.perf_counter() - cluster_started
        try:
            _compute(client, plan_, keys, todo, results, cache, progress)
        finally:
            close_client(client)
    timing = {
        "wall_seconds": time.perf_counter() - started,
        "cluster_start_seconds": cluster_seconds,
        "task_seconds": sum(r.get("seconds", 0.0) for i, r in enumerate(results) if i in todo),
        "tasks": len(keys),
        "computed": len(todo),
        "cached": len(keys) - len(todo),
        "workers": request.workers if not request.scheduler else None,
        "scheduler": request.scheduler,
    }
    return results, timing


def _compute(client, plan_: Plan, keys, todo, results, cache, progress: bool) -> None:
    from distributed import as_completed
    from tqdm import tqdm

    futures = {}
    for i in todo:
        task = plan_.tasks[i]
        future = client.submit(run_task, task, key=f"validate-{task.name}-{task.window.label}-"
                               f"{keys[i][:16]}", pure=False)
        futures[future] = i
    bar = tqdm(total=len(todo), desc="ftpack-validate", unit="task", disable=not progress,
               dynamic_ncols=True)
    with bar:
        for future in as_completed(futures):
            i = futures[future]
            task = plan_.tasks[i]
            if future.status == "error":
                # The worker itself died (e.g. out of memory): the cell fails, the report goes on.
                err = future.exception()
                result = {"name": task.name, "kind": task.kind, "window": task.window.label,
                          "start": str(task.window.start), "end": str(task.window.end),
                          "partial": task.window.partial, "peer": task.peer, "status": "failed", "seconds": 0.0,
                          "reason": f"{type(err).__name__}: {' '.join(str(err).split())}"[:300]}
            else:
                result = future.result()
                cache.put(keys[i], result)
            results[i] = result
            bar.set_postfix_str(f"{task.name} {task.window.label} {result['status']}")
            bar.update(1)
