"""FreqUI as a user drives it: log in, backtest RsiMeanReversion, chart it, evaluate a pack pairlist.

Every wait is for a page state or a server answer (generous timeouts, see conftest); what FreqUI
shows is compared with what freqtrade's REST API returns for the same run. Screenshots of each
step go to a temporary folder (printed; ``FREQUI_SCREENSHOT_DIR`` to choose it).
"""

import json

import pytest
from PIL import Image
from playwright.sync_api import Page, TimeoutError as PlaywrightTimeout, expect

from tests_ui.conftest import UI_TIMEOUT_MS


STRATEGY = "RsiMeanReversion"
# A month of the bundled data in which the (market-gated) strategy trades on several pairs.
START, END = "2025-07-01", "2025-08-01"
PAIRLIST = "RegimeScanner"
# Records every string the chart canvases draw (axis names, legend entries): ECharts paints on
# a <canvas>, so this is how the page can tell which subplots and series were really drawn.
RECORD_CANVAS_TEXT = """(() => {
  window.__drawnText = new Set();
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    window.__drawnText.add(String(text));
    return fillText.call(this, text, ...rest);
  };
})();"""
# A drawn line of a subplot series spans the chart; a legend swatch alone is far fewer pixels.
MIN_SERIES_PIXELS = 300
COLOUR_TOLERANCE = 24


def shot(page: Page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"))


def drawn_text(page: Page) -> set[str]:
    return set(page.evaluate("Array.from(window.__drawnText)"))


def type_date(box, day: str) -> None:
    """Replace a date box's text with ``day`` as a user types it.

    The box is pre-filled (FreqUI's default range); a select-all pressed while FreqUI still
    re-renders the form can be lost, and the day is then typed in front of the old date
    ("2025-07-012026-11-01", seen once in CI). So the box is emptied until it reads empty.
    """
    for _ in range(5):
        box.click()
        box.press("Control+a")
        box.press("Backspace")
        if box.input_value() == "":
            break
    expect(box).to_have_value("")
    box.press_sequentially(day)
    expect(box).to_have_value(day)
    box.press("Tab")


def pixels_of(image: Image.Image, hex_colour: str) -> int:
    """How many pixels of ``image`` are within COLOUR_TOLERANCE of ``hex_colour`` per channel."""
    import numpy as np

    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    return int((np.abs(pixels - target).max(axis=2) <= COLOUR_TOLERANCE).sum())


@pytest.fixture(scope="module")
def logged_in(page, webserver, screenshot_dir):
    page.add_init_script(RECORD_CANVAS_TEXT)
    page.goto(f"{webserver.url}/login")
    page.get_by_label("Username").fill(webserver.username)
    page.get_by_label("Password").fill(webserver.password)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("link", name="Backtest")).to_be_visible()
    shot(page, screenshot_dir, "01-logged-in")
    return page


@pytest.fixture(scope="module")
def backtest(logged_in, webserver, screenshot_dir):
    """RsiMeanReversion over START..END from the Backtest page; returns the API's result."""
    page = logged_in
    page.get_by_role("link", name="Backtest").click()
    page.get_by_role("button", name="Show popup").click()
    page.get_by_role("option", name=STRATEGY, exact=True).click()
    page.keyboard.press("Escape")
    for label, day in (("Start Date", START), ("End Date", END)):
        type_date(page.get_by_role("textbox", name=label), day)
    timerange = f"{START.replace('-', '')}-{END.replace('-', '')}"
    expect(page.get_by_text(f"Timerange: {timerange}")).to_be_visible()
    shot(page, screenshot_dir, "02-backtest-form")
    page.get_by_role("button", name="Start backtest").click()
    analyze = page.get_by_role("tab", name="Analyze result")
    try:
        expect(analyze).to_be_enabled(timeout=UI_TIMEOUT_MS)
    except AssertionError as err:
        raise AssertionError(f"backtest never finished in FreqUI:\n{webserver.log()[-3000:]}") from err
    answer = json.loads(webserver.api("backtest"))
    assert answer["status"] == "ended", answer.get("status_msg")
    return answer["backtest_result"]["strategy"][STRATEGY]


def test_backtest_summary_shows_the_trade_count(backtest, logged_in, screenshot_dir):
    page = logged_in
    total = backtest["total_trades"]
    assert total >= 3, f"{STRATEGY} traded {total} times in {START}..{END}: pick a busier month"
    page.get_by_role("tab", name="Analyze result").click()
    expect(page.get_by_role("heading", name=f"Backtest-result for {STRATEGY}")).to_be_visible()
    label = page.get_by_role("cell", name="Total trades / Daily Avg Trades", exact=True)
    row = page.get_by_role("row").filter(has=label)
    expect(row.get_by_role("cell").nth(1)).to_have_text(f"{total} / {backtest['trades_per_day']}")
    shot(page, screenshot_dir, "frequi-backtest")


def test_chart_draws_the_strategy_subplots(backtest, logged_in, webserver, screenshot_dir):
    page = logged_in
    plot_config = json.loads(webserver.api(f"plot_config?strategy={STRATEGY}"))
    subplots = plot_config["subplots"]
    assert subplots, "the API returned no subplots for the strategy"
    page.get_by_role("tab", name="Visualize result").click()
    expect(page.get_by_text(f"{STRATEGY} | {backtest['timeframe']}")).to_be_visible()
    page.get_by_role("button", name="Plot configurator").click()
    dialog = page.get_by_role("dialog", name="Plot Configurator")
    dialog.get_by_role("button", name="From strategy").click()
    for title in subplots:
        expect(dialog.get_by_role("option", name=title, exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Save").click()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # FreqUI sometimes keeps the frame it loaded before the plot config changed (subplot axes
    # without series); "Refresh chart" reloads the pair's analysed frame, as a user would.
    with page.expect_response(lambda r: "/pair_history" in r.url and r.ok, timeout=UI_TIMEOUT_MS):
        page.get_by_role("button", name="Refresh chart").click()
    series = [column for group in subplots.values() for column in group]
    # Axis names are the subplot titles, legend entries the series: wait until all are painted.
    names = [*subplots, *series]
    try:
        page.wait_for_function("names => names.every(n => window.__drawnText.has(n))", arg=names,
                               timeout=UI_TIMEOUT_MS)
    except PlaywrightTimeout:
        shot(page, screenshot_dir, "frequi-chart-failed")
        pytest.fail(f"never painted on the chart: {sorted(set(names) - drawn_text(page))}")
    shot(page, screenshot_dir, "frequi-chart")
    box = page.locator("canvas").first.locator("xpath=..").bounding_box()
    image = Image.open(screenshot_dir / "frequi-chart.png").crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"])))
    for title, group in subplots.items():
        counts = {column: pixels_of(image, settings["color"]) for column, settings in group.items()}
        assert max(counts.values()) >= MIN_SERIES_PIXELS, f"subplot {title!r} not drawn: {counts}"


def test_pairlist_editor_evaluates_a_pack_pairlist(logged_in, webserver, screenshot_dir):
    page = logged_in
    page.get_by_role("link", name="Pairlist Config").click()
    entry = page.get_by_role("listitem").filter(has=page.get_by_text(PAIRLIST, exact=True))
    expect(entry).to_contain_text("Market scanner")
    entry.get_by_role("button").click()
    expect(page.locator("code")).to_contain_text(f'"method": "{PAIRLIST}"')
    with page.expect_response(
        lambda r: "/pairlists/evaluate/" in r.url and b'"whitelist"' in r.body(),
        timeout=UI_TIMEOUT_MS,
    ) as response:
        page.get_by_role("button", name="Evaluate").click()
    whitelist = response.value.json()["result"]["whitelist"]
    assert whitelist, f"{PAIRLIST} with its defaults returned no pairs:\n{webserver.log()[-3000:]}"
    results = page.get_by_role("button", name="Results")
    expect(results).to_be_enabled()
    results.click()
    expect(page.locator("code")).to_have_text(json.dumps(whitelist, indent=2), use_inner_text=True)
    shot(page, screenshot_dir, "04-pairlist-evaluated")
