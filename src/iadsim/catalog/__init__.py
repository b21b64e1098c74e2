"""The system catalog: systems, radars, interceptors and threats, every number sourced.

>>> from iadsim import catalog
>>> catalog.get("s-400").headline_max_range.value
400.0
>>> view = catalog.base().with_overrides(
...     {"pac-3-mse": {"envelopes.cruise.min_altitude": {"value": 30, "unit": "m"}}})
>>> view.get("pac-3-mse").envelopes["cruise"].min_altitude.value
30.0

:func:`get` and :func:`items` read the base catalog (the YAML files); a scenario's
:attr:`~iadsim.scenario.Scenario.catalog` is a :class:`Catalog` view with its
``catalog_overrides`` applied (:mod:`iadsim.catalog.view`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, overload

import yaml
from pydantic import ValidationError

from iadsim.catalog.models import (
    ITEM_TYPES,
    TARGET_CLASSES,
    CatalogItem,
    Envelope,
    Interceptor,
    Quantity,
    QuantityOverride,
    Radar,
    SourcedChoice,
    System,
    Threat,
)
from iadsim.catalog.view import (
    Catalog,
    CatalogOverride,
    OverrideError,
    check_quantity,
    get_path,
    iter_quantities,
    quantity_paths,
)
from iadsim.errors import CatalogError

DATA_DIR = Path(__file__).parent / "data"

__all__ = [
    "TARGET_CLASSES",
    "Catalog",
    "CatalogOverride",
    "OverrideError",
    "QuantityOverride",
    "CatalogItem",
    "Envelope",
    "Interceptor",
    "Quantity",
    "Radar",
    "SourcedChoice",
    "System",
    "Threat",
    "base",
    "get",
    "get_path",
    "items",
    "load",
    "detection_range_m",
    "iter_quantities",
    "quantity_paths",
]


def _load_file(path: Path) -> CatalogItem:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict) or raw.get("kind") not in ITEM_TYPES:
        raise CatalogError(f"{path}: field 'kind' must be one of {sorted(ITEM_TYPES)}")
    try:
        item = ITEM_TYPES[raw["kind"]].model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(p) for p in e["loc"])
        raise CatalogError(f"{path}: field '{loc}': {e['msg']}") from None
    for qpath, q in iter_quantities(item):
        try:
            check_quantity(item.id, qpath, q, q)
        except OverrideError as exc:
            raise CatalogError(f"{path}: field '{qpath}': {exc}") from None
    if item.id != path.stem:
        raise CatalogError(f"{path}: id {item.id!r} must match the file name {path.stem!r}")
    if isinstance(item, System) and item.fire_control_radar not in item.radars:
        raise CatalogError(
            f"{path}: field 'fire_control_radar': {item.fire_control_radar!r} is not one of the "
            f"system's radars {item.radars}; list it under 'radars'"
        )
    return item


@functools.cache
def load(data_dir: Path = DATA_DIR) -> dict[str, CatalogItem]:
    """All catalog items by id (cached). Raises :class:`CatalogError` on a bad file."""
    out: dict[str, CatalogItem] = {}
    for path in sorted(data_dir.glob("*/*.yaml")):
        item = _load_file(path)
        if item.id in out:
            raise CatalogError(f"{path}: duplicate id {item.id!r}")
        out[item.id] = item
    return out


def base() -> Catalog:
    """The catalog as loaded from its YAML files (:func:`load`), as a :class:`Catalog` view
    without overrides."""
    return Catalog(load())


def items(kind: str | None = None) -> list[CatalogItem]:
    """Catalog items, optionally of one kind (system, radar, interceptor, threat)."""
    return base().items(kind)


@overload
def get(item_id: str, kind: Literal["radar"]) -> Radar: ...
@overload
def get(item_id: str, kind: Literal["system"]) -> System: ...
@overload
def get(item_id: str, kind: Literal["interceptor"]) -> Interceptor: ...
@overload
def get(item_id: str, kind: Literal["threat"]) -> Threat: ...
@overload
def get(item_id: str, kind: tuple[Literal["system"], Literal["radar"]]) -> System | Radar: ...
@overload
def get(item_id: str, kind: str | Iterable[str] | None = None) -> CatalogItem: ...
def get(item_id: str, kind: str | Iterable[str] | None = None) -> CatalogItem:
    """Look up an item by id; ``kind`` restricts the accepted kinds (the return type follows
    it).

    Raises :class:`CatalogError` naming the known ids when the id is unknown.
    """
    return base().get(item_id, kind)


def detection_range_m(radar: Radar, rcs_m2: float) -> float:
    """Free-space detection range for a target of ``rcs_m2``: the radar range equation's
    fourth-root scaling from the catalog reference point, capped at the instrumented range.
    It is the range where the single-scan detection probability equals the radar's
    ``detection_pd`` (the Pd the reference range is quoted at).

    R(sigma) = R_ref * (sigma / sigma_ref) ** 0.25   (Skolnik; R proportional to sigma^(1/4))
    """
    r = radar.reference_detection_range.si * (rcs_m2 / radar.reference_rcs.si) ** 0.25
    return float(min(r, radar.instrumented_range.si))
