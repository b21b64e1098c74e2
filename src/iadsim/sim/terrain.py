"""Terrain masking of scan opportunities: the lowest antenna that sees each one.

For each radar position the DEM is resampled once onto a radar-centred azimuthal-equidistant
grid (:meth:`iadsim.geo.dem.Dem.local_grid`: distances from the radar are geodesic), and each
scan opportunity gets the **required eye altitude**: the lowest antenna altitude (AMSL) from
which the target is visible, by the exact R3 sight line from the radar's cell to the target's
own position in the grid (:func:`iadsim.geo.los.required_eye_altitude`: terrain sampled where
the line crosses cell-centre rows and columns, heights lowered by the 4/3-Earth curvature drop
d^2 / (2 k R)). An opportunity is kept iff the radar's antenna (site ground + antenna height)
is at least that high. The required altitude depends only on the terrain and the geometry of
radar site and target, not on any radar number, so a Monte Carlo run with a drawn antenna
height reuses it (:class:`iadsim.sim.cache.PrepareCache`).

The grid of a radar covers ``reach = min(R_instr, R_track, R_terrain) * 1.01 + 1 km`` with
``cell = max(reach / 800, 30 m)`` (at most 1601 cells a side), where

* ``R_instr`` is the largest instrumented range the radar can have in the job (the upper end
  of its uncertainty distribution, :func:`iadsim.uncertainty.support`): no opportunity lies
  beyond it;
* ``R_track`` is the farthest raid point (route waypoint, launch or aim point) from the radar:
  no threat flies farther (a geodesic leg is farthest from a point at one of its ends for legs
  shorter than half the Earth's circumference);
* ``R_terrain = sqrt(2 a Z_eye) + sqrt(2 a Z_max)`` (a = k R): beyond the eye's horizon any
  sight line that clears the smooth sphere lies at least ``(d - sqrt(2 a Z_eye))^2 / (2 a)``
  above it, so terrain farther than that can block nothing (Z_eye the highest antenna
  altitude the job can give, Z_max the DEM's highest point within ``min(R_instr, R_track)``).

The bound depends on the scenario's catalog and its uncertainty, never on a run's draws, so a
run with nominal numbers and one with drawn numbers use the same grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Geod, Transformer

from iadsim.geo.dem import LocalGrid
from iadsim.geo.earth import R_EARTH_M
from iadsim.geo.los import required_eye_altitude

MAX_CELLS = 2401  #: largest grid side (cells)
MIN_CELL_M = 30.0  #: finest grid spacing (m)
WARP_THREADS = 2  #: GDAL threads resampling a grid (the values do not depend on it)
_GEOD = Geod(ellps="WGS84")


def track_points(scenario) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of every raid point of the scenario: route waypoints, launch and aim points."""
    lat, lon = [], []
    for r in scenario.raids:
        for p in r.route or []:
            lat.append(p[0])
            lon.append(p[1])
        for p in (r.launch, r.aim):
            if p is not None:
                lat.append(p[0])
                lon.append(p[1])
    return np.array(lat, float), np.array(lon, float)


def track_reach_m(lat_deg: float, lon_deg: float, points: tuple[np.ndarray, np.ndarray]) -> float:
    """Geodesic distance from (lat, lon) to the farthest of ``points`` (m; 0 without points)."""
    plat, plon = points
    if plat.size == 0:
        return 0.0
    _, _, d = _GEOD.inv(np.full(plat.shape, lon_deg), np.full(plat.shape, lat_deg), plon, plat)
    return float(np.max(d))


def terrain_reach_m(eye_altitude_m: float, max_terrain_m: float, k_factor: float) -> float:
    """Ground distance beyond which terrain up to ``max_terrain_m`` cannot block a sight line
    from an eye at ``eye_altitude_m`` (both AMSL) that clears the smooth effective-Earth
    sphere: ``sqrt(2 a Z_eye) + sqrt(2 a Z_max)``, a = k R (see the module docstring)."""
    a = k_factor * R_EARTH_M
    return math.sqrt(2 * a * max(eye_altitude_m, 0.0)) + math.sqrt(2 * a * max(max_terrain_m, 0.0))


def grid_cell_m(reach_m: float, max_cells: int | None = None) -> float:
    """The grid spacing for a grid of radius ``reach_m``: ``max(reach / (max_cells // 2),
    30 m)`` (``max_cells`` default :data:`MAX_CELLS`)."""
    return max(reach_m / ((max_cells or MAX_CELLS) // 2), MIN_CELL_M)


@dataclass
class TerrainGrid:
    """A radar-centred DEM grid, its highest point (m; -inf without data) and the transform of
    WGS84 points onto it."""

    grid: LocalGrid
    to_xy: Transformer
    max_height_m: float

    def eye_altitude_m(self, lat_deg, lon_deg, alt_m, k_factor: float) -> np.ndarray:
        """Required eye altitude (m AMSL) at the grid's centre to see each target (see the
        module docstring): ``-inf`` when no terrain lies on the sight line, ``+inf`` for a
        target below the ground at its position."""
        g = self.grid
        x, y = self.to_xy.transform(np.asarray(lon_deg, float), np.asarray(lat_deg, float))
        cell = g.cell_size_m
        col = (np.asarray(x) - g.transform.c) / cell - 0.5  # cell centres at integers
        row = (g.transform.f - np.asarray(y)) / cell - 0.5
        return required_eye_altitude(
            g.heights_m, cell, g.centre_row, g.centre_col, row, col, alt_m, k_factor,
            max_height_m=self.max_height_m,
        )  # fmt: skip


def terrain_grid(dem, lat_deg: float, lon_deg: float, reach_m: float) -> TerrainGrid:
    """The DEM on a grid of radius ``reach_m`` centred on (lat, lon), spacing
    :func:`grid_cell_m`."""
    grid = dem.local_grid(lat_deg, lon_deg, reach_m, grid_cell_m(reach_m), WARP_THREADS)
    h = grid.heights_m
    top = float(np.nanmax(h)) if np.isfinite(h).any() else -math.inf
    return TerrainGrid(grid, Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True), top)
