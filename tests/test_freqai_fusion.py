"""The shared FreqAI fusion (plugins/strategy/freqai_fusion.py) on hand-computed cases: the blend,
flagged predictions, windows without skill, and no FreqAI at all."""

import math

import numpy as np
import pandas as pd
import pytest

from plugins.quant.fusion import SKILL_COLUMN
from plugins.strategy.freqai_fusion import REGRESSION_TARGET, FreqAiFusionMixin
from tests.conftest import STRATEGY_DIR, USER_DATA


class Fused(FreqAiFusionMixin):
    def __init__(self, freqai_enabled: bool):
        self.config = {"freqai": {"enabled": freqai_enabled}, "freqaimodel": "EnsembleRegressor"}


def frame(skill=0.2):
    return pd.DataFrame({
        REGRESSION_TARGET: [0.01, 0.0, -0.02, 0.01],
        f"{REGRESSION_TARGET}_std": [0.01, 0.01, 0.01, 0.01],
        "do_predict": [1, 1, 1, 0],
        SKILL_COLUMN: [skill] * 4,
    })


def test_blend_is_65_35_of_technical_and_the_prediction_score():
    technical = pd.Series([0.8, 0.6, 0.5, 0.9])
    dataframe = frame()
    fused = Fused(True).fuse(dataframe, technical)
    # Prediction score = logistic(gain 3 x prediction / std): +1 std -> 1 / (1 + e^-3).
    up = 1 / (1 + math.exp(-3))
    assert dataframe["ai_score"].iloc[1] == pytest.approx(0.5)
    assert fused.iloc[0] == pytest.approx(0.65 * 0.8 + 0.35 * up)
    assert fused.iloc[1] == pytest.approx(0.65 * 0.6 + 0.35 * 0.5)
    assert fused.iloc[2] == pytest.approx(0.65 * 0.5 + 0.35 / (1 + math.exp(6)))
    # A candle FreqAI flags (do_predict 0): no fused score, so no signal.
    assert np.isnan(fused.iloc[3])


def test_window_without_skill_uses_the_technical_score_alone():
    technical = pd.Series([0.8, 0.6, 0.5, 0.9])
    fused = Fused(True).fuse(frame(skill=-0.1), technical)
    assert fused.tolist() == technical.tolist()


def test_without_freqai_the_technical_score_is_unchanged():
    technical = pd.Series([0.8, 0.6, 0.5, 0.9])
    dataframe = frame()
    fused = Fused(False).fuse(dataframe, technical)
    assert fused.tolist() == technical.tolist()
    assert dataframe["ai_valid"].eq(0).all()


@pytest.mark.parametrize("name", ["SignalVote", "AiFusion"])
def test_the_blend_parameters_are_searched_only_with_freqai(name):
    """Without FreqAI ``ai_weight`` / ``ai_gain`` act on nothing, so hyperopt leaves them alone."""
    from freqtrade.enums import CandleType, RunMode
    from freqtrade.resolvers import StrategyResolver

    def searched(freqai_enabled: bool) -> set[str]:
        config = {"strategy": name, "strategy_path": str(STRATEGY_DIR), "user_data_dir": USER_DATA,
                  "stake_currency": "USDT", "dry_run": True, "max_open_trades": 5,
                  "stake_amount": "unlimited", "runmode": RunMode.HYPEROPT,
                  "candle_type_def": CandleType.SPOT, "spaces": ["buy"],
                  "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]},
                  "freqai": {"enabled": freqai_enabled}}
        strategy = StrategyResolver.load_strategy(config)
        strategy.ft_load_hyper_params(hyperopt=True)
        return {n for n, p in strategy.enumerate_parameters("buy") if p.optimize}

    blend = {"ai_weight", "ai_gain"}
    assert not searched(False) & blend
    assert blend <= searched(True)
    assert not searched(False) & blend  # the class itself was never changed
