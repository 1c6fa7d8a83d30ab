"""Scanner speed: rank 500 synthetic pairs x 30 days of 1h candles (target: under 2 s).

Measured in this process, median of ``--repeat`` runs, on the same synthetic candles:

- ``scan (trend)``: ``plugins.quant.scanner.scan`` as RegimeScanner runs it (stack the frames into
  2-D arrays, vectorized trend confidence, 24h volume, rank) - the pairlist's hot path.
- ``reference``: the same R^2 score computed pair by pair (one ``np.polyfit`` + ``np.corrcoef``
  per pair, a python loop), the shape of a per-coin scanner; reported as a ratio.
- ``scan (regime)``: the same ranking with ``plugins.quant.regime.detect_regime`` per pair.
- ``exit-scam checks``, and the ``RegimeScanner`` / ``CorrelationFilter`` pairlists themselves
  (built by freqtrade's PairListResolver on a mocked exchange serving the same candles).

    .venv/bin/python benchmarks/scanner_speed.py [--pairs 500] [--days 30] [--repeat 3]
"""

import argparse
import statistics
import time

from unittest.mock import MagicMock

import numpy as np
import pandas as pd
from freqtrade.enums import CandleType, RunMode
from freqtrade.resolvers import PairListResolver

from plugins.quant.candle_checks import largest_recent_move, recent_pump_and_dump
from plugins.quant.scanner import scan


def synthetic_frames(pairs: int, candles: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Random-walk OHLCV per pair: per-pair drift (some trend, some range) plus a common market
    factor with a per-pair beta (so return correlations spread over about 0 .. 0.9)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-01", periods=candles, freq="1h", tz="UTC")
    drift = rng.normal(0, 0.002, pairs)
    vol = rng.uniform(0.005, 0.03, pairs)
    beta = rng.uniform(0.0, 3.0, pairs)
    market = 0.01 * rng.standard_normal((candles, 1))
    own = vol * rng.standard_normal((candles, pairs))
    log_close = np.cumsum(drift + beta * market + own, axis=0)
    close = 10 * np.exp(log_close)
    spread = np.abs(rng.standard_normal((candles, pairs))) * vol * close
    volume = rng.uniform(1e3, 1e6, (candles, pairs))
    return {
        f"P{j:03d}/USDT": pd.DataFrame(
            {
                "date": dates,
                "open": close[:, j],
                "high": close[:, j] + spread[:, j],
                "low": close[:, j] - spread[:, j],
                "close": close[:, j],
                "volume": volume[:, j],
            }
        )
        for j in range(pairs)
    }


def reference_scores(frames: dict[str, pd.DataFrame], window: int) -> dict[str, float]:
    """Per-pair loop: R^2 of a log-price line fit, one pair at a time."""
    scores = {}
    for pair, frame in frames.items():
        y = np.log(frame["close"].to_numpy()[-window:])
        t = np.arange(len(y))
        slope = np.polyfit(t, y, 1)[0]
        r = np.corrcoef(t, y)[0, 1]
        scores[pair] = r * r if slope > 0 else 0.0
    return scores


def exit_scam_checks(frames: dict[str, pd.DataFrame], window: int) -> int:
    flagged = 0
    for frame in frames.values():
        close = frame["close"]
        flagged += largest_recent_move(close, window) > 0.2 or recent_pump_and_dump(
            close, window, 0.3, 0.2
        )
    return flagged


def mock_exchange(frames: dict[str, pd.DataFrame]) -> MagicMock:
    """An exchange whose refresh_ohlcv_with_cache serves ``frames`` (as the tests do)."""
    exchange = MagicMock()
    exchange.ohlcv_candle_limit.return_value = 1000
    exchange.refresh_ohlcv_with_cache.side_effect = lambda pairs, lookback_period: {
        p: frames[p[0]] for p in pairs
    }
    return exchange


def load_pairlist(name: str, frames: dict[str, pd.DataFrame], **params):
    """A pack pairlist built by freqtrade's PairListResolver, as in a dry-run bot."""
    config = {"candle_type_def": CandleType.SPOT, "runmode": RunMode.DRY_RUN,
              "stake_currency": "USDT"}
    return PairListResolver.load_pairlist(
        name, exchange=mock_exchange(frames), pairlistmanager=MagicMock(), config=config,
        pairlistconfig={"method": name, **params}, pairlist_pos=1,
    )


def timed(func, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    candles = args.days * 24
    frames = synthetic_frames(args.pairs, candles)
    settings = dict(
        window=candles, volume_candles=24, min_score=0.65, min_volume=5e6, number_assets=20
    )
    print(f"{args.pairs} pairs x {candles} 1h candles, median of {args.repeat} runs")

    scan_s, table = timed(lambda: scan(frames, **settings), args.repeat)
    ref_s, ref = timed(lambda: reference_scores(frames, candles), args.repeat)
    same = np.allclose(table["confidence"].reindex(list(ref)).to_numpy(), list(ref.values()))
    kept = int(table["reason"].isna().sum())
    print(f"scan (trend)      {scan_s:8.3f} s  kept {kept} pairs  (target < 2 s)")
    print(f"reference loop    {ref_s:8.3f} s  same scores: {same}  ratio reference/scan "
          f"{ref_s / scan_s:.1f}x")

    regime_s, _ = timed(
        lambda: scan(frames, method="regime", accepted_regimes=["BULL_TREND"], **settings), 1
    )
    print(f"scan (regime)     {regime_s:8.3f} s  (detect_regime per pair, 1 run)  "
          f"ratio to trend scan {regime_s / scan_s:.0f}x")

    scam_s, flagged = timed(lambda: exit_scam_checks(frames, 48), args.repeat)
    print(f"exit-scam checks  {scam_s:8.3f} s  flagged {flagged} pairs (48 candles)")

    pairs = list(frames)
    scanner = load_pairlist("RegimeScanner", frames, lookback_period=candles - 1, refresh_period=0)
    pl_s, kept_pairs = timed(lambda: scanner.filter_pairlist(pairs, {}), args.repeat)
    print(f"RegimeScanner     {pl_s:8.3f} s  kept {len(kept_pairs)} pairs (pairlist + mock "
          "exchange, no cache)")

    corr = load_pairlist("CorrelationFilter", frames, max_correlation=0.8, refresh_period=0)
    corr_s, n_kept = timed(lambda: corr.filter_pairlist(pairs, {}), args.repeat)
    print(f"CorrelationFilter {corr_s:8.3f} s  kept {len(n_kept)} of {len(pairs)} pairs "
          "(168 returns, max 0.8)")


if __name__ == "__main__":
    main()
