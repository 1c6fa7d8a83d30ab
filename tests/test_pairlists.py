"""The pack's pairlists built by freqtrade's PairListManager on a mocked exchange, and offline."""

import json
import logging
import time
from unittest.mock import MagicMock

import numpy as np
import pandas as pd
import pytest

from freqtrade.data.history.datahandlers import get_datahandler
from freqtrade.enums import CandleType, RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.plugins.pairlistmanager import PairListManager
from freqtrade.resolvers import PairListResolver

from tests.conftest import USER_DATA, error_lines, flat_candles, log_records, run_freqtrade


SPOT = CandleType.SPOT
SCANNER_CONFIG = USER_DATA / "config.scanner.json"
CANDLES = 25  # RegimeScanner lookback_period 24 (1h) -> 25 candles, the last 24 are one day
TREND = 100 * 1.01 ** np.arange(CANDLES)
RNG = np.random.default_rng(42)
NOISE_A, NOISE_C = 0.01 * RNG.standard_normal((2, CANDLES))


candles = flat_candles


FRAMES = {
    "STEADY/USDT": candles(TREND),  # perfect uptrend: confidence 1.0
    "NOISY/USDT": candles(TREND * (1 + 0.02 * (-1) ** np.arange(CANDLES))),  # uptrend, zigzag
    "DOWN/USDT": candles(TREND[::-1]),  # falling: confidence 0
    "THIN/USDT": candles(TREND, volume=10.0),  # 24h volume ~ 27k USDT
    "YOUNG/USDT": candles(TREND[-10:]),  # 10 candles: immature
}


def make_exchange(frames: dict, tickers: dict | None = None) -> MagicMock:
    exchange = MagicMock()
    markets = {p: {"symbol": p, "active": True, "quote": p.split("/")[1]} for p in frames}
    exchange.markets = markets
    exchange.get_markets.return_value = markets
    exchange.market_is_tradable.return_value = True
    exchange.get_pair_quote_currency.side_effect = lambda pair: pair.split("/")[1]
    exchange.exchange_has.return_value = True
    exchange.ohlcv_candle_limit.return_value = 1000
    exchange.refresh_ohlcv_with_cache.side_effect = lambda pairs, lookback_period: {
        p: frames[p[0]] for p in pairs if p[0] in frames
    }
    exchange.get_tickers.return_value = tickers or {}
    return exchange


def make_config(pairlists: list, whitelist=None, runmode=RunMode.DRY_RUN, **extra) -> dict:
    return {
        "runmode": runmode,
        "stake_currency": "USDT",
        "candle_type_def": SPOT,
        "exchange": {"pair_whitelist": whitelist or list(FRAMES), "pair_blacklist": []},
        "pairlists": pairlists,
        **extra,
    }


def scanner(**params) -> dict:
    return {"method": "RegimeScanner", "lookback_period": CANDLES - 1, **params}


def run_chain(pairlists: list, frames=FRAMES, whitelist=None, tickers=None, **extra):
    exchange = make_exchange(frames, tickers)
    config = make_config(pairlists, whitelist or list(frames), **extra)
    manager = PairListManager(exchange, config)
    manager.refresh_pairlist()
    return manager, exchange


STATIC = {"method": "StaticPairList"}


# --------------------------------------------------------------------------- RegimeScanner


def test_scanner_ranks_and_applies_thresholds(caplog):
    caplog.set_level(logging.INFO)
    manager, _ = run_chain([STATIC, scanner(min_score=0.65)])
    assert manager.whitelist == ["STEADY/USDT", "NOISY/USDT"]
    messages = "\n".join(caplog.messages)
    assert "Removed DOWN/USDT from whitelist: confidence 0.00 below min_score 0.65" in messages
    assert "Removed THIN/USDT from whitelist: 24h volume" in messages
    assert "Removed YOUNG/USDT from whitelist: not enough valid history to score" in messages


def test_scanner_keeps_top_n():
    manager, _ = run_chain([STATIC, scanner(number_assets=1, min_score=0.0)])
    assert manager.whitelist == ["STEADY/USDT"]


def test_scanner_min_score_and_min_volume_are_thresholds():
    manager, _ = run_chain([STATIC, scanner(min_score=0.0, min_volume_usdt=0)])
    # DOWN scores 0.0 >= 0.0 and THIN passes a zero volume floor; YOUNG still lacks history
    assert manager.whitelist == ["STEADY/USDT", "THIN/USDT", "NOISY/USDT", "DOWN/USDT"]


def test_scanner_caches_until_refresh_period_and_logs_once(caplog):
    caplog.set_level(logging.INFO)
    manager, exchange = run_chain([STATIC, scanner(refresh_period=1800)])
    manager.refresh_pairlist()
    assert exchange.refresh_ohlcv_with_cache.call_count == 1  # second refresh: cached result
    assert sum("Removed DOWN/USDT" in m for m in caplog.messages) == 1
    scanner_pl = manager._pairlist_handlers[1]
    scanner_pl._pair_cache.expire(time.time() + 1801)  # refresh_period has passed
    manager.refresh_pairlist()
    assert exchange.refresh_ohlcv_with_cache.call_count == 2
    assert manager.whitelist == ["STEADY/USDT", "NOISY/USDT"]


def test_scanner_as_generator_prefilters_markets_with_tickers():
    tickers = {p: {"symbol": p, "quoteVolume": 1e9} for p in FRAMES}
    tickers["THIN/USDT"]["quoteVolume"] = 1e3
    manager, exchange = run_chain([scanner()], tickers=tickers)
    assert manager._pairlist_handlers[0].needstickers
    exchange.get_tickers.assert_called_once()
    requested = [p[0] for p in exchange.refresh_ohlcv_with_cache.call_args.args[0]]
    assert "THIN/USDT" not in requested  # never downloads candles of an illiquid market
    assert manager.whitelist == ["STEADY/USDT", "NOISY/USDT"]


def test_scanner_needs_tickers_only_as_live_generator():
    manager, exchange = run_chain([STATIC, scanner()])
    assert not manager._pairlist_handlers[1].needstickers
    exchange.get_tickers.assert_not_called()


def test_scanner_empty_list_names_the_filters_that_removed_the_pairs(caplog):
    frames = {p: f for p, f in FRAMES.items() if p != "STEADY/USDT"}
    manager, _ = run_chain([STATIC, scanner(min_score=0.99)], frames=frames)
    assert manager.whitelist == []
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and r.name == "RegimeScanner"]
    assert len(warnings) == 1
    line = warnings[0]
    assert line.startswith("RegimeScanner kept none of 4 pairs: ")
    assert "2 by min_score" in line  # NOISY (zigzag) and DOWN (confidence 0)
    assert "1 by min_volume_usdt" in line and "1 by history (lookback_period)" in line
    assert "best trend confidence" in line and "(NOISY/USDT)" in line
    assert "Lower min_score (0.99)" in line


def test_scanner_does_not_warn_when_pairs_are_kept(caplog):
    manager, _ = run_chain([STATIC, scanner(min_score=0.65)])
    assert manager.whitelist
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.name == "RegimeScanner"]


def test_scanner_defaults_keep_pairs_on_the_bundled_data(tmp_path):
    # Every parameter at its default: the list at the bundled data's end is not empty.
    defaults_only = tmp_path / "scanner-defaults.json"
    defaults_only.write_text('{"pairlists": [{"method": "RegimeScanner"}]}')
    result = run_freqtrade("test-pairlist", "--config", "user_data/config.json",
                           "--config", str(defaults_only), "--print-json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    pairs = json.loads(result.stdout.strip().splitlines()[-1])
    assert 1 <= len(pairs) <= 10
    assert "kept none" not in result.stdout + result.stderr


# --------------------------------------------------------------------------- backtesting


@pytest.fixture
def datadir(tmp_path):
    """Feather data: A rises before 2025-01-02 and crashes from that candle on, B the reverse."""
    handler = get_datahandler(tmp_path, "feather")
    before = 100 * 1.01 ** np.arange(48)
    after = before[-1] * 0.5 ** np.arange(1, 25)
    handler.ohlcv_store("A/USDT", "1h", candles(np.r_[before, after], start="2025-01-01"), SPOT)
    handler.ohlcv_store(
        "B/USDT", "1h", candles(np.r_[before[::-1], after[::-1] * 1e6], start="2025-01-01"), SPOT
    )
    return tmp_path


def backtest_chain(datadir, timerange="20250103-20250104"):
    frames = {"A/USDT": None, "B/USDT": None}
    pairlists = [STATIC, scanner(min_score=0.65), {"method": "CorrelationFilter",
                                                    "lookback_period": 20}]
    return run_chain(pairlists, frames=frames, runmode=RunMode.BACKTEST, datadir=datadir,
                     timerange=timerange, dataformat_ohlcv="feather")


def test_backtest_ranks_on_candles_closed_before_the_start(datadir):
    # 2025-01-01 00:00 + 48 candles: the backtest starts at 2025-01-03 00:00; A's crash candle
    # (dated 2025-01-03 00:00) closes after the start, so it must not be seen.
    manager, exchange = backtest_chain(datadir)
    assert manager.whitelist == ["A/USDT"]
    exchange.refresh_ohlcv_with_cache.assert_not_called()  # never "today's" candles


def test_backtest_one_candle_later_sees_the_crash(datadir):
    start = int(pd.Timestamp("2025-01-03 01:00", tz="UTC").timestamp())
    manager, _ = backtest_chain(datadir, timerange=f"{start}-20250104")
    assert manager.whitelist == []  # A's first crash candle has closed; B still falls


def test_backtest_without_timerange_start_is_a_clear_error(datadir):
    with pytest.raises(OperationalException, match="--timerange with a start date"):
        backtest_chain(datadir, timerange="-20250104")


# --------------------------------------------------------------------------- ExitScamFilter


def exit_scam(**params) -> dict:
    return {"method": "ExitScamFilter", "lookback_period": 10, "max_candle_change": 0.2, **params}


CALM = 100 * 1.005 ** np.arange(12)
PUMP = np.r_[CALM[:6], CALM[6:] * 1.3]  # one +30.7% candle (1.005 x 1.3)
PUMP_DUMP = np.r_[100, 100, 112, 125, 140, 157, 140, 125, 112, 100, 100, 100]  # <= 12.5%/candle
EXIT_FRAMES = {"CALM/USDT": candles(CALM), "PUMP/USDT": candles(PUMP),
               "PD/USDT": candles(PUMP_DUMP)}


def test_exit_scam_filter_drops_pump_candle_and_pump_and_dump(caplog):
    caplog.set_level(logging.INFO)
    manager, _ = run_chain([STATIC, exit_scam()], frames=EXIT_FRAMES)
    assert manager.whitelist == ["CALM/USDT"]
    messages = "\n".join(caplog.messages)
    assert "Removed PUMP/USDT from whitelist: a 30.7% single-candle move" in messages
    assert "Removed PD/USDT from whitelist: pump-and-dump in the last 10 x 1h candles" in messages


def test_exit_scam_pump_and_dump_rule_can_be_disabled():
    manager, _ = run_chain([STATIC, exit_scam(pump_dump_rise=0)], frames=EXIT_FRAMES)
    assert manager.whitelist == ["CALM/USDT", "PD/USDT"]


@pytest.mark.parametrize("runmode", [RunMode.BACKTEST, RunMode.UTIL_NO_EXCHANGE])
def test_exit_scam_filter_is_no_action_in_historical_runmodes(runmode):
    # UTIL_NO_EXCHANGE: lookahead-analysis / recursive-analysis replay backtests in this mode
    manager, exchange = run_chain([STATIC, exit_scam()], frames=EXIT_FRAMES, runmode=runmode,
                                  timerange="20250101-20250102")
    assert manager.whitelist == list(EXIT_FRAMES)
    exchange.refresh_ohlcv_with_cache.assert_not_called()


# --------------------------------------------------------------------------- CorrelationFilter


A = 100 * np.exp(np.cumsum(0.005 + NOISE_A))
FOLLOWER = A * np.exp(0.003 * (-1) ** np.arange(CANDLES))  # A's moves + a small zigzag
C = 100 * np.exp(np.cumsum(0.005 + NOISE_C))
CORR_FRAMES = {"A/USDT": candles(A), "FOLLOWER/USDT": candles(FOLLOWER), "C/USDT": candles(C),
               "YOUNG/USDT": candles(A[-10:])}


def correlation(**params) -> dict:
    return {"method": "CorrelationFilter", "lookback_period": CANDLES - 1,
            "max_correlation": 0.8, **params}


def test_correlated_pair_dropped_in_favour_of_the_higher_ranked(caplog):
    caplog.set_level(logging.INFO)
    whitelist = ["FOLLOWER/USDT", "A/USDT", "C/USDT"]
    manager, _ = run_chain([STATIC, scanner(min_score=0.5), correlation()],
                           frames=CORR_FRAMES, whitelist=whitelist)
    # scanner: C 0.976, A 0.930, FOLLOWER 0.919 (A's moves plus a zigzag: less steady);
    # FOLLOWER's returns correlate 0.87 with the higher-ranked A -> dropped; C-A is -0.26
    assert manager.whitelist == ["C/USDT", "A/USDT"]
    assert any("Removed FOLLOWER/USDT from whitelist: return correlation 0.87" in m
               and "higher-ranked A/USDT" in m for m in caplog.messages)


def test_correlation_filter_keeps_the_first_of_the_incoming_order():
    whitelist = ["FOLLOWER/USDT", "A/USDT", "C/USDT"]
    manager, _ = run_chain([STATIC, correlation()], frames=CORR_FRAMES, whitelist=whitelist)
    assert manager.whitelist == ["FOLLOWER/USDT", "C/USDT"]


def test_correlation_filter_keeps_unmeasurable_pairs(caplog):
    caplog.set_level(logging.INFO)
    whitelist = ["A/USDT", "YOUNG/USDT"]
    manager, _ = run_chain([STATIC, correlation()], frames=CORR_FRAMES, whitelist=whitelist)
    assert manager.whitelist == whitelist
    assert any("YOUNG/USDT: fewer than 25 1h candles" in m for m in caplog.messages)


def test_correlation_filter_threshold_is_inclusive_and_configurable():
    whitelist = ["A/USDT", "FOLLOWER/USDT"]
    manager, _ = run_chain([STATIC, correlation(max_correlation=1.0)], frames=CORR_FRAMES,
                           whitelist=whitelist)
    assert manager.whitelist == whitelist  # corr < 1.0: both kept


# --------------------------------------------------------------------------- plumbing


@pytest.mark.parametrize("name, params, match", [
    ("RegimeScanner", {"number_assets": 0}, "number_assets must be an integer >= 1"),
    ("RegimeScanner", {"min_score": 1.5}, "min_score must be a number in"),
    ("RegimeScanner", {"min_volume_usdt": "5M"}, "min_volume_usdt must be a number"),
    ("RegimeScanner", {"score_method": "magic"}, "score_method must be one of"),
    ("RegimeScanner", {"direction": "down"}, "direction must be one of"),
    ("RegimeScanner", {"regimes": ["MOON"]}, "regimes must be a list"),
    ("RegimeScanner", {"lookback_period": 12}, "must cover at least 24 hours"),
    ("RegimeScanner", {"score_method": "regime", "lookback_period": 48}, "warm-up"),
    ("CorrelationFilter", {"max_correlation": 2}, "max_correlation must be a number in"),
    ("CorrelationFilter", {"lookback_period": 2}, "lookback_period must be an integer >= 3"),
    ("ExitScamFilter", {"pump_dump_fall": 1.0}, "pump_dump_fall must be a number in"),
    ("ExitScamFilter", {"pump_dump_rise": "big"}, "pump_dump_rise must be a number"),
    ("ExitScamFilter", {"pump_dump_fall": 0}, "pump_dump_fall must be > 0"),
])
def test_bad_parameters_are_clear_errors(name, params, match):
    with pytest.raises(OperationalException, match=match):
        PairListResolver.load_pairlist(
            name, exchange=make_exchange(FRAMES), pairlistmanager=MagicMock(),
            config=make_config([]), pairlistconfig={"method": name, **params}, pairlist_pos=1,
        )


@pytest.mark.parametrize("name", ["RegimeScanner", "ExitScamFilter", "CorrelationFilter"])
def test_freqUI_metadata(name):
    from freqtrade.constants import AVAILABLE_PAIRLISTS

    assert name in AVAILABLE_PAIRLISTS
    cls = type(PairListResolver.load_pairlist(
        name, exchange=make_exchange(FRAMES), pairlistmanager=MagicMock(),
        config=make_config([]), pairlistconfig={"method": name}, pairlist_pos=1,
    ))
    assert cls.description()
    for key, spec in cls.available_parameters().items():
        assert {"type", "default", "description", "help"} <= set(spec), key
    assert "refresh_period" in cls.available_parameters()


# --------------------------------------------------------------------------- offline CLI


def test_test_pairlist_runs_offline_with_the_scanner_config():
    result = run_freqtrade("test-pairlist", "--config", str(SCANNER_CONFIG), "--userdir",
                           str(USER_DATA))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert not error_lines(output)
    # snapshot end (2025-08-31): 48h uptrend confidence ETH .61, LINK .49, AVAX .39, BNB .33;
    # AVAX moves with ETH (return correlation 0.82 over 7 days) and is dropped
    assert "Pairs for USDT: \n['ETH/USDT', 'LINK/USDT', 'BNB/USDT']" in result.stdout
    assert any("Removed AVAX/USDT from whitelist: return correlation 0.82 with higher-ranked "
               "ETH/USDT" in r for r in log_records(output))


def test_offline_backtest_with_the_scanner_config():
    result = run_freqtrade("backtesting", "--config", str(SCANNER_CONFIG), "--userdir",
                           str(USER_DATA), "--strategy", "RsiMeanReversion",
                           "--timerange", "20250701-20250801", "--export", "none")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert not error_lines(output)
    records = log_records(output)
    assert any("RegimeScanner kept 3 of 10 pairs: BNB/USDT (0.75), ETH/USDT (0.43), "
               "SOL/USDT (0.43)" in r for r in records)
    assert any("closed before 2025-07-01 00:00" in r for r in records)
