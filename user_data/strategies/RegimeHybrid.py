"""
Regime hybrid (issue 6, seeds 002 §8 and 003): one strategy that routes every pair, candle by
candle, to the pack's grid, DCA or trend logic according to the pair's market regime.

Trading plan (1h candles, long only on spot)
- Regime (plugins/quant/regime.py, on the pair's own candles): TIGHT_RANGE / WIDE_RANGE -> grid;
  QUIET_TRANSITION -> hold (exits only); VOLATILE_TRANSITION -> reduce exposure (no entries, open
  trades closed: ``sell_risk_off_exit``); BULL_TREND -> grid + DCA + trend; BEAR_TREND -> DCA only,
  never a trend entry. Routing uses ``regime_active`` (ADX hysteresis; a switch needs confidence
  >= regime_min_confidence (0.65) and regime_switch_cooldown candles since the last switch).
- Entry signals (each computed by its own pack code, IMPORTED, never copied):
  * trend: EmaBbTrend's entry (EMA cross within a window, close above the upper band, RSI, volume,
    NATR filter, weighted 1h/4h/1d trend score >= buy_trend_min) - RegimeHybrid subclasses it;
  * DCA: DcaTrader's entry (RSI(14) <= its buy_rsi with a valid ATR ladder template);
  * grid: GridTrader's ATR grid template is valid; the regime replaces GridTrader's ADX gate.
  plugins/quant/hybrid_routing.py keeps a signal only where the active regime's playbook allows its
  logic and the risk gate allows entries; if several fire, trend > DCA > grid names the trade.
  enter_tag = "<regime_active>:<logic>|<market gate state>" (e.g. "BEAR_TREND:dca|risk_small"),
  shown in FreqUI. buy_bull_grid = False (default) takes the grid out of BULL_TREND: a grid signal
  fires on every candle, so it took every pair before a trend breakout could (no trend trades).
- Market gate (plugins/strategy/market_gate.py, the same gate as every pack strategy): every
  routed entry also needs the leader and the pair out of a bear state on 1d/4h (risk_on full size,
  risk_small half); risk_off closes open trades. A 1h BEAR_TREND inside a market that is not
  risk_off still gets the DCA playbook at half size (seed 002's BEAR_TREND -> DCA).
- Stake: the logic's own sizing (trend: ATR-risk stake of EmaBbTrend; DCA: initial order of the
  funded ladder; grid: the lots above the start line) x the risk gate: risk_on 1.0, risk_small 0.5
  (WIDE_RANGE, BEAR_TREND, or a risk_on regime with active confidence < risk_min_confidence),
  neutral / risk_off 0 (no entry). A grid or DCA ladder holds at most 15 % of equity
  (grid_max_ladder_share / dca_max_ladder_share).
- Position management follows the logic in the trade's enter tag: grid and DCA trades run
  GridTrader's / DcaTrader's ladders (adjust_trade_position, custom_entry/exit_price,
  custom_stoploss, order_filled on delegate instances); ladder buys are skipped while the active
  regime no longer allows that logic (``buy_adds_follow_regime``). Trend trades use the
  staged exits (ATR stop, TP1 50 %, break-even, trailing, TP2) and EmaBbTrend's EMA cross-down exit
  (done in adjust_trade_position, so that exit signal does not block grid/DCA entries on the same
  candle). EmaBbTrend itself takes no profit; the hybrid keeps the plan because, checked on
  2020-2021 the same way, its trend trades without it made less: half-years 1.7 / 0.8 / 9.3 /
  2.1 % against 1.7 / 1.0 / 9.3 / 2.9 % with it (docs/validation.md, "EmaBbTrend without
  take-profit").
- Delegate parameters: GridTrader's and DcaTrader's searchable parameters are declared on this class
  too (prefix ``grid_`` / ``dca_``), so ``freqtrade hyperopt --strategy RegimeHybrid`` searches them;
  their values are copied onto the delegates before each use.
- Risk: static -25 % stop behind every plan; protections through ``pack_protections``
  (default DrawdownGuard + RegimeGuard on BTC/USDT's regime).
"""

import copy
import logging

from pandas import DataFrame, Series

from freqtrade.strategy import BooleanParameter, DecimalParameter, IntParameter

# Pack strategies are imported, not copied: freqtrade puts this folder on sys.path while it
# loads a strategy file, and only lists classes *defined* here (RegimeHybrid).
from DcaTrader import DcaTrader
from EmaBbTrend import EmaBbTrend
from GridTrader import RANGE_REGIMES, GridTrader

from plugins.quant.candles import merge_aligned_startup
from plugins.quant.hybrid_routing import (
    entry_stake_multiplier,
    logic_of_tag,
    reduce_exposure,
    regime_plot_code,
    route_entries,
    scale_stake,
)
from plugins.strategy.ladder_state import last_closed_candle
from plugins.strategy.order_timeouts import LADDER_ORDER_TIMEOUT, SIGNAL_ORDER_TIMEOUT, order_age_minutes
from plugins.quant.regime import BULL_TREND, allows, detect_regime, regime_startup_candles


logger = logging.getLogger(__name__)
TREND_EXIT_TAG = "ema_cross_down"
RISK_OFF_TAG = "regime_risk_off"
# The delegates' parameters, exposed on RegimeHybrid as <prefix><name> (hyperopt searches those with
# optimize=True; max_ladder_share is a risk setting, fixed by default).
DELEGATE_PARAMETERS = {
    "grid": (GridTrader, ("bounds_atr_mult", "step_atr_mult", "spacing", "recentre", "stop_pct",
                          "max_ladder_share")),
    "dca": (DcaTrader, ("buy_rsi", "max_steps", "step_scale", "trigger_atr_mult", "tp_atr_mult",
                        "stop_pct", "max_ladder_share")),
}


def _stake_of(result) -> float | None:
    """Stake part of an ``adjust_trade_position`` result (float, (stake, tag) or None)."""
    stake = result[0] if isinstance(result, tuple) else result
    return None if stake is None else float(stake)


class RegimeHybrid(EmaBbTrend):
    INTERFACE_VERSION = 3
    can_short = False
    # Inherited from EmaBbTrend: 1h, minimal_roi {"0": 100} (exits come from each logic's plan),
    # stoploss -0.25 (last resort), custom stoploss, position adjustment (the ladders and the
    # trend exit below need it).
    position_adjustment_enable = True
    # No position cap: EmaBbTrend's trims winners it holds without take-profit; the hybrid's
    # trend trades take profit and each ladder is capped by its own max_ladder_share.
    position_max_share = DecimalParameter(0.0, 0.5, default=0.0, decimals=2, space="sizing",
                                          optimize=False)
    # Trend trades keep the staged plan that EmaBbTrend dropped (its take-profit levels are
    # searched again): on 2020-2021 the hybrid without it made less (docstring, "Trend trades").
    take_profits = True
    # Grid ladders alternate buys and sells for as long as they run; DCA caps itself (max_steps).
    max_entry_position_adjustment = -1
    # Ladder orders rest until their ladder moves on (delegates' check_*_timeout); trend orders
    # keep the ordinary 10 minutes (check_*_timeout below).
    unfilledtimeout = LADDER_ORDER_TIMEOUT
    # EmaBbTrend's 1000 (per-pair EMAs, 4h/1d informative) covers the regime detector's warm-up.
    startup_candle_count = merge_aligned_startup(
        max(EmaBbTrend.startup_candle_count, regime_startup_candles()), timeframe_minutes=60)

    # Regime detector settings (plugins.quant.regime.detect_regime; computed in populate_indicators,
    # so not searched). ADX / ATR% thresholds are the seed's.
    regime_range_enter = IntParameter(14, 20, default=18, space="buy", optimize=False)
    regime_range_exit = IntParameter(20, 24, default=22, space="buy", optimize=False)
    regime_trend_exit = IntParameter(23, 28, default=25, space="buy", optimize=False)
    regime_trend_enter = IntParameter(28, 40, default=32, space="buy", optimize=False)
    regime_range_atr = DecimalParameter(0.005, 0.02, default=0.01, decimals=3, space="buy", optimize=False)
    regime_transition_atr = DecimalParameter(0.01, 0.04, default=0.02, decimals=3, space="buy", optimize=False)
    regime_min_confidence = DecimalParameter(0.5, 0.9, default=0.65, decimals=2, space="buy", optimize=False)
    regime_switch_cooldown = IntParameter(0, 48, default=12, space="buy", optimize=False)

    # Routing / risk gate (searched).
    risk_min_confidence = DecimalParameter(0.5, 0.9, default=0.65, decimals=2, space="buy")
    buy_adds_follow_regime = BooleanParameter(default=True, space="buy")
    # BULL_TREND's playbook is grid + DCA + trend; a grid signal fires on every candle, so it takes
    # the pair before a trend breakout can. False narrows BULL_TREND to DCA + trend.
    buy_bull_grid = BooleanParameter(default=False, space="buy")
    sell_risk_off_exit = BooleanParameter(default=True, space="sell")
    # Each ladder holds at most 15 % of equity here, not the delegates' own 5 % (grid) / 20 % (DCA):
    # the largest of 5/10/15/20 % whose every 2020-2021 half-year stayed within max DD 15 % and
    # loss -10 % (docs/validation.md, "Ladder share").
    grid_max_ladder_share = DecimalParameter(0.02, 0.5, default=0.15, decimals=2, space="buy", optimize=False)
    dca_max_ladder_share = DecimalParameter(0.02, 0.5, default=0.15, decimals=2, space="buy", optimize=False)

    plot_config = {
        "main_plot": {
            "ema_fast": {"color": "#ff7f0e"},
            "ema_slow": {"color": "#1f77b4"},
            "bb_upper": {"color": "#7f7f7f"},
            "grid_upper": {"color": "#2ca02c"},
            "grid_lower": {"color": "#d62728"},
            "dca_next_trigger": {"color": "#ef5350"},
            "dca_take_profit": {"color": "#43a047"},
        },
        "subplots": {
            "Regime": {
                "regime_code": {"color": "#00acc1", "type": "line"},
                "regime_label_code": {"color": "#9e9e9e", "type": "line"},
                "market_state": {"color": "#e65100", "type": "line"},
            },
            "Confidence / stake": {
                "regime_confidence": {"color": "#1f77b4"},
                "entry_stake_mult": {"color": "#2ca02c", "type": "bar"},
            },
            "ADX": {"adx": {"color": "#9467bd"}},
            "Trend score": {"trend_score": {"color": "#1f77b4"}, "htf_score": {"color": "#d62728"}},
        },
    }

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        # The pack's grid and DCA logic, run as delegates with their own parameters and ladders.
        self._ladder_logic = {"grid": GridTrader(config), "dca": DcaTrader(config)}
        self._sync_delegate_parameters()

    def _sync_delegate_parameters(self) -> None:
        """Copy this strategy's grid_* / dca_* parameter values onto the delegates."""
        for logic, (_, names) in DELEGATE_PARAMETERS.items():
            delegate = self._ladder_logic[logic]
            for name in names:
                getattr(delegate, name).value = getattr(self, f"{logic}_{name}").value

    default_protections = [
        {"method": "DrawdownGuard", "max_drawdown": 0.25, "stop_duration_candles": 24},
        {"method": "RegimeGuard", "pair": "BTC/USDT", "regimes": ["VOLATILE_TRANSITION"]},
    ]

    # --- signals -------------------------------------------------------------------------------

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)  # EmaBbTrend's indicators
        dataframe = detect_regime(
            dataframe,
            range_enter=float(self.regime_range_enter.value),
            range_exit=float(self.regime_range_exit.value),
            trend_exit=float(self.regime_trend_exit.value),
            trend_enter=float(self.regime_trend_enter.value),
            range_atr=float(self.regime_range_atr.value),
            transition_atr=float(self.regime_transition_atr.value),
            min_confidence=float(self.regime_min_confidence.value),
            switch_cooldown=int(self.regime_switch_cooldown.value),
        )
        # GridTrader's entry and ladder hooks read "atr" (EmaBbTrend's ATR(14)) and "grid_range".
        dataframe["adx"] = dataframe["regime_adx"]
        dataframe["grid_range"] = dataframe["regime_active"].isin(RANGE_REGIMES).astype(int)
        dataframe["regime_code"] = regime_plot_code(dataframe["regime_active"])
        dataframe["regime_label_code"] = regime_plot_code(dataframe["regime"])
        return dataframe

    @staticmethod
    def _entry_signal(dataframe: DataFrame, populate, metadata: dict):
        """Run one pack strategy's populate_entry_trend; return (dataframe, its long-entry mask)."""
        dataframe = dataframe.drop(columns=["enter_long", "enter_tag"], errors="ignore")
        dataframe = populate(dataframe, metadata)
        if "enter_long" in dataframe:
            fired = dataframe["enter_long"] == 1
        else:
            fired = Series(False, index=dataframe.index)
        return dataframe.drop(columns=["enter_long", "enter_tag"], errors="ignore"), fired

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        self._sync_delegate_parameters()  # hyperopt sets new values per epoch
        grid, dca = self._ladder_logic["grid"], self._ladder_logic["dca"]
        dataframe, trend_signal = self._entry_signal(dataframe, super().populate_entry_trend, metadata)
        dataframe, dca_signal = self._entry_signal(dataframe, dca.populate_entry_trend, metadata)
        # GridTrader's populate_entry_trend draws the grid template; its entry is "template valid
        # AND ADX < adx_max" - the regime replaces the ADX part here.
        dataframe, _ = self._entry_signal(dataframe, grid.populate_entry_trend, metadata)
        grid_signal = dataframe["grid_lower"].notna() & (dataframe["volume"] > 0)

        dataframe["entry_stake_mult"] = entry_stake_multiplier(
            dataframe["regime"], dataframe["regime_confidence"], dataframe["regime_active"],
            float(self.risk_min_confidence.value),
        )
        enter, tags = route_entries(
            dataframe["regime_active"],
            {"trend": trend_signal, "dca": dca_signal, "grid": grid_signal},
            dataframe["entry_stake_mult"],
            disabled=None if self.buy_bull_grid.value else {BULL_TREND: ("grid",)},
        )
        dataframe["enter_long"] = enter.astype(int)
        dataframe["enter_tag"] = tags
        return self.gate_entries(dataframe)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # EmaBbTrend's exit applies to trend trades only: keep it as a column that the trend
        # trades' adjust_trade_position reads (an exit signal would block every entry on its candle).
        dataframe = dataframe.drop(columns=["exit_long", "exit_tag"], errors="ignore")
        dataframe = super().populate_exit_trend(dataframe, metadata)
        dataframe["trend_exit"] = (dataframe.get("exit_long", 0) == 1).astype(int)
        dataframe = dataframe.drop(columns=["exit_long", "exit_tag"], errors="ignore")
        dataframe["exit_long"] = 0
        dataframe["exit_tag"] = None
        if self.sell_risk_off_exit.value:
            dataframe.loc[
                reduce_exposure(dataframe["regime_active"]) & (dataframe["volume"] > 0),
                ["exit_long", "exit_tag"],
            ] = (1, RISK_OFF_TAG)
        return self.gate_exits(dataframe)

    # --- helpers -------------------------------------------------------------------------------

    def _bind_delegates(self) -> None:
        for delegate in self._ladder_logic.values():
            delegate.dp = self.dp
            delegate.wallets = self.wallets

    def _delegate(self, trade):
        """The ladder strategy (GridTrader / DcaTrader instance) running ``trade``, or None (trend)."""
        return self._ladder_logic.get(logic_of_tag(trade.enter_tag))

    def _adds_allowed(self, pair: str, logic: str) -> bool:
        """May a ladder add to a ``logic`` trade now: the active regime allows the logic and the
        risk gate allows entries (last closed candle)."""
        row = last_closed_candle(self.dp, pair, self.timeframe)
        if row is None:
            return False
        regime = row.get("regime_active")
        return (
            isinstance(regime, str)
            and allows(regime, logic)
            and float(row.get("entry_stake_mult", 0.0)) > 0
        )

    # --- freqtrade hooks -----------------------------------------------------------------------

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)  # the pack's start-up warnings (MarketGateMixin)
        self._bind_delegates()

    def bot_loop_start(self, current_time, **kwargs) -> None:
        self._bind_delegates()
        self._sync_delegate_parameters()
        for delegate in self._ladder_logic.values():
            delegate.bot_loop_start(current_time=current_time, **kwargs)

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                            max_stake, leverage, entry_tag, side, **kwargs) -> float:
        """The entry logic's own stake x the risk gate's multiplier of the signal candle."""
        logic = logic_of_tag(entry_tag)
        row = last_closed_candle(self.dp, pair, self.timeframe)
        if logic is None or row is None:
            return 0.0
        args = (pair, current_time, current_rate, proposed_stake, min_stake, max_stake, leverage,
                entry_tag, side)
        delegate = self._ladder_logic.get(logic)
        if delegate is not None:
            stake = delegate.custom_stake_amount(*args, **kwargs)
        else:
            stake = super().custom_stake_amount(*args, **kwargs)
        return scale_stake(stake, float(row.get("entry_stake_mult", 0.0)))

    def adjust_trade_position(self, trade, current_time, current_rate, current_profit, min_stake,
                              max_stake, current_entry_rate, current_exit_rate, current_entry_profit,
                              current_exit_profit, **kwargs):
        args = (trade, current_time, current_rate, current_profit, min_stake, max_stake,
                current_entry_rate, current_exit_rate, current_entry_profit, current_exit_profit)
        delegate = self._delegate(trade)
        if delegate is None:  # trend trade: staged exits, then EmaBbTrend's cross-down exit
            result = super().adjust_trade_position(*args, **kwargs)
            if result is not None or trade.has_open_orders:
                return result
            row = last_closed_candle(self.dp, trade.pair, self.timeframe)
            if row is not None and row.get("trend_exit", 0) == 1:
                return -trade.stake_amount, TREND_EXIT_TAG
            return None
        result = delegate.adjust_trade_position(*args, **kwargs)
        stake = _stake_of(result)
        if (
            stake is not None
            and stake > 0
            and self.buy_adds_follow_regime.value
            and not self._adds_allowed(trade.pair, logic_of_tag(trade.enter_tag))
        ):
            return None
        return result

    def check_entry_timeout(self, pair, trade, order, current_time, **kwargs) -> bool:
        delegate = self._delegate(trade)
        if delegate is None:
            return order_age_minutes(order, current_time) >= SIGNAL_ORDER_TIMEOUT["entry"]
        return delegate.check_entry_timeout(pair, trade, order, current_time, **kwargs)

    def check_exit_timeout(self, pair, trade, order, current_time, **kwargs) -> bool:
        delegate = self._delegate(trade)
        if delegate is None:
            return order_age_minutes(order, current_time) >= SIGNAL_ORDER_TIMEOUT["exit"]
        return delegate.check_exit_timeout(pair, trade, order, current_time, **kwargs)

    def order_filled(self, pair, trade, order, current_time, **kwargs) -> None:
        delegate = self._delegate(trade)
        if delegate is not None:
            delegate.order_filled(pair, trade, order, current_time, **kwargs)

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, after_fill,
                        **kwargs):
        delegate = self._delegate(trade)
        if delegate is not None:
            return delegate.custom_stoploss(pair, trade, current_time, current_rate, current_profit,
                                            after_fill, **kwargs)
        return super().custom_stoploss(pair, trade, current_time, current_rate, current_profit,
                                       after_fill, **kwargs)

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side, **kwargs):
        delegate = self._delegate(trade) if trade is not None else None
        if delegate is None:
            return proposed_rate
        return delegate.custom_entry_price(pair, trade, current_time, proposed_rate, entry_tag, side,
                                           **kwargs)

    def custom_exit_price(self, pair, trade, current_time, proposed_rate, current_profit, exit_tag,
                          **kwargs):
        delegate = self._delegate(trade)
        if delegate is None:
            return proposed_rate
        return delegate.custom_exit_price(pair, trade, current_time, proposed_rate, current_profit,
                                          exit_tag, **kwargs)


# The delegates' parameters, declared on RegimeHybrid so hyperopt finds them (copies: freqtrade
# keeps a parameter's value on the object, which the delegate class must not share); one declared
# in the class body above keeps that declaration.
for _logic, (_cls, _names) in DELEGATE_PARAMETERS.items():
    for _name in _names:
        if f"{_logic}_{_name}" not in vars(RegimeHybrid):
            setattr(RegimeHybrid, f"{_logic}_{_name}", copy.deepcopy(getattr(_cls, _name)))
