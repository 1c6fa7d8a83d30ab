"""
Seed 003's strategy library as one strategy: nine technical signals combined by an aggregation mode.

Trading plan (1h candles, long only on spot)
- Signals (plugins/quant/signals.py, each a direction -1/0/+1 with a confidence in [0, 1]):
  ema_atr, ema_cross, supertrend, donchian_breakout, rsi_momentum, stochastic_adx,
  bollinger_bands, keltner_squeeze, vwap_reversion. Members: a ``use_<signal>`` switch each.
- Aggregation (plugins/quant/vote.py): ``agg_mode`` first (the first member that fires, seed
  order), vote (majority of the voting members, at least ``vote_quorum``), weighted (per-member
  ``weight_<signal>``); a member votes only at confidence >= ``min_confidence`` (seed 003's
  STRATEGY_MIN_CONFIDENCE, 0.5) and the aggregate must reach it too.
- AI fusion (optional, with a FreqAI config: ``--config user_data/config.freqai.json
  --freqaimodel EnsembleRegressor``): the long vote's confidence is blended 65 / 35 with the model's
  prediction score (plugins/strategy/freqai_fusion.py, shared with AiFusion) and must still reach
  ``min_confidence``; without FreqAI the confidence stands alone.
- Entry: aggregate long (and its fused confidence >= ``min_confidence``), never against the weighted higher-timeframe trend (``htf_score`` >=
  ``buy_htf_min``, 4h + 1d), through the pack's market gate. Enter tag: mode and the agreeing
  members, e.g. ``vote:supertrend+donchian_breakout|risk_on``.
- Exit: aggregate short (``signal_exit``, only with ``exit_on_vote``), the gate's risk_off exit, or
  the staged plan in percent mode: the -5 % stop (seed 003). The seed's take-profits (TP1 +2 %
  closes 50 %, then break-even and a 3 % trailing stop, TP2 +5 %) are one switch away,
  ``take_profits`` (sell space), and off by default: they sold the trends the signals found.
  Chosen on 2020-2021; out of sample (2022-2025) the seed plan lost 8.55 % a year, stop only with
  the position cap below made 12.35 % (docs/signal-vote.md, "Stop only with a position cap").
- Risk (shared frame, plugins/strategy/atr_strategy.py): stake sized so the 5% stop costs
  sizing_risk of equity, at most sizing_max_share (7 %) per trade; a held position worth more than
  position_max_share (20 %) of equity is trimmed back to it (tag ``position_cap``); DrawdownGuard.
"""

from pandas import DataFrame

from freqtrade.strategy import BooleanParameter, CategoricalParameter, DecimalParameter, IntParameter

from plugins.quant.candles import merge_aligned_startup
from plugins.quant.signals import SIGNALS, all_signals
from plugins.quant.vote import MODES, aggregate
from plugins.strategy.atr_strategy import AtrManagedStrategy
from plugins.strategy.freqai_fusion import FreqAiFusionMixin
from plugins.strategy.staged_exits import EXIT_MODES


MEMBERS = tuple(SIGNALS)
DIRECTION_FMT = "vote_{}"
CONFIDENCE_FMT = "conf_{}"
EXIT_TAG = "signal_exit"
# Each member's vote is drawn on its own level (vote + 3 x rank) so nine -1/0/+1 lines stay apart.
VOTE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#0097a7")


def _member_parameters(namespace: dict) -> None:
    """Declare ``use_<signal>`` and ``weight_<signal>`` for every member (buy space)."""
    for name in MEMBERS:
        namespace[f"use_{name}"] = BooleanParameter(default=True, space="buy")
        namespace[f"weight_{name}"] = DecimalParameter(0.0, 2.0, default=1.0, decimals=1,
                                                       space="buy")


class SignalVote(FreqAiFusionMixin, AtrManagedStrategy):
    # EMAs (up to 26 on 1h, 50 for the 1h trend vote) converge and the supertrend's starting side
    # is forgotten well within 400 candles (checked with recursive-analysis).
    startup_candle_count = merge_aligned_startup(400, timeframe_minutes=60)

    agg_mode = CategoricalParameter(list(MODES), default="vote", space="buy")
    min_confidence = DecimalParameter(0.3, 0.9, default=0.5, decimals=2, space="buy")
    # 4 of the nine: chosen on 2020-01 -> 2022-01 only (train Calmar of quorum 2..6: -0.59, -0.39,
    # 0.52, -0.03, -0.07) and judged on 2022-01 -> 2025-08 (docs/signal-vote.md, "Quorum").
    vote_quorum = IntParameter(1, 6, default=4, space="buy")
    buy_htf_min = DecimalParameter(0.0, 0.6, default=0.0, decimals=1, space="buy")
    # Off by default: on 2025-02..08 the aggregate-short exit cut 228 of 403 trades for -52%
    # while the staged plan's exits made money; kept searchable.
    exit_on_vote = BooleanParameter(default=False, space="sell")
    _member_parameters(locals())
    # Stop only by default; True restores seed 003's TP1/break-even/trailing/TP2 plan.
    take_profits = BooleanParameter(default=False, space="sell")
    # At most 7 % of equity per trade: the largest of 5/7/10 % whose every 2020-2021 half-year
    # stayed within max DD 15 % and loss -10 % with stop-only exits and the 20 % position cap
    # (docs/signal-vote.md, "Stop only with a position cap"; the seed plan's was 10 %).
    sizing_max_share = DecimalParameter(0.05, 0.5, default=0.07, decimals=2, space="sizing")
    # A risk budget, not fitted: a position that grew to 20 % of equity and then halves in a crash
    # costs the wallet 10 %, within the 15 % half-year drawdown budget.
    position_max_share = DecimalParameter(0.1, 0.5, default=0.2, decimals=2, space="sizing",
                                          optimize=False)

    # Staged exits in percent mode (seed 003's levels); the ATR distances are unused there.
    exit_mode = CategoricalParameter(EXIT_MODES, default="percent", space="sell", optimize=False)
    exit_stop_pct = DecimalParameter(0.02, 0.08, default=0.05, decimals=3, space="sell")
    exit_tp1_pct = DecimalParameter(0.01, 0.04, default=0.02, decimals=3, space="sell")
    exit_tp2_pct = DecimalParameter(0.04, 0.12, default=0.05, decimals=3, space="sell")
    exit_trail_pct = DecimalParameter(0.01, 0.05, default=0.03, decimals=3, space="sell")
    exit_stop_atr = DecimalParameter(1.0, 3.5, default=2.0, decimals=1, space="sell", optimize=False)
    exit_tp1_atr = DecimalParameter(1.0, 4.0, default=2.0, decimals=1, space="sell", optimize=False)
    exit_tp2_extra_atr = DecimalParameter(1.0, 6.0, default=3.0, decimals=1, space="sell",
                                          optimize=False)
    exit_trail_atr = DecimalParameter(1.0, 4.0, default=2.5, decimals=1, space="sell",
                                      optimize=False)

    plot_config = {
        "main_plot": {},
        "subplots": {
            "Vote confidence": {"vote_confidence": {"color": "#1f77b4"},
                                "fused_confidence": {"color": "#9467bd"},
                                "vote_direction": {"color": "#2ca02c"}},
            "Member votes": {f"{DIRECTION_FMT.format(name)}_plot": {"color": color}
                             for name, color in zip(MEMBERS, VOTE_COLORS)},
            "Trend score": {"htf_score": {"color": "#d62728"}},
            "Market gate": {"market_state": {"color": "#e65100"}},
        },
    }

    # --- members and aggregation ---------------------------------------------------------------
    def members(self) -> list[str]:
        """The enabled members in seed order (all nine when every switch is off: never empty)."""
        chosen = [name for name in MEMBERS if getattr(self, f"use_{name}").value]
        return chosen or list(MEMBERS)

    def weights(self) -> dict[str, float]:
        return {name: float(getattr(self, f"weight_{name}").value) for name in MEMBERS}

    def add_votes(self, dataframe: DataFrame) -> DataFrame:
        """The aggregate of the enabled members: ``vote_direction``, ``vote_confidence``, tags."""
        members = self.members()
        directions = dataframe[[DIRECTION_FMT.format(name) for name in members]]
        confidences = dataframe[[CONFIDENCE_FMT.format(name) for name in members]]
        directions.columns = confidences.columns = members
        weights = self.weights()
        if not any(weights[name] > 0 for name in members):
            weights = dict.fromkeys(MEMBERS, 1.0)  # a hyperopt draw of all-zero weights
        result = aggregate(directions, confidences, mode=self.agg_mode.value,
                           min_confidence=float(self.min_confidence.value),
                           weights={name: weights[name] for name in members},
                           quorum=int(self.vote_quorum.value))
        dataframe["vote_direction"] = result.direction
        dataframe["vote_confidence"] = result.confidence
        dataframe["vote_members"] = result.members
        # Optional AI fusion (seed 003's 65 / 35): the long vote's confidence blended with the
        # model's score must still reach min_confidence. Without FreqAI it is the confidence itself.
        long_confidence = result.confidence.where(result.direction == 1, 0.0)
        dataframe["fused_confidence"] = self.fuse(dataframe, long_confidence)
        return dataframe

    # --- freqtrade -----------------------------------------------------------------------------
    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = self.start_freqai(dataframe, metadata)
        signals = all_signals(dataframe)
        columns = {}
        for rank, (name, decision) in enumerate(signals.items()):
            columns[DIRECTION_FMT.format(name)] = decision["direction"]
            columns[CONFIDENCE_FMT.format(name)] = decision["confidence"]
            columns[f"{DIRECTION_FMT.format(name)}_plot"] = decision["direction"] + 3 * rank
        dataframe = dataframe.assign(**columns)
        self.add_atr(dataframe)
        self.add_trend_scores(dataframe)
        return self.add_market_gate(dataframe)

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        self.add_votes(dataframe)
        enter = (
            (dataframe["vote_direction"] == 1)
            & (dataframe["fused_confidence"] >= self.min_confidence.value)
            & (dataframe["htf_score"] >= self.buy_htf_min.value)
            & (dataframe["volume"] > 0)
        )
        dataframe.loc[enter, "enter_long"] = 1
        dataframe.loc[enter, "enter_tag"] = f"{self.agg_mode.value}:" + dataframe.loc[
            enter, "vote_members"].astype(str)
        return self.gate_entries(dataframe)

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        if "vote_direction" not in dataframe:
            self.add_votes(dataframe)
        dataframe.loc[
            self.exit_on_vote.value & (dataframe["vote_direction"] == -1)
            & (dataframe["volume"] > 0),
            ["exit_long", "exit_tag"],
        ] = (1, EXIT_TAG)
        return self.gate_exits(dataframe)
