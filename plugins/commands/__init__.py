"""The pack's ``ftpack-*`` command-line programs (demo, market snapshot, per-pair table fit).

May import anything in the pack; nothing in the pack imports them.
"""
