"""``make demo``: backtest every pack strategy offline on the bundled data, beside buy-and-hold.

Each strategy in ``user_data/strategies`` is backtested with freqtrade's own ``Backtesting`` on
``user_data/config.json`` over one common timerange. The table reports, per strategy: trades,
total profit %, max drawdown %, Sharpe and Calmar. Drawdown, Sharpe and Calmar come from freqtrade's
daily *wallet balance* metrics (mark-to-market, open positions included); the buy-and-hold row
(equal weights in the same pairs, bought at the first candle's open and held, taker fee on entry
and exit) is measured with the very same freqtrade functions, so every row is computed alike.

Optional per-strategy settings live in ``user_data/demo.json``::

    {"timerange": "20250201-20250831",
     "strategies": {"MyFreqAIStrategy": {"config": ["config.freqai.json"],
                                         "freqaimodel": "EnsembleRegressor",
                                         "timerange": "20250601-20250831"}}}

The table is printed and written to ``user_data/demo/comparison.md`` and ``comparison.json``.
"""

import argparse
import contextlib
import io
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from plugins.integration.wallet_metrics import wallet_metrics
from plugins.quant.validation import buy_and_hold_wallet


DEFAULT_TIMERANGE = "20250201-20250831"
USER_DATA = Path("user_data")


class DemoError(Exception):
    """A problem the user can fix, explained in one line."""


@dataclass
class Row:
    name: str
    trades: int
    profit_pct: float
    max_drawdown_pct: float
    sharpe: float
    calmar: float
    pairs: int
    start: str
    end: str
    seconds: float | None = None


# --- buy-and-hold baseline -----------------------------------------------------------------------


def buy_and_hold_row(config: dict, pairs: list[str], timeframe: str, start: str, end: str) -> Row:
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import load_data

    start_ts, end_ts = (int(pd.Timestamp(t, tz="UTC").timestamp()) for t in (start, end))
    timerange = TimeRange("date", "date", start_ts, end_ts)
    data = load_data(config["datadir"], timeframe, pairs, timerange=timerange,
                     data_format=config.get("dataformat_ohlcv", "feather"))
    missing = [p for p in pairs if p not in data or data[p].empty]
    if missing:
        raise DemoError(f"No {timeframe} candles for {', '.join(missing)} in {config['datadir']}.")
    closes = pd.DataFrame({p: data[p].set_index("date")["close"] for p in pairs}).dropna()
    opens = pd.Series({p: data[p].set_index("date")["open"].loc[closes.index[0]] for p in pairs})
    balance = float(config["dry_run_wallet"])
    fee = float(config.get("fee") or 0.001)
    wallet, final_balance = buy_and_hold_wallet(closes, opens, balance, fee)
    metrics = wallet_metrics(wallet)
    return Row(
        name="Buy & hold (equal weight)",
        trades=len(pairs),
        profit_pct=(final_balance / balance - 1) * 100,
        max_drawdown_pct=metrics["max_drawdown"] * 100,
        sharpe=metrics["sharpe"],
        calmar=metrics["calmar"],
        pairs=len(pairs),
        start=str(closes.index[0]),
        end=str(closes.index[-1]),
    )


# --- strategies ----------------------------------------------------------------------------------


def discover_strategies(user_data: Path) -> list[str]:
    from freqtrade.resolvers import StrategyResolver

    folder = (user_data / "strategies").resolve()
    found = StrategyResolver.search_all_objects(
        {"user_data_dir": user_data, "strategy_path": str(folder)}, enum_failed=False
    )
    return sorted({s["name"] for s in found if Path(s["location"]).resolve().parent == folder})


def load_settings(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise DemoError(f"{path} is not valid JSON ({err}); fix or delete it.") from None


def build_config(
    strategy: str, timerange: str, settings: dict[str, Any], user_data: Path = USER_DATA
) -> dict[str, Any]:
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    # Extra config files in demo.json are named relative to the user_data directory.
    configs = [str(user_data / name) for name in ["config.json", *settings.get("config", [])]]
    for path in configs:
        if not Path(path).is_file():
            raise DemoError(f"Config file {path} not found; run `make demo` from the repo root.")
    args = {
        "config": configs,
        "user_data_dir": str(user_data),
        "strategy": strategy,
        "timerange": settings.get("timerange", timerange),
        "export": "none",
        "cache": "none",
    }
    for key in ("freqaimodel", "strategy_path", "timeframe"):
        if value := settings.get(key):
            args[key] = value
    config = Configuration(args, RunMode.BACKTEST).get_config()
    if config.get("freqai", {}).get("enabled"):
        use_fresh_freqai_models(config, strategy)
    return config


def use_fresh_freqai_models(config: dict[str, Any], strategy: str) -> None:
    """Train FreqAI models afresh under a demo-only identifier.

    FreqAI reuses stored models and predictions by identifier, and a run that mixes reused and newly
    trained windows can fail its feature check. The demo never touches the user's identifier and
    always trains its own, so its table does not depend on what earlier runs left behind.
    """
    identifier = f"demo-{strategy}"
    config["freqai"]["identifier"] = identifier
    shutil.rmtree(Path(config["user_data_dir"]) / "models" / identifier, ignore_errors=True)


def check_data_files(config: dict, timeframe: str) -> None:
    """Fail early, in one line, when a pair's data file for the strategy timeframe is missing."""
    datadir = Path(config["datadir"])
    for pair in config["exchange"]["pair_whitelist"]:
        name = f"{pair.replace('/', '_')}-{timeframe}.{config.get('dataformat_ohlcv', 'feather')}"
        if not (datadir / name).is_file():
            raise DemoError(
                f"Missing data file {datadir / name} for {pair} {timeframe}. Restore the bundled "
                f"data (git checkout -- {datadir}) or remove {pair} from the pair_whitelist."
            )


def backtest(config: dict[str, Any]) -> tuple[dict[str, Any], float]:
    from freqtrade.optimize.backtesting import Backtesting

    started = time.perf_counter()
    engine = Backtesting(config)
    check_data_files(config, config["timeframe"])
    with contextlib.redirect_stdout(io.StringIO()):  # freqtrade's own report tables
        engine.start()
    elapsed = time.perf_counter() - started
    stats = engine.results["strategy"][config["strategy"]]
    return stats, elapsed


def strategy_row(name: str, stats: dict[str, Any], seconds: float) -> Row:
    wallet = stats.get("wallet_stats") or {}
    return Row(
        name=name,
        trades=int(stats["total_trades"]),
        profit_pct=float(stats["profit_total"]) * 100,
        max_drawdown_pct=float(wallet.get("max_drawdown_account", stats["max_drawdown_account"]))
        * 100,
        sharpe=float(wallet.get("sharpe", stats["sharpe"])),
        calmar=float(wallet.get("calmar", stats["calmar"])),
        pairs=len(stats["pairlist"]),
        start=stats["backtest_start"],
        end=stats["backtest_end"],
        seconds=seconds,
    )


# --- report --------------------------------------------------------------------------------------


def render_markdown(rows: list[Row]) -> str:
    header = "| Strategy | Trades | Profit % | Max DD % | Sharpe | Calmar | Pairs | Period |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.trades} | {r.profit_pct:.2f} | {r.max_drawdown_pct:.2f} | "
            f"{r.sharpe:.2f} | {r.calmar:.2f} | {r.pairs} | {r.start[:10]} → {r.end[:10]} |"
        )
    lines.append("")
    lines.append(
        "Max DD, Sharpe and Calmar: freqtrade's daily wallet-balance metrics (mark-to-market). "
        "Buy & hold: equal weights in the same pairs, 0.1% taker fee on entry and exit."
    )
    return "\n".join(lines)


def write_outputs(rows: list[Row], output_dir: Path) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    md_path, json_path = output_dir / "comparison.md", output_dir / "comparison.json"
    md_path.write_text(render_markdown(rows) + "\n", encoding="utf-8")
    json_path.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    return md_path, json_path


def run(strategies: list[str] | None, timerange: str | None, user_data: Path = USER_DATA):
    settings = load_settings(user_data / "demo.json")
    timerange = timerange or settings.get("timerange", DEFAULT_TIMERANGE)
    names = strategies or discover_strategies(user_data)
    if not names:
        raise DemoError(f"No strategies found in {user_data / 'strategies'}.")
    per_strategy = settings.get("strategies", {})
    rows: list[Row] = []
    baselines: dict[tuple, Row] = {}
    for name in names:
        print(f"backtesting {name} ...", flush=True)
        config = build_config(name, timerange, per_strategy.get(name, {}), user_data)
        stats, seconds = backtest(config)
        rows.append(strategy_row(name, stats, seconds))
        key = (tuple(stats["pairlist"]), stats["timeframe"], stats["backtest_start"],
               stats["backtest_end"])
        if key not in baselines:
            baselines[key] = buy_and_hold_row(config, *[list(key[0]), *key[1:]])
    for key, row in baselines.items():
        if len(baselines) > 1:
            row.name = f"{row.name}, {len(key[0])} pairs {key[1]}"
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ftpack-demo", description=__doc__.split("\n")[0])
    parser.add_argument("--strategy", nargs="*", help="only these strategies (default: all)")
    parser.add_argument("--timerange", help=f"default {DEFAULT_TIMERANGE} or demo.json's")
    parser.add_argument("--userdir", type=Path, default=USER_DATA, help="user_data directory")
    args = parser.parse_args(argv)
    # The demo is an offline job by definition: bundled markets and candles, no exchange calls.
    # Must be set before freqtrade's exchange module is imported (the pack hook reads it then).
    os.environ.setdefault("FREQTRADE_PACK_OFFLINE", "1")
    # Freqtrade's configuration re-enables INFO logging; the demo prints its own progress and
    # keeps only errors from the libraries.
    logging.disable(logging.WARNING)
    from freqtrade.exceptions import FreqtradeException

    try:
        rows = run(args.strategy, args.timerange, args.userdir)
    except (DemoError, FreqtradeException) as err:
        print(f"ftpack-demo: {err}", file=sys.stderr)
        return 2
    print()
    print(render_markdown(rows))
    md_path, json_path = write_outputs(rows, args.userdir / "demo")
    print(f"\nWritten to {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
