"""Fit the per-pair EMA table (``user_data/strategies/ema_periods.json``) from bundled candles.

    python -m plugins.commands.fit_pair_params --timerange 20240914-20250131 \\
        --out user_data/strategies/ema_periods.json
"""

import argparse
import json
import sys
from pathlib import Path

from plugins.quant.pair_params import DEFAULTS, fit_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the per-pair EMA table from bundled candles.")
    parser.add_argument("--config", default="user_data/config.json")
    parser.add_argument("--datadir", default="user_data/data/binance")
    parser.add_argument("--timerange", default="20240914-20250131")
    parser.add_argument("--out", default="user_data/strategies/ema_periods.json")
    args = parser.parse_args(argv)
    pairs = json.loads(Path(args.config).read_text())["exchange"]["pair_whitelist"]
    table = fit_table(Path(args.datadir), pairs, args.timerange)
    Path(args.out).write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    fitted = {name: table[name]["pairs"] for name in DEFAULTS}
    print(f"wrote {args.out}: {json.dumps(fitted)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
