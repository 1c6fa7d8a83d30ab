"""Out-of-sample skill of the ensemble over many FreqAI training windows (pure: dicts in, tables out).

Every training window leaves the ensemble's report (``WeightedEnsemble.report``, saved by FreqAI
in the window's ``*_metadata.json`` under ``"ensemble"``): each member's validation scores and
weight, the ensemble's scores and a no-skill forecast's (the fit rows' mean target, or their class
frequencies) on the same time-ordered validation rows. These functions line the windows up:
- :func:`window_table`: one row per pair x training window;
- :func:`member_table`: one row per pair x window x member;
- :func:`skill_summary`: how often the ensemble beat the no-skill forecast and its best member,
  its mean skill, per pair and per member.
``ftpack-skill`` (``plugins/commands/model_skill.py``) reads the files and prints these.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def window_table(reports: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per training window, oldest first within each pair.

    Each report needs ``pair``, ``train_end`` (the window's end, a timestamp) and the ensemble's
    ``metric``, ``members``, ``ensemble`` and ``no_skill`` entries. Columns: pair, train_end,
    validation_rows, metric, ensemble / no_skill error (the report's ``metric``: MAE or log
    loss), skill (``report["skill"]``: Spearman rank correlation or accuracy edge),
    best_member and its error, beats_no_skill, beats_best_member and one
    ``<member>_weight`` column per member.
    """
    rows = []
    for report in reports:
        metric = report["metric"]
        members = report["members"]
        best = min(members, key=lambda name: members[name][metric])
        row = {
            "pair": report["pair"],
            "train_end": pd.Timestamp(report["train_end"]),
            "validation_rows": int(report.get("rows", {}).get("validation", 0)),
            "metric": metric,
            "ensemble": float(report["ensemble"][metric]),
            "no_skill": float(report["no_skill"][metric]),
            "skill": float(report.get("skill", np.nan)),
            "best_member": best,
            "best_member_error": float(members[best][metric]),
        }
        row["beats_no_skill"] = row["ensemble"] < row["no_skill"]
        row["beats_best_member"] = row["ensemble"] <= row["best_member_error"]
        row.update({f"{name}_weight": float(info["weight"]) for name, info in members.items()})
        rows.append(row)
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).sort_values(["pair", "train_end"], ignore_index=True)


def member_table(reports: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per pair x window x member: weight, error (the report's metric), rank
    correlation (regression) and whether the member beat the no-skill forecast."""
    rows = []
    for report in reports:
        metric = report["metric"]
        no_skill = float(report["no_skill"][metric])
        for name, info in report["members"].items():
            rows.append({
                "pair": report["pair"], "train_end": pd.Timestamp(report["train_end"]),
                "member": name, "weight": float(info["weight"]), "error": float(info[metric]),
                "spearman": float(info.get("spearman", np.nan)),
                "beats_no_skill": float(info[metric]) < no_skill,
            })
    return pd.DataFrame(rows)


def skill_summary(windows: pd.DataFrame, members: pd.DataFrame) -> dict[str, Any]:
    """Shares and means over all windows, then per pair and per member (JSON-friendly)."""
    if windows.empty:
        return {"windows": 0}
    per_pair = windows.groupby("pair").agg(
        windows=("skill", "size"), mean_skill=("skill", "mean"),
        beats_no_skill=("beats_no_skill", "mean"), beats_best_member=("beats_best_member", "mean"))
    per_member = members.groupby("member").agg(
        mean_weight=("weight", "mean"), mean_error=("error", "mean"),
        mean_spearman=("spearman", "mean"), beats_no_skill=("beats_no_skill", "mean"))
    per_member["best_in_windows"] = (windows["best_member"].value_counts()
                                     .reindex(per_member.index, fill_value=0))
    return {
        "windows": int(len(windows)),
        "metric": str(windows["metric"].iloc[0]),
        "beats_no_skill": float(windows["beats_no_skill"].mean()),
        "beats_best_member": float(windows["beats_best_member"].mean()),
        "positive_skill": float((windows["skill"] > 0).mean()),
        "mean_skill": float(windows["skill"].mean()),
        "mean_error_ratio_to_no_skill": float((windows["ensemble"] / windows["no_skill"]).mean()),
        "per_pair": _records(per_pair),
        "per_member": _records(per_member),
    }


def _records(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {str(index): {k: float(v) for k, v in row.items()} for index, row in frame.iterrows()}
