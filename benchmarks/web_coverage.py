"""Time the coverage endpoint of ``iadsim serve`` on the bundled examples: the first call
(each site's pass) and new altitudes after it (thresholds on the passes).

    .venv/bin/python benchmarks/web_coverage.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings

from fastapi.testclient import TestClient

from iadsim.examples import EXAMPLES_DIR
from iadsim.web.app import create_app

ALTITUDES_M = (100, 300, 1000, 3000, 10000, 20000)


def main() -> None:
    warnings.simplefilter("ignore")
    client = TestClient(create_app(tempfile.mkdtemp(prefix="iadsim-bench-")))
    client.get("/api/basemap/cities")  # load the gazetteer and borders once
    print(f"{'example':28s} {'terrain':7s} {'first s':>8s} {'new altitude s (median, max)':>30s}")
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        sid = client.post("/api/scenarios", json={"yaml": path.read_text()}).json()["scenario_id"]
        has_dem = client.get(f"/api/scenarios/{sid}").json()["has_dem"]
        for terrain in (False, True) if has_dem else (False,):
            url = f"/api/scenarios/{sid}/coverage"
            q = {"terrain": terrain, "agl": terrain}
            t0 = time.perf_counter()
            client.get(url, params={**q, "altitude_m": 50}).raise_for_status()
            first = time.perf_counter() - t0
            times = []
            for alt in ALTITUDES_M:
                t0 = time.perf_counter()
                client.get(url, params={**q, "altitude_m": alt}).raise_for_status()
                times.append(time.perf_counter() - t0)
            print(
                f"{path.stem:28s} {str(terrain):7s} {first:8.2f} "
                f"{statistics.median(times):20.3f} {max(times):8.3f}"
            )


if __name__ == "__main__":
    main()
