"""The strategy frame: IStrategy bases and mixins that the pack's strategies inherit.

Freqtrade-hook wiring (staged exits, ATR sizing, higher-timeframe trend, grid/DCA ladders in trade
custom data, configured protections, own-parameter lists) around the math in ``plugins.quant``.
May import: freqtrade, ``plugins.quant``, ``plugins.freqai``, ``plugins.integration``.
Never ``plugins.commands``, ``plugins.pairlists`` or ``plugins.protections``.
"""
