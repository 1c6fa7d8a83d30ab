"""Offline mode: the stock CLI runs from the bundled snapshot; bad input is one clear line."""

import json

import pytest

from plugins.integration.market_snapshot import (
    SnapshotError,
    check_pairs,
    literal_pairs,
    read_snapshot,
    snapshot_path,
)
from plugins.commands.markets import main as markets_main
from tests.conftest import CONFIG, USER_DATA, error_lines, run_freqtrade


SNAPSHOT = USER_DATA / "markets" / "binance-spot.json"


def test_bundled_snapshot_covers_every_configured_pair():
    markets = read_snapshot(SNAPSHOT)
    pairs = json.loads(CONFIG.read_text())["exchange"]["pair_whitelist"]
    assert set(pairs) <= set(markets)
    assert markets["BTC/USDT"]["precision"]["price"] == 0.01
    assert markets["BTC/USDT"]["taker"] == 0.001


def test_snapshot_path_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("FREQTRADE_PACK_MARKETS", raising=False)
    assert snapshot_path("ud", "Binance", "spot").as_posix() == "ud/markets/binance-spot.json"
    monkeypatch.setenv("FREQTRADE_PACK_MARKETS", str(tmp_path / "x.json"))
    assert snapshot_path("ud", "binance", "spot") == tmp_path / "x.json"


def test_regex_pairs_are_not_checked():
    assert literal_pairs(["BTC/USDT", ".*/USDT", "ETH/USDT:USDT"]) == ["BTC/USDT", "ETH/USDT:USDT"]
    check_pairs({"BTC/USDT": {}}, ["BTC/USDT", ".*/BTC"], SNAPSHOT)


def test_missing_pair_error_names_pair_and_fix():
    with pytest.raises(SnapshotError, match=r"FOO/USDT not in the offline market snapshot.*refresh"):
        check_pairs({"BTC/USDT": {}}, ["BTC/USDT", "FOO/USDT"], SNAPSHOT)


def test_unreadable_snapshot_errors(tmp_path):
    with pytest.raises(SnapshotError, match="not found"):
        read_snapshot(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        read_snapshot(broken)


def test_markets_cli_show(capsys):
    assert markets_main(["show", "--user-data-dir", str(USER_DATA)]) == 0
    assert "10 markets" in capsys.readouterr().out


def test_markets_cli_refresh_without_network_keeps_snapshot(tmp_path, monkeypatch, capsys):
    import ccxt

    target = tmp_path / "markets" / "binance-spot.json"
    target.parent.mkdir()
    target.write_text(SNAPSHOT.read_text())

    def no_network(self, *args, **kwargs):
        raise ccxt.NetworkError("no route to host")

    monkeypatch.setattr(ccxt.binance, "load_markets", no_network)
    assert markets_main(["refresh", "--user-data-dir", str(tmp_path)]) == 2
    assert "needs network access" in capsys.readouterr().err
    assert target.read_text() == SNAPSHOT.read_text()


def test_markets_cli_refresh_writes_fetched_markets(tmp_path, monkeypatch):
    import ccxt

    fake = {"BTC/USDT": {"symbol": "BTC/USDT", "info": {"big": "payload"}, "taker": 0.001},
            "NEW/USDT": {"symbol": "NEW/USDT", "info": {}, "taker": 0.001}}
    monkeypatch.setattr(ccxt.binance, "load_markets", lambda self, *a, **k: fake)
    target = tmp_path / "markets" / "binance-spot.json"
    target.parent.mkdir()
    target.write_text(json.dumps({"markets": {"BTC/USDT": {}}}))
    assert markets_main(["refresh", "--user-data-dir", str(tmp_path), "--pairs", "NEW/USDT"]) == 0
    written = json.loads(target.read_text())
    assert sorted(written["markets"]) == ["BTC/USDT", "NEW/USDT"]
    assert written["markets"]["BTC/USDT"]["info"] == {}


def test_offline_backtest_runs_stock_cli():
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", "user_data",
        "--strategy", "RsiMeanReversion", "--timerange", "20250301-20250501", "--export", "none",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Offline mode: 10 markets from" in output
    assert "RsiMeanReversion" in result.stdout and "STRATEGY SUMMARY" in result.stdout


def test_pair_missing_from_snapshot_is_one_clear_line():
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", "user_data",
        "--strategy", "RsiMeanReversion", "--pairs", "BTC/USDT", "FOO/USDT",
    )
    errors = error_lines(result.stdout + result.stderr)
    assert result.returncode != 0
    assert len(errors) == 1, errors
    assert "FOO/USDT not in the offline market snapshot" in errors[0]
    assert "ftpack-markets refresh --pairs FOO/USDT" in errors[0]


def test_missing_snapshot_file_is_one_clear_line(tmp_path):
    result = run_freqtrade(
        "backtesting", "--config", str(CONFIG), "--userdir", "user_data",
        "--strategy", "RsiMeanReversion",
        env={"FREQTRADE_PACK_MARKETS": str(tmp_path / "nope.json")},
    )
    errors = error_lines(result.stdout + result.stderr)
    assert result.returncode != 0
    assert len(errors) == 1, errors
    assert "nope.json not found" in errors[0]
