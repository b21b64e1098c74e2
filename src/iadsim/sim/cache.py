"""What :func:`iadsim.sim.prepared.prepare` can keep between preparations of one scenario whose
catalog numbers change (Monte Carlo runs with parameter uncertainty, sensitivity designs).

A :class:`PrepareCache` belongs to one process (a Monte Carlo worker makes its own; pickling
one gives an empty cache) and keeps only what does not depend on the drawn numbers, keyed by
everything it does depend on, so a preparation gives the same arrays with or without it,
whatever was prepared before:

* the open DEM (by path);
* each raid's sampled flight and the terrain height under it
  (:func:`iadsim.sim.kinematics.sample_raid`), by the raid, the time grid, the boost model and
  the catalog numbers the flight reads (:func:`iadsim.sim.kinematics.flight_key`: the boost
  time of a ballistic threat, the catalog speed of a route without ``speed_mps``);
* each radar position's terrain grid (:mod:`iadsim.sim.terrain`), by position and radius; the
  radius comes from the job's base scenario (:attr:`PrepareCache.base`) and its uncertainty,
  never from a run's draws;
* the required eye altitude of every scan opportunity seen so far, by terrain grid,
  effective-Earth factor, raid flight, threat and time step.

Flights and eye altitudes are kept for the most recent raid flights only (a least recently
used bound: a ballistic raid whose boost time is drawn flies a new trajectory every run).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from iadsim.errors import InputError
from iadsim.geo.dem import Dem
from iadsim.sim.ballistic import DEFAULT_BOOST_MODEL, BoostModel
from iadsim.sim.kinematics import (
    RaidSamples,
    flight_key,
    raid_error,
    raid_threats,
    sample_raid,
    trajectory_set,
    warn_excess,
)
from iadsim.sim.terrain import (
    TerrainGrid,
    terrain_grid,
    terrain_reach_m,
    track_points,
    track_reach_m,
)
from iadsim.uncertainty import support

_FLIGHTS_KEPT = 64  #: raid flights kept (least recently used dropped)
_SMALL_QUERY = 16  #: DEM height queries of at most this many points are remembered
_EYES_KEPT = 256  #: (grid, raid flight) tables of eye altitudes kept


def _lru_get(table: OrderedDict, key):
    value = table.get(key)
    if value is not None:
        table.move_to_end(key)
    return value


def _lru_put(table: OrderedDict, key, value, limit: int) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > limit:
        table.popitem(last=False)


class PrepareCache:
    """Per-process store of the parts of a preparation that drawn catalog numbers do not
    change (see the module docstring). ``base`` is the scenario whose uncertainty bounds the
    terrain grids (a Monte Carlo job's scenario before any draw); without it each preparation
    bounds them by its own scenario. Use as a context manager, or call :meth:`close`, to close
    the DEM."""

    def __init__(self, base=None) -> None:
        self.base = base
        self._dems: dict[Path, Dem] = {}
        self._flights: OrderedDict = OrderedDict()
        self._grids: dict[tuple, TerrainGrid] = {}
        self._reach: dict[tuple, float] = {}
        self._eyes: OrderedDict = OrderedDict()
        self._heights: dict[str, _RememberedHeights] = {}

    def __getstate__(self):  # a cache is per process: it travels empty
        return {"base": self.base}

    def __setstate__(self, state) -> None:
        self.__init__(state.get("base"))

    def __enter__(self) -> PrepareCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the open DEMs (the cache stays usable: they reopen when needed)."""
        for dem in self._dems.values():
            dem.close()
        self._dems.clear()

    # ------------------------------------------------------------------------------ DEM --
    def dem(self, scenario) -> Dem | None:
        """The scenario's DEM, opened once (None without terrain)."""
        path = scenario.dem_path()
        if path is None:
            return None
        path = Path(path).resolve()
        if path not in self._dems:
            self._dems[path] = Dem.open(path)
        return self._dems[path]

    def heights(self, dem: Dem | None):
        """``dem`` for height lookups, its small queries (site grounds, ballistic launch and
        aim points) answered from memory when asked before (None without a DEM)."""
        if dem is None:
            return None
        key = str(dem.path)
        if key not in self._heights:
            self._heights[key] = _RememberedHeights(dem)
        return self._heights[key]

    # -------------------------------------------------------------------------- flights --
    def trajectories(self, scenario, time_s, dem, boost_model: BoostModel = DEFAULT_BOOST_MODEL):
        """``(TrajectorySet, threat_ground_m, flight_keys)`` of the scenario's raids on
        ``time_s``: each raid's flight from the cache when an identical one was sampled
        before. ``threat_ground_m`` (N, T) float32 is the ground envelope altitudes are
        measured from (None without a DEM; see :func:`ground_under`); ``flight_keys`` one
        hashable key per raid, as the eye-altitude cache uses them. A raid flown outside its
        threat's class warns (:func:`iadsim.sim.kinematics.warn_excess`) when sampled for a
        scenario that is the cache's :attr:`base` (or without one), not for each run's
        drawn numbers."""
        time_s = np.asarray(time_s, float)
        raids, threats = list(scenario.raids), raid_threats(scenario)
        grid_key = (len(time_s), float(time_s[0]) if len(time_s) else 0.0,
                    float(time_s[-1]) if len(time_s) else 0.0)  # fmt: skip
        dem_key = None if dem is None else str(dem.path)
        samples, grounds, keys = [], [], []
        for i, (raid, threat) in enumerate(zip(raids, threats, strict=True)):
            key = (raid.model_dump_json(), flight_key(raid, threat), grid_key, dem_key,
                   boost_model)  # fmt: skip
            hit = _lru_get(self._flights, key)
            if hit is None:
                heights = self.heights(dem)
                terrain = None if heights is None else heights.height_at
                try:
                    s = sample_raid(raid, threat, time_s, terrain, boost_model)
                except InputError as exc:
                    raise raid_error(scenario, i, exc) from None
                if self.base is None or scenario is self.base:
                    warn_excess(scenario, i, s.excess)
                hit = (s, ground_under(heights, s, threat.target_class == "ballistic"))
                _lru_put(self._flights, key, hit, _FLIGHTS_KEPT)
            samples.append(hit[0])
            grounds.append(hit[1])
            keys.append(key)
        traj = trajectory_set(raids, threats, samples, time_s)
        ground = None
        if dem is not None:
            ground = (np.concatenate(grounds) if grounds else
                      np.zeros((0, len(time_s)), np.float32))  # fmt: skip
        return traj, ground, keys

    # ----------------------------------------------------------------- terrain masking --
    def grid_reach_m(self, scenario, deployment, site_index: int, radar_index: int, dem,
                     k_factor: float) -> float:  # fmt: skip
        """The radius of a radar's terrain grid (:mod:`iadsim.sim.terrain`), bounded by the
        uncertainty of :attr:`base` (else of ``scenario``)."""
        base = self.base if self.base is not None else scenario
        site = deployment.sites[site_index]
        radar = site.radars[radar_index]
        key = (id(base), site.id, radar.id, k_factor)
        if self.base is not None and key in self._reach:
            return self._reach[key]
        instr = support(base, radar.id, "instrumented_range")[1] * 1000.0  # km in the catalog
        stated = base.site(site.id).antenna_height_m
        antenna = stated if stated is not None else support(base, radar.id, "antenna_height")[1]
        near = min(instr, track_reach_m(site.lat, site.lon, track_points(base)))
        z_max = dem.max_height_m(site.lat, site.lon, near)
        far = terrain_reach_m(site.ground_altitude_m + antenna, z_max, k_factor)
        reach = min(near, far if np.isfinite(far) else near) * 1.01 + 1000.0
        if self.base is not None:
            self._reach[key] = reach
        return reach

    def grid(self, dem, lat_deg: float, lon_deg: float, reach_m: float) -> TerrainGrid:
        """The terrain grid of radius ``reach_m`` around (lat, lon), resampled once."""
        key = (str(dem.path), float(lat_deg), float(lon_deg), float(reach_m))
        if key not in self._grids:
            self._grids[key] = terrain_grid(dem, lat_deg, lon_deg, reach_m)
        return self._grids[key]

    def eye_altitudes(self, grid_key, grid: TerrainGrid, k_factor, traj, threat, step,
                      flight_keys) -> np.ndarray:  # fmt: skip
        """Required eye altitude (m AMSL) of the opportunities (threat, step) seen from the
        centre of ``grid`` (:meth:`TerrainGrid.eye_altitude_m`), computed for the rows not
        seen before under the same grid and raid flight."""
        out = np.empty(len(threat))
        nt = traj.lat_deg.shape[1]
        raid = np.asarray(traj.raid_index)[threat]
        first = np.searchsorted(np.asarray(traj.raid_index), np.arange(len(flight_keys)))
        code = (threat - first[raid]).astype(np.int64) * nt + step
        found = np.zeros(len(threat), bool)
        tables = {}
        for j in np.unique(raid):
            sel = np.flatnonzero(raid == j)
            key = (grid_key, float(k_factor), flight_keys[j])
            table = _lru_get(self._eyes, key)
            tables[j] = key, table
            if table is None:
                continue
            keys, values = table
            idx = np.minimum(np.searchsorted(keys, code[sel]), max(len(keys) - 1, 0))
            hit = keys[idx] == code[sel] if len(keys) else np.zeros(len(sel), bool)
            out[sel[hit]] = values[idx[hit]]
            found[sel[hit]] = True
        miss = np.flatnonzero(~found)
        if len(miss):
            n, k = threat[miss], step[miss]
            out[miss] = grid.eye_altitude_m(
                traj.lat_deg[n, k], traj.lon_deg[n, k], traj.alt_m[n, k], k_factor
            )
            for j in np.unique(raid[miss]):
                sel = miss[raid[miss] == j]
                key, table = tables[j]
                keys, values = (np.empty(0, np.int64), np.empty(0)) if table is None else table
                keys = np.concatenate([keys, code[sel]])
                values = np.concatenate([values, out[sel]])
                keys, first_at = np.unique(keys, return_index=True)
                _lru_put(self._eyes, key, (keys, values[first_at]), _EYES_KEPT)
        return out


class _RememberedHeights:
    """A DEM's ``height_at`` that remembers the answers to small queries (exact same points),
    so that preparing a scenario again does not read the raster for its site grounds and
    ballistic end points each time; larger queries go to the DEM."""

    def __init__(self, dem: Dem) -> None:
        self.dem = dem
        self.path = dem.path
        self._memo: dict[tuple, np.ndarray] = {}

    def height_at(self, lat_deg, lon_deg) -> np.ndarray:
        lat, lon = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
        if lat.size > _SMALL_QUERY:
            return self.dem.height_at(lat_deg, lon_deg)
        key = (lat.shape, lat.tobytes(), lon.shape, lon.tobytes())
        if key not in self._memo:
            self._memo[key] = np.array(self.dem.height_at(lat_deg, lon_deg), copy=True)
        return self._memo[key].copy()


def ground_under(dem, samples: RaidSamples, ballistic: bool) -> np.ndarray | None:
    """The ground envelope altitudes are measured from, per sample of one raid (float32, 0
    outside the DEM / on nodata; None without a DEM): under the threat for aircraft and cruise
    missiles (they keep their height above ground to the PIP); at the aim point for ballistic
    missiles (a PIP in their terminal phase lies above the defended area, not under the
    missile's current position tens of kilometres back)."""
    if dem is None:
        return None
    if ballistic:
        h = np.ravel(dem.height_at(samples.end_lat_deg, samples.end_lon_deg))[0]
        h = np.full(samples.lat_deg.shape, h)
    elif samples.lat_deg.size:
        h = dem.height_at(samples.lat_deg.ravel(), samples.lon_deg.ravel())
        h = np.asarray(h).reshape(samples.lat_deg.shape)
    else:
        h = np.zeros(samples.lat_deg.shape)
    return np.nan_to_num(h, nan=0.0).astype(np.float32)
