"""Offline exchange markets: load a bundled ccxt market snapshot, check pairs, refresh it online.

Freqtrade loads the exchange's market list over the network before any backtest (its maintainers
declined an offline mode). The pack ships ``user_data/markets/<exchange>-<trading_mode>.json``,
ccxt market structures (precision, limits, fees) for the bundled pairs, and, when
``FREQTRADE_PACK_OFFLINE=1`` is set, feeds it to freqtrade's exchange object instead of calling
``load_markets()`` (see ``plugins/integration/offline.py``).

The ``ftpack-markets`` command (``plugins/commands/markets.py``) shows and refreshes the snapshot.
"""

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


MARKETS_ENV = "FREQTRADE_PACK_MARKETS"
DEFAULT_USER_DATA = Path("user_data")
_REGEX_CHARS = re.compile(r"[\\^$.*+?()\[\]{}|]")
# ccxt market fields freqtrade reads in backtests (market type, precision, limits, fees).
REQUIRED_MARKET_FIELDS = (
    "symbol", "base", "quote", "active", "type", "spot", "precision", "limits", "taker", "maker",
)
NESTED_MARKET_FIELDS = {"precision": ("amount", "price"), "limits": ("amount", "cost")}


class SnapshotError(Exception):
    """A snapshot problem with a one-line explanation of how to fix it."""


def snapshot_path(user_data_dir: Path | str | None, exchange: str, trading_mode: str) -> Path:
    """Where the snapshot for ``exchange``/``trading_mode`` lives (env var overrides)."""
    if override := os.environ.get(MARKETS_ENV):
        return Path(override)
    base = Path(user_data_dir) if user_data_dir else DEFAULT_USER_DATA
    return base / "markets" / f"{exchange.lower()}-{trading_mode}.json"


def read_snapshot(path: Path) -> dict[str, dict[str, Any]]:
    """Markets keyed by symbol. Accepts the pack's wrapped format or a bare ccxt markets dict."""
    if not path.is_file():
        raise SnapshotError(
            f"Offline market snapshot {path} not found. Run `ftpack-markets refresh` once while "
            f"online, point {MARKETS_ENV} at a snapshot, or unset FREQTRADE_PACK_OFFLINE."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SnapshotError(
            f"Offline market snapshot {path} is not valid JSON ({err}). "
            "Restore it from git or run `ftpack-markets refresh` while online."
        ) from err
    markets = data.get("markets", data) if isinstance(data, dict) else None
    if not isinstance(markets, dict) or not markets:
        raise SnapshotError(
            f"Offline market snapshot {path} holds no markets. "
            "Restore it from git or run `ftpack-markets refresh` while online."
        )
    return markets


def market_field_problem(market: Any) -> str | None:
    """What a ccxt market structure lacks for freqtrade (None when it is complete)."""
    if not isinstance(market, dict):
        return f"is a {type(market).__name__}, not a market object"
    if missing := [f for f in REQUIRED_MARKET_FIELDS if f not in market]:
        return f"lacks {', '.join(missing)}"
    for name, parts in NESTED_MARKET_FIELDS.items():
        value = market[name]
        if not isinstance(value, dict) or (missing := [p for p in parts if p not in value]):
            return f"has an incomplete {name} (needs {', '.join(parts)})"
    return None


def check_market_fields(markets: dict[str, Any], path: Path) -> None:
    """Every market must carry the fields freqtrade reads (precision, limits, fees, type)."""
    problems = {s: p for s, m in markets.items() if (p := market_field_problem(m)) is not None}
    if problems:
        symbol, problem = next(iter(problems.items()))
        more = f" ({len(problems) - 1} more markets too)" if len(problems) > 1 else ""
        raise SnapshotError(
            f"Offline market snapshot {path}: market {symbol} {problem}{more}, so it is not a ccxt "
            "market snapshot. Restore it from git or run `ftpack-markets refresh` while online."
        )


def literal_pairs(pairs: list[str]) -> list[str]:
    """Pairs that are plain names (freqtrade also accepts regex wildcards such as ``.*/USDT``)."""
    return [p for p in pairs if not _REGEX_CHARS.search(p.replace("/", "").replace(":", ""))]


def missing_pairs(markets: dict[str, Any], pairs: list[str]) -> list[str]:
    return [p for p in literal_pairs(pairs) if p not in markets]


def check_pairs(markets: dict[str, Any], pairs: list[str], path: Path) -> None:
    if missing := missing_pairs(markets, pairs):
        raise SnapshotError(
            f"Pair(s) {', '.join(missing)} not in the offline market snapshot {path}: remove them "
            f"from the pairlist, or run `ftpack-markets refresh --pairs {' '.join(missing)}` "
            "while online (`ftpack-markets show` lists the snapshot)."
        )


def load_for_config(config: dict[str, Any], exchange_id: str) -> tuple[dict[str, Any], Path]:
    """Snapshot markets for a freqtrade config; raises SnapshotError on any problem."""
    trading_mode = str(config.get("trading_mode") or "spot")
    trading_mode = getattr(config.get("trading_mode"), "value", trading_mode)
    path = snapshot_path(config.get("user_data_dir"), exchange_id, trading_mode)
    markets = read_snapshot(path)
    # Here, not in read_snapshot: `ftpack-markets refresh` must still read a broken snapshot's
    # pair names to repair it.
    check_market_fields(markets, path)
    check_pairs(markets, list(config.get("exchange", {}).get("pair_whitelist", [])), path)
    return markets, path


def fetch_markets(exchange_id: str, trading_mode: str, pairs: list[str]) -> dict[str, Any]:
    """Fetch ``pairs`` from the live exchange with ccxt (network needed)."""
    import ccxt

    api = getattr(ccxt, exchange_id)({"options": {"defaultType": trading_mode}})
    try:
        live = api.load_markets()
    except ccxt.BaseError as err:
        raise SnapshotError(
            f"Could not load markets from {exchange_id} ({err.__class__.__name__}). "
            "Refreshing needs network access to the exchange; the snapshot was left unchanged."
        ) from None
    missing = [p for p in pairs if p not in live]
    if missing:
        raise SnapshotError(
            f"{exchange_id} does not list {', '.join(missing)}; check the pair names. "
            "The snapshot was left unchanged."
        )
    # 'info' is the raw exchange payload: large and unused by freqtrade's backtesting.
    return {p: {**live[p], "info": {}} for p in sorted(pairs)}


def write_snapshot(path: Path, exchange_id: str, trading_mode: str, markets: dict) -> None:
    payload = {
        "exchange": exchange_id,
        "trading_mode": trading_mode,
        "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "markets": markets,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
