"""``ftpack-validate``: every strategy in every market era, one Dask task per (strategy x window).

Backtests each strategy with freqtrade's own Backtesting on calendar windows (``--windows 6M``) or
walk-forward folds (``--walk-forward 2Y:6M``: freqtrade's Hyperopt on each train span, the chosen
parameters backtested on the next test span), beside equal-weight buy-and-hold and freqtrade's
SampleStrategy, and writes ``report.html``, ``report.md`` and ``results.json`` to ``--out``.
See docs/validation.md.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from plugins.integration.freqtrade_hooks import OFFLINE_ENV


USER_DATA = Path("user_data")
DEFAULT_CONFIGS = ("config.json", "config.validate.json")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ftpack-validate", description=__doc__.split("\n")[0])
    p.add_argument("--strategy", "-s", nargs="+", help="strategies (default: every pack strategy)")
    p.add_argument("--config", "-c", action="append", type=Path,
                   help="config file, stackable (default: user_data/config.json + config.validate.json)")
    p.add_argument("--userdir", type=Path, default=USER_DATA, help="user_data directory")
    p.add_argument("--datadir", type=Path, help="candle directory (default: userdir/data/binance)")
    p.add_argument("--timerange", help="YYYYMMDD-YYYYMMDD (default: the whole data span)")
    p.add_argument("--windows", default="6M",
                   help="calendar windows: 6M, 3M, 1Y, ... or YYYYMMDD-YYYYMMDD,YYYYMMDD-YYYYMMDD")
    p.add_argument("--walk-forward", metavar="TRAIN:TEST",
                   help="e.g. 2Y:6M: hyperopt on each train span, backtest on the next test span")
    p.add_argument("--anchored", action="store_true",
                   help="walk-forward train spans all start at the timerange start (default rolling)")
    p.add_argument("--epochs", "-e", type=int, default=30, help="hyperopt epochs per fold")
    p.add_argument("--spaces", nargs="+", default=["buy", "sell"], help="hyperopt spaces")
    p.add_argument("--hyperopt-loss", default="SharpeHyperOptLossDaily", help="hyperopt loss")
    p.add_argument("--pair-tables", choices=("refit", "committed"), default="refit",
                   help="per-pair tables (ema_periods.json): refit for each window on the span "
                        "before it (default), or the committed file as it is")
    p.add_argument("--table-fit-span", default="6M",
                   help="refit: the span before each window the tables are fitted on (default 6M)")
    p.add_argument("--no-peers", dest="peers", action="store_false",
                   help="leave out the buy-and-hold and SampleStrategy rows")
    p.add_argument("--peers", dest="peers", action="store_true", default=True,
                   help="baseline rows: buy-and-hold and SampleStrategy (default on)")
    p.add_argument("--out", type=Path, help="report directory (default: userdir/validate)")
    p.add_argument("--workers", "-j", type=int, default=os.cpu_count() or 1,
                   help="local Dask worker processes, one thread each (default: one per core)")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument("--no-cache", dest="use_cache", action="store_false",
                   help="recompute every task (default: reuse cached results)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--png", type=Path, help="also write the headline figure (needs matplotlib)")
    p.add_argument("--from-results", type=Path, nargs="+", metavar="RESULTS_JSON",
                   help="re-render the reports of earlier runs' results.json (no backtests); with "
                        "several files of the same windows, one report: a row of a later file "
                        "replaces the row of the same name in an earlier one")
    return p


def build_request(args):
    from plugins.integration.validation_engine import ValidationError, ValidationRequest

    userdir = args.userdir
    configs = args.config or [userdir / name for name in DEFAULT_CONFIGS]
    settings_path = userdir / "demo.json"  # per-strategy extra configs, shared with ftpack-demo
    try:
        settings = json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.is_file() else {}
    except ValueError as err:
        raise ValidationError(f"{settings_path} is not valid JSON ({err}); fix or delete it.") from None
    return ValidationRequest(
        userdir=userdir, configs=list(configs), datadir=args.datadir or userdir / "data" / "binance",
        strategies=args.strategy, timerange=args.timerange, windows=args.windows,
        walk_forward=args.walk_forward, anchored=args.anchored, epochs=args.epochs,
        spaces=args.spaces, hyperopt_loss=args.hyperopt_loss, peers=args.peers,
        workers=args.workers, scheduler=args.scheduler, use_cache=args.use_cache,
        strategy_settings=settings.get("strategies", {}),
        pair_tables=args.pair_tables, table_fit_span=args.table_fit_span,
    )


def load_results(path: Path) -> dict:
    from plugins.integration.validation_engine import ValidationError

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["meta"]["windows"]
        doc["results"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValidationError(f"{path} is not a results.json of ftpack-validate "
                              f"({type(err).__name__}).") from None
    return doc


def merge_results(docs: list[dict], paths: list[Path]) -> dict:
    """One report document from runs over the same windows; later files' rows replace earlier ones."""
    from plugins.commands.validate_report import assemble
    from plugins.integration.validation_engine import ValidationError
    from plugins.quant.validation import Window

    import pandas as pd

    first = docs[0]
    for doc, path in zip(docs[1:], paths[1:]):
        if doc["meta"]["windows"] != first["meta"]["windows"]:
            raise ValidationError(f"{path} has other windows than {paths[0]} "
                                  f"({', '.join(doc['meta']['windows'])}); merge runs of the same windows.")
    results: dict[str, list[dict]] = {}
    for doc in docs:
        for name in dict.fromkeys(r["name"] for r in doc["results"]):
            results[name] = [r for r in doc["results"] if r["name"] == name]
    spans = first["meta"]["window_spans"]
    windows = [Window(label, pd.Timestamp(spans[label][0]), pd.Timestamp(spans[label][1]), spans[label][2])
               for label in first["meta"]["windows"]]
    # The report's timing line then reads as the sum over the merged runs.
    timing = {key: sum(d["timing"].get(key, 0) for d in docs)
              for key in ("tasks", "computed", "cached", "wall_seconds", "task_seconds")}
    timing["merged_from"] = [str(p) for p in paths]
    meta = {**first["meta"], "configs": sorted({c for d in docs for c in d["meta"].get("configs", [])})}
    return assemble([r for rows in results.values() for r in rows], windows, timing, meta)


def rerender(args) -> list[Path]:
    from plugins.commands.validate_report import write_reports

    paths = list(args.from_results)
    docs = [load_results(p) for p in paths]
    doc = docs[0] if len(docs) == 1 else merge_results(docs, paths)
    return write_reports(doc, args.out or paths[0].parent)


def write_png(args, out_dir: Path) -> Path:
    from plugins.commands.validate_report import render_png
    from plugins.integration.validation_engine import ValidationError

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValidationError("--png needs matplotlib: .venv/bin/pip install matplotlib") from None
    doc = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    return render_png(doc, args.png)


def run(args) -> list[Path]:
    from plugins.commands.validate_report import assemble, write_reports
    from plugins.integration.validation_engine import execute, plan

    if args.from_results:
        return rerender(args)
    request = build_request(args)
    planned = plan(request)
    results, timing = execute(planned, request, progress=args.progress)
    windows = planned.windows
    meta = {"datadir": str(request.datadir), "configs": [str(c) for c in request.configs],
            "start": str(windows[0].start), "end": str(windows[-1].end),
            "walk_forward": request.walk_forward, "anchored": request.anchored,
            "pair_tables": request.pair_tables, "table_fit_span": request.table_fit_span,
            "title": (f"walk-forward {request.walk_forward}" if request.walk_forward
                      else f"{request.windows} windows")}
    doc = assemble(results, windows, timing, meta)
    return write_reports(doc, args.out or request.userdir / "validate")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Offline by definition: bundled markets, local candles. Must be set before freqtrade's exchange
    # module is imported (the pack hook reads it then); Dask's local workers inherit it.
    os.environ.setdefault(OFFLINE_ENV, "1")
    import logging

    logging.disable(logging.WARNING)
    from freqtrade.exceptions import FreqtradeException

    from plugins.integration.validation_engine import ValidationError

    try:
        paths = run(args)
        if args.png:
            paths.append(write_png(args, paths[0].parent))
    except (ValidationError, FreqtradeException) as err:
        print(f"ftpack-validate: ERROR: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ftpack-validate: interrupted; finished cells are cached, rerun to go on.",
              file=sys.stderr)
        return 130
    print("Written: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
