"""Stock freqtrade resolves the pack's pairlists and protections by "method" name."""

import subprocess
import sys
from pathlib import Path
from unittest.mock import MagicMock

import pytest

from freqtrade.enums import CandleType, RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.resolvers import PairListResolver, ProtectionResolver

from plugins import PAIRLIST_DIR, PROTECTION_DIR
from tests.conftest import CONFIG, REPO, error_lines, flat_candles, run_freqtrade


def candles(closes: list[float]):
    return flat_candles(closes, volume=1.0)


def load_exit_scam_filter(exchange, runmode=RunMode.DRY_RUN, **params):
    config = {"candle_type_def": CandleType.SPOT, "runmode": runmode}
    return PairListResolver.load_pairlist(
        "ExitScamFilter",
        exchange=exchange,
        pairlistmanager=MagicMock(),
        config=config,
        pairlistconfig={"method": "ExitScamFilter", **params},
        pairlist_pos=1,
    )


@pytest.fixture
def exchange():
    mock = MagicMock()
    mock.ohlcv_candle_limit.return_value = 1000
    return mock


def test_pack_folders_come_after_freqtrade_builtins():
    pairlist_paths = PairListResolver.build_search_paths({"user_data_dir": REPO / "user_data"})
    protection_paths = ProtectionResolver.build_search_paths({"user_data_dir": REPO / "user_data"})
    assert pairlist_paths[0].name == "pairlist" and pairlist_paths[-1] == PAIRLIST_DIR
    assert protection_paths[0].name == "protections" and protection_paths[-1] == PROTECTION_DIR


def test_config_schema_accepts_pack_pairlists():
    from freqtrade.constants import AVAILABLE_PAIRLISTS

    from freqtrade.configuration.config_validation import validate_config_schema
    from freqtrade.configuration.load_config import load_config_file

    assert "ExitScamFilter" in AVAILABLE_PAIRLISTS
    assert "StaticPairList" in AVAILABLE_PAIRLISTS  # built-ins untouched
    validate_config_schema(load_config_file(str(CONFIG)))


def test_pairlist_resolver_loads_pack_pairlist(exchange):
    pairlist = load_exit_scam_filter(exchange, max_candle_change=0.2, lookback_period=5)
    assert type(pairlist).__name__ == "ExitScamFilter"
    assert Path(type(pairlist).__file__).parent == PAIRLIST_DIR
    assert pairlist.description()
    assert "max_candle_change" in pairlist.available_parameters()


def test_loaded_pairlist_filters_a_pump_candle(exchange):
    calm = candles([100, 101, 100, 101, 100, 101])
    pump = candles([100, 101, 100, 130, 131, 130])  # +30% in one candle
    exchange.refresh_ohlcv_with_cache.return_value = {
        ("AAA/USDT", "1h", CandleType.SPOT): calm,
        ("BBB/USDT", "1h", CandleType.SPOT): pump,
    }
    pairlist = load_exit_scam_filter(exchange, max_candle_change=0.2, lookback_period=5)
    assert pairlist.filter_pairlist(["AAA/USDT", "BBB/USDT"], {}) == ["AAA/USDT"]


def test_pairlist_passes_everything_in_backtesting(exchange):
    pairlist = load_exit_scam_filter(exchange, runmode=RunMode.BACKTEST, lookback_period=5)
    assert pairlist.filter_pairlist(["AAA/USDT", "BBB/USDT"], {}) == ["AAA/USDT", "BBB/USDT"]
    exchange.refresh_ohlcv_with_cache.assert_not_called()


def test_protection_resolver_loads_pack_protection():
    protection = ProtectionResolver.load_protection(
        "DrawdownGuard", {"timeframe": "1h"}, {"method": "DrawdownGuard", "max_drawdown": 0.2}
    )
    assert type(protection).__name__ == "DrawdownGuard"
    assert Path(type(protection).__file__).parent == PROTECTION_DIR
    assert "20%" in protection.short_desc()


@pytest.mark.parametrize("bad", [0, 1.5, "0.2", True])
def test_protection_rejects_bad_max_drawdown(bad):
    with pytest.raises(OperationalException, match="max_drawdown"):
        ProtectionResolver.load_protection(
            "DrawdownGuard", {"timeframe": "1h"}, {"method": "DrawdownGuard", "max_drawdown": bad}
        )


def test_stock_cli_test_pairlist_uses_pack_pairlist():
    result = run_freqtrade("test-pairlist", "--config", str(CONFIG), "--userdir", "user_data")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "ExitScamFilter" in output
    assert "BTC/USDT" in result.stdout


def test_stock_cli_backtest_loads_pack_protection():
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", "user_data",
        "--strategy", "RsiMeanReversion", "--timerange", "20250301-20250401",
        "--enable-protections", "--export", "none",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Using resolved protection DrawdownGuard from" in output
    assert str(PROTECTION_DIR / "DrawdownGuard.py") in output


def test_hook_does_not_patch_market_loading_without_opt_in():
    code = (
        "from freqtrade.exchange.exchange import Exchange;"
        "print(Exchange._load_async_markets.__module__)"
    )
    env_base = {"PATH": "/usr/bin:/bin"}
    stock = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env_base, check=True)
    offline = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**env_base, "FREQTRADE_PACK_OFFLINE": "1"}, check=True)
    assert stock.stdout.strip() == "freqtrade.exchange.exchange"
    assert offline.stdout.strip() == "plugins.integration.offline"


def test_bad_pack_pairlist_setting_is_one_clear_line(tmp_path):
    import json

    config = json.loads(CONFIG.read_text())
    config["pairlists"][1]["max_candle_change"] = -1
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps(config))
    result = run_freqtrade("test-pairlist", "--config", str(bad), "--userdir", "user_data")
    errors = error_lines(result.stdout + result.stderr)
    assert result.returncode != 0
    assert len(errors) == 1, errors
    assert "max_candle_change must be a number > 0" in errors[0]
