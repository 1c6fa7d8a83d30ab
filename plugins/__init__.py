"""Freqtrade strategy pack: shared building blocks, pairlists and protections.

Layout (each subpackage's docstring says what it may import; ``tests/test_layout.py`` checks it)
- ``plugins/quant/``        pure math, no freqtrade.
- ``plugins/strategy/``     IStrategy bases and mixins that ``user_data/strategies`` inherit.
- ``plugins/freqai/``       FreqAI ensemble logic behind ``user_data/freqaimodels``.
- ``plugins/integration/``  freqtrade wiring: start-up hook, offline mode, snapshot, guards' market data.
- ``plugins/pairlists/``    IPairList plugins, one class per file (file name = class name).
- ``plugins/protections/``  IProtection plugins, one class per file (file name = class name).
- ``plugins/commands/``     the ``ftpack-*`` commands.

This module is imported at every interpreter start-up (through the pack's .pth hook), so it must
stay free of heavy imports.
"""

from pathlib import Path


PACK_DIR = Path(__file__).resolve().parent
PAIRLIST_DIR = PACK_DIR / "pairlists"
PROTECTION_DIR = PACK_DIR / "protections"
