"""Pure trading math: indicators, signals, regimes, ladders, exits, sizing, correlation, SMC primitives.

Functions over numpy arrays and pandas frames, unit-tested on hand-computed cases.
May import: the standard library, numpy, pandas, TA-Lib/pandas-ta/technical, and other
``plugins.quant`` modules. Never freqtrade (not even through another pack module), so the math can be
tested, benchmarked and reused without a bot.
"""
