"""Parity between a replay's trades and a backtest of the same window.

Both sides are freqtrade trade frames (``load_trades_from_db`` for the replay database,
``load_backtest_data`` for the backtest result), so one function serves both.

Matching rule: a replay trade and a backtest trade match when they are on the same pair and open in
the same strategy candle (open time floored to the timeframe); the n-th trade of a pair in a candle
matches the n-th of the other side. Per matched trade the report gives the differences replay minus
backtest in open time, close time, open and close price (%) and profit; the summary gives the
counts, the matched share of each side and the total profit of each side. Trades still open at the
replay end are counted (the backtest force-exits its own at the window end, the replay does not),
so their profit is the difference the report cannot avoid; they are flagged.
"""

from datetime import datetime, timedelta

import pandas as pd

MATCH_COLUMNS = ["pair", "open_date", "close_date", "open_rate", "close_rate", "profit_abs",
                 "profit_ratio", "exit_reason", "is_open"]


def _keyed(trades: pd.DataFrame, timeframe: timedelta) -> pd.DataFrame:
    """Trades with their match key: pair, open candle and rank among the pair's trades in it."""
    frame = trades.reindex(columns=MATCH_COLUMNS).copy()
    frame["open_date"] = pd.to_datetime(frame["open_date"], utc=True)
    frame["close_date"] = pd.to_datetime(frame["close_date"], utc=True)
    frame["open_candle"] = frame["open_date"].dt.floor(pd.Timedelta(timeframe))
    frame = frame.sort_values(["pair", "open_date"])
    frame["rank"] = frame.groupby(["pair", "open_candle"]).cumcount()
    return frame


def match_trades(replayed: pd.DataFrame, backtested: pd.DataFrame,
                 timeframe: timedelta) -> pd.DataFrame:
    """One row per matched pair of trades, with the replay-minus-backtest differences."""
    keys = ["pair", "open_candle", "rank"]
    merged = _keyed(replayed, timeframe).merge(
        _keyed(backtested, timeframe), on=keys, suffixes=("_replay", "_backtest")
    )
    merged["open_delay_min"] = (merged["open_date_replay"] - merged["open_date_backtest"]) / pd.Timedelta(minutes=1)
    merged["close_delay_min"] = (merged["close_date_replay"] - merged["close_date_backtest"]) / pd.Timedelta(minutes=1)
    merged["open_rate_diff_pct"] = (merged["open_rate_replay"] / merged["open_rate_backtest"] - 1) * 100
    merged["close_rate_diff_pct"] = (merged["close_rate_replay"] / merged["close_rate_backtest"] - 1) * 100
    merged["profit_abs_diff"] = merged["profit_abs_replay"].fillna(0) - merged["profit_abs_backtest"].fillna(0)
    return merged.reset_index(drop=True)


def parity_summary(replayed: pd.DataFrame, backtested: pd.DataFrame,
                   matched: pd.DataFrame) -> dict:
    """Counts, matched shares and total profits of both sides."""
    n_replay, n_backtest, n_matched = len(replayed), len(backtested), len(matched)
    replay_profit = float(replayed["profit_abs"].fillna(0).sum()) if n_replay else 0.0
    backtest_profit = float(backtested["profit_abs"].fillna(0).sum()) if n_backtest else 0.0
    return {
        "replay_trades": n_replay,
        "backtest_trades": n_backtest,
        "matched": n_matched,
        "matched_pct_of_backtest": 100.0 * n_matched / n_backtest if n_backtest else None,
        "matched_pct_of_replay": 100.0 * n_matched / n_replay if n_replay else None,
        "replay_open_at_end": int(replayed["is_open"].fillna(False).astype(bool).sum()) if n_replay else 0,
        "replay_profit_abs": replay_profit,
        "backtest_profit_abs": backtest_profit,
        "profit_abs_diff": replay_profit - backtest_profit,
        "matched_profit_abs_diff": float(matched["profit_abs_diff"].sum()) if n_matched else 0.0,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def parity_markdown(strategy: str, start: datetime, end: datetime, matched: pd.DataFrame,
                    summary: dict) -> str:
    """The parity report: summary lines, then one table row per matched trade."""
    lines = [
        f"# Replay vs backtest: {strategy}, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}",
        "",
        (f"- trades: replay {summary['replay_trades']} ({summary['replay_open_at_end']} still open at "
        f"the end), backtest {summary['backtest_trades']}, matched {summary['matched']}"),
        (f"- matched: {_pct(summary['matched_pct_of_backtest'])} of the backtest trades, "
        f"{_pct(summary['matched_pct_of_replay'])} of the replay trades"),
        (f"- total profit: replay {summary['replay_profit_abs']:.2f}, backtest "
        f"{summary['backtest_profit_abs']:.2f}, difference {summary['profit_abs_diff']:.2f} "
        f"(of which matched trades {summary['matched_profit_abs_diff']:.2f})"),
        "",
        ("| pair | open (backtest) | open Δ min | close Δ min | open price Δ % | close price Δ % "
        "| profit replay | profit backtest | exit replay | exit backtest |"),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in matched.itertuples(index=False):
        lines.append(
            f"| {row.pair} | {row.open_date_backtest:%Y-%m-%d %H:%M} | {row.open_delay_min:.0f} "
            f"| {row.close_delay_min:.0f} | {row.open_rate_diff_pct:.3f} | {row.close_rate_diff_pct:.3f} "
            f"| {row.profit_abs_replay:.2f} | {row.profit_abs_backtest:.2f} "
            f"| {row.exit_reason_replay} | {row.exit_reason_backtest} |"
        )
    return "\n".join(lines) + "\n"
