"""Every pack strategy's ``plot_config`` is something FreqUI draws, legibly, from real columns.

FreqUI 3.1.1 reads ``main_plot`` / ``subplots`` and, per series, ``color``, ``type`` (line, bar,
scatter), ``scatterSymbolSize`` and ``fill_to``; freqtrade's own ``plot-dataframe`` adds
``fill_color`` / ``fill_label``. Anything else (plotly keys such as ``"plotly": {"mode": ...}``)
is ignored by FreqUI, which then draws the series as a line: isolated points vanish.
Columns are checked against what ``advise_all_indicators`` really produces on the bundled
candles, through freqtrade's own DataProvider (so informative pairs are merged as in a backtest).
"""

import json
from types import SimpleNamespace

import pytest
from matplotlib.colors import to_rgb

from plugins.integration.market_snapshot import read_snapshot, snapshot_path
from tests.conftest import STRATEGY_DIR, USER_DATA, pack_strategy_names


SERIES_KEYS = {"color", "type", "scatterSymbolSize", "fill_to", "fill_color", "fill_label"}
SERIES_TYPES = {"line", "bar", "scatter"}
TOP_LEVEL_KEYS = {"main_plot", "subplots"}
# FreqUI's chart background is #000 on the dark theme and #fff on the light one.
MIN_CONTRAST = 2.5
# A subplot title longer than this overlaps its neighbours' axis labels in FreqUI.
MAX_TITLE_CHARS = 18
# FreqAI adds these to the frame itself (prediction outlier flag, dissimilarity index); the
# strategy's own set_freqai_targets adds the "&-" targets.
FREQAI_OUTPUT_COLUMNS = {"do_predict", "DI_values"}
FREQAI_CONFIG = USER_DATA / "config.freqai.json"
PAIR = "BTC/USDT"
TIMERANGE = "20250401-20250601"


def relative_luminance(color: str) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_black_and_white(color: str) -> tuple[float, float]:
    """WCAG contrast ratios of the colour against #000 and #fff."""
    lum = relative_luminance(color)
    return (lum + 0.05) / 0.05, 1.05 / (lum + 0.05)


def test_contrast_helper_rejects_the_colours_that_vanished():
    # The measured failures: black on the dark theme, near-white on the light theme.
    assert min(contrast_on_black_and_white("black")) < MIN_CONTRAST
    assert min(contrast_on_black_and_white("#e0e0e0")) < MIN_CONTRAST
    assert min(contrast_on_black_and_white("#1f77b4")) >= MIN_CONTRAST


def series_of(plot_config: dict):
    """(panel, column, series settings) for every plotted series."""
    for column, settings in plot_config.get("main_plot", {}).items():
        yield "main_plot", column, settings
    for title, group in plot_config.get("subplots", {}).items():
        for column, settings in group.items():
            yield title, column, settings


def load_strategy(name: str):
    from freqtrade.configuration import TimeRange
    from freqtrade.data.dataprovider import DataProvider
    from freqtrade.data.history import load_data
    from freqtrade.enums import CandleType, RunMode
    from freqtrade.resolvers import StrategyResolver

    config = {"strategy": name, "strategy_path": str(STRATEGY_DIR), "user_data_dir": USER_DATA,
              "datadir": USER_DATA / "data" / "binance", "dataformat_ohlcv": "feather",
              "stake_currency": "USDT", "dry_run": True, "max_open_trades": 5,
              "stake_amount": "unlimited", "candle_type_def": CandleType.SPOT,
              "runmode": RunMode.BACKTEST, "timerange": TIMERANGE,
              "exchange": {"name": "binance", "pair_whitelist": [PAIR]},
              # FreqAI's settings (label horizon for the targets) with training off.
              "freqai": {**json.loads(FREQAI_CONFIG.read_text())["freqai"], "enabled": False}}
    strategy = StrategyResolver.load_strategy(config)
    strategy.freqai_info = config["freqai"]  # what load_freqAI_model sets when FreqAI is on
    # Informative merges ask DataProvider.market() for the pair's base/quote: the bundled market
    # snapshot answers that without building an exchange (which would need the network).
    markets = read_snapshot(snapshot_path(USER_DATA, "binance", "spot"))
    strategy.dp = DataProvider(config, exchange=SimpleNamespace(markets=markets))
    strategy.ft_bot_start()
    data = load_data(config["datadir"], strategy.timeframe, [PAIR],
                     timerange=TimeRange.parse_timerange(TIMERANGE),
                     startup_candles=strategy.startup_candle_count, data_format="feather")
    return strategy, data


@pytest.fixture(scope="module", params=pack_strategy_names())
def analysed(request):
    """(strategy, columns its indicators and signals produce on the bundled data)."""
    strategy, data = load_strategy(request.param)
    frame = strategy.advise_all_indicators(data)[PAIR]
    frame = strategy.advise_exit(strategy.advise_entry(frame, {"pair": PAIR}), {"pair": PAIR})
    columns = set(frame.columns)
    if hasattr(strategy, "set_freqai_targets"):
        # FreqAI is off here (training is slow and has its own tests): its output columns are
        # the ones FreqAI adds, plus the strategy's real targets.
        targets = strategy.set_freqai_targets(frame.copy(), {"pair": PAIR})
        columns |= FREQAI_OUTPUT_COLUMNS | {c for c in targets.columns if c.startswith("&-")}
    return strategy, columns


def test_plot_config_uses_only_frequi_keys(analysed):
    strategy, _ = analysed
    config = strategy.plot_config
    assert set(config) <= TOP_LEVEL_KEYS, f"{strategy.get_strategy_name()}: {set(config) - TOP_LEVEL_KEYS}"
    assert config.get("subplots"), "every pack strategy draws at least one subplot"
    for panel, column, settings in series_of(config):
        where = f"{strategy.get_strategy_name()} {panel}/{column}"
        assert set(settings) <= SERIES_KEYS, f"{where}: FreqUI ignores {set(settings) - SERIES_KEYS}"
        assert settings.get("type", "line") in SERIES_TYPES, where
        if "scatterSymbolSize" in settings:
            assert settings.get("type") == "scatter", f"{where}: symbol size without scatter"


def test_plot_config_colours_show_on_both_themes(analysed):
    strategy, _ = analysed
    for panel, column, settings in series_of(strategy.plot_config):
        on_black, on_white = contrast_on_black_and_white(settings["color"])
        assert min(on_black, on_white) >= MIN_CONTRAST, (
            f"{strategy.get_strategy_name()} {panel}/{column} {settings['color']}: contrast "
            f"{on_black:.2f} on dark, {on_white:.2f} on light"
        )


def test_plot_config_subplot_titles_are_short(analysed):
    strategy, _ = analysed
    for title in strategy.plot_config["subplots"]:
        assert len(title) <= MAX_TITLE_CHARS, f"{strategy.get_strategy_name()}: {title!r}"


def test_plot_config_columns_exist(analysed):
    strategy, columns = analysed
    for panel, column, settings in series_of(strategy.plot_config):
        assert column in columns, f"{strategy.get_strategy_name()} {panel}: no column {column!r}"
        if "fill_to" in settings:
            assert settings["fill_to"] in columns, f"{strategy.get_strategy_name()} fill_to {column}"
