"""``iadsim run`` (Monte Carlo of a raid scenario) and ``iadsim results`` (read a store back).

Both are thin over :func:`iadsim.api.run` and :mod:`iadsim.results.store`.
"""

from __future__ import annotations

import shlex
import sys
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from iadsim.cli.coverage_cmd import print_warnings
from iadsim.errors import IadsimWarning, InputError

#: options of ``iadsim run`` that change no number of the results (where and how the job runs):
#: left out of the command recorded as the job's provenance, so that summary.json is the same
#: for any --workers, backend, output directory and after --resume
_EXECUTION_OPTIONS = {"--out": True, "--workers": True, "--backend": True, "--scheduler": True,
                      "--resume": False, "--map": False}  # fmt: skip


def reproducing_command(argv: list[str]) -> str:
    """The command line ``argv`` (without the program name) as ``iadsim ...`` text, less the
    options of :data:`_EXECUTION_OPTIONS` (with their values): the command that reproduces
    the job's numbers."""
    out, skip = ["iadsim"], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _EXECUTION_OPTIONS:
            skip = _EXECUTION_OPTIONS[name] and "=" not in arg
            continue
        out.append(arg)
    return shlex.join(out)


# Per-threat metrics are many; the console table shows the headline rows only.
_PER_THREAT_PREFIXES = ("first_detection_s[", "warning_time_s[")


def _fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:,.0f}"


def summary_table(summary: dict, title: str) -> Table:
    """A rich table of the headline metrics of a summary dict."""
    table = Table(title=escape(title))
    for col, justify in (
        ("metric", "left"),
        ("value", "right"),
        ("95% CI", "right"),
        ("n", "right"),
    ):
        table.add_column(col, justify=justify)
    hidden = 0
    for name, m in summary["metrics"].items():
        if name.startswith(_PER_THREAT_PREFIXES):
            hidden += 1
            continue
        ci = "-" if m["ci_low"] is None else f"[{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]"
        table.add_row(escape(name), _fmt(m["value"]), ci, str(m["n"]))
    if hidden:
        table.caption = f"{hidden} per-threat rows (first detection, warning time) in summary.json"
    return table


def override_lines(records: list[dict]) -> list[str]:
    """One line per catalog override (records as in ``summary.json``), e.g.
    ``catalog override: pac-3-mse envelopes.cruise.min_altitude = 30 m (catalog 50 m; ...)``."""
    out = []
    for r in records:
        extra = [f"catalog {r['catalog_value']:g} {r['unit']}"]
        if r.get("alternatives"):
            extra.append("alternatives " + ", ".join(f"{a:g}" for a in r["alternatives"]))
        extra.append("exact what-if" if r.get("exact") else f"confidence {r['confidence']}")
        extra.append(f"source: {r['source']}")
        out.append(
            f"catalog override: {r['item']} {r['field']} = {r['value']:g} {r['unit']} "
            f"({'; '.join(extra)})"
        )
    return out


class _LazyBar:
    """A rich progress bar on stderr, started at the first update (so that an error while
    loading the scenario prints one line, not a bar and a line)."""

    def __init__(self, total: int) -> None:
        self.total, self.progress, self.task = total, None, None
        self.console = Console(stderr=True)
        self.first_done: int | None = None  # runs done before this process started (resume)

    def update(self, done: int, total: int) -> None:
        if self.first_done is None:
            self.first_done = done
        if self.progress is None and not self.console.is_terminal:
            return  # no bar (nor its last frame) in logs and pipes
        if self.progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.progress.start()
            self.task = self.progress.add_task("runs", total=total)
        self.progress.update(self.task, completed=done)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def run_command(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    out: Path = typer.Option(..., "--out", help="directory for results.duckdb and summary.json"),
    runs: int = typer.Option(100, "--runs", help="number of Monte Carlo replications"),
    seed: int = typer.Option(0, "--seed", help="master seed; same seed -> same numbers"),
    workers: int = typer.Option(1, "--workers", help="worker processes (1: in this process)"),
    backend: str = typer.Option("local", "--backend", help="local | dask"),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (default: start a local cluster)"
    ),
    raid_map: bool = typer.Option(
        False, "--map", help="also draw run 0 (tracks, detections, intercepts, leaks): raid-map.png"
    ),
    parameter_uncertainty: bool = typer.Option(
        False,
        "--parameter-uncertainty",
        help="every run draws every uncertain catalog number the scenario uses (value, "
        "alternatives, confidence; docs/catalog.md#uncertainty-model): intervals include them",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="continue the interrupted job in --out (same scenario, --seed, --runs and options): "
        "run only the runs it lacks; the results are those of an uninterrupted job",
    ),
) -> None:
    """Run a raid scenario N times and write results.duckdb and summary.json to --out.

    Runs are committed to --out/results.partial.duckdb in chunks as they finish; a job
    interrupted in any way (Ctrl-C, kill -9, a crash) is continued with --resume. A second
    job into the same --out is refused while one runs.

    A 'warning:' line says when a threat was flown far outside its catalog class, or when
    threats were still flying at the end of the simulated time (unresolved: the raid is then
    not scored defeated; the line gives the time.duration_s that resolves them).

    Example: iadsim run examples/raid_patriot_networked.yaml --runs 500 --workers 2 --out out/p
    """
    from iadsim.api import run  # lazy: CLI start-up

    bar = _LazyBar(runs)  # appears once the scenario is loaded and prepared
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            rs = run(
                scenario,
                runs=runs,
                seed=seed,
                workers=workers,
                out_dir=out,
                progress=bar.update,
                backend=backend,
                scheduler=scheduler,
                parameter_uncertainty=parameter_uncertainty,
                resume=resume,
                command=reproducing_command(sys.argv[1:]),
            )
    except KeyboardInterrupt:
        from iadsim.results.store import PARTIAL_NAME  # lazy: CLI start-up

        bar.stop()
        if (out / PARTIAL_NAME).is_file():
            typer.echo(
                f"the runs committed so far are in {out / PARTIAL_NAME}: the same command with "
                "--resume continues the job",
                err=True,
            )
        raise
    finally:
        bar.stop()
        print_warnings(caught)  # also those given before an error
    s = rs.summary
    if resume:
        before = bar.first_done or 0
        typer.echo(
            f"resumed the job in {out}: {before} of {runs} runs were committed before, "
            f"{runs - before} run now"
        )
    for line in override_lines(rs.catalog_overrides):
        typer.echo(line)
    if parameter_uncertainty:
        params = rs.uncertain_parameters
        unsourced = sum(p["quality"] == "unsourced estimate" for p in params)
        typer.echo(
            f"parameter uncertainty: {len(params)} catalog numbers drawn in every run "
            f"({unsourced} unsourced estimates); the intervals include them; draws in "
            "results.duckdb, table parameter_draws"
        )
    Console().print(summary_table(s, f"{s['scenario']} — {runs} runs, seed {seed}"))
    typer.echo(f"wrote {out / 'results.duckdb'} and {out / 'summary.json'}")
    if raid_map:
        from iadsim.report.raidmap import plot_raid_map  # lazy: CLI start-up
        from iadsim.scenario import load_scenario  # lazy: CLI start-up

        with warnings.catch_warnings():  # the raids were sampled (and warned about) above
            warnings.simplefilter("ignore", IadsimWarning)
            png = plot_raid_map(load_scenario(scenario), rs.events, out / "raid-map.png")
        typer.echo(f"wrote {png}")


def results_command(
    directory: Path = typer.Argument(
        ..., help="directory written by 'iadsim run --out' or 'iadsim sweep --out'"
    ),
    sql: str | None = typer.Option(
        None,
        "--sql",
        help="SQL over tables runs, events, per_threat, summary, site_defaults, catalog_overrides, uncertain_parameters, parameter_draws, catalog_values, fire_units, meta (a sweep's: each with a variant column, and variants) (docs/results.md)",
    ),
) -> None:
    """Print the summary of a results directory (a sweep's: one row per variant), or the
    result of an SQL query over it."""
    import duckdb

    from iadsim.results.store import open_store, summary_dict  # lazy: CLI start-up

    con = open_store(directory)
    try:
        if sql is None:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            from iadsim.sweeps import read_sweep_table  # lazy: CLI start-up

            sweep = read_sweep_table(con)
            if sweep is not None:
                import json

                from iadsim.cli.sweep_cmd import sweep_table, wide_console  # lazy: CLI start-up

                paths = [v.split("=", 1)[0] for v in json.loads(meta.get("vary", "[]"))]
                title = (
                    f"{meta.get('scenario')} — {meta.get('variants')} variants x "
                    f"{meta.get('runs')} runs, seed {meta.get('seed')}"
                )
                wide_console().print(sweep_table(sweep, paths, title))
                return
            summary = summary_dict(con.execute("SELECT * FROM summary").df(), meta)
            title = f"{meta.get('scenario')} — {meta.get('runs')} runs, seed {meta.get('seed')}"
            Console().print(summary_table(summary, title))
            return
        try:
            rel = con.execute(sql)
            cols = [d[0] for d in (rel.description if rel is not None else None) or []]
            rows = rel.fetchall() if cols else []
        except duckdb.Error as exc:
            raise InputError(f"--sql: {exc}") from None
        if not cols:  # '' or ';': no statement, nothing to show
            raise InputError(
                f"--sql: {sql!r} holds no query; give one, e.g. "
                "--sql 'select kind, count(*) from events group by kind'"
            )
        table = Table()
        for c in cols:
            table.add_column(escape(c))
        for row in rows:
            table.add_row(*(escape("NULL" if v is None else str(v)) for v in row))
        Console(width=200).print(table)
    finally:
        con.close()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("run")(run_command)
    app.command("results")(results_command)
