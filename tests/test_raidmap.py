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
    span heading +- sector/2 (AN/MPQ-65: 120 deg), about 60 km out."""
    import matplotlib.pyplot as plt
    import numpy as np
    from pyproj import Geod

    from iadsim.deployment import resolve_deployment
    from iadsim.report.raidmap import _sector
    from iadsim.scenario import load_scenario

    scn = load_scenario(example_path("raid_patriot_networked.yaml"))
    site = resolve_deployment(scn).site("ankara-patriot-south")
    assert site.heading_deg == 150.0
    fig, ax = plt.subplots()
    kx = np.cos(np.radians(site.lat))
    ax.set_xlim(site.lon - 2, site.lon + 2)
    ax.set_ylim(site.lat - 2, site.lat + 2)
    assert _sector(ax, site, kx)
    wedge = ax.patches[0]
    xy = ax.transData.inverted().transform(
        wedge.get_transform().transform(wedge.get_path().vertices)
    )
    plt.close(fig)
    lon, lat = xy[:, 0], xy[:, 1]
    far = np.hypot((lon - site.lon) * kx, lat - site.lat) > 0.3  # skip the apex at the site
    az, _, dist = Geod(ellps="WGS84").inv(np.full(far.sum(), site.lon),
                                           np.full(far.sum(), site.lat), lon[far], lat[far])  # fmt: skip
    az = np.mod(az, 360.0)
    assert az.min() == pytest.approx(90.0, abs=1.0) and az.max() == pytest.approx(210.0, abs=1.0)
    assert np.median(dist) == pytest.approx(60e3, rel=0.03)
