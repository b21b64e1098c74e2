"""``iadsim compare``: two or more deployments against a raid, and the report to publish.

Thin over :func:`iadsim.comparison.compare_scenarios` (coverage, Monte Carlo jobs, report).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from iadsim.cli.coverage_cmd import print_warnings
from iadsim.errors import IadsimWarning, InputError


class _Bars:
    """One rich progress bar per stage of the comparison (coverage, each job's runs, the
    report), started at a stage's first report, on stderr; none outside a terminal."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.console.is_terminal:
            return
        if self.progress is None:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.progress.start()
        if stage not in self.tasks:
            what = {"coverage": "coverage: one pass per site", "report": "report: maps, figures"}
            self.tasks[stage] = self.progress.add_task(escape(what.get(stage, stage)), total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _fmt(entry: dict | None, signed: bool = False, percent: bool = False) -> str:
    from iadsim.report.html_report import format_number  # lazy: CLI start-up

    if not entry or entry.get("value") is None:
        return "-"
    kind = ("pp" if signed else "probability") if percent else "count"
    text = format_number(entry["value"], kind, signed)
    if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        lo = format_number(entry["ci_low"], kind, signed, unit=False)
        hi = format_number(entry["ci_high"], kind, signed, unit=False)
        text += f" [{lo}, {hi}]"
    return text


def compare(
    scenarios: list[Path] = typer.Argument(
        ...,
        help="two or more scenario YAML files, one per deployment, usually facing the same "
        "raid; the first is the reference the others are compared with",
        show_default=False,
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="output folder: report.html, report.json, figures/ and one folder per deployment "
        "(results.duckdb, summary.json, coverage/, raid-map.png)",
    ),
    labels: str | None = typer.Option(
        None,
        "--labels",
        help="names of the deployments, comma-separated, in the order of the files (default: "
        "the file names), e.g. --labels 'S-400 standalone,Patriot networked'",
    ),
    runs: int = typer.Option(200, "--runs", help="Monte Carlo runs per deployment"),
    seed: int = typer.Option(
        0,
        "--seed",
        help="master seed, the same for every deployment: run i of each draws the same random "
        "streams (common random numbers), so the differences are paired run by run",
    ),
    workers: int = typer.Option(2, "--workers", help="worker processes"),
    altitudes_m: str = typer.Option(
        "100,1000,10000", "--altitudes-m", help="coverage altitudes in metres, comma-separated"
    ),
    agl: bool | None = typer.Option(
        None,
        "--agl/--amsl",
        help="coverage altitudes above ground level or above mean sea level (default: above "
        "ground when the coverage uses a DEM, else AMSL)",
        show_default=False,
    ),
    threat: str | None = typer.Option(
        None,
        "--threat",
        help="threat catalog id of the coverage maps (default: the air-breathing threat the "
        "raid holds most of, else fighter-4gen)",
    ),
    resolution_km: float = typer.Option(
        2.0, "--resolution-km", help="coverage cell size in km (coarser is faster)"
    ),
    dem: Path | None = typer.Option(
        None,
        "--dem",
        help="GeoTIFF DEM for the coverage maps (overrides the scenarios' environment.dem "
        "there); the raids are simulated on each scenario's own environment.dem",
    ),
    parameter_uncertainty: bool = typer.Option(
        False,
        "--parameter-uncertainty",
        help="every run draws every uncertain catalog number the scenario uses (value, "
        "alternatives, confidence): the intervals include what the public figures leave open",
    ),
    sensitivity: bool = typer.Option(
        False,
        "--sensitivity",
        help="also rank the catalog numbers the difference in leakers hinges on, flagged by "
        "source quality (implies --parameter-uncertainty; needs --runs 20 or more)",
    ),
) -> None:
    """Compare two or more deployments facing a raid and write a report to publish.

    Computes each deployment's coverage at --altitudes-m (on one grid, with difference maps),
    runs each scenario --runs times with the same --seed, and writes OUT/report.html (one
    self-contained page that opens offline: the answer in a summary, outcomes with 95 %
    intervals and the differences with theirs, coverage maps, where and why the deployments
    differ, the scenarios, and every catalog number used with its source), OUT/report.json
    (every figure of the page) and each deployment's results folder. Examples are
    illustrative.

    Example: iadsim compare examples/raid_s400_standalone.yaml
    examples/raid_patriot_networked.yaml --labels 'S-400 standalone,Patriot networked' --out
    out/cmp
    """
    from iadsim.cli.sim_cmd import reproducing_command  # lazy: CLI start-up
    from iadsim.comparison import compare_scenarios, parse_altitudes  # lazy: CLI start-up

    if len(scenarios) < 2:
        raise InputError(
            f"compare needs two or more scenario files (A.yaml B.yaml ...), got "
            f"{len(scenarios)}; see 'iadsim compare --help'"
        )
    names = None if labels is None else labels.split(",")
    alts = parse_altitudes(altitudes_m)
    bars = _Bars()
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            rep = compare_scenarios(
                scenarios, out, labels=names, runs=runs, seed=seed, workers=workers,
                altitudes_m=alts, agl=agl, dem=dem, threat=threat, resolution_km=resolution_km,
                parameter_uncertainty=parameter_uncertainty, sensitivity=sensitivity,
                progress=bars, command=reproducing_command(sys.argv[1:]),
            )  # fmt: skip
    finally:
        bars.stop()
        print_warnings(caught)
    data = rep.data
    console = Console()
    table = Table(title=escape(data["title"]) + " (95 % intervals)")
    table.add_column("outcome")
    for lb in data["labels"]:
        table.add_column(escape(lb), justify="right")
    for lb in data["labels"][1:]:
        table.add_column(escape(f"{lb} − {data['reference']}"), justify="right")
    for row in data["outcomes"]:
        prob = row["kind"] == "probability"
        cells = [_fmt(row["values"].get(lb), percent=prob) for lb in data["labels"]]
        for lb in data["labels"][1:]:
            d = row["differences"].get(lb)
            cells.append(
                _fmt(d, signed=True, percent=prob) + (" *" if d and d["significant"] else "")
            )
        table.add_row(escape(row["name"]), *(escape(c) for c in cells))
    table.caption = "* the difference's 95 % interval excludes 0 (significant at the 5 % level)"
    console.print(table)
    for para in data["summary"]["text"].split("\n\n"):
        console.print(escape(para), soft_wrap=False)
        console.print()
    typer.echo(f"wrote {rep.html} (open it in a browser; it needs no network)")
    typer.echo(f"wrote {rep.json}, {out / 'figures'}/ and " + ", ".join(
        str(out / d) + "/" for d in data["files"]["deployments"].values()))  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``iadsim compare`` to the app. :func:`iadsim.comparison.compare_scenarios` checks
    and locks --out itself, right after checking the options and before any work."""
    app.command("compare")(compare)
