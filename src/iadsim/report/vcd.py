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
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from iadsim import catalog
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
    }
    return {"ground_range_km": d / 1000, "columns": cols, "meta": meta}


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


@with_fonts
def plot_vcd(curves: dict, path: str | Path) -> Path:
    """Draw the vertical coverage diagram PNG."""
    d, cols, meta = curves["ground_range_km"], curves["columns"], curves["meta"]
    fig = new_figure(figsize=(10, 5.5), dpi=120)
    ax = fig.subplots()
    det_colours = ["#4a90d9", "#7fb3e6", "#2c5f8a"]
    eng_colours = ["#d9534f", "#f0ad4e", "#8e44ad", "#5cb85c"]
    top = 0.0
    radars = [c[len("horizon_") :] for c in cols if c.startswith("horizon_")]
    for i, rid in enumerate(radars):
        lo, up = cols[f"detection_{rid}_lower"], cols[f"detection_{rid}_upper"]
        rng = meta["detection_range_km"][rid]
        ax.fill_between(
            d,
            lo,
            up,
            where=~np.isnan(lo),
            color=det_colours[i % 3],
            alpha=0.2,
            lw=0,
            interpolate=True,
            label=f"detection, {rid} ({rng:.0f} km vs {meta['rcs_m2']:g} m²)",
        )
        ax.plot(
            d,
            cols[f"horizon_{rid}"],
            color=det_colours[i % 3],
            lw=1.2,
            ls="--",
            label=f"radar horizon, {rid} ({meta['antenna_height_m'][rid]:g} m, "
            f"k = {meta['k_factor']:.3g})",
        )
    engs = [
        c[len("engagement_") : -len("_lower")]
        for c in cols
        if c.startswith("engagement_") and c.endswith("_lower")
    ]
    for i, iid in enumerate(engs):
        lo, up = cols[f"engagement_{iid}_lower"], cols[f"engagement_{iid}_upper"]
        if np.isnan(lo).all():
            continue
        top = max(top, float(np.nanmax(up)))
        x, y = _outline(d, lo, up)
        colour = eng_colours[i % 4]
        ax.fill(x, y, color=colour, alpha=0.08, lw=0)
        ax.plot(x, y, color=colour, lw=1.6, label=f"engagement, {iid}")
    ax.set_ylim(0, max(10.0, 1.3 * top))
    ax.set_xlim(0, d[-1])
    ax.set_xlabel("ground range (km)")
    ax.set_ylabel("target altitude (km above sea level)")
    ax.set_title(
        f"Vertical coverage: {meta['name']} vs {meta['threat']} ({meta['target_class']})",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    fig.text(0.01, 0.005, SOURCE_NOTE.format(k=meta["k_factor"]), fontsize=7, color="0.3")
    fig.tight_layout()
    fig.savefig(path, format="png")
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
