"""CZML export, loaded with ``czml3``'s models (``Document.load``) and checked against the
results store (positions at the recorded instants, availability from launch to kill, leak
or outcome) and against the scenario (sites, coverage polygons, the clock)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import yaml
from czml3 import Document
from pyproj import Geod

from iadsim.export import export, load_scene, write_scene
from tests.helpers.export_kit import frames, run_store, scenario_dict

GEOD = Geod(ellps="WGS84")


def _t(value) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return run_store(tmp_path_factory)


@pytest.fixture(scope="module")
def doc(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("czml") / "run.czml"
    export(store, "czml", path, run_id=0, start_utc="2024-05-01T06:00:00Z")
    return Document.load(str(path))


def _packets(doc) -> dict:
    return {p.id: p for p in doc.packets}


def _samples(packet) -> np.ndarray:
    return np.asarray(packet.position.cartographicDegrees.values, float).reshape(-1, 4)


def test_czml_document_packet_and_clock(doc):
    first = doc.packets[0]
    assert first.id == "document" and first.version
    clock = first.clock
    start = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)
    assert _t(clock.interval.start) == start and _t(clock.currentTime) == start
    assert _t(clock.interval.end) >= start + dt.timedelta(seconds=700)
    assert clock.multiplier == 10


def test_czml_threats_and_salvos_are_available_from_launch_to_their_end(store, doc):
    ev, pt, _ = frames(store)
    p = _packets(doc)
    start = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)

    def sec(x):
        return (_t(x) - start).total_seconds()

    for r in pt.itertuples():
        pk = p[f"threat/{r.threat}"]
        assert sec(pk.availability.start) == pytest.approx(r.launched_s, abs=1e-3)
        if r.killed:
            end = r.kill_time_s
        elif r.leaked:
            end = ev[(ev.kind == "leak") & (ev.threat == r.threat)].time_s.iloc[0]
        else:
            end = 700.0  # unresolved: flies to the end of the simulated time
        assert sec(pk.availability.end) == pytest.approx(end, abs=1e-3)
        assert _t(pk.position.epoch) == start
    launches = ev[ev.kind == "launch"].reset_index(drop=True)
    outcomes = ev[ev.kind.isin(["intercept", "miss"])].reset_index(drop=True)
    salvos = sorted((k for k in p if k.startswith("interceptor/")), key=lambda k: int(k[-1]))
    assert len(salvos) == len(launches) == len(outcomes)
    for k, launch, outcome in zip(salvos, launches.itertuples(), outcomes.itertuples(),
                                  strict=True):  # fmt: skip
        pk = p[k]
        assert sec(pk.availability.start) == pytest.approx(launch.time_s, abs=1e-3)
        assert sec(pk.availability.end) == pytest.approx(outcome.time_s, abs=1e-3)
        s = _samples(pk)
        assert s[0, 0] == pytest.approx(launch.time_s, abs=1e-3)
        end = s[-1]
        assert GEOD.inv(end[1], end[2], outcome.lon, outcome.lat)[2] < 1.0
        assert end[3] == pytest.approx(outcome.alt_m, abs=0.1)


def test_czml_positions_are_the_stores_within_10_m(store, doc):
    ev, _, _ = frames(store)
    p = _packets(doc)
    rows = ev[ev.kind.isin(["detection_start", "track_start", "intercept", "leak"])]
    rows = rows[rows.lat.notna()]
    assert len(rows) >= 8
    for r in rows.itertuples():
        s = _samples(p[f"threat/{r.threat}"])
        assert np.all(np.diff(s[:, 0]) > 0)
        lon, lat, alt = (np.interp(r.time_s, s[:, 0], s[:, i]) for i in (1, 2, 3))
        d = GEOD.inv(lon, lat, r.lon, r.lat)[2]
        assert np.hypot(d, alt - r.alt_m) < 10.0, (r.kind, r.threat, d, alt - r.alt_m)


def test_czml_of_a_scenario_has_sites_and_coverage_at_each_altitude(tmp_path):
    scene = scenario_scene_file(tmp_path)
    path = tmp_path / "scenario.czml"
    write_scene(scene, "czml", path)
    p = _packets(Document.load(str(path)))
    assert {"site/pat-1", "site/tpy-1"} <= set(p)
    site = p["site/pat-1"]
    assert site.position.cartographicDegrees.values[:2] == pytest.approx([32.90, 39.90])
    cov = {k: v for k, v in p.items() if k.startswith("coverage/") and v.polygon is not None}
    heights = {v.polygon.height for v in cov.values()}
    assert heights == {500.0, 5000.0}
    layers = {(c.altitude_m, c.kind, c.site) for c in scene.coverage}
    assert {k.split("#")[0] for k in cov} == {
        f"coverage/{a:g}m/{kind}/{site}" for a, kind, site in layers
    }
    for v in cov.values():
        ring = np.asarray(v.polygon.positions.cartographicDegrees.values).reshape(-1, 3)
        assert len(ring) >= 3 and np.all(ring[:, 2] == v.polygon.height)
    # the planned flights: every threat of the raid, none of the run's events
    assert sum(k.startswith("threat/") for k in p) == 4
    assert not any(k.startswith("interceptor/") for k in p)


def scenario_scene_file(tmp_path):
    """The scene of the test scenario (as a YAML file) at 500 and 5000 m, coarse cells."""
    path = tmp_path / "raid.yaml"
    path.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    return load_scene(path, altitudes_m=[500, 5000], resolution_km=5.0)
