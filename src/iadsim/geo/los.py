"""Terrain line of sight: the minimum visible altitude of every DEM cell from one observer.

Model (an exact "R3" line of sight, one sight line per cell, in the terms of Franklin & Ray,
"Higher isn't necessarily better: visibility algorithms and experiments", 1994; GDAL/GRASS
curvature convention):

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
* :func:`min_visible_height` is a radial sweep run as a wavefront. Per octant it casts rays of
  minor/major slope ``i / N`` with ``N = ray_density * (cells to the edge)``, so that
  neighbouring rays are at most ``1 / ray_density`` cells apart; all rays advance together one
  major step at a time, each keeping its running maximum slope (exact for targets on the ray)
  and the bin (major interval) where it lies, so memory use is O(N) and the DEM is read one
  row or column at a time. A cell between two rays sits at a fixed fraction f between them
  along its whole sight line (all three lines pass through the observer), so its horizon is
  estimated from the two rays' running-maximum blockers: the larger of the blends
  ``(1-f) lo + f up`` of the blocker heights in lo's and in up's blocker bin (exact where the
  terrain between the rays is linear). Where the rays straddle a cell-centre line in a blocker
  bin (a kink of the interpolated terrain, so the blend is not exact) and disagree by 0.5 m or
  more at the cell, the cell's own line is sampled exactly in both blocker bins instead. Where
  the result puts the ground within ``local_margin_m`` of the visibility limit, the last
  ``local_steps`` to ``2 * local_steps`` major steps before the cell (where a nearby crest
  decides) are marched exactly on its own line. Optionally (``refine_tol_m``) cells whose
  bracketing rays disagree by more than a tolerance are marched in full.
* :func:`visible_mask` runs the same sweep with the threshold at a target height above ground
  inside the kernel (a uint8 mask, no float raster): the local march is aimed at cells within
  ``local_margin_m`` (default 5 m) of the target altitude instead of the ground, and the exact
  blocker-bin samples are skipped where the verdict is further from the limit than the rays'
  disagreement plus that margin (a tighter window, the margin alone, lost 0.1-0.25 % of the
  verdicts from the peaks of tests/test_los_mask.py). Several observers (e.g. the sites of a
  union) run in one call as one pool of tasks, each touching only the cells within its range
  of the shared DEM; the mask is only ever set, so sites may share cells.

Accuracy against the exact march (defaults, ``ray_density=0.75``; visible/hidden verdicts at
0 m and 100 m above ground): fractal DEMs of 301^2 cells (30 m, observer 10 m;
tests/test_los.py, tests/test_los_mask.py) >= 99.9 % of cells agree from the highest peak,
100 % from a valley; 2000^2 (benchmarks/coverage_vs_gdal.py, 100 m): :func:`visible_mask`
99.996 % from the centre and 99.979 % from the peak, the thresholded raster of
:func:`min_visible_height` 99.993 % and 99.967 % (gdal_viewshed: 98.5 % and 98.0 %;
``ray_density=2``: 100.000 % and 99.999 %; ``ray_density=0.6``: 99.993 % and 99.958 %).
Known weakness: long straight walls parallel to a ray's major axis (man-made shapes), where
blending between rays can err by tens of metres for a few per cent of the shadowed cells.

Speed: the ray pass (:func:`_advance_rays`) and the per-cell blend (:func:`_blend_cells`) are
branch-free loops compiled with ``noalias`` array arguments (:class:`_NoAliasCompiler`), so
that LLVM vectorizes them (AVX-512 gathers on the benchmark machine); the rare cells needing
more are listed and refined one by one. Tasks are slope ranges of the octants, handed out
dynamically to the cores. The kernels take their inputs as named tuples (:class:`Octant`,
:class:`Physics`, :class:`Raster`, :class:`Settings`, :class:`RayState`, :class:`CellBuffers`,
:class:`Cell`); arrays inside a tuple get no ``noalias``, so the two vectorized loops keep
plain array parameters (``_advance_rays_noalias``, ``_blend_cells_noalias``) behind the tuple
entry points that unpack and call them. Measured speed against gdal_viewshed (one observer, a
10-site union) and agreement with the exact R3 march: benchmarks/README.md.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np
from numba.core.compiler import CompilerBase, DefaultPassBuilder

from iadsim.errors import InputError
from iadsim.geo.earth import R_EARTH_M

_NO_SLOPE = -1.0e30  # "nothing blocks yet"; finite so that interpolation stays finite
_TASKS = 24  # tasks per observer (octants split in slope ranges), for dynamic load balance
_BIN_TOL_M = 0.5  # exact blocker-bin samples if the bracketing rays disagree by this much (m)


def _checked_grid(dem_m, cell_size_m, k_factor) -> np.ndarray:
    """The DEM as a C-contiguous float32 2-D array, after checking it and the grid settings."""
    dem = np.ascontiguousarray(dem_m, dtype=np.float32)
    if dem.ndim != 2 or dem.shape[0] < 1 or dem.shape[1] < 1:
        raise InputError(f"DEM must be a non-empty 2-D array, got shape {dem.shape}")
    if not cell_size_m > 0:
        raise InputError(f"cell_size_m must be > 0, got {cell_size_m}")
    if not k_factor > 0:
        raise InputError(f"k_factor must be > 0, got {k_factor}")
    return dem


def _prepare(
    dem_m, cell_size_m, obs_row, obs_col, observer_height_m, k_factor, max_range_m, earth_radius_m
):
    """Validate inputs; return (dem float32 C-contiguous, r0, c0, z0, inv2a, range_m)."""
    dem = _checked_grid(dem_m, cell_size_m, k_factor)
    r0, c0 = int(round(obs_row)), int(round(obs_col))
    if not (0 <= r0 < dem.shape[0] and 0 <= c0 < dem.shape[1]):
        raise InputError(f"observer cell ({r0}, {c0}) is outside the DEM of shape {dem.shape}")
    if not np.isfinite(dem[r0, c0]):
        raise InputError(f"observer cell ({r0}, {c0}) has no DEM height (nodata)")
    z0 = float(dem[r0, c0]) + float(observer_height_m)
    inv2a = 1.0 / (2.0 * k_factor * earth_radius_m)
    range_m = math.inf if max_range_m is None else float(max_range_m)
    return dem, r0, c0, z0, inv2a, range_m


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _exact_slope(dem, r0, c0, z0, tr, tc, cell, inv2a, t_min):
    """Max slope (m/m, curvature applied) over the R3 samples of the sight line from the
    observer cell to (tr, tc) at fractions t_min <= t < 1 of the way; NaN samples never block."""
    dr = tr - r0
    dc = tc - c0
    dist = cell * math.sqrt(dr * dr + dc * dc)
    s = _NO_SLOPE
    ndr = abs(dr)
    sr = 1 if dr > 0 else -1
    for k in range(max(1, math.ceil(t_min * ndr)), ndr):  # crossings with row lines
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
        if slope > s:
            s = slope
    ndc = abs(dc)
    sc = 1 if dc > 0 else -1
    for k in range(max(1, math.ceil(t_min * ndc)), ndc):  # crossings with column lines
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
    return s


@nb.njit(cache=True, nogil=True, error_model="numpy")
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
    s = _exact_slope(dem, r0, c0, z0, tr, tc, cell, inv2a, 0.0)
    return max(float(zt), z0 + s * dist + dist * dist * inv2a)


@nb.njit(cache=True, parallel=True, error_model="numpy")
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


class Octant(NamedTuple):
    """One octant of one observer (a row of the plan's octant table). The cell at major offset
    j and minor offset a >= 0 is (r0 + j*drj + a*dra, c0 + j*dcj + a*dca); the octant fills
    a_first <= a <= min(j, amax), and a = j only if a_diag, so that every cell on an axis or a
    diagonal is filled by exactly one octant; jlim is its major extent, kloc the local
    march's step count (``local_steps``)."""

    r0: int
    c0: int
    drj: int
    dcj: int
    dra: int
    dca: int
    jlim: int
    amax: int
    kloc: int
    a_first: int
    a_diag: int


class Physics(NamedTuple):
    """One observer's settings (a row of the plan's physics table): eye altitude, cell size,
    curvature 1/(2a), squared range, ``refine_tol_m``, ``local_margin_m``, target height
    above ground (mask mode) and the mask's visible value."""

    z0: float
    cell: float
    inv2a: float
    range2: float
    tol: float
    margin: float
    agl: float
    visible_value: float


class Raster(NamedTuple):
    """The DEM as one octant's sweep reads it: flat, with the flat index of the observer's
    cell and the flat steps along the major and minor axes (DEM reads use unsigned indices,
    so numba skips its negative-index wraparound)."""

    dem: np.ndarray  # (rows, cols) float32
    flat: np.ndarray  # dem.ravel()
    base: int  # flat index of the observer's cell
    sj: int  # flat step along the major axis
    sa: int  # flat step along the minor axis
    amax: int  # minor extent of the octant inside the DEM
    inv_int: np.ndarray  # 1/k for k = 0.. (1 for k = 0)


class Settings(NamedTuple):
    """What the steps of :func:`_wedge` need of the observer's :class:`Physics`."""

    z0: float  # eye altitude
    cell: float
    cell2: float  # cell^2
    inv2a: float  # curvature 1 / (2 k R)
    tol: float  # refine_tol_m (inf: never)
    margin: float  # local_margin_m
    dref: float  # the local march aims at zt + dref: agl in mask mode, else 0
    agl: float  # target height above ground (mask mode)
    mmode: bool  # mask mode: no float raster, the threshold in the kernel


class RayState(NamedTuple):
    """The rays i0..i1 of one wedge, struct of arrays (index k = ray i0 + k). Rays have
    minor/major slope i/nray (0 <= i <= nray); a ray's minor position j*i/nray is tracked
    exactly as q + rem/nray."""

    nray: int
    inv_n: float  # 1 / nray
    ii: np.ndarray  # (n,) ray index i
    inv_i: np.ndarray  # 1 / max(i, 1)
    step: np.ndarray  # distance per major step along the ray
    inv_step: np.ndarray  # 1 / step
    curv: np.ndarray  # step^2 / (2 a)
    q: np.ndarray  # (n,) int64: minor cell of the ray at the current major position
    rem: np.ndarray  # (n,) int64: remainder, the ray is at q + rem / nray
    bb: np.ndarray  # max slope of the ray's samples in the last bin
    run: np.ndarray  # running max slope over the bins so far
    arg: np.ndarray  # (n,) int64: the bin holding it (the blocker bin)
    cl: np.ndarray  # per pair (k, k+1): up's bin maximum in lo's blocker bin
    cu: np.ndarray  # per pair: lo's bin maximum in up's blocker bin
    snap_run: np.ndarray  # (2, n) run every kloc steps (two snapshots)
    snap_arg: np.ndarray  # (2, n) arg with it


class CellBuffers(NamedTuple):
    """Per-cell output of :func:`_blend_cells` for the cells of one major position."""

    hv: np.ndarray  # blended minimum visible altitude
    lo: np.ndarray  # int64: lower bracketing ray
    code: np.ndarray  # uint8 flags (see _blend_cells)


class Cell(NamedTuple):
    """One cell that :func:`_refine` treats: major j, minor a, its bracketing rays lo and up
    at fraction f, grid cell (tr, tc), ground zt, squared distance and distance, 1/j, the
    rays' disagreement there, and the snapshot (major position j0, slot) to march from."""

    j: int
    a: int
    f: float
    lo: int
    up: int
    tr: int
    tc: int
    zt: float
    d2: float
    dist: float
    inv_j: float
    split: float
    j0: int
    sn0: int


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _eye_sample(dem, row, col, frac, along_rows):
    """Terrain height where a sight line crosses a cell-centre line: on row ``row`` at column
    ``col + frac`` (``along_rows``) or on column ``col`` at row ``row + frac``; NaN off the
    grid or on nodata."""
    nrow, ncol = dem.shape
    if row < 0 or row >= nrow or col < 0 or col >= ncol:
        return np.nan
    z = dem[row, col]
    if frac > 0.0:
        if along_rows:
            if col + 1 >= ncol:
                return np.nan
            z = z + frac * (dem[row, col + 1] - z)
        else:
            if row + 1 >= nrow:
                return np.nan
            z = z + frac * (dem[row + 1, col] - z)
    return z


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _eye_altitude(dem, r0, c0, tr, tc, h_t, cell, inv2a, z_top):
    """Lowest eye altitude at the observer cell (r0, c0) from which a target at the fractional
    cell position (tr, tc) and altitude h_t is visible, by the R3 samples of the sight line
    (crossings with cell-centre row and column lines strictly between observer and target,
    linear between the two neighbouring centres; NaN or off-grid samples never block):
    ``max_i (z'_i - h'_t f_i) / (1 - f_i)``, f_i = d_i / D, heights lowered by the curvature
    drop d^2 / (2 a). -inf when no sample blocks; +inf when the target is below the ground at
    its own position (bilinear; unknown ground there never hides it).

    The samples are visited outward (row and column crossings merged by f). ``z_top`` bounds
    every terrain height: once ``(z_top - h'_t f) / (1 - f)``, which decreases with f when
    h'_t > z_top, is no more than the running maximum, no later sample can raise it and the
    march stops (exact)."""
    nrow, ncol = dem.shape
    # the ground under the target (bilinear between the four centres around it)
    if 0.0 <= tr <= nrow - 1 and 0.0 <= tc <= ncol - 1:
        ri = min(int(math.floor(tr)), nrow - 2) if nrow > 1 else 0
        ci = min(int(math.floor(tc)), ncol - 2) if ncol > 1 else 0
        fr, fc = tr - ri, tc - ci
        r1, c1 = min(ri + 1, nrow - 1), min(ci + 1, ncol - 1)
        top = dem[ri, ci] + fc * (dem[ri, c1] - dem[ri, ci])
        bot = dem[r1, ci] + fc * (dem[r1, c1] - dem[r1, ci])
        g = top + fr * (bot - top)
        if np.isfinite(g) and h_t < g:
            return np.inf
    dr = tr - r0
    dc = tc - c0
    dist = cell * math.sqrt(dr * dr + dc * dc)
    if dist <= 0.0:
        return -np.inf
    hp = h_t - dist * dist * inv2a
    can_stop = hp > z_top
    best = -np.inf
    ndr, ndc = abs(dr), abs(dc)
    sr = 1 if dr > 0 else -1
    sc = 1 if dc > 0 else -1
    kr_end, kc_end = int(math.ceil(ndr)), int(math.ceil(ndc))  # crossings k: 0 < k < |d|
    kr, kc = 1, 1
    while kr < kr_end or kc < kc_end:
        tr_k = kr / ndr if kr < kr_end else 2.0
        tc_k = kc / ndc if kc < kc_end else 2.0
        if tr_k <= tc_k:  # the next crossing is with a row line
            t = tr_k
            x = c0 + t * dc
            ci = int(math.floor(x))
            z = _eye_sample(dem, r0 + sr * kr, ci, x - ci, True)
            kr += 1
        else:  # with a column line
            t = tc_k
            y = r0 + t * dr
            ri = int(math.floor(y))
            z = _eye_sample(dem, ri, c0 + sc * kc, y - ri, False)
            kc += 1
        if np.isfinite(z):
            d = t * dist
            need = (z - d * d * inv2a - hp * t) / (1.0 - t)
            if need > best:
                best = need
        if can_stop and (z_top - hp * t) / (1.0 - t) <= best:
            break
    return best


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _eye_kernel(dem, r0, c0, rows, cols, alt, cell, inv2a, z_top, out):
    # serial: the marches mostly stop early, and Monte Carlo workers already use every core
    for m in range(rows.shape[0]):
        out[m] = _eye_altitude(dem, r0, c0, rows[m], cols[m], alt[m], cell, inv2a, z_top)


def required_eye_altitude(
    dem_m,
    cell_size_m,
    obs_row,
    obs_col,
    target_rows,
    target_cols,
    target_alt_m,
    k_factor=4 / 3,
    earth_radius_m=R_EARTH_M,
    max_height_m=None,
):
    """The lowest eye altitude (m, the DEM's datum) at the observer cell from which each target
    is visible: the exact R3 sight-line march of :func:`min_visible_height_exact`, solved for
    the eye instead of the target, to targets at any fractional cell position.

    The sight line from the eye (altitude Z0, distance 0) to the target (altitude h_t,
    distance D) clears a terrain sample at distance d_i = f_i D and height z_i iff
    ``Z0 (1 - f_i) + h'_t f_i >= z'_i``, heights lowered by the curvature drop
    ``z' = z - d^2 / (2 k R)`` (GDAL ``-cc``); so the eye must be at least
    ``max_i (z'_i - h'_t f_i) / (1 - f_i)`` over the samples (ties visible). A target at
    altitude A is then visible from an eye at Z0 iff ``Z0 >= required`` exactly when
    :func:`min_visible_height_exact` with eye height ``Z0 - dem[obs]`` gives ``A >= H`` at its
    cell (targets at cell centres).

    Args:
        dem_m: 2-D terrain heights (m); NaN = nodata (never blocks).
        cell_size_m: grid spacing (m); distances are planar, ``cell * hypot(drow, dcol)``.
        obs_row, obs_col: observer cell (snapped to the nearest centre; its own height is not
            used, so it may be nodata).
        target_rows, target_cols: fractional cell coordinates of the targets (cell centres at
            integers), any shape; off-grid samples of a sight line never block.
        target_alt_m: target altitudes, same datum as the DEM.
        max_height_m: the DEM's highest value (computed when None): the march from the
            observer outward stops once no higher sample could raise the result (exact).

    Returns:
        float64 array of the targets' shape: the required eye altitude; ``-inf`` where no
        terrain sample lies on the line, ``+inf`` where the target is below the ground at its
        own position.
    """
    dem = _checked_grid(dem_m, cell_size_m, k_factor)
    r0, c0 = int(round(obs_row)), int(round(obs_col))
    inv2a = 1.0 / (2.0 * k_factor * earth_radius_m)
    rows, cols, alt = np.broadcast_arrays(
        np.asarray(target_rows, float),
        np.asarray(target_cols, float),
        np.asarray(target_alt_m, float),
    )
    out = np.empty(rows.shape, float)
    if max_height_m is None:
        max_height_m = float(np.nanmax(dem)) if np.isfinite(dem).any() else -np.inf
    _eye_kernel(
        dem, r0, c0, np.ascontiguousarray(rows).ravel(), np.ascontiguousarray(cols).ravel(),
        np.ascontiguousarray(alt).ravel(), float(cell_size_m), inv2a, float(max_height_m),
        out.reshape(-1),
    )  # fmt: skip
    return out


# Octant geometry g = (r0, c0, drj, dcj, dra, dca, jlim, amax, kloc, a_first, a_diag): the cell
# at major offset j and minor offset a >= 0 is (r0 + j*drj + a*dra, c0 + j*dcj + a*dca); the
# octant fills a_first <= a <= min(j, amax), and a = j only if a_diag, so that every cell on an
# axis or a diagonal is filled by exactly one octant. Rays have minor/major slope i/nray
# (0 <= i <= nray); a ray's minor position j*i/nray is tracked exactly as q + rem/nray.
# Physics p = (z0, cell, inv2a, range2, refine_tol, local_margin). DEM reads use unsigned
# indices (numba then skips its negative-index wraparound).


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"})
def _line_bin(ras, st, j, a, b, inv_j, cd, inv_cd):
    """Max slope of the R3 samples of the sight line to the cell (j, a) in the major bin
    [b, b+1), 0 <= b < j: the major-line sample at b (if b >= 1) and the minor-line crossing
    strictly inside the bin, if any (``ras``: :class:`Raster`, ``st``: :class:`Settings`);
    ``cd`` = distance per major step along this line, ``inv_cd`` = 1/cd. Floors of n/j use
    n * inv_j + 1e-9: exact, as n/j is either an integer or at least 1/j away from one."""
    flat, base, sj, sa, amax, inv_int = ras.flat, ras.base, ras.sj, ras.sa, ras.amax, ras.inv_int
    z0, inv2a = st.z0, st.inv2a
    num = b * a
    qq = int(num * inv_j + 1e-9)
    rr = num - qq * j
    ia = base + b * sj + qq * sa
    za = flat[np.uint64(ia)]
    zb = flat[np.uint64(ia + sa if qq < amax else ia)]
    z = za + (rr * inv_j) * (zb - za)
    s = (z - z0) * (inv_int[b] * inv_cd) - b * cd * inv2a
    s = s if (b >= 1 and s > _NO_SLOPE) else _NO_SLOPE  # NaN never blocks
    num1 = num + a
    q1 = int(num1 * inv_j + 1e-9)
    if q1 > qq and q1 * j < num1:  # minor line q1 crossed strictly inside the bin
        w = q1 * j / a - b
        ic = base + b * sj + q1 * sa
        zc = flat[np.uint64(ic)]
        z = zc + w * (flat[np.uint64(ic + sj)] - zc)
        sl = (z - z0) * (a * inv_int[q1] * inv_j * inv_cd) - (b + w) * cd * inv2a
        if sl > s:
            s = sl
    return s


@nb.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _kinked(b, i_lo, i_up, inv_n):
    """True if the rays i_lo < i_up straddle a cell-centre line at major position b, where the
    terrain profile between them has a kink and blending them is not exact."""
    y_lo = b * i_lo * inv_n
    return math.floor(y_lo) + 1.0 < b * i_up * inv_n - 1e-9


class _NoAliasCompiler(CompilerBase):
    """numba's default nopython pipeline, with the array arguments marked ``noalias`` (the
    flag numba itself sets on parfor kernels whose arrays it proved distinct). LLVM then
    vectorizes loops that store to some arrays and gather from another (AVX2/AVX-512), which
    it must otherwise assume may overlap. Only for functions whose array arguments never
    share memory."""

    def define_pipelines(self):
        self.state.flags.noalias = True
        return [DefaultPassBuilder.define_nopython_pipeline(self.state)]


@nb.njit(
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath={"contract", "arcp"},
    pipeline_class=_NoAliasCompiler,
)
def _advance_rays_noalias(
    flat, row, sa, sj, amax, nk, j, nray, inv_n, z0,
    ii, inv_i, curv, inv_step, step, q, rem, bb, run, arg, cl, cu,
):  # fmt: skip
    """Steps 1 and 2 of :func:`_wedge` at major position j for the rays 0..nk-1, on plain
    arrays (all distinct: compiled with ``noalias`` so that the loops vectorize; arrays inside
    a tuple would not get the flag). Called by :func:`_advance_rays` only. 1) each ray's bin
    j-1: the major-line sample at j-1 (``row`` = flat index of the observer's cell moved j-1
    major steps) and the minor-line crossing in (j-1, j), if any, into ``bb``; q, rem
    advance to j. 2) the pair states cl/cu, then the running maxima ``run`` and their bins
    ``arg`` (strict: the first maximum is the blocker)."""
    jm1 = float(j - 1)
    inv_jm1 = 1.0 / jm1 if j > 1 else 0.0
    first = j > 1
    for k in range(nk):  # no data-dependent branches: a crossing is computed every step
        qq = q[k]
        rr = rem[k]
        ia = row + qq * sa
        za = flat[np.uint64(ia)]
        zb = flat[np.uint64(ia + (sa if rr > 0 else 0))]
        z = za + (rr * inv_n) * (zb - za)
        bm = (z - z0 - jm1 * jm1 * curv[k]) * (inv_jm1 * inv_step[k])
        bm = bm if (bm > _NO_SLOPE and first) else _NO_SLOPE  # NaN never blocks
        rr += ii[k]
        carry = rr >= nray
        rr = rr - nray if carry else rr
        qq = qq + 1 if carry else qq
        ic = row + min(qq, amax) * sa
        zc = flat[np.uint64(ic)]
        w = 1.0 - rr * inv_i[k]
        z = zc + w * (flat[np.uint64(ic + sj)] - zc)
        x = jm1 + w
        sl = (z - z0 - x * x * curv[k]) / (x * step[k])
        bm = sl if (carry and rr > 0 and sl > bm) else bm
        q[k] = qq
        rem[k] = rr
        bb[k] = bm
    for k in range(nk - 1):
        blo = bb[k]
        bup = bb[k + 1]
        cl[k] = bup if blo > run[k] else cl[k]
        cu[k] = blo if bup > run[k + 1] else cu[k]
    for k in range(nk):
        new = bb[k] > run[k]
        arg[k] = j - 1 if new else arg[k]
        run[k] = bb[k] if new else run[k]


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"})
def _advance_rays(ras, rays, st, nk, j):
    """Steps 1 and 2 of :func:`_wedge` at major position j for the rays 0..nk-1 of ``rays``
    (:class:`RayState`, updated in place) over ``ras`` (:class:`Raster`)."""
    _advance_rays_noalias(
        ras.flat, ras.base + (j - 1) * ras.sj, ras.sa, ras.sj, ras.amax, nk, j, rays.nray,
        rays.inv_n, st.z0, rays.ii, rays.inv_i, rays.curv, rays.inv_step, rays.step, rays.q,
        rays.rem, rays.bb, rays.run, rays.arg, rays.cl, rays.cu,
    )  # fmt: skip


@nb.njit(
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath={"contract", "arcp"},
    pipeline_class=_NoAliasCompiler,
)
def _blend_cells_noalias(
    flat, rowj, sa, a_lo, a_hi, j, nray, i0, inv_j, last, mmode,
    z0, cell2, inv2a, dref, margin, tol, agl, run, cl, cu, step, hv_buf, lo_buf, code,
):  # fmt: skip
    """Step 3 of :func:`_wedge` for the cells a_lo..a_hi at major position j (``rowj`` = flat
    index of the cell a = 0), on plain arrays: one loop without branches (all arrays distinct,
    compiled with ``noalias``: it vectorizes; called by :func:`_blend_cells` only). Per cell m = a - a_lo: ``hv_buf`` = the blended minimum
    visible altitude (at least the ground; NaN on nodata), ``lo_buf`` = the lower bracketing
    ray, ``code`` = 1 if visible at ``agl`` above ground (mask mode) | 2 if step 4 is needed
    (within ``margin`` of the limit, or rays ``tol`` apart) | 4 if step 4 may be needed as
    the rays straddle a kink of the terrain in a blocker bin (the caller checks). The cells'
    flat offsets are ``int(a * float(sa))`` (exact): with the integer stride ``a * sa`` in the
    index, LLVM versions the loop on ``sa == 1`` and runs the other octants' cells scalar;
    through the conversion it gathers for every stride (~10 % less CPU in all)."""
    saf = float(sa)
    for a in range(a_lo, a_hi + 1):
        t = (a * nray - i0 * j) * inv_j
        kk = int(t + 1e-7)  # t is a multiple of 1/j >> 1e-7: exact floor
        f = t - kk
        f = f if f > 0.0 else 0.0
        lo = min(kk, last)
        f = f if kk < last else 0.0  # above the last ray (near the DEM edge): lo alone
        up = min(lo + 1, last)
        rl = run[lo]
        ru = run[up]
        # blend the blockers' heights (slope x distance per major step), not their slopes:
        # exact for a straight crest across the major axis on a flat Earth
        sl = step[lo] * (1.0 - f)
        su = step[up] * f
        e1 = rl * sl + cl[lo] * su
        e2 = cu[lo] * sl + ru * su
        e1 = e2 if (f > 0.0 and e2 > e1) else e1
        d2 = (j * j + a * a) * cell2
        hh = z0 + e1 * j + d2 * inv2a
        zt = flat[np.uint64(rowj + int(a * saf))]  # = rowj + a * sa (see the docstring)
        hv = hh if hh > zt else zt  # NaN (nodata) stays NaN
        split = abs(ru - rl) * (j * step[up])  # the rays' disagreement (m), a bit above
        dh = abs(hh - zt - dref)
        # kinks matter only where the rays disagree, and in mask mode only for cells whose
        # verdict the exact samples could change
        maybe = (f > 0.0) & (split >= _BIN_TOL_M) & ((not mmode) | (dh < split + margin))
        sure = (dh < margin) | (split >= tol)
        vis = mmode & (zt + agl >= hv)
        hv_buf[a - a_lo] = hv
        lo_buf[a - a_lo] = lo
        code[a - a_lo] = np.uint8((1 if vis else 0) | (2 if sure else 0) | (4 if maybe else 0))


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"})
def _blend_cells(ras, rays, st, j, a_lo, a_hi, i0, last, buf):
    """Step 3 of :func:`_wedge` for the cells a_lo..a_hi at major position j, between the
    rays 0..last of ``rays`` (the wedge's first ray is i0), into ``buf``
    (:class:`CellBuffers`); see :func:`_blend_cells_noalias`."""
    _blend_cells_noalias(
        ras.flat, ras.base + j * ras.sj, ras.sa, a_lo, a_hi, j, rays.nray, i0, 1.0 / j, last,
        st.mmode, st.z0, st.cell2, st.inv2a, st.dref, st.margin, st.tol, st.agl, rays.run,
        rays.cl, rays.cu, rays.step, buf.hv, buf.lo, buf.code,
    )  # fmt: skip


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"})
def _wedge(dem, g, p, nray, i0, i1, out, mask):
    """Fill the cells of one octant (:class:`Octant` ``g`` of an observer with
    :class:`Physics` ``p``) whose lower bracketing ray lies in [i0, i1) (and, when
    i1 == nray, the octant's diagonal if it owns it).

    The rays i0..i1 advance together, one major step j at a time, each keeping O(1) state
    (:class:`RayState`): ``run`` = max slope of its samples at major position < j, ``arg`` =
    the bin (major interval [b, b+1)) holding it, and per pair of neighbouring rays (lo, up)
    ``cl`` = up's bin maximum in lo's blocker bin and ``cu`` = lo's bin maximum in up's: all
    that the blend of :func:`min_visible_height` needs. The ray loop has no data-dependent
    branches (a minor-line crossing is computed every step and discarded when absent). Every
    ``kloc`` steps ``run`` and ``arg`` are copied (two snapshots are kept) for the local
    refinement.
    """
    r0, c0, drj, dcj, dra, dca = g.r0, g.c0, g.drj, g.dcj, g.dra, g.dca
    jlim, amax, kloc, a_first, a_diag = g.jlim, g.amax, g.kloc, g.a_first, g.a_diag
    cell, inv2a, range2, tol = p.cell, p.inv2a, p.range2, p.tol
    vv = np.uint8(p.visible_value)
    flat = dem.ravel()
    out_flat = out.ravel()
    mask_flat = mask.ravel()
    mmode = mask_flat.size > 1  # mask mode: set mask = 1 where dem + agl >= H, write no H
    ncol = dem.shape[1]
    base = r0 * ncol + c0
    sj = drj * ncol + dcj
    sa = dra * ncol + dca
    cell2 = cell * cell
    n = i1 - i0 + 1
    ii = np.arange(i0, i1 + 1)
    step = cell * np.sqrt(1.0 + (ii / nray) ** 2)  # distance per major step along each ray
    nsnap = 2 if kloc > 0 else 0
    rays = RayState(
        nray=nray, inv_n=1.0 / nray, ii=ii, inv_i=1.0 / np.maximum(ii, 1), step=step,
        inv_step=1.0 / step, curv=step * step * inv2a, q=np.zeros(n, np.int64),
        rem=np.zeros(n, np.int64), bb=np.empty(n), run=np.full(n, _NO_SLOPE),
        arg=np.zeros(n, np.int64), cl=np.full(n, _NO_SLOPE), cu=np.full(n, _NO_SLOPE),
        snap_run=np.full((nsnap, n), _NO_SLOPE), snap_arg=np.zeros((nsnap, n), np.int64),
    )  # fmt: skip
    ras = Raster(
        dem=dem, flat=flat, base=base, sj=sj, sa=sa, amax=amax,
        inv_int=1.0 / np.maximum(np.arange(max(jlim, amax) + 2), 1.0),
    )  # fmt: skip
    st = Settings(
        z0=p.z0, cell=cell, cell2=cell2, inv2a=inv2a, tol=tol, margin=p.margin,
        dref=p.agl if mmode else 0.0,  # the local march's margin is about zt + dref
        agl=p.agl, mmode=mmode,
    )  # fmt: skip
    run, arg, inv_n = rays.run, rays.arg, rays.inv_n
    cand = np.empty(max(jlim, amax) + 2, np.int64)
    code64 = np.zeros((max(jlim, amax) + 17) // 8, np.uint64)  # per-cell flags, 8 to a word
    code = code64.view(np.uint8)
    buf = CellBuffers(
        hv=np.empty(max(jlim, amax) + 2), lo=np.empty(max(jlim, amax) + 2, np.int64), code=code
    )
    hv_buf, lo_buf = buf.hv, buf.lo
    nk = n
    last_wedge = i1 == nray
    for j in range(1, jlim + 1):
        a_end = min(j, amax)  # the octant's cells at major j within range: a <= a_end
        if range2 < (j * j + a_end * a_end) * cell2:
            a_end = int(math.sqrt(max(range2 / cell2 - j * j, 0.0)))
            while a_end >= 0 and (j * j + a_end * a_end) * cell2 > range2:
                a_end -= 1
        if a_end < 0 or i0 * j > a_end * nray:
            break  # the wedge has left the DEM or the range for good
        # rays needed: up to the first at or above the wedge's highest cell at major j, and
        # only rays whose samples are all inside the DEM (both limits only shrink with j)
        top = (a_end * nray - i0 * j + j - 1) // j
        if j > 1:
            top = min(top, (amax * nray) // (j - 1) - i0)
        nk = min(nk, top + 1)
        # 1) each ray's bin j-1 and 2) the pair states and running maxima (see _advance_rays)
        _advance_rays(ras, rays, st, nk, j)
        if nsnap and j % kloc == 0:
            sn = (j // kloc) % 2
            rays.snap_run[sn, :nk] = run[:nk]
            rays.snap_arg[sn, :nk] = arg[:nk]
        # 3) the cells at major j, between rays lo and up = lo + 1 at fraction f: the blend
        #    (vectorized, see _blend_cells), then the mask or raster written and a list of
        #    the cells to treat further in step 4
        a_lo = max((i0 * j + nray - 1) // nray, a_first)
        a_hi = a_end if a_diag or a_end < j else j - 1
        if not last_wedge:
            a_hi = min(a_hi, (i1 * j - 1) // nray)
        inv_j = 1.0 / j
        last = nk - 1
        nc = 0
        ncell = a_hi - a_lo + 1
        _blend_cells(ras, rays, st, j, a_lo, a_hi, i0, last, buf)
        if not mmode:
            for a in range(a_lo, a_hi + 1):
                out_flat[np.uint64(base + j * sj + a * sa)] = hv_buf[a - a_lo]
        code[max(ncell, 0) : max(ncell, 0) + 8] = 0
        for w in range((ncell + 7) // 8):  # 8 cells at a time: most need nothing more
            if code64[w] == 0:
                continue
            for m in range(8 * w, min(8 * w + 8, ncell)):
                c = code[m]
                need = (c & 2) != 0
                if c & 6 == 4:  # the rays straddle a kink in a blocker bin: exact samples?
                    lo = lo_buf[m]
                    up = min(lo + 1, last)
                    need = _kinked(arg[lo], ii[lo], ii[up], inv_n) or _kinked(
                        arg[up], ii[lo], ii[up], inv_n
                    )
                if c & 1 and not need:  # visible (mask mode)
                    mask_flat[np.uint64(base + j * sj + (a_lo + m) * sa)] = vv  # only ever set
                cand[nc] = a_lo + m  # appended without a branch
                nc += 1 if need else 0
        # 4) cells whose rays diverge by refine_tol or more: the exact march in full. Cells
        #    whose rays straddle a kink of the terrain in a blocker bin (where the terrain
        #    between the rays decides): their own line sampled exactly in both blocker bins.
        #    Then cells near the visibility limit: that estimate up to the snapshot J0 (kloc
        #    to 2*kloc steps back) and the exact march of their own line from there.
        j0 = (j // kloc - 1) * kloc if kloc > 0 else 0
        sn0 = (j // kloc - 1) % 2 if kloc > 0 else 0
        for ci in range(nc):
            a = cand[ci]
            t = (a * nray - i0 * j) * inv_j
            kk = int(t + 1e-7)
            f = t - kk
            f = f if f > 0.0 else 0.0
            lo = min(kk, last)
            f = f if kk < last else 0.0
            up = min(lo + 1, last)
            d2 = (j * j + a * a) * cell2
            tr = r0 + j * drj + a * dra
            tc = c0 + j * dcj + a * dca
            idx = base + j * sj + a * sa
            zt = flat[idx]
            split = abs(run[up] - run[lo]) * (j * step[up])  # as in step 3
            if split >= tol:
                res = _exact_cell(dem, r0, c0, p.z0, tr, tc, cell, inv2a)
            else:
                cx = Cell(
                    j=j, a=a, f=f, lo=lo, up=up, tr=tr, tc=tc, zt=zt, d2=d2, dist=math.sqrt(d2),
                    inv_j=inv_j, split=split, j0=j0, sn0=sn0,
                )  # fmt: skip
                res = _refine(ras, rays, st, g, cx)
            if mmode:
                if zt + p.agl >= res:
                    mask_flat[idx] = vv
            else:
                out_flat[idx] = res


@nb.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp"})
def _refine(ras, rays, st, g, cx):
    """Step 4 of :func:`_wedge` for one :class:`Cell` ``cx``: exact samples in kinked blocker
    bins, then the exact local march near the visibility limit (``|H - zt - dref| < margin``);
    returns the cell's minimum visible altitude."""
    j, a, f, lo, up, tr, tc = cx.j, cx.a, cx.f, cx.lo, cx.up, cx.tr, cx.tc
    zt, d2, dist, inv_j, split, j0, sn0 = cx.zt, cx.d2, cx.dist, cx.inv_j, cx.split, cx.j0, cx.sn0
    run, cl, cu, arg, step, ii = rays.run, rays.cl, rays.cu, rays.arg, rays.step, rays.ii
    inv_n, snap_run, snap_arg = rays.inv_n, rays.snap_run, rays.snap_arg
    z0, inv2a, margin, dref = st.z0, st.inv2a, st.margin, st.dref
    rl = run[lo]
    ru = run[up]
    cd = dist * inv_j
    inv_cd = j / dist
    b_lo = arg[lo]
    b_up = arg[up]
    if (
        f > 0.0
        and split >= _BIN_TOL_M
        and (_kinked(b_lo, ii[lo], ii[up], inv_n) or _kinked(b_up, ii[lo], ii[up], inv_n))
    ):
        est = _line_bin(ras, st, j, a, arg[lo], inv_j, cd, inv_cd)
        if arg[up] != arg[lo]:
            e2 = _line_bin(ras, st, j, a, arg[up], inv_j, cd, inv_cd)
            est = e2 if e2 > est else est
        hh = z0 + est * dist + d2 * inv2a
    else:
        sl = step[lo] * (1.0 - f)
        su = step[up] * f
        e1 = rl * sl + cl[lo] * su
        e2 = cu[lo] * sl + ru * su
        e1 = e2 if (f > 0.0 and e2 > e1) else e1
        hh = z0 + e1 * j + d2 * inv2a
    if g.kloc == 0 or not abs(hh - zt - dref) < margin:
        return max(float(zt), hh)
    e_old = _NO_SLOPE
    if j0 >= 1 and f > 0.0:
        e_old = _line_bin(ras, st, j, a, snap_arg[sn0, lo], inv_j, cd, inv_cd)
        e2 = _line_bin(ras, st, j, a, snap_arg[sn0, up], inv_j, cd, inv_cd)
        e_old = e2 if e2 > e_old else e_old
    elif j0 >= 1:
        e_old = snap_run[sn0, lo]  # the cell is on ray lo: exact
    e_loc = _exact_slope(ras.dem, g.r0, g.c0, z0, tr, tc, st.cell, inv2a, max(j0, 0) / j)
    hh = z0 + max(e_old, e_loc) * dist + d2 * inv2a
    return max(float(zt), hh)


@nb.njit(cache=True, parallel=True, error_model="numpy")
def _sweep(dem, octants, params, tasks, out, mask):
    """Run every task (octant, first ray, last ray, ray count) in parallel; the octants may
    belong to several observers (``params`` row per octant). The tasks of one observer write
    disjoint cells and the mask is only ever set, never cleared, so the result does not depend
    on the scheduling. Table columns are in the order of :class:`Octant` and
    :class:`Physics` (see :func:`_plan`)."""
    for t in nb.prange(tasks.shape[0]):
        v = octants[tasks[t, 0]]
        g = Octant(
            r0=v[0], c0=v[1], drj=v[2], dcj=v[3], dra=v[4], dca=v[5], jlim=v[6], amax=v[7],
            kloc=v[8], a_first=v[9], a_diag=v[10],
        )  # fmt: skip
        w = params[tasks[t, 0]]
        p = Physics(
            z0=w[0], cell=w[1], inv2a=w[2], range2=w[3], tol=w[4], margin=w[5], agl=w[6],
            visible_value=w[7],
        )  # fmt: skip
        _wedge(dem, g, p, tasks[t, 3], tasks[t, 1], tasks[t, 2], out, mask)


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
    ray_density=0.75,
    local_steps=4,
    local_margin_m=30.0,
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
            ``1/ray_density`` cells apart. The rays cost ~7 ns of CPU per cell and unit of
            ray_density, the rest ~7-14 ns per cell; 2 instead of 0.75 cuts the disagreement
            with the exact march several times (see the module docstring).
        local_steps: for cells whose estimated minimum visible altitude is within
            ``local_margin_m`` of the ground (where a nearby crest decides whether the ground
            is seen), the last ``local_steps`` to ``2 * local_steps`` major steps before the
            cell are marched exactly on its own line.
        refine_tol_m: if given, cells whose two bracketing rays disagree by this much or more at
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
    _check_settings(ray_density, local_steps)
    if math.isfinite(range_m):
        out = np.full(dem.shape, np.nan, dtype=np.float32)
    else:
        out = np.empty(dem.shape, dtype=np.float32)  # the octants write every cell
    out[r0, c0] = dem[r0, c0]
    tol = math.inf if refine_tol_m is None else float(refine_tol_m)
    p = (z0, float(cell_size_m), inv2a, range_m, tol, float(local_margin_m), math.nan, 0.0)
    octants, params, tasks = _plan(dem.shape, r0, c0, p, ray_density, local_steps, 0)
    _run(dem, octants, params, tasks, out, np.zeros((1, 1), np.uint8))
    return out


def visible_mask(
    dem_m,
    cell_size_m,
    observers,
    observer_height_m,
    target_height_m,
    k_factor=4 / 3,
    max_range_m=None,
    earth_radius_m=R_EARTH_M,
    *,
    visible_value=1,
    ray_density=0.75,
    local_steps=4,
    local_margin_m=5.0,
):
    """Where a target ``target_height_m`` above the ground is seen by at least one observer.

    Same model and settings as :func:`min_visible_height`, with the threshold done in the
    kernel: no float raster is written, and the cells that the blend leaves within
    ``local_margin_m`` of the target altitude (rather than of the ground) get the exact local
    march; exact blocker-bin samples are taken only where the rays' disagreement could change
    the verdict. All observers' octants run as one pool of tasks on all cores.

    Args:
        observers: sequence of (row, col) cells (each snapped to the nearest cell centre).
        observer_height_m: eye height above the observer's cell (one value or one per observer).
        target_height_m: target height above each cell's ground (m, >= 0).
        max_range_m: cells farther than this from an observer are not seen by it.
        visible_value: value (1-255) written where visible; 0 elsewhere (nodata: 0).

    Returns:
        uint8 raster of the DEM's shape.
    """
    obs = [tuple(o) for o in observers]
    heights = np.broadcast_to(np.asarray(observer_height_m, dtype=float), (len(obs),))
    if not target_height_m >= 0:
        raise InputError(f"target_height_m must be >= 0, got {target_height_m}")
    if not 1 <= int(visible_value) <= 255:
        raise InputError(f"visible_value must be in 1..255, got {visible_value}")
    _check_settings(ray_density, local_steps)
    mask = None
    all_oct, all_par, all_tasks = [], [], []
    for (row, col), h in zip(obs, heights, strict=True):
        dem, r0, c0, z0, inv2a, range_m = _prepare(
            dem_m, cell_size_m, row, col, h, k_factor, max_range_m, earth_radius_m
        )
        dem_m = dem  # converted once
        if mask is None:
            mask = np.zeros(dem.shape, dtype=np.uint8)
        mask[r0, c0] = visible_value  # H = dem at the observer, target_height_m >= 0
        p = (
            z0,
            float(cell_size_m),
            inv2a,
            range_m,
            math.inf,
            float(local_margin_m),
            float(target_height_m),
            float(visible_value),
        )
        o, pr, t = _plan(dem.shape, r0, c0, p, ray_density, local_steps, len(all_oct))
        all_oct.extend(o)
        all_par.extend(pr)
        all_tasks.extend(t)
    if mask is None:
        return np.zeros(np.shape(dem_m), dtype=np.uint8)
    all_tasks.sort(reverse=True)  # largest first, over all observers
    _run(dem, all_oct, all_par, all_tasks, np.zeros((1, 1), np.float32), mask)
    return mask


def _check_settings(ray_density, local_steps):
    if not ray_density > 0.0:
        raise InputError(f"ray_density must be > 0, got {ray_density}")
    if not local_steps >= 0:
        raise InputError(f"local_steps must be >= 0, got {local_steps}")


def _plan(shape, r0, c0, p, ray_density, local_steps, first_octant):
    """Octants (geometry rows), their physics rows and the tasks (estimated work, octant index
    from ``first_octant``, first ray, last ray, ray count) of one observer."""
    nrow, ncol = shape
    cell, range_m = p[1], p[3]
    range_cells = math.floor(range_m / cell) if math.isfinite(range_m) else max(nrow, ncol)
    range2 = range_m * range_m if math.isfinite(range_m) else math.inf
    p = (p[0], p[1], p[2], range2) + tuple(p[4:])
    extent = {(0, 1): ncol - 1 - c0, (0, -1): c0, (1, 0): nrow - 1 - r0, (-1, 0): r0}
    octants, areas = [], []
    for drj, dcj in ((0, 1), (0, -1), (1, 0), (-1, 0)):  # major axis and direction
        for sign in (1, -1):
            dra, dca = (sign, 0) if drj == 0 else (0, sign)
            jlim = min(extent[(drj, dcj)], range_cells)
            amax = min(extent[(dra, dca)], range_cells)
            if jlim < 1:
                continue
            a_first = 0 if sign == 1 else 1  # the axis belongs to the + octant
            a_diag = 1 if drj == 0 else 0  # the diagonal to the row-major octants
            octants.append(
                (r0, c0, drj, dcj, dra, dca, jlim, amax, int(local_steps), a_first, a_diag)
            )
            areas.append(jlim * jlim / 2 if amax >= jlim else amax * (jlim - amax / 2))
    tasks = []  # (estimated work, octant, first ray, last ray, ray count)
    total = sum(areas) or 1.0  # 0 for a DEM of one row or column (the octants are lines)
    for o, (v, area) in enumerate(zip(octants, areas, strict=True)):
        # octants split into slope ranges of about equal size (more for larger octants)
        nw = max(1, round(_TASKS * area / total))
        nray = nw * math.ceil(ray_density * v[6] / nw)
        for w in range(nw):
            tasks.append((area / nw, first_octant + o, w * nray // nw, (w + 1) * nray // nw, nray))
    return octants, [p] * len(octants), tasks


def _run(dem, octants, params, tasks, out, mask):
    if tasks:
        tasks = [t[1:] for t in sorted(tasks, reverse=True)]  # largest first
        with nb.parallel_chunksize(1):  # hand tasks out one by one (dynamic scheduling)
            _sweep(
                dem,
                np.array(octants, np.int64),
                np.array(params, np.float64),
                np.array(tasks, np.int64),
                out,
                mask,
            )
