"""A read-only view of the catalog, optionally with some numbers replaced (what-if overrides).

:class:`Catalog` maps item ids to items. :meth:`Catalog.with_overrides` returns a new view in
which chosen :class:`~iadsim.catalog.models.Quantity` fields are replaced; the items are frozen
pydantic models, so the replacement copies each model along the field's path
(``model_copy(update=...)``) and the original items are never changed. A field is addressed by
the item id and the dotted path :func:`iter_quantities` gives it, e.g. ``pac-3-mse`` and
``envelopes.cruise.min_altitude``, ``pk.ballistic`` or ``antenna_height``.

Overrides are checked where they are applied (:class:`OverrideError` names the part at fault):
the item must exist, the path must be a number of that item, the unit must be the catalog's
(no silent conversion), values and alternatives must be finite, probabilities within [0, 1],
counts whole numbers >= 1, lengths, times and speeds >= 0 (> 0 where a zero would divide:
:data:`POSITIVE_FIELDS`), every value within its unit's physical range (:data:`UNIT_MAX`,
:data:`FIELD_RANGE`), and an envelope's or a radar's minimum may not exceed its maximum. The
catalog's own files obey the same rules (checked when they are loaded).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, overload

from pydantic import BaseModel, ValidationError

from iadsim.catalog.models import (
    CatalogItem,
    Interceptor,
    Quantity,
    QuantityOverride,
    Radar,
    System,
    Threat,
)
from iadsim.errors import CatalogError

#: fields (last path component) that must stay > 0: a zero would divide (the radar equation's
#: reference RCS and range, a scan period, a speed)
POSITIVE_FIELDS = frozenset(
    {"reference_rcs", "reference_detection_range", "scan_period", "average_speed", "speed", "rcs"}
)
#: units whose values are magnitudes (never negative)
NON_NEGATIVE_UNITS = frozenset({"km", "m", "s", "m2", "mps", "g", "ghz"})
#: the largest value of each unit (in that unit): beyond any real air-defence number, these
#: bounds keep an absurd figure (a typo, 1e300) from turning into overflows or empty results
UNIT_MAX = {"km": 100_000.0, "m": 1e8, "s": 1e6, "m2": 1e6, "mps": 12_000.0, "deg": 360.0,
            "year": 2100.0, "count": 1e6, "probability": 1.0, "ratio": 1e6, "g": 1_000.0,
            "ghz": 1_000.0}  # fmt: skip
#: the smallest value of the units that may be negative (radar elevation limits, years)
UNIT_MIN = {"deg": -360.0, "year": 1900.0}
#: (lower, upper) bounds of single fields (last path component) narrower than their unit's
FIELD_RANGE = {"min_elevation": (-90.0, 90.0), "max_elevation": (-90.0, 90.0),
               "azimuth_sector": (1e-9, 360.0)}  # fmt: skip
#: (minimum, maximum) field pairs under one parent path that must stay ordered
ORDERED_PAIRS = (("min_range", "max_range"), ("min_altitude", "max_altitude"),
                 ("min_elevation", "max_elevation"))  # fmt: skip


def iter_quantities(obj: object, path: str = "") -> Iterator[tuple[str, Quantity]]:
    """Every :class:`Quantity` inside ``obj`` (an item, envelope, dict or list) with its dotted
    field path, in declaration order, e.g. ``("envelopes.ballistic.max_range", q)``."""
    if isinstance(obj, Quantity):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from iter_quantities(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from iter_quantities(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from iter_quantities(value, f"{path}.{i}")


def quantity_paths(item: CatalogItem) -> list[str]:
    """The dotted paths of every number of ``item`` (what an override may address)."""
    return [p for p, _ in iter_quantities(item)]


def get_path(obj: Any, path: str) -> Any:
    """The value at dotted ``path`` inside a model (fields), dict (keys) or list (indices)."""
    for part in path.split("."):
        if isinstance(obj, BaseModel):
            obj = getattr(obj, part)
        elif isinstance(obj, dict):
            obj = obj[part]
        else:
            obj = obj[int(part)]
    return obj


def replace_path(obj: Any, path: str, value: Any) -> Any:
    """A copy of ``obj`` with the value at dotted ``path`` replaced; models are copied with
    ``model_copy(update=...)``, dicts and lists rebuilt, everything off the path shared."""
    head, _, rest = path.partition(".")
    if isinstance(obj, BaseModel):
        new = replace_path(getattr(obj, head), rest, value) if rest else value
        return obj.model_copy(update={head: new})
    if isinstance(obj, dict):
        new = replace_path(obj[head], rest, value) if rest else value
        return {**obj, head: new}
    items = list(obj)
    items[int(head)] = replace_path(items[int(head)], rest, value) if rest else value
    return type(obj)(items)


class OverrideError(CatalogError):
    """An override that cannot be applied. ``item`` and ``field`` say which; ``part`` is the
    part at fault: ``item`` (unknown id), ``field`` (not a number of the item), ``value``,
    ``unit`` or ``alternatives``."""

    def __init__(self, message: str, item: str, field: str | None = None, part: str = "item"):
        super().__init__(message)
        self.item, self.field, self.part = item, field, part

    def __reduce__(self):
        return (type(self), (self.args[0], self.item, self.field, self.part))


@dataclasses.dataclass(frozen=True)
class CatalogOverride:
    """One replaced number: ``quantity`` is used instead of the catalog's ``original``.
    ``exact`` is True for a what-if without alternatives or stated confidence (kept fixed by
    parameter uncertainty)."""

    item: str
    field: str
    quantity: Quantity
    original: Quantity
    exact: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record: item, field, value, unit, catalog_value, alternatives, source,
        confidence, exact."""
        q = self.quantity
        return {
            "item": self.item,
            "field": self.field,
            "value": q.value,
            "unit": q.unit,
            "catalog_value": self.original.value,
            "alternatives": [a.value for a in q.alternatives],
            "source": q.source,
            "confidence": q.confidence,
            "exact": self.exact,
        }


Overrides = Mapping[str, Mapping[str, Quantity | QuantityOverride | Mapping[str, Any]]]


def _close(word: str, pool: Iterable[str]) -> str:
    near = difflib.get_close_matches(word, list(pool), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""


def _as_override(item_id: str, path: str, spec: Any) -> tuple[Quantity, bool]:
    """(Quantity, exact) from a Quantity, a QuantityOverride or its dict form."""
    if isinstance(spec, Quantity):
        return spec, False
    if not isinstance(spec, QuantityOverride):
        try:
            spec = QuantityOverride.model_validate(spec)
        except ValidationError as exc:
            e = exc.errors()[0]
            part = str(e["loc"][0]) if e["loc"] else "value"
            part = part if part in ("value", "unit", "alternatives") else "value"
            raise OverrideError(
                f"override of {item_id} {path}: {e['msg']}", item_id, path, part
            ) from None
    return spec.to_quantity(), spec.exact


def check_quantity(item_id: str, path: str, q: Quantity, original: Quantity) -> None:
    """Raise :class:`OverrideError` if ``q`` cannot replace ``original`` (see the module
    docstring for the rules)."""
    where = f"{item_id} {path}"
    if q.unit != original.unit:
        raise OverrideError(
            f"unit {q.unit!r} differs from the catalog's {original.unit!r} for {where}; "
            f"give the value in {original.unit}",
            item_id, path, "unit",
        )  # fmt: skip
    field = path.rsplit(".", 1)[-1]
    for part, values in (("value", [q.value]), ("alternatives", [a.value for a in q.alternatives])):
        for v in values:
            if not math.isfinite(v):
                problem = "must be a finite number"
            elif q.unit == "probability" and not 0.0 <= v <= 1.0:
                problem = "is a probability: it must lie in [0, 1]"
            elif field == "detection_pd" and not 0.0 < v < 1.0:
                problem = "is the Pd of the reference range: it must lie strictly in (0, 1)"
            elif q.unit == "count" and not (v >= 1 and float(v).is_integer()):
                problem = "is a count: it must be a whole number >= 1"
            elif field in POSITIVE_FIELDS and not v > 0:
                problem = "must be > 0"
            elif q.unit in NON_NEGATIVE_UNITS and not v >= 0:
                problem = "must be >= 0"
            elif field in FIELD_RANGE and not FIELD_RANGE[field][0] <= v <= FIELD_RANGE[field][1]:
                lo, hi = FIELD_RANGE[field]
                problem = f"must lie in [{lo:g}, {hi:g}] {q.unit}"
            elif not UNIT_MIN.get(q.unit, -math.inf) <= v <= UNIT_MAX.get(q.unit, math.inf):
                lo = UNIT_MIN.get(q.unit, 0.0)
                problem = f"must lie in [{lo:g}, {UNIT_MAX[q.unit]:g}] {q.unit}"
            else:
                continue
            raise OverrideError(f"{where}: {part} {v:g} {problem}", item_id, path, part)


def _check_order(item_id: str, item: CatalogItem, changed: Iterable[str]) -> None:
    """A minimum above its maximum (envelope ranges and altitudes, radar elevations)."""
    for path in changed:
        parent, _, field = path.rpartition(".")
        for lo, hi in ORDERED_PAIRS:
            if field not in (lo, hi):
                continue
            base = f"{parent}." if parent else ""
            try:
                q_lo, q_hi = get_path(item, base + lo), get_path(item, base + hi)
            except (AttributeError, KeyError, IndexError, ValueError):
                continue
            if q_lo.si > q_hi.si:
                raise OverrideError(
                    f"{item_id} {path}: {base + lo} ({q_lo.value:g} {q_lo.unit}) would exceed "
                    f"{base + hi} ({q_hi.value:g} {q_hi.unit}); keep the minimum below the "
                    "maximum",
                    item_id, path, "value",
                )  # fmt: skip


class Catalog:
    """An immutable view of catalog items by id, optionally with overridden numbers.

    ``get(id, kind)`` and ``items(kind)`` behave like the module-level
    :func:`iadsim.catalog.get` and :func:`iadsim.catalog.items` (which use the base catalog);
    ``with_overrides`` returns a new view. ``overrides`` lists what was replaced.
    """

    __slots__ = ("_items", "_overrides")

    def __init__(
        self, items: Mapping[str, CatalogItem], overrides: Iterable[CatalogOverride] = ()
    ) -> None:
        self._items = items if isinstance(items, MappingProxyType) else MappingProxyType(items)
        self._overrides = tuple(overrides)

    def __getstate__(self):
        return dict(self._items), self._overrides

    def __setstate__(self, state) -> None:
        self._items, self._overrides = MappingProxyType(state[0]), state[1]

    def __getitem__(self, item_id: str) -> CatalogItem:
        return self._items[item_id]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Catalog({len(self)} items, {len(self._overrides)} overrides)"

    @property
    def overrides(self) -> tuple[CatalogOverride, ...]:
        """Every replaced number, in the order applied (a later one on the same field wins)."""
        return self._overrides

    def override(self, item_id: str, path: str) -> CatalogOverride | None:
        """The override in force on ``item_id`` ``path`` (None: the catalog's number)."""
        for o in reversed(self._overrides):
            if o.item == item_id and o.field == path:
                return o
        return None

    def items(self, kind: str | None = None) -> list[CatalogItem]:
        """Catalog items, optionally of one kind (system, radar, interceptor, threat)."""
        return [i for i in self._items.values() if kind is None or i.kind == kind]

    @overload
    def get(self, item_id: str, kind: Literal["radar"]) -> Radar: ...
    @overload
    def get(self, item_id: str, kind: Literal["system"]) -> System: ...
    @overload
    def get(self, item_id: str, kind: Literal["interceptor"]) -> Interceptor: ...
    @overload
    def get(self, item_id: str, kind: Literal["threat"]) -> Threat: ...
    @overload
    def get(
        self, item_id: str, kind: tuple[Literal["system"], Literal["radar"]]
    ) -> System | Radar: ...
    @overload
    def get(self, item_id: str, kind: str | Iterable[str] | None = None) -> CatalogItem: ...
    def get(self, item_id: str, kind: str | Iterable[str] | None = None) -> CatalogItem:
        """Look up an item by id; ``kind`` restricts the accepted kinds (the return type
        follows it: ``get(id, "radar")`` is a :class:`Radar`).

        Raises :class:`CatalogError` naming the known ids when the id is unknown.
        """
        kinds = {kind} if isinstance(kind, str) else (set(kind) if kind else None)
        item = self._items.get(item_id.lower())
        if item is None or (kinds and item.kind not in kinds):
            pool = sorted(i for i, it in self._items.items() if not kinds or it.kind in kinds)
            what = "/".join(sorted(kinds)) if kinds else "catalog item"
            raise CatalogError(
                f"unknown {what} {item_id!r}; known: {', '.join(pool)} (see `iadsim catalog list`)"
            )
        return item

    def quantity(self, item_id: str, path: str) -> Quantity:
        """The number at ``path`` of item ``item_id`` (overrides applied)."""
        q = get_path(self.get(item_id), path)
        if not isinstance(q, Quantity):
            raise CatalogError(f"{item_id} {path} is not a number of the item")
        return q

    def with_overrides(self, overrides: Overrides) -> Catalog:
        """A new view with numbers replaced: ``{item_id: {dotted_path: quantity}}``, each
        quantity a :class:`Quantity`, a :class:`QuantityOverride` or its dict form
        (``{value, unit, alternatives, source, confidence}``). Raises
        :class:`OverrideError` (see the module docstring for the checks)."""
        items = dict(self._items)
        records = list(self._overrides)
        for item_id, fields in overrides.items():
            if item_id not in items:
                raise OverrideError(
                    f"unknown catalog item {item_id!r}; {_close(item_id, items)}"
                    "(see `iadsim catalog list`)",
                    item_id,
                )
            item = items[item_id]
            paths = quantity_paths(item)
            for path, spec in fields.items():
                if path not in paths:
                    raise OverrideError(
                        f"{path!r} is not a number of {item_id}; {_close(path, paths)}"
                        f"its numbers: {', '.join(paths)}",
                        item_id, path, "field",
                    )  # fmt: skip
                q, exact = _as_override(item_id, path, spec)
                original = get_path(self[item_id] if item_id in self else item, path)
                check_quantity(item_id, path, q, original)
                item = replace_path(item, path, q)
                records.append(CatalogOverride(item_id, path, q, original, exact))
            _check_order(item_id, item, fields)
            items[item_id] = item
        return Catalog(items, records)
