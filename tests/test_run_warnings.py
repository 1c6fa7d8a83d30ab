"""Start-up warnings of the pack strategies (plugins/strategy/run_warnings.py), through bot_start."""

import json
import logging

import pytest
from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import CandleType, RunMode
from freqtrade.resolvers import StrategyResolver

from tests.conftest import CONFIG, STRATEGY_DIR, USER_DATA, pack_strategy_names


WHITELIST = json.loads(CONFIG.read_text())["exchange"]["pair_whitelist"]


def load(name: str, **overrides):
    config = {"strategy": name, "strategy_path": str(STRATEGY_DIR), "user_data_dir": USER_DATA,
              "datadir": USER_DATA / "data" / "binance", "dataformat_ohlcv": "feather",
              "stake_currency": "USDT", "dry_run": True, "max_open_trades": 5,
              "stake_amount": "unlimited", "candle_type_def": CandleType.SPOT,
              "trading_mode": "spot", "runmode": RunMode.BACKTEST,
              "exchange": {"name": "binance", "pair_whitelist": WHITELIST}, **overrides}
    strategy = StrategyResolver.load_strategy(config)
    strategy.dp = DataProvider(config, exchange=None)  # freqtrade sets it before bot_start
    return strategy


def start_warnings(strategy, caplog) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="plugins.strategy.run_warnings"):
        strategy.ft_bot_start()
    return [r.getMessage() for r in caplog.records if r.name == "plugins.strategy.run_warnings"]


@pytest.mark.parametrize("name", pack_strategy_names())
def test_every_pack_strategy_warns_about_a_timeframe_override(name, caplog):
    declared = load(name).timeframe
    other = "4h" if declared != "4h" else "1h"
    lines = start_warnings(load(name, timeframe=other), caplog)
    assert any(f"{name} is built for {declared} candles and runs on {other}" in line for line in lines)


def test_no_warning_on_the_strategy_own_timeframe_and_full_data(caplog):
    assert start_warnings(load("RsiMeanReversion"), caplog) == []


def test_smc_names_the_pairs_without_15m_data(caplog):
    lines = start_warnings(load("SmcStructure"), caplog)
    assert len(lines) == 1
    assert "SmcStructure: no 15m candles" in lines[0]
    assert "for AVAX/USDT, LINK/USDT;" in lines[0]  # the bundled 15m data has the other 8 pairs
    assert "freqtrade download-data -t 15m --pairs AVAX/USDT LINK/USDT" in lines[0]


def test_missing_data_is_not_checked_in_dry_run(caplog):
    strategy = load("SmcStructure", runmode=RunMode.DRY_RUN)
    assert start_warnings(strategy, caplog) == []
