"""Parameter uncertainty: which catalog numbers a scenario's run reads, and the distribution of
each, built from its value, alternatives and confidence.

:func:`used_quantities` lists every catalog :class:`~iadsim.catalog.Quantity` the simulation
engine reads for a scenario (the explicit per-kind field lists below, restricted to what the
scenario can exercise); :func:`uncertain_parameters` keeps those whose distribution is not a
single value, as :class:`Parameter` objects. A Monte Carlo run with parameter uncertainty
draws every parameter (:func:`draw`, from :func:`parameter_rng`, a stream of its own), turns
the values into catalog overrides (:func:`as_overrides`) and runs the scenario on that catalog
view (:meth:`iadsim.scenario.Scenario.with_catalog`). Designed experiments (Morris, Sobol)
map their unit-cube points through :func:`values_from_unit` instead.

Distributions (docs/catalog.md, "Uncertainty model"), in the quantity's unit:

* **alternatives differ from the value**: triangular(low, value, high) over the span of the
  value and its alternatives (the chosen value most likely, every published figure possible);
* **no differing alternative**: triangular(value (1 - s), value, value (1 + s)) with the
  relative spread s of the confidence: :data:`SPREAD` (high 5 %, medium 15 %, low 30 %);
* **fixed** (not a parameter): a scenario override stating neither alternatives nor a
  confidence (an exact what-if), a zero value without alternatives, and an azimuth sector of
  360 deg without alternatives (an all-round antenna is all-round by construction).

Every draw is then finished by the field's limits: probabilities clipped to [0, 1] (a radar's
``detection_pd`` to [0.001, 0.999]: its Swerling calibration needs 0 < Pd < 1), counts
rounded to whole numbers >= 1, angles of elevation within [-90, 90] deg, azimuth sectors
within (0, 360] deg, magnitudes (lengths, times, speeds, RCS) >= 0, and the minimum of an
envelope's or a radar's (min, max) pair at most its maximum (a drawn minimum above the
maximum is lowered to it). The support a sensitivity analysis samples (:attr:`Parameter.low`,
:attr:`Parameter.high`) is the distribution's span cut to those limits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from iadsim.catalog import Catalog, Quantity, get_path
from iadsim.catalog.view import NON_NEGATIVE_UNITS, ORDERED_PAIRS, POSITIVE_FIELDS
from iadsim.deployment import Deployment, resolve_deployment
from iadsim.scenario import Scenario

#: relative half-width of the triangular distribution of a number without differing
#: alternatives, by its confidence
SPREAD: dict[str, float] = {"high": 0.05, "medium": 0.15, "low": 0.30}

#: the radar numbers the engine reads (sensors: detection, line of sight, sector, elevation,
#: scan timing, measurement noise, track capacity); ``antenna_height`` only where the site
#: does not state ``antenna_height_m``
RADAR_FIELDS: tuple[str, ...] = (
    "reference_detection_range", "reference_rcs", "instrumented_range", "antenna_height",
    "scan_period", "azimuth_sector", "min_elevation", "max_elevation", "range_noise",
    "angle_noise", "max_tracks", "detection_pd",
)  # fmt: skip
#: the system numbers the engine reads for a fire unit (doctrine); ``fire_control_channels``
#: only where a site does not state ``max_simultaneous``, ``reload_time`` only where a site
#: has reserve rounds and does not state ``reload_time_s``
SYSTEM_FIELDS: tuple[str, ...] = (
    "fire_control_channels", "missiles_per_channel", "reaction_time", "reload_time",
)  # fmt: skip
#: the interceptor numbers the engine reads; the envelope and P_k of each target class the
#: raids contain
INTERCEPTOR_FIELDS: tuple[str, ...] = ("average_speed", "max_target_speed")
ENVELOPE_FIELDS: tuple[str, ...] = ("min_range", "max_range", "min_altitude", "max_altitude")
#: the threat numbers the engine reads: the RCS always, the boost time of a ballistic threat,
#: the catalog speed of a route flown without ``speed_mps``
THREAT_FIELDS: tuple[str, ...] = ("rcs", "boost_time", "speed")

KINDS = ("system", "radar", "interceptor", "threat")
#: limits of a drawn ``detection_pd`` (the SNR it calibrates is infinite at 1, zero at 0)
PD_LIMITS = (0.001, 0.999)


@dataclass(frozen=True)
class UsedQuantity:
    """A catalog number the engine reads for a scenario: item id and kind, dotted field path,
    the quantity in force (overrides applied)."""

    item: str
    kind: str
    field: str
    quantity: Quantity

    @property
    def name(self) -> str:
        """``item:field``, e.g. ``pac-3-mse:envelopes.cruise.min_altitude``."""
        return f"{self.item}:{self.field}"


@dataclass(frozen=True)
class Parameter:
    """An uncertain catalog number and its distribution (see the module docstring).

    ``mode`` is the value in force (catalog or override); ``spread_low``, ``spread_high`` the
    triangular distribution's span; ``low``, ``high`` its support after the field's limits;
    ``from_override`` is True when a scenario override set it. Values are in ``unit``.
    """

    item: str
    kind: str
    field: str
    quantity: Quantity
    spread_low: float
    mode: float
    spread_high: float
    limit_low: float
    limit_high: float
    integer: bool = False
    from_override: bool = False

    @property
    def name(self) -> str:
        """``item:field``, e.g. ``pac-3-mse:envelopes.cruise.min_altitude``."""
        return f"{self.item}:{self.field}"

    @property
    def unit(self) -> str:
        return self.quantity.unit

    @property
    def value(self) -> float:
        """The value in force (the catalog's, or the scenario override's)."""
        return self.quantity.value

    @property
    def low(self) -> float:
        """Lowest value a draw can take."""
        return float(self.finish(self.spread_low))

    @property
    def high(self) -> float:
        """Highest value a draw can take."""
        return float(self.finish(self.spread_high))

    @property
    def source(self) -> str:
        return self.quantity.source

    @property
    def quality(self) -> str:
        """``unsourced estimate`` (an iadsim planning value, ``basis: estimate``), ``scenario
        override``, or ``sourced (CONFIDENCE)``."""
        if self.from_override:
            return "scenario override"
        if self.quantity.basis == "estimate":
            return "unsourced estimate"
        return f"sourced ({self.quantity.confidence})"

    @property
    def distribution(self) -> str:
        """E.g. ``triangular(35, 50, 65) m``."""
        a, c, b = self.spread_low, self.mode, self.spread_high
        return f"triangular({a:g}, {c:g}, {b:g}) {self.unit}"

    def finish(self, x):
        """A raw draw finished by the field's limits (clip, whole numbers for counts)."""
        x = np.clip(np.asarray(x, float), self.limit_low, self.limit_high)
        if self.integer:
            x = np.maximum(np.floor(x + 0.5), max(1.0, self.limit_low))
        return x

    def ppf(self, u):
        """Inverse CDF: the value at probability ``u`` in [0, 1] (any shape), finished."""
        u = np.clip(np.asarray(u, float), 0.0, 1.0)
        a, c, b = self.spread_low, self.mode, self.spread_high
        width = b - a
        if width <= 0:
            return self.finish(np.full(u.shape, c))
        fc = (c - a) / width
        left = a + np.sqrt(u * width * (c - a))
        right = b - np.sqrt((1.0 - u) * width * (b - c))
        return self.finish(np.where(u < fc, left, right))


# ---------------------------------------------------------------- what the engine reads --
def _fire_unit_items(deployment: Deployment):
    """(system id, sites) and the interceptor ids with rounds, over the fire units."""
    systems: dict[str, list] = {}
    interceptors: dict[str, None] = {}
    for site in deployment.sites:
        if not site.has_fire_unit:
            continue
        systems.setdefault(site.item.id, []).append(site)
        for i in site.interceptors:
            if i.rounds > 0:
                interceptors.setdefault(i.id)
    return systems, list(interceptors)


def used_quantities(scenario: Scenario, deployment: Deployment | None = None) -> list[UsedQuantity]:
    """Every catalog number the engine reads for ``scenario`` (the fields of
    :data:`RADAR_FIELDS`, :data:`SYSTEM_FIELDS`, :data:`INTERCEPTOR_FIELDS` and envelopes,
    :data:`THREAT_FIELDS`, restricted as documented there), from its catalog view, ordered by
    kind (system, radar, interceptor, threat), item id and field. ``deployment`` is the
    scenario's resolved deployment (resolved here when not given)."""
    cat: Catalog = scenario.catalog
    dep = deployment if deployment is not None else resolve_deployment(scenario)
    out: list[UsedQuantity] = []

    def add(item_id: str, kind: str, paths: Iterable[str]) -> None:
        item = cat.get(item_id, kind=kind)
        for path in paths:
            try:
                q = get_path(item, path)
            except (AttributeError, KeyError):
                continue
            if isinstance(q, Quantity):
                out.append(UsedQuantity(item_id, kind, path, q))

    systems, interceptors = _fire_unit_items(dep)
    for sid in sorted(systems):
        sites = [scenario.site(s.id) for s in systems[sid]]
        fields = ["missiles_per_channel", "reaction_time"]
        if any(s.doctrine.max_simultaneous is None for s in sites):
            fields.insert(0, "fire_control_channels")
        reserve = any(i.reserve > 0 for s in systems[sid] for i in s.interceptors)
        if reserve and any(s.doctrine.reload_time_s is None for s in sites):
            fields.append("reload_time")
        add(sid, "system", [f for f in SYSTEM_FIELDS if f in fields])
    radars: dict[str, bool] = {}  # radar id -> some site uses its catalog antenna height
    for site in dep.sites:
        stated = scenario.site(site.id).antenna_height_m is not None
        for r in site.radars:
            radars[r.id] = radars.get(r.id, False) or not stated
    for rid in sorted(radars):
        add(rid, "radar", [f for f in RADAR_FIELDS if f != "antenna_height" or radars[rid]])
    threats = {r.threat: cat.get(r.threat, kind="threat") for r in scenario.raids}
    classes = {t.target_class for t in threats.values()}
    for iid in sorted(interceptors):
        item = cat.get(iid, kind="interceptor")
        paths = list(INTERCEPTOR_FIELDS)
        for c in (c for c in ("aircraft", "cruise", "ballistic") if c in classes):
            if c in item.envelopes:
                paths += [f"envelopes.{c}.{f}" for f in ENVELOPE_FIELDS]
            if c in item.pk:
                paths.append(f"pk.{c}")
        add(iid, "interceptor", paths)
    for tid in sorted(threats):
        t = threats[tid]
        fields = ["rcs"]
        if t.target_class == "ballistic":
            fields.append("boost_time")
        elif any(r.speed_mps is None for r in scenario.raids if r.threat == tid):
            fields.append("speed")
        add(tid, "threat", [f for f in THREAT_FIELDS if f in fields])
    return out


# ------------------------------------------------------------------------ distributions --
def _limits(field: str, q: Quantity) -> tuple[float, float, bool]:
    """(lowest, highest, whole number) a value of this field may take."""
    leaf = field.rsplit(".", 1)[-1]
    if leaf == "detection_pd":  # the Swerling 1 calibration needs 0 < Pd < 1
        return PD_LIMITS[0], PD_LIMITS[1], False
    if q.unit == "probability":
        return 0.0, 1.0, False
    if q.unit == "count":
        return 1.0, math.inf, True
    if leaf in ("min_elevation", "max_elevation"):
        return -90.0, 90.0, False
    if leaf == "azimuth_sector":
        return 1e-6, 360.0, False
    if leaf in POSITIVE_FIELDS:
        return 1e-9, math.inf, False
    if q.unit in NON_NEGATIVE_UNITS:
        return 0.0, math.inf, False
    return -math.inf, math.inf, False


def span(q: Quantity) -> tuple[float, float] | None:
    """(low, high) of the triangular distribution of ``q`` before the field's limits: the
    span of value and alternatives, else the confidence's relative spread; None when that is
    a single value."""
    values = [q.value] + [a.value for a in q.alternatives]
    lo, hi = min(values), max(values)
    if hi == lo:
        s = SPREAD[q.confidence] * abs(q.value)
        lo, hi = q.value - s, q.value + s
    return None if hi <= lo else (lo, hi)


def parameter(used: UsedQuantity, catalog_view: Catalog) -> Parameter | None:
    """The :class:`Parameter` of a used number, or None when it is fixed (see the module
    docstring)."""
    q = used.quantity
    over = catalog_view.override(used.item, used.field)
    if over is not None and over.exact:
        return None
    leaf = used.field.rsplit(".", 1)[-1]
    if leaf == "azimuth_sector" and q.value >= 360 and not q.alternatives:
        return None
    sp = span(q)
    if sp is None:
        return None
    lo_lim, hi_lim, integer = _limits(used.field, q)
    p = Parameter(used.item, used.kind, used.field, q, sp[0], q.value, sp[1], lo_lim, hi_lim,
                  integer, over is not None)  # fmt: skip
    return p if p.high > p.low else None


def uncertain_parameters(
    scenario: Scenario, deployment: Deployment | None = None
) -> list[Parameter]:
    """The uncertain numbers of ``scenario``'s run: :func:`used_quantities` whose distribution
    is not a single value, in the same order."""
    cat = scenario.catalog
    return [
        p for u in used_quantities(scenario, deployment) if (p := parameter(u, cat)) is not None
    ]


def support(scenario: Scenario, item: str, field: str) -> tuple[float, float]:
    """(lowest, highest) value, in the quantity's unit, that ``item``'s ``field`` can take in
    the scenario under parameter uncertainty (the value itself when it is fixed)."""
    q = scenario.catalog.quantity(item, field)
    p = parameter(UsedQuantity(item, "", field, q), scenario.catalog)
    return (q.value, q.value) if p is None else (p.low, p.high)


# ------------------------------------------------------------------------------ drawing --
def parameter_rng(seed: int, run_id: int) -> np.random.Generator:
    """The generator of run ``run_id``'s parameter draws: ``SeedSequence(seed, spawn_key=(run_id,
    1))``, a stream of its own, independent of the run's simulation stream
    (``spawn_key=(run_id,)``, :func:`iadsim.montecarlo.run_rng`)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(run_id, 1)))


def _order_pairs(parameters: Sequence[Parameter], values: np.ndarray, cat: Catalog) -> None:
    """Keep each (min, max) pair ordered (envelope ranges and altitudes, radar elevations), in
    place: a drawn minimum above the maximum is lowered to it; a drawn maximum below a fixed
    minimum is raised to it."""
    index = {(p.item, p.field): k for k, p in enumerate(parameters)}
    for (item, field), k in index.items():
        parent, _, leaf = field.rpartition(".")
        base = f"{parent}." if parent else ""
        for lo, hi in ORDERED_PAIRS:
            if leaf == lo:
                j = index.get((item, base + hi))
                top = values[..., j] if j is not None else cat.quantity(item, base + hi).value
                values[..., k] = np.minimum(values[..., k], top)
            elif leaf == hi and (item, base + lo) not in index:
                try:
                    bottom = cat.quantity(item, base + lo).value
                except (AttributeError, KeyError):
                    continue
                values[..., k] = np.maximum(values[..., k], bottom)


def values_from_unit(parameters: Sequence[Parameter], u, catalog_view: Catalog) -> np.ndarray:
    """Parameter values for points ``u`` of the unit cube (``(..., k)``, one column per
    parameter): each column through its parameter's inverse CDF, then (min, max) pairs
    ordered. ``catalog_view`` is the scenario's catalog (for a pair's fixed member)."""
    u = np.asarray(u, float)
    if u.shape[-1] != len(parameters):
        raise ValueError(f"u has {u.shape[-1]} columns for {len(parameters)} parameters")
    values = np.empty(u.shape, float)
    for k, p in enumerate(parameters):
        values[..., k] = p.ppf(u[..., k])
    _order_pairs(parameters, values, catalog_view)
    return values


def draw(
    parameters: Sequence[Parameter], rng: np.random.Generator, catalog_view: Catalog
) -> np.ndarray:
    """One draw of every parameter: ``len(parameters)`` uniforms from ``rng`` in parameter
    order, through :func:`values_from_unit`."""
    return values_from_unit(parameters, rng.random(len(parameters)), catalog_view)


def as_overrides(
    parameters: Sequence[Parameter], values: Sequence[float]
) -> dict[str, dict[str, Quantity]]:
    """Catalog overrides ``{item: {field: quantity}}`` setting each parameter to its value
    (the quantity in force with its value replaced: unit, source and alternatives kept)."""
    out: dict[str, dict[str, Quantity]] = {}
    for p, v in zip(parameters, values, strict=True):
        out.setdefault(p.item, {})[p.field] = p.quantity.model_copy(update={"value": float(v)})
    return out


def with_values(
    scenario: Scenario, parameters: Sequence[Parameter], values: Sequence[float]
) -> Scenario:
    """``scenario`` running on its catalog with the parameters set to ``values``."""
    return scenario.with_catalog(scenario.catalog.with_overrides(as_overrides(parameters, values)))
