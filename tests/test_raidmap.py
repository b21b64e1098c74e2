"""``iadsim run --map``: the raid map of run 0 is written beside the results."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from iadsim.examples import example_path


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
