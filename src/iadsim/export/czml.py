"""CZML of a scene for Cesium (CesiumJS ``CzmlDataSource``, Cesium ion, Cesium for Unreal),
built with the ``czml3`` models.

* The document packet: the scene's name and a clock over the scene (``interval`` from the
  start to the last object's end, ``currentTime`` the start, ``multiplier`` 10: ten simulated
  seconds per second, looping).
* Folders (packets without graphics, as ``parent`` of the others): ``sites``, ``sectors``,
  ``assets``, ``coverage`` (one child per altitude), ``threats``, ``interceptors``, ``events``.
* Sites: points with labels (blue fire units, cyan radar-only sites) on their ground, a
  description listing radars, ranges and interceptors. Radar sectors and defended assets:
  translucent polygons on the ground.
* Coverage: one polygon packet per part of each site's (and the union's) detection and
  engagement polygon at each altitude, drawn at that altitude (``height``; above the terrain
  for ``--agl`` coverage: ``heightReference`` RELATIVE_TO_GROUND), detection blue, engagement
  orange, holes included.
* Threats (red) and interceptor salvos (blue): ``position`` sampled in ``cartographicDegrees``
  (seconds from the ``epoch``, the scene's start; linear interpolation), ``availability`` from
  launch to their end (kill, leak, outcome), a point and a ``path`` trailing the flight.
* Events: points from their time to the end of the clock (intercepts green, misses grey,
  leaks red, first detections and track starts small and blue), each with its sentence as
  description.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from czml3 import (
    CZML_VERSION,
    Clock,
    Color,
    Document,
    Label,
    Material,
    Packet,
    Point,
    Polygon,
    PolylineMaterial,
    Position,
    PositionList,
    SolidColorMaterial,
    TimeInterval,
)
from czml3 import Path as CzmlPath
from czml3.enums import (
    ClockRanges,
    ClockSteps,
    HeightReferences,
    HorizontalOrigins,
    InterpolationAlgorithms,
    LabelStyles,
)
from czml3.properties import HeightReference, PositionListOfLists
from czml3.types import Cartesian2Value

from iadsim.export.geometry import _parts
from iadsim.export.scene import Scene, Track
from iadsim.fileio import atomic_write_text

#: simulated seconds per second of replay
CLOCK_MULTIPLIER = 10.0
RGBA = {
    "fire_unit": [30, 90, 200, 255],
    "radar": [0, 170, 200, 255],
    "threat": [220, 30, 30, 255],
    "interceptor": [40, 110, 255, 255],
    "detection": [40, 110, 220, 70],
    "engagement": [240, 120, 20, 90],
    "sector": [40, 160, 70, 50],
    "asset": [0, 0, 0, 60],
    "intercept": [40, 170, 60, 255],
    "miss": [130, 130, 130, 255],
    "leak": [220, 30, 30, 255],
    "launch": [40, 110, 255, 255],
    "detection_start": [40, 110, 220, 200],
    "track_start": [40, 110, 220, 200],
    "unresolved": [240, 160, 0, 255],
}
EVENT_SIZE = {"intercept": 12, "leak": 12, "miss": 9, "launch": 7, "unresolved": 10}


def _color(key: str) -> Color:
    return Color(rgba=RGBA[key])


def _interval(scene: Scene, t0: float, t1: float) -> TimeInterval:
    return TimeInterval(start=scene.utc(t0), end=scene.utc(t1))


def _ring(coords, height: float) -> list[float]:
    """Flat [lon, lat, h, ...] of a ring, without the closing point (Cesium closes it)."""
    pts = list(coords)[:-1]
    return [v for x, y, *_ in pts for v in (float(x), float(y), float(height))]


def _polygon_packets(pid: str, name: str, parent: str, geom, rgba_key: str, height: float = 0.0,
                     agl: bool = True, description: str | None = None) -> list[Packet]:  # fmt: skip
    """One packet per polygon of ``geom`` (its holes included), at ``height`` m."""
    out = []
    for k, poly in enumerate(_parts(geom)):
        holes = [_ring(r.coords, height) for r in poly.interiors]
        out.append(
            Packet(
                id=f"{pid}#{k}" if k else pid,
                name=name,
                parent=parent,
                description=description,
                polygon=Polygon(
                    positions=PositionList(cartographicDegrees=_ring(poly.exterior.coords, height)),
                    holes=PositionListOfLists(cartographicDegrees=holes) if holes else None,
                    height=float(height),
                    heightReference=HeightReference(
                        heightReference=(
                            HeightReferences.RELATIVE_TO_GROUND if agl else HeightReferences.NONE
                        )
                    ),
                    material=Material(solidColor=SolidColorMaterial(color=_color(rgba_key))),
                    outline=True,
                    outlineColor=Color(rgba=[*RGBA[rgba_key][:3], 200]),
                ),
            )
        )
    return out


def _table(rows: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
        if v not in (None, "")
    )
    return f"<table>{body}</table>"


def _samples(track: Track) -> list[float]:
    out: list[float] = []
    for t, lon, lat, alt in zip(track.time_s, track.lon, track.lat, track.alt_m, strict=True):
        out += [
            round(float(t), 3),
            round(float(lon), 7),
            round(float(lat), 7),
            round(float(alt), 1),
        ]
    return out


def _track_packet(scene: Scene, track: Track, parent: str, key: str) -> Packet:
    end = scene.end_s
    return Packet(
        id=f"{key}/{track.id}",
        name=track.id,
        parent=parent,
        description=_table(
            {
                "id": track.id,
                **track.props,
                "start (s)": round(track.start_s, 3),
                "end (s)": round(track.end_s, 3),
            }
        ),  # fmt: skip
        availability=_interval(scene, track.start_s, track.end_s),
        position=Position(  # type: ignore[call-arg]  # czml3 declares these fields loosely
            epoch=scene.start_utc,
            cartographicDegrees=_samples(track),
            interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE,
            interpolationDegree=1,
        ),
        point=Point(
            pixelSize=7 if key == "threat" else 5,
            color=_color(key),
            outlineColor=Color(rgba=[255, 255, 255, 255]),
            outlineWidth=1,
        ),  # fmt: skip
        path=CzmlPath(
            leadTime=0,
            trailTime=max(end, 1.0),
            width=2 if key == "threat" else 1.5,
            resolution=1,
            material=PolylineMaterial(solidColor=SolidColorMaterial(color=_color(key))),
        ),
    )


def scene_document(scene: Scene) -> Document:
    """The scene as a czml3 :class:`~czml3.Document` (module docstring)."""
    end = scene.end_s
    packets = [
        Packet(
            id="document",
            name=scene.name,
            version=CZML_VERSION,
            description=f"{scene.note} {scene.description}".strip(),
            clock=Clock(
                interval=_interval(scene, 0.0, end),
                currentTime=scene.start_utc,
                multiplier=CLOCK_MULTIPLIER,
                range=ClockRanges.LOOP_STOP,
                step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
            ),
        )
    ]
    folders = ["sites", "sectors", "assets", "coverage", "threats", "interceptors", "events"]
    packets += [Packet(id=f, name=f) for f in folders]
    for s in scene.sites:
        ranges = ", ".join(f"{r.id} {r.detection_range_m / 1000:.0f} km" for r in s.radars)
        packets.append(Packet(
            id=f"site/{s.id}", name=s.id, parent="sites",
            description=_table({"system": s.system, "kind": s.kind,
                                "ground altitude (m)": round(s.ground_m, 1),
                                "detection range": ranges,
                                "engagement range (km)": round(s.engagement_range_m / 1000, 1),
                                "interceptors": ", ".join(s.interceptors),
                                "network": s.network}),
            position=Position(cartographicDegrees=[s.lon, s.lat, round(s.ground_m, 1)]),
            point=Point(pixelSize=12, color=_color(s.kind),
                        outlineColor=Color(rgba=[255, 255, 255, 255]), outlineWidth=2),
            label=Label(text=s.id, font="13px sans-serif", style=LabelStyles.FILL_AND_OUTLINE,
                        outlineWidth=2, horizontalOrigin=HorizontalOrigins.LEFT,
                        pixelOffset=Cartesian2Value(values=[10, 0]),
                        fillColor=Color(rgba=[255, 255, 255, 255]),
                        outlineColor=Color(rgba=[0, 0, 0, 255])),
        ))  # fmt: skip
    for w in scene.sectors:
        packets += _polygon_packets(
            f"sector/{w.site}/{w.radar}", f"{w.radar} sector of {w.site}", "sectors", w.geometry,
            "sector", description=_table({"heading (deg)": w.heading_deg,
                                          "sector (deg)": w.sector_deg,
                                          "range (km)": round(w.range_m / 1000, 1)}),
        )  # fmt: skip
    for a in scene.assets:
        packets += _polygon_packets(f"asset/{a.id}", a.id, "assets", a.geometry, "asset",
                                    description=_table({"radius (km)": a.radius_km,
                                                        "value": a.value}))  # fmt: skip
    alts = sorted({(c.altitude_m, c.agl) for c in scene.coverage})
    for alt, agl in alts:
        packets.append(
            Packet(id=f"coverage/{alt:g}m{'-agl' if agl else ''}",
                   name=f"coverage at {alt:g} m {'AGL' if agl else 'AMSL'}", parent="coverage")
        )  # fmt: skip
    for c in scene.coverage:
        folder = f"coverage/{c.altitude_m:g}m{'-agl' if c.agl else ''}"
        packets += _polygon_packets(
            f"{folder}/{c.kind}/{c.site}", f"{c.site} {c.kind} at {c.altitude_m:g} m", folder,
            c.geometry, c.kind, height=c.altitude_m, agl=c.agl,
            description=_table({"kind": c.kind, "site": c.site, "system": c.system,
                                "altitude (m)": c.altitude_m,
                                "reference": "AGL" if c.agl else "AMSL",
                                "area (km2)": c.area_km2, "threat": c.threat}),
        )  # fmt: skip
    packets += [_track_packet(scene, t, "threats", "threat") for t in scene.threats]
    packets += [_track_packet(scene, t, "interceptors", "interceptor") for t in scene.interceptors]
    for i, e in enumerate(scene.events):
        packets.append(Packet(
            id=f"event/{i}", name=f"{e.kind} {e.time_s:.1f} s", parent="events",
            description=html.escape(e.text),
            availability=_interval(scene, e.time_s, max(end, e.time_s)),
            position=Position(cartographicDegrees=[e.lon, e.lat, e.alt_m]),
            point=Point(pixelSize=EVENT_SIZE.get(e.kind, 6), color=_color(e.kind)),
        ))  # fmt: skip
    return Document(packets=packets)


def write_czml(scene: Scene, path: str | Path) -> Path:
    """Write the scene's CZML to ``path`` atomically."""
    return atomic_write_text(path, scene_document(scene).dumps() + "\n")
