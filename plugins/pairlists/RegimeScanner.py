"""
Regime scanner pairlist: keep the top-N pairs by trend/regime confidence among liquid pairs.

First in the chain it generates the list from every active market quoted in the stake currency;
later in the chain it re-ranks and trims the incoming list. The scoring is ``plugins.quant.scanner``.
"""

import logging

import pandas as pd

from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.exchange.exchange_types import Tickers
from freqtrade.plugins.pairlist.IPairList import IPairList, PairlistParameter, SupportsBacktesting
from freqtrade.util import FtTTLCache

from plugins.integration.pairlist_data import (
    fetch_candles,
    historical_cutoff,
    is_historical,
    lookback_parameters,
)
from plugins.integration.settings import PAIRLIST_LOOKBACK_REFINE, validate_pairlist
from plugins.quant.regime import BULL_TREND, REGIMES, regime_startup_candles
from plugins.quant.scanner import DIRECTIONS, METHODS, scan


logger = logging.getLogger(__name__)

# Defaults that keep a list on the bundled data (2024-09..2025-08): 168 candles with min_score 0.65
# kept 0 of 10 pairs at the data's end (falling market, long-only "up" direction). Measured in
# docs/frequi.md.
DEFAULT_MIN_SCORE = 0.3
DEFAULT_LOOKBACK_PERIOD = 48
# The start of each drop reason written by plugins.quant.scanner.rank_pairs -> the setting behind it.
REASON_SETTINGS = (
    ("not enough valid history", "history (lookback_period)"),
    ("24h volume", "min_volume_usdt"),
    ("confidence", "min_score"),
    ("rank", "number_assets"),
)


class RegimeScanner(IPairList):
    """
    Ranks pairs by how steadily they trend (or by the pack's regime confidence) over the last
    ``lookback_period`` x ``lookback_timeframe`` candles and keeps the best ``number_assets``:

    - dropped: not enough valid candles (maturity), 24h quote volume below ``min_volume_usdt``,
      confidence below ``min_score`` (all logged once per refresh with the reason);
    - score = confidence, optionally blended with the volume percentile (``volume_weight``);
    - refreshed every ``refresh_period`` seconds (result cached in between; candles come from
      freqtrade's per-candle cache ``refresh_ohlcv_with_cache``).

    Live/dry-run as generator: tickers pre-filter the markets by 24h quoteVolume before any candle
    is downloaded (so ``needstickers`` is True only then). The volume rule itself is applied on
    candles, identically in every mode.

    Backtesting/hyperopt (and lookahead/recursive analysis): ranks on the candles that closed
    before the backtest's first candle (``plugins.integration.pairlist_data``), never on today's data, so it
    is causal (``SupportsBacktesting.YES``); the choice is then fixed for the whole backtest,
    like StaticPairList. It does not re-scan every ``refresh_period`` inside a backtest.
    """

    is_pairlist_generator = True
    supports_backtesting = SupportsBacktesting.YES

    # Ranges that available_parameters() (the FreqUI source of truth) cannot express.
    REFINE = {
        **PAIRLIST_LOOKBACK_REFINE,
        "number_assets": {"kind": "integer", "minimum": 1},
        "min_score": {"minimum": 0, "maximum": 1},
        "min_volume_usdt": {"minimum": 0},
        "volume_weight": {"minimum": 0, "maximum": 1},
        "regimes": {"options": tuple(REGIMES)},
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        name = self.name
        settings = validate_pairlist(
            name, self._pairlistconfig, self.available_parameters(), self.REFINE
        )
        self._pairlistconfig.setdefault("lookback_timeframe", "1h")
        self._pairlistconfig.setdefault("lookback_period", DEFAULT_LOOKBACK_PERIOD)
        self._init_lookback_config(required=True)
        self._number_assets = settings["number_assets"]
        self._min_score = settings["min_score"]
        self._min_volume = settings["min_volume_usdt"]
        self._volume_weight = settings["volume_weight"]
        self._refresh_period = settings["refresh_period"]
        self._method = settings["score_method"]
        self._direction = settings["direction"]
        self._regimes = settings["regimes"]
        if self._method == "regime" and self._lookback_period < regime_startup_candles():
            raise OperationalException(
                f"{name}: score_method 'regime' needs lookback_period >= "
                f"{regime_startup_candles()} candles (the regime detector's warm-up), "
                f"got {self._lookback_period}."
            )
        tf_minutes = timeframe_to_minutes(self._lookback_timeframe)
        self._volume_candles = max(1, 1440 // tf_minutes)
        if self._lookback_period + 1 < self._volume_candles or self._lookback_period < 2:
            raise OperationalException(
                f"{name}: lookback_period {self._lookback_period} x {self._lookback_timeframe} "
                f"must cover at least 24 hours ({self._volume_candles - 1} candles) and 2 candles."
            )
        self._stake_currency = self._config["stake_currency"]
        self._pair_cache: FtTTLCache = FtTTLCache(maxsize=100, ttl=self._refresh_period)
        if is_historical(self._config):
            cutoff = historical_cutoff(self._config, name)
            logger.info(
                f"{name}: backtest mode - ranking pairs on the {self._lookback_period} x "
                f"{self._lookback_timeframe} candles closed before {cutoff:%Y-%m-%d %H:%M} "
                "(the backtest start); the list stays fixed for the whole backtest."
            )

    @property
    def needstickers(self) -> bool:
        """Only as live generator: tickers pre-filter markets by volume before candles load."""
        return self._pairlist_pos == 0 and not is_historical(self._config)

    def short_desc(self) -> str:
        return (
            f"{self.name} - top {self._number_assets} pairs by {self._method} confidence "
            f">= {self._min_score} over {self._lookback_period} x {self._lookback_timeframe} "
            f"candles, 24h volume >= {self._min_volume:,.0f} {self._stake_currency}."
        )

    @staticmethod
    def description() -> str:
        return "Market scanner: top-N liquid pairs by trend / regime confidence from candles."

    @staticmethod
    def available_parameters() -> dict[str, PairlistParameter]:
        return {
            "number_assets": {
                "type": "number",
                "default": 20,
                "description": "Number of assets",
                "help": "Keep at most this many pairs (the best scores).",
            },
            "min_score": {
                "type": "number",
                "default": DEFAULT_MIN_SCORE,
                "description": "Minimum confidence",
                "help": "Drop pairs whose trend/regime confidence (0..1) is below this.",
            },
            "min_volume_usdt": {
                "type": "number",
                "default": 5_000_000,
                "description": "Minimum 24h volume",
                "help": "Drop pairs whose last-24h quote volume (close x volume) is below this.",
            },
            "score_method": {
                "type": "option",
                "default": "trend",
                "options": list(METHODS),
                "description": "Score method",
                "help": "trend: R^2 of a log-price line fit (fast, vectorized). "
                "regime: confidence of plugins.quant.regime.detect_regime on the last candle.",
            },
            "direction": {
                "type": "option",
                "default": "up",
                "options": list(DIRECTIONS),
                "description": "Trend direction",
                "help": "trend method: 'up' scores rising pairs only (spot), 'any' both ways.",
            },
            "regimes": {
                "type": "list",
                "default": [BULL_TREND],
                "description": "Accepted regimes",
                "help": "regime method: regimes whose confidence counts (others score 0).",
            },
            "volume_weight": {
                "type": "number",
                "default": 0.0,
                "description": "Volume weight",
                "help": "Ranking score = (1-w) x confidence + w x volume percentile (0..1).",
            },
            **lookback_parameters(DEFAULT_LOOKBACK_PERIOD, "that are scored (must cover 24 hours)"),
            **IPairList.refresh_period_parameter(),
        }

    def gen_pairlist(self, tickers: Tickers) -> list[str]:
        cached = self._pair_cache.get("generated")
        if cached is not None:
            return cached.copy()
        markets = self._exchange.get_markets(
            quote_currencies=[self._stake_currency], tradable_only=True, active_only=True
        )
        candidates = self.verify_blacklist(list(markets), logger.info)
        if tickers:
            candidates = [
                p for p in candidates
                if (tickers.get(p) or {}).get("quoteVolume") is not None
                and tickers[p]["quoteVolume"] >= self._min_volume
            ]
        pairlist = self.filter_pairlist(candidates, tickers)
        self._pair_cache["generated"] = pairlist.copy()
        return pairlist

    def filter_pairlist(self, pairlist: list[str], tickers: Tickers) -> list[str]:
        key = ("filtered", tuple(pairlist))
        cached = self._pair_cache.get(key)
        if cached is not None:
            return cached.copy()
        ranking = self.rank(pairlist)
        # Backtests silence pairlist logs; the one-shot choice there is worth showing.
        force = is_historical(self._config)
        for pair, row in ranking[ranking["reason"].notna()].iterrows():
            self.log_once(f"Removed {pair} from whitelist: {row['reason']}.", logger.info, force)
        kept = ranking.index[ranking["reason"].isna()].tolist()
        self.log_once(
            f"{self.name} kept {len(kept)} of {len(pairlist)} pairs: "
            + ", ".join(f"{p} ({ranking.at[p, 'score']:.2f})" for p in kept),
            logger.info,
            force,
        )
        if pairlist and not kept:
            logger.warning(self.empty_list_reason(ranking))
        self._pair_cache[key] = kept.copy()
        return kept

    def empty_list_reason(self, ranking: pd.DataFrame) -> str:
        """One line saying which filter removed how many pairs, and what to change."""
        settings = ranking["reason"].map(
            lambda reason: next(s for prefix, s in REASON_SETTINGS if reason.startswith(prefix))
        )
        counts = ", ".join(f"{n} by {setting}" for setting, n in settings.value_counts().items())
        # The pair that a lower min_score would let through first.
        weak = ranking.loc[settings == "min_score", "confidence"]
        best_text = (f"; best {self._method} confidence {weak.max():.2f} ({weak.idxmax()})"
                     if len(weak) else "")
        return (
            f"{self.name} kept none of {len(ranking)} pairs: {counts}{best_text}. Lower "
            f"min_score ({self._min_score}) or min_volume_usdt, or change lookback_period "
            f"({self._lookback_period}) / direction ({self._direction})."
        )

    def rank(self, pairlist: list[str]) -> pd.DataFrame:
        """The scanner's table for ``pairlist`` (see ``plugins.quant.scanner.rank_pairs``)."""
        frames = fetch_candles(
            self._exchange, self._config, pairlist, self._lookback_timeframe, self._lookback_period
        )
        return scan(
            frames,
            window=self._lookback_period + 1,
            volume_candles=self._volume_candles,
            min_score=self._min_score,
            min_volume=self._min_volume,
            number_assets=self._number_assets,
            volume_weight=self._volume_weight,
            method=self._method,
            direction=self._direction,
            accepted_regimes=self._regimes,
        )
