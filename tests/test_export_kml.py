"""KML export, parsed with ``fastkml`` 1.x (validate=False: simplekml's ids are not
xs:ID-valid) and checked against the results store: placemark counts, folders, gx:Track times
and coordinates."""

from __future__ import annotations

import datetime as dt
import zipfile

import numpy as np
import pytest
from pyproj import Geod

from iadsim.export import export
from tests.helpers.export_kit import frames, run_store

fastkml = pytest.importorskip("fastkml")
from fastkml import KML, Folder, Placemark  # noqa: E402
from fastkml.geometry import MultiGeometry, Point, Polygon  # noqa: E402
from fastkml.gx import Track  # noqa: E402
from fastkml.utils import find_all  # noqa: E402

GEOD = Geod(ellps="WGS84")
START = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return run_store(tmp_path_factory)


@pytest.fixture(scope="module")
def kml(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("kml") / "run.kml"
    export(store, "kml", path, run_id=0, altitudes_m=[3000], resolution_km=5.0,
           start_utc=START)  # fmt: skip
    return KML.parse(path, validate=False)


def _folders(k) -> dict[str, Folder]:
    return {f.name: f for f in find_all(k, of_type=Folder)}


def _tracks(k) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (seconds from START, (n, 3) lon/lat/alt) of every gx:Track placemark."""
    out = {}
    for p in find_all(k, of_type=Placemark):
        g = p.kml_geometry
        if isinstance(g, Track):
            t = np.array([(w.dt - START).total_seconds() for w in g.whens])
            out[p.name] = (t, np.asarray(g.coords, float))
    return out


def test_kml_folders_and_placemarks(store, kml):
    ev, pt, _ = frames(store)
    folders = _folders(kml)
    assert {"Sites", "Radar sectors", "Defended assets", "Coverage", "3000 m AMSL",
            "Detection", "Engagement", "Threats", "Interceptors", "Events"} <= set(folders)  # fmt: skip
    sites = [p for p in folders["Sites"].features]
    assert sorted(p.name for p in sites) == ["pat-1", "tpy-1"]
    pat = next(p for p in sites if p.name == "pat-1")
    assert isinstance(pat.kml_geometry, Point)
    assert pat.geometry.coords[0][:2] == pytest.approx((32.90, 39.90))
    assert pat.style_url.url == "#fire_unit"
    assert len(folders["Threats"].features) == len(pt)
    assert len(folders["Interceptors"].features) == (ev.kind == "launch").sum()
    for p in folders["Detection"].features + folders["Engagement"].features:
        assert isinstance(p.kml_geometry, (Polygon, MultiGeometry))
        ring = p.geometry.geoms[0].exterior if hasattr(p.geometry, "geoms") else p.geometry.exterior
        assert all(c[2] == 3000.0 for c in ring.coords)
    names = {p.name for p in folders["Engagement"].features}
    assert names == {"pat-1 engagement", "union engagement"}  # the radar-only site engages none


def test_kml_tracks_are_the_stores_flights(store, kml):
    ev, pt, _ = frames(store)
    tracks = _tracks(kml)
    for r in pt.itertuples():
        t, _ = tracks[r.threat]
        assert t[0] == pytest.approx(r.launched_s, abs=1e-3)
        if r.killed:
            assert t[-1] == pytest.approx(r.kill_time_s, abs=1e-3)
        assert np.all(np.diff(t) > 0)
    rows = ev[ev.kind.isin(["detection_start", "track_start", "intercept", "leak"])]
    rows = rows[rows.lat.notna()]
    for r in rows.itertuples():
        t, c = tracks[r.threat]
        lon, lat, alt = (np.interp(r.time_s, t, c[:, i]) for i in range(3))
        d = GEOD.inv(lon, lat, r.lon, r.lat)[2]
        assert np.hypot(d, alt - r.alt_m) < 10.0, (r.kind, r.threat, d)


def test_kml_events_are_time_stamped(store, kml):
    ev, _, _ = frames(store)
    events = _folders(kml)["Events"].features
    kinds = [p.name for p in events]
    assert kinds.count("intercept") == (ev.kind == "intercept").sum()
    assert kinds.count("leak") == (ev.kind == "leak").sum()
    first = next(p for p in events if p.name == "intercept")
    row = ev[ev.kind == "intercept"].iloc[0]
    assert (first.times.timestamp.dt - START).total_seconds() == pytest.approx(row.time_s, abs=1e-3)


def test_kmz_is_the_kml_zipped(store, tmp_path):
    path = tmp_path / "run.kmz"
    export(store, None, path, run_id=0)
    with zipfile.ZipFile(path) as z:
        (tmp_path / "doc.kml").write_bytes(z.read("doc.kml"))
    k = KML.parse(tmp_path / "doc.kml", validate=False)
    assert len(_tracks(k)) == len(frames(store)[1]) + (frames(store)[0].kind == "launch").sum()
