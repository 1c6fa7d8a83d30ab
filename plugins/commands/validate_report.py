"""Report of ``ftpack-validate``: results.json, report.md and a self-contained report.html.

``assemble`` groups the task results per row (strategy or peer) and window, chains each row's
window equity curves into one whole-span curve and summarises robustness with the pure functions
of ``plugins.quant.validation``; the renderers only format that document.
"""

import json
import math
from pathlib import Path

import pandas as pd

from plugins.quant.validation import (
    chain_equity,
    drawdown_series,
    in_out_of_sample_gap,
    parameter_drift,
    robustness_summary,
)


METRIC_COLUMNS = (
    ("trades", "Trades", "{:d}"),
    ("profit_pct", "Profit %", "{:.2f}"),
    ("max_drawdown_pct", "Max DD %", "{:.2f}"),
    ("calmar", "Calmar", "{:.2f}"),
    ("sharpe", "Sharpe", "{:.2f}"),
    ("win_rate_pct", "Win %", "{:.1f}"),
    ("time_in_market_pct", "In market %", "{:.1f}"),
)


def equity_series(result: dict) -> pd.Series:
    points = result.get("equity") or []
    if not points:
        return pd.Series(dtype=float)
    index = pd.to_datetime([p[0] for p in points], utc=True)
    return pd.Series([p[1] for p in points], index=index, dtype=float)


def row_names(results: list[dict]) -> list[str]:
    """Strategies first (in request order), then the peers."""
    names = list(dict.fromkeys(r["name"] for r in results))
    return [n for n in names if not is_peer(results, n)] + [n for n in names if is_peer(results, n)]


def is_peer(results: list[dict], name: str) -> bool:
    return any(r["name"] == name and r.get("peer") for r in results)


def summarise(rows: list[dict]) -> dict:
    """Robustness summary of one row's windows (ok windows only) and its whole-span curve."""
    ok = [r for r in rows if r["status"] == "ok"]
    profits = {r["window"]: r["profit_pct"] / 100 for r in ok}
    drawdowns = {r["window"]: r["max_drawdown_pct"] / 100 for r in ok}
    equity = chain_equity([equity_series(r) for r in ok]) if ok else None
    summary = robustness_summary(profits, drawdowns, equity)
    summary["failed_windows"] = [r["window"] for r in rows if r["status"] != "ok"]
    if any("in_sample_profit_pct" in r for r in ok):
        summary["walk_forward"] = {
            **in_out_of_sample_gap([r["in_sample_profit_pct"] for r in ok],
                                   [r["profit_pct"] for r in ok]),
            "parameter_drift": parameter_drift(
                [{k: v for space in r["params"].values() for k, v in space.items()} for r in ok]
            ),
        }
    return summary


def assemble(results: list[dict], windows, timing: dict, meta: dict) -> dict:
    """The report document (also written as results.json)."""
    names = row_names(results)
    summaries = {n: summarise([r for r in results if r["name"] == n]) for n in names}
    return {
        "meta": {**meta, "windows": [w.label for w in windows],
                 "window_spans": {w.label: [str(w.start), str(w.end), w.partial] for w in windows}},
        "timing": timing,
        "rows": names,
        "results": results,
        "summary": summaries,
    }


# --- markdown ------------------------------------------------------------------------------------


def fmt(value, pattern: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return pattern.format(value)


def cell_line(result: dict) -> str:
    if result["status"] != "ok":
        return (f"| {result['name']} | {result['window']} | {result['status']}: "
                f"{result.get('reason', '')} |" + " |" * (len(METRIC_COLUMNS) - 1))
    values = " | ".join(fmt(result.get(key), pattern) for key, _, pattern in METRIC_COLUMNS)
    return f"| {result['name']} | {result['window']} | {values} |"


def window_label(doc: dict, label: str) -> str:
    partial = doc["meta"]["window_spans"].get(label, [None, None, False])[2]
    return f"{label}-partial" if partial else label


def render_markdown(doc: dict) -> str:
    meta, results = doc["meta"], doc["results"]
    lines = [f"# ftpack-validate: {meta.get('title', 'walk-forward validation')}", ""]
    lines.append(f"Data: `{meta.get('datadir')}`, {meta.get('start', '')[:10]} → "
                 f"{meta.get('end', '')[:10]}; windows: {', '.join(window_label(doc, w) for w in meta['windows'])}.")
    lines.append("")
    lines.append("## Per strategy and window")
    lines.append("")
    header = "| Row | Window | " + " | ".join(title for _, title, _ in METRIC_COLUMNS) + " |"
    lines += [header, "|---|---|" + "---:|" * len(METRIC_COLUMNS)]
    for window in meta["windows"]:
        for name in doc["rows"]:
            for result in results:
                if result["name"] == name and result["window"] == window:
                    lines.append(cell_line({**result, "window": window_label(doc, window)}))
    lines += ["", "## Profit % per window", ""]
    lines.append("| Row | " + " | ".join(window_label(doc, w) for w in meta["windows"]) + " |")
    lines.append("|---|" + "---:|" * len(meta["windows"]))
    for name in doc["rows"]:
        cells = []
        for window in meta["windows"]:
            match = [r for r in results if r["name"] == name and r["window"] == window]
            r = match[0] if match else None
            cells.append(fmt(r["profit_pct"], "{:.1f}") if r and r["status"] == "ok"
                         else (r["status"] if r else "–"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## Robustness", ""]
    lines.append("| Row | Windows | Lost | Worst window | Worst profit % | Deepest DD % | "
                 "Whole-span CAGR % | Whole-span Calmar | Failed |")
    lines.append("|---|---:|---:|---|---:|---:|---:|---:|---|")
    for name in doc["rows"]:
        s = doc["summary"][name]
        pct = (lambda v: fmt(None if v is None else v * 100, "{:.2f}"))
        lines.append(
            f"| {name} | {s['windows']} | {s['windows_lost']} | {s['worst_window'] or '–'} | "
            f"{pct(s['worst_profit'])} | {pct(s['deepest_drawdown'])} | {pct(s['cagr'])} | "
            f"{fmt(s['calmar'], '{:.2f}')} | {', '.join(s['failed_windows']) or '–'} |"
        )
    walk = {n: doc["summary"][n]["walk_forward"] for n in doc["rows"]
            if "walk_forward" in doc["summary"][n]}
    if walk:
        lines += ["", "## Walk-forward: in-sample vs out-of-sample", ""]
        lines.append("| Strategy | Mean train profit % | Mean test profit % | Gap (pp) | "
                     "Most drifting parameter (CV) |")
        lines.append("|---|---:|---:|---:|---|")
        for name, w in walk.items():
            drift = w["parameter_drift"]
            top = max(drift, key=lambda k: (drift[k]["cv"] if not math.isnan(drift[k]["cv"])
                                            else -1), default=None)
            top_text = f"{top} ({drift[top]['cv']:.2f})" if top else "–"
            lines.append(f"| {name} | {fmt(w['in_sample_mean'], '{:.2f}')} | "
                         f"{fmt(w['out_of_sample_mean'], '{:.2f}')} | {fmt(w['gap'], '{:.2f}')} | "
                         f"{top_text} |")
    refitted = sorted({r["name"] for r in results if r.get("pair_tables")})
    if refitted:
        lines += ["", f"Per-pair tables of {', '.join(refitted)}: fitted for each window only on the "
                  "candles before it (`table_fit_start` → `table_fit_end` and the periods in "
                  "`pair_tables` of each result in results.json); a pair with too few signals "
                  "there keeps the table's default."]
    failed = [r for r in results if r["status"] != "ok"]
    if failed:
        lines += ["", "## Failed or skipped cells", ""]
        lines += [f"- {r['name']} @ {r['window']}: {r['status']}: {r.get('reason', '')}"
                  for r in failed]
    timing = doc["timing"]
    lines += ["", f"Tasks: {timing['tasks']} ({timing['computed']} computed, {timing['cached']} "
              f"from cache); wall {timing['wall_seconds']:.1f} s, sum of task times "
              f"{timing['task_seconds']:.1f} s.", ""]
    lines.append(
        "Every window is backtested from a fresh wallet with freqtrade's own Backtesting. Max DD, "
        "Calmar and Sharpe: freqtrade's wallet-balance metrics (mark-to-market, open positions "
        "included). Whole-span CAGR/Calmar: the window curves chained (each window restarts with "
        "what the last left). Buy & hold: equal weights in the pairs trading from the window's "
        "first day, fee on entry and exit. SampleStrategy: freqtrade's template at the same "
        "timeframe."
    )
    return "\n".join(lines) + "\n"


# --- html ----------------------------------------------------------------------------------------


def colour_bound(values) -> float:
    """Symmetric colour limit for profit cells: one extreme window (a +976 % bull half-year) must
    not wash every other cell out to the neutral colour, so the scale clips at the 85th
    percentile of |profit| (the numbers in the cells stay exact)."""
    import numpy as np

    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    return float(max(1.0, np.percentile(finite, 85))) if finite.size else 1.0


def figures(doc: dict) -> list:
    """Plotly figures: profit heatmap, whole-span equity with window boundaries, underwater."""
    import plotly.graph_objects as go

    meta, results = doc["meta"], doc["results"]
    windows = meta["windows"]
    z, text = [], []
    for name in doc["rows"]:
        row_z, row_text = [], []
        for window in windows:
            match = [r for r in results if r["name"] == name and r["window"] == window]
            r = match[0] if match else None
            ok = r is not None and r["status"] == "ok"
            row_z.append(r["profit_pct"] if ok else None)
            row_text.append(f"{r['profit_pct']:.1f}" if ok else (r["status"] if r else ""))
        z.append(row_z)
        text.append(row_text)
    heat = go.Figure(go.Heatmap(
        z=z, x=[window_label(doc, w) for w in windows], y=doc["rows"], text=text,
        texttemplate="%{text}", colorscale="RdYlGn", zmid=0, zmin=-colour_bound(_numbers(z)),
        zmax=colour_bound(_numbers(z)), colorbar={"title": "profit %"}))
    heat.update_layout(title="Profit % per window (each window from a fresh wallet)",
                       height=120 + 40 * len(doc["rows"]), yaxis={"autorange": "reversed"})

    equity = go.Figure()
    underwater = go.Figure()
    for name in doc["rows"]:
        ok = [r for r in results if r["name"] == name and r["status"] == "ok"]
        curve = chain_equity([equity_series(r) for r in ok], start_balance=100.0)
        if curve.empty:
            continue
        dash = "dot" if is_peer(results, name) else None
        equity.add_trace(go.Scatter(x=curve.index, y=curve.values, name=name,
                                    line={"dash": dash}))
        underwater.add_trace(go.Scatter(x=curve.index, y=drawdown_series(curve).values * 100,
                                        name=name, line={"dash": dash}))
    for w, (start, _, _) in meta["window_spans"].items():
        equity.add_vline(x=pd.Timestamp(start), line={"color": "#bbb", "width": 1})
    equity.update_layout(title="Whole-span equity (start = 100, windows chained), log scale",
                         yaxis_type="log", height=500)
    underwater.update_layout(title="Underwater: % below the running peak", height=400,
                             yaxis={"ticksuffix": "%"})
    return [heat, equity, underwater]


def _numbers(rows) -> list[float]:
    return [v for row in rows for v in row if v is not None]


def render_html(doc: dict, markdown: str) -> str:
    """One self-contained page: plotly's JS inline, the tables as preformatted markdown."""
    import html

    parts = []
    for i, figure in enumerate(figures(doc)):
        parts.append(figure.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>ftpack-validate report</title>"
        "<style>body{font-family:sans-serif;margin:2em} pre{font-size:12px;overflow-x:auto}</style>"
        f"</head><body><h1>ftpack-validate</h1>{body}<h2>Tables</h2><pre>{html.escape(markdown)}"
        "</pre></body></html>"
    )


def write_reports(doc: dict, out: Path, html_report: bool = True) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(doc)
    paths = [out / "results.json", out / "report.md"]
    paths[0].write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    paths[1].write_text(markdown, encoding="utf-8")
    if html_report:
        paths.append(out / "report.html")
        paths[2].write_text(render_html(doc, markdown), encoding="utf-8")
    return paths


# --- headline png --------------------------------------------------------------------------------


def render_png(doc: dict, path: Path) -> Path:
    """The headline figure as a PNG (matplotlib, no browser): profit heatmap over the whole-span
    equity curves (log scale, window boundaries marked, peers dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    meta, results = doc["meta"], doc["results"]
    windows, names = meta["windows"], doc["rows"]
    grid = np.full((len(names), len(windows)), np.nan)
    for r in results:
        if r["status"] == "ok" and r["window"] in windows:
            grid[names.index(r["name"]), windows.index(r["window"])] = r["profit_pct"]
    fig, (heat_ax, curve_ax) = plt.subplots(
        2, 1, figsize=(max(9.0, 0.8 * len(windows) + 3), 4 + 0.45 * len(names) + 4),
        gridspec_kw={"height_ratios": [0.45 * len(names) + 1, 4]})
    bound = colour_bound(grid)
    heat_ax.imshow(grid, cmap="RdYlGn", vmin=-bound, vmax=bound, aspect="auto")
    heat_ax.set_xticks(range(len(windows)), [window_label(doc, w) for w in windows], rotation=45,
                       ha="right", fontsize=8)
    heat_ax.set_yticks(range(len(names)), names, fontsize=8)
    for (i, j), value in np.ndenumerate(grid):
        heat_ax.text(j, i, "–" if np.isnan(value) else f"{value:.0f}", ha="center", va="center",
                     fontsize=7)
    heat_ax.set_title("Profit % per window (each window from a fresh wallet)", fontsize=10)
    for name in names:
        ok = [r for r in results if r["name"] == name and r["status"] == "ok"]
        curve = chain_equity([equity_series(r) for r in ok], start_balance=100.0)
        if not curve.empty:
            curve_ax.plot(curve.index, curve.values, label=name, linewidth=1.2,
                          linestyle="--" if is_peer(results, name) else "-")
    for start, _, _ in meta["window_spans"].values():
        curve_ax.axvline(pd.Timestamp(start), color="#cccccc", linewidth=0.6, zorder=0)
    curve_ax.set_yscale("log")
    curve_ax.set_ylabel("equity (start = 100, log)")
    curve_ax.set_title("Whole-span equity, windows chained", fontsize=10)
    curve_ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
