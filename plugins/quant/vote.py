"""Combining signal decisions (seed 003's aggregation modes): ``first``, ``vote``, ``weighted``.

Input: per member (a signal name) a direction (-1/0/+1) and a confidence per candle, as two
frames with one column per member in priority order. A member *votes* on a candle when its
direction is non-zero and its confidence >= ``min_confidence``.

- ``first``: the first voting member in column order decides (its direction and confidence).
- ``vote``: majority of the voting members: long when more members vote long than short and at
  least ``quorum`` of them do; confidence = mean confidence of the winning side.
- ``weighted``: net score = sum(weight x direction x confidence) over the voting members; the
  side of the score wins and its confidence is the winning side's share of the voting weight x
  confidence (1 when every voting member agrees).

Then the aggregate must itself reach ``min_confidence``. ``aggregate`` returns the direction,
the confidence, and the names of the members that agreed with it (``"supertrend+ema_cross"``).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


MODES = ("first", "vote", "weighted")
MEMBER_SEPARATOR = "+"


@dataclass(frozen=True)
class Aggregate:
    """The combined decision per candle: ``direction``, ``confidence`` and agreeing ``members``."""

    direction: pd.Series
    confidence: pd.Series
    members: pd.Series


def _check(directions: pd.DataFrame, confidences: pd.DataFrame, mode: str,
           min_confidence: float, quorum: int) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not 0 <= min_confidence <= 1:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    if int(quorum) != quorum or quorum < 1:
        raise ValueError(f"quorum must be an integer >= 1, got {quorum!r}")
    if directions.shape[1] == 0:
        raise ValueError("no members to aggregate")
    if list(directions.columns) != list(confidences.columns) or not directions.index.equals(
            confidences.index):
        raise ValueError("directions and confidences must have the same members and index")


def _weights(members, weights: Mapping[str, float] | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(members))
    missing = [m for m in members if m not in weights]
    if missing:
        raise ValueError(f"no weight for member(s) {missing}")
    values = np.array([float(weights[m]) for m in members])
    if (values < 0).any() or not np.isfinite(values).all() or values.sum() <= 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0, got {dict(weights)}")
    return values


def _first(votes: np.ndarray, conf: np.ndarray):
    has_vote = votes != 0
    first = has_vote.argmax(axis=1)
    rows = np.arange(len(votes))
    direction = np.where(has_vote.any(axis=1), votes[rows, first], 0)
    agree = np.zeros_like(has_vote)
    agree[rows, first] = direction != 0
    return direction, np.where(direction != 0, conf[rows, first], 0.0), agree


def _majority(votes: np.ndarray, conf: np.ndarray, quorum: int):
    longs, shorts = (votes > 0).sum(axis=1), (votes < 0).sum(axis=1)
    direction = np.where((longs > shorts) & (longs >= quorum), 1,
                         np.where((shorts > longs) & (shorts >= quorum), -1, 0))
    agree = (votes == direction[:, None]) & (direction[:, None] != 0)
    count = agree.sum(axis=1)
    mean = np.divide((conf * agree).sum(axis=1), count, out=np.zeros(len(votes)), where=count > 0)
    return direction, mean, agree


def _weighted(votes: np.ndarray, conf: np.ndarray, weights: np.ndarray):
    mass = weights[None, :] * conf * (votes != 0)
    score = (mass * votes).sum(axis=1)
    direction = np.sign(score).astype(int)
    agree = (votes == direction[:, None]) & (direction[:, None] != 0)
    total = mass.sum(axis=1)
    share = np.divide((mass * agree).sum(axis=1), total, out=np.zeros(len(votes)),
                      where=total > 0)
    return direction, share, agree


def member_names(agree: np.ndarray, members) -> np.ndarray:
    """Per row, the names of the agreeing members joined by ``+`` (``""`` when none)."""
    joined = np.full(len(agree), "", dtype=object)
    for column, name in enumerate(members):
        prefix = np.where(joined == "", "", MEMBER_SEPARATOR)
        joined = np.where(agree[:, column], joined + prefix + name, joined)
    return joined


def aggregate(directions: pd.DataFrame, confidences: pd.DataFrame, mode: str = "vote",
              min_confidence: float = 0.5, weights: Mapping[str, float] | None = None,
              quorum: int = 2) -> Aggregate:
    """Combine members' decisions per candle (see the module docstring for the three modes)."""
    _check(directions, confidences, mode, min_confidence, quorum)
    members = list(directions.columns)
    conf = np.nan_to_num(confidences.to_numpy(dtype=float), nan=0.0)
    votes = np.sign(np.nan_to_num(directions.to_numpy(dtype=float), nan=0.0)).astype(int)
    votes = np.where(conf >= min_confidence, votes, 0)
    if mode == "first":
        direction, confidence, agree = _first(votes, conf)
    elif mode == "vote":
        direction, confidence, agree = _majority(votes, conf, quorum)
    else:
        direction, confidence, agree = _weighted(votes, conf, _weights(members, weights))
    weak = confidence < min_confidence
    direction = np.where(weak, 0, direction)
    confidence = np.where(direction != 0, confidence, 0.0)
    agree &= (direction != 0)[:, None]
    index = directions.index
    return Aggregate(pd.Series(direction.astype(np.int8), index=index),
                     pd.Series(confidence, index=index),
                     pd.Series(member_names(agree, members), index=index))
