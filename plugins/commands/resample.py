"""Build a longer-timeframe candle set from a finer one (``ftpack-resample``), e.g. 15m from 5m.

    ftpack-resample --datadir ~/history/binance --out ~/history-15m --timeframe 15m [--source 5m]
                    [--pairs BTC/USDT ETH/USDT]

The output folder is a complete datadir: the new ``<PAIR>-<timeframe>.feather`` files (written with
freqtrade's feather data handler, complete buckets only, ``plugins.quant.candles``) plus symbolic
links to every other candle file of the source, so ``--datadir <out>`` serves the informative
timeframes too. The history dump has no 15m candles; this is how SmcStructure gets a history run
on BTC/ETH (5m from 2021-08). Existing files in the output are replaced; the source is never written.
"""

import argparse
import sys
from pathlib import Path

from plugins.quant.candles import aggregate_complete


def _link_other_files(source: Path, out: Path, written: set[str]) -> int:
    linked = 0
    for path in sorted(source.glob("*.feather")):
        target = out / path.name
        if path.name in written:
            continue
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(path.resolve())
        linked += 1
    return linked


def resample(source: Path, out: Path, source_tf: str, target_tf: str, pairs: list[str] | None) -> int:
    from freqtrade.data.history.datahandlers import get_datahandler
    from freqtrade.enums import CandleType, TradingMode
    from freqtrade.exchange import timeframe_to_minutes

    if not source.is_dir():
        raise ValueError(f"no such datadir {source}; pass the folder holding the candles")
    if out.resolve() == source.resolve():
        raise ValueError("--out must be a new folder, not the source datadir")
    reader, writer = get_datahandler(source, "feather"), get_datahandler(out, "feather")
    available = sorted(pair for pair, timeframe, candle_type
                       in reader.ohlcv_get_available_data(source, TradingMode.SPOT)
                       if timeframe == source_tf and candle_type == CandleType.SPOT)
    wanted = pairs or available
    missing = sorted(set(wanted) - set(available))
    if not wanted or missing:
        raise ValueError(f"no {source_tf} candles in {source} for "
                         f"{', '.join(missing) or 'any pair'} (found: {', '.join(available) or 'none'})")
    out.mkdir(parents=True, exist_ok=True)
    written = set()
    for pair in wanted:
        candles = reader.ohlcv_load(pair, source_tf, timerange=None, fill_missing=False,
                                    drop_incomplete=False, candle_type=CandleType.SPOT)
        target = aggregate_complete(candles, timeframe_to_minutes(source_tf), timeframe_to_minutes(target_tf))
        name = f"{pair.replace('/', '_')}-{target_tf}.feather"
        if (out / name).is_symlink():
            (out / name).unlink()
        writer.ohlcv_store(pair, target_tf, target, CandleType.SPOT)
        written.add(name)
        print(f"{pair}: {len(candles)} {source_tf} candles -> {len(target)} {target_tf} candles "
              f"({target['date'].min():%Y-%m-%d} → {target['date'].max():%Y-%m-%d})")
    linked = _link_other_files(source, out, written)
    print(f"Wrote {len(written)} files to {out}, linked {linked} other candle files from {source}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ftpack-resample", description=__doc__.split("\n")[0])
    parser.add_argument("--datadir", type=Path, required=True, help="source candle folder")
    parser.add_argument("--out", type=Path, required=True, help="output datadir (created)")
    parser.add_argument("--timeframe", required=True, help="timeframe to build, e.g. 15m")
    parser.add_argument("--source", default="5m", help="timeframe to build it from (default 5m)")
    parser.add_argument("--pairs", nargs="*", help="default: every pair with --source candles")
    args = parser.parse_args(argv)
    try:
        return resample(args.datadir, args.out, args.source, args.timeframe, args.pairs)
    except ValueError as err:
        print(f"ftpack-resample: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
