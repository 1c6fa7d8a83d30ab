"""EnsembleRegressor (default members and seed 000's set) vs LightGBMRegressor on identical FreqAI windows.

Three models run through FreqAI's own backtesting loop (sliding windows from
``user_data/config.freqai.json``: same pairs, features, ``train_period_days``,
``backtest_period_days``, label, data pipeline, DI/SVM settings), in this process, offline, from
scratch (each model gets its own fresh ``identifier`` folder, deleted first):
(a) ``EnsembleRegressor`` with config.freqai.json's members (LightGBM, ExtraTrees,
    HistGradientBoosting, linear);
(b) ``EnsembleRegressor`` with seed 000's members from ``config.freqai.seed000.json``
    (Random Forest, XGBoost, LSTM; needs the ``lstm`` extra), everything else as in (a);
(c) freqtrade's ``LightGBMRegressor`` with exactly the parameters of (a)'s ``lightgbm`` member.

Reported, on the same out-of-sample rows (every candle of every backtest window inside the
timerange, the pairs pooled, rows where the realised target is known and all models predicted):
- MAE of the prediction vs the realised target (mean forward return over label_period_candles);
- Spearman rank correlation of predictions vs realised target (pooled, and mean per pair);
- training time per pair-window: FreqAI ``train()`` (data pipeline + fit) and ``fit()`` alone,
  and the ratio to LightGBMRegressor's (target for (a): <= 3x).

    FREQTRADE_PACK_OFFLINE=1 .venv/bin/python benchmarks/ensemble_vs_lightgbm.py \
        --timerange 20250501-20250801 [--pairs BTC/USDT ETH/USDT] [--skip seed000] \
        [--set weighting=stacking --set refit=false] [--out results.json]
"""

import argparse
import json
import logging
import os
import shutil
import sys
import time
import warnings
from pathlib import Path


os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("FREQTRADE_PACK_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402


USER_DATA = Path("user_data")
STRATEGY = "AiFusion"
CONFIGS = [str(USER_DATA / "config.json"), str(USER_DATA / "config.freqai.json")]
TARGET = "&-mean_fwd_return"


def quiet_logs() -> None:
    """Freqtrade's configuration turns INFO logging on; keep this script's output readable."""
    for name in ("freqtrade", "plugins", "datasieve", "numexpr"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightgbm")


def seed000_members() -> dict:
    """Seed 000's members (RF + XGBoost + LSTM) as the preset configures them."""
    preset = json.loads((USER_DATA / "config.freqai.seed000.json").read_text())
    return preset["freqai"]["model_training_parameters"]["members"]


def model_config(variant: str, model: str, timerange: str, overrides: dict,
                 pairs: list[str] | None) -> dict:
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    args = {"config": CONFIGS, "user_data_dir": str(USER_DATA), "strategy": STRATEGY,
            "freqaimodel": model, "timerange": timerange, "export": "none", "cache": "none"}
    config = Configuration(args, RunMode.BACKTEST).get_config()
    quiet_logs()
    if pairs:
        config["exchange"]["pair_whitelist"] = list(pairs)
    freqai = config["freqai"]
    params = freqai["model_training_parameters"]
    if model == "LightGBMRegressor":
        member = dict(params["members"]["lightgbm"])
        member.setdefault("n_jobs", int(params.get("n_jobs", 1)))
        member.setdefault("random_state", int(params.get("random_state", 0)))
        member.setdefault("verbosity", -1)
        freqai["model_training_parameters"] = member
    else:
        if variant == "seed000":
            params["members"] = seed000_members()
        params.update(overrides)
    freqai["identifier"] = f"bench-{variant}-{timerange}"
    freqai["activate_tensorboard"] = False
    shutil.rmtree(USER_DATA / "models" / freqai["identifier"], ignore_errors=True)
    return config


def run_model(variant: str, model: str, timerange: str, overrides: dict,
              pairs: list[str] | None) -> tuple[pd.DataFrame, dict]:
    """Predictions (pair, date, prediction, realised) and training seconds of one model."""
    from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel
    from freqtrade.optimize.backtesting import Backtesting

    config = model_config(variant, model, timerange, overrides, pairs)
    engine = Backtesting(config)
    engine._set_strategy(engine.strategylist[0])
    quiet_logs()
    timings = {"train": 0.0, "fit": 0.0, "trainings": 0}
    freqai = engine.strategy.freqai
    original_fit = freqai.fit

    def timed_fit(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original_fit(*args, **kwargs)
        finally:
            timings["fit"] += time.perf_counter() - t0

    freqai.fit = timed_fit
    original_train = BaseRegressionModel.train

    def timed_train(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original_train(self, *args, **kwargs)
        finally:
            timings["train"] += time.perf_counter() - t0
            timings["trainings"] += 1

    BaseRegressionModel.train = timed_train
    try:
        data, bt_range = engine.load_bt_data()
        analysed = engine.strategy.advise_all_indicators(data)
    finally:
        BaseRegressionModel.train = original_train
        engine.strategy.ft_bot_cleanup()
    frames = []
    for pair, df in analysed.items():
        prices = df[["date", "open", "high", "low", "close", "volume"]].copy()
        realised = engine.strategy.set_freqai_targets(prices, {"pair": pair})[TARGET]
        inside = (df["date"] >= bt_range.startdt) & (df["date"] < bt_range.stopdt)
        frames.append(pd.DataFrame({
            "pair": pair, "date": df["date"], "prediction": df[TARGET],
            "do_predict": df["do_predict"], "realised": realised,
        })[inside])
    return pd.concat(frames, ignore_index=True), timings


def scores(frame: pd.DataFrame) -> dict[str, float]:
    err = (frame["prediction"] - frame["realised"]).abs()
    per_pair = [spearmanr(g["prediction"], g["realised"]).statistic
                for _, g in frame.groupby("pair")]
    return {
        "mae": float(err.mean()),
        "spearman": float(spearmanr(frame["prediction"], frame["realised"]).statistic),
        "spearman_mean_per_pair": float(np.mean(per_pair)),
        "rows": int(len(frame)),
    }


def parse_overrides(items: list[str]) -> dict:
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        overrides[key] = json.loads(value) if value[:1] in "[{0123456789-tfn" else value
    return overrides


VARIANTS = {  # label -> FreqAI model class
    "default": "EnsembleRegressor",
    "seed000": "EnsembleRegressor",
    "lightgbm": "LightGBMRegressor",
}
LABELS = {"default": "(a) default ensemble", "seed000": "(b) seed-000 RF+XGB+LSTM",
          "lightgbm": "(c) LightGBMRegressor"}


def compare(results: dict[str, tuple[pd.DataFrame, dict]]) -> dict[str, dict]:
    """Scores of every variant on the rows where all of them predicted, and training seconds."""
    merged = None
    for variant, (frame, _) in results.items():
        part = frame.rename(columns={"prediction": f"prediction_{variant}",
                                     "do_predict": f"do_predict_{variant}"})
        merged = part if merged is None else merged.merge(
            part.drop(columns="realised"), on=["pair", "date"])
    merged = merged.dropna(subset=["realised", *(f"prediction_{v}" for v in results)])
    trusted = np.logical_and.reduce([merged[f"do_predict_{v}"] == 1 for v in results])
    table = {}
    for variant, (_, timing) in results.items():
        frame = merged.rename(columns={f"prediction_{variant}": "prediction"})
        windows = max(timing["trainings"], 1)
        table[variant] = {"all rows": scores(frame), "do_predict==1 (all)": scores(frame[trusted]),
                          "trainings": timing["trainings"],
                          "train_s_per_window": timing["train"] / windows,
                          "fit_s_per_window": timing["fit"] / windows}
    # No-skill reference on the same rows: a forecast of zero forward return (MAE only).
    table["zero_forecast_mae"] = {"all rows": float(merged["realised"].abs().mean()),
                                  "do_predict==1 (all)": float(merged.loc[trusted, "realised"]
                                                               .abs().mean())}
    return table


def print_table(table: dict[str, dict], timerange: str, pairs, overrides: dict) -> None:
    base = table["lightgbm"]
    print(f"\nTimerange {timerange}, pairs {pairs}, "
          f"{base['trainings']} pair-windows per model, overrides {overrides or 'none'}")
    print(f"{'model':<27}{'subset':<21}{'MAE':>9}{'MAE/LGB':>8}{'Spearman':>9}{'Sp/pair':>8}"
          f"{'rows':>6}{'train s/win':>12}{'x LGB':>7}{'fit s/win':>10}")
    for variant, row in table.items():
        if variant not in LABELS:
            continue
        for subset in ("all rows", "do_predict==1 (all)"):
            s = row[subset]
            ratio = s["mae"] / base[subset]["mae"]
            timing = (f"{row['train_s_per_window']:>12.2f}"
                      f"{row['train_s_per_window'] / base['train_s_per_window']:>7.2f}"
                      f"{row['fit_s_per_window']:>10.2f}" if subset == "all rows" else "")
            print(f"{LABELS[variant]:<27}{subset:<21}{s['mae']:>9.5f}{ratio:>8.3f}"
                  f"{s['spearman']:>9.4f}{s['spearman_mean_per_pair']:>8.4f}{s['rows']:>6}"
                  + timing)
    zero = table["zero_forecast_mae"]
    print(f"{'zero forecast (no skill)':<27}{'all rows':<21}{zero['all rows']:>9.5f}"
          f"{zero['all rows'] / base['all rows']['mae']:>8.3f}")
    print(f"{'zero forecast (no skill)':<27}{'do_predict==1 (all)':<21}"
          f"{zero['do_predict==1 (all)']:>9.5f}"
          f"{zero['do_predict==1 (all)'] / base['do_predict==1 (all)']['mae']:>8.3f}")
    if "default" in table:
        fast = table["default"]["train_s_per_window"] <= 3 * base["train_s_per_window"]
        print(f"\ndefault ensemble train time per pair-window within 3x LightGBM: {fast}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timerange", default="20250301-20250831")
    parser.add_argument("--pairs", nargs="+", help="subset of config.freqai.json's pairs")
    parser.add_argument("--skip", nargs="+", choices=["default", "seed000"], default=[],
                        help="leave out a variant (LightGBMRegressor always runs: the baseline)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an ensemble setting in model_training_parameters")
    parser.add_argument("--out", type=Path, help="also write the table as JSON")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)

    results = {}
    for variant, model in VARIANTS.items():
        if variant in args.skip:
            continue
        print(f"running {LABELS[variant]} ...", flush=True)
        results[variant] = run_model(variant, model, args.timerange, overrides, args.pairs)
    table = compare(results)
    pairs = sorted(results["lightgbm"][0]["pair"].unique())
    print_table(table, args.timerange, pairs, overrides)
    if args.out:
        args.out.write_text(json.dumps({"timerange": args.timerange, "pairs": pairs,
                                        "overrides": overrides, "results": table}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
