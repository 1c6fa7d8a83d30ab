"""Signal fusion: a technical score and an AI prediction score blended into one entry score.

Seed 003's rule: ``fused = w_tech * technical + w_ai * ai`` (defaults 0.65 / 0.35), the AI part
only when a model is present and its prediction is trusted. Every score lives in [0, 1] so the
weights are comparable and one threshold applies to the blend.

Pure, vectorized, causal functions (a value at candle t uses only inputs at t), used by the
``AiFusion`` strategy and tested in tests/test_fusion.py on hand-computed values.
"""

import numpy as np
import pandas as pd

# Per-training-window out-of-sample skill of the FreqAI ensemble, added as a column by FreqAI when
# the config declares it in ``freqai.extra_returns_per_train`` (plugins/freqai/ensemble.py).
SKILL_COLUMN = "ensemble_skill"


def _clip01(values: pd.Series) -> pd.Series:
    return values.clip(lower=0.0, upper=1.0)


def technical_score(ema_fast: pd.Series, ema_slow: pd.Series, rsi: pd.Series, adx: pd.Series,
                    *, spread_scale: float = 0.02, rsi_low: float = 30.0, rsi_high: float = 70.0,
                    adx_low: float = 15.0, adx_high: float = 35.0,
                    weights: tuple[float, float, float] = (0.5, 0.3, 0.2)) -> pd.Series:
    """"Buy the pullback in an uptrend" score in [0, 1] (NaN where an input is NaN).

    Three sub-scores, each clipped to [0, 1], averaged with ``weights`` (trend, pullback,
    strength):
    - trend    = 0.5 + 0.5 * (ema_fast / ema_slow - 1) / spread_scale: 0.5 when the EMAs are
      level, 1 when the fast EMA is ``spread_scale`` (2%) above the slow one, 0 when below;
    - pullback = (rsi_high - rsi) / (rsi_high - rsi_low): 1 at RSI <= rsi_low, 0 at >= rsi_high;
    - strength = (adx - adx_low) / (adx_high - adx_low), counted only while ema_fast > ema_slow
      (a strong downtrend is not a reason to buy).
    """
    if spread_scale <= 0:
        raise ValueError(f"spread_scale must be > 0, got {spread_scale}")
    if rsi_high <= rsi_low:
        raise ValueError(f"rsi_high ({rsi_high}) must be > rsi_low ({rsi_low})")
    if adx_high <= adx_low:
        raise ValueError(f"adx_high ({adx_high}) must be > adx_low ({adx_low})")
    if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(
            f"weights must be 3 non-negative numbers with a positive sum, got {weights}")
    spread = ema_fast / ema_slow - 1.0
    trend = _clip01(0.5 + 0.5 * spread / spread_scale)
    pullback = _clip01((rsi_high - rsi) / (rsi_high - rsi_low))
    uptrend = (ema_fast > ema_slow).astype(float).where(spread.notna())
    strength = _clip01((adx - adx_low) / (adx_high - adx_low)) * uptrend
    w_trend, w_pull, w_strength = weights
    return (w_trend * trend + w_pull * pullback + w_strength * strength) / sum(weights)


def prediction_score(prediction: pd.Series, scale: pd.Series | float,
                     gain: float = 1.0) -> pd.Series:
    """A predicted return mapped to [0, 1]: ``1 / (1 + exp(-gain * prediction / scale))``.

    ``scale`` is the typical size of the target (FreqAI's ``<target>_std``, the std of the
    training labels), so the score does not depend on the coin's volatility; 0.5 means "no
    edge". NaN where the prediction is NaN or the scale is not positive.
    """
    if gain <= 0:
        raise ValueError(f"gain must be > 0, got {gain}")
    scale = pd.Series(scale, index=prediction.index) if np.isscalar(scale) else scale
    z = prediction / scale.where(scale > 0)
    return 1.0 / (1.0 + np.exp(-gain * z))


def fused_score(technical: pd.Series, ai: pd.Series | None = None,
                ai_valid: pd.Series | None = None, *, w_tech: float = 0.65,
                w_ai: float = 0.35, fallback_to_technical: bool = False) -> pd.Series:
    """``(w_tech * technical + w_ai * ai) / (w_tech + w_ai)``, where the AI part may be missing.

    - ``ai is None`` (no model configured): the technical score alone (weights renormalised, so
      the same threshold still applies).
    - Candles where ``ai_valid`` is False or ``ai`` is NaN (prediction flagged by the
      dissimilarity index / outlier detection, or no model yet): NaN, i.e. no signal, unless
      ``fallback_to_technical`` (then the technical score alone).
    """
    if w_tech < 0 or w_ai < 0 or w_tech + w_ai <= 0:
        raise ValueError(f"weights must be >= 0 with a positive sum, got w_tech={w_tech}, "
                         f"w_ai={w_ai}")
    if ai is None or w_ai == 0:
        return technical.astype(float) if w_tech > 0 else pd.Series(np.nan, index=technical.index)
    valid = ai.notna() if ai_valid is None else ai.notna() & ai_valid.fillna(False).astype(bool)
    blended = (w_tech * technical + w_ai * ai) / (w_tech + w_ai)
    fallback = technical if fallback_to_technical and w_tech > 0 else np.nan
    return blended.where(valid, fallback)
