"""ftpack-resample: 15m candles from 5m into a new datadir that freqtrade reads, other files linked."""

import pandas as pd

from plugins.commands.resample import main


def write_candles(folder, name, freq, periods):
    dates = pd.date_range("2025-01-01", periods=periods, freq=freq, tz="UTC")
    pd.DataFrame({"date": dates, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
                  "volume": 1.0}).to_feather(folder / name)


def test_builds_fifteen_minute_candles_and_links_the_rest(tmp_path, capsys):
    source, out = tmp_path / "src", tmp_path / "out"
    source.mkdir()
    write_candles(source, "BTC_USDT-5m.feather", "5min", 10)   # 3 complete 15m buckets + 1 partial
    write_candles(source, "BTC_USDT-1h.feather", "1h", 3)
    assert main(["--datadir", str(source), "--out", str(out), "--timeframe", "15m"]) == 0
    from freqtrade.data.history.datahandlers import get_datahandler
    from freqtrade.enums import CandleType

    candles = get_datahandler(out, "feather").ohlcv_load("BTC/USDT", "15m", timerange=None,
                                                         candle_type=CandleType.SPOT)
    assert len(candles) == 3 and candles["volume"].tolist() == [3.0, 3.0, 3.0]
    assert (out / "BTC_USDT-1h.feather").is_symlink() and (out / "BTC_USDT-5m.feather").is_symlink()
    assert "10 5m candles -> 3 15m candles" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--datadir", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--timeframe", "15m"]) == 2
    assert "no such datadir" in capsys.readouterr().err
    tmp_path.joinpath("src").mkdir()
    write_candles(tmp_path / "src", "BTC_USDT-5m.feather", "5min", 3)
    assert main(["--datadir", str(tmp_path / "src"), "--out", str(tmp_path / "o"), "--timeframe", "15m",
                 "--pairs", "ETH/USDT"]) == 2
    err = capsys.readouterr().err
    assert "no 5m candles" in err and "ETH/USDT" in err and "found: BTC/USDT" in err
    assert main(["--datadir", str(tmp_path / "src"), "--out", str(tmp_path / "src"), "--timeframe", "15m"]) == 2
    assert "must be a new folder" in capsys.readouterr().err
    assert main(["--datadir", str(tmp_path / "src"), "--out", str(tmp_path / "o"), "--timeframe", "12m"]) == 2
    assert "whole multiple" in capsys.readouterr().err
