"""Exposure and slippage caps: the pure limits by hand, the entry hooks on scripted trades and
tickers (freqtrade's own backtest trade store), a real backtest under the caps, and start-up
validation through a real freqtrade process."""

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from freqtrade.exceptions import OperationalException
from freqtrade.persistence import LocalTrade, Trade

from plugins.integration import exposure
from plugins.integration.exposure import ExposureSettings, install_exposure_check
from plugins.quant.exposure import entry_refusal, slippage, spread, stake_room, validate_limits
from tests.conftest import CONFIG, error_lines, run_freqtrade


def test_stake_room_by_hand():
    # equity 1000: total cap 500, pair cap 100
    assert stake_room(1000, 0, 0, 0.5, 0.1) == 100
    assert stake_room(1000, 450, 0, 0.5, 0.1) == 50       # total cap binds
    assert stake_room(1000, 200, 70, 0.5, 0.1) == 30      # pair cap binds
    assert stake_room(1000, 520, 0, 0.5, 0.1) == 0        # already over: no room, never negative
    assert stake_room(0, 0, 0, 0.5, 0.1) == 0


def test_slippage_spread_and_refusal_by_hand():
    assert slippage(100, 101.5) == pytest.approx(0.015)
    assert slippage(100, 99) == pytest.approx(0.01)
    assert spread(99.5, 100.5) == pytest.approx(0.01)
    assert entry_refusal(100, 100, 0.005, 0.001, 0.01, 0.005) is None
    assert entry_refusal(100.05, 100, None, None, 0.01, 0.005) is None  # precision rounding
    assert "exposure room" in entry_refusal(101, 100, None, None, 0.01, 0.005)
    assert "signal price" in entry_refusal(50, 100, 0.0101, None, 0.01, 0.005)
    assert "spread" in entry_refusal(50, 100, 0.0, 0.006, 0.01, 0.005)


@pytest.mark.parametrize("settings, named", [
    ({"max_total_exposure": 1.5}, "max_total_exposure"),
    ({"max_position": 0}, "max_position"),
    ({"max_slippage": "1%"}, "max_slippage"),
    ({"max_position": 0.6}, "cannot exceed max_total_exposure"),
    ({"max_spred": 0.01}, "unknown setting"),
])
def test_settings_are_validated(settings, named):
    with pytest.raises(OperationalException, match=named):
        ExposureSettings({"method": "ExposureLimit", **settings})


class Wallets:
    def __init__(self, equity):
        self.equity = equity

    def get_total_stake_amount(self):
        return self.equity


class Dataprovider:
    """Scripted analysed candles (signal close) and tickers."""

    def __init__(self, closes, tickers):
        self.closes, self.tickers = closes, tickers

    def get_analyzed_dataframe(self, pair, timeframe):
        return pd.DataFrame({"close": [self.closes[pair] * 0.9, self.closes[pair]]}), None

    def ticker(self, pair):
        return self.tickers.get(pair, {})


class Strategy:
    timeframe = "1h"

    def __init__(self, equity, closes, tickers):
        self.wallets = Wallets(equity)
        self.dp = Dataprovider(closes, tickers)
        self.confirmed = []

    def confirm_trade_entry(self, **kwargs):
        self.confirmed.append(kwargs["pair"])
        return True

    def custom_stake_amount(self, **kwargs):
        return kwargs["proposed_stake"]


def open_trade(pair, stake):
    trade = LocalTrade(pair=pair, stake_amount=stake, amount=stake / 100, open_rate=100,
                       open_date=datetime(2025, 1, 1, tzinfo=UTC), fee_open=0.001,
                       fee_close=0.001, exchange="binance", is_open=True, leverage=1.0)
    LocalTrade.add_bt_trade(trade)


@pytest.fixture
def scripted(monkeypatch):
    """Freqtrade's in-memory (backtesting) trade store, with an ExposureLimit registered."""
    monkeypatch.setattr(Trade, "use_db", False)
    LocalTrade.reset_trades()
    holder = type("Holder", (), {})()
    holder.settings = ExposureSettings({"method": "ExposureLimit"})  # defaults 50 % / 10 %
    exposure.register(holder)
    yield holder
    LocalTrade.reset_trades()
    exposure._active.discard(holder)


def entry(strategy, pair, stake, rate):
    return strategy.confirm_trade_entry(pair=pair, order_type="limit", amount=stake / rate,
                                        rate=rate, time_in_force="GTC",
                                        current_time=datetime(2025, 1, 2, tzinfo=UTC),
                                        entry_tag=None, side="long")


def test_entry_hooks_on_scripted_trades_and_tickers(scripted):
    closes = {"BTC/USDT": 100.0, "ETH/USDT": 100.0, "SOL/USDT": 100.0}
    tickers = {"BTC/USDT": {"bid": 99.99, "ask": 100.01},
               "ETH/USDT": {"bid": 99.0, "ask": 101.0}}  # 2 % spread
    strategy = Strategy(1000.0, closes, tickers)
    install_exposure_check(strategy)
    install_exposure_check(strategy)  # idempotent: wrapped once

    open_trade("BTC/USDT", 60)
    open_trade("SOL/USDT", 100)
    open_trade("XRP/USDT", 300)  # 460 of the 500 total cap used
    stake = strategy.custom_stake_amount(pair="BTC/USDT", proposed_stake=200.0)
    assert stake == pytest.approx(40)  # min(total room 40, BTC room 100 - 60 = 40)
    stake = strategy.custom_stake_amount(pair="ADA/USDT", proposed_stake=30.0)
    assert stake == 30  # below the room: unchanged

    assert entry(strategy, "BTC/USDT", 40, 100.5)            # 0.5 % slippage, tight spread
    assert not entry(strategy, "BTC/USDT", 40, 101.2)        # 1.2 % away from the signal close
    assert not entry(strategy, "BTC/USDT", 45, 100.0)        # over the room
    assert not entry(strategy, "ETH/USDT", 20, 100.0)        # 2 % spread
    assert not entry(strategy, "SOL/USDT", 5, 100.0)         # SOL already at its 10 % cap
    assert strategy.confirmed == ["BTC/USDT"]  # the strategy's own check ran only when allowed

    exposure._active.discard(scripted)  # no ExposureLimit configured: inert
    assert strategy.custom_stake_amount(pair="SOL/USDT", proposed_stake=500.0) == 500
    assert entry(strategy, "ETH/USDT", 500, 100.0)


def caps_config(tmp_path, **limits):
    path = tmp_path / "caps.json"
    path.write_text(json.dumps({"pack_protections": [
        {"method": "DrawdownGuard", "max_drawdown": 0.25, "stop_duration_candles": 24},
        {"method": "ExposureLimit", **limits}]}))
    return path


def test_backtest_under_the_caps(tmp_path):
    # RsiMeanReversion stakes 10-40 USDT per trade here (1-4 % of the wallet): caps of 1 % per
    # pair and 2 % in total must cut them
    config = caps_config(tmp_path, max_total_exposure=0.02, max_position=0.01, max_slippage=0.05)
    result = run_freqtrade("backtesting", "--config", str(CONFIG), "--config", str(config),
                           "--strategy", "RsiMeanReversion", "--timerange", "20250201-20250601",
                           "--enable-protections", "--export", "trades",
                           "--backtest-directory", str(tmp_path), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Using resolved protection ExposureLimit" in result.stderr
    import zipfile
    archive = next(tmp_path.glob("backtest-result-*.zip"))
    with zipfile.ZipFile(archive) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".json") and "_config" not in n
                    and "market_change" not in n)
        stats = json.loads(zf.read(name))
    trades = stats["strategy"]["RsiMeanReversion"]["trades"]
    assert len(trades) >= 3
    wallet = 1000 * 0.99 + sum(t["profit_abs"] for t in trades)  # equity never exceeds this
    highest_equity = max(1000 * 0.99, wallet) + 1
    for trade in trades:
        assert trade["stake_amount"] <= 0.01 * highest_equity * 1.001, trade
    assert max(t["stake_amount"] for t in trades) >= 0.01 * 990 * 0.98  # cut to the pair cap
    events = sorted([(t["open_timestamp"], t["stake_amount"]) for t in trades]
                    + [(t["close_timestamp"], -t["stake_amount"]) for t in trades],
                    key=lambda e: (e[0], e[1]))
    open_stake = peak = 0.0
    for _, change in events:
        open_stake += change
        peak = max(peak, open_stake)
    assert peak <= 0.02 * highest_equity * 1.001


def test_bad_setting_stops_start_up_with_one_line(tmp_path):
    config = caps_config(tmp_path, max_position=2)
    result = run_freqtrade("backtesting", "--config", str(CONFIG), "--config", str(config),
                           "--strategy", "RsiMeanReversion", "--timerange", "20250301-20250310",
                           "--enable-protections", "--backtest-directory", str(tmp_path))
    assert result.returncode != 0
    errors = error_lines(result.stdout + result.stderr)
    assert len(errors) == 1, errors
    assert "ExposureLimit: max_position must be a fraction in (0, 1], got 2" in errors[0]


def test_live_safety_preset_loads_with_stoploss_on_exchange(tmp_path):
    """user_data/config.live-safety.json on config.json: freqtrade accepts the exchange stop
    (binance spot: stop_loss_limit) and the pack's limits, and the caps act in a backtest."""
    preset = CONFIG.parent / "config.live-safety.json"
    result = run_freqtrade("backtesting", "--config", str(CONFIG), "--config", str(preset),
                           "--strategy", "RsiMeanReversion", "--timerange", "20250301-20250401",
                           "--enable-protections", "--backtest-directory", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Using resolved protection ExposureLimit" in result.stderr
    settings = json.loads(preset.read_text())
    assert settings["order_types"]["stoploss_on_exchange"] is True
    assert ExposureSettings(settings["pack_protections"][1]).max_position == 0.1


def test_wrappers_accept_positional_calls_like_direct_callers(scripted):
    """Freqtrade calls the hooks by keyword; tests and strategies may call them positionally."""
    class Positional(Strategy):
        def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force, current_time,
                                entry_tag, side, **kwargs):
            return True

        def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                                max_stake, leverage, entry_tag, side, **kwargs):
            return proposed_stake

    strategy = Positional(1000.0, {"BTC/USDT": 100.0}, {})
    install_exposure_check(strategy)
    assert strategy.custom_stake_amount("BTC/USDT", None, 100.0, 500.0, 5.0, 1000.0, 1.0, None,
                                        "long") == pytest.approx(100)
    assert not strategy.confirm_trade_entry("BTC/USDT", "limit", 2.0, 100.0, "GTC",
                                            datetime(2025, 1, 2, tzinfo=UTC), None, "long")
