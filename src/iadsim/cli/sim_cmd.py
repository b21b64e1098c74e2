"""``iadsim run`` (Monte Carlo of a raid scenario) and ``iadsim results`` (read a store back).

Both are thin over :func:`iadsim.api.run` and :mod:`iadsim.results.store`.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import warnings
from collections.abc import Iterator
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
                      "--resume": False, "--map": False, "--map-run": True}  # fmt: skip


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


@contextlib.contextmanager
def job_console(out: Path, bar: _LazyBar, noun: str = "job") -> Iterator[None]:
    """The console side of a Monte Carlo job in ``out`` (``iadsim run``, ``iadsim sweep``):
    iadsim's warnings collected and printed as one ``warning:`` line each when the job ends
    (also after an error), the progress bar stopped, and on Ctrl-C a line that names the
    partial store and ``--resume``."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            yield
    except KeyboardInterrupt:
        from iadsim.results.store import PARTIAL_NAME  # lazy: CLI start-up

        bar.stop()
        if (out / PARTIAL_NAME).is_file():
            typer.echo(
                f"the runs committed so far are in {out / PARTIAL_NAME}: the same command with "
                f"--resume continues the {noun}",
                err=True,
            )
        raise
    finally:
        bar.stop()
        print_warnings(caught)  # also those given before an error


def _map_run(text: str | None, runs: int) -> int | str | None:
    """``--map-run``: None (not given), ``"worst"`` or a run id of the job, checked before
    the job runs."""
    if text is None:
        return None
    if text.strip().lower() == "worst":
        return "worst"
    try:
        run_id = int(text)
    except ValueError:
        raise InputError(f"--map-run must be a run id or 'worst', got {text!r}") from None
    if run_id < 0 or (runs >= 1 and run_id >= runs):  # --runs < 1: api.run says so
        raise InputError(
            f"--map-run {run_id}: no such run; this job has runs 0 to {runs - 1} (--runs {runs})"
            ", or give 'worst'"
        )
    return run_id


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
        False,
        "--map",
        help="also draw one run (tracks, detections, intercepts, leaks): raid-map.png; run 0 "
        "unless --map-run says which",
    ),
    map_run: str | None = typer.Option(
        None,
        "--map-run",
        help="the run drawn on raid-map.png (implies --map): a run id in 0..runs-1, or 'worst' "
        "(the run with the most leakers; ties: the lowest run id)",
        show_default=False,
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

    --map draws run 0 on raid-map.png; --map-run N draws run N, --map-run worst the run with
    the most leakers (the lowest run id on ties).

    A 'warning:' line says when a threat was flown far outside its catalog class, or when
    threats were still flying at the end of the simulated time (unresolved: the raid is then
    not scored defeated; the line gives the time.duration_s that resolves them).

    Example: iadsim run examples/raid_patriot_networked.yaml --runs 500 --workers 2 --out out/p
    """
    from iadsim.api import run  # lazy: CLI start-up

    map_choice = _map_run(map_run, runs)
    raid_map = raid_map or map_choice is not None
    bar = _LazyBar(runs)  # appears once the scenario is loaded and prepared
    with job_console(out, bar):
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
        from iadsim.report.raidmap import plot_raid_map, worst_run  # lazy: CLI start-up
        from iadsim.scenario import load_scenario  # lazy: CLI start-up

        run_id, label = map_choice if map_choice is not None else 0, None
        if map_choice == "worst":
            run_id = worst_run(rs.runs)
            leakers = int(rs.runs.loc[rs.runs["run_id"] == run_id, "leakers"].iloc[0])
            label = f"run {run_id} of {runs} (the most leakers: {leakers})"
        with warnings.catch_warnings():  # the raids were sampled (and warned about) above
            warnings.simplefilter("ignore", IadsimWarning)
            png = plot_raid_map(load_scenario(scenario), rs.events, out / "raid-map.png",
                                run_id=int(run_id), run_label=label)  # fmt: skip
        typer.echo(f"wrote {png}: {label or f'run {run_id}'}")


#: formats of ``iadsim results --format``
RESULT_FORMATS = ("table", "csv", "json")
#: rows of a table shown when --limit is not given (csv and json: every row)
TABLE_LIMIT = 100


def _rows(cursor, limit: int | None, batch: int = 10_000):
    """The rows of a DuckDB result, at most ``limit`` (None: all), fetched in batches so that
    a large result is streamed, not held in memory."""
    left = limit
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        chunk = cursor.fetchmany(size)
        if not chunk:
            return
        yield from chunk
        if left is not None:
            left -= len(chunk)


def _count_rest(cursor, batch: int = 100_000) -> int:
    """Rows left in a DuckDB result (fetched and dropped batch by batch)."""
    n = 0
    while chunk := cursor.fetchmany(batch):
        n += len(chunk)
    return n


def _print_rows(columns, cursor, fmt: str, limit: int | None, what: str) -> None:
    """Print the rows of ``cursor`` (a DuckDB result, or an object with ``fetchmany``) in
    ``fmt``: at most ``limit`` rows (None: all); the table says how many it left out."""
    from iadsim.results import tabular  # lazy: CLI start-up

    if fmt == "csv":
        tabular.write_csv(columns, _rows(cursor, limit), sys.stdout)
        return
    if fmt == "json":
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        ascii_only = not encoding.lower().replace("-", "").startswith("utf")
        tabular.write_json(columns, _rows(cursor, limit), sys.stdout, ensure_ascii=ascii_only)
        return
    table = Table()
    for c in columns:
        table.add_column(escape(c))
    shown = 0
    for row in _rows(cursor, limit):
        table.add_row(*(escape(tabular.cell_text(v)) for v in row))
        shown += 1
    rest = _count_rest(cursor) if limit is not None else 0
    if rest:
        table.caption = (
            f"{shown} of {shown + rest} {what} shown: --limit N shows more, --limit 0 all, "
            "--format csv or json every row"
        )
    Console(width=200).print(table)


class _FrameRows:
    """A DataFrame's rows behind the ``fetchmany`` of a DuckDB result (pandas NaN as None)."""

    def __init__(self, frame) -> None:
        frame = frame.astype(object).where(frame.notna(), None)
        self.rows = iter(frame.itertuples(index=False, name=None))

    def fetchmany(self, size: int) -> list:
        import itertools

        return list(itertools.islice(self.rows, size))


def results_command(
    directory: Path = typer.Argument(
        ..., help="directory written by 'iadsim run --out' or 'iadsim sweep --out'"
    ),
    sql: str | None = typer.Option(
        None,
        "--sql",
        help="SQL over tables runs, events, per_threat, summary, site_defaults, catalog_overrides, uncertain_parameters, parameter_draws, catalog_values, fire_units, meta (a sweep's: each with a variant column, and variants) (docs/results.md)",
    ),
    fmt: str = typer.Option(
        "table",
        "--format",
        help="table | csv | json (a list of objects). Floats to 15 significant digits, "
        "no binary noise (0.1+0.2 -> 0.3); SQL NULL: NULL in the table, an empty CSV field, "
        "JSON null",
    ),
    limit: int | None = typer.Option(
        None,
        "--limit",
        help=f"print at most N rows (0: all). Default: {TABLE_LIMIT} for --format table (the "
        "caption says how many were left out), all for csv and json",
        show_default=False,
    ),
) -> None:
    """Print the summary of a results directory (a sweep's: one row per variant), or the
    result of an SQL query over it, as a table, CSV or JSON.

    Without --sql, csv and json hold every metric of the store's summary table (metric,
    value, ci_low, ci_high, n; a sweep's: the sweep table, one row per variant); the table
    shows the headline metrics.

    Example: iadsim results out/patriot --sql "select kind, count(*) as n from events group
    by kind" --format csv
    """
    import duckdb

    from iadsim.results.store import open_store, summary_dict  # lazy: CLI start-up

    if fmt not in RESULT_FORMATS:
        raise InputError(f"--format must be one of {', '.join(RESULT_FORMATS)}, got {fmt!r}")
    if limit is not None and limit < 0:
        raise InputError(f"--limit must be >= 0 (0: every row), got {limit}")
    rows_limit = (TABLE_LIMIT if fmt == "table" else None) if limit is None else (limit or None)
    con = open_store(directory)
    try:
        if sql is None:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            from iadsim.sweeps import read_sweep_table  # lazy: CLI start-up

            sweep = read_sweep_table(con)
            if sweep is not None and fmt != "table":
                _print_rows(list(sweep.columns), _FrameRows(sweep), fmt, rows_limit, "variants")
                return
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
            if fmt != "table":
                cur = con.execute(
                    "SELECT metric, value, ci_low, ci_high, n FROM summary ORDER BY rowid"
                )
                _print_rows([d[0] for d in cur.description], cur, fmt, rows_limit, "metrics")
                return
            summary = summary_dict(con.execute("SELECT * FROM summary").df(), meta)
            title = f"{meta.get('scenario')} — {meta.get('runs')} runs, seed {meta.get('seed')}"
            Console().print(summary_table(summary, title))
            return
        try:
            rel = con.execute(sql)
            cols = [d[0] for d in (rel.description if rel is not None else None) or []]
        except duckdb.Error as exc:
            raise InputError(f"--sql: {exc}") from None
        if not cols:  # '' or ';': no statement, nothing to show
            raise InputError(
                f"--sql: {sql!r} holds no query; give one, e.g. "
                "--sql 'select kind, count(*) from events group by kind'"
            )
        try:
            _print_rows(cols, rel, fmt, rows_limit, "rows")
        except duckdb.Error as exc:  # an error found while the rows are produced
            raise InputError(f"--sql: {exc}") from None
    finally:
        con.close()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("run")(run_command)
    app.command("results")(results_command)
