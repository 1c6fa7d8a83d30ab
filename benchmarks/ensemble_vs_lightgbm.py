"""EnsembleRegressor vs freqtrade's built-in LightGBMRegressor on identical FreqAI windows.

Both models run through FreqAI's own backtesting loop (sliding windows from
``user_data/config.freqai.json``: same pairs, features, ``train_period_days``,
``backtest_period_days``, label, data pipeline, DI/SVM settings), in this process, offline, from
scratch (each model gets its own fresh ``identifier`` folder, deleted first). LightGBMRegressor
gets exactly the parameters of the ensemble's ``lightgbm`` member, so the comparison is
"ensemble vs that member alone".

Reported, on the same out-of-sample rows (every candle of every backtest window inside the
timerange, all pairs pooled, rows where the realised target is known):
- MAE of the prediction vs the realised target (mean forward return over label_period_candles);
- Spearman rank correlation of predictions vs realised target (pooled, and mean per pair);
- training time: sum of FreqAI ``train()`` calls (data pipeline + fit) and of ``fit()`` alone,
  and the ratio ensemble / LightGBM.

    FREQTRADE_PACK_OFFLINE=1 .venv/bin/python benchmarks/ensemble_vs_lightgbm.py \
        --timerange 20250301-20250831 [--set weighting=stacking --set refit=false]
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


def model_config(model: str, timerange: str, overrides: dict) -> dict:
    from freqtrade.configuration import Configuration
    from freqtrade.enums import RunMode

    args = {"config": CONFIGS, "user_data_dir": str(USER_DATA), "strategy": STRATEGY,
            "freqaimodel": model, "timerange": timerange, "export": "none", "cache": "none"}
    config = Configuration(args, RunMode.BACKTEST).get_config()
    quiet_logs()
    freqai = config["freqai"]
    params = freqai["model_training_parameters"]
    if model == "LightGBMRegressor":
        member = dict(params["members"]["lightgbm"])
        member.setdefault("n_jobs", int(params.get("n_jobs", 1)))
        member.setdefault("random_state", int(params.get("random_state", 0)))
        member.setdefault("verbosity", -1)
        freqai["model_training_parameters"] = member
    else:
        params.update(overrides)
    freqai["identifier"] = f"bench-{model}-{timerange}"
    freqai["activate_tensorboard"] = False
    shutil.rmtree(USER_DATA / "models" / freqai["identifier"], ignore_errors=True)
    return config


def run_model(model: str, timerange: str, overrides: dict) -> tuple[pd.DataFrame, dict]:
    """Predictions (pair, date, prediction, realised) and training seconds of one model."""
    from freqtrade.freqai.base_models.BaseRegressionModel import BaseRegressionModel
    from freqtrade.optimize.backtesting import Backtesting

    config = model_config(model, timerange, overrides)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timerange", default="20250301-20250831")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override an ensemble setting in model_training_parameters")
    args = parser.parse_args()
    overrides = parse_overrides(args.set)

    results = {}
    for model in ("EnsembleRegressor", "LightGBMRegressor"):
        print(f"running {model} ...", flush=True)
        results[model] = run_model(model, args.timerange, overrides)
    (ens, ens_t), (lgb, lgb_t) = results["EnsembleRegressor"], results["LightGBMRegressor"]
    both = ens.merge(lgb, on=["pair", "date"], suffixes=("_ens", "_lgb"))
    both = both.dropna(subset=["realised_ens", "prediction_ens", "prediction_lgb"])
    rows = {}
    for label, suffix in (("EnsembleRegressor", "_ens"), ("LightGBMRegressor", "_lgb")):
        frame = both.rename(columns={f"prediction{suffix}": "prediction",
                                     f"realised{suffix}": "realised"})
        rows[label] = {"all rows": scores(frame),
                       "do_predict==1 (both)": scores(frame[(both["do_predict_ens"] == 1)
                                                            & (both["do_predict_lgb"] == 1)])}

    print(f"\nTimerange {args.timerange}, pairs {sorted(both['pair'].unique())}, "
          f"{ens_t['trainings']} trainings per model, overrides {overrides or 'none'}")
    print(f"{'model':<20}{'subset':<22}{'MAE':>10}{'Spearman':>10}{'Sp/pair':>9}{'rows':>7}")
    for model, subsets in rows.items():
        for subset, s in subsets.items():
            print(f"{model:<20}{subset:<22}{s['mae']:>10.5f}{s['spearman']:>10.4f}"
                  f"{s['spearman_mean_per_pair']:>9.4f}{s['rows']:>7}")
    e, b = rows["EnsembleRegressor"]["all rows"], rows["LightGBMRegressor"]["all rows"]
    print(f"\nMAE ratio ensemble/LightGBM: {e['mae'] / b['mae']:.3f} (< 1 is better)")
    print(f"Spearman ensemble - LightGBM: {e['spearman'] - b['spearman']:+.4f} (> 0 is better)")
    print(f"train() seconds: ensemble {ens_t['train']:.1f}, LightGBM {lgb_t['train']:.1f}, "
          f"ratio {ens_t['train'] / lgb_t['train']:.2f}")
    print(f"fit() seconds:   ensemble {ens_t['fit']:.1f}, LightGBM {lgb_t['fit']:.1f}, "
          f"ratio {ens_t['fit'] / lgb_t['fit']:.2f}")
    better = e["mae"] < b["mae"] and e["spearman"] > b["spearman"]
    fast = ens_t["train"] <= 3 * lgb_t["train"]
    print(f"\nensemble better on MAE and rank correlation: {better}; "
          f"train time within 3x LightGBM: {fast}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
