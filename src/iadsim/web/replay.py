"""One run of a job as the page's replay: the export package's scene of a stored run
(:func:`iadsim.export.runs.run_scene`: the threats' flights flown again and checked against
the recorded positions, the salvos' fly-outs, the events) as JSON, plus the shots not taken
with their reason (``no_engagement`` events, which the exports leave out)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from iadsim.export.runs import run_scene
from iadsim.export.scene import Scene, Track, iso_utc
from iadsim.results.store import open_store

#: decimals of the replay's coordinates (~1 m) and times
LONLAT_DECIMALS, TIME_DECIMALS = 5, 2


def _f(x: Any, nd: int = 1) -> float | None:
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def _samples(t: Track) -> list[list[float]]:
    return np.column_stack(
        [
            np.round(t.time_s, TIME_DECIMALS),
            np.round(t.lon, LONLAT_DECIMALS),
            np.round(t.lat, LONLAT_DECIMALS),
            np.round(t.alt_m, 0),
        ]
    ).tolist()


def _props(t: Track) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in t.props.items():
        if isinstance(v, (np.floating, float)):
            out[k] = _f(v, 3)
        elif isinstance(v, np.integer):
            out[k] = int(v)
        else:
            out[k] = v
    return out


def _shots_not_taken(results: Path, run_id: int, scene: Scene) -> list[dict[str, Any]]:
    con = open_store(results)
    try:
        rows = con.execute(
            "SELECT time_s, site, threat, reason, lon, lat, alt_m FROM events "
            "WHERE run_id = ? AND kind = 'no_engagement' ORDER BY time_s",
            [int(run_id)],
        ).fetchall()
    finally:
        con.close()
    tracks = {t.id: t for t in scene.threats}
    out = []
    for time_s, site, threat, reason, lon, lat, alt in rows:
        lon, lat, alt = (float("nan") if v is None else float(v) for v in (lon, lat, alt))
        if not (math.isfinite(lon) and math.isfinite(lat)) and threat in tracks:
            lon, lat, alt = tracks[threat].position_at(float(time_s))
        if not (math.isfinite(lon) and math.isfinite(lat)):
            continue
        out.append(
            {
                "t": _f(time_s, TIME_DECIMALS),
                "kind": "no_engagement",
                "site": site,
                "threat": threat,
                "interceptor": None,
                "lon": _f(lon, LONLAT_DECIMALS),
                "lat": _f(lat, LONLAT_DECIMALS),
                "alt_m": _f(alt, 0),
                "reason": reason,
                "text": f"{site} does not engage {threat}: {reason}",
            }
        )
    return out


def replay(results: Path, run_id: int) -> dict[str, Any]:
    """The replay JSON of run ``run_id`` of the results directory ``results``."""
    scene = run_scene(results, run_id)
    events: list[dict[str, Any]] = [
        {
            "t": _f(e.time_s, TIME_DECIMALS),
            "kind": e.kind,
            "site": e.site,
            "threat": e.threat,
            "interceptor": e.interceptor,
            "lon": _f(e.lon, LONLAT_DECIMALS),
            "lat": _f(e.lat, LONLAT_DECIMALS),
            "alt_m": _f(e.alt_m, 0),
            "reason": None,
            "text": e.text,
        }
        for e in scene.events
    ]
    events += _shots_not_taken(results, run_id, scene)
    events.sort(key=lambda e: e["t"] if e["t"] is not None else math.inf)
    return {
        "run": int(run_id),
        "name": scene.name,
        "start_s": 0.0,
        "end_s": _f(scene.end_s, TIME_DECIMALS),
        "start_utc": iso_utc(scene.start_utc),
        "threats": [
            {
                "id": t.id,
                "class": t.props.get("target_class"),
                "fate": t.props.get("fate"),
                "props": _props(t),
                "samples": _samples(t),
            }
            for t in scene.threats
        ],
        "interceptors": [
            {"id": t.id, "props": _props(t), "samples": _samples(t)} for t in scene.interceptors
        ],
        "events": events,
        "sites": [
            {
                "id": s.id,
                "system": s.system,
                "kind": s.kind,
                "lon": s.lon,
                "lat": s.lat,
                "ground_m": _f(s.ground_m),
                "network": s.network,
            }
            for s in scene.sites
        ],
    }
