"""Freqtrade wiring of the market gate (``plugins.quant.market_gate``) for every pack strategy.

``MarketGateMixin`` (put it before ``IStrategy``) adds, through ``@informative``, the 1d and 4h
trend flags of the market leader (columns ``leader_gate_*``) and of the pair itself
(``pair_gate_*``); freqtrade merges them so a 1d / 4h value is only seen once its candle closed.
A strategy's trading plan calls three methods:

- ``self.add_market_gate(dataframe)`` at the end of ``populate_indicators``: the columns
  ``market_state`` (0 risk_off, 1 neutral, 2 risk_small, 3 risk_on; plotted in FreqUI),
  ``leader_state`` and ``pair_state``;
- ``self.gate_entries(dataframe)`` at the end of ``populate_entry_trend``: entries survive only in
  risk_on / risk_small, and their enter tag gets the state appended (``"ema_bb_breakout|risk_on"``);
- ``self.gate_exits(dataframe)`` at the end of ``populate_exit_trend``: an exit signal
  ``market_risk_off`` on every risk_off candle (the bear-market defence: nothing is held into a
  market-wide downtrend);

The mixin's ``custom_stake_amount`` halves the stake of a risk_small entry: it scales whatever
the next class in the MRO sizes (the ATR risk stake, or freqtrade's proposed stake). A strategy that
writes its own ``custom_stake_amount`` (the grid / DCA ladders) calls ``self.gated_stake`` itself.

Configuration (config.json, all optional)::

    "pack_market_gate": {"enabled": true, "leader": "BTC/USDT"}

``enabled: false`` turns the gate off (every candle risk_on, no gate exits). ``leader`` replaces
the leader pair of the ``@informative`` declarations (the decorator's asset is fixed when the
class is defined, so the mixin swaps it on the instance's copy of freqtrade's informative list).
A pair whose leader or own informative data is missing never enters (state risk_off).

Cost: each ``@informative`` merge is a share of the backtest, so the gate's own informatives hand
freqtrade only their flag columns (not the candles' OHLCV), and a strategy on 4h candles reads the
pair's 4h flag off its own candles instead of merging the same candles again.
"""

import dataclasses
import logging
from typing import Any

import numpy as np
from pandas import DataFrame, Series

from freqtrade.exceptions import OperationalException
from freqtrade.strategy import IntParameter, informative

from plugins.quant.hybrid_routing import scale_stake
from plugins.quant.market_gate import (
    DEFAULT_ENTRY_TAG,
    GATE_STATES,
    RISK_OFF,
    RISK_ON,
    RISK_SMALL,
    TAG_SEPARATOR,
    combined_state,
    daily_trend,
    intraday_trend,
    series_state,
    tag_stake_multiplier,
)
from plugins.strategy.strategy_params import OwnParametersMixin
from plugins.strategy.run_warnings import log_run_warnings


logger = logging.getLogger(__name__)

GATE_CONFIG_KEY = "pack_market_gate"
DEFAULT_LEADER = "BTC/{stake}"
LEADER_FMT = "leader_{column}_{timeframe}"
PAIR_FMT = "pair_{column}_{timeframe}"
GATE_EXIT_TAG = "market_risk_off"
_GATE_KEYS = {"enabled", "leader"}
DAILY_FLAG_COLUMNS = ["date", "gate_up", "gate_rising"]
INTRADAY_FLAG_COLUMNS = ["date", "gate_up"]
INTRADAY_TIMEFRAME = "4h"


def gate_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The validated ``pack_market_gate`` section: ``{"enabled": bool, "leader": str}``."""
    section = config.get(GATE_CONFIG_KEY, {})
    if not isinstance(section, dict):
        raise OperationalException(
            f'"{GATE_CONFIG_KEY}" must be an object like {{"enabled": true, "leader": "BTC/USDT"}}, '
            f"got {section!r}.")
    unknown = sorted(set(section) - _GATE_KEYS)
    if unknown:
        raise OperationalException(
            f'"{GATE_CONFIG_KEY}" has unknown key(s) {unknown}; valid keys are {sorted(_GATE_KEYS)}.')
    enabled = section.get("enabled", True)
    leader = section.get("leader", DEFAULT_LEADER)
    if not isinstance(enabled, bool):
        raise OperationalException(f'"{GATE_CONFIG_KEY}.enabled" must be true or false, got {enabled!r}.')
    if not isinstance(leader, str) or "/" not in leader:
        raise OperationalException(
            f'"{GATE_CONFIG_KEY}.leader" must be a pair like "BTC/USDT", got {leader!r}.')
    return {"enabled": enabled, "leader": leader}


class MarketGateMixin(OwnParametersMixin):
    """Leader + pair 1d/4h trend gate: ``market_state`` per candle, gated entries, risk-off exits."""

    # Indicator settings of the gate: declared as parameters (loadable), not searched.
    gate_ema_1d = IntParameter(20, 100, default=50, space="buy", optimize=False)
    gate_slope_days = IntParameter(1, 10, default=5, space="buy", optimize=False)
    gate_ema_4h = IntParameter(20, 100, default=50, space="buy", optimize=False)

    # A strategy that already merges the pair's own 4h / 1d candles (``@informative("4h")`` /
    # ``("1d")`` with the default column format) sets this and adds the pair's flags in those
    # methods (``_intraday_flags`` / ``_daily_flags``): every informative merge costs a share of
    # the backtest, so the pair's gate then reads ``gate_up_4h`` etc. instead of merging again.
    gate_pair_in_own_informatives = False

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        settings = gate_settings(config)
        self.market_gate_enabled = settings["enabled"]
        self.market_leader = settings["leader"]
        if self.market_leader != DEFAULT_LEADER:
            self._ft_informative = [
                (dataclasses.replace(inf, asset=self.market_leader) if inf.fmt == LEADER_FMT else inf, fn)
                for inf, fn in self._ft_informative
            ]
        if self.gate_pair_in_own_informatives:
            self._ft_informative = [(inf, fn) for inf, fn in self._ft_informative if inf.fmt != PAIR_FMT]

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        log_run_warnings(self)  # timeframe override, whitelist pairs without base-timeframe data
        if self._pair_4h_on_base_candles():
            # Here the timeframe is final (a config override is applied after __init__).
            self._ft_informative = [
                (inf, fn) for inf, fn in self._ft_informative
                if not (inf.fmt == PAIR_FMT and inf.timeframe == INTRADAY_TIMEFRAME)
            ]

    def _pair_4h_on_base_candles(self) -> bool:
        return self.timeframe == INTRADAY_TIMEFRAME and not self.gate_pair_in_own_informatives

    # --- informative columns (freqtrade merges them once each candle closed) ----------------------

    def _daily_flags(self, dataframe: DataFrame) -> DataFrame:
        flags = daily_trend(dataframe["close"], self.gate_ema_1d.value, self.gate_slope_days.value)
        dataframe["gate_up"] = flags["gate_trend_up_1d"]
        dataframe["gate_rising"] = flags["gate_rising_1d"]
        return dataframe

    def _intraday_flags(self, dataframe: DataFrame) -> DataFrame:
        dataframe["gate_up"] = intraday_trend(dataframe["close"], self.gate_ema_4h.value)
        return dataframe

    # The gate's own merges carry only the flags: every merged column is copied again and again
    # (the merge, the signal pass, the trim), and nothing reads the leader's OHLCV.
    @informative("1d", DEFAULT_LEADER, fmt=LEADER_FMT)
    def populate_gate_leader_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._daily_flags(dataframe)[DAILY_FLAG_COLUMNS]

    @informative("4h", DEFAULT_LEADER, fmt=LEADER_FMT)
    def populate_gate_leader_4h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._intraday_flags(dataframe)[INTRADAY_FLAG_COLUMNS]

    @informative("1d", fmt=PAIR_FMT)
    def populate_gate_pair_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._daily_flags(dataframe)[DAILY_FLAG_COLUMNS]

    @informative("4h", fmt=PAIR_FMT)
    def populate_gate_pair_4h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._intraday_flags(dataframe)[INTRADAY_FLAG_COLUMNS]

    # --- the trading plan's three calls ------------------------------------------------------------

    def add_market_gate(self, dataframe: DataFrame) -> DataFrame:
        """``leader_state``, ``pair_state`` and ``market_state`` (the lower of the two) per candle."""
        if not self.market_gate_enabled:
            for column in ("leader_state", "pair_state", "market_state"):
                dataframe[column] = RISK_ON
            return dataframe
        pair_4h = self.gate_flag_columns("pair")[2]
        if pair_4h not in dataframe and self._pair_4h_on_base_candles():
            # 4h candles are the strategy's own: the same flag freqtrade's merge would have given.
            dataframe[pair_4h] = intraday_trend(dataframe["close"], self.gate_ema_4h.value)
        states = {}
        missing = np.full(len(dataframe), np.nan)
        for who in ("leader", "pair"):
            # A missing informative column (no 1d/4h data merged) reads as unknown: risk_off.
            states[who] = series_state(*(
                dataframe[column] if column in dataframe else missing
                for column in self.gate_flag_columns(who)
            ))
            dataframe[f"{who}_state"] = states[who]
        dataframe["market_state"] = combined_state(states["leader"], states["pair"])
        return dataframe

    def gate_flag_columns(self, who: str) -> tuple[str, str, str]:
        """The merged columns holding ``who``'s ("leader" / "pair") daily up, daily rising and 4h
        up flags."""
        prefix = "" if who == "pair" and self.gate_pair_in_own_informatives else f"{who}_"
        return f"{prefix}gate_up_1d", f"{prefix}gate_rising_1d", f"{prefix}gate_up_4h"

    def gate_entries(self, dataframe: DataFrame) -> DataFrame:
        """Keep entries only in risk_on / risk_small and append the state to their enter tag."""
        if "enter_long" not in dataframe.columns:
            return dataframe
        state = self._states(dataframe)
        wanted = dataframe["enter_long"].fillna(0).to_numpy() == 1
        allowed = wanted & (state >= RISK_SMALL)
        tags = dataframe["enter_tag"] if "enter_tag" in dataframe else Series(None, index=dataframe.index)
        long_tags = tags.replace("", None).fillna(DEFAULT_ENTRY_TAG).astype(str)
        names = np.asarray(GATE_STATES, dtype=object)[state]
        dataframe["enter_long"] = np.where(allowed, 1, 0)
        # Tags of refused long signals are cleared; other tags (a short mirror's) stay.
        dataframe["enter_tag"] = Series(np.where(allowed, long_tags + TAG_SEPARATOR + names,
                                                 np.where(wanted, None, tags.to_numpy(dtype=object))),
                                        index=dataframe.index, dtype=object)
        return dataframe

    def gate_exits(self, dataframe: DataFrame) -> DataFrame:
        """An exit signal (``market_risk_off``) on every risk_off candle, beside the strategy's own."""
        if not self.market_gate_enabled:
            return dataframe
        risk_off = self._states(dataframe) == RISK_OFF
        own = dataframe["exit_long"].fillna(0).to_numpy() == 1 if "exit_long" in dataframe else np.zeros(len(dataframe), bool)
        if "exit_tag" not in dataframe:
            dataframe["exit_tag"] = None
        dataframe.loc[risk_off & ~own, "exit_tag"] = GATE_EXIT_TAG
        dataframe["exit_long"] = np.where(own | risk_off, 1, 0)
        return dataframe

    def _states(self, dataframe: DataFrame) -> np.ndarray:
        """``market_state`` codes; without the column: risk_on if the gate is off, else risk_off."""
        if "market_state" in dataframe:
            return dataframe["market_state"].to_numpy(dtype=int)
        return np.full(len(dataframe), RISK_OFF if self.market_gate_enabled else RISK_ON)

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                            max_stake, leverage, entry_tag, side, **kwargs) -> float:
        stake = super().custom_stake_amount(pair, current_time, current_rate, proposed_stake, min_stake,
                                            max_stake, leverage, entry_tag, side, **kwargs)
        return self.gated_stake(entry_tag, stake)

    def gated_stake(self, entry_tag: str | None, stake: float) -> float:
        """``stake`` scaled by the gate state in the trade's enter tag (risk_small: half)."""
        return scale_stake(stake, tag_stake_multiplier(entry_tag))
