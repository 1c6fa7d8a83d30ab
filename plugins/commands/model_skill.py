"""``ftpack-skill``: the FreqAI ensemble's out-of-sample skill per pair and training window.

After a FreqAI backtest (or live run) with ``EnsembleRegressor`` / ``EnsembleClassifier``, every
training window's folder ``user_data/models/<identifier>/sub-train-<COIN>_<end>/`` holds the
ensemble's report in its ``*_metadata.json``. This command reads them all and prints, per pair x
window, the ensemble's validation error beside the no-skill forecast's and the best member's,
the skill number (rank correlation / accuracy edge) and each member's weight; then a summary:
how often the ensemble beat no-skill and its best member, per pair and per member.

    ftpack-skill --identifier ai-fusion-seed000-v1            # under user_data/models
    ftpack-skill --models-dir user_data/models/ID --out user_data/skill

``--out DIR`` also writes ``skill_windows.csv``, ``skill_members.csv``, ``skill_summary.json`` and
``skill.md``.
"""

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from plugins.freqai.skill import member_table, skill_summary, window_table


class SkillInputError(Exception):
    """A models folder that holds no ensemble training windows (reported as one ERROR line)."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ftpack-skill", description=__doc__.split("\n")[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--identifier", help="freqai.identifier of the run (folder under "
                                            "<userdir>/models)")
    where.add_argument("--models-dir", type=Path, help="the identifier folder itself")
    p.add_argument("--userdir", type=Path, default=Path("user_data"))
    p.add_argument("--out", type=Path, help="also write CSV / JSON / Markdown files here")
    return p


def load_reports(models_dir: Path) -> list[dict]:
    """The ensemble report of every ``sub-train-*`` window under ``models_dir``, with its pair and
    window end (from the folder name when an older report lacks them)."""
    if not models_dir.is_dir():
        raise SkillInputError(f"{models_dir} is not a folder (run a FreqAI backtest with this "
                              f"identifier first)")
    windows = sorted(models_dir.glob("sub-train-*"))
    if not windows:
        raise SkillInputError(f"no training windows (sub-train-*) under {models_dir}")
    reports = []
    for folder in windows:
        for path in folder.glob("*_metadata.json"):
            report = json.loads(path.read_text()).get("ensemble")
            if not report or "no_skill" not in report:
                continue
            coin, _, stamp = folder.name.removeprefix("sub-train-").rpartition("_")
            reports.append({**report, "pair": report.get("pair") or coin,
                            "train_end": pd.Timestamp(int(stamp), unit="s", tz="UTC")})
    if not reports:
        raise SkillInputError(
            f"none of the {len(windows)} training windows under {models_dir} holds an ensemble "
            f"report with no-skill scores (EnsembleRegressor/EnsembleClassifier of this pack, "
            f"issue 15 or later)")
    return reports


def render(windows: pd.DataFrame, summary: dict) -> str:
    """Markdown: the per-window table, then the summary lines and per-pair / per-member tables."""
    metric = summary["metric"]
    weight_columns = [c for c in windows.columns if c.endswith("_weight")]
    shown = windows[["pair", "train_end", "validation_rows", "ensemble", "no_skill",
                     "best_member", "best_member_error", "skill", *weight_columns]].copy()
    shown["train_end"] = shown["train_end"].dt.strftime("%Y-%m-%d")
    shown = shown.rename(columns={"ensemble": f"ensemble {metric}", "no_skill": f"no-skill {metric}",
                                  "validation_rows": "val rows"})
    lines = [
        f"## Ensemble out-of-sample skill: {summary['windows']} training windows",
        "",
        shown.to_markdown(index=False, floatfmt=".4f"),
        "",
        f"- ensemble {metric} below the no-skill forecast's in {summary['beats_no_skill']:.0%} of "
        f"windows (mean ratio {summary['mean_error_ratio_to_no_skill']:.3f});",
        f"- at or below its best member's in {summary['beats_best_member']:.0%};",
        f"- skill > 0 in {summary['positive_skill']:.0%} of windows, mean skill "
        f"{summary['mean_skill']:+.4f} (regression: Spearman rank correlation; classification: "
        f"accuracy minus the majority class share).",
        "",
        pd.DataFrame(summary["per_pair"]).T.to_markdown(floatfmt=".3f"),
        "",
        pd.DataFrame(summary["per_member"]).T.to_markdown(floatfmt=".3f"),
    ]
    return "\n".join(lines) + "\n"


def write_files(out: Path, windows: pd.DataFrame, members: pd.DataFrame, summary: dict,
                text: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "skill_windows.csv", out / "skill_members.csv", out / "skill_summary.json",
             out / "skill.md"]
    windows.to_csv(paths[0], index=False)
    members.to_csv(paths[1], index=False)
    paths[2].write_text(json.dumps(summary, indent=2))
    paths[3].write_text(text)
    return paths


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    models_dir = args.models_dir or args.userdir / "models" / args.identifier
    try:
        reports = load_reports(models_dir)
    except (SkillInputError, OSError, ValueError) as err:
        print(f"ftpack-skill: ERROR: {err}", file=sys.stderr)
        return 2
    windows, members = window_table(reports), member_table(reports)
    summary = skill_summary(windows, members)
    text = render(windows, summary)
    print(text, end="")
    if args.out:
        print("Written: " + ", ".join(str(p) for p in write_files(args.out, windows, members,
                                                                  summary, text)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
