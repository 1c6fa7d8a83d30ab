"""Hand-computed cases for plugins.quant.candle_checks."""

import math

import pandas as pd
import pytest

from plugins.quant.candle_checks import candle_moves, largest_recent_move, rolling_max_move


CLOSES = pd.Series([100.0, 110.0, 99.0, 99.0, 148.5])


def test_candle_moves():
    moves = candle_moves(CLOSES)
    assert math.isnan(moves[0])
    assert moves[1:].tolist() == pytest.approx([0.10, 0.10, 0.0, 0.5])


def test_rolling_max_move_is_causal_and_warms_up():
    rolling = rolling_max_move(CLOSES, 2)
    assert rolling[:2].isna().all()  # window of 2 moves needs 3 closes
    assert rolling[2:].tolist() == pytest.approx([0.10, 0.10, 0.5])
    longer = rolling_max_move(pd.concat([CLOSES, pd.Series([1.0])], ignore_index=True), 2)
    assert longer[:5].equals(rolling)  # a future candle never changes the past


def test_largest_recent_move():
    assert largest_recent_move(CLOSES, 2) == pytest.approx(0.5)
    assert largest_recent_move(CLOSES[:4], 2) == pytest.approx(0.10)
    assert math.isnan(largest_recent_move(CLOSES[:2], 2))


def test_flat_prices_never_move():
    assert rolling_max_move(pd.Series([5.0] * 10), 3).dropna().eq(0).all()


def test_window_must_be_positive():
    with pytest.raises(ValueError, match="window"):
        rolling_max_move(CLOSES, 0)
