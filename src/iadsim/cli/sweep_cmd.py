"""``iadsim sweep``: one Monte Carlo job over the cross product of scenario settings.

Thin over :func:`iadsim.sweeps.sweep`; the progress bar, warnings and provenance are those of
``iadsim run``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from iadsim.cli.sim_cmd import _fmt, _LazyBar, job_console, reproducing_command

_HEAD = {
    "leakers_per_run": "leakers/run",
    "p_raid_defeated": "P(defeated)",
    "interceptors_spent_per_run": "interceptors/run",
    "mean_warning_time_s": "warning (s)",
}


def wide_console() -> Console:
    """A console as wide as the terminal, or 160 columns in a pipe or a log (rich's 80 would
    fold a sweep's table)."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console


def sweep_table(table: pd.DataFrame, paths: list[str], title: str) -> Table:
    """A rich table of a sweep: one row per variant, its settings, the key metrics with
    their 95 % intervals."""
    from iadsim.sweeps import short_names  # lazy: CLI start-up

    out = Table(title=escape(title))
    out.add_column("#", justify="right")
    for head in short_names(paths):
        out.add_column(escape(head))
    metrics = [m for m in _HEAD if m in table]
    for m in metrics:
        out.add_column(_HEAD[m] + " [95% CI]", justify="right")
    for r in table.to_dict("records"):
        cells = [str(r["variant"])] + [escape(str(r.get(p, ""))) for p in paths]
        for m in metrics:
            v, lo, hi = r[m], r[f"{m} ci_low"], r[f"{m} ci_high"]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("-")
            elif lo is None or (isinstance(lo, float) and math.isnan(lo)):
                cells.append(_fmt(v))
            else:
                cells.append(f"{_fmt(v)} [{_fmt(lo)}, {_fmt(hi)}]")
        out.add_row(*cells)
    return out


def sweep_command(
    scenario: Path = typer.Argument(..., help="scenario YAML file (the base of every variant)"),
    vary: list[str] = typer.Option(
        ...,
        "--vary",
        help="PATH=V1,V2,...: a setting and its values; repeat for a cross product. PATH is "
        "dotted into the scenario as written (sites.0.heading_deg, sites.SITE_ID.lat, "
        "networks.NET_ID.mode, time.duration_s) or catalog_overrides.ITEM.FIELD (a catalog "
        "number in its unit, e.g. catalog_overrides.pac-3-mse.pk.cruise=0.6,0.8)",
    ),
    out: Path = typer.Option(
        ..., "--out", help="directory for results.duckdb, summary.json, sweep.csv, sweep.png"
    ),
    runs: int = typer.Option(100, "--runs", help="Monte Carlo replications of each variant"),
    seed: int = typer.Option(
        0, "--seed", help="master seed: run i of every variant draws run i's numbers"
    ),
    workers: int = typer.Option(1, "--workers", help="worker processes (1: in this process)"),
    backend: str = typer.Option("local", "--backend", help="local | dask"),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: a local cluster "
        "of --workers processes); docs/results.md shows a multi-machine cluster",
    ),
    parameter_uncertainty: bool = typer.Option(
        False,
        "--parameter-uncertainty",
        help="every run draws every uncertain catalog number (a swept number stays fixed at "
        "its variant's value)",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="continue the interrupted sweep in --out (same scenario, --vary, --seed, --runs, "
        "options): run only the runs it lacks",
    ),
) -> None:
    """Run a scenario's variants (the cross product of the --vary settings) as one resumable
    Monte Carlo job; write one results store with a variant column, summary.json, sweep.csv
    and sweep.png to --out.

    Run i of every variant draws the random numbers of run i of 'iadsim run' with the same
    seed (common random numbers): a variant's numbers are those of 'iadsim run' on it, for any
    --workers or backend, and variants differ by their settings, not by luck.

    Example: iadsim sweep examples/raid_patriot_networked.yaml --vary
    networks.nato-iamd.mode=cued,engage_on_remote --vary
    catalog_overrides.pac-3-mse.pk.cruise=0.6,0.8 --runs 100 --workers 2 --out out/sweep
    """
    from iadsim.sweeps import as_varies, sweep, variant_settings  # lazy: CLI start-up

    varies = as_varies(vary)
    n_var = len(variant_settings(varies))
    cost = (
        f"sweep: {n_var} variant{'s' * (n_var != 1)} x {runs} runs = {n_var * runs:,} runs "
        f"({', '.join(f'{len(v.values)} values of {v.path}' for v in varies)})"
    )
    bar = _LazyBar(n_var * runs)

    def progress(done: int, total: int) -> None:
        if bar.first_done is None:  # the variants are valid and prepared: the runs start
            typer.echo(cost)
        bar.update(done, total)

    with job_console(out, bar, "sweep"):
        result = sweep(
            scenario,
            varies,
            runs=runs,
            seed=seed,
            workers=workers,
            out_dir=out,
            progress=progress,
            backend=backend,
            scheduler=scheduler,
            parameter_uncertainty=parameter_uncertainty,
            resume=resume,
            command=reproducing_command(sys.argv[1:]),
        )
    if resume:
        before = bar.first_done or 0
        typer.echo(
            f"resumed the sweep in {out}: {before} of {n_var * runs} runs were committed "
            f"before, {n_var * runs - before} run now"
        )
    title = f"{result.meta['scenario']} — {n_var} variants x {runs} runs, seed {seed}"
    wide_console().print(sweep_table(result.table(), [v.path for v in varies], title))
    typer.echo(
        f"wrote {out / 'results.duckdb'} (tables with a variant column; table variants), "
        f"{out / 'summary.json'}, {out / 'sweep.csv'} and {out / 'sweep.png'}"
    )


def register(app: typer.Typer) -> None:
    """Add this module's command to the app."""
    app.command("sweep")(sweep_command)
