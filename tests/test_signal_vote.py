"""Aggregation of signal decisions (plugins.quant.vote) and the SignalVote strategy."""

from types import SimpleNamespace

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


# --- the SignalVote strategy ------------------------------------------------------------------
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402

from freqtrade.strategy import BooleanParameter, CategoricalParameter  # noqa: E402
from freqtrade.strategy.parameters import BaseParameter  # noqa: E402

from plugins.quant.signals import SIGNALS  # noqa: E402
from plugins.quant.market_gate import RISK_OFF, RISK_ON  # noqa: E402
from plugins.strategy.market_gate import GATE_EXIT_TAG  # noqa: E402
from tests.conftest import CONFIG, STRATEGY_DIR, USER_DATA, error_lines, run_freqtrade  # noqa: E402

sys.path.insert(0, str(STRATEGY_DIR))
from SignalVote import SignalVote  # noqa: E402


STRATEGY_CONFIG = {"stake_currency": "USDT", "candle_type_def": "spot"}
# Parameters are class attributes shared by every instance: each test starts from the defaults.
DEFAULTS = {name: getattr(SignalVote, name).value for name in dir(SignalVote)
            if isinstance(getattr(SignalVote, name), BaseParameter)}


def strategy(**values) -> SignalVote:
    instance = SignalVote(STRATEGY_CONFIG)
    for name, value in {**DEFAULTS, **values}.items():
        getattr(instance, name).value = value
    return instance


def member_frame(votes: dict[str, list[int]], confidence=0.8, htf=0.5, state=RISK_ON):
    rows = len(next(iter(votes.values())))
    frame = pd.DataFrame({"volume": np.full(rows, 1000.0), "htf_score": htf,
                          "market_state": state})
    for name in SIGNALS:
        direction = np.array(votes.get(name, [0] * rows))
        frame[f"vote_{name}"] = direction
        frame[f"conf_{name}"] = np.where(direction != 0, confidence, 0.0)
    return frame


def test_parameters_follow_the_issue():
    instance = strategy()
    for name in SIGNALS:
        assert isinstance(getattr(instance, f"use_{name}"), BooleanParameter)
        assert getattr(instance, f"use_{name}").space == "buy"
        assert getattr(instance, f"weight_{name}").space == "buy"
    assert isinstance(instance.agg_mode, CategoricalParameter)
    assert list(instance.agg_mode.opt_range) == ["first", "vote", "weighted"]
    assert instance.min_confidence.value == 0.5
    assert instance.exit_mode.value == "percent" and instance.percent_mode()
    assert (instance.exit_stop_pct.value, instance.exit_tp1_pct.value, instance.exit_tp2_pct.value,
            instance.exit_trail_pct.value, instance.exit_tp1_share.value) == (0.05, 0.02, 0.05,
                                                                               0.03, 0.5)
    assert instance.timeframe == "1h" and not instance.can_short
    # Stop only by default (the seed's take-profits one switch away), 7 % a trade, 20 % cap.
    assert isinstance(instance.take_profits, BooleanParameter) and instance.take_profits.space == "sell"
    assert not instance.takes_profits()
    assert (instance.sizing_max_share.value, instance.position_max_share.value) == (0.07, 0.2)


def test_entry_tag_names_the_mode_and_the_agreeing_members():
    votes = {"supertrend": [1, 1, 1, -1], "donchian_breakout": [1, 0, 1, -1],
             "rsi_momentum": [-1, 1, 1, 0]}
    frame = strategy(vote_quorum=2).populate_entry_trend(member_frame(votes), {"pair": "BTC/USDT"})
    assert frame["enter_long"].tolist() == [1, 1, 1, 0]
    assert frame["enter_tag"].tolist()[:3] == [
        "vote:supertrend+donchian_breakout|risk_on", "vote:supertrend+rsi_momentum|risk_on",
        "vote:supertrend+donchian_breakout+rsi_momentum|risk_on"]
    first = strategy(agg_mode="first").populate_entry_trend(member_frame(votes), {"pair": "X"})
    assert first["enter_tag"].iloc[0] == "first:supertrend|risk_on"


def test_the_default_vote_needs_four_agreeing_members():
    votes = {"supertrend": [1, 1, 1], "donchian_breakout": [1, 1, 1], "rsi_momentum": [1, 1, 1],
             "ema_cross": [0, 1, 1], "ema_atr": [0, 0, -1]}
    frame = strategy().populate_entry_trend(member_frame(votes), {"pair": "BTC/USDT"})
    # three agree: below the quorum; four agree: enter; four long against one short: still enter
    assert frame["enter_long"].fillna(0).tolist() == [0, 1, 1]
    assert frame["enter_tag"].iloc[1] == (
        "vote:ema_cross+supertrend+donchian_breakout+rsi_momentum|risk_on")


def test_a_trade_stakes_at_most_seven_percent_of_equity():
    """1 % of equity risked on the 5 % stop would stake 20 %; the default share caps it at 7 %,
    and the gate's risk_small halves that."""
    instance = SignalVote(STRATEGY_CONFIG)  # class defaults
    instance.wallets = SimpleNamespace(get_total_stake_amount=lambda: 10_000.0)
    call = dict(pair="BTC/USDT", current_time=None, current_rate=100.0, proposed_stake=5000.0,
                min_stake=5.0, max_stake=9000.0, leverage=1.0, side="long")
    assert instance.custom_stake_amount(entry_tag="vote:a+b|risk_on", **call) == pytest.approx(700.0)
    assert instance.custom_stake_amount(entry_tag="vote:a+b|risk_small", **call) == pytest.approx(350.0)
    instance.sizing_max_share.value = 0.2
    try:
        assert instance.custom_stake_amount(entry_tag="vote:a+b|risk_on", **call) == pytest.approx(2000.0)
    finally:
        instance.sizing_max_share.value = DEFAULTS["sizing_max_share"]


def test_switched_off_members_do_not_vote():
    votes = {"supertrend": [1], "donchian_breakout": [1]}
    off = strategy(use_donchian_breakout=False, vote_quorum=2).populate_entry_trend(
        member_frame(votes), {})
    assert off["enter_long"].tolist() == [0]  # one member left: below the quorum of 2
    assert strategy().members() == list(SIGNALS)


def test_never_against_the_higher_timeframe_trend_nor_the_gate():
    votes = {"supertrend": [1, 1], "donchian_breakout": [1, 1]}
    agreeing = strategy(vote_quorum=2).populate_entry_trend(member_frame(votes), {})
    assert agreeing["enter_long"].tolist() == [1, 1]
    against = strategy(vote_quorum=2).populate_entry_trend(member_frame(votes, htf=-0.3), {})
    assert against["enter_long"].tolist() == [0, 0]
    gated = strategy(vote_quorum=2).populate_entry_trend(member_frame(votes, state=RISK_OFF), {})
    assert gated["enter_long"].tolist() == [0, 0]
    weak = strategy(vote_quorum=2).populate_entry_trend(member_frame(votes, confidence=0.45), {})
    assert weak["enter_long"].tolist() == [0, 0]


def test_weighted_mode_follows_the_weights():
    votes = {"supertrend": [1], "donchian_breakout": [1], "vwap_reversion": [-1]}
    equal = strategy(agg_mode="weighted").populate_entry_trend(member_frame(votes), {})
    assert equal["enter_long"].tolist() == [1]
    heavy = strategy(agg_mode="weighted", weight_vwap_reversion=2.0)
    assert heavy.populate_entry_trend(member_frame(votes), {})["enter_long"].tolist() == [0]


def test_vote_exit_only_when_asked():
    votes = {"supertrend": [-1], "donchian_breakout": [-1]}
    quiet = strategy(vote_quorum=2)
    quiet = quiet.populate_exit_trend(quiet.populate_entry_trend(member_frame(votes), {}), {})
    assert quiet["exit_long"].tolist() == [0]
    asked = strategy(exit_on_vote=True, vote_quorum=2)
    frame = asked.populate_exit_trend(asked.populate_entry_trend(member_frame(votes), {}), {})
    assert frame["exit_long"].tolist() == [1] and frame["exit_tag"].tolist() == ["signal_exit"]


def test_plot_config_series_exist():
    subplots = SignalVote.plot_config["subplots"]
    assert "market_state" in subplots["Market gate"]
    assert len(subplots["Member votes"]) == 9 and "vote_confidence" in subplots["Vote confidence"]


def offline_backtest(tmp_path, params: dict) -> list[dict]:
    """The trades of a real offline SignalVote backtest (2025-03/04) with a parameter file."""
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(STRATEGY_DIR / "SignalVote.py", strategies)
    (strategies / "SignalVote.json").write_text(json.dumps(
        {"strategy_name": "SignalVote", "params": params}))
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", str(USER_DATA), "--strategy",
        "SignalVote", "--strategy-path", str(strategies), "--timerange", "20250301-20250501",
        "--export", "trades", "--backtest-directory", str(tmp_path), timeout=400)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and not error_lines(output), output[-3000:]
    from freqtrade.data.btanalysis import load_backtest_stats

    trades = load_backtest_stats(tmp_path)["strategy"]["SignalVote"]["trades"]
    assert trades
    return trades


def test_offline_backtest_default_exits_at_the_stop_or_the_gate_only(tmp_path):
    """Default (stop only): no take-profit order; a stop closes at the 5 % hard stop."""
    trades = offline_backtest(tmp_path, {"buy": {"agg_mode": "vote"}})
    exit_tags = {o["ft_order_tag"] for t in trades for o in t["orders"] if not o["ft_is_entry"]}
    assert not exit_tags & {"tp1", "tp2", "break_even"}, exit_tags
    reasons = {t["exit_reason"] for t in trades}
    assert reasons <= {"stop_loss", GATE_EXIT_TAG, "force_exit", "position_cap"}, reasons
    stops = [t for t in trades if t["exit_reason"] == "stop_loss"]
    assert stops
    for t in stops:
        assert t["close_rate"] == pytest.approx(t["open_rate"] * 0.95, rel=2e-3)


@pytest.mark.parametrize("mode", ["vote", "weighted"])
def test_offline_backtest_with_the_seed_take_profits(mode, tmp_path):
    """``take_profits`` on: mode-tagged entries, TP1 at +2% closing half the position."""
    trades = offline_backtest(tmp_path, {"buy": {"agg_mode": mode},
                                         "sell": {"take_profits": True}})
    assert all(t["enter_tag"].startswith(f"{mode}:") for t in trades)
    members = {m for t in trades for m in t["enter_tag"].split(":")[1].split("|")[0].split("+")}
    assert members <= set(SIGNALS) and members
    partial = [(t, o) for t in trades for o in t["orders"]
               if not o["ft_is_entry"] and o["ft_order_tag"] == "tp1"]
    assert partial, "no TP1 partial exit"
    for trade, order in partial:
        entry = next(o for o in trade["orders"] if o["ft_is_entry"])
        assert order["safe_price"] >= entry["safe_price"] * 1.02 * (1 - 1e-9)
        assert order["amount"] == pytest.approx(entry["amount"] / 2, rel=0.02)
    stops = [t for t in trades if t["exit_reason"] == "stop_loss"]
    assert stops
    for t in stops:  # the 5% hard stop before TP1; after it the break-even stop (+0.2% for fees)
        after_tp1 = any(o["ft_order_tag"] == "tp1" for o in t["orders"])
        level = 1.002 if after_tp1 else 0.95
        assert t["close_rate"] == pytest.approx(t["open_rate"] * level, rel=2e-3)
