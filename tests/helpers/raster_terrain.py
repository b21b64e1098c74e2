"""The raster terrain filter the simulation used before the required-eye-altitude masking
(:mod:`iadsim.sim.terrain`), kept as a reference for the agreement test: per radar the DEM on a
radar-centred grid of radius ``min(instrumented range, farthest opportunity)``, the minimum
visible altitude of every cell (:func:`iadsim.geo.los.min_visible_height`), and a target kept
iff its altitude reaches that of the cell it lies in."""

from __future__ import annotations

import numpy as np
from pyproj import Transformer

from iadsim.geo.los import min_visible_height


def raster_keep(radars, opp, traj, dem, k_factor: float, max_cells: int = 1601) -> np.ndarray:
    """Boolean row mask of the opportunities the raster filter keeps."""
    keep = np.ones(len(opp.pd), bool)
    for r in range(len(radars)):
        rows = np.flatnonzero(opp.radar == r)
        if not len(rows):
            continue
        reach = float(min(radars.max_range_m[r], np.max(opp.range_m[rows]) * 1.01 + 1.0))
        cell = max(reach / (max_cells // 2), 30.0)
        grid = dem.local_grid(radars.lat_deg[r], radars.lon_deg[r], reach, cell)
        ground = grid.heights_m[grid.centre_row, grid.centre_col]
        above = radars.height_m[r] - (0.0 if np.isnan(ground) else ground)
        h_min = min_visible_height(
            grid.heights_m, cell, grid.centre_row, grid.centre_col, above, k_factor
        )
        n, k = opp.threat[rows], opp.step[rows]
        to_xy = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
        x, y = to_xy.transform(traj.lon_deg[n, k], traj.lat_deg[n, k])
        col = np.floor((np.asarray(x) - grid.transform.c) / cell).astype(np.int64)
        row = np.floor((grid.transform.f - np.asarray(y)) / cell).astype(np.int64)
        inside = (row >= 0) & (row < h_min.shape[0]) & (col >= 0) & (col < h_min.shape[1])
        hm = np.full(len(rows), np.nan)
        hm[inside] = h_min[row[inside], col[inside]]
        keep[rows] = ~(traj.alt_m[n, k] < hm)  # NaN (no DEM data) never blocks
    return keep
