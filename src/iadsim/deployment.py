"""A scenario's sites resolved against the catalog: the one deployment every engine builds from.

:func:`resolve_deployment` turns each site of a :class:`iadsim.scenario.Scenario` into a
:class:`ResolvedSite`, once; coverage (:func:`iadsim.coverage.resolve_sites`), the simulation
(:func:`iadsim.sim.prepared.prepare`), the vertical coverage diagram and the raid map all read
these objects instead of looking the catalog up themselves, so a site means the same thing in
every product. The rules:

* **Radars**: a system's catalog ``radars`` in catalog order (the catalog loader guarantees its
  ``fire_control_radar`` is one of them), or the radar itself for a radar-only site. Antenna
  height: the site's ``antenna_height_m`` (one value for every radar of the site), else each
  radar's catalog ``antenna_height``; heights are above the site's ground. Heading: the site's
  ``heading_deg`` (boresight of sector radars, clockwise from north), None when the scenario
  does not give one (no default: the scenario requires it for sector radars when it has raids,
  and coverage with fixed sectors asks for it; an all-round radar needs none). Azimuth sector,
  elevation limits, whether the radar sees ballistic targets and the detection probability
  its reference range is quoted at (``detection_pd``) come from the catalog.
* **Fire-control radar**: the system's ``fire_control_radar`` (:attr:`ResolvedSite.fcr_index`);
  none for a radar-only site.
* **Fire unit**: a system site whose catalog system lists interceptors. Its inventory is the
  site's ``interceptors`` (entries with 0 rounds kept: the unit carries that type, empty), else
  the catalog ``default_loadout``, in that mapping's order. Per type, the rounds per reload
  are the catalog loadout of that type (when listed and non-zero), else the inventory; ready
  rounds are ``min(inventory, rounds per reload)``, the rest is reserve. Coverage draws the
  envelopes of the types with at least one round (:meth:`ResolvedSite.envelopes`).
* **Doctrine**: fire-control channels = ``max_simultaneous``, else the catalog
  ``fire_control_channels``; salvo = ``salvo_size`` capped at the catalog
  ``missiles_per_channel`` (the missiles one channel can guide at once); shoot-look-shoot from
  the scenario; reaction time from the catalog; reload time = ``reload_time_s``, else the
  catalog ``reload_time``.
* **Ground**: ``ground_altitude_m`` if stated, else the DEM's bilinear height at the site
  (:meth:`iadsim.geo.dem.Dem.height_at`), else (no DEM, outside it, or nodata) 0 m, sea level.

Every value a scenario may state or leave to a default is recorded with its origin
(:class:`Provenance`, :meth:`Deployment.defaults`), so a report can say which numbers the
scenario chose and which the catalog or the schema supplied. Quantities that depend on a threat
(a radar's detection range for an RCS, an interceptor's envelope for a target class) are
methods of the resolved objects, not stored per threat.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from iadsim import catalog
from iadsim.catalog import Catalog, Envelope, Interceptor, Radar, System, Threat
from iadsim.geo.dem import Dem
from iadsim.scenario import Scenario, Site

Origin = Literal[
    "scenario", "scenario default", "catalog", "catalog default", "catalog cap", "dem", "sea level"
]
"""Where a resolved value comes from: ``scenario`` (stated in the scenario), ``scenario default``
(the scenario schema's default for a field left out), ``catalog`` (a catalog value the scenario
cannot set), ``catalog default`` (a catalog value used because the scenario left the field out),
``catalog cap`` (the scenario's value limited by a catalog figure), ``dem`` (the site's ground
from the DEM), ``sea level`` (ground 0 m: no DEM, outside it, or nodata)."""


@dataclass(frozen=True)
class Provenance:
    """One resolved value of a site and where it came from. ``field`` is a dotted path such as
    ``ground_altitude_m``, ``radars.92n6e.antenna_height_m``, ``interceptors.40n6e`` (rounds) or
    ``doctrine.salvo_size``."""

    site: str
    field: str
    value: float | int | bool
    origin: Origin

    @property
    def from_scenario(self) -> bool:
        """True when the scenario stated this value and it is used unchanged."""
        return self.origin == "scenario"

    def as_dict(self) -> dict:
        """The record as a JSON-ready dict (site, field, value, origin)."""
        return {"site": self.site, "field": self.field, "value": self.value, "origin": self.origin}


@dataclass(frozen=True)
class ResolvedRadar:
    """One radar of a site. Angles in degrees as in the catalog (use :attr:`half_sector_rad`
    for the engines); ``antenna_height_m`` is above the site's ground."""

    id: str
    #: the catalog radar (range reference, scan period, noise, track capacity)
    radar: Radar = dataclasses.field(repr=False)
    antenna_height_m: float
    heading_deg: float | None  #: boresight, deg clockwise from north; None: not given
    azimuth_sector_deg: float
    min_elevation_deg: float
    max_elevation_deg: float
    detects_ballistic: bool
    is_fcr: bool  #: the site's fire-control radar

    @property
    def half_sector_rad(self) -> float:
        """Half the azimuth sector in radians, at most pi (pi: the radar looks all round)."""
        return float(min(np.radians(self.azimuth_sector_deg), 2 * np.pi) / 2)

    @property
    def detection_pd(self) -> float:
        """Single-scan detection probability at which the catalog's reference detection range
        is quoted (catalog ``detection_pd``); the simulation calibrates its Swerling 1 SNR
        there, so :meth:`detection_range_m` is the range where Pd equals this value."""
        return float(self.radar.detection_pd.value)

    @property
    def is_sector(self) -> bool:
        """True when the radar looks into a sector narrower than 360 deg (it has a boresight)."""
        return self.azimuth_sector_deg < 360

    @property
    def boresight_rad(self) -> float:
        """The heading in radians for the engines. An all-round radar without a heading gets 0
        (any value gives the same result); a sector radar without one raises ``ValueError``:
        the scenario checks (:meth:`iadsim.scenario.Scenario.require_headings`) stop such a
        site before an engine that fixes sectors runs."""
        if self.heading_deg is not None:
            return float(np.radians(self.heading_deg))
        if self.is_sector:
            raise ValueError(f"sector radar {self.id!r} has no heading_deg")
        return 0.0

    def sees(self, target_class: str) -> bool:
        """Whether the radar can detect targets of ``target_class`` (aircraft, cruise,
        ballistic) at all: only radars flagged ``detects_ballistic`` see ballistic ones."""
        return self.detects_ballistic or target_class != "ballistic"

    def detection_range_m(self, threat: Threat) -> float:
        """Free-space detection range on ``threat`` (its RCS, the sigma^(1/4) rule capped at
        the instrumented range, :func:`iadsim.catalog.detection_range_m`); 0 when the radar
        cannot see the threat's class."""
        if not self.sees(threat.target_class):
            return 0.0
        return catalog.detection_range_m(self.radar, threat.rcs.si)


@dataclass(frozen=True)
class ResolvedInterceptor:
    """One interceptor type in a fire unit's inventory: ``rounds`` = ``ready`` + ``reserve``;
    a reload brings up to ``rounds_per_reload`` reserve rounds to ready."""

    id: str
    #: the catalog interceptor (speed, envelopes, P_k)
    interceptor: Interceptor = dataclasses.field(repr=False)
    rounds: int
    rounds_per_reload: int
    ready: int
    reserve: int

    def envelope(self, target_class: str) -> Envelope | None:
        """The engagement envelope against ``target_class`` (None: cannot engage it)."""
        return self.interceptor.envelopes.get(target_class)  # type: ignore[call-overload]


@dataclass(frozen=True)
class ResolvedDoctrine:
    """A fire unit's doctrine with the catalog defaults and limits applied."""

    channels: int  #: targets engaged at once
    salvo_size: int  #: rounds per engagement
    shoot_look_shoot: bool
    reaction_time_s: float
    reload_time_s: float


@dataclass(frozen=True)
class ResolvedSite:
    """A scenario site resolved against the catalog (see the module docstring for the rules).

    ``system`` is the catalog id as written in the scenario, ``item`` the catalog system or
    radar, ``kind`` its kind. ``fcr_index`` indexes ``radars`` (None for a radar-only site);
    ``interceptors`` and ``doctrine`` are empty / None unless the site is a fire unit.
    """

    id: str
    system: str
    item: System | Radar = dataclasses.field(repr=False)
    kind: Literal["system", "radar"]
    lat: float
    lon: float
    ground_altitude_m: float
    ground_origin: Origin
    heading_deg: float | None  #: None: the scenario gives none
    network: str | None
    radars: tuple[ResolvedRadar, ...]
    fcr_index: int | None
    interceptors: tuple[ResolvedInterceptor, ...]
    doctrine: ResolvedDoctrine | None
    provenance: tuple[Provenance, ...]

    @property
    def fcr(self) -> ResolvedRadar | None:
        """The fire-control radar (None for a radar-only site)."""
        return None if self.fcr_index is None else self.radars[self.fcr_index]

    @property
    def has_fire_unit(self) -> bool:
        """True for a system with interceptors (radar-only sites only detect and track)."""
        return self.doctrine is not None

    @property
    def stated_ground_altitude_m(self) -> float | None:
        """The ground altitude the scenario states (None when it came from the DEM or is the
        sea-level default)."""
        return self.ground_altitude_m if self.ground_origin == "scenario" else None

    def envelopes(self, target_class: str) -> tuple[tuple[ResolvedInterceptor, Envelope], ...]:
        """The envelopes against ``target_class`` of the interceptor types with at least one
        round, in inventory order (what the site can engage that class with)."""
        out = []
        for i in self.interceptors:
            env = i.envelope(target_class)
            if i.rounds > 0 and env is not None:
                out.append((i, env))
        return tuple(out)


@dataclass(frozen=True)
class Deployment:
    """Every site of a scenario, resolved once, in scenario order."""

    sites: tuple[ResolvedSite, ...]

    def site(self, site_id: str) -> ResolvedSite:
        """The site with id ``site_id`` (KeyError if none)."""
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    @property
    def fire_unit_ids(self) -> list[str]:
        """The ids of the sites with interceptors, in scenario order."""
        return [s.id for s in self.sites if s.has_fire_unit]

    @property
    def ground_altitudes_m(self) -> np.ndarray:
        """(S,) ground altitude of each site, m."""
        return np.array([s.ground_altitude_m for s in self.sites], float)

    @property
    def provenance(self) -> tuple[Provenance, ...]:
        """Every recorded value of every site, with its origin."""
        return tuple(p for s in self.sites for p in s.provenance)

    def defaults(self) -> tuple[Provenance, ...]:
        """The recorded values the scenario did not state (or that a catalog figure capped)."""
        return tuple(p for p in self.provenance if not p.from_scenario)

    def provenance_records(self, defaults_only: bool = False) -> list[dict]:
        """The provenance as JSON-ready dicts (``defaults_only``: only :meth:`defaults`)."""
        rows = self.defaults() if defaults_only else self.provenance
        return [p.as_dict() for p in rows]


def ground_altitudes_m(
    lat_deg: Sequence[float],
    lon_deg: Sequence[float],
    stated_m: Sequence[float | None],
    dem=None,
) -> tuple[np.ndarray, tuple[Origin, ...]]:
    """Ground altitude of sites (m) and its origin: the stated value where given (not None or
    NaN), else the DEM's bilinear height at the site when ``dem`` (an open DEM with
    ``height_at``) covers it with data, else 0 m (sea level)."""
    ground = np.array([math.nan if g is None else float(g) for g in stated_m], float)
    origin: list[Origin] = ["scenario" if np.isfinite(g) else "sea level" for g in ground]
    if dem is not None:
        for k in np.flatnonzero(np.isnan(ground)).tolist():
            h = float(np.ravel(dem.height_at(lat_deg[k], lon_deg[k]))[0])
            if np.isfinite(h):
                ground[k], origin[k] = h, "dem"
    return np.nan_to_num(ground, nan=0.0), tuple(origin)


def _stated(model, name: str) -> bool:
    return name in model.model_fields_set


def resolve_site(
    site: Site,
    ground_altitude_m: float = 0.0,
    ground_origin: Origin = "sea level",
    every_interceptor: bool = False,
    cat: Catalog | None = None,
) -> ResolvedSite:
    """Resolve one scenario site against the catalog ``cat`` (default: the base catalog; a
    scenario's sites resolve against :attr:`iadsim.scenario.Scenario.catalog`), its ground
    already known (see :func:`ground_altitudes_m`). ``every_interceptor`` replaces a missing
    inventory by every interceptor type the system can fire, with the default loadout's
    rounds (0 for a type the loadout does not carry): a system's own view, as in a vertical
    coverage diagram."""
    cat = cat if cat is not None else catalog.base()
    item = cat.get(site.system, kind=("system", "radar"))
    prov: list[Provenance] = [
        Provenance(site.id, "ground_altitude_m", float(ground_altitude_m), ground_origin)
    ]
    if site.heading_deg is not None:  # never defaulted: see ResolvedRadar.heading_deg
        prov.append(Provenance(site.id, "heading_deg", float(site.heading_deg), "scenario"))
    system = item if isinstance(item, System) else None
    radar_ids = list(system.radars) if system is not None else [item.id]
    fcr_id = system.fire_control_radar if system is not None else None
    radars = []
    for rid in radar_ids:
        r = cat.get(rid, kind="radar")
        stated = site.antenna_height_m is not None
        antenna = float(site.antenna_height_m if site.antenna_height_m is not None
                        else r.antenna_height.si)  # fmt: skip
        prov.append(
            Provenance(
                site.id,
                f"radars.{rid}.antenna_height_m",
                antenna,
                "scenario" if stated else "catalog default",
            )
        )
        radars.append(
            ResolvedRadar(
                id=r.id,
                radar=r,
                antenna_height_m=antenna,
                heading_deg=site.heading_deg,
                azimuth_sector_deg=r.azimuth_sector.si,
                min_elevation_deg=r.min_elevation.si,
                max_elevation_deg=r.max_elevation.si,
                detects_ballistic=r.detects_ballistic,
                is_fcr=rid == fcr_id,
            )
        )
    fcr_index = radar_ids.index(fcr_id) if fcr_id is not None else None
    interceptors: tuple[ResolvedInterceptor, ...] = ()
    doctrine = None
    if system is not None and system.interceptors:
        interceptors = _inventory(site, system, every_interceptor, prov, cat)
        doctrine = _doctrine(site, system, prov)
    return ResolvedSite(
        id=site.id,
        system=site.system,
        item=item,
        kind=item.kind,
        lat=site.lat,
        lon=site.lon,
        ground_altitude_m=float(ground_altitude_m),
        ground_origin=ground_origin,
        heading_deg=site.heading_deg,
        network=site.network,
        radars=tuple(radars),
        fcr_index=fcr_index,
        interceptors=interceptors,
        doctrine=doctrine,
        provenance=tuple(prov),
    )


def _inventory(
    site: Site, system: System, every_interceptor: bool, prov: list[Provenance], cat: Catalog
) -> tuple[ResolvedInterceptor, ...]:
    origin: Origin
    if site.interceptors is not None:
        inv, origin = site.interceptors, "scenario"
    elif every_interceptor:
        inv = {i: system.default_loadout.get(i, 0) for i in system.interceptors}
        origin = "catalog default"
    else:
        inv, origin = system.default_loadout, "catalog default"
    out = []
    for iid, n in inv.items():
        per_reload = system.default_loadout.get(iid, n) or n
        ready = min(n, per_reload)
        prov.append(Provenance(site.id, f"interceptors.{iid}", int(n), origin))
        out.append(
            ResolvedInterceptor(
                id=iid,
                interceptor=cat.get(iid, kind="interceptor"),
                rounds=int(n),
                rounds_per_reload=int(per_reload),
                ready=int(ready),
                reserve=int(n - ready),
            )
        )
    return tuple(out)


def _doctrine(site: Site, system: System, prov: list[Provenance]) -> ResolvedDoctrine:
    d = site.doctrine

    origin: Origin

    def note(name: str, value, origin: Origin) -> None:
        prov.append(Provenance(site.id, f"doctrine.{name}", value, origin))

    if d.max_simultaneous is not None:
        channels, origin = d.max_simultaneous, "scenario"
    else:
        channels, origin = int(system.fire_control_channels.si), "catalog default"
    note("channels", channels, origin)
    # a salvo is capped by the missiles one fire-control channel can guide at once
    salvo = min(d.salvo_size, int(system.missiles_per_channel.si))
    if salvo < d.salvo_size:
        origin = "catalog cap"
    else:
        origin = "scenario" if _stated(d, "salvo_size") else "scenario default"
    note("salvo_size", salvo, origin)
    sls: Origin = "scenario" if _stated(d, "shoot_look_shoot") else "scenario default"
    note("shoot_look_shoot", d.shoot_look_shoot, sls)
    reaction = system.reaction_time.si
    note("reaction_time_s", reaction, "catalog")
    if d.reload_time_s is not None:
        reload, origin = d.reload_time_s, "scenario"
    else:
        reload, origin = system.reload_time.si, "catalog default"
    note("reload_time_s", reload, origin)
    return ResolvedDoctrine(
        channels=int(channels),
        salvo_size=int(salvo),
        shoot_look_shoot=d.shoot_look_shoot,
        reaction_time_s=float(reaction),
        reload_time_s=float(reload),
    )


def resolve_deployment(scenario: Scenario, dem=None) -> Deployment:
    """Resolve every site of ``scenario`` (loaded and cross-checked, so every catalog id
    exists) once.

    ``dem`` is where unstated site grounds are read: an open DEM (anything with
    ``height_at(lat, lon)``, such as :class:`iadsim.geo.dem.Dem`), a path to one (opened and
    closed here), or None for the scenario's own ``environment.dem`` (opened and closed here;
    without one, unstated grounds are sea level). Catalog items come from the scenario's
    catalog view (:attr:`iadsim.scenario.Scenario.catalog`: its overrides applied).
    """
    sites = scenario.sites
    if dem is None:
        dem = scenario.dem_path()
    opened = None
    if isinstance(dem, (str, Path)):
        dem = opened = Dem.open(dem)
    try:
        ground, origin = ground_altitudes_m(
            [s.lat for s in sites],
            [s.lon for s in sites],
            [s.ground_altitude_m for s in sites],
            dem,
        )
    finally:
        if opened is not None:
            opened.close()
    cat = scenario.catalog
    return Deployment(
        tuple(
            resolve_site(s, float(g), o, cat=cat)
            for s, g, o in zip(sites, ground, origin, strict=True)
        )
    )


def resolve_catalog_item(item_id: str, antenna_height_m: float | None = None) -> ResolvedSite:
    """A catalog system or radar as a site of its own at (0 N, 0 E) on sea-level ground,
    carrying every interceptor type the system can fire (the view of a vertical coverage
    diagram); ``antenna_height_m`` overrides the catalog antenna heights as a site's would
    (not range-checked against the scenario schema: the caller validates its own inputs)."""
    item = catalog.get(item_id, kind=("system", "radar"))
    site = Site.model_construct(
        id=item.id,
        system=item.id,
        lat=0.0,
        lon=0.0,
        antenna_height_m=None if antenna_height_m is None else float(antenna_height_m),
    )
    return resolve_site(site, every_interceptor=True)
