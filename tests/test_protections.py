"""DrawdownGuard, RegimeGuard and CorrelationGuard on scripted trade histories.

Trades live in freqtrade's backtest persistence (``disable_database_use`` -> LocalTrade lists,
in-memory PairLocks), protections are loaded by freqtrade's ProtectionResolver and run through its
ProtectionManager, exactly as backtesting does with ``--enable-protections``.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from freqtrade.enums import TradingMode
from freqtrade.exceptions import OperationalException
from freqtrade.persistence import LocalTrade, PairLocks
from freqtrade.persistence.usedb_context import disable_database_use, enable_database_use
from freqtrade.plugins.protectionmanager import ProtectionManager
from freqtrade.resolvers import ProtectionResolver

from conftest import REPO
from plugins.integration import market_context
from plugins.integration.market_context import (
    StaticCandles,
    attach_dataprovider,
    confirm_entry,
    install_entry_check,
)
from test_regime import PATHS, candles


CONFIG = {"timeframe": "1h", "stake_currency": "USDT"}
T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
BALANCE = 1000.0


@pytest.fixture(autouse=True)
def backtest_persistence():
    disable_database_use("1h")
    LocalTrade.reset_trades()
    PairLocks.reset_locks()
    attach_dataprovider(None)
    yield
    LocalTrade.reset_trades()
    PairLocks.reset_locks()
    attach_dataprovider(None)
    enable_database_use()


def add_trade(pair: str, profit: float = 0.0, close: datetime | None = None, hours: int = 2):
    """A 100 USDT trade; closed at ``close`` with ``profit`` USDT, or open when close is None."""
    opened = (close or T0) - timedelta(hours=hours)
    trade = LocalTrade(
        pair=pair,
        stake_amount=100.0,
        amount=1.0,
        open_rate=100.0,
        open_date=opened,
        fee_open=0.001,
        fee_close=0.001,
        exchange="binance",
        trading_mode=TradingMode.SPOT,
        is_open=close is None,
    )
    if close is not None:
        trade.close_date = close
        trade.close_rate = 100.0 + profit
        trade.close_profit_abs = profit
        trade.close_profit = profit / 100.0
        trade.exit_reason = "exit_signal"
    LocalTrade.add_bt_trade(trade)
    return trade


def manager(*protections: dict) -> ProtectionManager:
    return ProtectionManager(CONFIG, list(protections))


def load(method: str, **params):
    return ProtectionResolver.load_protection(method, CONFIG, {"method": method, **params})


# ----------------------------------------------------------------------------- DrawdownGuard


def test_drawdown_from_peak_trips_and_holds_for_stop_duration():
    add_trade("BTC/USDT", 100.0, T0)
    add_trade("ETH/USDT", -200.0, T0 + timedelta(hours=1))  # equity 1100 -> 900: 18.2 % from peak
    pm = manager({"method": "DrawdownGuard", "max_drawdown": 0.15, "stop_duration": 120})
    now = T0 + timedelta(hours=1)
    lock = pm.global_stop(now, "long", BALANCE)
    assert lock is not None and "18.2%" in lock.reason
    # The guard asks for last close + 120 min; PairLocks rounds up to the next candle start.
    assert load("DrawdownGuard", max_drawdown=0.15, stop_duration=120).global_stop(
        now, "long", BALANCE
    ).until == T0 + timedelta(hours=3)
    assert lock.lock_end_time == T0 + timedelta(hours=4)
    assert PairLocks.is_global_lock(now + timedelta(minutes=30))


def test_drawdown_below_limit_does_not_trip():
    add_trade("BTC/USDT", 100.0, T0)
    add_trade("ETH/USDT", -200.0, T0 + timedelta(hours=1))
    assert (
        manager({"method": "DrawdownGuard", "max_drawdown": 0.2}).global_stop(
            T0 + timedelta(hours=1), "long", BALANCE
        )
        is None
    )


def test_daily_loss_locks_until_next_utc_midnight():
    add_trade("BTC/USDT", 50.0, T0 - timedelta(days=1))  # yesterday: day starts at 1050
    add_trade("BTC/USDT", -20.0, T0)
    add_trade("ETH/USDT", -12.0, T0 + timedelta(hours=2))  # today -32 / 1050 = 3.05 %
    pm = manager({"method": "DrawdownGuard", "max_drawdown": 0.5, "max_daily_loss": 0.03})
    lock = pm.global_stop(T0 + timedelta(hours=2), "long", BALANCE)
    assert lock is not None and "Daily realised loss 3.0%" in lock.reason
    assert lock.lock_end_time == datetime(2025, 3, 11, tzinfo=UTC)
    assert not PairLocks.is_global_lock(datetime(2025, 3, 11, tzinfo=UTC))


def test_daily_loss_below_limit_or_on_a_previous_day_does_not_trip():
    add_trade("BTC/USDT", -100.0, T0 - timedelta(days=1))  # a bad day, but yesterday
    add_trade("BTC/USDT", -20.0, T0)  # today: 20 / 900 = 2.2 %
    pm = manager({"method": "DrawdownGuard", "max_drawdown": 0.5, "max_daily_loss": 0.03})
    assert pm.global_stop(T0, "long", BALANCE) is None


def test_loss_streak_cooldown():
    for i in range(3):
        add_trade("BTC/USDT", -1.0, T0 + timedelta(hours=i))
    guard = {
        "method": "DrawdownGuard",
        "max_drawdown": 0.5,
        "max_loss_streak": 3,
        "streak_stop_duration": 240,
    }
    now = T0 + timedelta(hours=2)
    lock = manager(guard).global_stop(now, "long", BALANCE)
    assert lock is not None and lock.reason == "3 losing trades in a row"
    assert lock.lock_end_time == now + timedelta(hours=5)  # 4 h, rounded to the next candle
    # Four hours after the last loss the cooldown is over.
    assert manager(guard).global_stop(now + timedelta(hours=4), "long", BALANCE) is None


def test_a_win_breaks_the_streak():
    for i, profit in enumerate([-1.0, -1.0, 5.0, -1.0, -1.0]):
        add_trade("BTC/USDT", profit, T0 + timedelta(hours=i))
    guard = {"method": "DrawdownGuard", "max_drawdown": 0.5, "max_loss_streak": 3}
    assert manager(guard).global_stop(T0 + timedelta(hours=4), "long", BALANCE) is None


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("max_drawdown", 0),
        ("max_drawdown", "0.2"),
        ("max_daily_loss", 1.5),
        ("max_daily_loss", True),
        ("max_loss_streak", 0),
        ("max_loss_streak", 2.5),
        ("streak_stop_duration", -5),
    ],
)
def test_drawdown_guard_names_bad_parameter(param, bad):
    with pytest.raises(OperationalException, match=param):
        load("DrawdownGuard", **{param: bad})


def test_drawdown_guard_describes_all_rules():
    desc = load(
        "DrawdownGuard", max_drawdown=0.2, max_daily_loss=0.05, max_loss_streak=4
    ).short_desc()
    assert "20%" in desc and "UTC day lost 5%" in desc and "4 trades in a row" in desc


# ----------------------------------------------------------------------------- RegimeGuard


def btc_candles(steps) -> StaticCandles:
    return StaticCandles({("BTC/USDT", "1h"): candles(steps)})


def end_of(steps) -> datetime:
    """The moment the last candle of ``candles(steps)`` has closed."""
    return candles(steps)["date"].iloc[-1].to_pydatetime() + timedelta(hours=1)


def test_regime_guard_locks_globally_in_a_bear_trend():
    attach_dataprovider(btc_candles(PATHS["BEAR_TREND"]))
    pm = manager({"method": "RegimeGuard"})
    now = end_of(PATHS["BEAR_TREND"])
    lock = pm.global_stop(now, "long", BALANCE)
    assert lock is not None and lock.reason.startswith("BTC/USDT regime BEAR_TREND")
    # One candle: the entry candle opening at ``now`` is locked, the next one is re-checked.
    assert lock.lock_end_time == now + timedelta(hours=1)
    assert pm.stop_per_pair("ETH/USDT", now, "long", BALANCE) is None


def test_regime_guard_lets_a_bull_trend_trade():
    attach_dataprovider(btc_candles(PATHS["BULL_TREND"]))
    assert (
        manager({"method": "RegimeGuard"}).global_stop(end_of(PATHS["BULL_TREND"]), "long", BALANCE)
        is None
    )


def test_regime_guard_reads_only_closed_candles():
    steps = np.r_[PATHS["BULL_TREND"], PATHS["BEAR_TREND"][:150]]
    attach_dataprovider(btc_candles(steps))
    guard = load("RegimeGuard")
    dates = candles(steps)["date"]
    # At the close of the last bull candle the regime is BULL, though bear candles follow.
    at_switch = dates.iloc[299].to_pydatetime() + timedelta(hours=1)
    assert guard.current_regime(at_switch)[0] == "BULL_TREND"
    assert guard.current_regime(at_switch + timedelta(minutes=59))[0] == "BULL_TREND"
    assert guard.current_regime(end_of(steps))[0] == "BEAR_TREND"


def test_regime_guard_per_pair_and_confidence_threshold():
    attach_dataprovider(btc_candles(PATHS["QUIET_TRANSITION"]))
    now = end_of(PATHS["QUIET_TRANSITION"])
    per_pair = manager(
        {"method": "RegimeGuard", "regimes": ["QUIET_TRANSITION"], "only_per_pair": True}
    )
    assert per_pair.global_stop(now, "long", BALANCE) is None
    assert per_pair.stop_per_pair("ETH/USDT", now, "long", BALANCE) is not None
    assert PairLocks.is_pair_locked("ETH/USDT", now) and not PairLocks.is_global_lock(now)
    sure_only = manager(
        {"method": "RegimeGuard", "regimes": ["QUIET_TRANSITION"], "min_confidence": 0.99}
    )
    assert sure_only.global_stop(now, "long", BALANCE) is None


def test_regime_guard_on_the_entered_pairs_own_regime():
    attach_dataprovider(
        StaticCandles(
            {
                ("BTC/USDT", "1h"): candles(PATHS["BULL_TREND"]),
                ("ETH/USDT", "1h"): candles(PATHS["BEAR_TREND"]),
            }
        )
    )
    pm = manager({"method": "RegimeGuard", "regime_of": "pair"})
    now = end_of(PATHS["BULL_TREND"])
    assert pm.global_stop(now, "long", BALANCE) is None
    assert pm.stop_per_pair("BTC/USDT", now, "long", BALANCE) is None
    lock = pm.stop_per_pair("ETH/USDT", now, "long", BALANCE)
    assert lock is not None and lock.reason.startswith("ETH/USDT regime BEAR_TREND")


def test_regime_guard_without_data_does_not_lock():
    assert manager({"method": "RegimeGuard"}).global_stop(T0, "long", BALANCE) is None


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("regimes", ["SIDEWAYS"]),
        ("regimes", []),
        ("min_confidence", 2),
        ("pair", "BTCUSDT"),
        ("only_per_pair", "yes"),
        ("timeframe", "7x"),
        ("unlock_at", "08:00"),
        ("regime_of", "coin"),
    ],
)
def test_regime_guard_names_bad_parameter(param, bad):
    with pytest.raises(OperationalException, match=param):
        load("RegimeGuard", **{param: bad})


def test_regime_guard_rejects_a_pair_it_would_ignore():
    with pytest.raises(OperationalException, match="pair is only used with regime_of 'market'"):
        load("RegimeGuard", regime_of="pair", pair="BTC/USDT")


# ----------------------------------------------------------------------------- CorrelationGuard


def market(**returns) -> StaticCandles:
    """1h candles per pair from per-candle returns (keys like BTC_USDT)."""
    return StaticCandles({(k.replace("_", "/"), "1h"): candles(v) for k, v in returns.items()})


RNG = np.random.default_rng(3)
COMMON = RNG.normal(0, 0.01, 200)
NOISE = RNG.normal(0, 0.01, 200)


def test_correlation_guard_blocks_a_pair_moving_with_an_open_trade():
    attach_dataprovider(
        market(BTC_USDT=COMMON, ETH_USDT=COMMON * 1.5 + NOISE * 0.1, DOGE_USDT=NOISE)
    )
    add_trade("ETH/USDT")  # open
    pm = manager({"method": "CorrelationGuard", "lookback_period_candles": 100})
    now = end_of(COMMON)
    lock = pm.stop_per_pair("BTC/USDT", now, "long", BALANCE)
    assert lock is not None and "with open ETH/USDT" in lock.reason
    assert pm.stop_per_pair("DOGE/USDT", now, "long", BALANCE) is None


def test_correlation_guard_measured_value_beats_the_default():
    # BTC and ETH unrelated in the data: the 0.85 default must not block.
    attach_dataprovider(market(BTC_USDT=COMMON, ETH_USDT=NOISE))
    add_trade("ETH/USDT")
    assert (
        manager({"method": "CorrelationGuard"}).stop_per_pair(
            "BTC/USDT", end_of(COMMON), "long", BALANCE
        )
        is None
    )


def test_correlation_guard_falls_back_to_defaults_without_data():
    add_trade("ETH/USDT")
    pm = manager({"method": "CorrelationGuard", "max_correlation": 0.8})
    lock = pm.stop_per_pair("BTC/USDT", T0, "long", BALANCE)  # default BTC-ETH 0.85
    assert lock is not None and "0.85" in lock.reason
    assert pm.stop_per_pair("SOL/USDT", T0, "long", BALANCE) is None  # ETH-SOL 0.70


def test_correlation_guard_caps_a_correlated_cluster():
    add_trade("ETH/USDT")
    add_trade("SOL/USDT")
    guard = {"method": "CorrelationGuard", "max_correlation": 0.95, "cluster_correlation": 0.7}
    # BTC joins the BTC-ETH-SOL cluster (0.85, 0.75, 0.70 >= 0.7) holding 2 open trades.
    lock = manager({**guard, "max_cluster_trades": 2}).stop_per_pair(
        "BTC/USDT", T0, "long", BALANCE
    )
    assert lock is not None and "2 open trades in BTC/USDT's correlated cluster" in lock.reason
    assert (
        manager({**guard, "max_cluster_trades": 3}).stop_per_pair("BTC/USDT", T0, "long", BALANCE)
        is None
    )


def test_correlation_guard_ignores_closed_trades():
    add_trade("ETH/USDT", 1.0, T0 - timedelta(hours=1))
    assert (
        manager({"method": "CorrelationGuard"}).stop_per_pair("BTC/USDT", T0, "long", BALANCE)
        is None
    )


@pytest.mark.parametrize(
    ("param", "bad"),
    [
        ("max_correlation", 0),
        ("max_correlation", 1.2),
        ("cluster_correlation", "0.7"),
        ("max_cluster_trades", 0),
        ("lookback_period_candles", 2),
    ],
)
def test_correlation_guard_names_bad_parameter(param, bad):
    with pytest.raises(OperationalException, match=param):
        load("CorrelationGuard", **{param: bad})


# ----------------------------------------------------------------------------- entry-time check


def test_confirm_entry_runs_registered_guards_and_leaves_a_visible_lock():
    pm = manager({"method": "CorrelationGuard"}, {"method": "DrawdownGuard", "max_drawdown": 0.2})
    assert {type(g).__name__ for g in market_context.registered_guards()} == {"CorrelationGuard"}
    add_trade("ETH/USDT")
    source = market(BTC_USDT=COMMON, ETH_USDT=COMMON, DOGE_USDT=NOISE)
    now = end_of(COMMON)
    assert confirm_entry("DOGE/USDT", "long", now, BALANCE, dataprovider=source)
    assert not confirm_entry("BTC/USDT", "long", now, BALANCE, dataprovider=source)
    locks = PairLocks.get_pair_locks(None, now)
    assert [(lock.pair, lock.reason.split(" correlation")[0]) for lock in locks] == [
        ("BTC/USDT", "BTC/USDT")
    ]
    del pm


class FakeStrategy:
    """Stands in for a loaded IStrategy: its own confirm_trade_entry records the calls."""

    def __init__(self, dp):
        self.dp = dp
        self.wallets = None
        self.calls = []

    def confirm_trade_entry(
        self, pair, order_type, amount, rate, time_in_force, current_time, entry_tag, side, **kwargs
    ):
        self.calls.append(pair)
        return pair != "XRP/USDT"


def test_install_entry_check_wraps_any_strategy():
    import pickle

    pm = manager({"method": "CorrelationGuard"})
    add_trade("ETH/USDT")
    strategy = FakeStrategy(
        market(BTC_USDT=COMMON, ETH_USDT=COMMON, DOGE_USDT=NOISE, XRP_USDT=NOISE)
    )
    install_entry_check(strategy)
    install_entry_check(strategy)  # idempotent
    kwargs = dict(
        order_type="limit",
        amount=1.0,
        rate=1.0,
        time_in_force="GTC",
        current_time=end_of(COMMON),
        entry_tag=None,
        side="long",
    )
    assert strategy.confirm_trade_entry(pair="BTC/USDT", **kwargs) is False  # guard refuses
    assert strategy.confirm_trade_entry(pair="DOGE/USDT", **kwargs) is True
    assert strategy.confirm_trade_entry(pair="XRP/USDT", **kwargs) is False  # strategy refuses
    assert strategy.calls == ["DOGE/USDT", "XRP/USDT"]
    assert PairLocks.is_pair_locked("BTC/USDT", end_of(COMMON))
    clone = pickle.loads(pickle.dumps(strategy))  # hyperopt workers pickle the strategy
    assert clone.confirm_trade_entry.strategy is clone
    assert clone.confirm_trade_entry(pair="DOGE/USDT", **kwargs) is True
    assert clone.calls == ["DOGE/USDT", "XRP/USDT", "DOGE/USDT"]
    del pm


def test_no_guards_no_checks():
    # Protections off: freqtrade builds no ProtectionManager, so nothing is registered.
    import gc

    gc.collect()
    assert market_context.registered_guards() == []
    add_trade("ETH/USDT")
    assert confirm_entry("BTC/USDT", "long", T0, BALANCE)


def test_guard_informative_pairs_lists_the_regime_source():
    protections = [
        {"method": "RegimeGuard", "pair": "ETH/USDT", "timeframe": "4h"},
        {"method": "RegimeGuard"},
        {"method": "CorrelationGuard"},
    ]
    assert market_context.guard_informative_pairs(CONFIG, protections) == [
        ("ETH/USDT", "4h"),
        ("BTC/USDT", "1h"),
    ]


def test_protections_load_from_the_pack_folder_through_freqtrades_resolver():
    for name in ("DrawdownGuard", "RegimeGuard", "CorrelationGuard"):
        protection = load(name)
        assert type(protection).__name__ == name
        assert protection.short_desc().startswith(name)


def test_demo_protections_config_loads():
    import json

    demo = json.loads((REPO / "user_data" / "config.protections.json").read_text())
    pm = ProtectionManager(CONFIG, demo["pack_protections"])
    assert pm.name_list == ["DrawdownGuard", "RegimeGuard", "CorrelationGuard"]


def test_correlation_guard_short_history_falls_back_to_the_default():
    # 20 candles of SOL only: fewer than lookback // 2 = 84 common returns -> default BTC-SOL 0.75.
    attach_dataprovider(market(BTC_USDT=COMMON, SOL_USDT=COMMON[-20:]))
    add_trade("SOL/USDT")
    guard = {"method": "CorrelationGuard", "max_correlation": 0.75}
    lock = manager(guard).stop_per_pair("BTC/USDT", end_of(COMMON), "long", BALANCE)
    assert lock is not None and "correlation 0.75" in lock.reason
