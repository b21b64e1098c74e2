"""KML of a scene for Google Earth (Pro, web) and other KML viewers, built with ``simplekml``;
a ``.kmz`` name writes it zipped.

Folders: ``Sites`` (fire units blue triangles, radar-only sites cyan circles; a balloon with
the system, radars, ranges and interceptors), ``Radar sectors`` (green, on the ground),
``Defended assets`` (black outlines), ``Coverage`` with one folder per altitude holding
``Detection`` (blue fill) and ``Engagement`` (orange fill) polygons of each site and of the
union, drawn at that altitude (``absolute``; ``relativeToGround`` for coverage above
ground), ``Threats`` (red) and ``Interceptors`` (blue) as time-stamped ``gx:Track`` paths
(Google Earth's time slider replays them), and ``Events`` as time-stamped points.

simplekml numbers every object from a counter of the process; it is reset before each
export, so that the same scene gives the same file.
"""

from __future__ import annotations

from pathlib import Path

import simplekml
import simplekml.base

from iadsim.export.geometry import _parts
from iadsim.export.scene import Scene, Track, iso_utc
from iadsim.fileio import atomic_path

ICONS = "http://maps.google.com/mapfiles/kml/shapes/"
#: KML colours are aabbggrr
COLORS = {
    "fire_unit": "ffc85a1e",
    "radar": "ffc8aa00",
    "threat": "ff1e1edc",
    "interceptor": "ffff6e28",
    "detection": "50dc6e28",
    "engagement": "5a1478f0",
    "sector": "40468c28",
    "asset": "ff000000",
    "intercept": "ff3caa28",
    "miss": "ff828282",
    "leak": "ff1e1edc",
    "launch": "ffff6e28",
    "detection_start": "ffdc6e28",
    "track_start": "ffdc6e28",
    "unresolved": "ff00a0f0",
}
EVENT_ICONS = {"intercept": "star.png", "leak": "caution.png", "miss": "forbidden.png",
               "launch": "arrow.png", "unresolved": "caution.png"}  # fmt: skip


def _style(sid: str) -> simplekml.Style:
    st = simplekml.Style()
    st._id = sid  # readable ids (the private attribute is simplekml's only way)
    return st


def _styles() -> dict[str, simplekml.Style]:
    st: dict[str, simplekml.Style] = {}
    for key, icon in (("fire_unit", "triangle.png"), ("radar", "placemark_circle.png")):
        s = st[key] = _style(key)
        s.iconstyle.icon.href = ICONS + icon
        s.iconstyle.color = COLORS[key]
        s.iconstyle.scale = 1.2
        s.labelstyle.scale = 0.9
    for key in ("detection", "engagement", "sector"):
        s = st[key] = _style(key)
        s.polystyle.color = COLORS[key]
        s.linestyle.color = "c8" + COLORS[key][2:]
        s.linestyle.width = 1
    s = st["asset"] = _style("asset")
    s.polystyle.fill = 0
    s.linestyle.color = COLORS["asset"]
    s.linestyle.width = 2
    for key in ("threat", "interceptor"):
        s = st[key] = _style(key)
        s.linestyle.color = COLORS[key]
        s.linestyle.width = 2 if key == "threat" else 1.5
        s.iconstyle.icon.href = ICONS + ("airports.png" if key == "threat" else "target.png")
        s.iconstyle.color = COLORS[key]
        s.iconstyle.scale = 0.7
        s.labelstyle.scale = 0
    for key in ("intercept", "miss", "leak", "launch", "detection_start", "track_start",
                "unresolved"):  # fmt: skip
        s = st[key] = _style(key)
        s.iconstyle.icon.href = ICONS + EVENT_ICONS.get(key, "shaded_dot.png")
        s.iconstyle.color = COLORS[key]
        s.iconstyle.scale = 0.8 if key in EVENT_ICONS else 0.5
        s.labelstyle.scale = 0
    return st


def _rings(poly, height: float) -> tuple[list, list]:
    outer = [(x, y, height) for x, y, *_ in poly.exterior.coords]
    inner = [[(x, y, height) for x, y, *_ in r.coords] for r in poly.interiors]
    return outer, inner


def _add_polygon(folder, name: str, geom, style, height: float = 0.0, mode=None,
                 description: str = "") -> None:  # fmt: skip
    """One placemark per (Multi)Polygon: a Polygon or a MultiGeometry of its parts."""
    parts = _parts(geom)
    if not parts:
        return
    mode = mode or simplekml.AltitudeMode.clamptoground
    if len(parts) == 1:
        pol = folder.newpolygon(name=name, description=description)
        pol.outerboundaryis, pol.innerboundaryis = _rings(parts[0], height)
        pol.altitudemode = mode
        pol.style = style
        return
    multi = folder.newmultigeometry(name=name, description=description)
    for p in parts:
        pol = multi.newpolygon()
        pol.outerboundaryis, pol.innerboundaryis = _rings(p, height)
        pol.altitudemode = mode
    multi.style = style


def _add_track(folder, scene: Scene, track: Track, style) -> None:
    trk = folder.newgxtrack(name=track.id)
    trk.newwhen([iso_utc(scene.utc(t)) for t in track.time_s])
    trk.newgxcoord(
        [
            (round(float(x), 7), round(float(y), 7), round(float(z), 1))
            for x, y, z in zip(track.lon, track.lat, track.alt_m, strict=True)
        ]  # fmt: skip
    )
    trk.altitudemode = simplekml.AltitudeMode.absolute
    trk.style = style
    for k, v in track.props.items():
        if v is not None:
            trk.extendeddata.newdata(name=k, value=str(v))
    trk.description = ", ".join(f"{k}: {v}" for k, v in track.props.items() if v is not None)


def scene_kml(scene: Scene) -> simplekml.Kml:
    """The scene as a simplekml document (module docstring)."""
    simplekml.base.Kmlable._globalid = 0  # reproducible ids (module docstring)
    kml = simplekml.Kml(name=scene.name)
    kml.document.description = f"{scene.note} {scene.description}".strip()
    st = _styles()
    sites = kml.newfolder(name="Sites")
    for s in scene.sites:
        p = sites.newpoint(name=s.id, coords=[(s.lon, s.lat, s.ground_m)])
        p.style = st[s.kind]
        for k, v in (("system", s.system), ("kind", s.kind),
                     ("ground_altitude_m", round(s.ground_m, 1)),
                     ("radars", ", ".join(f"{r.id} ({r.detection_range_m / 1000:.0f} km)"
                                          for r in s.radars)),
                     ("engagement_range_km", round(s.engagement_range_m / 1000, 1)),
                     ("interceptors", ", ".join(s.interceptors)),
                     ("network", s.network)):  # fmt: skip
            if v not in (None, ""):
                p.extendeddata.newdata(name=k, value=str(v))
    if scene.sectors:
        sectors = kml.newfolder(name="Radar sectors")
        for w in scene.sectors:
            _add_polygon(sectors, f"{w.site} {w.radar}", w.geometry, st["sector"],
                         description=f"heading {w.heading_deg:g} deg, sector {w.sector_deg:g} "
                                     f"deg, {w.range_m / 1000:.0f} km")  # fmt: skip
    if scene.assets:
        assets = kml.newfolder(name="Defended assets")
        for a in scene.assets:
            _add_polygon(assets, a.id, a.geometry, st["asset"],
                         description=f"radius {a.radius_km:g} km, value {a.value:g}")  # fmt: skip
    if scene.coverage:
        cov = kml.newfolder(name="Coverage")
        by_alt: dict[tuple[float, bool], dict[str, simplekml.Folder]] = {}
        for c in scene.coverage:
            key = (c.altitude_m, c.agl)
            if key not in by_alt:
                alt = cov.newfolder(name=f"{c.altitude_m:g} m {'AGL' if c.agl else 'AMSL'}")
                by_alt[key] = {k: alt.newfolder(name=k.capitalize())
                               for k in ("detection", "engagement")}  # fmt: skip
            mode = (simplekml.AltitudeMode.relativetoground if c.agl
                    else simplekml.AltitudeMode.absolute)  # fmt: skip
            _add_polygon(by_alt[key][c.kind], f"{c.site} {c.kind}", c.geometry, st[c.kind],
                         height=c.altitude_m, mode=mode,
                         description=f"{c.system}: {c.area_km2:,.1f} km2 at {c.altitude_m:g} m "
                                     f"{'AGL' if c.agl else 'AMSL'} vs {c.threat}")  # fmt: skip
    for name, tracks, style in (("Threats", scene.threats, "threat"),
                                ("Interceptors", scene.interceptors, "interceptor")):  # fmt: skip
        if tracks:
            folder = kml.newfolder(name=name)
            for t in tracks:
                _add_track(folder, scene, t, st[style])
    if scene.events:
        events = kml.newfolder(name="Events")
        for e in scene.events:
            p = events.newpoint(name=e.kind, coords=[(e.lon, e.lat, e.alt_m)],
                                description=e.text)  # fmt: skip
            p.altitudemode = simplekml.AltitudeMode.absolute
            p.timestamp.when = iso_utc(scene.utc(e.time_s))
            p.style = st[e.kind]
    return kml


def write_kml(scene: Scene, path: str | Path) -> Path:
    """Write the scene's KML to ``path`` atomically (zipped KMZ when it ends in ``.kmz``)."""
    kml = scene_kml(scene)
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".kmz":
            kml.savekmz(str(tmp), format=False)
        else:
            kml.save(str(tmp), format=False)
    return path
