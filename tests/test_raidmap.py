"""``iadsim run --map``: the raid map of run 0 is written beside the results."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from iadsim.examples import example_path


@pytest.mark.slow
def test_run_with_map_writes_the_raid_map(tmp_path):
    cmd = [sys.executable, "-m", "iadsim.cli.main", "run",
           str(example_path("raid_s400_standalone.yaml")), "--runs", "1", "--map",
           "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    png = tmp_path / "raid-map.png"
    assert str(png) in proc.stdout
    with Image.open(png) as im:
        w, h = im.size
        assert w > h > 400
        # not a blank canvas: the hillshade, tracks and markers give many distinct colours
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 20)) > 1000


def test_sector_wedge_points_along_the_heading_by_geodesic_azimuth():
    """The drawn wedge's corner points, measured with pyproj's geodesic azimuth from the site,
    span heading +- sector/2 (AN/MPQ-65: 120 deg), 60 km out."""
    import numpy as np
    from matplotlib.figure import Figure
    from pyproj import Geod

    from iadsim.deployment import resolve_deployment
    from iadsim.report.raidmap import _sector, map_crs, map_grid
    from iadsim.scenario import load_scenario

    scn = load_scenario(example_path("raid_patriot_networked.yaml"))
    site = resolve_deployment(scn).site("ankara-patriot-south")
    assert site.heading_deg == 150.0
    grid = map_grid(map_crs([39.9], [32.9]), (-200.0, 200.0, -200.0, 200.0))
    ax = Figure().subplots()
    assert _sector(ax, site, grid)
    xy_km = ax.patches[0].get_xy()
    lon, lat = grid.to_wgs84.transform(xy_km[:, 0] * 1e3, xy_km[:, 1] * 1e3)
    lon, lat = np.asarray(lon), np.asarray(lat)
    az, _, dist = Geod(ellps="WGS84").inv(np.full(lon.size, site.lon),
                                           np.full(lon.size, site.lat), lon, lat)  # fmt: skip
    far = dist > 1e3  # skip the apex at the site
    az = np.mod(az[far], 360.0)
    assert az.min() == pytest.approx(90.0, abs=0.5) and az.max() == pytest.approx(210.0, abs=0.5)
    assert dist[far] == pytest.approx(60e3, rel=1e-6)


ANTIMERIDIAN = """\
name: antimeridian raid
environment: {k_factor: 1.3333, dem: null}
time: {duration_s: 2400, step_s: 1}
sites:
  - {id: anadyr-sam, system: nasams, lat: 64.73, lon: 177.5}
assets:
  - {id: anadyr, lat: 64.73, lon: 177.51, radius_km: 5, value: 10}
raids:
  - threat: cruise-missile
    count: 1
    speed_mps: 240
    route: [[65.5, -174.0, 50], [65.0, -179.0, 50], [64.73, 177.51, 50]]
"""
POLAR = """\
name: polar raid
environment: {k_factor: 1.3333, dem: null}
time: {duration_s: 3000, step_s: 1}
sites:
  - {id: pole-sam, system: nasams, lat: -89.9, lon: 0.0}
assets:
  - {id: station, lat: -90.0, lon: 0.0, radius_km: 3, value: 10}
raids:
  - threat: cruise-missile
    count: 1
    speed_mps: 240
    route: [[-87.0, 120.0, 100], [-89.0, 160.0, 100], [-89.5, -150.0, 100], [-90.0, 0.0, 100]]
"""


@pytest.mark.parametrize("text", [ANTIMERIDIAN, POLAR], ids=["antimeridian", "south pole"])
def test_raid_map_across_the_antimeridian_and_at_a_pole_is_drawn_as_flown(tmp_path, text):
    """The map is centred on the scenario: a raid across +-180 deg or over a pole is one
    continuous track a few hundred km long, not a strip around the world."""
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from iadsim.deployment import resolve_deployment
    from iadsim.report.raidmap import _draw, _km, _trajectories, map_crs, map_grid, plot_raid_map
    from iadsim.scenario import load_scenario
    from iadsim.sim.events import EVENT_COLUMNS

    path = tmp_path / "scn.yaml"
    path.write_text(text)
    scn = load_scenario(path)
    traj = _trajectories(scn)
    crs = map_crs([s.lat for s in scn.sites], [s.lon for s in scn.sites])
    frame = map_grid(crs, (-1.0, 1.0, -1.0, 1.0))
    x, y = _km(frame, traj.lon_deg[0, traj.active[0]], traj.lat_deg[0, traj.active[0]])
    steps = np.hypot(np.diff(x), np.diff(y))
    assert steps.max() < 2.0  # km per 5 s at 240 m/s: no jump across the map
    assert 150 < steps.sum() < 600  # the route's length, not the way round the globe
    empty = pd.DataFrame(columns=list(EVENT_COLUMNS))
    png = plot_raid_map(scn, empty, tmp_path / "raid-map.png")
    with Image.open(png) as im:  # panels sized for a few hundred km, as the demo's raids
        assert im.size[0] < 2700 and im.size[1] < 1300
    ax = Figure().subplots()
    grid = map_grid(crs, (x.min() - 50, x.max() + 50, y.min() - 50, y.max() + 50))
    _draw(ax, scn, resolve_deployment(scn), traj, empty, grid, labels=True)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x1 - x0 < 800 and y1 - y0 < 800


# --- sector reach, labels, the run drawn ---------------------------------------------------

SECTOR_RAID = """\
name: one Patriot facing north, a low cruise missile and an SRBM
environment: {k_factor: 1.3333, dem: null}
time: {duration_s: 900, step_s: 1}
sites:
  - {id: pat, system: patriot, lat: 50.0, lon: 20.0, heading_deg: 0}
assets:
  - {id: base, lat: 50.0, lon: 20.0, radius_km: 3, value: 1}
raids:
  - threat: cruise-missile
    speed_mps: 240
    route: [[51.0, 20.0, 40], [50.0, 20.0, 40]]
  - threat: srbm-300
    launch: [52.2, 20.0]
    aim: [50.0, 20.0]
"""


def _arc_distances_m(fig_info, site, threat, grid_crs):
    """Geodesic distance from the site of every point of the arc drawn for the threat."""
    import numpy as np
    from pyproj import Geod, Transformer

    lines = [ln for ax in fig_info["axes"] for ln in ax.get_lines()
             if ln.get_gid() == f"sector:{site.id}:{threat}"]  # fmt: skip
    assert lines, f"no arc drawn for {threat}"
    xy = np.vstack([ln.get_xydata() for ln in lines]) * 1e3
    lon, lat = Transformer.from_crs(grid_crs, "EPSG:4326", always_xy=True).transform(*xy.T)
    _, _, dist = Geod(ellps="WGS84").inv(np.full(len(lon), site.lon), np.full(len(lon), site.lat),
                                         lon, lat)  # fmt: skip
    return dist


def test_sector_arcs_are_drawn_at_the_radars_detection_range_for_each_threat(tmp_path):
    """The AN/MPQ-65's arc for a cruise missile 40 m above the sea lies at the radio horizon
    between its antenna and 40 m (sqrt(2 k R h1) + sqrt(2 k R h2)); for the SRBM, which climbs
    above any horizon, at the catalog range for its RCS (R_ref (sigma / sigma_ref)^(1/4)),
    not at a fixed 60 km."""
    import numpy as np
    import pandas as pd

    from iadsim import catalog
    from iadsim.deployment import resolve_deployment
    from iadsim.report.figure import with_fonts
    from iadsim.report.raidmap import raid_map_figure
    from iadsim.scenario import load_scenario
    from iadsim.sim.events import EVENT_COLUMNS

    path = tmp_path / "scn.yaml"
    path.write_text(SECTOR_RAID)
    scn = load_scenario(path)
    fig, info = with_fonts(raid_map_figure)(scn, pd.DataFrame(columns=list(EVENT_COLUMNS)))
    site = resolve_deployment(scn).site("pat")
    radar = catalog.get("an-mpq-65", kind="radar")
    a = 1.3333 * 6_371_000.0
    horizon = np.sqrt(2 * a * radar.antenna_height.si) + np.sqrt(2 * a * 40.0)
    srbm = catalog.get("srbm-300", kind="threat")
    r_det = radar.reference_detection_range.si * (srbm.rcs.si / radar.reference_rcs.si) ** 0.25
    r_det = min(r_det, radar.instrumented_range.si)
    reach = {r.threat: r for r in info["reaches"]}
    assert reach["cruise-missile"].limited_by == "horizon"
    assert reach["cruise-missile"].range_m == pytest.approx(horizon, rel=2e-3)
    assert reach["srbm-300"].limited_by == "range"
    assert r_det * 0.99 <= reach["srbm-300"].range_m <= r_det
    for threat, want in (("cruise-missile", horizon), ("srbm-300", reach["srbm-300"].range_m)):
        assert _arc_distances_m(info, site, threat, info["crs"]) == pytest.approx(want, rel=2e-3)
    assert 1.3 * horizon < r_det  # the two arcs are distinct, neither at the old 60 km
    assert abs(horizon - 60e3) > 5e3 and abs(r_det - 60e3) > 5e3


CROWDED = """\
name: six batteries within a few kilometres, three assets among them
environment: {k_factor: 1.3333, dem: null}
time: {duration_s: 600, step_s: 2}
sites:
  - {id: alpha-battery, system: patriot, lat: 50.000, lon: 20.000, heading_deg: 0}
  - {id: bravo-battery, system: patriot, lat: 50.010, lon: 20.012, heading_deg: 0}
  - {id: charlie-battery, system: patriot, lat: 49.992, lon: 20.020, heading_deg: 0}
  - {id: delta-battery, system: nasams, lat: 50.018, lon: 19.990, heading_deg: 0}
  - {id: echo-battery, system: nasams, lat: 49.985, lon: 19.995, heading_deg: 0}
  - {id: foxtrot-radar, system: an-mpq-64, lat: 50.005, lon: 20.030, heading_deg: 0}
assets:
  - {id: depot, lat: 50.004, lon: 20.004, radius_km: 1, value: 1}
  - {id: airfield, lat: 50.012, lon: 20.000, radius_km: 1, value: 1}
  - {id: port, lat: 49.995, lon: 20.010, radius_km: 1, value: 1}
raids:
  - threat: cruise-missile
    speed_mps: 240
    route: [[50.9, 20.0, 60], [50.004, 20.004, 60]]
"""


def test_raid_map_labels_do_not_overlap_each_other_nor_leave_the_axes(tmp_path):
    """Nine labels whose anchors lie within a few kilometres (a few label heights on the
    map): after placement no two label boxes overlap, each is inside its panel, and the
    placement is the same on a second drawing (deterministic)."""
    import pandas as pd

    from iadsim.report.figure import with_fonts
    from iadsim.report.labels import label_boxes, overlapping_pairs
    from iadsim.report.raidmap import raid_map_figure
    from iadsim.scenario import load_scenario
    from iadsim.sim.events import EVENT_COLUMNS

    path = tmp_path / "scn.yaml"
    path.write_text(CROWDED)
    scn = load_scenario(path)
    empty = pd.DataFrame(columns=list(EVENT_COLUMNS))
    positions = []
    for _ in range(2):
        fig, info = with_fonts(raid_map_figure)(scn, empty)
        renderer = fig.canvas.get_renderer()
        texts = info["labels"]
        zoom = [t for t in texts if t.axes is info["axes"][1]]
        assert len(zoom) == 6 + 3  # every site and asset labelled in the defended-area panel
        boxes = label_boxes(texts, renderer)
        assert overlapping_pairs(boxes) == []
        for t, box in zip(texts, boxes, strict=True):
            frame = t.axes.get_window_extent(renderer)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1
        # the anchors really crowd: most pairs of them are closer than a label is wide
        import numpy as np

        anchors = info["axes"][1].transData.transform([t.xy for t in zoom])
        close = sum(np.hypot(*(anchors[i] - anchors[j])) < boxes[0].width
                    for i in range(len(zoom)) for j in range(i + 1, len(zoom)))  # fmt: skip
        assert close >= 15
        positions.append([t.get_position() for t in texts])
    assert positions[0] == positions[1]


def test_worst_run_is_the_one_with_most_leakers_lowest_id_on_ties():
    import pandas as pd

    from iadsim.report.raidmap import worst_run

    runs = pd.DataFrame({"run_id": [0, 1, 2, 3, 4], "leakers": [1, 3, 0, 3, 2]})
    assert worst_run(runs) == 1
    assert worst_run(runs.iloc[::-1]) == 1  # not the row order
    assert worst_run(pd.DataFrame({"run_id": [7], "leakers": [0]})) == 7
