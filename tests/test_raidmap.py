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
