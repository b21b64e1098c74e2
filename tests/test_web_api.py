"""The HTTP API of ``iadsim serve`` (FastAPI TestClient, no server process)."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient

from iadsim.coverage.analysis import compute_coverage
from iadsim.examples import example_path
from iadsim.export.geometry import geodesic_area_km2
from iadsim.scenario import load_scenario
from iadsim.web import app as web_app
from iadsim.web.app import create_app

TINY = """name: tiny
sites:
  - id: p1
    system: patriot
    lat: 39.9
    lon: 32.9
    heading_deg: 90
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("iadsim-data")


@pytest.fixture(scope="module")
def client(data_dir) -> TestClient:
    return TestClient(create_app(data_dir, max_upload_bytes=64 * 1024))


def _post(client, text: str):
    return client.post("/api/scenarios", json={"yaml": text})


def _example(client, name: str) -> str:
    r = client.post("/api/scenarios", json={"yaml": example_path(name).read_text()})
    assert r.status_code == 201, r.text
    return r.json()["scenario_id"]


def test_health_names_the_version(client):
    assert client.get("/api/health").json()["version"]


def test_basemap_countries_and_cities_are_geojson(client):
    countries = client.get("/api/basemap/countries").json()
    names = {f["properties"]["name"] for f in countries["features"]}
    assert {"Turkey", "France"} <= names or {"Türkiye", "France"} <= names
    big = client.get("/api/basemap/cities?min_population=5000000").json()["features"]
    assert big and all(f["properties"]["population"] >= 5_000_000 for f in big)
    assert any(f["properties"]["name"] == "Istanbul" for f in big)
    assert client.get("/api/basemap/cities?min_population=-1").status_code == 422


def test_examples_list_and_text(client):
    ex = {e["id"]: e for e in client.get("/api/examples").json()}
    assert ex["ankara"]["kind"] == "coverage"
    assert ex["raid_s400_standalone"]["kind"] == "raid"
    text = client.get("/api/examples/ankara").json()["yaml"]
    assert text == example_path("ankara.yaml").read_text()
    assert client.get("/api/examples/..%2Fankara").status_code == 404
    assert client.get("/api/examples/nope").status_code == 404


def test_post_returns_sites_and_sector_wedges(client):
    r = _post(client, TINY)
    assert r.status_code == 201
    body = r.json()
    assert len(body["scenario_id"]) == 32 and body["yaml"] == TINY
    assert body["sites"][0]["id"] == "p1"
    layers = [f["properties"]["layer"] for f in body["geojson"]["features"]]
    assert layers.count("site") == 1 and layers.count("sector") == 1
    again = client.get(f"/api/scenarios/{body['scenario_id']}").json()
    assert again["yaml"] == TINY


def test_a_bad_scenario_is_refused_with_the_located_message(client):
    r = _post(client, TINY.replace("lat: 39.9", "lat: 99.9"))
    assert r.status_code == 422
    assert r.json() == {
        "error": "scenario.yaml:5: field 'sites[0].lat': Input should be less than or equal "
        "to 90 (got 99.9)",
        "field": "sites[0].lat",
        "line": 5,
    }
    r = _post(client, TINY.replace("system: patriot", "system: patriott"))
    assert r.status_code == 422 and r.json()["field"] == "sites[0].system"
    assert r.json()["line"] == 4
    r = _post(client, "name: [unclosed\n")
    assert r.status_code == 422 and r.json()["error"].startswith("scenario.yaml:")
    assert "Traceback" not in r.text


def test_yaml_tags_and_alias_bombs_are_refused(client):
    r = _post(client, "!!python/object/apply:os.system ['echo hi']\n")
    assert r.status_code == 422
    bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=False)
    )
    r = _post(client, bomb)
    assert r.status_code == 422 and "aliases" in r.json()["error"]


def test_multipart_upload(client):
    r = client.post("/api/scenarios", files={"file": ("s.yaml", TINY.encode(), "text/yaml")})
    assert r.status_code == 201 and r.json()["name"] == "tiny"
    r = client.post("/api/scenarios", files={"other": ("s.yaml", TINY.encode())})
    assert r.status_code == 422 and r.json()["field"] == "file"


def test_upload_beyond_the_limit_is_413(client):
    big = TINY + "description: " + "x" * 70_000 + "\n"
    r = _post(client, big)
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = client.post("/api/scenarios", files={"file": ("s.yaml", big.encode())})
    assert r.status_code == 413


def test_put_replaces_the_scenario_or_only_its_sites_and_keeps_it_on_error(client):
    sid = _post(client, TINY).json()["scenario_id"]
    r = client.put(f"/api/scenarios/{sid}", json={"yaml": TINY.replace("tiny", "renamed")})
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    site = {"id": "p1", "system": "patriot", "lat": 40.2, "lon": 33.1, "heading_deg": 45}
    r = client.put(f"/api/scenarios/{sid}", json={"sites": [site]})
    assert r.status_code == 200 and r.json()["sites"][0]["lat"] == 40.2
    r = client.put(f"/api/scenarios/{sid}", json={"sites": [{**site, "lon": 200}]})
    assert r.status_code == 422 and r.json()["field"] == "sites[0].lon"
    assert client.get(f"/api/scenarios/{sid}").json()["sites"][0]["lat"] == 40.2


def test_coverage_grows_with_altitude_and_matches_iadsim_coverage(client):
    sid = _post(client, TINY).json()["scenario_id"]
    areas = []
    for alt in (100, 1000, 10000):
        r = client.get(f"/api/scenarios/{sid}/coverage", params={"altitude_m": alt})
        assert r.status_code == 200, r.text
        areas.append(r.json()["summary"]["union"]["detection_area_km2"])
        kinds = {f["properties"]["kind"] for f in r.json()["geojson"]["features"]}
        assert {"detection", "engagement", "detection_overlap"} <= kinds
    assert areas[0] < areas[1] < areas[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = compute_coverage(load_scenario(example_path("ankara.yaml")), 10000.0)
    sid2 = _example(client, "ankara.yaml")
    got = client.get(f"/api/scenarios/{sid2}/coverage", params={"altitude_m": 10000}).json()
    want = ref.area_km2(ref.union_detection)
    assert got["summary"]["union"]["detection_area_km2"] == pytest.approx(want, rel=0.01)
    assert got["summary"]["cities_covered"]
    union = next(
        f
        for f in got["geojson"]["features"]
        if f["properties"]["site"] == "union" and f["properties"]["kind"] == "detection"
    )
    geom = shapely.geometry.shape(union["geometry"])
    assert geom.is_valid
    # the polygons cover the counted cells: their geodesic area is the summary's area
    assert geodesic_area_km2(geom) == pytest.approx(want, rel=0.01)


def test_a_new_altitude_over_terrain_answers_fast(client):
    sid = _example(client, "raid_s400_standalone.yaml")
    url = f"/api/scenarios/{sid}/coverage"
    first = client.get(url, params={"altitude_m": 500, "terrain": True, "agl": True})
    assert first.status_code == 200, first.text
    t0 = time.perf_counter()
    r = client.get(url, params={"altitude_m": 2500, "terrain": True, "agl": True})
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200
    assert r.json()["summary"]["terrain"] is True
    low = first.json()["summary"]["union"]["detection_area_km2"]
    assert r.json()["summary"]["union"]["detection_area_km2"] > low
    assert elapsed < 2.0  # ~0.1 s here (benchmarks/README.md); generous for a loaded CI


def test_coverage_argument_errors(client):
    sid = _post(client, TINY).json()["scenario_id"]
    url = f"/api/scenarios/{sid}/coverage"
    r = client.get(url, params={"terrain": True})
    assert r.status_code == 422 and r.json()["field"] == "terrain"
    r = client.get(url, params={"altitude_m": 1e9})
    assert r.status_code == 422 and r.json()["field"] == "altitude_m"
    r = client.get(url, params={"altitude_m": "high"})
    assert r.status_code == 422 and r.json()["field"] == "altitude_m"
    r = client.get(url, params={"threat": "nope"})
    assert r.status_code == 422 and "nope" in r.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/scenarios/../../etc/passwd",
        "/api/scenarios/..%2F..%2Fetc%2Fpasswd",
        "/api/scenarios/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/scenarios/%252e%252e%252fetc%252fpasswd",
        "/api/scenarios//etc/passwd",
        "/api/scenarios/%2Fetc%2Fpasswd",
        "/api/scenarios/0123456789ABCDEF0123456789abcdef",
        "/api/scenarios/0123456789abcdef0123456789abcdef/coverage",
        "/api/scenarios/..%2F..%2Fetc%2Fpasswd/coverage",
    ],
)
def test_ids_and_paths_outside_the_data_dir_are_404(client, path):
    r = client.get(path)
    assert r.status_code in (404, 405, 422), r.text
    assert "root:" not in r.text and "Traceback" not in r.text


def test_a_symlink_out_of_the_data_dir_is_not_followed(client, data_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "scenario.yaml").write_text(TINY)
    sid = "ab" * 16
    (data_dir / "scenarios" / sid).symlink_to(outside)
    assert client.get(f"/api/scenarios/{sid}").status_code == 404
    assert client.put(f"/api/scenarios/{sid}", json={"yaml": TINY}).status_code == 404


@pytest.mark.parametrize("dem", ["/etc/hostname", "../../../../etc/hostname", "x/../../../dem.tif"])
def test_a_dem_outside_the_data_dir_is_refused(client, dem):
    r = _post(client, TINY.replace("name: tiny", f"name: tiny\nenvironment: {{dem: {dem}}}"))
    assert r.status_code == 422
    assert r.json()["field"] == "environment.dem" and r.json()["line"] == 2


def test_a_bundled_dem_by_name_works(client):
    sid = _example(client, "raid_patriot_networked.yaml")
    assert client.get(f"/api/scenarios/{sid}").json()["has_dem"] is True


def test_unexpected_errors_are_one_generic_line(data_dir, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(web_app.scn_store, "examples", boom)
    c = TestClient(create_app(data_dir), raise_server_exceptions=False)
    r = c.get("/api/examples")
    assert r.status_code == 500
    assert r.json()["error"].startswith("internal error")
    assert "secret" not in r.text and "Traceback" not in r.text


def test_openapi_page_lists_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/scenarios/{scenario_id}/coverage" in paths
    assert client.get("/docs").status_code == 200
    assert client.get("/").status_code == 200


def test_serve_command_refuses_a_bad_port_and_warns_off_loopback():
    from iadsim.cli.serve_cmd import _loopback

    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("192.168.1.2")
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "iadsim.cli.main", "serve", "--port", "70000"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: --port must be between 0 and 65535")


# -- jobs -----------------------------------------------------------------------------------

RAID = """name: tiny raid
time: {duration_s: 400, step_s: 2.0}
sites:
  - {id: p1, system: patriot, lat: 39.9, lon: 32.9, heading_deg: 180}
assets:
  - {id: town, lat: 39.9, lon: 32.9, radius_km: 3, value: 1}
raids:
  - {id: cm, threat: cruise-missile, count: 2, launch_time_s: 0, spacing_s: 20,
     speed_mps: 240, route: [[39.2, 32.9, 60], [39.9, 32.9, 60]]}
"""


def _wait(client, job_id: str, timeout_s: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.25)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout_s} s")


@pytest.mark.slow
def test_run_and_compare_jobs_to_completion(tmp_path):
    with TestClient(create_app(tmp_path, workers=2)) as c:
        a = _post(c, RAID).json()["scenario_id"]
        b = _post(
            c,
            RAID.replace("tiny raid", "moved").replace("lon: 32.9, heading", "lon: 33.2, heading"),
        ).json()["scenario_id"]  # noqa: E501
        r = c.post("/api/jobs", json={"kind": "run", "scenario_id": a, "runs": 3, "seed": 1})
        assert r.status_code == 202
        run_id = r.json()["job_id"]
        cmp_id = c.post(
            "/api/jobs",
            json={"kind": "compare", "scenario_id": a, "other_scenario_id": b, "runs": 2},
        ).json()["job_id"]
        # the job ran on the scenario as submitted: a later edit does not change it
        assert c.put(f"/api/scenarios/{a}", json={"yaml": RAID.replace("count: 2", "count: 1")})
        with c.stream("GET", f"/api/jobs/{run_id}/progress") as s:
            assert s.headers["content-type"].startswith("text/event-stream")
            events = [ln for ln in s.iter_lines() if ln.startswith("data: ")]
        last = json.loads(events[-1][len("data: ") :])
        assert last["state"] == "done" and last["done"] == last["total"] == 3
        assert any(json.loads(e[6:])["state"] == "running" for e in events)
        summary = c.get(f"/api/jobs/{run_id}/summary").json()
        assert summary["metrics"]["leakers_per_run"]["n"] == 3
        rp = c.get(f"/api/jobs/{run_id}/replay", params={"run": 1}).json()
        assert [t["id"] for t in rp["threats"]] == ["cm-cruise-missile-0", "cm-cruise-missile-1"]
        t, lon, lat, alt = rp["threats"][0]["samples"][0]
        assert (lon, lat) == pytest.approx((32.9, 39.2), abs=1e-3) and t == 0
        kinds = {e["kind"] for e in rp["events"]}
        assert {"detection_start", "launch", "no_engagement"} <= kinds
        assert all(e["reason"] for e in rp["events"] if e["kind"] == "no_engagement")
        assert c.get(f"/api/jobs/{run_id}/replay", params={"run": 3}).status_code == 422
        for fmt, head in (("geojson", b"{"), ("kml", b"<kml"), ("czml", b"["), ("acmi", b"")):
            r = c.get(f"/api/jobs/{run_id}/export", params={"format": fmt, "run": 0})
            assert r.status_code == 200 and r.content.lstrip(b"\xef\xbb\xbf").startswith(head)
            assert fmt != "acmi" or b"FileType=text/acmi/tacview" in r.content
            assert "attachment" in r.headers["content-disposition"]
        assert c.get(f"/api/jobs/{run_id}/report").status_code == 409
        job = _wait(c, cmp_id)
        assert job["state"] == "done", job
        assert job["labels"] == ["tiny raid", "moved"]
        report = c.get(f"/api/jobs/{cmp_id}/report")
        assert report.status_code == 200 and b"<html" in report.content[:500].lower()
        assert c.get(f"/api/jobs/{cmp_id}/summary").json()["deployments"]
        assert c.get(f"/api/jobs/{cmp_id}/replay", params={"deployment": 1}).status_code == 200
        listed = {j["job_id"]: j["state"] for j in c.get("/api/jobs").json()}
        assert listed == {run_id: "done", cmp_id: "done"}
    # a restarted server lists the finished jobs and serves their results
    with TestClient(create_app(tmp_path)) as c:
        assert c.get(f"/api/jobs/{run_id}").json()["state"] == "done"
        assert c.get(f"/api/jobs/{run_id}/summary").status_code == 200


@pytest.mark.slow
def test_cancel_terminates_the_job_and_the_client_limit_is_429(tmp_path):
    with TestClient(create_app(tmp_path, workers=1, jobs_per_client=2)) as c:
        a = _post(c, RAID).json()["scenario_id"]
        long_job = c.post("/api/jobs", json={"scenario_id": a, "runs": 5000}).json()["job_id"]
        queued = c.post("/api/jobs", json={"scenario_id": a, "runs": 2}).json()["job_id"]
        r = c.post("/api/jobs", json={"scenario_id": a, "runs": 2})
        assert r.status_code == 429 and "at most 2" in r.json()["error"]
        assert c.post(f"/api/jobs/{queued}/cancel").json()["state"] == "cancelled"
        deadline = time.monotonic() + 120
        while c.get(f"/api/jobs/{long_job}").json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc = c.app.state.jobs._live[long_job].process
        job = c.post(f"/api/jobs/{long_job}/cancel").json()
        assert job["state"] == "cancelled"
        proc.join(10)
        assert not proc.is_alive()
        assert c.get(f"/api/jobs/{long_job}/summary").status_code == 409


def test_jobs_running_when_the_server_stopped_become_failed(tmp_path):
    app = create_app(tmp_path)
    db = app.state.jobs._db
    for job_id, state in (("a" * 32, "running"), ("b" * 32, "queued"), ("c" * 32, "done")):
        db.execute(
            "INSERT INTO jobs (job_id, kind, state, scenario_id, runs, seed, created) "
            "VALUES (?, 'run', ?, ?, 5, 0, '2026-01-01T00:00:00Z')",
            (job_id, state, "d" * 32),
        )
    c = TestClient(create_app(tmp_path))
    states = {j["job_id"]: (j["state"], j["error"]) for j in c.get("/api/jobs").json()}
    assert states["c" * 32] == ("done", None)
    for job_id in ("a" * 32, "b" * 32):
        assert states[job_id][0] == "failed"
        assert states[job_id][1].startswith("the server stopped")


def test_job_request_errors(client):
    sid = _post(client, TINY).json()["scenario_id"]
    r = client.post("/api/jobs", json={"scenario_id": "f" * 32, "runs": 2})
    assert r.status_code == 404
    r = client.post("/api/jobs", json={"scenario_id": sid, "runs": 0})
    assert r.status_code == 422 and r.json()["field"] == "runs"
    r = client.post("/api/jobs", json={"kind": "compare", "scenario_id": sid, "runs": 2})
    assert r.status_code == 422 and r.json()["field"] == "other_scenario_id"
    r = client.post("/api/jobs", json={"kind": "sweep", "scenario_id": sid})
    assert r.status_code == 422 and r.json()["field"] == "kind"
    r = client.post("/api/jobs", json={"scenario_id": "../../etc"})
    assert r.status_code == 404
    for path in ("/api/jobs/" + "0" * 32, "/api/jobs/..%2F..%2Fjobs.db/summary",
                 "/api/jobs/%252e%252e/report"):  # fmt: skip
        assert client.get(path).status_code == 404


def test_scenario_export_downloads_each_format(client):
    sid = _post(client, TINY).json()["scenario_id"]
    for fmt in ("geojson", "kml", "czml", "acmi"):
        r = client.get(f"/api/scenarios/{sid}/export", params={"format": fmt, "altitude_m": 500})
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"] == f'attachment; filename="tiny.{fmt}"'
    r = client.get(f"/api/scenarios/{sid}/export", params={"format": "shp"})
    assert r.status_code == 422 and r.json()["field"] == "format"


def test_job_errors_show_no_server_paths(tmp_path):
    from iadsim.web.worker import _public

    job = tmp_path / "jobs" / ("a" * 32)
    msg = f"{job}/scenario/scenario.yaml:3: field 'x': bad; {job}/scenario_b/scenario.yaml:4"
    out = _public(msg, job)
    assert out == "scenario.yaml:3: field 'x': bad; second scenario.yaml:4"
    assert str(tmp_path) not in _public(f"DEM {job}/scenario/dem.tif", job)
