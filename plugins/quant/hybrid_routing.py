"""Regime -> logic routing arithmetic of the hybrid strategy (pure, vectorized, causal).

What
    ``RegimeHybrid`` computes three independent entry signals per candle (grid, DCA, trend; each
    from the pack's own grid / DCA / trend code) and lets ``plugins.quant.regime`` decide which of them
    may open a trade. This module is the arithmetic between the two, on whole columns:

    * :func:`allowed_logics` - per candle and logic, may it open a trade in the active regime
      (``plugins.quant.regime.allows`` evaluated once per regime, then mapped onto the column);
    * :func:`entry_stake_multiplier` - the risk gate's stake multiplier per candle (1.0 / 0.5 / 0);
    * :func:`route_entries` - the logic that enters on each candle (first allowed signal in
      ``PRIORITY`` order, only where the gate allows entries) and the ``"<REGIME>:<logic>"`` tag;
    * :func:`reduce_exposure` - candles whose gate asks to shrink open exposure (risk_off);
    * :func:`logic_of_tag`, :func:`scale_stake` - the per-trade helpers the freqtrade hooks use.

Why a separate module: the routing is where "never a trend entry in BEAR_TREND" and "stake x
risk gate" are decided, so it is tested on constructed columns with exact values, independent of
freqtrade. Every function reads row t only (no shifts, no rolling windows): causal by design.
"""

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from plugins.quant.market_gate import TAG_SEPARATOR as GATE_TAG_SEPARATOR
from plugins.quant.regime import (
    PLAYBOOKS,
    REGIMES,
    RISK_GATES,
    UNDEFINED,
    allows,
    risk_gate_column,
    stake_multiplier_column,
)


LOGICS: tuple[str, ...] = ("grid", "dca", "trend")
# When several signals fire on one candle, the most selective one names the trade: a trend
# breakout is rare and carries its own exit plan; a DCA dip beats a plain grid start.
PRIORITY: tuple[str, ...] = ("trend", "dca", "grid")
TAG_SEPARATOR = ":"
# Numeric regime code for FreqUI (plots need numbers): 0 = UNDEFINED, 1.. = REGIMES order.
REGIME_PLOT_CODES: dict[str, int] = {UNDEFINED: 0, **{r: i + 1 for i, r in enumerate(REGIMES)}}


def _check_logic(logic: str) -> None:
    if logic not in LOGICS:
        raise ValueError(f"logic must be one of {LOGICS}, got {logic!r}")


def regime_plot_code(regime: pd.Series) -> pd.Series:
    """Integer code of each regime label (``REGIME_PLOT_CODES``; unknown / missing -> 0)."""
    return regime.map(REGIME_PLOT_CODES).fillna(0).astype(int)


def allowed_logics(regime_active: pd.Series) -> pd.DataFrame:
    """Boolean frame (columns ``LOGICS``): may each logic open a trade in the row's regime.

    Unknown or missing labels allow nothing (same as UNDEFINED).
    """
    table = {logic: {r: allows(r, logic) for r in PLAYBOOKS} for logic in LOGICS}
    return pd.DataFrame(
        {logic: regime_active.map(table[logic]).fillna(False).astype(bool) for logic in LOGICS},
        index=regime_active.index,
    )


def active_confidence(regime: pd.Series, confidence: pd.Series, regime_active: pd.Series) -> pd.Series:
    """Confidence of the ACTIVE regime: the detector's confidence where the current label is
    the active one, else 0 (a pending switch means the active label is not confirmed now)."""
    return confidence.where(regime == regime_active, 0.0).fillna(0.0)


def entry_stake_multiplier(
    regime: pd.Series, confidence: pd.Series, regime_active: pd.Series, min_confidence: float = 0.65
) -> pd.Series:
    """Per-candle stake multiplier of the risk gate of the active regime (1.0, 0.5 or 0.0).

    ``plugins.quant.regime.stake_multiplier_column`` on the active regime, with
    :func:`active_confidence`: a risk_on regime below ``min_confidence`` gets half size.
    """
    conf = active_confidence(regime, confidence, regime_active)
    return stake_multiplier_column(regime_active, conf, min_confidence)


def reduce_exposure(regime_active: pd.Series) -> pd.Series:
    """True where the active regime's risk gate asks to shrink open exposure (risk_off)."""
    flags = {name: gate.reduce_exposure for name, gate in RISK_GATES.items()}
    return risk_gate_column(regime_active).map(flags).fillna(False).astype(bool)


def route_entries(
    regime_active: pd.Series,
    signals: Mapping[str, pd.Series],
    stake_multiplier: pd.Series,
    priority: tuple[str, ...] = PRIORITY,
    disabled: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Which logic enters on each candle: ``(enter, tag)``.

    ``signals`` maps logic name -> boolean Series (NaN = no signal). A candle enters when some
    logic has a signal, the active regime allows that logic, and the stake multiplier is > 0;
    the first such logic in ``priority`` wins. ``tag`` is ``"<regime_active>:<logic>"`` on
    entering candles, None elsewhere. A logic absent from ``signals`` never enters.
    ``disabled`` (regime -> logics) switches logics off in a regime on top of the playbook (a
    strategy setting may narrow a playbook, never widen it).
    """
    if set(priority) != set(LOGICS) or len(priority) != len(LOGICS):
        raise ValueError(f"priority must order exactly {LOGICS}, got {priority!r}")
    for logic in signals:
        _check_logic(logic)
    index = regime_active.index
    allowed = allowed_logics(regime_active)
    for regime, logics in (disabled or {}).items():
        if regime not in PLAYBOOKS:
            raise ValueError(f"unknown regime {regime!r} in disabled")
        for logic in logics:
            _check_logic(logic)
            allowed[logic] &= regime_active != regime
    gate_open = stake_multiplier.fillna(0.0).to_numpy(dtype=float) > 0
    conditions, names = [], []
    for logic in priority:
        if logic not in signals:
            continue
        sig = signals[logic]
        if len(sig) != len(index):
            raise ValueError(f"signal {logic!r} has {len(sig)} rows, expected {len(index)}")
        fires = np.asarray(pd.Series(sig).fillna(False), dtype=bool)
        conditions.append(fires & allowed[logic].to_numpy() & gate_open)
        names.append(logic)
    if not conditions:
        return pd.Series(False, index=index), pd.Series(None, index=index, dtype=object)
    logic = np.select(conditions, names, default="")
    enter = logic != ""
    labels = regime_active.astype(object).to_numpy()
    tags = np.where(enter, labels.astype(str) + TAG_SEPARATOR + logic.astype(object), None)
    return pd.Series(enter, index=index), pd.Series(tags, index=index, dtype=object)


def _routing_part(enter_tag: str | None) -> str:
    """``"BULL_TREND:dca|risk_on"`` -> ``"BULL_TREND:dca"`` (the market gate's state dropped)."""
    return (enter_tag or "").split(GATE_TAG_SEPARATOR, 1)[0]


def logic_of_tag(enter_tag: str | None) -> str | None:
    """The logic of a trade from its enter tag (``"BULL_TREND:dca|risk_on"`` -> ``"dca"``), else None."""
    enter_tag = _routing_part(enter_tag)
    if not enter_tag or TAG_SEPARATOR not in enter_tag:
        return None
    logic = enter_tag.rsplit(TAG_SEPARATOR, 1)[1]
    return logic if logic in LOGICS else None


def regime_of_tag(enter_tag: str | None) -> str | None:
    """The regime of a trade from its enter tag (``"BULL_TREND:dca"`` -> ``"BULL_TREND"``)."""
    if logic_of_tag(enter_tag) is None:
        return None
    regime = _routing_part(enter_tag).rsplit(TAG_SEPARATOR, 1)[0]
    return regime if regime in PLAYBOOKS else None


def scale_stake(stake: float, multiplier: float) -> float:
    """``stake x multiplier``; 0.0 (= no trade) for a non-positive / non-finite stake or multiplier.

    The risk gate only ever shrinks a stake (multiplier in [0, 1]); a value above 1 is rejected.
    """
    if multiplier is None or not math.isfinite(multiplier) or multiplier <= 0:
        return 0.0
    if multiplier > 1:
        raise ValueError(f"multiplier must be in [0, 1], got {multiplier!r}")
    if stake is None or not math.isfinite(stake) or stake <= 0:
        return 0.0
    return float(stake) * float(multiplier)
