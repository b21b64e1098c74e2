"""Terrain line of sight: the minimum visible altitude of every DEM cell from one observer.

Model (the R3 "exact line of sight" of coverage-anchors.md §3, GDAL/GRASS curvature convention):

* The observer is snapped to the nearest cell centre; its eye is at ``Z0 = dem[obs] + h_obs``.
* Rays are straight over a sphere of effective radius ``a = k R``: every terrain height at planar
  distance ``d`` from the observer is lowered by ``d^2 / (2 a)`` (GDAL ``-cc = R_srs / (k R)``).
* The terrain between cell centres is sampled where the sight line crosses a cell-centre row or
  column line, interpolating linearly between the two neighbouring centres.
* The sight line to a target at distance ``D`` clears every sample iff its slope is at least
  ``S = max_s (z_s - d_s^2/(2a) - Z0) / d_s`` over the samples strictly between observer and
  target, so the minimum visible altitude is ``H = max(dem_target, Z0 + S D + D^2/(2a))``.
  A target at altitude ``A`` (same datum as the DEM) is visible iff ``A >= H`` (ties visible);
  at height ``h`` above ground iff ``dem + h >= H``.

Two engines share this model:

* :func:`min_visible_height_exact` marches the sight line to every cell (O(n) per cell); it is
  the independent reference for tests and the benchmark.
* :func:`min_visible_height` is a radial sweep (O(n) per ray): per octant it casts rays of slope
  ``i / N`` (N >= cells to the edge, so neighbouring rays are at most one cell apart), keeps the
  running maximum slope along each ray (exact for points on the ray), and gives each cell the
  slope interpolated between the two rays that bracket it. Where the two rays disagree by more
  than ``refine_tol_m`` at the cell, the cell is recomputed with the exact march.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from iadsim.errors import InputError
from iadsim.geo.earth import R_EARTH_M

_NO_SLOPE = -1.0e30  # "nothing blocks yet"; finite so that interpolation stays finite


def _prepare(
    dem_m, cell_size_m, obs_row, obs_col, observer_height_m, k_factor, max_range_m, earth_radius_m
):
    """Validate inputs; return (dem float32 C-contiguous, r0, c0, z0, inv2a, range_m)."""
    dem = np.ascontiguousarray(dem_m, dtype=np.float32)
    if dem.ndim != 2 or dem.shape[0] < 1 or dem.shape[1] < 1:
        raise InputError(f"DEM must be a non-empty 2-D array, got shape {dem.shape}")
    if not cell_size_m > 0:
        raise InputError(f"cell_size_m must be > 0, got {cell_size_m}")
    if not k_factor > 0:
        raise InputError(f"k_factor must be > 0, got {k_factor}")
    r0, c0 = int(round(obs_row)), int(round(obs_col))
    if not (0 <= r0 < dem.shape[0] and 0 <= c0 < dem.shape[1]):
        raise InputError(f"observer cell ({r0}, {c0}) is outside the DEM of shape {dem.shape}")
    if not np.isfinite(dem[r0, c0]):
        raise InputError(f"observer cell ({r0}, {c0}) has no DEM height (nodata)")
    z0 = float(dem[r0, c0]) + float(observer_height_m)
    inv2a = 1.0 / (2.0 * k_factor * earth_radius_m)
    range_m = math.inf if max_range_m is None else float(max_range_m)
    return dem, r0, c0, z0, inv2a, range_m


@nb.njit(cache=True, nogil=True)
def _exact_cell(dem, r0, c0, z0, tr, tc, cell, inv2a):
    """R3 minimum visible altitude of cell (tr, tc); NaN if its DEM value is NaN."""
    zt = dem[tr, tc]
    if not np.isfinite(zt):
        return np.nan
    dr = tr - r0
    dc = tc - c0
    if dr == 0 and dc == 0:
        return float(zt)
    dist = cell * math.sqrt(dr * dr + dc * dc)
    s = _NO_SLOPE
    ndr = abs(dr)
    sr = 1 if dr > 0 else -1
    for k in range(1, ndr):  # crossings with cell-centre row lines
        t = k / ndr
        x = c0 + t * dc
        ci = int(math.floor(x))
        fr = x - ci
        row = r0 + sr * k
        z = dem[row, ci]
        if fr > 0.0:
            z = z + fr * (dem[row, ci + 1] - z)
        d = t * dist
        slope = (z - d * d * inv2a - z0) / d
        if slope > s:  # NaN (nodata) never blocks
            s = slope
    ndc = abs(dc)
    sc = 1 if dc > 0 else -1
    for k in range(1, ndc):  # crossings with cell-centre column lines
        t = k / ndc
        y = r0 + t * dr
        ri = int(math.floor(y))
        fr = y - ri
        col = c0 + sc * k
        z = dem[ri, col]
        if fr > 0.0:
            z = z + fr * (dem[ri + 1, col] - z)
        d = t * dist
        slope = (z - d * d * inv2a - z0) / d
        if slope > s:
            s = slope
    return max(float(zt), z0 + s * dist + dist * dist * inv2a)


@nb.njit(cache=True, parallel=True)
def _exact_kernel(dem, r0, c0, z0, cell, inv2a, range_m, out):
    nrow, ncol = dem.shape
    for r in nb.prange(nrow):
        for c in range(ncol):
            dr = r - r0
            dc = c - c0
            if cell * math.sqrt(dr * dr + dc * dc) <= range_m:
                out[r, c] = _exact_cell(dem, r0, c0, z0, r, c, cell, inv2a)


def min_visible_height_exact(
    dem_m,
    cell_size_m,
    obs_row,
    obs_col,
    observer_height_m,
    k_factor=4 / 3,
    max_range_m=None,
    earth_radius_m=R_EARTH_M,
):
    """Reference R3 minimum visible altitude (m, DEM datum) of every cell, by marching the sight
    line to each cell (O(n^3) for an n x n DEM: use it on small DEMs). Same arguments and output
    as :func:`min_visible_height`."""
    dem, r0, c0, z0, inv2a, range_m = _prepare(
        dem_m,
        cell_size_m,
        obs_row,
        obs_col,
        observer_height_m,
        k_factor,
        max_range_m,
        earth_radius_m,
    )
    out = np.full(dem.shape, np.nan, dtype=np.float32)
    _exact_kernel(dem, r0, c0, z0, float(cell_size_m), inv2a, range_m, out)
    return out


@nb.njit(cache=True, nogil=True)
def _put(dem, r0, c0, z0, j, a, drj, dcj, dra, dca, cell, inv2a, range2, slope, s_other, tol, out):
    """Store the minimum visible altitude of octant cell (j, a) given its sight-line slope."""
    d2 = (j * j + a * a) * cell * cell
    if d2 > range2:
        return
    tr = r0 + j * drj + a * dra
    tc = c0 + j * dcj + a * dca
    zt = dem[tr, tc]
    if not np.isfinite(zt):
        return  # stays NaN
    dist = math.sqrt(d2)
    if abs(s_other - slope) * dist > tol:  # bracketing rays disagree: march exactly
        out[tr, tc] = _exact_cell(dem, r0, c0, z0, tr, tc, cell, inv2a)
    else:
        out[tr, tc] = max(float(zt), z0 + slope * dist + d2 * inv2a)


@nb.njit(cache=True, nogil=True)
def _ray(
    dem,
    r0,
    c0,
    z0,
    i,
    nr,
    jlim,
    amax,
    drj,
    dcj,
    dra,
    dca,
    cell,
    inv2a,
    range2,
    tol,
    s_lo,
    last_lo,
    s_out,
    out,
    mode,
):
    """Cast the ray of minor/major slope i/nr in one octant and (mode > 0) fill cells.

    Octant coordinates: major offset j, minor offset a >= 0; the absolute cell is
    (r0 + j*drj + a*dra, c0 + j*dcj + a*dca). The ray's minor position j*i/nr is tracked exactly
    as q + rem/nr with integers. ``s_out[j]`` = running maximum slope over the samples with major
    position < j: exactly what the R3 march to a target at major offset j on this ray sees.
    mode 0: cast only; 1: also fill the cells between ray i-1 (``s_lo``) and this ray, slope
    interpolated linearly in minor position; 2: also fill the cells lying on this ray.
    Returns the last j written to ``s_out``.
    """
    s = _NO_SLOPE
    q = 0
    rem = 0
    step = cell * math.sqrt(1.0 + (i / nr) ** 2)
    inv_i = 1.0 / i if i > 0 else 0.0
    inv_nr = 1.0 / nr
    last = 0
    for j in range(1, jlim + 1):
        qprev = q
        rem += i
        if rem >= nr:
            rem -= nr
            q += 1
        if q > amax:
            break
        if q > qprev and rem > 0:  # crossed minor line q at major x = j - rem/i
            w = 1.0 - rem * inv_i
            ra = r0 + (j - 1) * drj + q * dra
            ca = c0 + (j - 1) * dcj + q * dca
            za = dem[ra, ca]
            z = za + w * (dem[ra + drj, ca + dcj] - za)
            d = (j - 1 + w) * step
            slope = (z - d * d * inv2a - z0) / d
            if slope > s:  # NaN (nodata) never blocks
                s = slope
        s_out[j] = s
        last = j
        if mode == 2 and rem == 0:
            _put(dem, r0, c0, z0, j, q, drj, dcj, dra, dca, cell, inv2a, range2, s, s, tol, out)
        if mode > 0 and i > 0 and j <= last_lo:
            a, back = (q, rem) if rem > 0 else (q - 1, nr)  # back = (j*i - a*nr)
            if back <= j:  # a cell on ray i-1 or between the two rays at this j
                sl = s_lo[j]
                slope = sl + (1.0 - back / j) * (s - sl)
                _put(
                    dem,
                    r0,
                    c0,
                    z0,
                    j,
                    a,
                    drj,
                    dcj,
                    dra,
                    dca,
                    cell,
                    inv2a,
                    range2,
                    slope,
                    sl,
                    tol,
                    out,
                )
        if rem > 0 and q + 1 > amax:
            break
        row = r0 + j * drj + q * dra  # crossing of major line j at minor q + rem/nr
        col = c0 + j * dcj + q * dca
        z = dem[row, col]
        if rem > 0:
            z = z + (rem * inv_nr) * (dem[row + dra, col + dca] - z)
        d = j * step
        slope = (z - d * d * inv2a - z0) / d
        if slope > s:
            s = slope
    if mode > 0 and i > 0:  # this ray left the octant first: remaining cells use ray i-1 only
        for j in range(last + 1, min(jlim, last_lo) + 1):
            a = (j * (i - 1) + nr - 1) // nr  # first cell at or above ray i-1
            if a > amax:
                break
            if a * nr < j * i:
                sl = s_lo[j]
                _put(
                    dem, r0, c0, z0, j, a, drj, dcj, dra, dca, cell, inv2a, range2, sl, sl, tol, out
                )
    return last


@nb.njit(cache=True, parallel=True)
def _sweep_octant(
    dem, r0, c0, z0, nr, jlim, amax, drj, dcj, dra, dca, cell, inv2a, range2, tol, out
):
    nchunks = min(nr + 1, 256)
    for k in nb.prange(nchunks):
        i0 = k * (nr + 1) // nchunks
        i1 = (k + 1) * (nr + 1) // nchunks
        s_lo = np.empty(jlim + 1)
        s_up = np.empty(jlim + 1)
        last_lo = 0
        if i0 > 0:
            last_lo = _ray(
                dem,
                r0,
                c0,
                z0,
                i0 - 1,
                nr,
                jlim,
                amax,
                drj,
                dcj,
                dra,
                dca,
                cell,
                inv2a,
                range2,
                tol,
                s_up,
                0,
                s_lo,
                out,
                0,
            )
        for i in range(i0, i1):
            mode = 2 if (i == 0 or i == nr) else 1
            last_up = _ray(
                dem,
                r0,
                c0,
                z0,
                i,
                nr,
                jlim,
                amax,
                drj,
                dcj,
                dra,
                dca,
                cell,
                inv2a,
                range2,
                tol,
                s_lo,
                last_lo,
                s_up,
                out,
                mode,
            )
            s_lo, s_up = s_up, s_lo
            last_lo = last_up


def min_visible_height(
    dem_m,
    cell_size_m,
    obs_row,
    obs_col,
    observer_height_m,
    k_factor=4 / 3,
    max_range_m=None,
    earth_radius_m=R_EARTH_M,
    *,
    ray_density=2.0,
    refine_tol_m=None,
):
    """Minimum visible altitude (m, same datum as the DEM) of every cell seen from one observer.

    Args:
        dem_m: 2-D terrain heights (m) on a square grid; NaN = nodata (output NaN, never blocks).
        cell_size_m: grid spacing (m); distances are planar, ``cell * hypot(drow, dcol)``.
        obs_row, obs_col: observer position in cells (snapped to the nearest cell centre).
        observer_height_m: eye height above ``dem[obs]``.
        k_factor, earth_radius_m: curvature drop ``d^2 / (2 k R)`` (GDAL ``-cc = R_srs/(k R)``).
        max_range_m: cells farther than this (centre to centre) are NaN.
        ray_density: rays per cell at the octant edge; neighbouring rays are at most
            ``1/ray_density`` cells apart, and the error shrinks about in proportion.
        refine_tol_m: if given, cells whose two bracketing rays disagree by more than this at
            the cell are marched exactly (costly on large DEMs: most shadowed cells qualify).

    Returns:
        float32 raster ``H``; a target at altitude A is visible iff ``A >= H``, at height h above
        ground iff ``dem + h >= H``. ``H = dem`` where the ground itself is visible.
    """
    dem, r0, c0, z0, inv2a, range_m = _prepare(
        dem_m,
        cell_size_m,
        obs_row,
        obs_col,
        observer_height_m,
        k_factor,
        max_range_m,
        earth_radius_m,
    )
    if not ray_density >= 1.0:
        raise InputError(f"ray_density must be >= 1, got {ray_density}")
    out = np.full(dem.shape, np.nan, dtype=np.float32)
    out[r0, c0] = dem[r0, c0]
    nrow, ncol = dem.shape
    cell = float(cell_size_m)
    range_cells = math.floor(range_m / cell) if math.isfinite(range_m) else max(nrow, ncol)
    range2 = range_m * range_m if math.isfinite(range_m) else math.inf
    tol = math.inf if refine_tol_m is None else float(refine_tol_m)
    extent = {(0, 1): ncol - 1 - c0, (0, -1): c0, (1, 0): nrow - 1 - r0, (-1, 0): r0}
    for drj, dcj in ((0, 1), (0, -1), (1, 0), (-1, 0)):  # major axis and direction
        for sign in (1, -1):
            dra, dca = (sign, 0) if drj == 0 else (0, sign)
            jlim = min(extent[(drj, dcj)], range_cells)
            amax = min(extent[(dra, dca)], range_cells)
            if jlim < 1:
                continue
            nr = max(1, math.ceil(ray_density * jlim))
            _sweep_octant(
                dem, r0, c0, z0, nr, jlim, amax, drj, dcj, dra, dca, cell, inv2a, range2, tol, out
            )
    return out
