"""``ftpack-replay``: stock ``freqtrade trade`` in dry-run on a replayed market, offline.

    ftpack-replay --config user_data/config.json --strategy RsiMeanReversion --start 20250601 \\
        [--end 20250701] [--speed N] [--step 15m] [--db-url sqlite:///...] [--compare]

What runs is freqtrade's own ``Worker`` with its own ``FreqtradeBot``: dry-run order handling,
timeouts, position adjustment, protections, persistence, RPC (API server, Telegram, webhooks) are
all stock. The pack changes two things, and only in this process:

- the clock (``plugins/integration/replay_clock.py``): time-machine freezes it at ``--start``; where
  freqtrade's worker would sleep (``Worker._sleep``, its documented test seam), the clock instead
  jumps one ``--step`` forward (and, with ``--speed N``, sleeps step/N real seconds);
- the exchange (``plugins/integration/replay_exchange.py``): markets from the snapshot, candles
  closed by the simulated now only, tickers/order book at the price rule documented there.

The simulated time of the last processed iteration is stored in the trade database, so starting
the same command again (after a crash or ``kill -9``) resumes one step after it. ``--compare``
backtests the same window with stock ``freqtrade backtesting`` and writes a parity report
(``plugins/integration/replay_parity.py``). Bad input ends with one ERROR line and exit code 2.
See docs/replay.md.
"""

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "user_data" / "config.json"
DEFAULT_STEP = "15m"
HEARTBEAT_SECONDS = 86_400  # one heartbeat log line per simulated day, not one per iteration

logger = logging.getLogger("ftpack-replay")


class ReplayInputError(Exception):
    """Bad command-line input or configuration: reported as one ERROR line, exit code 2."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ftpack-replay", description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", action="append", type=Path,
                        help=f"freqtrade config file(s) (default {DEFAULT_CONFIG.relative_to(REPO)})")
    parser.add_argument("-s", "--strategy", required=True)
    parser.add_argument("--start", required=True, help="first simulated day, YYYYMMDD[HHMM] (UTC)")
    parser.add_argument("--end", help="last simulated moment, YYYYMMDD[HHMM] (default start + 30 days)")
    parser.add_argument("--speed", type=float, help="run at N x real time (default: as fast as possible)")
    parser.add_argument("--step", default=DEFAULT_STEP,
                        help="simulated time per bot iteration, a freqtrade timeframe "
                             f"(default {DEFAULT_STEP}, at most the strategy timeframe)")
    parser.add_argument("--db-url", help="trade database (default sqlite:///user_data/replay/<strategy>.sqlite)")
    parser.add_argument("--userdir", type=Path, default=REPO / "user_data")
    parser.add_argument("--strategy-path", type=Path, help="extra strategy folder (freqtrade's option)")
    parser.add_argument("--datadir", type=Path, help="candle folder (default: the config's)")
    parser.add_argument("--api-port", type=int, default=0,
                        help="API server port when the config enables it (default: a free port)")
    parser.add_argument("--compare", action="store_true",
                        help="after the replay, backtest the same window and write a parity report")
    return parser.parse_args(argv)


def parse_moment(text: str, option: str) -> datetime:
    for fmt in ("%Y%m%d%H%M", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ReplayInputError(f"{option} {text!r} is not a date: use YYYYMMDD or YYYYMMDDHHMM (UTC).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def enable_replay_environment() -> None:
    """Replay and offline switches, before freqtrade's exchange module is imported."""
    if "freqtrade.exchange.exchange" in sys.modules and os.environ.get("FREQTRADE_PACK_REPLAY") != "1":
        raise ReplayInputError("ftpack-replay must start in a fresh process (freqtrade is already loaded).")
    os.environ["FREQTRADE_PACK_REPLAY"] = "1"
    os.environ["FREQTRADE_PACK_OFFLINE"] = "1"


def common_freqtrade_options(args: argparse.Namespace) -> list[str]:
    """The options the replay (``trade``) and its comparison backtest share."""
    options = ["--userdir", str(args.userdir), "--strategy", args.strategy]
    for config in args.config or [DEFAULT_CONFIG]:
        options += ["--config", str(config)]
    if args.datadir:
        options += ["--datadir", str(args.datadir)]
    if args.strategy_path:
        options += ["--strategy-path", str(args.strategy_path)]
    return options


def freqtrade_args(args: argparse.Namespace, db_url: str) -> dict:
    from freqtrade.commands import Arguments

    argv = ["trade", *common_freqtrade_options(args), "--db-url", db_url]
    return Arguments(argv).get_parsed_arg()


def load_config(ft_args: dict, api_port: int) -> dict:
    from freqtrade.configuration import Configuration

    config = Configuration(ft_args, None).get_config()
    if not config.get("dry_run", False):
        raise ReplayInputError("Replay runs dry-run only: the config sets dry_run false.")
    exchange = config.get("exchange", {})
    if any(str(exchange.get(key) or "").strip() for key in ("key", "secret", "password", "uid")):
        raise ReplayInputError(
            "Replay refuses a live exchange key: remove exchange.key/secret (or the "
            "FREQTRADE__EXCHANGE__* variables) for a replay."
        )
    if config.get("api_server", {}).get("enabled"):
        config["api_server"]["listen_port"] = api_port or free_port()
    config.setdefault("internals", {}).setdefault("heartbeat_interval", HEARTBEAT_SECONDS)
    # Fiat values come from CoinGecko's live rates: offline that is one ERROR line per start and
    # today's rates on two-year-old trades. Stake-currency values only.
    config["fiat_display_currency"] = ""
    return config


def default_db_url(userdir: Path, strategy: str) -> str:
    folder = userdir / "replay"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / f'{strategy}.sqlite').resolve()}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        enable_replay_environment()
        from freqtrade.exceptions import OperationalException

        from plugins.integration.replay_runner import ReplayRunner

        start = parse_moment(args.start, "--start")
        end = parse_moment(args.end, "--end") if args.end else start + timedelta(days=30)
        db_url = args.db_url or default_db_url(args.userdir, args.strategy)
        ft_args = freqtrade_args(args, db_url)
        config = load_config(ft_args, args.api_port)
        runner = ReplayRunner(config, ft_args, start, end, args.step, args.speed)
        if config.get("api_server", {}).get("enabled"):
            api = config["api_server"]
            print(f"FreqUI / REST API of the replay: http://{api['listen_ip_address']}:"
                  f"{api['listen_port']}", file=sys.stderr, flush=True)
    except (ReplayInputError, ValueError) as err:
        print(f"ERROR: ftpack-replay: {err}", file=sys.stderr)
        return 2
    except OperationalException as err:
        print(f"ERROR: ftpack-replay: {err}", file=sys.stderr)
        return 2
    try:
        summary = runner.run()
    except OperationalException as err:
        print(f"ERROR: ftpack-replay: {err}", file=sys.stderr)
        return 2
    print(summary)
    if args.compare:
        return compare(args, config, db_url, start, end)
    return 0


def compare(args: argparse.Namespace, config: dict, db_url: str, start: datetime, end: datetime) -> int:
    """Backtest the replayed window with the stock CLI; match trades; write the parity report."""
    from freqtrade.data.btanalysis import load_backtest_data, load_trades_from_db
    from freqtrade.exchange import timeframe_to_minutes

    from plugins.integration.replay_parity import (
        match_trades,
        parity_markdown,
        parity_summary,
    )

    env = {k: v for k, v in os.environ.items() if k != "FREQTRADE_PACK_REPLAY"}
    with tempfile.TemporaryDirectory() as results:
        command = [str(Path(sys.executable).parent / "freqtrade"), "backtesting",
                   *common_freqtrade_options(args),
                   "--timerange", f"{int(start.timestamp())}-{int(end.timestamp())}",  # to the minute
                   "--enable-protections",
                   "--export", "trades", "--backtest-directory", results]
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, check=False)
        if done.returncode != 0 or not any(Path(results).glob("*.zip")):
            # freqtrade exits 0 on some configuration errors: no result file is the real test
            lines = (done.stderr + done.stdout).splitlines()
            tail = [line for line in lines if " - ERROR - " in line][:1] or lines[-1:]
            print(f"ERROR: ftpack-replay: the comparison backtest failed: {' '.join(tail)}",
                  file=sys.stderr)
            return 2
        backtest = load_backtest_data(Path(results), args.strategy)
    replayed = load_trades_from_db(db_url, args.strategy)
    tolerance = timedelta(minutes=timeframe_to_minutes(config["timeframe"]))
    matched = match_trades(replayed, backtest, tolerance)
    summary = parity_summary(replayed, backtest, matched)
    report = parity_markdown(args.strategy, start, end, matched, summary)
    path = Path(db_url.partition(":///")[2]).with_suffix(".parity.md")
    path.write_text(report)
    print(report)
    print(f"Parity report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
