"""No pack strategy reads a searched parameter while hyperopt computes its indicators.

Without ``--analyze-per-epoch`` freqtrade computes indicators once, at hyperopt start-up, so a
parameter read there is searched without any effect on the results (freqtrade then warns
"... is part of this hyperopt run, but its value is used during indicator calculation").
Searched parameters belong in ``populate_entry_trend`` / ``populate_exit_trend`` or the hooks.
"""

import logging

import pytest
from freqtrade.enums import HyperoptState
from freqtrade.optimize.hyperopt_tools import HyperoptStateContainer

from tests.conftest import pack_strategy_names
from tests.test_plot_config import load_strategy


STATIC_USE = "is part of this hyperopt run"


@pytest.mark.parametrize("name", pack_strategy_names())
def test_searched_parameters_are_not_read_by_indicators(name, caplog):
    strategy, data = load_strategy(name)
    searched = [p for _, p in strategy.enumerate_parameters() if p.optimize]
    assert searched, f"{name} has no searched parameter"
    for param in searched:  # as in `freqtrade hyperopt --spaces all`
        param.in_space, param._warned_static_use = True, False
    previous = HyperoptStateContainer.state
    HyperoptStateContainer.set_state(HyperoptState.INDICATORS)
    try:
        with caplog.at_level(logging.WARNING):
            strategy.advise_all_indicators(data)
    finally:
        HyperoptStateContainer.set_state(previous)
        for param in searched:
            param.in_space = False
    assert [r.getMessage() for r in caplog.records if STATIC_USE in r.getMessage()] == []
