"""ATR risk sizing (plugins/quant/sizing.py) on hand-computed cases."""

import math

import numpy as np
import pandas as pd
import pytest
import talib

from plugins.quant.sizing import (
    atr_risk_stake,
    atr_stop_distance,
    position_trim_share,
    realised_daily_volatility,
    risk_stake,
    volatility_target_share,
)


# True ranges (prev close in brackets): 2 [100], 4 [101], 3 [103], 5 [102].
# TA-Lib ATR(3): first value = mean(2, 4, 3) = 3, then Wilder: (3 x 2 + 5) / 3 = 11/3.
FRAME = pd.DataFrame({
    "high":  [101.0, 102.0, 104.0, 104.0, 106.0],
    "low":   [99.0, 100.0, 100.0, 101.0, 101.0],
    "close": [100.0, 101.0, 103.0, 102.0, 105.0],
})


def frame_atr() -> pd.Series:
    return talib.ATR(FRAME["high"], FRAME["low"], FRAME["close"], timeperiod=3)


def test_atr_of_known_frame():
    atr = frame_atr()
    assert atr.iloc[:3].isna().all()
    assert atr.iloc[3] == pytest.approx(3.0)
    assert atr.iloc[4] == pytest.approx(11 / 3)


def test_atr_stake_on_known_frame():
    # Stop 2 x 11/3 = 22/3 below 105; risking 1% of 1000 = 10 -> 10 / (22/3) = 15/11 units.
    stake = atr_risk_stake(1000, 0.01, FRAME["close"].iloc[-1], frame_atr().iloc[-1], 2.0, 0.2)
    assert stake == pytest.approx(15 / 11 * 105)  # 143.1818...
    # Loss at the stop is exactly the risked 1% of equity.
    assert stake / 105 * (22 / 3) == pytest.approx(10.0)


def test_caps_and_minimum():
    atr = frame_atr().iloc[-1]
    assert atr_risk_stake(1000, 0.02, 105, atr, 2.0, 0.2) == pytest.approx(200.0)  # 286.36 capped
    assert atr_risk_stake(1000, 0.01, 105, atr, 2.0, 0.2, max_stake=120) == pytest.approx(120.0)
    # Below the exchange minimum the trade is skipped rather than over-risked.
    assert atr_risk_stake(1000, 0.01, 105, atr, 2.0, 0.2, min_stake=150) == 0.0
    assert atr_risk_stake(1000, 0.01, 105, atr, 2.0, 0.2, min_stake=143) == pytest.approx(1575 / 11)


def test_risk_stake_direct():
    assert risk_stake(2000, 0.005, 50.0, 2.5, 0.5) == pytest.approx(200.0)  # 10 / 2.5 = 4 units x 50


@pytest.mark.parametrize("atr", [float("nan"), 0.0, -1.0, None])
def test_unusable_atr_means_no_trade(atr):
    assert atr_risk_stake(1000, 0.01, 100, atr, 2.0, 0.2) == 0.0
    assert math.isnan(atr_stop_distance(atr, 2.0))


def test_invalid_settings_raise():
    with pytest.raises(ValueError, match="risk_fraction"):
        risk_stake(1000, 0.0, 100, 2, 0.2)
    with pytest.raises(ValueError, match="max_share"):
        risk_stake(1000, 0.01, 100, 2, 1.5)
    with pytest.raises(ValueError, match="atr_multiple"):
        atr_stop_distance(2.0, 0)


def test_custom_stake_amount_hook_uses_last_candle_atr_and_equity():
    from types import SimpleNamespace

    from plugins.strategy.staged_exits import AtrSizingMixin

    class Sizer(AtrSizingMixin):
        timeframe = "1h"

    sizer = Sizer()
    sizer.exit_stop_atr.value, sizer.sizing_risk.value, sizer.sizing_max_share.value = 2.0, 0.01, 0.2
    analyzed = FRAME.assign(atr=frame_atr())
    sizer.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (analyzed, None))
    sizer.wallets = SimpleNamespace(get_total_stake_amount=lambda: 1000.0)
    call = dict(pair="BTC/USDT", current_time=None, current_rate=105.0, proposed_stake=500.0,
                leverage=1.0, entry_tag=None, side="long")
    assert sizer.custom_stake_amount(min_stake=5.0, max_stake=900.0, **call) == pytest.approx(1575 / 11)
    assert sizer.custom_stake_amount(min_stake=5.0, max_stake=100.0, **call) == pytest.approx(100.0)
    # never above freqtrade's proposed stake (stake_amount, or the free balance per free slot)
    assert sizer.custom_stake_amount(min_stake=5.0, max_stake=900.0,
                                     **{**call, "proposed_stake": 60.0}) == pytest.approx(60.0)
    sizer.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (pd.DataFrame(), None))
    assert sizer.custom_stake_amount(min_stake=5.0, max_stake=900.0, **call) == 0.0


# --- volatility-targeted share (TrendRider) --------------------------------------------------------

def test_volatility_target_share_scales_down_volatile_pairs():
    # 4 % daily volatility against a 2 % target: half of the 20 % cap.
    assert volatility_target_share(0.04, 0.02, 0.2) == pytest.approx(0.1)
    # Calmer than the target: the full cap, never more.
    assert volatility_target_share(0.01, 0.02, 0.2) == pytest.approx(0.2)


@pytest.mark.parametrize("volatility", [float("nan"), 0.0, -0.01, None])
def test_volatility_target_share_refuses_unusable_volatility(volatility):
    assert volatility_target_share(volatility, 0.02, 0.2) == 0.0


def test_volatility_target_share_validates_settings():
    with pytest.raises(ValueError):
        volatility_target_share(0.03, 0.0, 0.2)
    with pytest.raises(ValueError):
        volatility_target_share(0.03, 0.02, 1.5)


# --- trimming a winner back to its cap (SignalVote) -----------------------------------------------

def test_position_trim_share_sells_back_to_the_cap():
    # Worth 300 of a 1,000 equity against a 20 % cap: sell 1 - 200 / 300 = a third.
    assert position_trim_share(300.0, 1000.0, 0.2) == pytest.approx(1 / 3)
    # Within the cap plus the 5 % tolerance (210): nothing; just past it: back to 200.
    assert position_trim_share(200.0, 1000.0, 0.2) == 0.0
    assert position_trim_share(210.0, 1000.0, 0.2) == 0.0
    assert position_trim_share(212.0, 1000.0, 0.2) == pytest.approx(12 / 212)
    assert position_trim_share(205.0, 1000.0, 0.2, tolerance=0.0) == pytest.approx(5 / 205)


@pytest.mark.parametrize("value, equity", [(float("nan"), 1000.0), (300.0, 0.0), (0.0, 1000.0),
                                           (300.0, None), (-5.0, 1000.0)])
def test_position_trim_share_sells_nothing_on_unusable_values(value, equity):
    assert position_trim_share(value, equity, 0.2) == 0.0


def test_position_trim_share_validates_settings():
    with pytest.raises(ValueError, match="max_share"):
        position_trim_share(300.0, 1000.0, 0.0)
    with pytest.raises(ValueError, match="tolerance"):
        position_trim_share(300.0, 1000.0, 0.2, tolerance=-0.1)


def test_realised_daily_volatility_hand_computed():
    # Log returns alternate +1 % / -1 %: the sample deviation over 12 returns is
    # 0.01 x sqrt(12 / 11); 6 candles a day scale it by sqrt(6).
    close = pd.Series(np.exp(np.cumsum(np.tile([0.01, -0.01], 20))))
    vol = realised_daily_volatility(close, candles_per_day=6, window_days=2)
    assert vol.iloc[:12].isna().all()  # 12 returns need 13 closes
    assert vol.iloc[12] == pytest.approx(0.01 * np.sqrt(12 / 11) * np.sqrt(6))


def test_realised_daily_volatility_is_causal_and_nan_on_bad_prices():
    close = pd.Series(np.exp(np.linspace(0, 1, 60)) * (1 + 0.01 * np.sin(np.arange(60))))
    full = realised_daily_volatility(close, 6, 2)
    cut = realised_daily_volatility(close.iloc[:40], 6, 2)
    pd.testing.assert_series_equal(full.iloc[:40], cut)
    flat_zero = close.copy()
    flat_zero.iloc[30] = 0.0
    assert realised_daily_volatility(flat_zero, 6, 2).iloc[30:43].isna().all()
