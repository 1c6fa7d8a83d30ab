"""Bad input as a new user meets it (issue 19): through the stock freqtrade CLI, offline.

Every case asserts exactly one ERROR line saying what is wrong (and where to fix it), the exit code
and no traceback; the missing-informative case asserts the pair is skipped with one warning.
"""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import CONFIG, STRATEGY_DIR, USER_DATA, error_lines, log_records, run_freqtrade


DATA = USER_DATA / "data" / "binance"
SNAPSHOT = USER_DATA / "markets" / "binance-spot.json"
SHORT_RANGE = "20250601-20250605"


def write_config(tmp_path: Path, overrides: dict) -> Path:
    """A second --config file: freqtrade merges it over config.json (lists are replaced)."""
    path = tmp_path / "override.json"
    path.write_text(json.dumps(overrides))
    return path


def linked_datadir(tmp_path: Path, without: tuple[str, ...] = ()) -> Path:
    """A datadir of symlinks to the bundled candles, minus ``without`` (file names)."""
    datadir = tmp_path / "binance"
    datadir.mkdir()
    for source in DATA.iterdir():
        if source.name not in without:
            (datadir / source.name).symlink_to(source)
    return datadir


def case_id(value):
    """Readable test ids: "DrawdownGuard:max_drawdwn" for a plugin config, "-" for the rest."""
    if isinstance(value, dict) and "method" in value:
        return ":".join([value["method"], *(k for k in value if k != "method")])
    return "-"


def backtest(*extra: str, env: dict | None = None):
    return run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--strategy", "RsiMeanReversion",
        "--timerange", SHORT_RANGE, *extra, env=env, timeout=300,
    )


def assert_one_error(result, *fragments: str, code: int = 2) -> str:
    output = result.stdout + result.stderr
    errors = error_lines(output)
    assert len(errors) == 1, errors
    assert "Traceback" not in output
    assert result.returncode == code, output[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


# --- pack settings: unknown keys, wrong types, ranges --------------------------------------------


@pytest.mark.parametrize("protection, fragments", ids=case_id, argvalues=[
    ({"method": "DrawdownGuard", "max_drawdwn": 0.05},
     ["DrawdownGuard: unknown parameter 'max_drawdwn'", "did you mean 'max_drawdown'?"]),
    ({"method": "CorrelationGuard", "max_corelation": 0.7},
     ["CorrelationGuard: unknown parameter 'max_corelation'", "did you mean 'max_correlation'?"]),
    ({"method": "DrawdownGuard", "stop_duration_candles": "one day"},
     ["stop_duration_candles must be an integer >= 1", "'one day'"]),
    ({"method": "CorrelationGuard", "lookback_period_candles": "168h"},
     ["lookback_period_candles must be an integer >= 1", "'168h'"]),
    ({"method": "DrawdownGuard", "max_drawdown": True},
     ["max_drawdown must be a number in (0, 1)", "got True"]),
    ({"method": "RegimeGuard", "regimes": ["MOON"]},
     ["RegimeGuard: regimes must be a list of", "['MOON']"]),
    ({"method": "RegimeGuard", "timeframe": "7x"},
     ["RegimeGuard: timeframe must be a timeframe like '1h'", "'7x'"]),
    ({"method": "DrawdownGuard", "lookback_period": 60},
     ["DrawdownGuard: unknown parameter 'lookback_period'"]),
    ({"method": "ExposureLimit", "max_positon": 0.1},
     ["ExposureLimit: unknown parameter 'max_positon'", "did you mean 'max_position'?"]),
    ({"method": "DrawdownGuard", "unlock_at": "25:99"},
     ["Invalid date format for unlock_at: 25:99."]),
    ({"method": "DrawdownGuard", "stop_duration": 60, "stop_duration_candles": 2},
     ["Protections must specify either `stop_duration` or `stop_duration_candles`."]),
])
def test_bad_protection_setting_is_one_error_line(tmp_path, protection, fragments):
    override = write_config(tmp_path, {"pack_protections": [protection]})
    result = backtest("--config", str(override), "--enable-protections")
    assert_one_error(result, *fragments, "pack_protections")


@pytest.mark.parametrize("pairlist, fragments", ids=case_id, argvalues=[
    ({"method": "ExitScamFilter", "max_candle_chnage": 0.1},
     ["ExitScamFilter: unknown parameter 'max_candle_chnage'",
      "did you mean 'max_candle_change'?"]),
    ({"method": "RegimeScanner", "lookback_period": "48"},
     ["RegimeScanner: lookback_period must be an integer >= 1", "'48'"]),
    ({"method": "CorrelationFilter", "lookback_timeframe": "7x"},
     ["CorrelationFilter: lookback_timeframe must be a timeframe", "'7x'"]),
    ({"method": "CorrelationFilter", "max_correlaton": 0.5},
     ["did you mean 'max_correlation'?"]),
    ({"method": "RegimeScanner", "lookback_days": 7},
     ["RegimeScanner: unknown parameter 'lookback_days'"]),
    ({"method": "RegimeScanner", "score_method": "magic"},
     ["score_method must be one of ['trend', 'regime']", "'magic'"]),
    ({"method": "ExitScamFilter", "refresh_period": 1.5},
     ["refresh_period must be an integer >= 0", "1.5"]),
])
def test_bad_pairlist_setting_is_one_error_line(tmp_path, pairlist, fragments):
    override = write_config(
        tmp_path, {"pairlists": [{"method": "StaticPairList"}, pairlist]}
    )
    result = run_freqtrade("test-pairlist", "--config", str(CONFIG), "--config", str(override))
    assert_one_error(result, *fragments, '"pairlists" section')


# --- the per-pair table (ema_periods.json) -------------------------------------------------------


@pytest.mark.parametrize("content, fragment", [
    ("", "is not valid JSON"),
    ("{not json", "is not valid JSON"),
    ('{"EmaBbTrend": {"default": {"ema_fast": 20, "ema_slow": 50}}}',
     'has no "RsiMeanReversion" section'),
    ("[1, 2, 3]", "must be a JSON object"),
    ('{"RsiMeanReversion": {"default": {"ema": 100}, "pairs": {"BTC/USDT": {"ema": "long"}}}}',
     "period 'ema' for BTC/USDT must be an integer >= 2"),
    ('{"RsiMeanReversion": {"default": {"ema": 100}, "pairs": [["BTC/USDT", 150]]}}',
     '"pairs" must be an object'),
    (None, "not found"),
])
def test_broken_pair_table_is_one_error_line(tmp_path, content, fragment):
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(STRATEGY_DIR / "RsiMeanReversion.py", strategies)
    if content is not None:
        (strategies / "ema_periods.json").write_text(content)
    result = backtest("--strategy-path", str(strategies))
    line = assert_one_error(result, fragment)
    assert "RsiMeanReversion" in line and "ema_periods.json" in line


# --- market snapshot ----------------------------------------------------------------------------


@pytest.mark.parametrize("field, fragment", [
    ("spot", "lacks spot"),
    ("precision", "lacks precision"),
    ("limits", "lacks limits"),
])
def test_snapshot_market_without_field_is_one_error_line(tmp_path, field, fragment):
    snapshot = json.loads(SNAPSHOT.read_text())
    for market in snapshot["markets"].values():
        market.pop(field)
    broken = tmp_path / "markets.json"
    broken.write_text(json.dumps(snapshot))
    result = run_freqtrade(
        "test-pairlist", "--config", str(CONFIG), env={"FREQTRADE_PACK_MARKETS": str(broken)}
    )
    assert_one_error(result, f"{broken}: market", fragment, "ftpack-markets refresh")


def test_snapshot_with_incomplete_precision_is_one_error_line(tmp_path):
    snapshot = json.loads(SNAPSHOT.read_text())
    snapshot["markets"]["ETH/USDT"]["precision"] = {"price": 0.01}
    broken = tmp_path / "markets.json"
    broken.write_text(json.dumps(snapshot))
    result = backtest(env={"FREQTRADE_PACK_MARKETS": str(broken)})
    assert_one_error(result, "market ETH/USDT has an incomplete precision (needs amount, price)")


# --- missing informative timeframe file ---------------------------------------------------------


def test_missing_informative_file_skips_the_pair_with_one_warning(tmp_path):
    datadir = linked_datadir(tmp_path, without=("ETH_USDT-1d.feather",))
    result = backtest("--datadir", str(datadir), "--pairs", "BTC/USDT", "ETH/USDT")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-2000:]
    assert "Traceback" not in output and error_lines(output) == []
    skipped = [r for r in log_records(output) if " - WARNING - " in r and "skipped" in r]
    assert len(skipped) == 1, skipped
    assert "ETH/USDT skipped" in skipped[0]
    assert f"{datadir / 'ETH_USDT-1d.feather'} is missing" in skipped[0]
    assert "freqtrade download-data --exchange binance --pairs ETH/USDT --timeframes 1d" in skipped[0]
    assert "BACKTESTING REPORT" in output


def test_missing_informative_file_of_every_pair_stops_in_one_line(tmp_path):
    datadir = linked_datadir(tmp_path, without=("BTC_USDT-4h.feather",))
    result = backtest("--datadir", str(datadir), "--pairs", "BTC/USDT")
    assert_one_error(
        result, "No pair left to run", "BTC_USDT-4h.feather is missing",
        "freqtrade download-data --exchange binance --pairs BTC/USDT --timeframes 4h",
    )


def test_missing_informative_file_in_plot_dataframe_is_one_error_line(tmp_path, tmp_user_data):
    """Outside a backtest (one pair, nothing to skip to) the same line stops the command."""
    datadir = linked_datadir(tmp_path, without=("ETH_USDT-1d.feather",))
    result = run_freqtrade(
        "plot-dataframe", "--config", str(CONFIG), "--strategy", "RsiMeanReversion",
        "--userdir", str(tmp_user_data), "--datadir", str(datadir), "--pairs", "ETH/USDT",
        "--timerange", SHORT_RANGE, "--no-trades",
    )
    assert_one_error(
        result, f"{datadir / 'ETH_USDT-1d.feather'} is missing",
        "freqtrade download-data --exchange binance --pairs ETH/USDT --timeframes 1d",
    )


# --- corrupt candle files -----------------------------------------------------------------------


def _text_file(path: Path) -> None:
    path.write_text("date,open,high,low,close,volume\nnot a feather file\n")


def _truncated(path: Path) -> None:
    path.write_bytes((DATA / path.name).read_bytes()[:2000])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _wrong_columns(path: Path) -> None:
    frame = pd.read_feather(DATA / path.name)[["date", "close"]].rename(columns={"close": "price"})
    frame.to_feather(path)


def _text_prices(path: Path) -> None:
    frame = pd.read_feather(DATA / path.name)
    frame["close"] = frame["close"].astype(str)
    frame.to_feather(path)


@pytest.mark.parametrize("corrupt, fragment", [
    (_text_file, "is not a readable feather file"),
    (_truncated, "is not a readable feather file"),
    (_empty, "is not a readable feather file"),
    (_wrong_columns, "missing column(s) open, high, low, close, volume"),
    (_text_prices, "not a candle file (column close is large_string, not a number)"),
])
def test_corrupt_candle_file_stops_backtest_in_one_line(tmp_path, corrupt, fragment):
    datadir = linked_datadir(tmp_path, without=("ETH_USDT-1h.feather",))
    corrupt(datadir / "ETH_USDT-1h.feather")
    result = backtest("--datadir", str(datadir), "--pairs", "BTC/USDT", "ETH/USDT")
    assert_one_error(
        result, f"Candle file {datadir / 'ETH_USDT-1h.feather'}", fragment,
        "freqtrade download-data --exchange binance --pairs ETH/USDT --timeframes 1h",
        "--erase",
    )


def test_corrupt_candle_file_read_by_offline_pairlist_is_one_error_line(tmp_path):
    """test-pairlist: the offline layer reads the file for tickers and ExitScamFilter's candles."""
    userdir = tmp_path / "user_data"
    (userdir / "data").mkdir(parents=True)
    (userdir / "markets").symlink_to(USER_DATA / "markets")
    datadir = linked_datadir(userdir / "data", without=("SOL_USDT-1h.feather",))
    _text_file(datadir / "SOL_USDT-1h.feather")
    result = run_freqtrade("test-pairlist", "--config", str(CONFIG), "--userdir", str(userdir))
    assert_one_error(result, f"Candle file {datadir / 'SOL_USDT-1h.feather'}", "--erase")


def test_restore_hint_names_git_for_bundled_files(tmp_path):
    """A broken file of the repo's bundled data: restore it from git; elsewhere: re-download."""
    from plugins.integration.data_guard import _restore_hint

    bundled = _restore_hint(DATA / "BTC_USDT-1h.feather", "BTC/USDT", "1h")
    assert "`git checkout -- user_data/data/binance/BTC_USDT-1h.feather`" in bundled
    elsewhere = _restore_hint(tmp_path / "binance" / "BTC_USDT-1h.feather", "BTC/USDT", "1h")
    assert "git checkout" not in elsewhere and elsewhere.startswith("re-download it with")


def test_download_data_keeps_freqtrade_handling_of_broken_files(tmp_path):
    """Inside download-data's path a broken file reads as empty (freqtrade re-downloads it)."""
    from freqtrade.data.history.datahandlers import get_datahandler
    from freqtrade.enums import CandleType
    from plugins.integration.data_guard import CandleFileError, lenient_candle_files

    _empty(tmp_path / "BTC_USDT-1h.feather")
    handler = get_datahandler(tmp_path, "feather")
    with pytest.raises(CandleFileError):
        handler.ohlcv_load("BTC/USDT", "1h", candle_type=CandleType.SPOT)
    with lenient_candle_files():
        assert handler.ohlcv_load("BTC/USDT", "1h", candle_type=CandleType.SPOT).empty


# --- FreqAI: training window too short for the ensemble -----------------------------------------


@pytest.mark.parametrize("model", ["EnsembleRegressor", "EnsembleClassifier"])
def test_short_freqai_training_window_is_one_error_line(tmp_user_data, tmp_path, model):
    override = write_config(tmp_path, {"freqai": {"train_period_days": 5}})
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--config", str(USER_DATA / "config.freqai.json"),
        "--config", str(override), "--userdir", str(tmp_user_data), "--freqaimodel", model,
        "--strategy", "AiFusion", "--timerange", SHORT_RANGE, timeout=300,
    )
    assert_one_error(
        result, "freqai.train_period_days 5 is too short for the ensemble",
        "on 1h candles it needs >= 10 days",
    )


@pytest.mark.parametrize("split, params", [
    ({"test_size": 0.1}, {"validation": "test_split"}),
    ({"test_size": 0.2}, {"validation": "test_split", "gap": 30}),
    ({"test_size": 0}, {"validation": "train_tail", "validation_fraction": 0.2}),
    ({"test_size": 0}, {"validation": "train_tail", "validation_fraction": 0.35, "gap": 5}),
])
def test_minimum_training_rows_is_what_the_ensemble_accepts(split, params):
    """The start-up minimum agrees with the ensemble's own split rules (not a guess)."""
    import math

    from plugins.freqai.ensemble import time_ordered_split
    from plugins.freqai.training_window import MIN_SLICE_ROWS, minimum_training_rows

    info = {"data_split_parameters": split, "model_training_parameters": params,
            "feature_parameters": {"label_period_candles": 12}}
    gap = params.get("gap", 12)

    def accepted(rows: int) -> bool:
        if params["validation"] == "test_split":
            return math.ceil(split["test_size"] * rows) - gap >= MIN_SLICE_ROWS
        try:
            time_ordered_split(rows, params["validation_fraction"], gap, MIN_SLICE_ROWS)
        except ValueError:
            return False
        return True

    minimum = minimum_training_rows(info)
    smallest = next(n for n in range(1, 5000) if accepted(n))
    assert accepted(minimum)
    assert smallest <= minimum <= smallest + 1
