"""The plot writers leave matplotlib's backend alone: a notebook or desktop user keeps the
backend they chose, and the writers still produce PNG files (they draw on their own Agg
canvas, never through pyplot)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import matplotlib
    import pandas as pd

    out = Path(sys.argv[1])
    chosen = matplotlib.get_backend()
    from iadsim.api import compare
    from iadsim.coverage import compute_coverage
    from iadsim.examples import example_path
    from iadsim.report.compare import plot_comparison
    from iadsim.report.maps import plot_coverage_map
    from iadsim.report.raidmap import plot_raid_map
    from iadsim.report.vcd import write_vcd
    from iadsim.scenario import load_scenario
    from iadsim.sim.events import EVENT_COLUMNS

    assert matplotlib.get_backend() == chosen, "an import changed the backend"
    cov = compute_coverage(load_scenario(example_path("ankara.yaml")), 1000, resolution_km=10)
    plot_coverage_map(cov, out / "map.png")
    write_vcd("patriot", out / "vcd.png")
    raid = load_scenario(example_path("raid_s400_standalone.yaml"))
    plot_raid_map(raid, pd.DataFrame(columns=list(EVENT_COLUMNS)), out / "raid.png")
    m = {"leakers_per_run": {"value": 2.0, "ci_low": 1.0, "ci_high": 3.0, "n": 10}}
    table = compare({"metrics": m}, {"metrics": m}, labels=("A", "B"))
    plot_comparison(table, ("A", "B"), out / "cmp.png", runs=10)
    print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
    """
)


@pytest.mark.slow
def test_plot_writers_keep_the_chosen_backend_and_write_pngs(tmp_path):
    backend = "pdf"  # not Agg, and available without a display
    env = {**os.environ, "MPLBACKEND": backend}
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [backend, "False"]  # backend unchanged, pyplot never imported
    for name in ("map", "vcd", "raid", "cmp"):
        data = (tmp_path / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
