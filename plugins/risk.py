"""Portfolio risk arithmetic over closed-trade results (pure functions, used by protections)."""

from collections.abc import Sequence

import numpy as np


def drawdown_from_peak(profits: Sequence[float], starting_balance: float) -> float:
    """Current drawdown of realised equity from its running peak, as a fraction of the peak.

    Equity starts at ``starting_balance`` and adds each closed trade's absolute profit in order.
    The peak includes the starting balance, so a first losing trade is already a drawdown.
    """
    if starting_balance <= 0:
        raise ValueError(f"starting_balance must be > 0, got {starting_balance}")
    equity = starting_balance + np.cumsum(np.asarray(profits, dtype=float))
    if equity.size == 0:
        return 0.0
    peak = max(starting_balance, float(equity.max()))
    return max(0.0, (peak - float(equity[-1])) / peak)
