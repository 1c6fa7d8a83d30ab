"""Hyperopt parameters declared once on a mixin, owned separately by every strategy using it."""

import copy

from freqtrade.strategy.parameters import BaseParameter


class OwnParametersMixin:
    """Give every subclass its own copy of the hyperopt parameters declared on pack mixins.

    Freqtrade stores a parameter's current value on the Parameter object, so a mixin's class
    attribute would be shared by every strategy using it: loading one strategy's optimised values
    (or running two strategies in one process) would change the other's. Copying on subclass
    creation keeps them apart. A subclass that redeclares a parameter keeps its own declaration.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for klass in cls.__mro__[1:]:
            if not issubclass(klass, OwnParametersMixin) or klass is OwnParametersMixin:
                continue
            for name, value in vars(klass).items():
                if isinstance(value, BaseParameter) and name not in cls.__dict__:
                    setattr(cls, name, copy.deepcopy(value))
