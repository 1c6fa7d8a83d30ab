"""Protections configured in config.json for pack strategies.

Freqtrade 2026.9 rejects a top-level ``"protections"`` key in the config (protections belong to the
strategy). Pack strategies read their protections from ``"pack_protections"`` in config.json and fall
back to the strategy's own defaults, so users tune protections without editing strategy code.
"""

from typing import Any


PROTECTIONS_KEY = "pack_protections"
DEFAULT_PROTECTIONS = [{"method": "DrawdownGuard", "max_drawdown": 0.25, "stop_duration_candles": 24}]


def configured_protections(config: dict[str, Any], default: list[dict]) -> list[dict]:
    """The ``pack_protections`` list from ``config`` if present (validated), else ``default``."""
    from freqtrade.exceptions import OperationalException

    protections = config.get(PROTECTIONS_KEY, default)
    if not isinstance(protections, list) or not all(
        isinstance(p, dict) and isinstance(p.get("method"), str) for p in protections
    ):
        raise OperationalException(
            f'"{PROTECTIONS_KEY}" in the config must be a list of objects with a "method" '
            f'(e.g. [{{"method": "DrawdownGuard", "max_drawdown": 0.2}}]), got {protections!r}.'
        )
    return [dict(p) for p in protections]


class ConfiguredProtections:
    """Strategy mixin: ``protections`` from config.json's ``pack_protections``, else the class's
    ``default_protections``. Put it before ``IStrategy`` in the bases (its property must win over
    IStrategy's plain ``protections`` attribute)."""

    default_protections: list[dict] = DEFAULT_PROTECTIONS

    @property
    def protections(self) -> list[dict]:
        return configured_protections(self.config, self.default_protections)
