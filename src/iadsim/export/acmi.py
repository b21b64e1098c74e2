"""Tacview ACMI 2.2 text recording of a scene (``.acmi``, ``.txt.acmi``; ``.zip.acmi`` zipped).

Layout, after the Tacview "Technical Reference - ACMI flight recordings 2.2":

* header ``FileType=text/acmi/tacview`` and ``FileVersion=2.2``; UTF-8 with a byte-order mark,
  LF line ends;
* global object ``0``: ``ReferenceTime`` (the scene's start, ISO UTC: see
  :mod:`iadsim.export.scene`), ``Title``, ``DataSource``, ``Briefing`` (the scenario's
  description) and ``Comments`` (the note and where the data came from);
* ``#t`` frames of seconds from ReferenceTime, increasing; object ids hexadecimal without
  prefix or leading zeros; positions ``T=longitude|latitude|altitude`` (degrees, metres MSL);
* the defence in coalition ``Allies``, colour ``Blue``: fire units ``Ground+Static+AntiAircraft``
  with ``EngagementRange`` (their longest engagement range on the export's threat, which
  Tacview draws as a sphere), radar-only sites ``Ground+Static+Sensor`` with ``RadarRange``,
  defended assets ``Ground+Static+Building`` with their ``Radius``, interceptor salvos
  ``Weapon+Missile`` with ``Parent`` = their site. Tacview has no SAM or radar tag of its own:
  these are the tags of its list ("AntiAircraft", "Sensor");
* the threats in coalition ``Enemies``, colour ``Red``: aircraft ``Air+FixedWing``, cruise and
  ballistic missiles ``Weapon+Missile``; ``Name`` is the catalog threat, ``CallSign`` the
  threat's id in the run;
* events: ``Message`` for first detections and track starts; at each salvo's outcome a
  ``Timeout`` event (``SourceId`` the site, ``AmmoType``, ``AmmoCount``, ``TargetId``,
  ``Outcome:Kill`` or ``Miss``; Tacview's shot log) and the salvo's removal ``-id``; at a kill
  ``0,Event=Destroyed|id|`` and the threat's removal; at a leak a ``Message`` naming the asset
  hit, ``LeftArea`` (so that Tacview does not count the impact as a kill by the defence) and
  the removal; an unresolved threat gets a ``Message`` at the end and stays.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from iadsim._version import __version__
from iadsim.export.scene import Scene, Track, iso_utc
from iadsim.fileio import atomic_write

THREAT_TYPES = {"aircraft": "Air+FixedWing", "cruise": "Weapon+Missile",
                "ballistic": "Weapon+Missile"}  # fmt: skip
FIRE_UNIT_TYPE = "Ground+Static+AntiAircraft"
RADAR_TYPE = "Ground+Static+Sensor"
ASSET_TYPE = "Ground+Static+Building"
INTERCEPTOR_TYPE = "Weapon+Missile"


def escape(text: str) -> str:
    """A text property value: commas escaped (``\\,``), line breaks as spaces."""
    return " ".join(str(text).split()).replace(",", "\\,")


def _t(t: float) -> str:
    text = f"{t:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _pos(lon: float, lat: float, alt: float) -> str:
    return f"T={lon:.7f}|{lat:.7f}|{alt:.1f}"


#: order of lines within a frame: positions and properties, events (messages, shot
#: outcomes), an object's end (Destroyed, LeftArea), removals
POSITION, EVENT, END, REMOVAL = 0, 1, 2, 3


class _Lines:
    """Lines by frame time; within a frame by kind (:data:`POSITION`, :data:`EVENT`,
    :data:`END`, :data:`REMOVAL`), then in the order they were added."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, int, int, str]] = []

    def add(self, t: float, line: str, kind: int = POSITION) -> None:
        self.rows.append((round(float(t), 3), kind, len(self.rows), line))

    def frames(self) -> list[str]:
        out, current = [], None
        for t, _, _, line in sorted(self.rows):
            if t != current:
                out.append(f"#{_t(t)}")
                current = t
            out.append(line)
        return out


def _track_lines(lines: _Lines, oid: str, track: Track, first_props: str) -> None:
    for i, (t, lon, lat, alt) in enumerate(
        zip(track.time_s, track.lon, track.lat, track.alt_m, strict=True)
    ):
        lines.add(t, f"{oid},{_pos(lon, lat, alt)}" + (f",{first_props}" if i == 0 else ""))


def acmi_text(scene: Scene) -> str:
    """The recording as text (module docstring)."""
    ids: dict[str, str] = {}

    def new_id(key: str) -> str:
        ids[key] = f"{len(ids) + 1:X}"
        return ids[key]

    comments = f"{scene.note} Source: " + ", ".join(
        f"{k}={v}" for k, v in scene.source.items() if v is not None
    )
    head = [
        "FileType=text/acmi/tacview",
        "FileVersion=2.2",
        "0,ReferenceTime=" + iso_utc(scene.start_utc),
        "0,Title=" + escape(scene.name),
        "0,DataSource=" + escape(f"iadsim {__version__}"),
        "0,Comments=" + escape(comments),
    ]
    if scene.description:
        head.append("0,Briefing=" + escape(scene.description))
    lines = _Lines()
    for s in scene.sites:
        oid = new_id("site/" + s.id)
        if s.kind == "fire_unit":
            extra = f"Type={FIRE_UNIT_TYPE},EngagementRange={s.engagement_range_m:.0f}"
        else:
            reach = max([r.detection_range_m for r in s.radars] + [0.0])
            extra = f"Type={RADAR_TYPE},RadarRange={reach:.0f}"
        lines.add(0.0, f"{oid},{_pos(s.lon, s.lat, s.ground_m)},{extra},Name={escape(s.system)},"
                       f"CallSign={escape(s.id)},Coalition=Allies,Color=Blue")  # fmt: skip
    for a in scene.assets:
        oid = new_id("asset/" + a.id)
        lines.add(0.0, f"{oid},{_pos(a.lon, a.lat, a.ground_m)},Type={ASSET_TYPE},Name={escape(a.id)},"
                       f"Radius={a.radius_km * 1000:.0f},Coalition=Allies,Color=Green")  # fmt: skip
    for tr in scene.threats:
        oid = new_id("threat/" + tr.id)
        kind = THREAT_TYPES.get(str(tr.props.get("target_class")), "Weapon+Missile")
        _track_lines(lines, oid, tr, f"Type={kind},Name={escape(tr.props.get('threat_type', ''))},"
                                     f"CallSign={escape(tr.id)},Coalition=Enemies,Color=Red")  # fmt: skip
        fate = tr.props.get("fate")
        if fate == "killed":
            lines.add(tr.end_s, f"0,Event=Destroyed|{oid}|", END)
            lines.add(tr.end_s, f"-{oid}", REMOVAL)
        elif fate in ("leaked", "arrived", "arrives"):
            asset = tr.props.get("asset")
            what = f"impact on {asset}" if asset else "reaches its target"
            verb = "leaks:" if fate == "leaked" else "(undefended)"
            lines.add(tr.end_s, f"0,Event=Message|{oid}|{escape(f'{tr.id} {verb} {what}')}", EVENT)
            lines.add(tr.end_s, f"0,Event=LeftArea|{oid}|", END)
            lines.add(tr.end_s, f"-{oid}", REMOVAL)
        elif fate == "unresolved":
            lines.add(tr.end_s, f"0,Event=Message|{oid}|"
                                + escape(f"{tr.id} unresolved: still flying when the simulated "
                                         "time ends"), EVENT)  # fmt: skip
    for tr in scene.interceptors:
        site = str(tr.props.get("site"))
        oid = new_id("interceptor/" + tr.id)
        parent = ids.get("site/" + site)
        rounds = int(tr.props.get("rounds") or 1)
        props = (f"Type={INTERCEPTOR_TYPE},Name={escape(tr.props.get('interceptor', ''))},"
                 f"CallSign={escape(tr.id)},Label={escape(f'salvo of {rounds}')},"
                 "Coalition=Allies,Color=Blue")  # fmt: skip
        if parent is not None:
            props += f",Parent={parent}"
        _track_lines(lines, oid, tr, props)
        outcome = tr.props.get("outcome")
        target = ids.get("threat/" + str(tr.props.get("target")))
        if outcome in ("kill", "miss"):
            fields = [f"SourceId:{parent}" if parent else None,
                      f"AmmoType:{escape(tr.props.get('interceptor', ''))}",
                      f"AmmoCount:{rounds}",
                      f"TargetId:{target}" if target else None,
                      f"Outcome:{'Kill' if outcome == 'kill' else 'Miss'}"]  # fmt: skip
            lines.add(tr.end_s, "0,Event=Timeout|" + "|".join(f for f in fields if f) + "|", EVENT)
        lines.add(tr.end_s, f"-{oid}", REMOVAL)
    for e in scene.events:
        if e.kind not in ("detection_start", "track_start"):
            continue  # the others are drawn by the objects and their events above
        refs = [ids.get("site/" + str(e.site)), ids.get("threat/" + str(e.threat))]
        lines.add(e.time_s, "0,Event=Message|" + "".join(f"{r}|" for r in refs if r)
                  + escape(e.text), EVENT)  # fmt: skip
    return "\n".join(head + lines.frames()) + "\n"


def write_acmi(scene: Scene, path: str | Path) -> Path:
    """Write the recording to ``path`` atomically: zipped when the name ends in ``.zip.acmi``
    (one member, ``<stem>.txt.acmi``, with a fixed date so that the bytes are reproducible),
    else as text."""
    data = ("\ufeff" + acmi_text(scene)).encode("utf-8")
    path = Path(path)
    if path.name.lower().endswith(".zip.acmi"):
        member = path.name[: -len(".zip.acmi")] + ".txt.acmi"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo(member, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        data = buf.getvalue()
    return atomic_write(path, lambda p: p.write_bytes(data))
