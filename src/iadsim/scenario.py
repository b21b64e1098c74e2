"""Scenario files: the YAML schema (pydantic), loading with located errors, catalog resolution.

A scenario names sites (catalog systems or radars at WGS84 positions), the environment
(effective-Earth k-factor, optional DEM), and for simulation: time, raids, defended assets,
networks, per-site inventory and doctrine. ``catalog_overrides`` replaces catalog numbers for
this scenario only (item id -> dotted field path -> ``{value, unit, alternatives, source,
confidence}``); :attr:`Scenario.catalog` is the catalog view with them applied, and every
consumer of the scenario (deployment, kinematics, coverage) reads the catalog through it. Any
mistake raises :class:`ScenarioError` with one line ``FILE:LINE: field 'a.b[0].c': what is
wrong; what is expected``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from iadsim import catalog
from iadsim.catalog import Catalog, OverrideError, QuantityOverride
from iadsim.errors import CatalogError, DemError, ScenarioError
from iadsim.geo.dem import Dem
from iadsim.geo.earth import K_STANDARD
from iadsim.yamlpos import line_for, load_with_lines

NetworkMode = Literal["standalone", "cued", "launch_on_remote", "engage_on_remote"]


# Physical ranges of the scenario's numbers (docs/scenario.md, "Ranges"): every number is
# finite (``allow_inf_nan=False`` on every model) and within these bounds.
#: lowest and highest ground on Earth, with margin (Dead Sea shore -430 m, Everest 8,849 m)
GROUND_MIN_M, GROUND_MAX_M = -500.0, 9_000.0
#: route waypoint altitudes: from the lowest ground to 100 km (the edge of space)
ROUTE_ALT_MIN_M, ROUTE_ALT_MAX_M = -500.0, 100_000.0
#: the longest time any scenario field may state: one simulated day (time.duration_s's bound)
DAY_S = 86_400.0
#: antenna height above the site's ground (a mast or an aerostat)
MAX_ANTENNA_HEIGHT_M = 10_000.0
#: rounds of one interceptor type at one site
MAX_ROUNDS = 10_000
#: ground speed of an air-breathing threat: up to 10 km/s (beyond any glide vehicle)
MAX_SPEED_MPS = 10_000.0
#: ballistic apogee: up to 5,000 km (an ICBM's minimum-energy apogee is about 1,200 km)
MAX_APOGEE_KM = 5_000.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Environment(_Model):
    k_factor: float = Field(K_STANDARD, gt=0.5, le=100, description="effective-Earth factor")
    dem: Path | None = Field(None, description="GeoTIFF DEM, relative to the scenario file")


class Doctrine(_Model):
    salvo_size: int = Field(2, ge=1, le=8, description="interceptors per engagement")
    shoot_look_shoot: bool = Field(True, description="assess the kill before firing again")
    max_simultaneous: int | None = Field(
        None,
        ge=1,
        le=1_000,
        description="engagements at once; default: the system's fire-control channels",
    )
    reload_time_s: float | None = Field(
        None, ge=0, le=DAY_S, description="default from the catalog"
    )


class Site(_Model):
    id: str = Field(min_length=1)
    system: str = Field(description="catalog id of a system, or of a radar for a radar-only site")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    antenna_height_m: float | None = Field(None, ge=0, le=MAX_ANTENNA_HEIGHT_M)
    ground_altitude_m: float | None = Field(
        None,
        ge=GROUND_MIN_M,
        le=GROUND_MAX_M,
        description="terrain height at the site; default: from the DEM, else 0",
    )
    heading_deg: float | None = Field(
        None,
        ge=-360,
        le=360,
        description="boresight azimuth of the site's sector radars, deg clockwise from north; "
        "required for a sector radar when the scenario has raids (see require_headings)",
    )
    network: str | None = Field(None, description="link group id")
    interceptors: dict[str, Annotated[int, Field(ge=0, le=MAX_ROUNDS)]] | None = Field(
        None, description="inventory by interceptor id; default: the catalog loadout"
    )
    doctrine: Doctrine = Field(default_factory=Doctrine)


class TimeConfig(_Model):
    duration_s: float = Field(1800.0, gt=0, le=86_400)
    step_s: float = Field(1.0, gt=0, le=60)


class Raid(_Model):
    id: str | None = None
    threat: str
    count: int = Field(1, ge=1, le=100_000)
    launch_time_s: float = Field(0.0, ge=0, le=DAY_S)
    spacing_s: float = Field(0.0, ge=0, le=DAY_S)
    route: list[tuple[float, float, float]] | None = Field(
        None, description="waypoints [lat, lon, alt_m] for air-breathing threats"
    )
    speed_mps: float | None = Field(None, gt=0, le=MAX_SPEED_MPS)
    altitude_reference: Literal["amsl", "agl"] = "amsl"
    launch: tuple[float, float] | None = Field(None, description="[lat, lon] of a ballistic launch")
    aim: tuple[float, float] | None = Field(None, description="[lat, lon] of a ballistic aim point")
    apogee_km: float | None = Field(None, gt=0, le=MAX_APOGEE_KM)

    @field_validator("route")
    @classmethod
    def _route_altitudes(cls, route: list | None) -> list | None:
        for i, (_lat, _lon, alt) in enumerate(route or []):
            if not ROUTE_ALT_MIN_M <= alt <= ROUTE_ALT_MAX_M:
                raise ValueError(
                    f"waypoint {i} altitude {alt:g} m is outside [{ROUTE_ALT_MIN_M:g}, "
                    f"{ROUTE_ALT_MAX_M:g}] m"
                )
        return route

    @model_validator(mode="after")
    def _route_or_ballistic(self) -> Raid:
        if self.route is not None and (self.launch is not None or self.aim is not None):
            given = " and ".join(f"'{k}'" for k in ("launch", "aim") if getattr(self, k))
            raise ValueError(
                f"a raid flies either a 'route' or from 'launch' to 'aim', not both: remove "
                f"the 'route' or {given}"
            )
        if self.route is None and (self.launch is None or self.aim is None):
            raise ValueError("give either a 'route' of waypoints or both 'launch' and 'aim'")
        if self.route is not None and len(self.route) < 2:
            raise ValueError("a 'route' needs at least two [lat, lon, alt_m] waypoints")
        if self.altitude_reference == "agl" and any(p[2] < 0 for p in self.route or []):
            raise ValueError(
                "with altitude_reference 'agl' the route's altitudes are above the ground: "
                "give them >= 0 m"
            )
        for pts in (self.route or []), [p for p in (self.launch, self.aim) if p]:
            for p in pts:
                if not (-90 <= p[0] <= 90 and -180 <= p[1] <= 180):
                    raise ValueError(f"point {list(p)} is not a valid [lat, lon]")
        return self


class Asset(_Model):
    id: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(5.0, gt=0, le=1_000)
    value: float = Field(1.0, ge=0, le=1e9)


class Network(_Model):
    id: str
    members: list[str] = Field(default_factory=list, description="site ids (plus sites naming it)")
    latency_s: float = Field(1.0, ge=0, le=3_600)
    mode: NetworkMode = "cued"


class Scenario(_Model):
    name: str
    description: str = ""
    illustrative: bool = True
    environment: Environment = Field(default_factory=Environment)
    sites: list[Site] = Field(default_factory=list)
    time: TimeConfig = Field(default_factory=TimeConfig)
    raids: list[Raid] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    networks: list[Network] = Field(default_factory=list)
    catalog_overrides: dict[str, dict[str, QuantityOverride]] = Field(
        default_factory=dict,
        description="catalog id -> dotted field path -> replacement number (what-if)",
    )

    _path: Path | None = PrivateAttr(None)
    _catalog: Catalog | None = PrivateAttr(None)
    _lines: dict[tuple, int] = PrivateAttr(default_factory=dict)  # key path -> line (YAML)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def catalog(self) -> Catalog:
        """The catalog this scenario runs on: the base catalog with ``catalog_overrides``
        applied (a :class:`iadsim.catalog.Catalog` view)."""
        return self._catalog if self._catalog is not None else catalog.base()

    def with_catalog(self, view: Catalog) -> Scenario:
        """A shallow copy of this scenario that runs on the catalog view ``view`` (e.g. one
        Monte Carlo run's drawn parameters); fields and file path are shared."""
        new = self.model_copy()
        new._path, new._catalog = self._path, view
        return new

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path else Path.cwd()

    def dem_path(self) -> Path | None:
        dem = self.environment.dem
        if dem is None:
            return None
        return dem if dem.is_absolute() else self.base_dir / dem

    def site(self, site_id: str) -> Site:
        for s in self.sites:
            if s.id == site_id:
                return s
        raise KeyError(site_id)

    def sector_sites_without_heading(self) -> list[tuple[int, str, float]]:
        """Sites with a sector radar (catalog ``azimuth_sector`` < 360 deg) and no
        ``heading_deg``: (site index, radar id, sector in degrees), the first such radar of
        each site."""
        out = []
        cat = self.catalog
        for i, s in enumerate(self.sites):
            if s.heading_deg is not None:
                continue
            item = cat.get(s.system, kind=("system", "radar"))
            ids = item.radars if isinstance(item, catalog.System) else [item.id]
            for rid in ids:
                sector = cat.get(rid, kind="radar").azimuth_sector.si
                if sector < 360:
                    out.append((i, rid, float(sector)))
                    break
        return out

    def locate(self, loc: tuple) -> str:
        """``FILE:LINE: field 'a.b'`` for the field at key path ``loc`` (e.g. ``("raids", 2)``):
        the prefix of this scenario's located errors and warnings (no line when the scenario
        did not come from a file)."""
        line = line_for(self._lines, loc)
        path = self._path or Path("scenario")
        return (
            f"{path}:{line}: field '{_loc_str(loc)}'"
            if line
            else f"{path}: field '{_loc_str(loc)}'"
        )

    def require_headings(self, purpose: str) -> None:
        """Raise a located :class:`ScenarioError` for the first site with a sector radar and
        no ``heading_deg``: ``purpose`` (e.g. "the raid simulation") fixes sector radars at
        their heading, so a missing one would silently decide what they can see."""
        missing = self.sector_sites_without_heading()
        if not missing:
            return
        i, rid, sector = missing[0]
        _fail(
            self._path or Path("scenario"),
            self._lines,
            ("sites", i, "heading_deg"),
            f"site {self.sites[i].id!r} has the sector radar {rid!r} ({sector:g} deg) and "
            f"{purpose} points it at the site's heading, which is not given; "
            "give the boresight azimuth in degrees",
        )

    def network_members(self) -> dict[str, Network]:
        """Every network (declared, or implied by a site's ``network`` field with the default
        mode and latency) with its full member list."""
        nets = {n.id: n.model_copy(deep=True) for n in self.networks}
        for s in self.sites:
            if s.network is None:
                continue
            net = nets.setdefault(s.network, Network(id=s.network))
            if s.id not in net.members:
                net.members.append(s.id)
        return nets


def _describe(err: Mapping[str, Any]) -> str:
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field; check the spelling (see docs/scenario.md for the schema)"
    if err["type"] == "missing":
        return "required field is missing"
    got = err.get("input")
    if isinstance(got, (int, float, str, bool)) and err["type"] not in ("value_error",):
        msg += f" (got {got!r})"
    return msg


def _loc_str(loc: tuple) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


_TYPE_TAGS = frozenset({"float", "int", "str", "bool", "list", "dict", "tuple"})


def _clean_loc(loc: tuple) -> tuple:
    # pydantic appends union/tuple member tags such as 'tuple[float, float, float]', 'float'
    # or a model's class name ('Alternative'); scenario fields and catalog ids are lower case
    return tuple(
        p
        for p in loc
        if not (
            isinstance(p, str)
            and ("[" in p or p.startswith("function-") or p in _TYPE_TAGS or p[:1].isupper())
        )
    )


def load_scenario(path: str | Path) -> Scenario:
    """Load, validate and resolve a scenario file.

    Raises :class:`ScenarioError` with ``FILE:LINE: field 'x': problem`` on any mistake.
    """
    path = Path(path)
    data, lines = load_with_lines(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: a scenario must be a YAML mapping with 'name' and 'sites'")
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _clean_loc(err["loc"])
        line = line_for(lines, loc)
        raise ScenarioError(f"{path}:{line}: field '{_loc_str(loc)}': {_describe(err)}") from None
    scn._path = path
    _resolve(scn, path, lines)
    return scn


def scenario_from_dict(data: dict[str, Any], base_dir: Path | None = None) -> Scenario:
    """Build and resolve a scenario from a Python dict (API users, the web UI)."""
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ScenarioError(
            f"scenario: field '{_loc_str(_clean_loc(err['loc']))}': {_describe(err)}"
        ) from None
    if base_dir is not None:
        scn._path = Path(base_dir) / "scenario.yaml"
    _resolve(scn, scn._path or Path("scenario"), {})
    return scn


def _fail(path: Path, lines: dict[tuple, int], loc: tuple, msg: str) -> None:
    """Raise the one-line located error ``FILE:LINE: field 'a.b': msg`` (no line when the
    scenario did not come from a file)."""
    line = line_for(lines, loc)
    where = f"{path}:{line}" if line else str(path)
    raise ScenarioError(f"{where}: field '{_loc_str(loc)}': {msg}")


def _resolve(scn: Scenario, path: Path, lines: dict[tuple, int]) -> None:
    """Cross-reference checks that need the catalog or other sections."""
    scn._lines = lines

    def fail(loc: tuple, msg: str) -> None:
        _fail(path, lines, loc, msg)

    _resolve_overrides(scn, fail)
    cat = scn.catalog
    seen: set[str] = set()
    for i, s in enumerate(scn.sites):
        if s.id in seen:
            fail(("sites", i, "id"), f"duplicate site id {s.id!r}; site ids must be unique")
        seen.add(s.id)
        try:
            item = cat.get(s.system, kind=("system", "radar"))
        except CatalogError as exc:
            fail(("sites", i, "system"), str(exc))
        if s.interceptors is not None:
            allowed = set(getattr(item, "interceptors", []))
            for iid in s.interceptors:
                if iid not in allowed:
                    fail(
                        ("sites", i, "interceptors", iid),
                        f"{iid!r} is not an interceptor of {s.system!r}; use one of "
                        f"{sorted(allowed) or 'none (radar-only site)'}",
                    )
                if s.interceptors[iid] < 0:
                    fail(("sites", i, "interceptors", iid), "inventory must be >= 0")
    for i, r in enumerate(scn.raids):
        try:
            threat = cat.get(r.threat, kind="threat")
        except CatalogError as exc:
            fail(("raids", i, "threat"), str(exc))
        ballistic = threat.target_class == "ballistic"
        if ballistic and (r.launch is None or r.aim is None):
            fail(("raids", i), f"{r.threat!r} is ballistic: give 'launch' and 'aim' [lat, lon]")
        if not ballistic and r.route is None:
            fail(("raids", i), f"{r.threat!r} flies a route: give 'route' of [lat, lon, alt_m]")
    net_ids: set[str] = set()
    for i, n in enumerate(scn.networks):
        if n.id in net_ids:
            fail(("networks", i, "id"), f"duplicate network id {n.id!r}")
        net_ids.add(n.id)
        for j, m in enumerate(n.members):
            if m not in seen:
                fail(("networks", i, "members", j), f"unknown site {m!r}; sites: {sorted(seen)}")
    if scn.raids:
        scn.require_headings("the raid simulation")
    dem = scn.dem_path()
    if dem is not None and not dem.exists():
        fail(
            ("environment", "dem"),
            f"DEM file {str(dem)!r} not found (paths are relative to the scenario file)",
        )
    if dem is not None:  # readable and georeferenced? (opening reads only the header)
        try:
            Dem.open(dem).close()
        except DemError as exc:
            fail(("environment", "dem"), str(exc))


def _resolve_overrides(scn: Scenario, fail) -> None:
    """Apply ``catalog_overrides`` to the base catalog; an :class:`OverrideError` becomes a
    located error on the item, the field or the part of the field at fault."""
    if not scn.catalog_overrides:
        return
    try:
        scn._catalog = catalog.base().with_overrides(scn.catalog_overrides)
    except OverrideError as exc:
        loc: tuple = ("catalog_overrides", exc.item)
        if exc.part != "item":
            loc += (exc.field,)
        if exc.part in ("value", "unit", "alternatives"):
            loc += (exc.part,)
        fail(loc, str(exc))
