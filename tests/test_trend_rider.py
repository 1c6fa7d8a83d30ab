"""TrendRider's trading plan on constructed frames (entry events, trend exits, volatility sizing)
and one offline backtest through stock freqtrade."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from plugins.quant.market_gate import NEUTRAL, RISK_OFF, RISK_ON, RISK_SMALL
from tests.conftest import CONFIG, USER_DATA, error_lines, run_freqtrade


@pytest.fixture
def strategy():
    from freqtrade.enums import CandleType
    from freqtrade.resolvers import StrategyResolver

    config = json.loads(CONFIG.read_text())
    config.update(strategy="TrendRider", user_data_dir=USER_DATA, strategy_path=str(USER_DATA / "strategies"),
                  candle_type_def=CandleType.SPOT)
    return StrategyResolver.load_strategy(config)


def frame(states, volume=None):
    n = len(states)
    return pd.DataFrame({
        "date": pd.date_range("2025-01-01", periods=n, freq="4h", tz="UTC"),
        "close": np.full(n, 100.0),
        "volume": np.full(n, 10.0) if volume is None else np.asarray(volume, float),
        "market_state": states,
    })


def test_enters_on_the_candle_the_state_turns_risk_on(strategy):
    states = [RISK_OFF, RISK_SMALL, RISK_ON, RISK_ON, RISK_SMALL, RISK_ON, NEUTRAL, RISK_ON]
    out = strategy.populate_entry_trend(frame(states), {"pair": "BTC/USDT"})
    assert out["enter_long"].tolist() == [0, 0, 1, 0, 0, 1, 0, 1]
    assert out.loc[2, "enter_tag"] == "trend|risk_on"


def test_no_entry_on_zero_volume(strategy):
    out = strategy.populate_entry_trend(frame([RISK_SMALL, RISK_ON], volume=[10, 0]), {"pair": "BTC/USDT"})
    assert out["enter_long"].tolist() == [0, 0]


def test_exits_when_a_daily_trend_breaks_and_holds_through_4h_dips(strategy):
    states = [RISK_ON, RISK_SMALL, NEUTRAL, RISK_OFF]
    out = strategy.populate_exit_trend(frame(states), {"pair": "BTC/USDT"})
    assert out["exit_long"].tolist() == [0, 0, 1, 1]
    assert out["exit_tag"].tolist()[2:] == ["trend_broken", "market_risk_off"]


def _stake(strategy, volatility, proposed=10_000.0, equity=10_000.0):
    analyzed = pd.DataFrame({"daily_volatility": [0.01, volatility]})
    strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (analyzed, None))
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: equity)
    return strategy.custom_stake_amount(
        pair="SOL/USDT", current_time=None, current_rate=100.0, proposed_stake=proposed,
        min_stake=5.0, max_stake=50_000.0, leverage=1.0, entry_tag="trend|risk_on", side="long")


def test_stake_is_sized_on_volatility(strategy):
    # 1 % target, 20 % cap: a pair moving 5 % a day gets 20 % x 1/5 = 4 % of 10 000.
    assert _stake(strategy, 0.05) == pytest.approx(400.0)
    assert _stake(strategy, 0.01) == pytest.approx(2000.0)
    # Never above freqtrade's proposal (the free balance split over the free slots).
    assert _stake(strategy, 0.01, proposed=1500.0) == pytest.approx(1500.0)
    # No usable volatility (flat or missing history): no trade.
    assert _stake(strategy, float("nan")) == 0.0


def _adjust(strategy, state, exits_so_far):
    analyzed = pd.DataFrame({"market_state": [RISK_ON, state]})
    strategy.dp = SimpleNamespace(get_analyzed_dataframe=lambda pair, tf: (analyzed, None))
    trade = SimpleNamespace(pair="SOL/USDT", stake_amount=600.0, nr_of_successful_exits=exits_so_far)
    return strategy.adjust_trade_position(
        trade=trade, current_time=None, current_rate=100.0, current_profit=0.0, min_stake=5.0,
        max_stake=5000.0, current_entry_rate=100.0, current_exit_rate=100.0, current_entry_profit=0.0,
        current_exit_profit=0.0)


def test_first_4h_dip_cuts_the_position_to_half_once(strategy):
    assert _adjust(strategy, RISK_SMALL, exits_so_far=0) == (-300.0, "risk_small_cut")
    # Cut already: held at half, and not bought back when the state returns to risk_on.
    assert _adjust(strategy, RISK_SMALL, exits_so_far=1) is None
    assert _adjust(strategy, RISK_ON, exits_so_far=1) is None
    assert _adjust(strategy, RISK_ON, exits_so_far=0) is None


def test_offline_backtest_trades_and_exits_on_the_trend(tmp_path):
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", str(USER_DATA), "--strategy", "TrendRider",
        "--timerange", "20250401-20250801", "--export", "trades", "--backtest-directory", str(tmp_path),
        "--cache", "none",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and not error_lines(output), output[-3000:]
    from freqtrade.data.btanalysis import load_backtest_data

    trades = load_backtest_data(tmp_path)
    assert len(trades) >= 5
    assert set(trades["exit_reason"]) <= {"trend_broken", "market_risk_off", "stop_loss", "force_exit"}
    assert (trades["exit_reason"] == "trend_broken").any()
    assert trades["enter_tag"].str.startswith("trend|risk_on").all()
    # Some trades were cut to half on a 4h dip: exactly one partial exit order tagged for it.
    cuts = trades["orders"].map(lambda orders: sum(o["ft_order_tag"] == "risk_small_cut" for o in orders))
    assert cuts.max() == 1 and (cuts == 1).any()
