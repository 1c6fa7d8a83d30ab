"""ftpack-validate end to end on the bundled data: Dask fan-out, cache, failed cells, reports, errors.

A scratch user_data holds two tiny strategies (fast to backtest): ``TinyCross`` and ``CrashInJune``
(raises while computing indicators for a window that ends in June), beside the bundled candles and
market snapshot.
"""

import json
import os
from pathlib import Path

import pytest

from conftest import USER_DATA


os.environ.setdefault("FREQTRADE_PACK_OFFLINE", "1")

TINY = '''
import talib.abstract as ta
from freqtrade.strategy import IntParameter, IStrategy


class TinyCross(IStrategy):
    """EMA 8/21 cross, fixed ROI and stop: small and fast, for the validate tests."""

    timeframe = "1h"
    minimal_roi = {"0": 0.03}
    stoploss = -0.03
    startup_candle_count = 30
    # used in the entry rule (hyperopt re-evaluates entries per epoch, not indicators)
    buy_gap_bp = IntParameter(0, 40, default=0, space="buy")

    def populate_indicators(self, dataframe, metadata):
        dataframe["fast"] = ta.EMA(dataframe, timeperiod=8)
        dataframe["slow"] = ta.EMA(dataframe, timeperiod=21)
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        gap = 1 + self.buy_gap_bp.value / 10_000
        up = (dataframe["fast"] > dataframe["slow"] * gap) & (
            dataframe["fast"].shift(1) <= dataframe["slow"].shift(1) * gap)
        dataframe.loc[up, "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe.loc[dataframe["fast"] < dataframe["slow"], "exit_long"] = 1
        return dataframe
'''

CRASH = TINY.replace("class TinyCross", "class CrashInJune").replace(
    '        dataframe["fast"] = ta.EMA(dataframe, timeperiod=8)\n',
    '        if dataframe["date"].iloc[-1].month == 6:\n'
    '            raise ValueError("scripted crash in June")\n'
    '        dataframe["fast"] = ta.EMA(dataframe, timeperiod=8)\n',
)

WINDOWS = "20250501-20250601,20250601-20250701"


@pytest.fixture(scope="module")
def userdir(tmp_path_factory) -> Path:
    ud = tmp_path_factory.mktemp("validate") / "user_data"
    (ud / "strategies").mkdir(parents=True)
    (ud / "strategies" / "TinyCross.py").write_text(TINY)
    (ud / "strategies" / "CrashInJune.py").write_text(CRASH)
    for name in ("data", "markets"):
        (ud / name).symlink_to(USER_DATA / name)
    return ud


def request(userdir: Path, **overrides):
    from plugins.integration.validation_engine import ValidationRequest

    fields = dict(userdir=userdir,
                  configs=[USER_DATA / "config.json", USER_DATA / "config.validate.json"],
                  datadir=USER_DATA / "data" / "binance", strategies=["TinyCross", "CrashInJune"],
                  windows=WINDOWS, workers=1, use_cache=False, cache_dir=userdir / "cache")
    fields.update(overrides)
    return ValidationRequest(**fields)


def comparable(results):
    drop = ("seconds", "cached")
    return [{k: v for k, v in r.items() if k not in drop} for r in results]


@pytest.fixture(scope="module")
def one_worker_run(userdir):
    from plugins.integration.validation_engine import execute, plan

    req = request(userdir)
    planned = plan(req)
    results, timing = execute(planned, req, progress=False)
    return planned, results, timing


def test_every_cell_is_one_task_and_a_crash_fails_only_its_cell(one_worker_run):
    planned, results, timing = one_worker_run
    # 2 strategies + buy-and-hold + SampleStrategy, 2 windows each
    assert len(planned.tasks) == len(results) == timing["tasks"] == 8
    by_cell = {(r["name"], r["window"]): r for r in results}
    crash = by_cell[("CrashInJune", "20250601-20250701")]
    assert crash["status"] == "failed" and "scripted crash in June" in crash["reason"]
    assert "\n" not in crash["reason"]
    ok = [r for r in results if r is not crash]
    assert all(r["status"] == "ok" for r in ok), [r.get("reason") for r in ok]
    may = by_cell[("TinyCross", "20250501-20250601")]
    assert may["trades"] > 0 and may["backtest_start"].startswith("2025-05-01")
    assert may["backtest_end"].startswith("2025-05-31 23:00")  # no candle of the next window
    # the same strategy body gives the same May result whether it later crashes or not
    assert by_cell[("CrashInJune", "20250501-20250601")]["profit_pct"] == may["profit_pct"]
    hold = by_cell[("Buy & hold", "20250601-20250701")]
    assert hold["pairs"] == 10 and hold["time_in_market_pct"] == 100.0


def test_two_workers_give_the_same_results_as_one(userdir, one_worker_run):
    from plugins.integration.validation_engine import execute, plan

    _, single, _ = one_worker_run
    req = request(userdir, workers=2)
    results, timing = execute(plan(req), req, progress=False)
    assert timing["workers"] == 2 and timing["computed"] == 8
    assert comparable(results) == comparable(single)


def test_cache_serves_a_rerun_and_follows_the_strategy_source(userdir, tmp_path):
    from plugins.integration.validation_engine import cache_keys, execute, plan

    req = request(userdir, strategies=["TinyCross"], peers=False, use_cache=True,
                  cache_dir=tmp_path / "cache")
    first, timing = execute(plan(req), req, progress=False)
    assert timing["computed"] == 2 and timing["cached"] == 0
    again, timing = execute(plan(req), req, progress=False)
    assert timing["computed"] == 0 and timing["cached"] == 2
    assert comparable(again) == comparable(first)

    source = userdir / "strategies" / "TinyCross.py"
    keys_before = cache_keys(plan(req))
    original = source.read_text()
    try:
        source.write_text(original.replace('{"0": 0.03}', '{"0": 0.04}'))
        assert cache_keys(plan(req)) != keys_before
        _, timing = execute(plan(req), req, progress=False)
        assert timing["computed"] == 2
    finally:
        source.write_text(original)
    assert cache_keys(plan(req)) == keys_before


def test_cache_follows_a_parent_strategy_and_the_files_beside_the_strategy(tmp_path):
    """RegimeHybrid imports EmaBbTrend by its bare name and EmaBbTrend reads ema_periods.json:
    editing either, or adding freqtrade's <Strategy>.json parameter file, must recompute."""
    from plugins.integration.validation_runner import code_digest

    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "TinyCross.py").write_text(TINY)
    child = folder / "TinyChild.py"
    child.write_text("from TinyCross import TinyCross\n\n\nclass TinyChild(TinyCross):\n    pass\n")
    unrelated = folder / "CrashInJune.py"
    unrelated.write_text(CRASH)
    before = code_digest(str(child))

    unrelated.write_text(CRASH + "\n# edited\n")
    assert code_digest(str(child)) == before  # a strategy the child does not import
    (folder / "TinyCross.py").write_text(TINY.replace('{"0": 0.03}', '{"0": 0.04}'))
    parent_edited = code_digest(str(child))
    assert parent_edited != before
    (folder / "TinyChild.json").write_text('{"strategy_name": "TinyChild", "params": {}}')
    assert code_digest(str(child)) != parent_edited
    (folder / "TinyChild.json").unlink()
    (folder / "ema_periods.json").write_text("{}")
    assert code_digest(str(child)) != parent_edited
    (folder / "ema_periods.json").unlink()
    assert code_digest(str(child)) == parent_edited


TABLE = '''
from pathlib import Path

import talib.abstract as ta
from TinyCross import TinyCross

from plugins.quant.pair_params import PairTable


class TinyTable(TinyCross):
    """TinyCross whose EMA periods come from a per-pair table, like EmaBbTrend's."""

    startup_candle_count = 120
    ema_periods = PairTable(Path(__file__).with_name("tiny_periods.json"), "EmaBbTrend")

    def populate_indicators(self, dataframe, metadata):
        for column, key in (("fast", "ema_fast"), ("slow", "ema_slow")):
            period = self.ema_periods.get(metadata["pair"], key)
            dataframe[column] = ta.EMA(dataframe, timeperiod=period)
        return dataframe
'''


def test_per_pair_tables_are_refitted_on_the_span_before_each_window(tmp_path):
    """The committed table is fitted on one fixed span, in-sample or in the future for most history
    windows; by default each window gets a table fitted on the 6 months before it."""
    from plugins.integration.validation_engine import execute, plan
    from plugins.quant.pair_params import fit_table

    ud = tmp_path / "user_data"
    (ud / "strategies").mkdir(parents=True)
    (ud / "strategies" / "TinyCross.py").write_text(TINY)
    (ud / "strategies" / "TinyTable.py").write_text(TABLE)
    committed = {"EmaBbTrend": {"default": {"ema_fast": 3, "ema_slow": 7}, "pairs": {}}}
    (ud / "strategies" / "tiny_periods.json").write_text(json.dumps(committed))
    for name in ("data", "markets"):
        (ud / name).symlink_to(USER_DATA / name)

    runs = {}
    for mode in ("refit", "committed"):
        req = request(ud, strategies=["TinyTable"], peers=False, windows="20250501-20250601",
                      pair_tables=mode)
        planned = plan(req)
        runs[mode], _ = execute(planned, req, progress=False)
        assert runs[mode][0]["status"] == "ok", runs[mode][0].get("reason")
    refit, plain = runs["refit"][0], runs["committed"][0]

    assert refit["table_fit_start"].startswith("2024-11-01") and refit["table_fit_end"].startswith("2025-05-01")
    pairs = json.loads((USER_DATA / "config.validate.json").read_text())["exchange"]["pair_whitelist"]
    expected = fit_table(USER_DATA / "data" / "binance", pairs, "20241101-20250501")["EmaBbTrend"]["pairs"]
    assert expected and refit["pair_tables"] == {"EmaBbTrend": expected}
    assert "pair_tables" not in plain
    assert refit["trades"] != plain["trades"]  # the fitted periods, not the committed 3/7, traded
    # walk-forward: the tables are fitted on the fold's train span, like the hyperopt
    folds = plan(request(ud, strategies=["TinyTable"], peers=False, timerange="20250101-20250701",
                         walk_forward="3M:1M", epochs=1)).tasks
    assert folds and all(task.table_fit == task.train for task in folds)


def test_walk_forward_hyperopts_on_train_and_backtests_the_choice_on_test(userdir, tmp_path):
    from plugins.commands.validate_report import assemble
    from plugins.integration.validation_engine import execute, plan
    from plugins.integration.validation_runner import WALK_FORWARD

    req = request(userdir, strategies=["TinyCross"], peers=False, timerange="20250401-20250701",
                  walk_forward="1M:1M", epochs=4, spaces=["buy"], workers=1)
    planned = plan(req)
    assert [(t.kind, t.train.label, t.window.label) for t in planned.tasks] == [
        (WALK_FORWARD, "train0", "2025-05"), (WALK_FORWARD, "train1", "2025-06")]
    results, _ = execute(planned, req, progress=False)
    assert [r["status"] for r in results] == ["ok", "ok"], [r.get("reason") for r in results]
    for r, task in zip(results, planned.tasks):
        assert 0 <= r["params"]["buy"]["buy_gap_bp"] <= 40
        assert r["train_end"] == str(task.window.start)  # train ends where the test begins
        assert r["backtest_start"].startswith(f"{task.window.start:%Y-%m-%d}")
    # hyperopt exported nothing next to the strategy
    assert not list((userdir / "strategies").glob("*.json"))
    summary = assemble(results, planned.windows, {}, {})["summary"]["TinyCross"]["walk_forward"]
    ins = [r["in_sample_profit_pct"] for r in results]
    outs = [r["profit_pct"] for r in results]
    assert summary["gap"] == pytest.approx(sum(ins) / 2 - sum(outs) / 2)
    assert set(summary["parameter_drift"]) == {"buy_gap_bp"}


def test_report_files_hold_every_row(one_worker_run, tmp_path):
    from plugins.commands.validate_report import assemble, write_reports

    planned, results, timing = one_worker_run
    doc = assemble(results, planned.windows, timing, {"datadir": "x", "start": "", "end": ""})
    paths = write_reports(doc, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["report.html", "report.md", "results.json"]
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(stored["results"]) == 8
    assert stored["rows"] == ["TinyCross", "CrashInJune", "Buy & hold", "SampleStrategy"]
    markdown = (tmp_path / "out" / "report.md").read_text()
    for r in results:
        assert f"| {r['name']} | {r['window']} |" in markdown
    assert "scripted crash in June" in markdown
    assert stored["summary"]["CrashInJune"]["failed_windows"] == ["20250601-20250701"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Plotly.newPlot" in page and "<script src=" not in page  # opens offline


@pytest.mark.parametrize("argv, message", [
    (["--strategy", "NoSuchStrategy"], "Unknown strategy NoSuchStrategy"),
    (["--strategy", "TinyCross", "--timerange", "20100101-20110101"], "outside the data"),
    (["--strategy", "TinyCross", "--windows", "20100101-20100201"], "outside the data"),
    (["--strategy", "TinyCross", "--windows", "6Q"], "not a count and unit"),
    (["--strategy", "TinyCross", "--walk-forward", "2Y"], "TRAIN:TEST"),
])
def test_bad_input_is_one_error_line(userdir, capsys, argv, message):
    from plugins.commands.validate import main

    configs = ["--config", str(USER_DATA / "config.json")]
    assert main(["--userdir", str(userdir), *configs, "--no-progress", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ftpack-validate: ERROR: ") and message in err[0]


def test_a_datadir_missing_a_pair_is_named(userdir, tmp_path, capsys):
    from plugins.commands.validate import main

    partial = tmp_path / "data"
    partial.mkdir()
    for path in (USER_DATA / "data" / "binance").glob("*.feather"):
        if not path.name.startswith("LINK_"):
            (partial / path.name).symlink_to(path)
    argv = ["--userdir", str(userdir), "--config", str(USER_DATA / "config.json"),
            "--datadir", str(partial), "--strategy", "TinyCross", "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no 1h candles for LINK/USDT" in err[0]


def test_a_scheduler_that_does_not_answer_is_one_error_line(userdir, capsys):
    from plugins.commands.validate import main

    argv = ["--userdir", str(userdir), "--config", str(USER_DATA / "config.json"),
            "--strategy", "TinyCross", "--windows", WINDOWS, "--no-cache", "--no-progress",
            "--scheduler", "tcp://127.0.0.1:9"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did not answer" in err[0] and "tcp://127.0.0.1:9" in err[0]


def test_reports_re_render_from_results_json_without_backtests(one_worker_run, tmp_path):
    from plugins.commands.validate import main
    from plugins.commands.validate_report import assemble, colour_bound, write_reports

    planned, results, timing = one_worker_run
    doc = assemble(results, planned.windows, timing, {"datadir": "x", "start": "", "end": ""})
    write_reports(doc, tmp_path / "first")
    png = tmp_path / "head.png"
    assert main(["--from-results", str(tmp_path / "first" / "results.json"),
                 "--out", str(tmp_path / "again"), "--png", str(png)]) == 0
    assert (tmp_path / "again" / "report.md").read_text() == (
        tmp_path / "first" / "report.md").read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one extreme window does not set the colour scale
    assert colour_bound([1.0, -2.0, 3.0, 4.0, 5.0, 6.0, -7.0, 8.0, 9.0, 10.0, 11.0, 976.0]) < 12


def test_several_results_merge_into_one_report_later_rows_replace_earlier(one_worker_run, tmp_path, capsys):
    from plugins.commands.validate import main
    from plugins.commands.validate_report import assemble, write_reports

    planned, results, timing = one_worker_run
    meta = {"datadir": "x", "start": "", "end": ""}
    write_reports(assemble(results, planned.windows, timing, meta), tmp_path / "a")
    strategy = next(r["name"] for r in results if not r.get("peer"))
    rerun = [{**r, "profit_pct": 12.34} for r in results if r["name"] == strategy]
    other = [{**r, "name": "Other"} for r in results if r["name"] == strategy]
    write_reports(assemble(rerun + other, planned.windows, timing, meta), tmp_path / "b")
    assert main(["--from-results", str(tmp_path / "a" / "results.json"), str(tmp_path / "b" / "results.json"),
                 "--out", str(tmp_path / "merged")]) == 0
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    rows = merged["rows"]
    # Rows keep their place; a new strategy row comes before the peers.
    assert rows[0] == strategy and rows.index("Other") < rows.index("Buy & hold")
    assert {r["profit_pct"] for r in merged["results"] if r["name"] == strategy} == {12.34}
    assert len(merged["results"]) == len(results) + len(other)
    # Runs over other windows do not merge: one line, exit 2.
    shifted = [{**r, "window": "elsewhere"} for r in rerun]
    doc = assemble(shifted, planned.windows[:1], timing, meta)
    doc["meta"]["windows"] = ["elsewhere"]
    write_reports(doc, tmp_path / "c")
    capsys.readouterr()
    assert main(["--from-results", str(tmp_path / "a" / "results.json"),
                 str(tmp_path / "c" / "results.json"), "--out", str(tmp_path / "bad")]) == 2
    assert "other windows" in capsys.readouterr().err
