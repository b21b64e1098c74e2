"""Vertical coverage diagram: ground range vs altitude for one system or radar.

All curves are closed forms over a sphere (R_E = 6371 km geometric, a = k R_E for refracted
rays; :mod:`iadsim.geo.earth`), for a radar at antenna height h_r and a launcher at the
ground, both at sea level:

* radar horizon (lowest visible altitude at ground range d, tangent ray on the sphere of
  radius a): ``h_min(d) = a / cos((d - d_1)/a) - a`` beyond ``d_1 = a arccos(a/(a+h_r))``;
* altitude at slant range S (law of cosines, theta = d / R_E, r_1 = R_E + h_r):
  ``r_2 = r_1 cos(theta) + sqrt(S^2 - r_1^2 sin^2(theta))``, ``h = r_2 - R_E``;
* altitude at elevation angle e (refracted, theta = d / a, r_1 = a + h_r):
  ``r_2 = r_1 / (cos(theta) - sin(theta) tan(e))``, ``h = r_2 - a``.

Detection region of a radar: above the horizon and the minimum elevation, below the
detection-range circle (R_ref (sigma/sigma_ref)^(1/4), capped) and the maximum elevation.
Engagement region of an interceptor: its envelope for the threat's class (slant range from
the launcher between min and max range, altitude between min and max) in view of the
fire-control radar (above its horizon, within its elevation limits). These are the same tests the coverage maps apply per cell.

The axes fit the radar and the threat (:func:`axis_limits_km`): altitude up to the threat's
highest catalog altitude (a ballistic missile's apogee, an aircraft's or cruise missile's
cruise altitude and its alternatives) or the radar horizon's height at the detection range,
whichever is higher; ground range out to the radars' detection range for the threat and the
regions below that altitude. An AN/TPY-2 against an MRBM is drawn to about 1,050 km and
280 km; an AN/MPQ-64 against a cruise missile to about 30 km and 60 m (altitudes in metres
below 2 km).
The threat's altitudes are drawn as a band (a ballistic missile's apogee as a line), and the
legend gives each radar's reach on the threat at its cruise altitude.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from iadsim import catalog
from iadsim.coverage.analysis import site_spec
from iadsim.deployment import resolve_catalog_item
from iadsim.errors import InputError
from iadsim.fileio import atomic_write
from iadsim.geo.earth import (
    K_STANDARD,
    R_EARTH_M,
    altitude_at_elevation_m,
    altitude_at_slant_m,
    min_visible_height_m,
)
from iadsim.report.figure import new_figure, with_fonts
from iadsim.scenario import MAX_ANTENNA_HEIGHT_M

SOURCE_NOTE = (
    "Illustrative, from public data (iadsim catalog; sources in `iadsim catalog show`); "
    "smooth Earth, k = {k:.4g}"
)


def _band(lower, upper):
    ok = np.isfinite(lower) & ~np.isnan(upper) & (upper >= lower)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def vcd_curves(
    item_id: str,
    threat: str = "fighter-4gen",
    k_factor: float = K_STANDARD,
    antenna_height_m: float | None = None,
    n: int = 1201,
) -> dict:
    """Curves of the vertical coverage diagram, all in km, on one ground-range axis.

    Returns ``{"ground_range_km": d, "columns": {name: altitude_km array}, "meta": {...}}``
    with columns ``horizon_<radar>``, ``detection_<radar>_lower/upper`` and
    ``engagement_<interceptor>_lower/upper`` (NaN where the region is empty). The item's
    radars, antenna heights and interceptors (every type a system can fire) are resolved as a
    site of its own on sea-level ground (:func:`iadsim.deployment.resolve_catalog_item`).
    ``k_factor`` must lie in (0.5, 100], as a scenario's ``environment.k_factor``.
    """
    if not 0.5 < k_factor <= 100:
        raise InputError(f"k_factor must be in (0.5, 100], got {k_factor:g}", "k_factor")
    if antenna_height_m is not None and not 0 <= antenna_height_m <= MAX_ANTENNA_HEIGHT_M:
        raise InputError(
            f"antenna_height_m must lie in [0, {MAX_ANTENNA_HEIGHT_M:g}] m (a scenario site's "
            f"range), got {antenna_height_m:g}",
            "antenna_height_m",
        )
    site = resolve_catalog_item(item_id, antenna_height_m)
    thr = catalog.get(threat, kind="threat")
    a = k_factor * R_EARTH_M
    radars = {r.id: r for r in site.radars}
    fcr_id = site.fcr.id if site.fcr is not None else None
    height = {rid: r.antenna_height_m for rid, r in radars.items()}
    det_range = {rid: r.detection_range_m(thr) for rid, r in radars.items()}
    envs = {}
    for i in site.interceptors:  # every type the system can fire, carried or not
        env = i.envelope(thr.target_class)
        if env is not None:
            envs[i.id] = env
    d_max = 1.05 * max([*det_range.values(), *(e.max_range.si for e in envs.values()), 1e3])
    d = np.linspace(0.0, d_max, n)
    cols: dict[str, np.ndarray] = {}
    for rid, r in radars.items():
        h_r = height[rid]
        horizon = min_visible_height_m(d, h_r, k_factor)
        cols[f"horizon_{rid}"] = horizon / 1000
        lower = np.maximum(horizon, altitude_at_elevation_m(d, h_r, r.min_elevation_deg, a))
        upper = np.minimum(
            altitude_at_slant_m(d, h_r, det_range[rid]),
            altitude_at_elevation_m(d, h_r, r.max_elevation_deg, a),
        )
        if det_range[rid] <= 0:
            upper = np.full_like(d, np.nan)
        lo, up = _band(lower, upper)
        cols[f"detection_{rid}_lower"], cols[f"detection_{rid}_upper"] = lo / 1000, up / 1000
    for iid, e in envs.items():
        fcr, h_f = radars[fcr_id], height[fcr_id]
        fcr_lower = np.maximum(
            min_visible_height_m(d, h_f, k_factor),
            altitude_at_elevation_m(d, h_f, fcr.min_elevation_deg, a),
        )
        fcr_upper = altitude_at_elevation_m(d, h_f, fcr.max_elevation_deg, a)
        inner = np.nan_to_num(altitude_at_slant_m(d, 0.0, e.min_range.si), nan=-np.inf)
        lower = np.maximum.reduce([np.full_like(d, e.min_altitude.si), fcr_lower, inner])
        upper = np.minimum.reduce(
            [
                altitude_at_slant_m(d, 0.0, e.max_range.si),
                np.full_like(d, e.max_altitude.si),
                fcr_upper,
            ]
        )
        lo, up = _band(lower, upper)
        cols[f"engagement_{iid}_lower"], cols[f"engagement_{iid}_upper"] = lo / 1000, up / 1000
    alt_lo_m, alt_hi_m = threat_altitudes_m(thr)
    specs = site_spec(site, thr).radars  # the coverage's view: reach at one target height
    meta = {
        "item": site.item.id,
        "name": site.item.name,
        "threat": thr.id,
        "rcs_m2": thr.rcs.si,
        "target_class": thr.target_class,
        "k_factor": k_factor,
        "antenna_height_m": height,
        "detection_range_km": {k: v / 1000 for k, v in det_range.items()},
        "fire_control_radar": fcr_id,
        "threat_altitude_km": (alt_lo_m / 1000, alt_hi_m / 1000),
        "threat_cruise_altitude_km": thr.cruise_altitude.si / 1000,
        # ground distance at which each radar detects the threat at its cruise altitude
        "reach_at_cruise_altitude_km": {
            r.id: float(r.reach_at_m(thr.cruise_altitude.si, 0.0, k_factor)) / 1000 for r in specs
        },
    }
    return {"ground_range_km": d / 1000, "columns": cols, "meta": meta}


def threat_altitudes_m(threat: catalog.Threat) -> tuple[float, float]:
    """The altitudes (m) a threat flies at, from the catalog: a ballistic missile from the
    ground to its apogee (``cruise_altitude`` and its alternatives), an air-breathing one
    between the lowest and highest of its ``cruise_altitude`` and alternatives."""
    q = threat.cruise_altitude
    to_si = q.si / q.value if q.value else 1.0
    values = [q.si, *(a.value * to_si for a in q.alternatives)]
    if threat.target_class == "ballistic":
        return 0.0, max(values)
    return min(values), max(values)


def axis_limits_km(curves: dict) -> tuple[float, float]:
    """(ground range, altitude) upper limits of the diagram, km.

    Altitude: 1.15 x the higher of the threat's highest altitude
    (:func:`threat_altitudes_m`) and the radar horizon's height at each radar's detection
    range (below it a radar cannot see a target at that range), so the threat's altitudes
    and where the horizon cuts each radar's reach fit. Ground range: 1.05 x the farthest of
    the radars' detection ranges for the threat and of the ranges where a detection or
    engagement region lies below that altitude (within the curves' own axis)."""
    d, cols, meta = curves["ground_range_km"], curves["columns"], curves["meta"]
    top = meta["threat_altitude_km"][1]
    for rid, rng in meta["detection_range_km"].items():
        if rng > 0:
            top = max(top, float(np.interp(rng, d, cols[f"horizon_{rid}"])))
    y_max = 1.15 * max(top, 1e-3)
    far = max([0.0, *meta["detection_range_km"].values()])
    for name, lower in cols.items():
        if name.endswith("_lower"):
            seen = ~np.isnan(lower) & (lower < y_max)
            if seen.any():
                far = max(far, float(d[seen].max()))
    x_max = float(d[-1]) if far <= 0 else min(float(d[-1]), 1.05 * far)
    return x_max, y_max


def _alt_text(km: float) -> str:
    """An altitude for a label: metres below 1 km, else km."""
    return f"{km * 1000:.3g} m" if km < 1 else f"{km:.4g} km"


def write_vcd_csv(curves: dict, path: str | Path) -> Path:
    """Write the curves as CSV (one row per ground range; empty cell where NaN)."""
    names = list(curves["columns"])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ground_range_km", *(f"{n}_km" for n in names)])
        for i, dk in enumerate(curves["ground_range_km"]):
            vals = (curves["columns"][n][i] for n in names)
            w.writerow([f"{dk:.3f}", *("" if np.isnan(v) else f"{v:.4f}" for v in vals)])
    return Path(path)


def _outline(d, lower, upper):
    """Closed outlines (NaN-separated) of the region between two curves, one per contiguous
    run of valid ranges, so envelopes are drawn as boundaries rather than stacked fills."""
    ok = ~np.isnan(lower)
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(int), 0]))
    xs, ys = [], []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        xs += [d[a:b], d[a:b][::-1], d[a : a + 1], [np.nan]]
        ys += [lower[a:b], upper[a:b][::-1], lower[a : a + 1], [np.nan]]
    return np.concatenate(xs), np.concatenate(ys)


def vcd_figure(curves: dict):
    """The vertical coverage diagram as a :class:`~matplotlib.figure.Figure` (axes limits from
    :func:`axis_limits_km`; altitudes in metres when the top is below 2 km)."""
    d, cols, meta = curves["ground_range_km"], curves["columns"], curves["meta"]
    x_max, y_max_km = axis_limits_km(curves)
    metres = y_max_km < 2.0
    ys = 1000.0 if metres else 1.0  # altitude unit: m or km
    fig = new_figure(figsize=(10, 6.5), dpi=120)
    ax = fig.subplots()
    det_colours = ["#4a90d9", "#7fb3e6", "#2c5f8a"]
    eng_colours = ["#d9534f", "#f0ad4e", "#8e44ad", "#5cb85c"]
    radars = [c[len("horizon_") :] for c in cols if c.startswith("horizon_")]
    cruise_km = meta["threat_cruise_altitude_km"]
    unit = "m" if metres else "km"
    for i, rid in enumerate(radars):
        lo, up = cols[f"detection_{rid}_lower"], cols[f"detection_{rid}_upper"]
        rng = meta["detection_range_km"][rid]
        label = f"detection, {rid} ({rng:.0f} km vs {meta['rcs_m2']:g} m²"
        reach = meta["reach_at_cruise_altitude_km"].get(rid, 0.0)
        if meta["target_class"] != "ballistic" and rng > 0:
            label += f"; at {_alt_text(cruise_km)}: {reach:.0f} km"
        ax.fill_between(
            d,
            lo * ys,
            up * ys,
            where=~np.isnan(lo),
            color=det_colours[i % 3],
            alpha=0.2,
            lw=0,
            interpolate=True,
            label=label + ")",
        )
        ax.plot(
            d,
            cols[f"horizon_{rid}"] * ys,
            color=det_colours[i % 3],
            lw=1.2,
            ls="--",
            label=f"radar horizon, {rid} ({meta['antenna_height_m'][rid]:g} m, "
            f"k = {meta['k_factor']:.3g})",
        )
        if meta["target_class"] != "ballistic" and 0 < reach <= x_max:
            ax.plot([reach], [cruise_km * ys], marker="o", ms=5, color=det_colours[i % 3],
                    mec="k", mew=0.6, zorder=5)  # fmt: skip
    engs = [
        c[len("engagement_") : -len("_lower")]
        for c in cols
        if c.startswith("engagement_") and c.endswith("_lower")
    ]
    for i, iid in enumerate(engs):
        lo, up = cols[f"engagement_{iid}_lower"], cols[f"engagement_{iid}_upper"]
        if np.isnan(lo).all():
            continue
        x, y = _outline(d, lo, up)
        colour = eng_colours[i % 4]
        ax.fill(x, y * ys, color=colour, alpha=0.08, lw=0)
        ax.plot(x, y * ys, color=colour, lw=1.6, label=f"engagement, {iid}")
    lo_km, hi_km = meta["threat_altitude_km"]
    if meta["target_class"] == "ballistic":
        ax.axhline(hi_km * ys, color="0.25", lw=1.0, ls=":",
                   label=f"{meta['threat']} apogee ({_alt_text(hi_km)})")  # fmt: skip
    else:
        ax.axhspan(lo_km * ys, hi_km * ys, fill=False, hatch="///", ec="0.78", lw=0, zorder=0,
                   label=f"{meta['threat']} altitudes ({_alt_text(lo_km)} to {_alt_text(hi_km)})")  # fmt: skip
        ax.axhline(cruise_km * ys, color="0.25", lw=1.0, ls=":",
                   label=f"{meta['threat']} cruise altitude ({_alt_text(cruise_km)})")  # fmt: skip
    ax.set_ylim(0, y_max_km * ys)
    ax.set_xlim(0, x_max)
    ax.set_xlabel("ground range (km)")
    ax.set_ylabel(f"target altitude ({unit} above sea level)")
    ax.set_title(
        f"Vertical coverage: {meta['name']} vs {meta['threat']} ({meta['target_class']})",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=2,
              frameon=False)  # fmt: skip
    fig.text(0.01, 0.005, SOURCE_NOTE.format(k=meta["k_factor"]), fontsize=7, color="0.3")
    fig.tight_layout()
    return fig


@with_fonts
def plot_vcd(curves: dict, path: str | Path) -> Path:
    """Draw the vertical coverage diagram PNG (:func:`vcd_figure`)."""
    vcd_figure(curves).savefig(path, format="png")
    return Path(path)


def write_vcd(
    item_id: str,
    out_png: str | Path,
    threat: str = "fighter-4gen",
    k_factor: float = K_STANDARD,
    antenna_height_m: float | None = None,
) -> dict:
    """Compute, plot and save the VCD (PNG, plus the curves as CSV beside it: ``out_png``
    must end in ``.png``, so that the CSV never takes its place)."""
    out_png = Path(out_png)
    if out_png.suffix.lower() != ".png":
        raise InputError(f"out_png {str(out_png)!r}: give a .png file name", "out_png")
    curves = vcd_curves(item_id, threat, k_factor, antenna_height_m)
    png = atomic_write(out_png, lambda p: plot_vcd(curves, p))
    csv_path = atomic_write(out_png.with_suffix(".csv"), lambda p: write_vcd_csv(curves, p))
    return {"png": png, "csv": csv_path, "curves": curves}
