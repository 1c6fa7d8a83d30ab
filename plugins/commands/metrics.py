"""Prometheus exporter for a running freqtrade bot (``ftpack-metrics``).

    ftpack-metrics [--api-url http://127.0.0.1:8080] [--listen 127.0.0.1] [--port 9100]

Each scrape of ``/metrics`` reads the bot through its REST API with freqtrade's own client
(``freqtrade_client.FtRestClient``; credentials from ``FREQTRADE__API_SERVER__USERNAME`` /
``__PASSWORD``, the same variables the bot reads) and reports:

freqtrade_up                          1 when the API answered, else 0 (then nothing else is reported)
freqtrade_bot_state{state}            1 for the bot's current state (running, stopped, paused, ...)
freqtrade_open_trades                 open trades; freqtrade_max_open_trades the configured limit
freqtrade_trades_total{status}        trades by status: closed, open, winning, losing
freqtrade_profit_closed               realised profit (stake currency); freqtrade_profit_open unrealised
freqtrade_balance                     the bot's total balance in stake currency; ..._starting_capital
freqtrade_drawdown_ratio              equity's drawdown from its peak: starting capital plus closed
                                      profit at its best, against closed plus open profit now
freqtrade_locks{reason}               active pair locks by reason
freqtrade_seconds_since_last_process  heartbeat: seconds since the bot last ran its loop
freqtrade_exporter_scrape_seconds     how long reading the bot took

Nothing is cached between scrapes: what Prometheus stores is what the bot said at that moment.
"""

import argparse
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator

from freqtrade_client import FtRestClient
from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from plugins.quant.risk import drawdown_from_peak


logger = logging.getLogger("ftpack-metrics")

BOT_STATES = ("running", "paused", "stopped", "reload_config")


class BotUnreachable(Exception):
    """The bot's API did not answer or refused the credentials."""


def _answer(value, endpoint: str):
    if value is None or (isinstance(value, dict) and "detail" in value and len(value) == 1):
        raise BotUnreachable(f"/{endpoint}: {value!r}")
    return value


def equity_drawdown(starting_capital: float, profit: dict, open_profit: float) -> float:
    """Drawdown of equity (closed plus open profit) from the peak of realised equity.

    Freqtrade's /profit already reports the peak of cumulative closed profit
    (``current_drawdown_high``), so the closed-trade history need not be paged through /trades:
    equity goes from the start to that peak, then to today's closed + open profit.
    """
    if starting_capital <= 0:
        return 0.0
    high = float(profit.get("current_drawdown_high") or 0.0)
    now = profit["profit_closed_coin"] + open_profit
    return drawdown_from_peak([high, now - high], starting_capital)


def gauge(name: str, doc: str, value: float | None = None, labels: list[str] | None = None):
    family = GaugeMetricFamily(name, doc, value=value, labels=labels)
    return family


class BotCollector(Collector):
    """Reads one bot's REST API on every collect() and yields its metric families."""

    def __init__(self, client: FtRestClient) -> None:
        self.client = client

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        try:
            families = list(self._bot_metrics())
            up = 1.0
        except (BotUnreachable, KeyError, TypeError, ValueError) as err:
            logger.warning("bot API unusable: %s", err)
            families, up = [], 0.0
        yield gauge("freqtrade_up", "1 when the bot's REST API answered the last scrape", up)
        yield from families
        yield gauge("freqtrade_exporter_scrape_seconds", "Time spent reading the bot's API",
                    time.perf_counter() - started)

    def _bot_metrics(self) -> Iterator[GaugeMetricFamily]:
        client = self.client
        config = _answer(client.show_config(), "show_config")
        state = gauge("freqtrade_bot_state", "1 for the bot's current state", labels=["state"])
        current = str(config.get("state", "")).lower()
        for name in sorted(set(BOT_STATES) | {current}):
            state.add_metric([name], 1.0 if name == current else 0.0)
        yield state

        count = _answer(client.count(), "count")
        yield gauge("freqtrade_open_trades", "Open trades", count["current"])
        yield gauge("freqtrade_max_open_trades", "Configured max_open_trades", count["max"])

        profit = _answer(client.profit(), "profit")
        trades = gauge("freqtrade_trades_total", "Trades by status", labels=["status"])
        trades.add_metric(["closed"], profit["closed_trade_count"])
        trades.add_metric(["open"], profit["trade_count"] - profit["closed_trade_count"])
        trades.add_metric(["winning"], profit["winning_trades"])
        trades.add_metric(["losing"], profit["losing_trades"])
        yield trades
        open_profit = profit["profit_all_coin"] - profit["profit_closed_coin"]
        yield gauge("freqtrade_profit_closed", "Realised profit in stake currency",
                    profit["profit_closed_coin"])
        yield gauge("freqtrade_profit_open", "Unrealised profit of open trades", open_profit)

        balance = _answer(client.balance(), "balance")
        yield gauge("freqtrade_balance", "Bot's total balance in stake currency",
                    balance["total_bot"])
        yield gauge("freqtrade_starting_capital", "Starting capital in stake currency",
                    balance["starting_capital"])
        yield gauge("freqtrade_drawdown_ratio",
                    "Equity drawdown from its peak (realised peak, equity with open profit)",
                    equity_drawdown(balance["starting_capital"], profit, open_profit))

        locks = _answer(client.locks(), "locks")
        by_reason = Counter(lock.get("reason") or "none" for lock in locks["locks"] if lock["active"])
        lock_family = gauge("freqtrade_locks", "Active pair locks by reason", labels=["reason"])
        for reason, number in sorted(by_reason.items()):
            lock_family.add_metric([reason], number)
        yield lock_family

        health = _answer(client.health(), "health")
        last = health.get("last_process_ts")
        if last:
            yield gauge("freqtrade_seconds_since_last_process",
                        "Seconds since the bot last ran its main loop", time.time() - last)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ftpack-metrics", description=__doc__.split("\n")[0])
    parser.add_argument("--api-url", default="http://127.0.0.1:8080",
                        help="the bot's REST API (default: %(default)s)")
    parser.add_argument("--listen", default="127.0.0.1", help="address to serve /metrics on")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--timeout", type=float, default=10.0, help="API timeout in seconds")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1-65535, got {args.port}")
    if not args.api_url.startswith(("http://", "https://")):
        parser.error(f"--api-url must start with http:// or https://, got {args.api_url}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s - %(name)s - %(levelname)s - %(message)s")
    username = os.environ.get("FREQTRADE__API_SERVER__USERNAME", "")
    password = os.environ.get("FREQTRADE__API_SERVER__PASSWORD", "")
    if not username or not password:
        print("ERROR: ftpack-metrics: set FREQTRADE__API_SERVER__USERNAME and "
              "FREQTRADE__API_SERVER__PASSWORD (the bot's API credentials).", file=sys.stderr)
        return 2
    client = FtRestClient(args.api_url.rstrip("/"), username, password, timeout=args.timeout)
    REGISTRY.register(BotCollector(client))
    try:
        server, _ = start_http_server(args.port, addr=args.listen)
    except OSError as err:
        print(f"ERROR: ftpack-metrics: cannot listen on {args.listen}:{args.port}: {err}",
              file=sys.stderr)
        return 2
    logger.info("Serving metrics of %s on http://%s:%d/metrics", args.api_url, args.listen, args.port)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
