"""
Smart Money Concepts, multi-timeframe (seed 002 §6.4): buy discount retracements in a bullish
structure.

Trading plan
- Indicators (all causal, from plugins.quant.smc; a swing is known only `right` candles after its pivot):
  - 1d and 4h: market structure (BOS / CHOCH on closes beyond the last confirmed swing) -> trend.
  - 1h: liquidity sweeps of the last swing low, bullish CHOCH, premium/discount in the swing range.
  - 15m: fair value gaps with mitigation, BOS, last confirmed swing low, volume vs its 24h mean.
- Bias: 4h trend up (optional) and 1d trend up, not down or ignored (hyperoptable).
- Setup (1h): a bullish liquidity sweep and/or a bullish CHOCH within the last `setup_window` 1h
  candles, with price in the discount part (<= `discount_max`) of the 1h swing range.
- Trigger (15m): a tap into an active bullish FVG and/or a bullish 15m BOS/CHOCH, on volume
  >= `vol_mult` x its mean, with the close no more than `max_entry_dev` (2%) above the signal level
  (FVG top or broken level); the fill is also rejected if > `max_entry_dev` from the signal close.
- Risk: stop at the structure invalidation level minus `stop_buffer`: the wick low of the recent
  1h liquidity sweep when there is one below the price (`stop_source` = sweep_1h), else the last
  confirmed 15m swing low. It is read from the signal candle only, stored in the trade's custom
  data at entry and applied by custom_stoploss via stoploss_from_absolute. The risk must be within
  [`min_risk`, `max_risk`] of the close. 10% hard stop as a backstop.
- Exit: take profit at the R:R target open + `rr` x (open - stop) with `rr` >= 2 (custom_roi; net of
  fees), or on a bearish 1h CHOCH if `exit_on_choch`.

Swing lengths, FVG age and FVG minimum gap are structural (used to compute indicators), so they are
Parameters with optimize=False: hyperopt computes indicators once and tunes only the thresholds.

Data: the base timeframe is 15m; the bundled 15m data has 8 pairs (no AVAX/LINK) from 2025-01-01.
Backtest with `--config user_data/config.json --config user_data/config.15m.json` (the second file
only narrows the pair_whitelist to those 8 pairs; with config.json alone AVAX/LINK are skipped with
a "no history" warning).
"""

from datetime import datetime, timedelta

import numpy as np
from pandas import DataFrame

from freqtrade.exchange import timeframe_to_minutes, timeframe_to_prev_date
from freqtrade.persistence import Trade
from freqtrade.strategy import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    IStrategy,
    informative,
    stoploss_from_absolute,
)

from plugins.strategy.market_gate import MarketGateMixin
from plugins.strategy.order_timeouts import SIGNAL_ORDER_TIMEOUT
from plugins.strategy.pack_protections import ConfiguredProtections
from plugins.quant.candles import merge_aligned_startup
from plugins.quant.smc import bars_since, smc_features


STOP_KEY = "smc_stop"


def _structure(
    dataframe: DataFrame, left: int, right: int, columns: list[str], **kwargs
) -> DataFrame:
    """SMC features of ``dataframe`` with only ``columns`` kept (keeps merged frames lean)."""
    features = smc_features(dataframe, left=left, right=right, **kwargs)
    for column in columns:
        dataframe[column] = features[column]
    return dataframe


class SmcStructure(ConfiguredProtections, MarketGateMixin, IStrategy):
    INTERFACE_VERSION = 3

    timeframe = "15m"
    can_short = False
    # Exits: R:R target through custom_roi, stop through custom_stoploss; no fixed ROI.
    minimal_roi = {"0": 100}
    use_custom_roi = True
    stoploss = -0.10
    use_custom_stoploss = True
    use_exit_signal = True
    process_only_new_candles = True
    unfilledtimeout = SIGNAL_ORDER_TIMEOUT
    # 15m: 96-candle volume mean + 96-candle FVG age; the informatives get as many of *their*
    # candles (400 1h, 400 4h, 400 1d), enough for several confirmed swings on each.
    startup_candle_count = merge_aligned_startup(400, timeframe_minutes=15)

    # --- structure (indicator) parameters: fixed during hyperopt --------------------------------
    swing_15m = IntParameter(1, 5, default=2, space="buy", optimize=False)
    swing_1h = IntParameter(2, 6, default=3, space="buy", optimize=False)
    swing_4h = IntParameter(2, 6, default=3, space="buy", optimize=False)
    swing_1d = IntParameter(1, 5, default=2, space="buy", optimize=False)
    fvg_max_age = IntParameter(16, 192, default=96, space="buy", optimize=False)
    fvg_min_gap = DecimalParameter(0.0, 0.005, default=0.0005, decimals=4, space="buy",
                                   optimize=False)

    # --- bias / setup / trigger thresholds -------------------------------------------------------
    bias_1d = CategoricalParameter(["up", "not_down", "any"], default="up", space="buy")
    require_4h_up = BooleanParameter(default=True, space="buy")
    setup_kind = CategoricalParameter(["sweep", "choch", "either"], default="either", space="buy")
    setup_window = IntParameter(2, 24, default=12, space="buy")
    discount_max = DecimalParameter(0.3, 0.8, default=0.5, decimals=2, space="buy")
    trigger_kind = CategoricalParameter(["fvg", "bos", "either"], default="fvg", space="buy")
    vol_mult = DecimalParameter(0.3, 2.0, default=0.8, decimals=1, space="buy")
    max_entry_dev = DecimalParameter(0.005, 0.02, default=0.02, decimals=3, space="buy")
    stop_buffer = DecimalParameter(0.0, 0.005, default=0.001, decimals=3, space="buy")
    stop_source = CategoricalParameter(["swing_15m", "sweep_1h"], default="sweep_1h", space="buy")
    min_risk = DecimalParameter(0.002, 0.01, default=0.003, decimals=3, space="buy")
    max_risk = DecimalParameter(0.02, 0.06, default=0.04, decimals=3, space="buy")

    # --- exits -----------------------------------------------------------------------------------
    rr = DecimalParameter(2.0, 4.0, default=2.0, decimals=1, space="sell")
    exit_on_choch = BooleanParameter(default=False, space="sell")

    # Swings and breaks are drawn on the candle where they became known (a swing: `right` candles
    # after its pivot), which is what the strategy sees.
    plot_config = {
        "main_plot": {
            "swing_high": {"color": "#d62728", "type": "scatter", "scatterSymbolSize": 7},
            "swing_low": {"color": "#2ca02c", "type": "scatter", "scatterSymbolSize": 7},
            "break_level": {"color": "#1f77b4", "type": "scatter", "scatterSymbolSize": 8},
            "fvg_bull_top": {"color": "#43a047", "fill_to": "fvg_bull_bottom",
                             "fill_color": "rgba(0,160,0,0.15)"},
            "fvg_bull_bottom": {"color": "#43a047"},
            "last_swing_high_1h": {"color": "#ff7f0e"},
            "last_swing_low_1h": {"color": "#9467bd"},
            "sweep_low_1h": {"color": "#e377c2"},
            "smc_stop": {"color": "#d81b60", "type": "scatter", "scatterSymbolSize": 4},
        },
        "subplots": {
            "Bias": {"trend_1d": {"color": "#9467bd"}, "trend_4h": {"color": "#00acc1"}},
            "Market gate": {"market_state": {"color": "#e65100"}},
            "1h setup": {"range_position_1h": {"color": "#ff7f0e"},
                         "since_setup": {"color": "#2ca02c"}},
            "Volume": {"volume_ratio": {"color": "#7f7f7f", "type": "bar"}},
        },
    }

    # 96 x 15m candles = the same one-day halt as the 1h strategies' 24 candles.
    default_protections = [
        {"method": "DrawdownGuard", "max_drawdown": 0.25, "stop_duration_candles": 96}
    ]

    # --- indicators ------------------------------------------------------------------------------

    @informative("1d")
    def populate_indicators_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        n = self.swing_1d.value
        return _structure(dataframe, n, n, ["trend"])

    @informative("4h")
    def populate_indicators_4h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        n = self.swing_4h.value
        return _structure(dataframe, n, n, ["trend"])

    @informative("1h")
    def populate_indicators_1h(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        n = self.swing_1h.value
        dataframe = _structure(
            dataframe, n, n,
            ["trend", "choch", "sweep_bull", "sweep_bull_low", "range_position", "last_swing_high",
             "last_swing_low"],
        )
        dataframe["since_sweep"] = bars_since(dataframe["sweep_bull"] == 1)
        dataframe["sweep_low"] = dataframe["sweep_bull_low"].ffill()
        dataframe["since_choch"] = bars_since(dataframe["choch"] == 1)
        return dataframe

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        n = self.swing_15m.value
        dataframe = _structure(
            dataframe, n, n,
            ["swing_high", "swing_low", "last_swing_low", "bos", "choch", "break_level",
             "fvg_bull_top", "fvg_bull_bottom", "fvg_bull_tap"],
            fvg_min_gap=self.fvg_min_gap.value, fvg_max_age=self.fvg_max_age.value,
        )
        mean_volume = dataframe["volume"].rolling(96, min_periods=96).mean()
        dataframe["volume_ratio"] = dataframe["volume"] / mean_volume.where(mean_volume > 0)
        # The FVG top the tap hit is the one active on the previous candle.
        dataframe["tapped_top"] = dataframe["fvg_bull_top"].shift(1)
        return self.add_market_gate(dataframe)

    # --- signals ---------------------------------------------------------------------------------

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        df = dataframe
        trend_1d = df["trend_1d"]  # NaN (no daily history yet) never passes
        bias = {
            "up": trend_1d == 1,
            "not_down": trend_1d.notna() & (trend_1d != -1),
            "any": trend_1d.notna(),
        }[self.bias_1d.value]
        if self.require_4h_up.value:
            bias &= df["trend_4h"] == 1

        window = self.setup_window.value
        sweep = df["since_sweep_1h"] < window
        choch = df["since_choch_1h"] < window
        setup = {"sweep": sweep, "choch": choch, "either": sweep | choch}[self.setup_kind.value]
        df["since_setup"] = np.fmin(df["since_sweep_1h"], df["since_choch_1h"])
        setup &= df["range_position_1h"] <= self.discount_max.value

        dev = 1 + self.max_entry_dev.value
        fvg = (df["fvg_bull_tap"] == 1) & (df["close"] <= df["tapped_top"] * dev)
        bos = ((df["bos"] == 1) | (df["choch"] == 1)) & (df["close"] <= df["break_level"] * dev)
        trigger = {"fvg": fvg, "bos": bos, "either": fvg | bos}[self.trigger_kind.value]

        level = df["last_swing_low"]
        if self.stop_source.value == "sweep_1h":
            # Below the wick of the recent 1h liquidity sweep when there is one under the price.
            use_sweep = sweep & (df["sweep_low_1h"] < df["close"])
            level = df["sweep_low_1h"].where(use_sweep, level)
        stop = level * (1 - self.stop_buffer.value)
        risk = (df["close"] - stop) / df["close"]
        df["smc_stop"] = stop.where(
            (risk >= self.min_risk.value) & (risk <= self.max_risk.value)
        )
        df.loc[
            bias
            & setup
            & trigger
            & df["smc_stop"].notna()
            & (df["volume_ratio"] >= self.vol_mult.value)
            & (df["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, f"smc_{self.trigger_kind.value}")
        return self.gate_entries(df)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if self.exit_on_choch.value:
            dataframe.loc[
                (dataframe["choch_1h"] == -1) & (dataframe["volume"] > 0),
                ["exit_long", "exit_tag"],
            ] = (1, "choch_1h_bearish")
        return self.gate_exits(dataframe)

    # --- entry guard, stop and target ------------------------------------------------------------

    def _signal_row(self, pair: str, signal_date: datetime):
        """The analyzed candle dated ``signal_date`` (the entry signal candle), or None."""
        df, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        if df.empty:
            return None
        dates = df["date"]
        i = dates.searchsorted(signal_date)
        if i >= len(df) or dates.iloc[i] != signal_date:
            return None
        return df.iloc[i]

    def _signal_date(self, moment: datetime) -> datetime:
        """The candle whose close produced a signal acted on at ``moment``: the previous candle."""
        step = timedelta(minutes=timeframe_to_minutes(self.timeframe))
        return timeframe_to_prev_date(self.timeframe, moment) - step

    def confirm_trade_entry(self, pair: str, order_type: str, amount: float, rate: float,
                            time_in_force: str, current_time: datetime, entry_tag: str | None,
                            side: str, **kwargs) -> bool:
        row = self._signal_row(pair, self._signal_date(current_time))
        if row is None or not np.isfinite(row["smc_stop"]):
            return False
        # Entry no more than max_entry_dev from the signal price, and above the invalidation level.
        return row["smc_stop"] < rate <= row["close"] * (1 + self.max_entry_dev.value)

    def _stop_level(self, trade: Trade) -> float | None:
        """The invalidation level fixed at entry (from the signal candle), cached in the trade."""
        stop = trade.get_custom_data(STOP_KEY)
        if stop is None:
            row = self._signal_row(trade.pair, self._signal_date(trade.open_date_utc))
            if row is None or not np.isfinite(row["smc_stop"]):
                return None
            stop = float(row["smc_stop"])
            trade.set_custom_data(STOP_KEY, stop)
        return float(stop)

    def custom_stoploss(self, pair: str, trade: Trade, current_time: datetime, current_rate: float,
                        current_profit: float, after_fill: bool, **kwargs) -> float | None:
        stop = self._stop_level(trade)
        if stop is None:
            return None
        # 0 would mean "no change" to freqtrade: a price already under the stop exits right away.
        distance = stoploss_from_absolute(stop, current_rate, is_short=False,
                                          leverage=trade.leverage)
        return max(distance, 0.0001)

    def custom_roi(self, pair: str, trade: Trade, current_time: datetime, trade_duration: int,
                   entry_tag: str | None, side: str, **kwargs) -> float | None:
        stop = self._stop_level(trade)
        if stop is None or stop >= trade.open_rate:
            return None
        target = trade.open_rate + self.rr.value * (trade.open_rate - stop)
        return target / trade.open_rate - 1
