"""Catalog data model: every number is a :class:`Quantity` with its public source.

One YAML file per item under ``catalog/data/<kind>s/<id>.yaml``. Values are stored in the unit
named beside them (km, m, s, m2, mps, deg, year, count, probability); accessors on the models
return SI values so the engines never convert by hand.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Confidence = Literal["high", "medium", "low"]
Basis = Literal["seen", "community", "unverified", "derived", "estimate"]
"""How a value is sourced (docs/catalog.md): ``seen`` = text read in the cited page; ``community``
= a community/secondary compilation; ``unverified`` = commonly cited, not opened; ``derived`` =
calculated from a formula; ``estimate`` = iadsim planning value with no public figure."""
TargetClass = Literal["aircraft", "cruise", "ballistic"]
TARGET_CLASSES: tuple[str, ...] = ("aircraft", "cruise", "ballistic")
TerminalSeeker = Literal["active_radar", "semi_active", "track_via_missile", "command", "infrared"]
"""How an interceptor is guided in its terminal phase: ``active_radar`` (own radar transmitter
and receiver: homes on its own once the target is in its seeker's basket), ``semi_active`` (homes
on the fire-control radar's illumination), ``track_via_missile`` (the seeker's view is downlinked
and the fire-control radar computes the guidance, e.g. Patriot PAC-2), ``command`` (the ground
radar tracks target and missile and sends the steering commands), ``infrared`` (passive IR)."""

_TO_SI = {
    "km": 1000.0,
    "m": 1.0,
    "s": 1.0,
    "m2": 1.0,
    "mps": 1.0,
    "deg": 1.0,
    "year": 1.0,
    "count": 1.0,
    "probability": 1.0,
    "ratio": 1.0,
    "g": 1.0,
    "ghz": 1.0,
}


def _check_unit(cls, v: str) -> str:
    """Validator of a ``unit`` field: one of the units the catalog converts to SI."""
    if v not in _TO_SI:
        raise ValueError(f"unknown unit {v!r}; use one of {sorted(_TO_SI)}")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Alternative(_Strict):
    """A value from another source that disagrees with the chosen one. ``basis`` is stated
    when the source gives no URL: ``unverified`` (named, not opened) or ``estimate``."""

    value: float
    source: str = Field(min_length=3)
    note: str = ""
    basis: Basis | None = None


class ChoiceAlternative(_Strict):
    """A category from another source that disagrees with the chosen one (``basis`` as in
    :class:`Alternative`)."""

    value: TerminalSeeker
    source: str = Field(min_length=3)
    note: str = ""
    basis: Basis | None = None


class SourcedChoice(_Strict):
    """A sourced categorical value: the category, its public source, confidence and basis like
    a :class:`Quantity`, and the categories other sources give. The one category in the
    catalog is an interceptor's terminal seeker (:data:`TerminalSeeker`); plain, not generic,
    classes so that catalog items pickle to worker processes."""

    value: TerminalSeeker
    source: str = Field(min_length=3, description="citation or URL of the public source")
    confidence: Confidence
    basis: Basis = Field(description="how the value is sourced")
    note: str = ""
    alternatives: list[ChoiceAlternative] = Field(default_factory=list)


class Quantity(_Strict):
    """A sourced number: value, unit, source (citation or URL), confidence, alternatives."""

    value: float
    unit: str
    source: str = Field(min_length=3, description="citation or URL of the public source")
    confidence: Confidence
    alternatives: list[Alternative] = Field(default_factory=list)
    note: str = ""
    basis: Basis | None = Field(default=None, description="how the value is sourced")

    _known_unit = field_validator("unit")(_check_unit)

    @property
    def si(self) -> float:
        """The value in SI (metres, seconds, m^2, m/s); degrees and counts unchanged."""
        return self.value * _TO_SI[self.unit]


UNITS: tuple[str, ...] = tuple(_TO_SI)


class QuantityOverride(_Strict):
    """A scenario's replacement for one catalog :class:`Quantity` (``catalog_overrides``).

    ``value`` and ``unit`` are required (the unit must be the catalog's, checked where the
    override is applied); ``alternatives`` are other values the analyst considers (numbers, or
    ``{value, source, note}`` like the catalog's); ``confidence`` is optional. An override that
    states neither alternatives nor a confidence is an exact what-if value: parameter
    uncertainty leaves it fixed (docs/catalog.md, "Uncertainty model").
    """

    value: float = Field(allow_inf_nan=False)
    unit: str
    alternatives: list[float | Alternative] = Field(default_factory=list)
    source: str = Field("scenario override", min_length=3)
    confidence: Confidence | None = None
    note: str = ""
    basis: Basis | None = None

    _known_unit = field_validator("unit")(_check_unit)

    @field_validator("alternatives")
    @classmethod
    def _finite_alternatives(cls, v: list) -> list:
        for a in v:
            x = a.value if isinstance(a, Alternative) else a
            if not math.isfinite(x):
                raise ValueError(f"alternatives must be finite numbers, got {x}")
        return v

    @property
    def exact(self) -> bool:
        """True when the override states no alternatives and no confidence (a fixed what-if)."""
        return not self.alternatives and self.confidence is None

    def to_quantity(self) -> Quantity:
        """The override as a catalog :class:`Quantity`: plain-number alternatives take the
        override's source; without a stated confidence it is ``low`` (a what-if, not a
        sourced figure)."""
        alts = [
            a if isinstance(a, Alternative) else Alternative(value=float(a), source=self.source)
            for a in self.alternatives
        ]
        return Quantity(
            value=self.value,
            unit=self.unit,
            source=self.source,
            confidence=self.confidence or "low",
            alternatives=alts,
            note=self.note,
            basis=self.basis,
        )


class Envelope(_Strict):
    """Engagement envelope against one target class (ranges are slant ranges from the
    launcher; altitudes are the target's height above the ground under it, sea level when
    there is no terrain)."""

    min_range: Quantity
    max_range: Quantity
    min_altitude: Quantity
    max_altitude: Quantity


class CatalogItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    kind: str
    name: str
    description: str = ""
    country: str = ""
    illustrative: bool = Field(
        default=False, description="true when values are planning estimates, not a sourced claim"
    )


class Radar(CatalogItem):
    """A radar, with its detection range calibrated on one reference RCS at one single-scan
    detection probability (``detection_pd``).

    Detection range for another RCS follows the radar range equation, R = R_ref (sigma /
    sigma_ref)^(1/4), capped at the instrumented range; it is the range where the single-scan
    detection probability is ``detection_pd`` (the simulation's Swerling 1 model is calibrated
    there, :mod:`iadsim.sim.sensors`).
    """

    kind: Literal["radar"]
    role: Literal["acquisition", "fire_control", "multifunction", "early_warning"]
    band: str
    reference_detection_range: Quantity
    reference_rcs: Quantity
    instrumented_range: Quantity
    antenna_height: Quantity
    scan_period: Quantity
    azimuth_sector: Quantity
    min_elevation: Quantity
    max_elevation: Quantity
    range_noise: Quantity
    angle_noise: Quantity
    max_tracks: Quantity
    detection_pd: Quantity = Field(
        description="single-scan detection probability at which reference_detection_range is "
        "quoted (against reference_rcs)"
    )
    detects_ballistic: bool = True

    @field_validator("detection_pd")
    @classmethod
    def _pd_is_a_probability(cls, q: Quantity) -> Quantity:
        values = [q.value, *(a.value for a in q.alternatives)]
        if q.unit != "probability" or not all(0.0 < v < 1.0 for v in values):
            raise ValueError(
                "detection_pd must have unit 'probability' and a value (and alternatives) "
                "strictly between 0 and 1"
            )
        return q


class Interceptor(CatalogItem):
    kind: Literal["interceptor"]
    average_speed: Quantity = Field(description="mean fly-out speed used to predict intercepts")
    max_target_speed: Quantity
    terminal_seeker: SourcedChoice = Field(
        description="terminal guidance: active_radar, semi_active, track_via_missile, command "
        "or infrared"
    )
    envelopes: dict[TargetClass, Envelope]
    pk: dict[TargetClass, Quantity] = Field(description="single-shot kill probability by class")

    @property
    def active_seeker(self) -> bool:
        """True when the round homes with its own radar (``terminal_seeker`` is
        ``active_radar``): it needs no fire-control radar at the end of its flight, so a remote
        track can support the whole engagement (engage on remote)."""
        return self.terminal_seeker.value == "active_radar"


class System(CatalogItem):
    kind: Literal["system"]
    in_service: Quantity
    headline_max_range: Quantity
    headline_max_altitude: Quantity
    target_classes: list[TargetClass]
    radars: list[str] = Field(description="radar ids: acquisition first, then fire control")
    fire_control_radar: str
    interceptors: list[str]
    default_loadout: dict[str, int] = Field(description="interceptor id -> rounds per battery")
    default_loadout_rounds: Quantity | None = Field(
        default=None, description="total rounds of default_loadout, carrying its source"
    )
    fire_control_channels: Quantity = Field(description="targets engaged at once per battery")
    missiles_per_channel: Quantity
    reaction_time: Quantity
    reload_time: Quantity
    nato_interoperable: bool


class Threat(CatalogItem):
    kind: Literal["threat"]
    category: Literal["aircraft", "drone", "cruise-missile", "ballistic-missile"]
    target_class: TargetClass
    rcs: Quantity
    speed: Quantity
    cruise_altitude: Quantity
    max_range: Quantity
    boost_time: Quantity | None = None
    reentry_speed: Quantity | None = None


ITEM_TYPES: dict[str, type[CatalogItem]] = {
    "system": System,
    "radar": Radar,
    "interceptor": Interceptor,
    "threat": Threat,
}
