"""``iadsim sensitivity``: rank the uncertain catalog numbers that decide a scenario's outcome
(SALib Morris screening or Sobol indices), thin over :func:`iadsim.sensitivity_run.run_sensitivity`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from iadsim.cli.outputs import writes_dir
from iadsim.cli.sim_cmd import _LazyBar


def sensitivity_command(
    scenario: Path = typer.Argument(..., help="scenario YAML file (with raids)"),
    out: Path = typer.Option(..., "--out", help="directory for sensitivity.json/.csv/.png"),
    method: str = typer.Option("morris", "--method", help="morris (screening) | sobol"),
    metric: str = typer.Option(
        "leakers_per_run", "--metric", help="metric of the results store to explain"
    ),
    runs_per_point: int = typer.Option(
        10, "--runs-per-point", help="Monte Carlo runs averaged at each design point"
    ),
    n: int = typer.Option(
        4, "--n", help="Morris trajectories, or the Sobol base sample (power of two)"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the design and of the runs"),
    workers: int = typer.Option(1, "--workers", help="worker processes (1: in this process)"),
    backend: str = typer.Option("local", "--backend", help="local | dask"),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (default: start a local cluster)"
    ),
    top: int = typer.Option(10, "--top", help="parameters printed (all are in the files)"),
) -> None:
    """Which uncertain catalog numbers decide METRIC for SCENARIO.

    Every catalog number the scenario's run reads and whose value is uncertain (alternatives
    or confidence; docs/catalog.md "Uncertainty model") is a parameter. Morris costs
    n x (parameters + 1) points, Sobol about n x (parameters + 2); each point runs
    --runs-per-point simulations. Writes sensitivity.json, sensitivity.csv and
    sensitivity.png, and prints the top parameters with their source quality.

    The defaults (4 Morris trajectories, 10 runs per point) screen a shipped example in about
    2,700 runs (some 10 minutes of CPU, shared by --workers); the first line printed gives the
    cost before anything runs.

    Example: iadsim sensitivity examples/raid_s400_standalone.yaml --workers 2 --out out/sens
    """
    import json  # lazy: CLI start-up

    from iadsim.fileio import atomic_write_text  # lazy: CLI start-up
    from iadsim.report.sensitivity_plot import plot_sensitivity  # lazy: CLI start-up
    from iadsim.scenario import load_scenario  # lazy: CLI start-up
    from iadsim.sensitivity import describe_row, design_size  # lazy: CLI start-up
    from iadsim.sensitivity_run import result_payload, run_sensitivity  # lazy: CLI start-up
    from iadsim.uncertainty import uncertain_parameters  # lazy: CLI start-up

    scn = load_scenario(scenario)
    k = len(uncertain_parameters(scn))
    points = design_size(method, n, k)
    typer.echo(f"{method}: {k} uncertain catalog numbers, {points} design points x "
               f"{runs_per_point} runs = {points * runs_per_point:,} simulation runs")  # fmt: skip
    bar = _LazyBar(0)
    try:
        result = run_sensitivity(
            scn, method=method, metric=metric, runs_per_point=runs_per_point, n=n, seed=seed,
            workers=workers, backend=backend, scheduler=scheduler, progress=bar.update,
        )  # fmt: skip
    finally:
        bar.stop()
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "sensitivity.json", json.dumps(result_payload(result), indent=2))
    atomic_write_text(out / "sensitivity.csv", result.to_frame().to_csv(index=False))
    png = plot_sensitivity(result, out / "sensitivity.png", top=max(top, 10))
    table = Table(title=escape(f"{scn.name}: what decides {metric} ({method}, {k} parameters, "
                               f"{result.n_points} points x {runs_per_point} runs)"))  # fmt: skip
    table.add_column("rank", justify="right")
    table.add_column("parameter, span, index, source quality")
    for row in result.rows[:top]:
        flag = " [bold red](unsourced)[/]" if "unsourced" in row.get("quality", "") else ""
        table.add_row(str(row["rank"]), escape(describe_row(row)) + flag)
    Console().print(table)
    typer.echo(f"wrote {out / 'sensitivity.json'}, {out / 'sensitivity.csv'} and {png}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("sensitivity")(writes_dir(sensitivity_command))
