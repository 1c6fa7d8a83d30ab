"""Freqtrade integration: the start-up hook, offline exchange, market snapshot, API credential guard,
market context for entry-time guards, and candle access for pairlists.

This is the only place that patches or wraps freqtrade internals.
May import: freqtrade, ``plugins.quant``, other ``plugins.integration`` modules.
Never ``plugins.strategy``, ``plugins.commands``, ``plugins.pairlists`` or ``plugins.protections``
(those are found by freqtrade's resolvers, by path, after this hook registered them).
"""
