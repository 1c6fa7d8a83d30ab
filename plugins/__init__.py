"""Freqtrade strategy pack: shared building blocks, pairlists and protections.

Layout
- ``plugins/pairlists/``   IPairList plugins, one class per file (file name = class name).
- ``plugins/protections/`` IProtection plugins, one class per file (file name = class name).
- ``plugins/*.py``         pure, tested building blocks that strategies and plugins import.

This module is imported at every interpreter start-up (through the pack's .pth hook), so it must
stay free of heavy imports.
"""

from pathlib import Path


PACK_DIR = Path(__file__).resolve().parent
PAIRLIST_DIR = PACK_DIR / "pairlists"
PROTECTION_DIR = PACK_DIR / "protections"
