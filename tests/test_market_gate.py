"""The market gate: pure state rules on hand-made series, and its wiring in every pack strategy."""

import numpy as np
import pandas as pd
import pytest

from freqtrade.enums import CandleType
from freqtrade.exceptions import OperationalException
from freqtrade.resolvers import StrategyResolver

from plugins.quant.market_gate import (
    NEUTRAL,
    RISK_OFF,
    RISK_ON,
    RISK_SMALL,
    combined_state,
    daily_trend,
    gated_tag,
    intraday_trend,
    series_state,
    stake_multiplier,
    state_of_tag,
    tag_stake_multiplier,
)
from plugins.strategy.market_gate import GATE_EXIT_TAG, LEADER_FMT, MarketGateMixin, gate_settings
from tests.conftest import STRATEGY_DIR, USER_DATA, pack_strategy_names


# --- pure rules -------------------------------------------------------------------------------


def test_daily_trend_hand_computed():
    # EMA(3) with alpha 0.5, seeded by the SMA of the first 3 closes (TA-Lib): 2, 3, 4, 3.5, 2.75
    close = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 3.0, 2.0])
    flags = daily_trend(close, ema_period=3, slope_days=1)
    ema = [np.nan, np.nan, 2.0, 3.0, 4.0, 3.5, 2.75]
    expected_up = [np.nan, np.nan, 1.0, 1.0, 1.0, 0.0, 0.0]   # close > EMA
    expected_rising = [np.nan, np.nan, np.nan, 1.0, 1.0, 0.0, 0.0]  # EMA > EMA one day before
    np.testing.assert_array_equal(flags["gate_trend_up_1d"].to_numpy(), expected_up)
    np.testing.assert_array_equal(flags["gate_rising_1d"].to_numpy(), expected_rising)
    assert ema[4] > ema[3] and ema[5] < ema[4]  # the hand-computed EMA behind the flags


def test_trend_flags_on_short_or_flat_history_never_say_up():
    assert daily_trend(pd.Series([1.0, 2.0]), 50, 5).isna().all().all()  # shorter than the EMA
    assert intraday_trend(pd.Series([1.0] * 3), 50).isna().all()
    flat = daily_trend(pd.Series([1.0] * 80), 50, 5)
    assert (flat.dropna() == 0).all().all()  # flat: not above the EMA, EMA not rising


@pytest.mark.parametrize("up, rising, up_4h, state", [
    (1, 1, 1, RISK_ON),
    (1, 1, 0, RISK_SMALL),
    (1, 0, 1, NEUTRAL),        # above a falling EMA: mixed
    (0, 1, 1, NEUTRAL),        # below a rising EMA: mixed
    (0, 0, 1, RISK_OFF),       # daily downtrend, whatever 4h says
    (np.nan, 1, 1, RISK_OFF),  # unknown data never opens the gate
    (1, 1, np.nan, RISK_OFF),
])
def test_series_state_table(up, rising, up_4h, state):
    assert series_state([up], [rising], [up_4h]).tolist() == [state]


def test_combined_state_is_the_most_restrictive_and_sets_the_stake():
    leader = np.array([RISK_ON, RISK_ON, RISK_SMALL, RISK_OFF])
    pair = np.array([RISK_ON, RISK_SMALL, RISK_ON, RISK_ON])
    combined = combined_state(leader, pair)
    assert combined.tolist() == [RISK_ON, RISK_SMALL, RISK_SMALL, RISK_OFF]
    assert stake_multiplier(combined).tolist() == [1.0, 0.5, 0.5, 0.0]
    with pytest.raises(ValueError):
        combined_state()


def test_tags_carry_the_state_and_its_stake():
    assert gated_tag("ema_bb_breakout", RISK_SMALL) == "ema_bb_breakout|risk_small"
    assert gated_tag(None, RISK_ON) == "entry|risk_on"
    assert state_of_tag("BULL_TREND:dca|risk_small") == "risk_small"
    assert state_of_tag("rsi_oversold") is None
    assert tag_stake_multiplier("x|risk_small") == 0.5
    assert tag_stake_multiplier("x|risk_on") == 1.0
    assert tag_stake_multiplier("untagged") == 1.0  # gate off: stake untouched
    with pytest.raises(ValueError):
        gated_tag("x", 7)


# --- configuration ----------------------------------------------------------------------------


def test_gate_settings_defaults_and_errors():
    assert gate_settings({}) == {"enabled": True, "leader": "BTC/{stake}"}
    assert gate_settings({"pack_market_gate": {"leader": "ETH/USDT"}})["leader"] == "ETH/USDT"
    for bad, word in (({"enabeld": True}, "enabeld"), ({"enabled": "yes"}, "enabled"),
                      ({"leader": "BTC"}, "leader"), ([], "object")):
        with pytest.raises(OperationalException, match=word):
            gate_settings({"pack_market_gate": bad})


def load(name: str, gate: dict | None = None):
    config = {"strategy": name, "strategy_path": str(STRATEGY_DIR), "user_data_dir": USER_DATA,
              "stake_currency": "USDT", "dry_run": True, "max_open_trades": 5,
              "stake_amount": "unlimited", "candle_type_def": CandleType.SPOT,
              "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]}}
    if gate is not None:
        config["pack_market_gate"] = gate
    return StrategyResolver.load_strategy(config)


def test_leader_setting_replaces_the_informative_pair():
    strategy = load("RsiMeanReversion", {"leader": "ETH/USDT"})
    leaders = {inf.asset for inf, _ in strategy._ft_informative if inf.fmt == LEADER_FMT}
    assert leaders == {"ETH/USDT"}
    # The class-level declaration is untouched (another instance keeps BTC).
    default = load("RsiMeanReversion")
    assert {inf.asset for inf, _ in default._ft_informative if inf.fmt == LEADER_FMT} == {"BTC/{stake}"}


# --- the mixin on constructed frames ------------------------------------------------------------


def gate_frame(strategy, states):
    """Merged informative flags that give each row the wanted state (leader = pair)."""
    flags = {RISK_ON: (1, 1, 1), RISK_SMALL: (1, 1, 0), NEUTRAL: (1, 0, 1), RISK_OFF: (0, 0, 0)}
    rows = [flags[s] for s in states]
    frame = {}
    for who in ("leader", "pair"):
        for position, column in enumerate(strategy.gate_flag_columns(who)):
            frame[column] = [r[position] for r in rows]
    return pd.DataFrame(frame)


@pytest.mark.parametrize("name", ["EmaBbTrend", "TrendRider"])
def test_gate_entries_and_exits(name):
    strategy = load(name)
    df = strategy.add_market_gate(gate_frame(strategy, [RISK_ON, RISK_SMALL, NEUTRAL, RISK_OFF]))
    assert df["market_state"].tolist() == [RISK_ON, RISK_SMALL, NEUTRAL, RISK_OFF]
    df["enter_long"] = 1
    df["enter_tag"] = "sig"
    df = strategy.gate_entries(df)
    assert df["enter_long"].tolist() == [1, 1, 0, 0]
    tags = [t if isinstance(t, str) else None for t in df["enter_tag"]]  # pandas may store NaN for None
    assert tags == ["sig|risk_on", "sig|risk_small", None, None]
    df["exit_long"] = [0, 1, 0, 0]
    df["exit_tag"] = [None, "own", None, None]
    df = strategy.gate_exits(df)
    assert df["exit_long"].tolist() == [0, 1, 0, 1]
    assert [t if isinstance(t, str) else None for t in df["exit_tag"]] == [None, "own", None, GATE_EXIT_TAG]
    assert strategy.gated_stake("sig|risk_small", 100.0) == 50.0


def test_atr_strategies_merge_the_pairs_own_candles_once():
    # The pair's gate flags ride on the trend votes' 4h / 1d merges: 4 informative merges, not 6.
    strategy = load("RsiMeanReversion")
    merges = sorted((inf.asset or "pair", inf.timeframe) for inf, _ in strategy._ft_informative)
    assert merges == [("BTC/{stake}", "1d"), ("BTC/{stake}", "4h"), ("pair", "1d"), ("pair", "4h")]
    assert strategy.gate_flag_columns("pair") == ("gate_up_1d", "gate_rising_1d", "gate_up_4h")
    # A strategy without its own 4h / 1d merges keeps the gate's.
    assert load("TrendRider").gate_flag_columns("pair") == ("pair_gate_up_1d", "pair_gate_rising_1d",
                                                             "pair_gate_up_4h")


def candles(n: int, freq: str) -> pd.DataFrame:
    close = 100 + np.cumsum(np.sin(np.arange(n) / 7.0))  # up and down swings around the EMAs
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq=freq, tz="UTC"),
                         "open": close, "high": close + 1, "low": close - 1, "close": close,
                         "volume": np.full(n, 10.0)})


def test_gate_informatives_hand_freqtrade_only_their_flags():
    # Every merged column is copied on each later pass; the leader's OHLCV is never read.
    strategy = load("TrendRider")
    daily = strategy.populate_gate_leader_1d(candles(120, "1D"), {"pair": "BTC/USDT"})
    intraday = strategy.populate_gate_pair_4h(candles(120, "4h"), {"pair": "ETH/USDT"})
    assert list(daily.columns) == ["date", "gate_up", "gate_rising"]
    assert list(intraday.columns) == ["date", "gate_up"]
    assert set(daily["gate_up"].dropna()) == {0.0, 1.0}  # the flags themselves are kept


def test_a_4h_strategy_reads_the_pairs_4h_flag_off_its_own_candles():
    strategy = load("TrendRider")
    strategy.bot_start()
    merges = sorted((inf.asset or "pair", inf.timeframe) for inf, _ in strategy._ft_informative)
    assert merges == [("BTC/{stake}", "1d"), ("BTC/{stake}", "4h"), ("pair", "1d")]
    base = candles(120, "4h")
    gated = strategy.add_market_gate(base.copy())
    expected = intraday_trend(base["close"], strategy.gate_ema_4h.value)
    np.testing.assert_array_equal(gated["pair_gate_up_4h"].to_numpy(), expected.to_numpy())
    assert set(expected.dropna()) == {0.0, 1.0}
    # On another timeframe (a --timeframe override) the 4h candles are merged as before.
    overridden = load("TrendRider")
    overridden.timeframe = "1h"
    overridden.bot_start()
    assert ("pair", "4h") in {(inf.asset or "pair", inf.timeframe) for inf, _ in overridden._ft_informative}


def test_missing_informative_columns_close_the_gate_and_disabled_gate_opens_it():
    frame = pd.DataFrame({"close": [1.0, 2.0]})
    assert load("EmaBbTrend").add_market_gate(frame.copy())["market_state"].tolist() == [RISK_OFF] * 2
    off = load("EmaBbTrend", {"enabled": False})
    df = off.add_market_gate(frame.copy())
    assert df["market_state"].tolist() == [RISK_ON] * 2
    df["exit_long"] = 0
    assert off.gate_exits(df)["exit_long"].tolist() == [0, 0]


@pytest.mark.parametrize("name", pack_strategy_names())
def test_every_pack_strategy_uses_the_gate(name):
    strategy = load(name)
    assert isinstance(strategy, MarketGateMixin)
    plotted = {c for group in strategy.plot_config.get("subplots", {}).values() for c in group}
    assert "market_state" in plotted


@pytest.mark.parametrize("name", ["AiFusion", "SmcStructure"])
def test_mixin_stake_hook_halves_risk_small_entries(name):
    strategy = load(name)
    args = ("BTC/USDT", None, 100.0, 200.0, 5.0, 1000.0, 1.0)
    assert strategy.custom_stake_amount(*args, "sig|risk_small", "long") == 100.0
    assert strategy.custom_stake_amount(*args, "sig|risk_on", "long") == 200.0


def test_held_position_is_cut_to_half_once_on_risk_small():
    from plugins.quant.market_gate import held_position_cut

    assert held_position_cut(RISK_SMALL, already_cut=False) == 0.5
    assert held_position_cut(RISK_SMALL, already_cut=True) == 0.0
    assert [held_position_cut(s, False) for s in (RISK_ON, NEUTRAL, RISK_OFF)] == [0.0, 0.0, 0.0]
