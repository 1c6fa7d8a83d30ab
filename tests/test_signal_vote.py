"""Aggregation of signal decisions (plugins.quant.vote) and the SignalVote strategy."""

import numpy as np
import pandas as pd
import pytest

from plugins.quant.vote import aggregate


MEMBERS = ["supertrend", "donchian_breakout", "rsi_momentum"]


def frames(directions, confidences):
    return (pd.DataFrame(directions, columns=MEMBERS),
            pd.DataFrame(confidences, columns=MEMBERS, dtype=float))


# rows: 0 two long + one short; 1 first member below min confidence; 2 one long only;
# 3 nothing; 4 tie one long / one short; 5 three short
DIRECTIONS = [[1, 1, -1], [1, -1, 0], [0, 1, 0], [0, 0, 0], [1, -1, 0], [-1, -1, -1]]
CONFIDENCES = [[0.8, 0.6, 0.9], [0.4, 0.7, 0.0], [0.0, 0.9, 0.0], [0, 0, 0], [0.6, 0.6, 0],
               [0.5, 0.7, 0.9]]


def test_first_takes_the_first_confident_member():
    result = aggregate(*frames(DIRECTIONS, CONFIDENCES), mode="first")
    assert result.direction.tolist() == [1, -1, 1, 0, 1, -1]
    assert result.confidence.tolist() == [0.8, 0.7, 0.9, 0.0, 0.6, 0.5]
    assert result.members.tolist() == ["supertrend", "donchian_breakout", "donchian_breakout", "",
                                       "supertrend", "supertrend"]


def test_vote_needs_a_majority_and_the_quorum():
    result = aggregate(*frames(DIRECTIONS, CONFIDENCES), mode="vote", quorum=2)
    assert result.direction.tolist() == [1, 0, 0, 0, 0, -1]
    np.testing.assert_allclose(result.confidence, [0.7, 0, 0, 0, 0, 0.7])
    assert result.members.tolist() == ["supertrend+donchian_breakout", "", "", "", "",
                                       "supertrend+donchian_breakout+rsi_momentum"]
    single = aggregate(*frames(DIRECTIONS, CONFIDENCES), mode="vote", quorum=1)
    assert single.direction.tolist() == [1, -1, 1, 0, 0, -1]


def test_weighted_uses_weights_and_confidences():
    weights = {"supertrend": 1.0, "donchian_breakout": 1.0, "rsi_momentum": 3.0}
    result = aggregate(*frames(DIRECTIONS, CONFIDENCES), mode="weighted", weights=weights)
    # row 0: +0.8 +0.6 -2.7 -> short, share 2.7 / 4.1 = 0.66 -> passes 0.5
    # row 4: +0.6 -0.6 = 0 -> nothing; row 5 all short -> share 1
    assert result.direction.tolist() == [-1, -1, 1, 0, 0, -1]
    np.testing.assert_allclose(result.confidence, [2.7 / 4.1, 1.0, 1.0, 0, 0, 1.0])
    assert result.members.iloc[0] == "rsi_momentum"
    equal = aggregate(*frames(DIRECTIONS, CONFIDENCES), mode="weighted")
    # equal weights, row 0: +1.4 vs -0.9 -> long with share 1.4 / 2.3
    assert equal.direction.iloc[0] == 1
    assert equal.confidence.iloc[0] == pytest.approx(1.4 / 2.3)


def test_aggregate_below_min_confidence_does_not_fire():
    result = aggregate(*frames(DIRECTIONS, CONFIDENCES), mode="vote", min_confidence=0.75)
    # row 0: only supertrend (0.8) and rsi_momentum (0.9) vote, one each way -> nothing
    assert result.direction.tolist() == [0, 0, 0, 0, 0, 0]
    assert (result.confidence == 0).all() and (result.members == "").all()


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "majority"}, "mode"),
    ({"min_confidence": 1.5}, "min_confidence"),
    ({"quorum": 0}, "quorum"),
    ({"mode": "weighted", "weights": {"supertrend": 1.0}}, "no weight"),
    ({"mode": "weighted", "weights": dict.fromkeys(MEMBERS, 0.0)}, "weights"),
])
def test_bad_aggregation_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        aggregate(*frames(DIRECTIONS, CONFIDENCES), **kwargs)
