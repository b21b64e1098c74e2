"""The coverage map: a latitude/longitude graticule whose labels name the lines where they
cross the frame (checked against pyproj's inverse projection, also around a pole and across
the 180th meridian), detection and engagement told apart, and labels that do not overlap."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from iadsim.coverage import (
    EnvelopeSpec,
    RadarSpec,
    SiteSpec,
    compute_coverage,
    compute_coverage_multi,
)
from iadsim.examples import example_path
from iadsim.report.figure import with_fonts
from iadsim.report.graticule import lat_text, lon_text
from iadsim.report.labels import label_boxes, overlapping_pairs
from iadsim.report.maps import DETECTION_COLOUR, ENGAGEMENT_COLOUR, coverage_map_figure
from iadsim.scenario import load_scenario

LABEL = re.compile(r"^(\d+(?:\.\d+)?)°([NSEW]?)$")


@pytest.fixture(scope="module")
def ankara():
    scn = load_scenario(example_path("ankara.yaml"))
    return compute_coverage(scn, 10000, resolution_km=8)


def _single_site(lat, lon, range_m=300e3):
    omni = dict(min_elevation_deg=-90.0, max_elevation_deg=90.0)
    env = EnvelopeSpec("m", 2e3, 0.4 * range_m, 10.0, 20e3)
    site = SiteSpec("s", "test", lat, lon, (RadarSpec("r", 10.0, range_m, **omni),), 0, (env,))
    return compute_coverage_multi(None, [3000.0], sites=[site], resolution_km=8.0)[0]


def _edge_labels(info):
    """(edge, position in km along it, text) of every graticule label drawn on the map."""
    ax = info["ax"]
    axes = {"bottom": ax.xaxis, "left": ax.yaxis}
    for child in ax.child_axes:
        axes["top" if child._orientation == "x" else "right"] = (
            child.xaxis if child._orientation == "x" else child.yaxis
        )
    out = []
    for edge, axis in axes.items():
        for pos, text in zip(axis.get_ticklocs(), axis.get_ticklabels(), strict=True):
            out.append((edge, float(pos), text.get_text()))
    return out


def _check_labels_name_their_lines(result, info):
    """Each label's text is the longitude or latitude (pyproj inverse) of its point on the
    frame: a meridian's label its longitude, a parallel's its latitude."""
    grid = result.grid
    x0, y0, x1, y1 = (b / 1000 for b in grid.bounds)
    labels = _edge_labels(info)
    assert labels
    for edge, pos, text in labels:
        m = LABEL.match(text)
        assert m, text
        x, y = {"bottom": (pos, y0), "top": (pos, y1), "left": (x0, pos), "right": (x1, pos)}[edge]
        lon, lat = (float(v) for v in grid.to_wgs84.transform(x * 1e3, y * 1e3))
        if m.group(2) in ("N", "S") or (m.group(2) == "" and abs(lat) < 1e-3):
            assert lat_text(round(lat / 1e-3) * 1e-3) == text, (edge, pos, text, lat)
        else:
            value = float(m.group(1)) * (-1 if m.group(2) == "W" else 1)
            diff = (lon - value + 180.0) % 360.0 - 180.0
            assert abs(diff) < 0.02, (edge, pos, text, lon)
    return labels


def test_graticule_labels_name_longitudes_and_latitudes_where_they_cross_the_frame(ankara):
    fig, info = with_fonts(coverage_map_figure)(ankara)
    labels = _check_labels_name_their_lines(ankara, info)
    by_edge = {e: [t for e2, _, t in labels if e2 == e] for e in ("bottom", "top", "left", "right")}
    assert len(by_edge["bottom"]) >= 3 and all(t.endswith("E") for t in by_edge["bottom"])
    assert len(by_edge["left"]) >= 3 and all(t.endswith("N") for t in by_edge["left"])
    assert by_edge["top"] and by_edge["right"]
    assert any(ln.get_gid() and ln.get_gid().startswith("graticule:meridian")
               for ln in info["ax"].get_lines())  # fmt: skip


@pytest.mark.parametrize(
    "lat, lon, expect",
    [(-90.0, 0.0, {"S", "E", "W"}), (89.0, 45.0, {"N", "E", "W"}),
     (-17.0, 179.9, {"S", "E", "W", "180"})],
    ids=["south pole", "near the north pole", "antimeridian"],
)  # fmt: skip
def test_graticule_stays_readable_around_a_pole_and_across_the_antimeridian(lat, lon, expect):
    result = _single_site(lat, lon)
    fig, info = with_fonts(coverage_map_figure)(result)
    labels = _check_labels_name_their_lines(result, info)
    seen = {LABEL.match(t).group(2) or t.rstrip("°") for _, _, t in labels}
    assert expect <= seen, seen
    g = info["graticule"]
    if abs(lat) < 80:  # across +-180: a few degrees of longitude, not the whole globe
        assert g.lon_step_deg <= 2
    texts = [t for _, _, t in labels]
    assert len(texts) >= 6


def test_lon_lat_texts():
    assert [lon_text(v) for v in (33, -175, 0, 180, -180, 540, 32.5)] == [
        "33°E", "175°W", "0°", "180°", "180°", "180°", "32.5°E"]  # fmt: skip
    assert [lat_text(v) for v in (40, -12.5, 0)] == ["40°N", "12.5°S", "0°"]


def test_detection_is_light_and_hatched_engagement_solid_and_the_legend_says_which(ankara):
    """Where a target is only detected the map is hatched in the detection colour over a light
    fill; engagement is an opaque-looking fill in its own colour on top; the legend names both,
    with their areas, and its patches look like the fills."""
    fig, info = with_fonts(coverage_map_figure)(ankara)
    ax = info["ax"]
    detection_only = ankara.union_detection & ~ankara.union_engagement
    assert detection_only.any() and ankara.union_engagement.any()
    images = {tuple(np.round(im.get_cmap()(0.0)[:3], 3)): im for im in ax.get_images()}
    det = images[tuple(np.round(to_rgba(DETECTION_COLOUR)[:3], 3))]
    eng = images[tuple(np.round(to_rgba(ENGAGEMENT_COLOUR)[:3], 3))]
    assert det.get_alpha() <= 0.25 < 0.5 <= eng.get_alpha() and eng.get_zorder() > det.get_zorder()
    hatched = [c for c in ax.collections if any(getattr(c, "hatches", None) or [None])]
    assert len(hatched) == 1 and hatched[0].get_zorder() < eng.get_zorder()
    legend = fig.legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    det_row = next(i for i, t in enumerate(texts) if t.startswith("detection"))
    eng_row = next(i for i, t in enumerate(texts) if t.startswith("engagement"))
    area = f"{ankara.area_km2(ankara.union_detection):,.0f} km²"
    assert area in texts[det_row]
    assert f"{ankara.area_km2(ankara.union_engagement):,.0f} km²" in texts[eng_row]
    patches = legend.get_patches()
    assert patches[det_row].get_hatch() and not patches[eng_row].get_hatch()


def test_site_and_city_labels_do_not_overlap(ankara):
    fig, info = with_fonts(coverage_map_figure)(ankara, cities=12)
    texts = info["labels"]
    assert len(texts) >= len(ankara.sites) + 8  # sites, then the largest covered cities
    renderer = fig.canvas.get_renderer()
    boxes = label_boxes(texts, renderer)
    assert overlapping_pairs(boxes) == []
    frame = info["ax"].get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for b in boxes)  # fmt: skip
    names = {t.get_text() for t in texts}
    assert {"Istanbul", "Ankara"} <= names and "ankara-1\n(s-400)" in names
