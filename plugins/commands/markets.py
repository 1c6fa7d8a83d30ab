"""Show or refresh the bundled exchange market snapshot (``ftpack-markets``).

    ftpack-markets show                     list the pairs in the snapshot
    ftpack-markets refresh [--pairs P ...]  re-fetch the snapshot's pairs (plus P) from the exchange
"""

import argparse
import sys

from plugins.integration.market_snapshot import (
    DEFAULT_USER_DATA,
    SnapshotError,
    fetch_markets,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ftpack-markets", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["show", "refresh"])
    parser.add_argument("--exchange", default="binance")
    parser.add_argument("--trading-mode", default="spot", choices=["spot", "futures"])
    parser.add_argument("--user-data-dir", default=str(DEFAULT_USER_DATA))
    parser.add_argument("--pairs", nargs="*", default=[], help="pairs to add to the snapshot")
    args = parser.parse_args(argv)
    path = snapshot_path(args.user_data_dir, args.exchange, args.trading_mode)
    try:
        if args.command == "show":
            markets = read_snapshot(path)
            print(f"{path}: {len(markets)} markets: {', '.join(sorted(markets))}")
            return 0
        current = read_snapshot(path) if path.is_file() else {}
        pairs = sorted(set(current) | set(args.pairs))
        if not pairs:
            raise SnapshotError("No pairs to refresh: name some with --pairs BTC/USDT ...")
        markets = fetch_markets(args.exchange, args.trading_mode, pairs)
        write_snapshot(path, args.exchange, args.trading_mode, markets)
        print(f"Wrote {len(markets)} markets to {path}")
        return 0
    except SnapshotError as err:
        print(f"ftpack-markets: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
