"""GeoJSON (RFC 7946) of a scene: one FeatureCollection for QGIS, GDAL, geopandas, web maps.

Coordinates are WGS84 longitude, latitude (degrees, 6 decimals) and, where the feature has
one, altitude in metres above the WGS84 ellipsoid (RFC 7946 §3.1.1). Polygons follow the
right-hand rule (exterior rings counter-clockwise, holes clockwise) and none crosses the
antimeridian: a polygon or line that would is split into a Multi- geometry at ±180°
(RFC 7946 §3.1.9). No ``crs`` member (RFC 7946 §4).

Every feature has ``layer`` (``site``, ``sector``, ``asset``, ``coverage``, ``threat_track``,
``interceptor_flyout``, ``event``) and properties with their units in their names (``_m``,
``_km``, ``_km2``, ``_deg``, ``_s``); times are seconds of simulated time and UTC ISO 8601
strings (``start_utc``/``end_utc``, ``time_utc``), which QGIS's temporal controller can use.
The collection's foreign member ``iadsim`` holds the source, the start time and the note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from iadsim._version import __version__
from iadsim.export.geometry import LONLAT_DECIMALS, split_line
from iadsim.export.scene import Scene, Track, iso_utc
from iadsim.fileio import atomic_write_text


def _r(x: float, nd: int = LONLAT_DECIMALS) -> float:
    return round(float(x), nd)


def _point(lon: float, lat: float, alt: float | None = None) -> dict:
    c = [_r(lon), _r(lat)] + ([] if alt is None else [round(float(alt), 1)])
    return {"type": "Point", "coordinates": c}


def _polygon(geom) -> dict:
    return shapely.geometry.mapping(geom)


def _line(track: Track) -> dict:
    pieces = split_line(track.lon, track.lat, track.alt_m)
    coords = [[[_r(x), _r(y), round(float(z), 1)] for x, y, z in piece] for piece in pieces]
    if len(coords) == 1:
        return {"type": "LineString", "coordinates": coords[0]}
    return {"type": "MultiLineString", "coordinates": coords}


def _feature(geometry: dict, props: dict[str, Any]) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _km(m: float) -> float:
    return round(float(m) / 1000.0, 1)


def _clean(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def scene_geojson(scene: Scene) -> dict:
    """The scene as a GeoJSON FeatureCollection (a dict; module docstring)."""
    feats = []
    for s in scene.sites:
        feats.append(_feature(_point(s.lon, s.lat, s.ground_m), {
            "layer": "site", "site": s.id, "system": s.system, "kind": s.kind,
            "ground_altitude_m": round(s.ground_m, 1),
            "radars": ", ".join(r.id for r in s.radars),
            "detection_range_km": _km(max([r.detection_range_m for r in s.radars] + [0.0])),
            "engagement_range_km": _km(s.engagement_range_m),
            "interceptors": ", ".join(s.interceptors),
            "network": s.network,
        }))  # fmt: skip
    for w in scene.sectors:
        feats.append(_feature(_polygon(w.geometry), {
            "layer": "sector", "site": w.site, "radar": w.radar, "heading_deg": w.heading_deg,
            "sector_deg": w.sector_deg, "range_km": _km(w.range_m),
        }))  # fmt: skip
    for a in scene.assets:
        feats.append(_feature(_polygon(a.geometry), {
            "layer": "asset", "asset": a.id, "radius_km": a.radius_km, "value": a.value,
        }))  # fmt: skip
    for c in scene.coverage:
        feats.append(_feature(_polygon(c.geometry), {
            "layer": "coverage", "kind": c.kind, "site": c.site, "system": c.system,
            "altitude_m": c.altitude_m, "altitude_reference": "agl" if c.agl else "amsl",
            "area_km2": c.area_km2, "threat": c.threat, "resolution_km": c.resolution_km,
        }))  # fmt: skip
    for layer, tracks in (("threat_track", scene.threats),
                          ("interceptor_flyout", scene.interceptors)):  # fmt: skip
        for t in tracks:
            props = {
                "layer": layer,
                "id": t.id,
                **{k: _clean(v) for k, v in t.props.items()},
                "start_s": round(t.start_s, 3),
                "end_s": round(t.end_s, 3),
                "start_utc": iso_utc(scene.utc(t.start_s)),
                "end_utc": iso_utc(scene.utc(t.end_s)),
            }
            feats.append(_feature(_line(t), props))
    for e in scene.events:
        feats.append(_feature(_point(e.lon, e.lat, e.alt_m), {
            "layer": "event", "kind": e.kind, "time_s": round(e.time_s, 3),
            "time_utc": iso_utc(scene.utc(e.time_s)), "site": e.site, "threat": e.threat,
            "interceptor": e.interceptor, "text": e.text,
        }))  # fmt: skip
    return {
        "type": "FeatureCollection",
        "name": scene.name,
        "iadsim": {
            "version": __version__,
            "source": scene.source,
            "start_utc": iso_utc(scene.start_utc),
            "duration_s": scene.duration_s,
            "note": scene.note,
        },
        "features": feats,
    }


def write_geojson(scene: Scene, path: str | Path) -> Path:
    """Write the scene's GeoJSON to ``path`` atomically."""
    text = json.dumps(scene_geojson(scene), ensure_ascii=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")
