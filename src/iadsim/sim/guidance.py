"""Who can guide a round to its predicted intercept point (PIP): the launch-time check of the
two remote network modes.

A fire unit networked in ``launch_on_remote`` or ``engage_on_remote`` mode launches on a track
it does not hold itself, so before launching it predicts whether the engagement can be
supported to the PIP (:data:`iadsim.sim.network.MODES`):

* **launch on remote** (and an ``engage_on_remote`` unit firing a round without an active
  terminal seeker, which falls back to it): the unit's own fire-control radar (FCR) must take
  over the guidance, so it must be able to hold the target at the PIP;
* **engage on remote** with an active-seeker round (catalog ``terminal_seeker:
  active_radar``, :attr:`iadsim.catalog.Interceptor.active_seeker`): the network's track
  guides the round through its midcourse (uplink) until its own seeker takes over, so some
  radar of a network member (the unit's own included) must hold the target at the PIP.

A radar *holds* a target at a point (:func:`radar_holds`) when the point lies within its
detection range for the threat's RCS (the range where the single-scan Pd equals the radar's
catalog ``detection_pd``: :func:`iadsim.catalog.detection_range_m`; 0 for a ballistic threat
the radar cannot see), inside its azimuth sector around the site's heading, between its
elevation limits (refracted elevation on the k R_E sphere), above the smooth-Earth mutual
radio horizon (:func:`iadsim.geo.earth.horizon_distance_m`, ground distance by haversine on
R_E) and, with a DEM, in terrain line of sight: its antenna at least as high as the required
eye altitude of the point (:func:`iadsim.geo.los._eye_altitude`, the exact R3 march over the
radar's terrain grid that :func:`iadsim.sim.prepared.eye_altitudes` runs for the scan
opportunities; unknown or off-grid terrain never blocks, and the grid reaches as far as
terrain can block a sight line to any threat, :mod:`iadsim.sim.terrain`). A radar without
any scan opportunity cannot hold the target. These are the tests of
:func:`iadsim.sim.sensors._radar_pass` and of the terrain masking, applied to the PIP instead
of a trajectory sample: a prediction on the track, which can still be wrong
(the outcome is checked again at the intercept, :func:`iadsim.sim.steps.resolve`).

:func:`support_code` is compiled (numba) and called from the engagement kernel
(:func:`iadsim.sim.engagement._evaluate_nb`) for every interceptor slot whose PIP passes the
envelope; :class:`SupportPack` carries what it reads, as a few flat arrays (radar geometry
in the columns of one float array, terrain grids concatenated), so that the kernel touches
few array objects per check.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from iadsim.geo.earth import R_EARTH_M, horizon_distance_m, refracted_elevation_rad
from iadsim.geo.frames import aeqd_xy_m, geodetic_from_ecef_rad
from iadsim.geo.los import _eye_altitude

#: terrain state of a radar (column T_STATE of :attr:`SupportPack.terrain_i`): no DEM
#: (terrain not checked), a grid, or a DEM but no grid (the radar never sees any threat)
TERRAIN_NONE, TERRAIN_GRID, TERRAIN_BLIND = 0, 1, 2
#: columns of :attr:`SupportPack.radar_geo` (one row per radar, SI units and radians): ECEF
#: position, the ENU rotation (rows east, north, up; row-major), latitude, longitude, cos
#: latitude, antenna height above mean sea level (>= 0), the antenna's own horizon distance on
#: the k R_E sphere, heading, half sector (pi: all round), elevation limits
G_ECEF, G_ENU, G_LAT, G_LON, G_COSLAT, G_H, G_HORIZON = 0, 3, 12, 13, 14, 15, 16
G_HEADING, G_HALF, G_ELMIN, G_ELMAX, G_COLS = 17, 18, 19, 20, 21
#: columns of :attr:`SupportPack.unit_i`: mode, FCR radar row, first and end row in net_radar
U_MODE, U_FCR, U_NET0, U_NET1 = 0, 1, 2, 3
#: columns of :attr:`SupportPack.terrain_i` (state, offset in terrain_m, rows, columns, the
#: radar's cell) and of :attr:`SupportPack.terrain_f` (grid x of column 0's left edge, y of row
#: 0's top edge, cell, highest terrain of the grid, antenna altitude above mean sea level)
T_STATE, T_OFFSET, T_ROWS, T_COLS, T_ROW0, T_COL0 = 0, 1, 2, 3, 4, 5
T_X0, T_Y0, T_CELL, T_TOP, T_EYE = 0, 1, 2, 3, 4


class SupportPack(NamedTuple):
    """What :func:`support_code` reads: the units' modes and radars, the interceptors'
    seekers, detection ranges, radar geometry and terrain grids (a radar's grid of DEM heights
    is ``terrain_m[offset : offset + rows * cols]``, row-major); ``threat`` is per candidate."""

    unit_i: np.ndarray  # (F, 4) int64, columns U_*
    net_radar: np.ndarray  # (M,) radar rows (own FCR first), engage-on-remote units only
    active_seeker: np.ndarray  # (I,) bool, per interceptor type
    det_range_m: np.ndarray  # (R, N) detection range of each radar on each threat
    radar_geo: np.ndarray  # (R, G_COLS) float64, columns G_*
    terrain_i: np.ndarray  # (R, 6) int64, columns T_STATE..T_COL0
    terrain_f: np.ndarray  # (R, 5) float64, columns T_X0..T_EYE
    terrain_m: np.ndarray  # (K,) float32 DEM heights (m AMSL; NaN: no data)
    threat: np.ndarray  # (C,) threat of each candidate (set per call)
    k_radius_m: float  # effective Earth radius k R_E
    mode_lor: int  # MODE_CODE["launch_on_remote"]
    mode_eor: int  # MODE_CODE["engage_on_remote"]
    code_fcr: int  # reason: fcr_cannot_guide_at_pip
    code_net: int  # reason: no_network_track_at_pip


@numba.njit(cache=True, inline="always")
def radar_holds(sp, r, n, x, y, z, lat, lon, h, h_horizon_m):
    """Can radar ``r`` hold threat ``n`` at the ECEF point (x, y, z), geodetic (lat, lon in
    radians, height h in m) with its own horizon distance ``h_horizon_m`` on the k R_E
    sphere? (The tests of the module docstring, cheapest first.)"""
    g = sp.radar_geo
    dx, dy, dz = x - g[r, G_ECEF], y - g[r, G_ECEF + 1], z - g[r, G_ECEF + 2]
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    if rng > sp.det_range_m[r, n]:
        return False
    # quick horizon rejection from the slant range alone (no trigonometry): two points at
    # heights h1, h2 over a sphere R, a ground arc s apart, are at most |h1 - h2| +
    # s (1 + (h1 + h2) / (2 R)) apart (law of cosines, 1 - cos t <= t^2 / 2, AM-GM), so a
    # slant range beyond that bound at s = the mutual horizon distance means the point is
    # below the horizon; 1 % of margin covers the ellipsoid against the R_E sphere
    h_r = g[r, G_H]
    d_max = g[r, G_HORIZON] + h_horizon_m
    if rng > abs(h - h_r) + d_max * (1.01 + max(h + h_r, 0.0) / (2 * R_EARTH_M)) + 10.0:
        return False
    half = g[r, G_HALF]
    if half < np.pi:
        e = g[r, G_ENU] * dx + g[r, G_ENU + 1] * dy + g[r, G_ENU + 2] * dz
        nn = g[r, G_ENU + 3] * dx + g[r, G_ENU + 4] * dy + g[r, G_ENU + 5] * dz
        daz = (np.arctan2(e, nn) - g[r, G_HEADING] + np.pi) % (2 * np.pi) - np.pi
        if abs(daz) > half + 1e-12:
            return False
    la0, lo0 = g[r, G_LAT], g[r, G_LON]
    hav = np.sin((lat - la0) / 2) ** 2 + g[r, G_COSLAT] * np.cos(lat) * np.sin((lon - lo0) / 2) ** 2
    ground = 2 * R_EARTH_M * np.arcsin(np.sqrt(min(max(hav, 0.0), 1.0)))
    if ground > d_max:
        return False  # below the mutual radio horizon
    el = refracted_elevation_rad(ground, h_r, h, sp.k_radius_m)
    if el < g[r, G_ELMIN] or el > g[r, G_ELMAX]:
        return False
    state = sp.terrain_i[r, T_STATE]
    if state == TERRAIN_BLIND:
        return False
    if state == TERRAIN_GRID:
        gx, gy = aeqd_xy_m(la0, lo0, lat, lon)
        tf, ti = sp.terrain_f, sp.terrain_i
        cell = tf[r, T_CELL]
        col = (gx - tf[r, T_X0]) / cell - 0.5  # fractional, cell centres at integers
        row = (tf[r, T_Y0] - gy) / cell - 0.5
        rows, cols, at = ti[r, T_ROWS], ti[r, T_COLS], ti[r, T_OFFSET]
        dem = sp.terrain_m[at : at + rows * cols].reshape((rows, cols))
        inv2a = 0.5 / sp.k_radius_m
        eye = _eye_altitude(dem, ti[r, T_ROW0], ti[r, T_COL0], row, col, h, cell, inv2a,
                            tf[r, T_TOP])  # fmt: skip
        if tf[r, T_EYE] < eye:
            return False  # terrain hides the point from the antenna
    return True


@numba.njit(cache=True, inline="always")
def remote_mode(sp, u):
    """Is unit ``u`` in one of the two remote modes (the launch-time check applies)?"""
    mode = sp.unit_i[u, U_MODE]
    return mode == sp.mode_lor or mode == sp.mode_eor


@numba.njit(cache=True, inline="always")
def eor_active(sp, u, typ):
    """Does unit ``u`` fire interceptor type ``typ`` in engage-on-remote (an active-seeker
    round of an engage-on-remote unit)? Such a round needs no guidance from the own FCR."""
    return sp.unit_i[u, U_MODE] == sp.mode_eor and sp.active_seeker[typ]


@numba.njit(cache=True, inline="always")
def support_code(sp, i, u, typ, x, y, z):
    """0 when candidate ``i`` of unit ``u`` firing interceptor type ``typ`` at the PIP
    (x, y, z) is supportable to the end, else the reason code: the own FCR for
    launch-on-remote and for rounds falling back to it (``code_fcr``), any network radar for
    engage-on-remote active-seeker rounds (``code_net``); 0 for standalone and cued units,
    whose FCR already holds a track at launch."""
    if not remote_mode(sp, u):
        return 0
    n = sp.threat[i]
    lat, lon, h = geodetic_from_ecef_rad(x, y, z)  # once for every radar asked
    d_h = horizon_distance_m(h, sp.k_radius_m)
    if eor_active(sp, u, typ):
        for m in range(sp.unit_i[u, U_NET0], sp.unit_i[u, U_NET1]):
            if radar_holds(sp, sp.net_radar[m], n, x, y, z, lat, lon, h, d_h):
                return 0
        return sp.code_net
    if radar_holds(sp, sp.unit_i[u, U_FCR], n, x, y, z, lat, lon, h, d_h):
        return 0
    return sp.code_fcr


def detection_ranges_m(radars, rcs_m2, ballistic) -> np.ndarray:
    """(R, N) detection range of each radar on each threat: ``R_ref (sigma / sigma_ref)^(1/4)``
    capped at the instrumented range (:func:`iadsim.catalog.detection_range_m`), 0 for a
    ballistic threat of a radar that cannot see ballistic targets."""
    rcs = np.asarray(rcs_m2, float)[None, :]
    rng = radars.ref_range_m[:, None] * (rcs / radars.ref_rcs_m2[:, None]) ** 0.25
    rng = np.minimum(rng, radars.max_range_m[:, None])
    blind = ~radars.detects_ballistic[:, None] & np.asarray(ballistic, bool)[None, :]
    return np.where(blind, 0.0, rng)


def radar_geometry(radars, k_radius_m: float) -> np.ndarray:
    """The (R, G_COLS) :attr:`SupportPack.radar_geo` of
    :class:`iadsim.sim.sensors.RadarArrays` (antenna heights below sea level clamped at 0, as
    the detection pass does; ``k_radius_m`` = k R_E for the antennas' horizon distances)."""
    n = len(radars.lat_deg)
    g = np.zeros((n, G_COLS))
    lat = np.radians(np.asarray(radars.lat_deg, float))
    h = np.maximum(np.asarray(radars.height_m, float), 0.0)
    g[:, G_ECEF : G_ECEF + 3] = np.asarray(radars.ecef_m, float).reshape(n, 3)
    g[:, G_ENU : G_ENU + 9] = np.asarray(radars.enu_rot, float).reshape(n, 9)
    g[:, G_LAT], g[:, G_LON] = lat, np.radians(np.asarray(radars.lon_deg, float))
    g[:, G_COSLAT], g[:, G_H] = np.cos(lat), h
    g[:, G_HORIZON] = k_radius_m * np.arccos(k_radius_m / (k_radius_m + h))
    g[:, G_HEADING] = radars.heading_rad
    g[:, G_HALF] = radars.half_sector_rad
    g[:, G_ELMIN], g[:, G_ELMAX] = radars.min_elevation_rad, radars.max_elevation_rad
    return g


def terrain_arrays(radars, grids, keep):
    """(terrain_i, terrain_f, terrain_m) of :class:`SupportPack` from per-radar
    :class:`iadsim.sim.terrain.TerrainGrid` (or None) ``grids`` (None: no DEM), keeping the
    grids of the radar rows in ``keep`` only (the others are never asked); ``radars``
    (:class:`iadsim.sim.sensors.RadarArrays`) gives the antenna altitudes."""
    n_radars = len(radars) if radars is not None else 0
    ti = np.zeros((n_radars, 6), np.int64)
    tf = np.zeros((n_radars, 5))
    parts, at = [], 0
    if grids is not None:
        for r in sorted({int(k) for k in keep}):
            grid = grids[r]
            if grid is None:
                ti[r, T_STATE] = TERRAIN_BLIND
                continue
            g = grid.grid
            rows, cols = g.heights_m.shape
            ti[r] = (TERRAIN_GRID, at, rows, cols, g.centre_row, g.centre_col)
            tf[r] = (g.transform.c, g.transform.f, g.cell_size_m, grid.max_height_m,
                     radars.height_m[r])  # fmt: skip
            parts.append(np.asarray(g.heights_m, np.float32).ravel())
            at += parts[-1].size
    h = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return ti, tf, h


def no_support(n_units: int, n_types: int) -> SupportPack:
    """A :class:`SupportPack` where every unit is standalone (no remote-mode check), for
    callers of the engagement kernel outside a prepared scenario."""
    ti, tf, h = terrain_arrays(None, None, ())
    return SupportPack(
        unit_i=np.zeros((n_units, 4), np.int64),
        net_radar=np.zeros(0, np.int64),
        active_seeker=np.zeros(n_types, bool),
        det_range_m=np.zeros((0, 0)),
        radar_geo=np.zeros((0, G_COLS)),
        terrain_i=ti,
        terrain_f=tf,
        terrain_m=h,
        threat=np.zeros(0, np.int64),
        k_radius_m=float(R_EARTH_M * 4.0 / 3.0),
        mode_lor=-1,
        mode_eor=-1,
        code_fcr=0,
        code_net=0,
    )
