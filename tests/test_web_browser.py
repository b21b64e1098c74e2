"""The workbench page of ``iadsim serve`` in a real browser: Playwright driving Debian's chromium
(``make test`` installs it with apt-get when missing; never a Playwright browser download).

The server is the real app (uvicorn in a thread on a free port, a temporary data dir); the tests
load the page, draw coverage for a bundled example, move the altitude slider (pixel test on the
coverage colour, the side panel's areas, the redraw time measured in the browser), run a small
Monte Carlo job to completion over Server-Sent Events, scrub its replay and open a comparison
report. Screenshots go to ``test-artifacts/`` (gitignored) and are checked to be non-blank and to
show the coverage colour.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import shutil
import threading
import time
import warnings
from importlib import resources
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if importlib.util.find_spec("playwright") is None:
    pytest.skip("playwright is not installed (pip install -e '.[test]')", allow_module_level=True)
if not os.path.exists(CHROMIUM):
    pytest.skip(
        "Debian's chromium is missing: `make test` installs it as root with "
        "`apt-get install chromium fonts-liberation`",
        allow_module_level=True,
    )

from playwright.sync_api import Page, expect  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--enable-unsafe-swiftshader",  # software WebGL for MapLibre, asked for explicitly
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A small window: chromium draws WebGL in software here (SwiftShader on a 2-core machine), where
# one frame of a 1280x800 map costs ~0.3 s; a GPU browser is far faster.
VIEWPORT = {"width": 1100, "height": 720}
TIMEOUT_MS = 120_000  # a fresh clone compiles numba on the first job and replay

# Counts pixels of an element screenshot in the page itself (no image library): those where the
# engagement red or the detection blue dominates; the basemap's land, sea, borders, labels and
# markers are greys, beige and light blue, which neither test matches.
PIXEL_STATS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height).data;
  let red = 0, blue = 0, distinct = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], g = d[i + 1], b = d[i + 2];
    if (r - g > 40 && r - b > 30) red++;
    if (b - r > 50 && b - g > 25) blue++;
    if (i % 400 === 0) distinct.add((r << 16) | (g << 8) | b);
  }
  return {red, blue, distinct: distinct.size, total: d.length / 4};
}"""


# The screen position (in the map) of a shot-not-taken event that is the top feature there.
FIND_NO_ENGAGEMENT = """() => {
  for (const e of iadsim.replay.events) {
    if (e.kind !== 'no_engagement') continue;
    const p = map.project([e.lon, e.lat]);
    const c = map.getCanvas();
    if (p.x < 10 || p.y < 10 || p.x > c.clientWidth - 10 || p.y > c.clientHeight - 10) continue;
    const hits = map.queryRenderedFeatures(p, {layers: ['replay-events']});
    if (hits.length && hits[0].properties.kind === 'no_engagement') return {x: p.x, y: p.y};
  }
  return null;
}"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium instead of a Playwright download."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """The real app on a free port (uvicorn in a thread; port 0: the OS picks one)."""
    import uvicorn

    from iadsim.web.app import create_app

    app = create_app(data_dir=tmp_path_factory.mktemp("serve-data"))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(server_url):
    return server_url


@pytest.fixture
def workbench(page: Page, server_url) -> Page:
    """The page loaded, its basemap drawn and the examples listed."""
    page.set_viewport_size(VIEWPORT)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server_url + "/")
    page.wait_for_function("window.iadsim && window.iadsim.ready && window.iadsim.mapReady")
    return page


def load_example(page: Page, example_id: str) -> None:
    page.select_option("#example-select", example_id)
    page.click("#example-load")
    page.wait_for_function("window.iadsim.coverage !== null && window.iadsim.lastRedrawMs !== null")


def set_altitude(page: Page, altitude_m: int) -> dict:
    """Moves the altitude slider to ``altitude_m`` and waits for the redraw; the redraw record."""
    stops = page.evaluate("ALTITUDES_M")
    n = page.evaluate("window.iadsim.redraws.length")
    page.locator("#altitude").fill(str(stops.index(altitude_m)))
    page.wait_for_function(f"window.iadsim.redraws.length > {n}")
    return page.evaluate("window.iadsim.redraws[window.iadsim.redraws.length - 1]")


def assert_fast_redraws(page: Page, records: list[dict], altitudes: tuple[int, int]) -> None:
    """Moves the slider between ``altitudes`` until each has been redrawn (fetch, polygons, the
    next idle frame, timed in the browser) in under 0.5 s, up to five times each.

    The suite runs its tests two at a time on two cores, here beside other work, and chromium
    draws WebGL in software (SwiftShader: ~0.1-0.3 s a frame): one slow redraw there says
    nothing about the page. When the machine is overloaded (1-minute load average above its
    core count) the bound is 1.5 s, which still fails when a move recomputes the per-site
    passes (seconds)."""
    for _ in range(5):
        for altitude in altitudes:
            records.append(set_altitude(page, altitude))
        best = {a: min(r["ms"] for r in records if r["altitude_m"] == a) for a in altitudes}
        if max(best.values()) < 500:
            return
    overloaded = os.getloadavg()[0] > (os.cpu_count() or 1)
    if overloaded and max(best.values()) < 1500:
        warnings.warn(
            f"coverage redraws took {best} ms (best of 5) on an overloaded machine "
            f"(load {os.getloadavg()[0]:.1f}); the bound is 500 ms",
            stacklevel=2,
        )
        return
    raise AssertionError(f"coverage redraw over 0.5 s: best {best} ms; all: {records}")


def wait_idle(page: Page) -> None:
    """Waits for the map to draw a frame with everything loaded (a repaint, then idle)."""
    page.evaluate(
        "() => new Promise(r => { map.once('idle', () => r(true)); map.triggerRepaint(); })"
    )


def map_pixels(page: Page, name: str) -> dict:
    """A screenshot of the map (saved under test-artifacts/) and its pixel counts."""
    ARTIFACTS.mkdir(exist_ok=True)
    png = page.locator("#map").screenshot(path=ARTIFACTS / f"{name}.png")
    return page.evaluate(PIXEL_STATS, base64.b64encode(png).decode())


def test_page_loads_with_the_offline_basemap_and_the_examples(workbench: Page):
    page = workbench
    assert page.evaluate("window.iadsim.errors") == []
    options = page.locator("#example-select option")
    assert options.count() >= 3
    page.screenshot(path=_artifact("page-empty.png"))
    stats = map_pixels(page, "map-basemap")
    assert stats["distinct"] > 3, "the basemap screenshot is blank"
    # countries drawn: land colour in the middle of the default view (Anatolia)
    assert page.evaluate("map.queryRenderedFeatures({layers: ['countries-fill']}).length") > 0


def test_coverage_redraws_with_the_altitude_slider_in_under_half_a_second(workbench: Page):
    page = workbench
    load_example(page, "ankara")
    expect(page.locator("#scenario-name")).to_contain_text("Ankara")
    expect(page.locator(".site-marker")).to_have_count(3)
    low = set_altitude(page, 30)
    low_km2 = float(page.locator("#coverage-summary").get_attribute("data-detection-km2"))
    low_px = map_pixels(page, "coverage-ankara-30m")
    high = set_altitude(page, 10000)
    high_km2 = float(page.locator("#coverage-summary").get_attribute("data-detection-km2"))
    high_px = map_pixels(page, "coverage-ankara-10000m")
    page.screenshot(path=_artifact("page-coverage.png"))

    # the radar horizon grows with altitude: more area in the panel and more coloured pixels
    assert high_km2 > 1.5 * low_km2 > 0
    assert high_px["blue"] + high_px["red"] > 1.2 * (low_px["blue"] + low_px["red"])
    assert high_px["red"] > 1000 and high_px["blue"] > 1000, high_px
    # the per-site passes are computed once: later altitudes only threshold them
    assert_fast_redraws(page, [low, high], (30, 10000))
    # the engagement layer hidden: no red left
    page.uncheck("#show-engagement")
    wait_idle(page)
    assert map_pixels(page, "coverage-ankara-detection-only")["red"] < 50


@pytest.mark.slow
def test_terrain_coverage_redraws_in_under_half_a_second(workbench: Page):
    page = workbench
    load_example(page, "raid_patriot_networked")
    page.check("#terrain")
    page.wait_for_function("window.iadsim.redraws.some(r => r.terrain)")
    records = [set_altitude(page, 100)]
    expect(page.locator("#coverage-status")).to_contain_text("over terrain")
    assert map_pixels(page, "coverage-terrain-100m-agl")["blue"] > 1000
    assert_fast_redraws(page, records, (1000, 300))


def test_scenario_error_shows_next_to_the_field(workbench: Page):
    page = workbench
    load_example(page, "ankara")
    lat = page.locator('[data-field="sites[0].lat"]')
    lat.fill("123")
    page.click("#sites-apply")
    error = page.locator("#site-form .field-error")
    expect(error).to_contain_text("lat")
    expect(page.locator("#scenario-error")).to_be_visible()
    assert "invalid" in (lat.get_attribute("class") or "")


def test_a_yaml_error_names_its_line_in_the_editor(workbench: Page):
    page = workbench
    load_example(page, "ankara")
    page.click("#yaml-details summary")
    text = page.locator("#yaml-editor").input_value()
    page.locator("#yaml-editor").fill(text.replace("system: s-400", "system: s-999"))
    page.click("#yaml-apply")
    expect(page.locator("#yaml-error")).to_contain_text("line ")
    expect(page.locator("#yaml-error")).to_contain_text("s-999")
    line = int(page.locator("#yaml-error").inner_text().split()[1].rstrip(":"))
    assert "s-999" in text.replace("system: s-400", "system: s-999").splitlines()[line - 1]


def test_dragging_a_site_moves_it_and_redraws_its_coverage(workbench: Page):
    page = workbench
    load_example(page, "ankara")
    before = page.evaluate("iadsim.scenario.sites[0].lon")
    n = page.evaluate("iadsim.redraws.length")
    pin = page.locator(".site-marker .pin").first
    box = pin.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x + 8 * i, y)
    page.mouse.up()
    page.wait_for_function(f"iadsim.scenario.sites[0].lon > {before} + 0.1")
    page.wait_for_function(f"iadsim.redraws.length > {n}")
    expect(page.locator('[data-field="sites[0].lon"]')).not_to_have_value(str(before))


@pytest.mark.slow
def test_run_a_job_and_scrub_its_replay(workbench: Page):
    page = workbench
    load_example(page, "raid_s400_standalone")
    page.fill("#runs", "3")
    page.click("#run-start")
    expect(page.locator("#run-state")).to_contain_text("done", timeout=180_000)
    expect(page.locator("#charts svg")).to_have_count(3)
    page.wait_for_function("window.iadsim.replay !== null")
    replay = page.evaluate(
        "({n: iadsim.replay.threats.length, start: iadsim.replay.start_s,"
        " end: iadsim.replay.end_s})"
    )
    assert replay["n"] > 0 and replay["end"] > replay["start"]
    slider = page.locator("#replay-time")
    early = replay["start"] + 0.1 * (replay["end"] - replay["start"])
    slider.fill(str(int(early)))
    n_early = page.evaluate("window.iadsim.replayFeatures")
    slider.fill(str(int(replay["end"])))
    n_end = page.evaluate("window.iadsim.replayFeatures")
    assert n_end > n_early
    expect(page.locator("#replay-clock")).to_contain_text(f"{int(replay['end']):,}")
    wait_idle(page)
    page.screenshot(path=_artifact("page-replay.png"))
    assert map_pixels(page, "replay-end")["distinct"] > 3
    expect(page.locator("#downloads a", has_text="CZML").first).to_be_visible()

    # hover on a shot not taken: its reason in a popup
    point = page.evaluate(FIND_NO_ENGAGEMENT)
    assert point is not None, "no shot-not-taken event visible on the map"
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".event-popup")
    expect(popup).to_contain_text("reason: ")
    expect(popup).to_contain_text("does not engage")
    page.screenshot(path=_artifact("page-replay-hover.png"))


def test_cancel_a_running_job(workbench: Page):
    page = workbench
    load_example(page, "raid_s400_standalone")
    page.fill("#runs", "5000")
    page.click("#run-start")
    expect(page.locator("#run-state")).to_contain_text("running", timeout=120_000)
    page.click("#run-cancel")
    expect(page.locator("#run-state")).to_contain_text("cancelled", timeout=30_000)
    expect(page.locator("#run-cancel")).to_be_disabled()
    expect(page.locator("#replay-load")).to_be_disabled()


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@pytest.mark.slow
def test_compare_two_uploaded_scenarios_and_open_the_report(workbench: Page, tmp_path):
    page = workbench
    # the two raid examples over a smooth Earth (no terrain passes: a faster report)
    examples = Path(str(resources.files("iadsim") / "data" / "examples"))
    paths = []
    for name in ("raid_s400_standalone", "raid_patriot_networked"):
        text = (examples / f"{name}.yaml").read_text(encoding="utf-8")
        path = tmp_path / f"{name}-smooth.yaml"
        path.write_text(text.replace("dem: anatolia-globe.tif", "dem: null"), encoding="utf-8")
        paths.append(path)
    ids = []
    for path in paths:
        n = page.evaluate("iadsim.loaded.length")
        page.set_input_files("#upload", str(path))
        page.wait_for_function(f"iadsim.loaded.length > {n} && iadsim.coverage !== null")
        ids.append(page.evaluate("iadsim.scenario.scenario_id"))
    # the reference is the scenario shown (Patriot), against the S-400 uploaded first
    page.select_option("#compare-select", f"scenario:{ids[0]}")
    page.fill("#runs", "2")
    page.click("#compare-start")
    link = page.locator("#report-link")
    expect(link).to_be_visible(timeout=300_000)
    expect(page.locator("#compare-state")).to_contain_text("done")
    page.screenshot(path=_artifact("page-compare.png"))
    with page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    report.set_viewport_size(VIEWPORT)
    expect(report.locator("h1").first).to_be_visible()
    assert "S-400" in report.content() and "Patriot" in report.content()
    report.screenshot(path=_artifact("report.png"))
    expect(page.locator("#downloads a", has_text="report.html")).to_be_visible()
