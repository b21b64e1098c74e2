"""One run of a results store as a :class:`~iadsim.export.scene.Scene`.

The store keeps each run's events (detections, tracks, launches, intercepts, misses, leaks;
:mod:`iadsim.sim.events`), not the threats' flights: those are deterministic, so they are
flown again here from the scenario the job ran (the store's ``meta.scenario_text``), with the
catalog numbers the run drew when the job had parameter uncertainty (``parameter_draws``), and
checked against the positions the store recorded (a warning when they differ by more than
:data:`MATCH_TOLERANCE_M`, e.g. after the scenario's DEM file changed).

What the scene holds for the run:

* each threat from its launch to its kill (the recorded intercept point), its leak (the
  recorded impact point) or, unresolved, the end of the simulated time;
* each salvo (one ``launch`` event, ``value`` interceptors) as one interceptor track from its
  site to the recorded outcome: the ``intercept`` or ``miss`` event that follows the launch on
  the same (site, threat), launches and outcomes paired in time order. iadsim models no
  guidance law: the fly-out is drawn as a simple arc, along the geodesic from the launcher to
  the outcome point at constant ground speed, its altitude rising linearly from the launcher's
  ground to the outcome point's plus a parabolic loft of :data:`LOFT_FRACTION` of the ground
  distance at mid-way. A salvo without a recorded outcome (the simulated time ended first) is
  drawn to its predicted intercept point (the launch event's position), ending when its
  target's track ends;
* point events: first detection of a threat by each site, track starts, launches,
  intercepts, misses, leaks and unresolved threats.

A sweep's store (a ``variant`` column) holds several scenarios: one is chosen with
``variant``, and its scenario is built by the caller (``variant_scenario``: the sweep layer's
:func:`iadsim.sweeps.build_variants`, which this layer cannot import).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from iadsim.coverage.grid import GEOD
from iadsim.errors import IadsimError, IadsimWarning, InputError
from iadsim.export.scene import (
    EventMark,
    Scene,
    Track,
    base_scene,
    check_sample_s,
    compute_layers,
    flight_times,
    flight_windows,
    sample_flights,
    threat_props,
    threat_track,
)
from iadsim.results.store import open_store
from iadsim.scenario import Scenario, scenario_from_dict
from iadsim.sim.prepared import open_dem

#: the fly-out arc's loft at mid-way, as a fraction of the ground distance
LOFT_FRACTION = 0.1
#: the largest distance between a recomputed flight and a position the store recorded
#: before the export warns that the flights may not be the run's
MATCH_TOLERANCE_M = 50.0

#: a sweep variant's scenario: (base scenario dict, the variant's settings, scenario file)
VariantScenario = Callable[[dict[str, Any], dict[str, Any], Path | None], Scenario]


class FlightMismatchWarning(IadsimWarning):
    """The flights recomputed from the store's scenario do not pass through the positions the
    run recorded: the scenario's DEM (not stored) or the iadsim version may differ from the
    job's, and the exported tracks then do not show the run."""


def _meta(con) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def _tables(con) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }


def _ids_text(ids: Sequence[int]) -> str:
    ids = sorted(int(i) for i in ids)
    if not ids:
        return "none"
    if ids == list(range(ids[0], ids[-1] + 1)) and len(ids) > 2:
        return f"{ids[0]}-{ids[-1]}"
    return ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20 else "")


def _base_data(meta: dict[str, str], where: Path) -> dict[str, Any]:
    text = meta.get("scenario_text")
    if not text:
        raise InputError(
            f"{where}: the store records no scenario_text (written by an older iadsim); "
            "export the scenario file instead"
        )
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise InputError(f"{where}: the store's scenario_text is not a scenario mapping")
    return data


def _scenario_file(meta: dict[str, str]) -> Path | None:
    f = meta.get("scenario_file")
    return None if f in (None, "", "None") else Path(f)


def _resolve(data: dict[str, Any], scenario_file: Path | None, where: Path) -> Scenario:
    base_dir = scenario_file.parent if scenario_file is not None else None
    try:
        scn = scenario_from_dict(data, base_dir)
    except IadsimError as exc:
        raise InputError(
            f"{where}: the run's scenario (meta.scenario_text, from "
            f"{scenario_file or 'a dict'}) does not load here: {exc}; run the export from the "
            "directory the job ran in, or give the DEM with dem"
        ) from None
    if scenario_file is not None:
        scn._path = scenario_file
    return scn


def _with_draws(scn: Scenario, draws: pd.DataFrame) -> Scenario:
    """The scenario on the catalog numbers the run drew (parameter uncertainty)."""
    if not len(draws):
        return scn
    overrides: dict[str, dict[str, Any]] = {}
    for item, fld, value in draws[["item", "field", "value"]].itertuples(index=False):
        q = scn.catalog.quantity(item, fld)
        overrides.setdefault(item, {})[fld] = q.model_copy(update={"value": float(value)})
    return scn.with_catalog(scn.catalog.with_overrides(overrides))


def _dem_data(data: dict[str, Any], dem) -> dict[str, Any]:
    """The scenario dict with its DEM replaced by ``dem`` (before validation: a stored DEM
    path that is not found here must not fail the load)."""
    if dem is None:
        return data
    path = Path(dem)
    if not path.is_file():
        raise InputError(f"dem {str(path)!r}: file not found; give a GeoTIFF DEM", "dem")
    env = dict(data.get("environment") or {})
    env["dem"] = str(path.resolve())
    return {**data, "environment": env}


def load_run(
    store: str | Path,
    run_id: int = 0,
    variant: int | None = None,
    variant_scenario: VariantScenario | None = None,
    dem: str | Path | None = None,
) -> tuple[Scenario, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The scenario, events and per_threat rows of run ``run_id`` (of sweep variant
    ``variant``) in the results store ``store`` (its directory or ``results.duckdb``), and a
    description of the source. One-line :class:`InputError` naming ``run_id`` or ``variant``
    when the store does not hold them."""
    where = Path(store)
    con = open_store(where)
    try:
        meta = _meta(con)
        tables = _tables(con)
        sweep = "variants" in tables
        variant_rows = (
            con.execute("SELECT variant, label, settings FROM variants ORDER BY variant").fetchall()
            if sweep
            else []
        )
        if sweep and variant is None:
            listing = "; ".join(f"{v}: {label}" for v, label, _ in variant_rows[:10])
            raise InputError(
                f"variant: {where} holds a sweep of {len(variant_rows)} variants ({listing}"
                f"{' ...' if len(variant_rows) > 10 else ''}); choose one with variant",
                "variant",
            )
        if not sweep and variant is not None:
            raise InputError(
                f"variant {variant}: {where} holds one job, not a sweep; leave variant out",
                "variant",
            )
        cond, args = "run_id = ?", [int(run_id)]
        if sweep:
            if variant not in {v for v, _, _ in variant_rows}:
                raise InputError(
                    f"variant {variant}: {where} holds variants "
                    f"{_ids_text([v for v, _, _ in variant_rows])}",
                    "variant",
                )
            cond += " AND variant = ?"
            args.append(int(variant))  # type: ignore[arg-type]
        vcond = " WHERE variant = ?" if sweep else ""
        vargs = [int(variant)] if sweep else []  # type: ignore[arg-type]
        ids = [r[0] for r in con.execute(f"SELECT run_id FROM runs{vcond}", vargs).fetchall()]
        if int(run_id) not in ids:
            raise InputError(f"run_id {run_id}: {where} holds runs {_ids_text(ids)}", "run_id")
        events = con.execute(f"SELECT * FROM events WHERE {cond} ORDER BY time_s", args).df()
        per_threat = con.execute(f"SELECT * FROM per_threat WHERE {cond}", args).df()
        draws = (
            con.execute(f"SELECT item, field, value FROM parameter_draws WHERE {cond}", args).df()
            if "parameter_draws" in tables
            else pd.DataFrame(columns=["item", "field", "value"])
        )
    finally:
        con.close()
    data = _dem_data(_base_data(meta, where), dem)
    scenario_file = _scenario_file(meta)
    if sweep:
        settings = json.loads(next(s for v, _, s in variant_rows if v == variant))
        if variant_scenario is None:
            raise InputError(
                f"variant {variant}: building a sweep variant's scenario needs "
                "variant_scenario (e.g. lambda d, s, f: iadsim.sweeps.build_variants(d, [s], "
                "f)[0])",
                "variant",
            )
        scn = variant_scenario(data, settings, scenario_file)
    else:
        scn = _resolve(data, scenario_file, where)
    scn = _with_draws(scn, draws)
    source = {
        "input": "results",
        "store": str(where),
        "run_id": int(run_id),
        "variant": None if variant is None else int(variant),
        "scenario_sha256": meta.get("scenario_sha256"),
        "command": meta.get("command"),
        "parameter_uncertainty": meta.get("parameter_uncertainty") == "True",
    }
    return scn, events, per_threat, source


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _name(x) -> str | None:
    """A text cell of the store as str, or None for SQL NULL (None, NaN or pd.NA)."""
    return None if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)


def flyout(
    track_id: str,
    start: tuple[float, float, float],
    end: tuple[float, float, float],
    t0_s: float,
    t1_s: float,
    sample_s: float,
    props: dict[str, Any],
) -> Track:
    """The drawn fly-out from ``start`` to ``end`` (lon, lat, alt) between ``t0_s`` and
    ``t1_s``: along the geodesic at constant ground speed, altitude linear plus a parabolic
    loft of :data:`LOFT_FRACTION` of the ground distance at mid-way (module docstring)."""
    t1_s = max(t1_s, t0_s + 1e-3)
    inner = np.arange(np.floor(t0_s / sample_s) + 1, np.ceil(t1_s / sample_s)) * sample_s
    t = np.unique(np.concatenate([[t0_s], inner[(inner > t0_s) & (inner < t1_s)], [t1_s]]))
    f = (t - t0_s) / (t1_s - t0_s)
    az, _, dist = GEOD.inv(start[0], start[1], end[0], end[1])
    lon, lat, _ = GEOD.fwd(np.full(t.shape, start[0]), np.full(t.shape, start[1]),
                           np.full(t.shape, az), f * dist)  # fmt: skip
    lon = (np.asarray(lon) + 180.0) % 360.0 - 180.0
    alt = start[2] + (end[2] - start[2]) * f + LOFT_FRACTION * dist * 4.0 * f * (1.0 - f)
    lon[-1], lat[-1], alt[-1] = end
    return Track(track_id, "interceptor", t, lon, np.asarray(lat, float), alt, props)


def _check_match(events: pd.DataFrame, tracks: dict[str, Track]) -> None:
    """Warn when the recomputed flights miss the positions the run recorded at its
    detections and track starts (true threat positions at step times)."""
    ev = events[events.kind.isin(["detection_start", "track_start"]) & events.lat.notna()]
    worst = 0.0
    for threat, t, lon, lat, alt in ev[["threat", "time_s", "lon", "lat", "alt_m"]].itertuples(
        index=False
    ):
        tr = tracks.get(threat)
        if tr is None or not tr.start_s <= t <= tr.end_s:
            continue
        x, y, z = tr.position_at(t)
        ground = GEOD.inv(x, y, lon, lat)[2]
        worst = max(worst, float(np.hypot(ground, z - alt)))
    if worst > MATCH_TOLERANCE_M:
        warnings.warn(
            FlightMismatchWarning(
                f"the flights recomputed from the run's scenario are up to {worst:,.0f} m from "
                "the positions the run recorded: the scenario's DEM or the iadsim version may "
                "differ from the job's, so the tracks may not show the run"
            ),
            stacklevel=3,
        )


def run_scene(
    store: str | Path,
    run_id: int = 0,
    *,
    variant: int | None = None,
    variant_scenario: VariantScenario | None = None,
    altitudes_m: Sequence[float] = (),
    agl: bool = False,
    threat: str = "fighter-4gen",
    resolution_km: float = 2.0,
    fixed_sectors: bool = False,
    dem: str | Path | None = None,
    sample_s: float | None = None,
    start_utc: dt.datetime | None = None,
) -> Scene:
    """The scene of run ``run_id`` of a results store (module docstring); with
    ``altitudes_m``, the sites' coverage at those altitudes too."""
    scn, events, per_threat, source = load_run(store, run_id, variant, variant_scenario, dem)
    step = check_sample_s(sample_s, scn)
    scene = base_scene(scn, source=source, threat=threat, start_utc=start_utc)
    if altitudes_m:
        scene.coverage = compute_layers(
            scn, altitudes_m, agl, threat, resolution_km, None, fixed_sectors
        )
    ev = events.copy()
    for col in ("site", "threat", "interceptor", "reason"):
        ev[col] = pd.Series([_name(x) for x in ev[col]], index=ev.index, dtype=object)
    pt = per_threat.set_index("threat") if len(per_threat) else per_threat
    duration = scene.duration_s
    with open_dem(scn) as dem_file:
        launch, impact, names = flight_windows(scn, dem_file)
        outcome_kinds = ["intercept", "miss", "leak", "unresolved", "launch"]
        extra = [*launch, *impact, *ev.loc[ev.kind.isin(outcome_kinds), "time_s"].to_numpy(float)]
        traj = sample_flights(scn, flight_times(scn, step, extra), dem_file)
    kills = ev[ev.kind == "intercept"].drop_duplicates("threat", keep="first").set_index("threat")
    leaks = ev[ev.kind == "leak"].drop_duplicates("threat", keep="first").set_index("threat")
    impacts = ev[ev.kind == "impact"].drop_duplicates("threat").set_index("threat")
    tracks: dict[str, Track] = {}
    for n, name in enumerate(names):
        name = str(name)
        row = pt.loc[name] if name in pt.index else None
        start = float(launch[n])
        if start > duration:
            continue  # never launched within the simulated time
        end_point = None
        asset = None
        if row is not None and bool(row["killed"]) and np.isfinite(_num(row["kill_time_s"])):
            fate, end = "killed", float(row["kill_time_s"])
            if name in kills.index:
                k = kills.loc[name]
                end_point = (float(k.lon), float(k.lat), float(k.alt_m))
        elif name in leaks.index:
            k = leaks.loc[name]
            fate, end = "leaked", float(k.time_s)
            end_point = (float(k.lon), float(k.lat), float(k.alt_m))
            asset = _name(impacts.loc[name, "reason"]) if name in impacts.index else None
        elif impact[n] <= duration:
            fate, end = "arrived", float(impact[n])
        else:
            fate, end = "unresolved", duration
        props = threat_props(scn, traj, n, fate, asset)
        track = threat_track(traj, n, start, end, props, end_point)
        if track is not None:
            tracks[name] = track
    scene.threats = list(tracks.values())
    _check_match(ev, tracks)
    ground = {s.id: s.ground_m for s in scene.sites}
    sites = {s.id: s for s in scene.sites}
    scene.interceptors = _flyouts(ev, tracks, sites, ground, step, duration)
    scene.events = _events(ev, sites)
    return scene


def _flyouts(ev, tracks, sites, ground, sample_s: float, duration: float) -> list[Track]:
    """One interceptor track per salvo (module docstring)."""
    outcomes: dict[tuple[str, str], deque] = defaultdict(deque)
    for row in ev[ev.kind.isin(["intercept", "miss"])].itertuples(index=False):
        outcomes[(row.site, row.threat)].append(row)
    out = []
    counter: dict[str, int] = defaultdict(int)
    for row in ev[ev.kind == "launch"].itertuples(index=False):
        site = sites.get(row.site)
        if site is None:
            continue
        counter[row.site] += 1
        queue = outcomes[(row.site, row.threat)]
        res = queue.popleft() if queue else None
        start = (site.lon, site.lat, ground[row.site])
        if res is not None:
            outcome = "kill" if res.kind == "intercept" else "miss"
            end, t1 = (float(res.lon), float(res.lat), float(res.alt_m)), float(res.time_s)
            reason = _name(res.reason)
        else:
            target = tracks.get(row.threat)
            outcome, reason = "none", None
            end = (float(row.lon), float(row.lat), float(row.alt_m))
            t1 = target.end_s if target is not None else duration
            t1 = max(t1, float(row.time_s) + sample_s)
        rounds = int(_num(row.value)) if np.isfinite(_num(row.value)) else 1
        props = {
            "site": row.site,
            "interceptor": row.interceptor,
            "rounds": rounds,
            "target": row.threat,
            "outcome": outcome,
            "reason": reason,
        }
        tid = f"{row.site}/salvo-{counter[row.site]}"
        out.append(flyout(tid, start, end, float(row.time_s), t1, sample_s, props))
    return out


_EVENT_KINDS = (
    "detection_start",
    "track_start",
    "launch",
    "intercept",
    "miss",
    "leak",
    "unresolved",
)


def _events(ev: pd.DataFrame, sites) -> list[EventMark]:
    """The run's point events (module docstring), with one sentence each."""
    out = []
    for r in ev[ev.kind.isin(_EVENT_KINDS)].itertuples(index=False):
        lon, lat, alt = _num(r.lon), _num(r.lat), _num(r.alt_m)
        if r.kind == "launch" and r.site in sites:  # drawn at the launcher
            s = sites[r.site]
            lon, lat, alt = s.lon, s.lat, s.ground_m
        if not (np.isfinite(lon) and np.isfinite(lat)):
            continue
        value = _num(r.value)
        if r.kind == "detection_start":
            text = f"{r.site} detects {r.threat} at {value / 1000:.0f} km"
        elif r.kind == "track_start":
            text = f"{r.site} {'starts a track on' if value == 1 else 'tracks again'} {r.threat}"
        elif r.kind == "launch":
            n = int(value) if np.isfinite(value) else 1
            text = f"{r.site} launches {n} x {r.interceptor} at {r.threat}"
        elif r.kind == "intercept":
            text = f"{r.interceptor} from {r.site} kills {r.threat}"
        elif r.kind == "miss":
            why = f" ({r.reason})" if _name(r.reason) else ""
            text = f"{r.interceptor} from {r.site} misses {r.threat}{why}"
        elif r.kind == "leak":
            text = f"{r.threat} leaks (asset value {value:g})"
        else:
            text = f"{r.threat} still flying when the simulated time ends (unresolved)"
        out.append(
            EventMark(
                str(r.kind),
                float(r.time_s),
                float(lon),
                float(lat),
                float(alt) if np.isfinite(alt) else 0.0,
                _name(r.site),
                _name(r.threat),
                _name(r.interceptor),
                text,
            )  # fmt: skip
        )
    return out
