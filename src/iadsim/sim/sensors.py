"""Radars: detection probability from the radar equation, line of sight, scan opportunities and
noisy measurements, vectorised over radars x threats x time.

Detection model (documented choice):

* The catalog's ``reference_detection_range`` R_ref on ``reference_rcs`` sigma_ref is read as
  the range where the single-scan detection probability is the radar's catalog
  ``detection_pd`` (P_d,ref) at a false-alarm probability ``PFA = 1e-6``, for a Swerling 1
  (slow-fluctuating) target. The catalog's default is P_d,ref = 0.8, the common convention for
  a quoted radar range (radartutorial.eu, "Probability of Detection",
  http://www.radartutorial.eu/01.basics/Probability%20of%20Detection.en.html), with 0.5 and 0.9
  as alternatives.
* Swerling 1, single pulse/scan, square-law detector: ``Pd = Pfa ** (1 / (1 + SNR))``
  (Skolnik, *Introduction to Radar Systems*, 3rd ed., sec. 2.8; Richards, *Fundamentals of Radar
  Signal Processing*, eq. 7.59). Inverted at P_d,ref: ``SNR_ref = ln(Pfa) / ln(P_d,ref) - 1``,
  per radar (17.85 dB at 0.8, 12.77 dB at 0.5, 21.14 dB at 0.9).
* The radar equation scales the signal-to-noise ratio with range and RCS:
  ``SNR(R) = SNR_ref * (R_ref / R)**4 * (sigma / sigma_ref)``; so the range where Pd = P_d,ref
  on a target of RCS sigma is ``R_ref * (sigma / sigma_ref)**(1/4)`` (the catalog's sigma^(1/4)
  rule), and Pd falls off smoothly beyond it (at P_d,ref 0.8: Pd 0.06 at twice that range).
  The same quoted range read at a lower P_d,ref means a weaker radar: a range quoted at Pd 0.5
  would overstate the Pd 0.8 range by (SNR(0.8) / SNR(0.5))^(1/4) = 1.34.
* Pd is zero beyond the instrumented range, below the 4/3-Earth radio horizon
  (:func:`iadsim.geo.earth.horizon_range_m`), outside the elevation limits (elevation over the
  effective-radius sphere, i.e. refracted), outside the azimuth sector around the site heading,
  for ballistic targets when the radar has ``detects_ballistic: false``, and when the threat is
  not flying. A radar only detects on scan opportunities: the first time step of each scan period.
  Over a DEM, opportunities hidden by terrain are then dropped (:mod:`iadsim.sim.terrain`:
  the antenna must be at least as high as the opportunity's required eye altitude).

Everything deterministic (geometry and Pd) is computed once in :func:`scan_opportunities`; a run
draws one uniform number per opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from iadsim.deployment import Deployment
from iadsim.geo.earth import R_EARTH_M, horizon_distance_m, refracted_elevation_rad
from iadsim.geo.frames import enu_rotation, geodetic_to_ecef_m

PFA = 1e-6  #: false-alarm probability the reference is quoted at
PD_MIN = 1e-4  #: opportunities with a lower Pd are dropped (never detect in practice)


def pd_swerling1(snr, pfa: float = PFA):
    """Swerling 1 single-look detection probability ``Pd = Pfa ** (1 / (1 + SNR))`` (SNR
    linear, power ratio)."""
    return pfa ** (1.0 / (1.0 + np.asarray(snr, float)))


def snr_for_pd_swerling1(pd, pfa: float = PFA):
    """Inverse of :func:`pd_swerling1`: ``SNR = ln(Pfa) / ln(Pd) - 1`` (linear)."""
    return np.log(pfa) / np.log(np.asarray(pd, float)) - 1.0


@dataclass
class RadarArrays:
    """All radars of a scenario, one row each (struct of arrays, SI units, radians)."""

    radar_id: np.ndarray  # (R,) catalog ids
    site: np.ndarray  # (R,) index of the owning site
    is_fcr: np.ndarray  # (R,) bool: the site's fire-control radar
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    height_m: np.ndarray  # antenna height above mean sea level
    ecef_m: np.ndarray  # (R, 3)
    enu_rot: np.ndarray  # (R, 3, 3)
    ref_range_m: np.ndarray
    ref_rcs_m2: np.ndarray
    detection_pd: np.ndarray  # single-scan Pd at ref_range_m on ref_rcs_m2 (catalog)
    max_range_m: np.ndarray  # instrumented range
    scan_period_s: np.ndarray
    heading_rad: np.ndarray
    half_sector_rad: np.ndarray
    min_elevation_rad: np.ndarray
    max_elevation_rad: np.ndarray
    range_sigma_m: np.ndarray
    angle_sigma_rad: np.ndarray
    max_tracks: np.ndarray
    detects_ballistic: np.ndarray

    def __len__(self) -> int:
        return len(self.radar_id)


def build_radars(deployment: Deployment) -> RadarArrays:
    """One row per radar of every site of ``deployment`` (a system's radars, or the radar of a
    radar-only site), in site order, at the site's position; antenna height above mean sea
    level = the site's ground + the radar's resolved antenna height."""
    rows = [(s, site, r) for s, site in enumerate(deployment.sites) for r in site.radars]
    radars = [r for _, _, r in rows]
    n = len(rows)

    def col(values, dtype=float):
        return np.array(list(values), dtype=dtype).reshape(n)

    lat, lon = col(site.lat for _, site, _ in rows), col(site.lon for _, site, _ in rows)
    h = col(site.ground_altitude_m + r.antenna_height_m for _, site, r in rows)
    ecef = geodetic_to_ecef_m(lat, lon, h).reshape(n, 3)
    return RadarArrays(
        radar_id=col((r.id for r in radars), object),
        site=col((s for s, _, _ in rows), np.int64),
        is_fcr=col((r.is_fcr for r in radars), bool),
        lat_deg=lat,
        lon_deg=lon,
        height_m=h,
        ecef_m=ecef,
        enu_rot=enu_rotation(lat, lon).reshape(n, 3, 3),
        ref_range_m=col(r.radar.reference_detection_range.si for r in radars),
        ref_rcs_m2=col(r.radar.reference_rcs.si for r in radars),
        detection_pd=col(r.detection_pd for r in radars),
        max_range_m=col(r.radar.instrumented_range.si for r in radars),
        scan_period_s=col(r.radar.scan_period.si for r in radars),
        heading_rad=col(r.boresight_rad for r in radars),
        half_sector_rad=col(r.half_sector_rad for r in radars),
        min_elevation_rad=np.radians(col(r.min_elevation_deg for r in radars)),
        max_elevation_rad=np.radians(col(r.max_elevation_deg for r in radars)),
        range_sigma_m=col(r.radar.range_noise.si for r in radars),
        angle_sigma_rad=np.radians(col(r.radar.angle_noise.si for r in radars)),
        max_tracks=col((r.radar.max_tracks.si for r in radars), np.int64),
        detects_ballistic=col((r.detects_ballistic for r in radars), bool),
    )


def scan_steps(time_s: np.ndarray, period_s: float) -> np.ndarray:
    """Indices of the time steps that start a new scan (``floor(t / period)`` increments)."""
    n = np.floor(np.asarray(time_s) / period_s + 1e-9)
    return np.flatnonzero(np.diff(n, prepend=-1.0) > 0)


@dataclass
class Opportunities:
    """Scan opportunities with Pd > PD_MIN, sorted by step: rows of (step, radar, threat)."""

    step: np.ndarray  # (K,) int32
    radar: np.ndarray  # (K,) int32
    threat: np.ndarray  # (K,) int32
    pd: np.ndarray  # (K,) float32
    range_m: np.ndarray  # (K,) float64 slant range
    az_rad: np.ndarray  # (K,) float32 geometric azimuth (clockwise from north)
    el_rad: np.ndarray  # (K,) float32 geometric elevation (local ENU)
    offsets: np.ndarray  # (T+1,) rows of step k are offsets[k]:offsets[k+1]


class ThreatSamples(NamedTuple):
    """Every threat on the time grid, as :func:`_radar_pass` reads it (C-contiguous)."""

    ecef_m: np.ndarray  # (N, T, 3)
    lat_deg: np.ndarray  # (N, T)
    lon_deg: np.ndarray  # (N, T)
    alt_m: np.ndarray  # (N, T) above mean sea level
    active: np.ndarray  # (N, T) bool: flying
    rcs_m2: np.ndarray  # (N,)
    ballistic: np.ndarray  # (N,) bool


class RadarParams(NamedTuple):
    """One radar (a row of :class:`RadarArrays`), as :func:`_radar_pass` reads it."""

    ecef_m: np.ndarray  # (3,)
    enu_rot: np.ndarray  # (3, 3)
    lat_deg: float
    lon_deg: float
    height_m: float  # antenna, above mean sea level
    heading_rad: float
    half_sector_rad: float
    min_elevation_rad: float
    max_elevation_rad: float
    max_range_m: float
    snr_ref_rcs: float  # SNR_ref * R_ref^4 / sigma_ref
    detects_ballistic: bool

    @classmethod
    def of(cls, radars: RadarArrays, r: int, snr_ref: float) -> RadarParams:
        """Radar ``r``; ``snr_ref`` is its SNR at the reference range (from its
        ``detection_pd``, :func:`snr_for_pd_swerling1`)."""
        return cls(
            ecef_m=radars.ecef_m[r],
            enu_rot=radars.enu_rot[r],
            lat_deg=float(radars.lat_deg[r]),
            lon_deg=float(radars.lon_deg[r]),
            height_m=float(radars.height_m[r]),
            heading_rad=float(radars.heading_rad[r]),
            half_sector_rad=float(radars.half_sector_rad[r]),
            min_elevation_rad=float(radars.min_elevation_rad[r]),
            max_elevation_rad=float(radars.max_elevation_rad[r]),
            max_range_m=float(radars.max_range_m[r]),
            snr_ref_rcs=float(snr_ref * radars.ref_range_m[r] ** 4 / radars.ref_rcs_m2[r]),
            detects_ballistic=bool(radars.detects_ballistic[r]),
        )


class OpportunityColumns(NamedTuple):
    """Output columns of :func:`_radar_pass` (one row per opportunity)."""

    step: np.ndarray  # (K,) int64
    threat: np.ndarray  # (K,) int64
    pd: np.ndarray  # (K,)
    range_m: np.ndarray  # (K,)
    az_rad: np.ndarray  # (K,)
    el_rad: np.ndarray  # (K,)

    @classmethod
    def empty(cls, k: int) -> OpportunityColumns:
        i64 = np.int64
        return cls(np.empty(k, i64), np.empty(k, i64), *(np.empty(k) for _ in range(4)))


@numba.njit(cache=True)
def _radar_pass(thr, steps, radar, k_factor, out, fill):
    """One radar (:class:`RadarParams`) over threats (:class:`ThreatSamples`) x scan steps:
    count (``fill`` False) or write into ``out`` (:class:`OpportunityColumns`) the
    opportunities with Pd > PD_MIN. Geometry as documented in the module (horizon and
    refracted elevation on the k R_E sphere, haversine ground range on R_E)."""
    ecef, lat, lon, alt = thr.ecef_m, thr.lat_deg, thr.lon_deg, thr.alt_m
    active, rcs, ballistic = thr.active, thr.rcs_m2, thr.ballistic
    r0, C, h_r = radar.ecef_m, radar.enu_rot, radar.height_m
    lat0, lon0 = radar.lat_deg, radar.lon_deg
    heading, half_sector = radar.heading_rad, radar.half_sector_rad
    el_min, el_max, r_max = radar.min_elevation_rad, radar.max_elevation_rad, radar.max_range_m
    snr_ref_rcs, detects_ballistic = radar.snr_ref_rcs, radar.detects_ballistic
    out_step, out_threat, out_pd = out.step, out.threat, out.pd
    out_rng, out_az, out_el = out.range_m, out.az_rad, out.el_rad
    a_eff = k_factor * R_EARTH_M
    h_r = max(h_r, 0.0)
    d1 = horizon_distance_m(h_r, a_eff)  # the radar's own horizon distance
    la0, lo0 = np.radians(lat0), np.radians(lon0)
    cla0 = np.cos(la0)
    log_pfa = np.log(PFA)
    m = 0
    for j in range(ecef.shape[0]):
        if ballistic[j] and not detects_ballistic:
            continue
        for q in range(len(steps)):
            i = steps[q]
            if not active[j, i]:
                continue
            dx, dy, dz = ecef[j, i, 0] - r0[0], ecef[j, i, 1] - r0[1], ecef[j, i, 2] - r0[2]
            rng = np.sqrt(dx * dx + dy * dy + dz * dz)
            if rng > r_max or rng < 1.0:
                continue
            snr = snr_ref_rcs * rcs[j] / rng**4
            pd = np.exp(log_pfa / (1.0 + snr))
            if pd <= PD_MIN:
                continue
            e = C[0, 0] * dx + C[0, 1] * dy + C[0, 2] * dz
            n = C[1, 0] * dx + C[1, 1] * dy + C[1, 2] * dz
            u = C[2, 0] * dx + C[2, 1] * dy + C[2, 2] * dz
            az = np.arctan2(e, n)
            daz = (az - heading + np.pi) % (2 * np.pi) - np.pi
            if abs(daz) > half_sector + 1e-12:
                continue
            la, lo = np.radians(lat[j, i]), np.radians(lon[j, i])
            hav = np.sin((la - la0) / 2) ** 2 + cla0 * np.cos(la) * np.sin((lo - lo0) / 2) ** 2
            ground = 2 * R_EARTH_M * np.arcsin(np.sqrt(min(max(hav, 0.0), 1.0)))
            if ground > d1 + horizon_distance_m(alt[j, i], a_eff):
                continue  # below the mutual radio horizon
            el_ref = refracted_elevation_rad(ground, h_r, alt[j, i], a_eff)
            if el_ref < el_min or el_ref > el_max:
                continue
            if fill:
                out_step[m], out_threat[m], out_pd[m] = i, j, pd
                out_rng[m], out_az[m] = rng, az
                out_el[m] = np.arcsin(min(max(u / rng, -1.0), 1.0))
            m += 1
    return m


def scan_opportunities(radars: RadarArrays, traj, time_s, k_factor: float) -> Opportunities:
    """Every (scan step, radar, threat) where the threat can be detected, with its Pd.

    ``traj`` is a :class:`iadsim.sim.kinematics.TrajectorySet` sampled at ``time_s``. Compiled
    (numba), two passes per radar: count, then fill.
    """
    time_s = np.asarray(time_s, float)
    ballistic = np.asarray(traj.target_class) == "ballistic"
    rcs = np.asarray(traj.rcs_m2, float)
    contig = np.ascontiguousarray
    thr = ThreatSamples(
        ecef_m=contig(traj.ecef_m), lat_deg=contig(traj.lat_deg), lon_deg=contig(traj.lon_deg),
        alt_m=contig(traj.alt_m), active=contig(traj.active, dtype=np.bool_), rcs_m2=rcs,
        ballistic=ballistic,
    )  # fmt: skip
    snr_ref = snr_for_pd_swerling1(radars.detection_pd)  # per radar, from its catalog Pd
    parts = []
    for r in range(len(radars)):
        steps = scan_steps(time_s, radars.scan_period_s[r]).astype(np.int64)
        if len(rcs) == 0 or len(steps) == 0:
            continue
        params = RadarParams.of(radars, r, snr_ref[r])
        m = _radar_pass(thr, steps, params, float(k_factor), OpportunityColumns.empty(0), False)
        out = OpportunityColumns.empty(m)
        _radar_pass(thr, steps, params, float(k_factor), out, True)
        parts.append((out.step, np.full(m, r), out.threat, *out[2:]))
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)] or [np.empty(0)] * 7
    order = np.lexsort((cols[2], cols[1], cols[0]))
    step, radar, threat, pd, rng, az, el = (c[order] for c in cols)
    offsets = np.searchsorted(step, np.arange(len(time_s) + 1)).astype(np.int64)
    return Opportunities(
        step.astype(np.int32), radar.astype(np.int32), threat.astype(np.int32),
        pd.astype(np.float32), rng.astype(np.float64), az.astype(np.float32),
        el.astype(np.float32), offsets,
    )  # fmt: skip


@numba.njit(cache=True)
def _convert(r, az, el, s_r, s_a, rad, origin_all, C_all, z, R):
    """Converted measurement (ECEF) and its covariance C' J diag(s_r^2, s_a^2, s_a^2) J' C,
    J the Jacobian of (r, az, el) -> ENU (same as :func:`iadsim.sim.tracking.rae_to_enu_cov`)."""
    J = np.empty((3, 3))
    A = np.empty((3, 3))
    for m in range(len(r)):
        origin, C = origin_all[rad[m]], C_all[rad[m]]
        ca, sa, ce, se = np.cos(az[m]), np.sin(az[m]), np.cos(el[m]), np.sin(el[m])
        e, n, u = r[m] * ce * sa, r[m] * ce * ca, r[m] * se
        # ENU -> ECEF: rows of C[m] are the E, N, U unit vectors
        for k in range(3):
            z[m, k] = origin[k] + C[0, k] * e + C[1, k] * n + C[2, k] * u
        J[0, 0], J[0, 1], J[0, 2] = ce * sa, r[m] * ce * ca, -r[m] * se * sa
        J[1, 0], J[1, 1], J[1, 2] = ce * ca, -r[m] * ce * sa, -r[m] * se * ca
        J[2, 0], J[2, 1], J[2, 2] = se, 0.0, r[m] * ce
        v0, v1 = s_r[m] ** 2, s_a[m] ** 2
        for a in range(3):  # A = C' J (ECEF Jacobian)
            for b in range(3):
                A[a, b] = C[0, a] * J[0, b] + C[1, a] * J[1, b] + C[2, a] * J[2, b]
        for a in range(3):
            for b in range(3):
                R[m, a, b] = A[a, 0] * A[b, 0] * v0 + (A[a, 1] * A[b, 1] + A[a, 2] * A[b, 2]) * v1


def measure(radars: RadarArrays, opp: Opportunities, rows: np.ndarray, rng: np.random.Generator):
    """Noisy converted measurements for opportunity ``rows``: range and angles plus Gaussian
    noise (sigma from the catalog), converted to ECEF; returns ``(z_ecef (M,3), R_ecef (M,3,3))``."""
    rad = opp.radar[rows]
    s_r, s_a = radars.range_sigma_m[rad], radars.angle_sigma_rad[rad]
    noise = rng.standard_normal((len(rows), 3))
    r = opp.range_m[rows] + s_r * noise[:, 0]
    az = opp.az_rad[rows].astype(float) + s_a * noise[:, 1]
    el = opp.el_rad[rows].astype(float) + s_a * noise[:, 2]
    z, R = np.empty((len(rows), 3)), np.empty((len(rows), 3, 3))
    _convert(r, az, el, s_r, s_a, rad, radars.ecef_m, radars.enu_rot, z, R)
    return z, R


def select(opp: Opportunities, keep: np.ndarray) -> Opportunities:
    """The opportunities where ``keep`` (a boolean row mask) is True, still sorted by step."""
    sel = np.flatnonzero(keep)
    step = opp.step[sel]
    return Opportunities(
        step, opp.radar[sel], opp.threat[sel], opp.pd[sel], opp.range_m[sel], opp.az_rad[sel],
        opp.el_rad[sel], np.searchsorted(step, np.arange(len(opp.offsets))).astype(np.int64),
    )  # fmt: skip
