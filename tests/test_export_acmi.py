"""Tacview ACMI export of one run, read back with PyPI ``pyacmi`` (an independent reader) and
checked against the results store: objects, positions, removals, and the Destroyed events
(which pyacmi drops, so a small scanner reads them)."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from pyproj import Geod

from iadsim.export import export
from tests.helpers.export_kit import frames, run_store

pyacmi = pytest.importorskip("pyacmi")

GEOD = Geod(ellps="WGS84")


def _read(path):
    a = pyacmi.Acmi()
    a.load_acmi(str(path))
    return a


def _text(path) -> str:
    raw = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(raw)):
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            raw = z.read(z.namelist()[0])
    return raw.decode("utf-8-sig")


def _events(text: str) -> list[tuple[float, str, list[str]]]:
    """(frame time, event type, fields) of every ``0,Event=`` line."""
    t, out = 0.0, []
    for line in text.splitlines():
        if line.startswith("#"):
            t = float(line[1:])
        elif line.startswith("0,Event="):
            kind, *rest = line[len("0,Event=") :].split("|")
            out.append((t, kind, rest))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return run_store(tmp_path_factory)


@pytest.fixture(scope="module")
def acmi(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("acmi") / "run.txt.acmi"
    export(store, "acmi", path, run_id=0)
    return path


def _by_callsign(a) -> dict:
    return {o.get_value("CallSign"): o for o in a.objects.values()}


def test_acmi_header_reference_time_and_hex_ids(acmi):
    text = _text(acmi)
    lines = text.splitlines()
    assert lines[:2] == ["FileType=text/acmi/tacview", "FileVersion=2.2"]
    assert re.fullmatch(r"0,ReferenceTime=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[2])
    times = [float(x[1:]) for x in lines if x.startswith("#")]
    assert times == sorted(times) and len(set(times)) == len(times)
    ids = {x.split(",")[0].lstrip("-") for x in lines[2:] if x and x[0] not in "#"} - {"0"}
    assert ids and all(re.fullmatch(r"[1-9A-F][0-9A-F]*", i) for i in ids)
    a = _read(acmi)
    assert a.file_version == 2.2
    # the scene's start: 12:00 local mean solar time at the scenario's centre (lon ~33 E)
    assert a.reference_time.hour == 9 and a.reference_time.minute in range(45, 60)


def test_acmi_objects_are_the_runs_sites_assets_threats_and_salvos(store, acmi):
    ev, pt, _ = frames(store)
    a = _read(acmi)
    objs = _by_callsign(a)
    types = {}
    for o in a.objects.values():
        types.setdefault(o.tags, []).append(o)
    launches = ev[ev.kind == "launch"]
    assert len(a.objects) == 2 + 2 + len(pt) + len(launches)  # sites, assets, threats, salvos
    assert objs["pat-1"].tags == "Ground+Static+AntiAircraft"
    assert objs["tpy-1"].tags == "Ground+Static+Sensor"
    assert objs["pat-1"].coalition() == "Allies" and objs["pat-1"].color() == "Blue"
    for name in pt.threat:
        o = objs[name]
        assert o.coalition() == "Enemies" and o.color() == "Red"
        assert o.tags == "Weapon+Missile"
    salvos = [o for o in a.objects.values() if o.parent() == objs["pat-1"].id]
    assert len(salvos) == len(launches)


def test_acmi_positions_are_the_stores_within_10_m(store, acmi):
    """At every detection and track start the store records the threat's true position; the
    recording's position at that frame (pyacmi: the last sample at or before t) is within 10 m
    of it, as are the intercept and leak points at their instants."""
    ev, _, _ = frames(store)
    objs = _by_callsign(_read(acmi))
    rows = ev[ev.kind.isin(["detection_start", "track_start", "intercept", "leak"])]
    rows = rows[rows.lat.notna()]
    assert len(rows) >= 8
    for r in rows.itertuples():
        o = objs[r.threat]
        t = round(r.time_s, 3)
        lon, lat, alt = o.longitude(t), o.latitude(t), o.altitude(t)
        d = GEOD.inv(lon, lat, r.lon, r.lat)[2]
        assert np.hypot(d, alt - r.alt_m) < 10.0, (r.kind, r.threat, t, d, alt - r.alt_m)


def test_acmi_removes_killed_and_leaked_threats_and_every_salvo_at_its_outcome(store, acmi):
    ev, pt, _ = frames(store)
    a = _read(acmi)
    objs = _by_callsign(a)
    for r in pt.itertuples():
        o = objs[r.threat]
        if r.killed:
            assert o.removed_at == pytest.approx(r.kill_time_s, abs=1e-3)
        elif r.leaked:
            leak = ev[(ev.kind == "leak") & (ev.threat == r.threat)].time_s.iloc[0]
            assert o.removed_at == pytest.approx(leak, abs=1e-3)
        else:  # unresolved: still there when the recording ends
            assert r.unresolved and o.removed_at is None
    outcomes = sorted(ev[ev.kind.isin(["intercept", "miss"])].time_s.round(3))
    salvo_ends = sorted(o.removed_at for o in a.objects.values() if o.tags == "Weapon+Missile"
                        and o.coalition() == "Allies")  # fmt: skip
    assert salvo_ends == pytest.approx(outcomes, abs=1e-3)


def test_acmi_destroyed_and_shot_events_match_the_kills(store, acmi):
    ev, pt, _ = frames(store)
    a = _read(acmi)
    by_id = {o.id: o.get_value("CallSign") for o in a.objects.values()}
    events = _events(_text(acmi))
    destroyed = {(by_id[f[0]], t) for t, kind, f in events if kind == "Destroyed"}
    killed = {(r.threat, round(r.kill_time_s, 3)) for r in pt.itertuples() if r.killed}
    assert destroyed == killed and killed
    shots = [f for _, kind, f in events if kind == "Timeout"]
    outcomes = [f[-2] for f in shots]
    assert outcomes.count("Outcome:Kill") == (ev.kind == "intercept").sum()
    assert outcomes.count("Outcome:Miss") == (ev.kind == "miss").sum()
    # the mandatory text field is there, empty for these kinds
    assert all(f[-1] == "" for _, k, f in events if k in ("Destroyed", "LeftArea", "Timeout"))
    assert all(f[-1] for _, k, f in events if k == "Message")
    left = {by_id[f[0]] for _, kind, f in events if kind == "LeftArea"}
    assert left == set(pt.threat[pt.leaked])


def test_zipped_acmi_reads_the_same(store, acmi, tmp_path):
    z = tmp_path / "run.zip.acmi"
    export(store, None, z)
    assert zipfile.is_zipfile(z)
    assert _text(z) == _text(acmi)
    assert len(_read(z).objects) == len(_read(acmi).objects)
