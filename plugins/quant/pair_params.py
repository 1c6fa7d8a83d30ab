"""Per-pair indicator periods ("optimal EMA per pair", seed 001): a committed table strategies read.

Table format (``user_data/strategies/ema_periods.json``)::

    {"fitted_on": {...how and on which candles...},
     "RsiMeanReversion": {"default": {"ema": 100}, "pairs": {"BTC/USDT": {"ema": 150}, ...}},
     "EmaBbTrend": {"default": {"ema_fast": 20, "ema_slow": 50}, "pairs": {...}}}

A pair missing from ``pairs`` uses ``default``. Regenerate (offline, from the bundled candles)::

    .venv/bin/python -m plugins.commands.fit_pair_params --timerange 20240914-20250131 \
        --out user_data/strategies/ema_periods.json

The fit is a per-pair grid search over a few candidate periods, scored by the mean forward return
(``horizon`` candles) after each strategy's core signal on the fit window; a candidate needs
``min_signals`` signals to count, otherwise the default stays. It is deliberately simple and
in-sample on the fit window: fit on candles *before* the range you evaluate on (the committed
table is fitted on 2024-09-14..2025-01-31, before the demo's 2025-02-01..2025-08-31). The
freqtrade alternative - one ``freqtrade hyperopt --pairs X`` run per pair - fits the same table
with a full backtest per epoch, at many times the cost.
"""

import json
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import talib


RSI_EMA_CANDIDATES = (50, 100, 150, 200)
CROSS_CANDIDATES = ((10, 30), (20, 50), (20, 100), (50, 100))
DEFAULTS = {"RsiMeanReversion": {"ema": 100}, "EmaBbTrend": {"ema_fast": 20, "ema_slow": 50}}


def load_pair_table(path: Path, strategy: str) -> dict:
    """The ``{"default": ..., "pairs": ...}`` section of ``strategy`` in the table at ``path``.

    Raises ValueError with one line saying what is wrong and how to fix it: missing file, not
    JSON, not an object, no section, a section or pair entry that is not an object, a period
    that is not an integer >= 2. Every period is checked here, so a broken entry fails at
    start-up (``PairTable.load``), not on the first candle of that pair.
    """
    path = Path(path)
    fix = f"fix it or regenerate it with `python -m plugins.commands.fit_pair_params --out {path}`"
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"Per-pair parameter table {path} not found; regenerate it with "
                         f"`python -m plugins.commands.fit_pair_params --out {path}`.") from None
    except (OSError, ValueError) as err:
        raise ValueError(
            f"Per-pair parameter table {path} is not valid JSON ({err}); {fix}."
        ) from None
    if not isinstance(table, dict):
        raise ValueError(f"Per-pair parameter table {path} must be a JSON object "
                         f"(strategy name -> section), got a {type(table).__name__}; {fix}.")
    section = table.get(strategy)
    if not isinstance(section, dict) or not isinstance(section.get("default"), dict):
        raise ValueError(f'{path} has no "{strategy}" section with a "default" object; {fix}.')
    pairs = section.setdefault("pairs", {})
    if not isinstance(pairs, dict) or not all(isinstance(v, dict) for v in pairs.values()):
        raise ValueError(f'{path}: "{strategy}"."pairs" must be an object of '
                         f'{{"PAIR": {{"key": period}}}} entries; {fix}.')
    for where, entry in (("default", section["default"]), *pairs.items()):
        for key, value in entry.items():
            _check_period(value, key, where, path)
    return section


def _check_period(value, key: str, pair: str, path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"period {key!r} for {pair} must be an integer >= 2, got {value!r}"
                         + (f" (in {path})" if path else ""))
    return value


def pair_setting(section: dict, pair: str, key: str) -> int:
    """``key`` for ``pair`` from a table section, falling back to the section's default."""
    value = section["pairs"].get(pair, {}).get(key, section["default"].get(key))
    return _check_period(value, key, pair, None)


class PairTable:
    """Lazily loaded table section: ``PairTable(path, "MyStrategy").get("BTC/USDT", "ema")``.

    Declared as a strategy class attribute; the file is read on first use (not at import), once.
    The pack's start-up hook calls ``load()`` right after freqtrade loads the strategy, so a
    broken table stops the run with one line before any candle is processed.
    """

    def __init__(self, path: Path, strategy: str):
        self.path, self.strategy = Path(path), strategy
        self._section: dict | None = None

    def load(self) -> dict:
        """The table section (read once); ValueError with one line when the table is broken."""
        if self._section is None:
            self._section = load_pair_table(self.path, self.strategy)
        return self._section

    def get(self, pair: str, key: str) -> int:
        return pair_setting(self.load(), pair, key)

    @contextmanager
    def replaced_by(self, section: dict):
        """Read ``section`` (e.g. a table fitted on an earlier span) instead of the file in the block.

        ``ftpack-validate`` judges each window with a table fitted only on candles before it; the
        committed file is fitted on one fixed span and would be in-sample (or from the future)
        for most history windows.
        """
        previous = self._section
        self._section = section
        try:
            yield self
        finally:
            self._section = previous


def pair_tables_of(obj) -> list[PairTable]:
    """The ``PairTable`` attributes declared on ``obj``'s class and its bases, each once."""
    found = {id(value): value for cls in type(obj).__mro__ for value in vars(cls).values()
             if isinstance(value, PairTable)}
    return list(found.values())


# --- fitting (offline tool; uses future candles by design, never called by a strategy) -----------


def forward_return(close: pd.Series, horizon: int) -> pd.Series:
    return close.shift(-horizon) / close - 1.0


def _best(scores: dict, min_signals: int):
    usable = {k: v for k, v in scores.items() if v[1] >= min_signals and np.isfinite(v[0])}
    return max(usable, key=lambda k: usable[k][0]) if usable else None


def fit_rsi_ema(candles: pd.DataFrame, candidates: Sequence[int] = RSI_EMA_CANDIDATES,
                rsi_buy: float = 29, slope_candles: int = 24, horizon: int = 24,
                min_signals: int = 10) -> int | None:
    """EMA period whose "RSI(14) <= rsi_buy while the EMA rises" signals had the best forward return.

    "Rising" = EMA now above its value ``slope_candles`` ago (the strategy's trend filter).
    """
    close = candles["close"].astype(float)
    rsi = talib.RSI(close, timeperiod=14)
    fwd = forward_return(close, horizon)
    scores = {}
    for period in candidates:
        ema = talib.EMA(close, timeperiod=period)
        signal = (rsi <= rsi_buy) & (ema > ema.shift(slope_candles)) & fwd.notna()
        mean = float(fwd[signal].mean()) if signal.any() else np.nan
        scores[period] = (mean, int(signal.sum()))
    return _best(scores, min_signals)


def fit_cross_emas(candles: pd.DataFrame, candidates=CROSS_CANDIDATES, horizon: int = 48,
                   min_signals: int = 5) -> tuple[int, int] | None:
    """(fast, slow) EMA pair whose upward crosses had the best mean forward return."""
    close = candles["close"].astype(float)
    fwd = forward_return(close, horizon)
    scores = {}
    for fast, slow in candidates:
        above = talib.EMA(close, timeperiod=fast) > talib.EMA(close, timeperiod=slow)
        signal = above & ~above.shift(1, fill_value=True) & fwd.notna()
        mean = float(fwd[signal].mean()) if signal.any() else np.nan
        scores[(fast, slow)] = (mean, int(signal.sum()))
    return _best(scores, min_signals)


def fit_table(datadir: Path, pairs: Sequence[str], timerange: str, timeframe: str = "1h") -> dict:
    start, end = (pd.Timestamp(t, tz="UTC") for t in timerange.split("-"))
    table = {
        "fitted_on": {
            "timerange": timerange, "timeframe": timeframe, "data": str(datadir),
            "method": "per-pair grid search, mean forward return after the core signal "
                      "(plugins/quant/pair_params.py)",
        },
        **{name: {"default": dict(d), "pairs": {}} for name, d in DEFAULTS.items()},
    }
    for pair in pairs:
        path = Path(datadir) / f"{pair.replace('/', '_')}-{timeframe}.feather"
        candles = pd.read_feather(path)
        candles = candles[(candles["date"] >= start) & (candles["date"] < end)].reset_index(drop=True)
        if (ema := fit_rsi_ema(candles)) is not None:
            table["RsiMeanReversion"]["pairs"][pair] = {"ema": ema}
        if (cross := fit_cross_emas(candles)) is not None:
            table["EmaBbTrend"]["pairs"][pair] = {"ema_fast": cross[0], "ema_slow": cross[1]}
    return table
