"""``iadsim check``: every check and lint of a scenario, without simulating.

Thin over :func:`iadsim.scenario.load_scenario` (the schema: an error stops with one located
line, exit code 2) and :func:`iadsim.checks.check_scenario` (what is legal but doubtful: one
``warning:`` line each, exit code 0).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from iadsim.cli.coverage_cmd import print_warnings
from iadsim.errors import IadsimWarning


def check(scenario: Path = typer.Argument(..., help="scenario YAML file")) -> None:
    """Check a scenario without simulating: schema, catalog ids, ranges, and lints.

    Errors (exit code 2, one located line): anything the scenario loader refuses, and a
    raid its threat cannot fly. Warnings (exit code 0, one 'warning:' line each): no raids;
    a raid whose threats launch or arrive after time.duration_s; a raid flown beyond its
    threat's catalog class; a sector radar facing away from every raid; a DEM that does not
    cover a raid or a site, or holds impossible heights.

    Example: iadsim check examples/raid_patriot_networked.yaml
    """
    from iadsim.checks import check_scenario  # lazy: CLI start-up
    from iadsim.scenario import load_scenario  # lazy: CLI start-up

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            scn = load_scenario(scenario)
            check_scenario(scn)
    finally:
        print_warnings(caught)
    threats = sum(r.count for r in scn.raids)
    n_warn = sum(issubclass(w.category, IadsimWarning) for w in caught)
    counts = ", ".join(
        _plural(n, word)
        for n, word in ((len(scn.sites), "site"), (len(scn.raids), "raid"), (threats, "threat"))
    )
    typer.echo(f"{scenario}: {counts}: no errors, {_plural(n_warn, 'warning')}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def register(app: typer.Typer) -> None:
    """Add ``iadsim check`` to the app."""
    app.command("check")(check)
