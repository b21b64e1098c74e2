"""``iadsim catalog``: browse the cited system catalog (systems, radars, interceptors, threats).

Thin over :mod:`iadsim.catalog`: ``list`` prints one row per item with its key figures, ``show``
prints every number with unit, source, confidence and the alternatives other sources give.
Both take ``--json`` for machine-readable output.
"""

from __future__ import annotations

import json
from enum import StrEnum

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from iadsim import catalog
from iadsim.catalog import (
    CatalogItem,
    Interceptor,
    Quantity,
    Radar,
    SourcedChoice,
    System,
    Threat,
)

catalog_app = typer.Typer(
    name="catalog",
    help="Browse the system catalog: every number with its unit, public source, confidence "
    "and the values other sources give. Examples: `iadsim catalog list --kind system`, "
    "`iadsim catalog show s-400`.",
    no_args_is_help=True,
)


class Kind(StrEnum):
    system = "system"
    radar = "radar"
    interceptor = "interceptor"
    threat = "threat"


def _fmt(q: Quantity | None) -> str:
    """'400 km' (value without a trailing .0, then the unit)."""
    if q is None:
        return "-"
    unit = {"count": "", "probability": "", "year": "", "mps": "m/s", "m2": "m²"}.get(
        q.unit, q.unit
    )
    return f"{q.value:g} {unit}".strip()


def key_figures(item: CatalogItem) -> str:
    """One line of the figures a reader looks for first, per kind."""
    if isinstance(item, System):
        return (
            f"{_fmt(item.headline_max_range)}, {_fmt(item.headline_max_altitude)} alt; "
            f"since {_fmt(item.in_service)}; {'/'.join(item.target_classes)}; "
            f"NATO {'yes' if item.nato_interoperable else 'no'}"
        )
    if isinstance(item, Radar):
        return (
            f"{item.role}, {item.band.split(' ')[0]}-band; {_fmt(item.reference_detection_range)} "
            f"on {_fmt(item.reference_rcs)} at Pd {_fmt(item.detection_pd)} "
            f"(max {_fmt(item.instrumented_range)})"
        )
    if isinstance(item, Interceptor):
        parts = [
            f"{cls} {_fmt(env.max_range)}/{_fmt(env.max_altitude)}"
            for cls, env in item.envelopes.items()
        ]
        return "; ".join(parts) + f"; {item.terminal_seeker.value} seeker"
    if isinstance(item, Threat):
        return (
            f"{item.target_class}; RCS {_fmt(item.rcs)}; {_fmt(item.speed)}; "
            f"{_fmt(item.cruise_altitude)} {'apogee' if item.category == 'ballistic-missile' else 'alt'}"
        )
    return ""


@catalog_app.command("list")
def list_items(
    kind: Kind | None = typer.Option(None, "--kind", "-k", help="Only items of this kind."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array instead of a table."),
) -> None:
    """List catalog items (id, kind, name, key figures); `*` marks illustrative items."""
    rows = catalog.items(kind.value if kind else None)
    if as_json:
        out = [
            {
                "id": i.id,
                "kind": i.kind,
                "name": i.name,
                "country": i.country,
                "illustrative": i.illustrative,
                "key_figures": key_figures(i),
            }
            for i in rows
        ]
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    table = Table(title="iadsim catalog (* = illustrative, relies on planning estimates)")
    for col in ("id", "kind", "name", "key figures"):
        table.add_column(col, overflow="fold")
    for i in sorted(rows, key=lambda it: (list(Kind.__members__).index(it.kind), it.id)):
        table.add_row(i.id + ("*" if i.illustrative else ""), i.kind, i.name, key_figures(i))
    Console().print(table)


@catalog_app.command("show")
def show_item(
    item_id: str = typer.Argument(..., metavar="ID", help="Catalog id, e.g. s-400, 40n6e."),
    as_json: bool = typer.Option(False, "--json", help="Print the full item as JSON."),
) -> None:
    """Show every field of one item: value, unit, source, confidence and alternatives (numbers
    and sourced categories such as an interceptor's terminal seeker)."""
    item = catalog.get(item_id)
    if as_json:
        typer.echo(json.dumps(item.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    console = Console()
    flag = "  [yellow](illustrative: relies on planning estimates)[/]" if item.illustrative else ""
    console.print(f"[bold]{item.name}[/]  ({item.kind} [cyan]{item.id}[/]){flag}")
    if item.country:
        console.print(f"country: {item.country}")
    if item.description:
        console.print(item.description)
    quantity_fields = {p.split(".")[0] for p, _ in catalog.iter_quantities(item)}
    for name in type(item).model_fields:
        if name in {"id", "kind", "name", "country", "description", "illustrative"}:
            continue
        value = getattr(item, name)
        if name in quantity_fields or value is None or isinstance(value, SourcedChoice):
            continue
        console.print(f"{name}: {_plain(value)}")
    table = Table(show_lines=True)
    for col in ("field", "value", "confidence", "source", "alternatives / note"):
        table.add_column(col, overflow="fold")
    for name in type(item).model_fields:
        value = getattr(item, name)
        if isinstance(value, SourcedChoice):
            table.add_row(name, *_cells(value, ""))
            continue
        for path, q in catalog.iter_quantities(value, name):
            table.add_row(path, *_cells(q, q.unit))
    console.print(table)


def _cells(q: Quantity | SourcedChoice, unit: str) -> tuple[str, str, str, str]:
    """Table cells value, confidence (basis), source, alternatives / note of a sourced number
    (shown with ``unit``) or category; square brackets in the texts are escaped so that rich
    prints them instead of reading them as markup."""

    def show(v: float | str) -> str:
        return f"{v:g} {unit}".strip() if isinstance(v, float) else str(v)

    alts = "; ".join(
        f"{show(a.value)} ({a.source}{' [' + a.basis + ']' if a.basis else ''}"
        f"{', ' + a.note if a.note else ''})"
        for a in q.alternatives
    )
    extra = "\n".join(s for s in (alts, q.note) if s)
    conf = q.confidence + (f" ({q.basis})" if q.basis else "")
    return show(q.value), conf, escape(q.source), escape(extra)


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def register(app: typer.Typer) -> None:
    """Add the ``catalog`` command group to the app."""
    app.add_typer(catalog_app, name="catalog")
