"""plugins.quant.fusion arithmetic (hand-computed) and the AiFusion strategy's use of it."""

import math

import numpy as np
import pandas as pd
import pytest

from freqtrade.enums import CandleType
from freqtrade.resolvers import StrategyResolver

from plugins.quant.fusion import fused_score, prediction_score, technical_score
from tests.conftest import STRATEGY_DIR, USER_DATA


def s(*values):
    return pd.Series(values, dtype=float)


def test_technical_score_hand_computed():
    score = technical_score(s(102, 99, 100), s(100, 100, 100), s(50, 30, np.nan), s(25, 40, 20))
    # row 0: trend 0.5 + 0.5 * 0.02 / 0.02 = 1, pullback (70-50)/40 = 0.5, strength 0.5 (uptrend)
    assert score[0] == pytest.approx(0.5 * 1 + 0.3 * 0.5 + 0.2 * 0.5)
    # row 1: trend 0.5 - 0.5 * 0.01 / 0.02 = 0.25, pullback 1, strength 0 (downtrend)
    assert score[1] == pytest.approx(0.5 * 0.25 + 0.3 * 1 + 0.2 * 0)
    assert np.isnan(score[2])  # no RSI yet -> no score


def test_technical_score_validates_parameters():
    one = s(1.0)
    with pytest.raises(ValueError, match="spread_scale"):
        technical_score(one, one, one, one, spread_scale=0)
    with pytest.raises(ValueError, match="rsi_high"):
        technical_score(one, one, one, one, rsi_low=70, rsi_high=30)
    with pytest.raises(ValueError, match="weights"):
        technical_score(one, one, one, one, weights=(1, -1, 1))


def test_prediction_score_is_a_logistic_of_the_scaled_prediction():
    score = prediction_score(s(0.0, 0.01, -0.02, 0.01), s(0.01, 0.01, 0.01, 0.0), gain=1.0)
    assert score[0] == 0.5
    assert score[1] == pytest.approx(1 / (1 + math.exp(-1)))
    assert score[2] == pytest.approx(1 / (1 + math.exp(2)))
    assert np.isnan(score[3])  # no label scale -> no score
    assert prediction_score(s(0.01), 0.01, gain=3.0)[0] == pytest.approx(1 / (1 + math.exp(-3)))
    with pytest.raises(ValueError, match="gain"):
        prediction_score(s(0.01), 0.01, gain=0)


def test_fused_score_defaults_are_65_35():
    tech, ai = s(0.8, 0.8, 0.8), s(0.6, 0.6, np.nan)
    valid = pd.Series([True, False, True])
    fused = fused_score(tech, ai, valid)
    assert fused[0] == pytest.approx(0.65 * 0.8 + 0.35 * 0.6)  # 0.73
    assert np.isnan(fused[1])  # flagged by DI / outlier detection: skipped
    assert np.isnan(fused[2])  # no prediction
    fallback = fused_score(tech, ai, valid, fallback_to_technical=True)
    assert list(fallback[1:]) == [0.8, 0.8]
    # weights are renormalised: 1.3 / 0.7 is the same blend as 0.65 / 0.35
    assert fused_score(tech, ai, valid, w_tech=1.3, w_ai=0.7)[0] == pytest.approx(0.73)


def test_fused_score_without_model_is_the_technical_score():
    tech = s(0.2, 0.7)
    pd.testing.assert_series_equal(fused_score(tech, None), tech)
    pd.testing.assert_series_equal(fused_score(tech, s(0.9, 0.9), w_ai=0.0), tech)
    with pytest.raises(ValueError, match="weights"):
        fused_score(tech, None, w_tech=-0.1)


# --- the strategy ---------------------------------------------------------------------------------


def load_strategy(freqai: dict | None = None):
    config = {"strategy": "AiFusion", "strategy_path": str(STRATEGY_DIR),
              "user_data_dir": USER_DATA, "stake_currency": "USDT", "dry_run": True,
              "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]},
              "candle_type_def": CandleType.SPOT,
              # The fusion is tested here; the market gate has its own tests (test_market_gate.py).
              "pack_market_gate": {"enabled": False}}
    if freqai is not None:
        config["freqai"] = freqai
    return StrategyResolver.load_strategy(config)


def frame(n=120):
    close = 100 * np.exp(np.cumsum(np.sin(np.arange(n) / 7) * 0.01))
    return pd.DataFrame({
        "date": pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC"),
        "open": close, "high": close * 1.003, "low": close * 0.997, "close": close,
        "volume": np.full(n, 10.0),
    })


def test_strategy_without_freqai_trades_on_the_technical_score():
    strategy = load_strategy()
    assert not strategy.ai_enabled
    df = strategy.populate_indicators(frame(), {"pair": "BTC/USDT"})
    df = strategy.populate_entry_trend(df, {"pair": "BTC/USDT"})
    pd.testing.assert_series_equal(df["fused_score"], df["tech_score"], check_names=False)
    entries = df["enter_long"] == 1
    assert entries.any()
    assert (df.loc[entries, "tech_score"] >= strategy.entry_threshold.value).all()


def test_strategy_with_freqai_blends_and_skips_flagged_predictions():
    strategy = load_strategy({"enabled": True})
    df = pd.DataFrame({
        "ema20": [102.0, 102.0], "ema50": [100.0, 100.0], "rsi": [50.0, 50.0],
        "adx": [25.0, 25.0], "volume": [1.0, 1.0],
        "&-mean_fwd_return": [0.01, 0.01], "&-mean_fwd_return_std": [0.01, 0.01],
        "do_predict": [1, 0],
    })
    df = strategy.populate_entry_trend(df, {"pair": "BTC/USDT"})
    tech = 0.5 * 1 + 0.3 * 0.5 + 0.2 * 0.5  # 0.75, see test_technical_score_hand_computed
    ai = 1 / (1 + math.exp(-strategy.ai_gain.value))
    w = strategy.ai_weight.value
    assert df["fused_score"][0] == pytest.approx((1 - w) * tech + w * ai)
    assert np.isnan(df["fused_score"][1])  # do_predict 0: no signal on that candle
    assert df["enter_long"].fillna(0).tolist() == [1, 0]


@pytest.mark.parametrize("n, flat", [(10, False), (300, True)])
def test_strategy_does_not_signal_on_short_or_flat_history(n, flat):
    strategy = load_strategy()
    df = frame(n)
    if flat:
        for col in ("open", "high", "low", "close"):
            df[col] = 100.0
        df["volume"] = 0.0
    df = strategy.populate_indicators(df, {"pair": "BTC/USDT"})
    df = strategy.populate_entry_trend(df, {"pair": "BTC/USDT"})
    df = strategy.populate_exit_trend(df, {"pair": "BTC/USDT"})
    assert "enter_long" not in df or df["enter_long"].fillna(0).eq(0).all()


def test_strategy_uses_the_model_only_in_windows_with_out_of_sample_skill():
    strategy = load_strategy({"enabled": True})
    df = pd.DataFrame({
        "ema20": [102.0, 102.0], "ema50": [100.0, 100.0], "rsi": [50.0, 50.0],
        "adx": [25.0, 25.0], "volume": [1.0, 1.0],
        "&-mean_fwd_return": [0.01, 0.01], "&-mean_fwd_return_std": [0.01, 0.01],
        "do_predict": [1, 1], "ensemble_skill": [0.05, -0.02],
    })
    df = strategy.populate_entry_trend(df, {"pair": "BTC/USDT"})
    tech = 0.75  # as in the test above
    ai = 1 / (1 + math.exp(-strategy.ai_gain.value))
    w = strategy.ai_weight.value
    assert df["fused_score"][0] == pytest.approx((1 - w) * tech + w * ai)
    assert df["fused_score"][1] == pytest.approx(tech)  # no skill in that window: technical only


def test_validation_skill_per_task():
    from plugins.freqai.ensemble import validation_skill

    assert validation_skill({"ensemble": {"spearman": 0.03}}, "regression") == 0.03
    # 70% accuracy where always guessing the majority class (60%) scores 0.6: skill 0.1.
    labels = ["up"] * 6 + ["down"] * 4
    assert validation_skill({"ensemble": {"accuracy": 0.7}}, "classification", labels) == pytest.approx(0.1)
    assert math.isnan(validation_skill({"ensemble": {"accuracy": 0.7}}, "classification", None))
