"""``iadsim coverage`` and ``iadsim vcd``: coverage maps and vertical coverage diagrams.

Thin over :mod:`iadsim.coverage` (``compute_coverage_multi``),
:mod:`iadsim.report.coverage_job` (``write_coverage_set``: the files and maps) and
:mod:`iadsim.report.vcd` (``write_vcd``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from iadsim.cli.outputs import writes_dir, writes_file
from iadsim.errors import DemCoverageWarning, IadsimWarning


def print_warnings(caught) -> None:
    """Print iadsim's own warnings (:class:`~iadsim.errors.IadsimWarning`: e.g. a DEM smaller
    than a site's reach) as one line each on stderr, each distinct message once (a raid map
    samples the raids again); re-issue the others."""
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, IadsimWarning):
            line = f"warning: {w.message}"
            if line not in seen:
                seen.add(line)
                typer.echo(line, err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def coverage(
    scenario: Path = typer.Argument(..., help="scenario YAML file (see examples/ankara.yaml)"),
    altitude_m: list[float] = typer.Option(
        ...,
        "--altitude-m",
        help="target altitude in metres (AMSL; above ground with --agl); "
        "repeat for several altitudes, e.g. --altitude-m 100 --altitude-m 10000",
    ),
    agl: bool = typer.Option(False, "--agl", help="altitudes are above ground level"),
    threat: str = typer.Option(
        "fighter-4gen", "--threat", help="threat catalog id: its RCS and target class"
    ),
    resolution_km: float = typer.Option(2.0, "--resolution-km", help="analysis cell size (km)"),
    dem: Path | None = typer.Option(
        None,
        "--dem",
        help="GeoTIFF DEM (overrides the scenario's environment.dem); terrain masks line of "
        "sight. Beyond the DEM's edge the ground is sea level: a warning says when a DEM holds "
        "less than 99% of a site's reach",
    ),
    fixed_sectors: bool = typer.Option(
        False,
        "--fixed-sectors",
        help="sector radars (e.g. AN/MPQ-65, 120 deg) look only around each site's heading_deg; "
        "by default they may be turned to face any azimuth",
    ),
    out: Path = typer.Option(..., "--out", help="output folder"),
) -> None:
    """Detection and engagement coverage of every site at the given target altitude(s).

    Writes coverage.geojson, coverage.tif, coverage.png and summary.json into OUT (one
    alt-<H>m subfolder per altitude, plus index.json, when several altitudes are given).

    Example: iadsim coverage examples/ankara.yaml --altitude-m 1000 --out out/ankara
    """
    from iadsim.coverage.analysis import compute_coverage_multi  # lazy: CLI start-up
    from iadsim.report.coverage_job import write_coverage_set  # lazy: CLI start-up
    from iadsim.scenario import load_scenario  # lazy: CLI start-up

    console = Console(stderr=True)
    scn = load_scenario(scenario)
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,  # no bar (nor its blank line) in logs and pipes
        ) as bar,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", DemCoverageWarning)
        task = bar.add_task("line of sight per site", total=len(scn.sites))
        results = compute_coverage_multi(
            scn,
            altitude_m,
            agl=agl,
            threat=threat,
            resolution_km=resolution_km,
            dem=dem,
            progress=lambda n: bar.advance(task, n),
            sectors=fixed_sectors,
        )
        bar.add_task("writing products", total=None)
        job = write_coverage_set(results, out)
    print_warnings(caught)
    table = Table(
        title=f"{scn.name}: coverage vs {threat}"
        + (" (terrain" if results[0].terrain else " (smooth Earth")
        + (", fixed sectors)" if fixed_sectors else ")")
    )
    for col in ("altitude", "site", "system", "detection km²", "engagement km²"):
        table.add_column(col, justify="right" if "km" in col else "left")
    for entry in job["altitudes"]:
        s = entry["summary"]
        alt = f"{s['altitude_m']:g} m {s['altitude_reference'].upper()}"
        for site in s["sites"]:
            table.add_row(
                alt,
                site["id"],
                site["system"],
                f"{site['detection_area_km2']:,.0f}",
                f"{site['engagement_area_km2']:,.0f}",
            )
        table.add_row(
            alt,
            "[b]union[/b]",
            "",
            f"{s['union']['detection_area_km2']:,.0f}",
            f"{s['union']['engagement_area_km2']:,.0f}",
            end_section=True,
        )
    out_console = Console()
    out_console.print(table)
    for entry in job["altitudes"]:
        s = entry["summary"]
        top = ", ".join(c["name"] for c in s["cities_covered"][:5]) or "none"
        out_console.print(
            f"{s['altitude_m']:g} m: {len(s['cities_covered'])} cities covered "
            f"(largest: {top}); files in {entry['dir']}"
        )
    out_console.print("Illustrative analysis from public data.")


def vcd(
    item: str = typer.Argument(..., help="catalog id of a system (e.g. s-400) or a radar"),
    threat: str = typer.Option("fighter-4gen", "--threat", help="threat catalog id"),
    k_factor: float = typer.Option(
        4 / 3, "--k-factor", help="effective-Earth factor k", show_default="4/3"
    ),
    antenna_height_m: float | None = typer.Option(
        None, "--antenna-height-m", help="antenna height (default: from the catalog)"
    ),
    out: Path = typer.Option(..., "--out", help="output PNG; the curves go to a .csv beside it"),
) -> None:
    """Vertical coverage diagram of a system or radar: ground range vs altitude.

    Draws each radar's horizon curve, its detection envelope for the threat's RCS and the
    engagement envelope of each interceptor for the threat's class, and writes the curves
    to a CSV beside the PNG. The axes fit the radar and the threat: ground range to the
    detection range for the threat, altitude to the threat's highest catalog altitude (a
    ballistic missile's apogee) or the radar horizon there (docs/coverage.md).

    Example: iadsim vcd s-400 --threat fighter-4gen --out out/vcd-s400.png
    """
    from iadsim.report.vcd import write_vcd  # lazy: CLI start-up

    res = write_vcd(item, out, threat=threat, k_factor=k_factor, antenna_height_m=antenna_height_m)
    meta = res["curves"]["meta"]
    ranges = ", ".join(f"{k} {v:.0f} km" for k, v in meta["detection_range_km"].items())
    typer.echo(
        f"{meta['name']} vs {meta['threat']} (RCS {meta['rcs_m2']:g} m²): detection {ranges}"
    )
    typer.echo(f"wrote {res['png']} and {res['csv']}")


def register(app: typer.Typer) -> None:
    """Add ``coverage`` and ``vcd`` to the app."""
    app.command("coverage")(writes_dir(coverage))
    app.command("vcd")(writes_file("vcd-s-400.png")(vcd))
