"""Deterministic precomputation for the engine (:mod:`iadsim.sim.engine`), done once per
scenario and shared, read-only, by every run: the time grid, threat trajectories, radar and
fire-unit arrays, line of sight and detection probability of every scan opportunity, networks,
impact points and the first step each threat comes within each fire unit's reach.

A :class:`iadsim.sim.cache.PrepareCache` handed to :func:`prepare` keeps what does not depend on
the catalog numbers (the DEM, raid flights, terrain grids, required eye altitudes), so that
preparing the same scenario again with drawn numbers costs a fraction of the first time.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pyproj import Geod

from iadsim.deployment import Deployment, resolve_deployment
from iadsim.errors import InputError, ScenarioError
from iadsim.geo.dem import Dem, HeightWindow
from iadsim.geo.earth import R_EARTH_M
from iadsim.geo.frames import geodetic_to_ecef_m
from iadsim.memory import check_memory
from iadsim.sim import engagement as eng
from iadsim.sim import guidance, sensors
from iadsim.sim import network as net
from iadsim.sim.cache import PrepareCache
from iadsim.sim.events import REASON_CODE
from iadsim.sim.kinematics import sample_raids

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class EngineConfig:
    """Engine settings (defaults are the documented model)."""

    init_m: int = 2  #: detections to confirm a track
    delete_after_misses: int = 3  #: scan periods without detection before a track is dropped
    #: ``ideal``: truth association + Kalman filter per (site, threat); ``gnn``: one GNN
    #: tracker per site (iadsim.sim.tracking), much slower on large raids
    tracking: Literal["ideal", "gnn"] = "ideal"


@dataclass
class PreparedScenario:
    """Deterministic precomputation shared by every run of a scenario.

    Runs only read it (their mutable state, network delay lines included, is a
    :class:`~iadsim.sim.steps.RunState`): one prepared scenario may serve several runs at once,
    in threads or stepped alternately, and is the same after them as :func:`prepare` made it.
    """

    scenario: Any
    config: EngineConfig
    time_s: np.ndarray  # (T,)
    traj: Any  # TrajectorySet
    site_ids: list[str]
    radars: sensors.RadarArrays
    opp: sensors.Opportunities
    fu: eng.FireUnits
    icp: eng.Interceptors
    nets: net.Networks
    threat_class: np.ndarray  # (N,) class code
    impact_step: np.ndarray  # (N,) first step at or after impact/arrival (T if never)
    impact_asset: np.ndarray  # (N,) asset index hit by the threat's aim/end point, -1 none
    asset_ids: list[str]
    asset_value: np.ndarray
    coast_s: np.ndarray  # (S,)
    capacity: np.ndarray  # (S,) track capacity
    reach_step: np.ndarray  # (F, N) first step the threat is within the unit's max range
    fu_mode: np.ndarray  # (F,)
    fu_group: np.ndarray  # (F,) engagement-coordination group
    q_accel: np.ndarray  # (N,) track filter white-noise acceleration by threat class
    site_ecef: np.ndarray  # (S, 3)
    site_scan: np.ndarray  # (T, S) bool: a radar of the site starts a scan at this step
    #: (N, T) terrain height under each threat (m; None without a DEM = sea-level ground):
    #: engagement envelope altitudes are heights above it
    threat_ground_m: np.ndarray | None = None
    #: every site resolved against the catalog (radars, fire units, grounds, provenance)
    deployment: Deployment | None = None
    #: the DEM in memory over every threat sample (None without a DEM): the ground under a
    #: true intercept point (:meth:`ground_at_m`)
    terrain: HeightWindow | None = None
    #: what the remote modes' launch-time check reads (iadsim.sim.guidance); None: none
    support: guidance.SupportPack | None = None
    #: (F,) coast window of the unit's network: a network track older than this at the
    #: intercept does not guide an engage-on-remote round (the longest of its members')
    fu_net_coast_s: np.ndarray | None = None
    reach_f: np.ndarray = field(init=False)  # reach_step as (unit, threat) pairs by step
    reach_n: np.ndarray = field(init=False)
    reach_off: np.ndarray = field(init=False)
    impact_order: np.ndarray = field(init=False)  # threats by impact step
    impact_off: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.impact_order = np.argsort(self.impact_step, kind="stable")
        self.impact_off = np.searchsorted(
            self.impact_step[self.impact_order], np.arange(len(self.time_s) + 1)
        )
        f, n = np.nonzero(self.reach_step < len(self.time_s))
        order = np.argsort(self.reach_step[f, n], kind="stable")
        self.reach_f, self.reach_n = f[order], n[order]
        steps = self.reach_step[self.reach_f, self.reach_n]
        self.reach_off = np.searchsorted(steps, np.arange(len(self.time_s) + 1))

    @property
    def n_threats(self) -> int:
        return len(self.threat_class)

    def ground_at_m(self, threat, lat_deg, lon_deg) -> np.ndarray:
        """The ground that envelope altitudes of ``threat`` at (lat, lon) are measured from
        (as :func:`_threat_ground_m`, but at any point): the DEM under the point for aircraft
        and cruise missiles, at the aim point for ballistic missiles; 0 (sea level) without a
        DEM, outside it or on nodata."""
        lat, lon = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
        if self.terrain is None:
            return np.zeros(lat.shape)
        ball = self.threat_class[threat] == eng.CLASS_CODE["ballistic"]
        lat = np.where(ball, np.asarray(self.traj.impact_lat_deg)[threat], lat)
        lon = np.where(ball, np.asarray(self.traj.impact_lon_deg)[threat], lon)
        return np.nan_to_num(self.terrain.height_at(lat, lon), nan=0.0)


def open_dem(scenario):
    """Context manager: the scenario's DEM, opened once (``None`` without terrain)."""
    if scenario.dem_path() is None:
        return contextlib.nullcontext(None)
    return Dem.open(scenario.dem_path())


def scenario_trajectories(scenario, time_s, dem=None):
    """All threats of the scenario sampled on ``time_s`` (AGL routes follow ``dem``)."""
    return sample_raids(scenario, time_s, terrain=None if dem is None else dem.height_at)


def _terrain_window(dem, traj) -> HeightWindow | None:
    """The DEM in memory over every threat sample and aim point, with two cells of margin: a
    true intercept point lies on the segment between two samples."""
    if dem is None or traj.lat_deg.size == 0:
        return None
    lat = np.concatenate([traj.lat_deg.ravel(), np.asarray(traj.impact_lat_deg, float)])
    lon = np.concatenate([traj.lon_deg.ravel(), np.asarray(traj.impact_lon_deg, float)])
    return dem.window_around(lat, lon, margin_cells=2)


def _threat_ground_m(terrain: HeightWindow | None, traj) -> np.ndarray | None:
    """The ground that envelope altitudes are measured from, per threat sample (float32, 0
    outside the DEM / on nodata): under the threat for aircraft and cruise missiles (they keep
    their height above ground to the PIP); at the aim point for ballistic missiles (a PIP in
    their terminal phase lies above the defended area, not under the missile's current
    position tens of kilometres back)."""
    if terrain is None:
        return None
    h = terrain.height_at(traj.lat_deg, traj.lon_deg)
    ballistic = np.asarray(traj.target_class) == "ballistic"
    if ballistic.any():
        aim = terrain.height_at(np.asarray(traj.impact_lat_deg)[ballistic],
                                np.asarray(traj.impact_lon_deg)[ballistic])  # fmt: skip
        h[ballistic] = np.asarray(aim)[:, None]
    return np.nan_to_num(h, nan=0.0).astype(np.float32)


def eye_altitudes(cache, scenario, deployment, radars, opp, traj, dem, k_factor, flight_keys):
    """The required eye altitude (m AMSL) of every opportunity (:mod:`iadsim.sim.terrain`):
    its radar sees it iff the antenna is at least that high. ``flight_keys`` (one per raid,
    from :meth:`PrepareCache.trajectories`) lets the cache reuse earlier ones; None computes
    every one."""
    eye = np.full(len(opp.pd), -np.inf)
    pairs = [(s, r) for s, site in enumerate(deployment.sites) for r in range(len(site.radars))]
    for r, (s, ri) in enumerate(pairs):
        rows = np.flatnonzero(opp.radar == r)
        if not len(rows):
            continue
        reach = cache.grid_reach_m(scenario, deployment, s, ri, dem, k_factor)
        lat, lon = float(radars.lat_deg[r]), float(radars.lon_deg[r])
        grid = cache.grid(dem, lat, lon, reach)
        n, k = opp.threat[rows].astype(np.int64), opp.step[rows].astype(np.int64)
        if flight_keys is None:  # injected trajectories: nothing to key a cache on
            eye[rows] = grid.eye_altitude_m(
                traj.lat_deg[n, k], traj.lon_deg[n, k], traj.alt_m[n, k], k_factor
            )
        else:
            key = (str(dem.path), lat, lon, reach)
            eye[rows] = cache.eye_altitudes(key, grid, k_factor, traj, n, k, flight_keys)
    return eye


def terrain_grids(cache, scenario, deployment, radars, opp, dem, k_factor) -> list:
    """Per radar, the DEM grid its terrain masking uses (:class:`iadsim.sim.terrain.TerrainGrid`,
    the same grid :func:`eye_altitudes` marches on, from the cache), or None for a radar without
    any scan opportunity (it sees no threat anywhere). The remote network modes check terrain
    line of sight at a predicted intercept point on it (:mod:`iadsim.sim.guidance`)."""
    out: list = []
    pairs = [(s, r) for s, site in enumerate(deployment.sites) for r in range(len(site.radars))]
    for r, (s, ri) in enumerate(pairs):
        if not np.any(opp.radar == r):
            out.append(None)
            continue
        reach = cache.grid_reach_m(scenario, deployment, s, ri, dem, k_factor)
        out.append(cache.grid(dem, float(radars.lat_deg[r]), float(radars.lon_deg[r]), reach))
    return out


def _reach_step(fu, icp, traj, cls) -> np.ndarray:
    """First step each threat is active within each unit's largest max range for its class."""
    max_r = np.where(icp.has_class, icp.max_range_m, 0.0)[np.maximum(fu.types, 0)]  # (F, Q, 3)
    max_r = np.where((fu.types >= 0)[..., None], max_r, 0.0).max(axis=1)  # (F, 3)
    nt = traj.active.shape[1]
    out = np.full((len(fu.site), len(cls)), nt, np.int64)
    for f in range(len(fu.site)):
        d = np.linalg.norm(traj.ecef_m - fu.ecef_m[f], axis=-1)  # (N, T)
        inside = traj.active & (d <= max_r[f, cls][:, None])
        out[f] = np.where(inside.any(axis=1), inside.argmax(axis=1), nt)
    return out


def _support_pack(radars, fu, icp, nets, fu_mode, traj, grids, k_factor):
    """The :class:`iadsim.sim.guidance.SupportPack` of the scenario: each fire unit's mode and
    FCR row; for engage-on-remote units every radar of every member of their network (own FCR
    first, then the own site's others, then the other members' in site order); detection
    ranges of every radar on every threat; and the terrain grids of the radars a remote
    mode may ask (the others are dropped, so runs do not carry them)."""
    lor, eor = net.MODE_CODE["launch_on_remote"], net.MODE_CODE["engage_on_remote"]
    unit = np.zeros((len(fu.site), 4), np.int64)
    rows: list[int] = []
    asked: set[int] = set()
    for u, s in enumerate(fu.site):
        fcr = int(np.flatnonzero((radars.site == s) & radars.is_fcr)[0])
        unit[u, :3] = fu_mode[u], fcr, len(rows)
        if fu_mode[u] in (lor, eor):
            asked.add(fcr)
        if fu_mode[u] == eor:
            members = nets.members[nets.net_of_site[s]]
            mine = np.flatnonzero(radars.site == s)
            others = np.flatnonzero(members[radars.site] & (radars.site != s))
            order = [fcr] + [int(r) for r in mine if r != fcr] + [int(r) for r in others]
            rows += order
            asked.update(order)
        unit[u, 3] = len(rows)
    ballistic = np.asarray(traj.target_class) == "ballistic"
    ti, tf, h = guidance.terrain_arrays(radars, grids, asked)
    a = float(k_factor * R_EARTH_M)
    return guidance.SupportPack(
        unit_i=unit,
        net_radar=np.array(rows, np.int64),
        active_seeker=np.asarray(icp.active_seeker, bool),
        det_range_m=guidance.detection_ranges_m(radars, traj.rcs_m2, ballistic),
        radar_geo=guidance.radar_geometry(radars, a),
        terrain_i=ti,
        terrain_f=tf,
        terrain_m=h,
        threat=np.zeros(0, np.int64),
        k_radius_m=a,
        mode_lor=lor,
        mode_eor=eor,
        code_fcr=REASON_CODE["fcr_cannot_guide_at_pip"],
        code_net=REASON_CODE["no_network_track_at_pip"],
    )


def _site_scans(radars, time_s, n_sites) -> np.ndarray:
    out = np.zeros((len(time_s), n_sites), bool)
    for r in range(len(radars)):
        out[sensors.scan_steps(time_s, radars.scan_period_s[r]), radars.site[r]] = True
    return out


#: bytes a preparation and a run hold per threat and time step (the samples' lat, lon, altitude,
#: ECEF position and velocity, their concatenation into one set, the activity mask and the
#: engine's per-step state), an upper estimate from tracemalloc on the example raids
BYTES_PER_THREAT_STEP = 256
#: bytes per time step whatever the threats (the time grid, each site's scan mask)
BYTES_PER_STEP = 64


def check_size(scenario) -> None:
    """Refuse, before anything is allocated, a raid whose threats x time steps would exceed the
    memory limit (:func:`iadsim.memory.check_memory`): a located :class:`ScenarioError` with
    the figure and how to lower it."""
    step, duration = scenario.time.step_s, scenario.time.duration_s
    n_steps = int(np.floor(duration / step + 1e-9)) + 1
    n_threats = sum(r.count for r in scenario.raids)
    need = n_steps * (BYTES_PER_STEP + n_threats * BYTES_PER_THREAT_STEP)
    try:
        check_memory(
            need,
            f"the raid ({n_threats:,} threats x {n_steps:,} time steps of {step:g} s)",
            "lower it with a larger time.step_s, a shorter time.duration_s or fewer threats "
            "(raids[].count)",
        )
    except InputError as exc:
        raise ScenarioError(f"{scenario.locate(('time', 'step_s'))}: {exc}") from None


def prepare(
    scenario,
    trajectories=None,
    config: EngineConfig | None = None,
    cache: PrepareCache | None = None,
) -> PreparedScenario:
    """All deterministic precomputation for ``scenario`` (a resolved
    :class:`iadsim.scenario.Scenario`). ``trajectories`` may inject a TrajectorySet sampled on
    the engine's time grid (tests); by default :func:`iadsim.sim.kinematics.sample_raid` per
    raid. ``cache`` (one per process) keeps the DEM, raid flights, terrain grids and eye
    altitudes for the next preparation of the same scenario, e.g. with other catalog numbers;
    the result is the same with or without it."""
    cfg = config or EngineConfig()
    scenario.require_headings("the raid simulation")  # also when trajectories are injected
    check_size(scenario)
    step = scenario.time.step_s
    time_s = np.arange(int(np.floor(scenario.time.duration_s / step + 1e-9)) + 1) * step
    sites = scenario.sites
    k_factor = scenario.environment.k_factor
    own = cache is None
    cache = PrepareCache() if own else cache
    try:
        dem = cache.dem(scenario)  # one open for every terrain lookup below
        flight_keys = None
        threat_ground = None
        if trajectories is None:
            trajectories, threat_ground, flight_keys = cache.trajectories(scenario, time_s, dem)
        traj = trajectories
        deployment = resolve_deployment(scenario, cache.heights(dem))
        ground = deployment.ground_altitudes_m
        radars = sensors.build_radars(deployment)
        opp = sensors.scan_opportunities(radars, traj, time_s, k_factor)
        grids = None
        if dem is not None:
            eye = eye_altitudes(
                cache, scenario, deployment, radars, opp, traj, dem, k_factor, flight_keys
            )
            opp = sensors.select(opp, radars.height_m[opp.radar] >= eye)
            grids = terrain_grids(cache, scenario, deployment, radars, opp, dem, k_factor)
        terrain = _terrain_window(dem, traj)
        if threat_ground is None:  # injected trajectories
            threat_ground = _threat_ground_m(terrain, traj)
    finally:
        if own:
            cache.close()
    site_ecef = geodetic_to_ecef_m([s.lat for s in sites], [s.lon for s in sites], ground)
    site_ecef = site_ecef.reshape(len(sites), 3)
    fu, icp = eng.build_fire_units(deployment, site_ecef)
    nets = net.build_networks(scenario, step)
    cls = np.array([eng.CLASS_CODE[c] for c in np.asarray(traj.target_class)], np.int64)

    impact_step = np.searchsorted(time_s, np.asarray(traj.impact_time_s) - 1e-9).astype(np.int64)
    assets = scenario.assets
    impact_asset = np.full(len(cls), -1, np.int64)
    if assets and len(cls):
        lat_a, lon_a = np.array([a.lat for a in assets]), np.array([a.lon for a in assets])
        ilat, ilon = np.asarray(traj.impact_lat_deg), np.asarray(traj.impact_lon_deg)
        _, _, d = _GEOD.inv(
            *np.broadcast_arrays(ilon[:, None], ilat[:, None], lon_a[None], lat_a[None])
        )
        rad = np.array([a.radius_km * 1000 for a in assets])
        d = np.where(d <= rad, d, np.inf)
        impact_asset = np.where(np.isfinite(d).any(axis=1), d.argmin(axis=1), -1)
    period = np.zeros(len(sites))
    np.maximum.at(period, radars.site, radars.scan_period_s)
    capacity = np.zeros(len(sites), np.int64)
    np.add.at(capacity, radars.site, radars.max_tracks)
    fu_mode = nets.mode_of_site[fu.site]
    g = nets.net_of_site[fu.site]
    fu_group = np.where(
        (g >= 0) & (fu_mode != net.MODE_CODE["standalone"]),
        g,
        len(nets.names) + np.arange(len(fu.site)),
    )
    coast_s = cfg.delete_after_misses * np.maximum(period, step) + 1e-6
    net_coast = np.array([coast_s[nets.members[gi]].max() if gi >= 0 else coast_s[s_]
                          for gi, s_ in zip(g, fu.site, strict=True)], float)  # fmt: skip
    support = _support_pack(radars, fu, icp, nets, fu_mode, traj, grids, k_factor)
    return PreparedScenario(
        scenario, cfg, time_s, traj, [s.id for s in sites], radars, opp, fu, icp, nets, cls,
        impact_step, impact_asset, [a.id for a in assets], np.array([a.value for a in assets]),
        coast_s, capacity, _reach_step(fu, icp, traj, cls), fu_mode, fu_group,
        np.array([net.Q_ACCEL_MPS2[c] for c in np.asarray(traj.target_class)], float),
        site_ecef, _site_scans(radars, time_s, len(sites)), threat_ground, deployment, terrain,
        support, net_coast.reshape(len(fu.site)),
    )  # fmt: skip
