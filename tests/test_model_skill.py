"""ftpack-skill (plugins/commands/model_skill.py) and its pure tables (plugins/freqai/skill.py)."""

import json

import pandas as pd
import pytest

from plugins.commands.model_skill import main
from plugins.freqai.skill import member_table, skill_summary, window_table
from tests.test_freqai_roundtrip import SEED000_TREES, round_trip


def report(pair, end, ensemble, no_skill, members, skill):
    return {"pair": pair, "train_end": end, "metric": "mae", "rows": {"validation": 50},
            "ensemble": {"mae": ensemble}, "no_skill": {"mae": no_skill}, "skill": skill,
            "members": {name: {"weight": w, "mae": e, "spearman": 0.0}
                        for name, (w, e) in members.items()}}


REPORTS = [
    # beats no-skill, not its best member (rf 0.09 < 0.10)
    report("BTC/USDT", "2025-06-01", 0.10, 0.12, {"rf": (0.6, 0.09), "xgb": (0.4, 0.13)}, 0.1),
    # worse than no-skill, at its best member's error
    report("BTC/USDT", "2025-07-01", 0.15, 0.11, {"rf": (0.5, 0.15), "xgb": (0.5, 0.16)}, -0.2),
    # beats both
    report("ETH/USDT", "2025-06-01", 0.08, 0.10, {"rf": (0.3, 0.09), "xgb": (0.7, 0.085)}, 0.3),
]


def test_window_table_marks_no_skill_and_best_member_wins():
    table = window_table(REPORTS)
    assert list(table["pair"]) == ["BTC/USDT", "BTC/USDT", "ETH/USDT"]
    assert list(table["beats_no_skill"]) == [True, False, True]
    assert list(table["beats_best_member"]) == [False, True, True]
    assert list(table["best_member"]) == ["rf", "rf", "xgb"]
    assert table.loc[2, "xgb_weight"] == 0.7


def test_skill_summary_hand_computed():
    summary = skill_summary(window_table(REPORTS), member_table(REPORTS))
    assert summary["windows"] == 3
    assert summary["beats_no_skill"] == pytest.approx(2 / 3)
    assert summary["beats_best_member"] == pytest.approx(2 / 3)
    assert summary["positive_skill"] == pytest.approx(2 / 3)
    assert summary["mean_skill"] == pytest.approx(0.2 / 3)
    assert summary["mean_error_ratio_to_no_skill"] == pytest.approx(
        (0.10 / 0.12 + 0.15 / 0.11 + 0.08 / 0.10) / 3)
    assert summary["per_pair"]["BTC/USDT"]["beats_no_skill"] == 0.5
    assert summary["per_member"]["rf"]["best_in_windows"] == 2
    assert summary["per_member"]["xgb"]["mean_weight"] == pytest.approx(1.6 / 3)
    # members beating no-skill: rf 0.09 < 0.12, 0.15 > 0.11, 0.09 < 0.10 -> 2 of 3
    assert summary["per_member"]["rf"]["beats_no_skill"] == pytest.approx(2 / 3)


def test_command_reads_the_windows_freqai_saved(tmp_path, capsys):
    """A real FreqAI training writes the window; the command finds and tabulates it."""
    run = round_trip(tmp_path, "EnsembleRegressor", False, SEED000_TREES)
    models_dir = run.dk_loaded.data_path.parent
    out = tmp_path / "skill"
    assert main(["--models-dir", str(models_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 training windows" in printed and "BTC/USDT" in printed
    windows = pd.read_csv(out / "skill_windows.csv")
    report = run.metadata["ensemble"]
    assert windows.loc[0, "ensemble"] == pytest.approx(report["ensemble"]["mae"])
    assert windows.loc[0, "no_skill"] == pytest.approx(report["no_skill"]["mae"])
    assert set(pd.read_csv(out / "skill_members.csv")["member"]) == set(SEED000_TREES)
    assert json.loads((out / "skill_summary.json").read_text())["windows"] == 1


@pytest.mark.parametrize("layout, message", [
    ("missing", "is not a folder"),
    ("empty", "no training windows"),
    ("no_report", "holds an ensemble report"),
])
def test_bad_models_folder_is_one_error_line(tmp_path, capsys, layout, message):
    models_dir = tmp_path / "models" / "id"
    if layout != "missing":
        models_dir.mkdir(parents=True)
    if layout == "no_report":  # e.g. a LightGBMRegressor run: metadata without "ensemble"
        window = models_dir / "sub-train-BTC_1748736000"
        window.mkdir()
        (window / "cb_btc_1748736000_metadata.json").write_text(json.dumps({"label_list": []}))
    assert main(["--models-dir", str(models_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ftpack-skill: ERROR:") and message in err[0]
