"""``iadsim demo``: the article's illustrative example, end to end.

1. Coverage of an S-400 battery near Ankara beside two Patriot batteries at 100 m, 1 km and
   10 km target altitude, once over a smooth 4/3 Earth (what range rings with a radar horizon
   show) and once over real terrain (NOAA GLOBE heights, targets above ground): maps, GeoJSON,
   GeoTIFF, summaries, and vertical coverage diagrams.
2. The same illustrative raid (cruise missiles low over the terrain, short- and medium-range
   ballistic missiles) flown N times against (a) one S-400 battery standalone and (b) three
   Patriot batteries networked with a forward AN/TPY-2, and the side-by-side numbers.
3. The comparison as the report of ``iadsim compare`` (:func:`iadsim.comparison.write_report`:
   report.html, report.json, figures/), from the runs of step 2 (nothing is run twice), with
   each deployment's coverage over the terrain at the demo's altitudes.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from iadsim.cli.coverage_cmd import print_warnings
from iadsim.cli.outputs import writes_dir
from iadsim.errors import IadsimWarning
from iadsim.examples import example_path
from iadsim.fileio import atomic_write_text

DEMO_ALTITUDES_M = (100.0, 1000.0, 10000.0)
#: fewest runs per deployment for which the demo ranks the numbers the difference hinges on
#: (a rank correlation over fewer runs cannot tell a decisive number from chance)
MIN_RUNS_DECISIVE = 20
DEMO_DEM = "anatolia-globe.tif"  # NOAA GLOBE heights shipped with the examples
RAIDS = {
    "S-400 standalone": ("raid_s400_standalone.yaml", "raid-s400-standalone"),
    "Patriot networked": ("raid_patriot_networked.yaml", "raid-patriot-networked"),
}


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _kkm2(area_km2: float) -> str:
    """An area in thousands of km², short enough for an 80-column table."""
    return f"{area_km2 / 1000:,.1f}"


def _fmt(v: float, lo: float, hi: float) -> str:
    if v != v:  # NaN: metric not applicable to this deployment
        return "-"
    if lo == lo and hi == hi and (lo, hi) != (v, v):
        return f"{v:.3g} [{lo:.3g}, {hi:.3g}]"
    return f"{v:.3g}"


def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="output folder"),
    runs: int = typer.Option(200, "--runs", min=1, help="Monte Carlo runs per deployment"),
    workers: int = typer.Option(2, "--workers", min=1, help="worker processes"),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed (same seed, same numbers)"),
    resolution_km: float = typer.Option(
        2.0, "--resolution-km", help="coverage cell size in km (coarser is faster)"
    ),
    parameter_uncertainty: bool = typer.Option(
        True,
        "--parameter-uncertainty/--nominal",
        help="every run draws the uncertain catalog numbers (intervals include them, and the "
        "demo names the numbers the comparison hinges on); --nominal: the catalog values only",
    ),
) -> None:
    """Run the illustrative example from the article and write everything to OUT.

    Coverage of an S-400 near Ankara beside Patriot batteries at 100 m, 1 km and 10 km, over a
    smooth Earth and over real terrain (NOAA GLOBE): maps, GeoJSON, GeoTIFF, summary.json,
    vertical coverage diagrams. Then one illustrative raid (cruise missiles low over the
    terrain, ballistic missiles) against an S-400 battery standalone and against three Patriot
    batteries networked with a forward AN/TPY-2, with Monte Carlo statistics side by side,
    written as the report of 'iadsim compare' (OUT/report.html: one page that opens offline;
    OUT/report.json). Each run draws every uncertain catalog number the raid uses (--nominal:
    catalog values only), so the intervals include what the public figures leave open, and
    the demo names the three numbers the difference in leakers hinges on, with their source
    quality. Positions, raid and many parameters are illustrative.
    """
    from iadsim.api import compare, run  # lazy: CLI start-up
    from iadsim.comparison import CompareJob, compute_coverage_set, write_report  # lazy: CLI
    from iadsim.report.coverage_job import run_coverage_job  # lazy: CLI start-up
    from iadsim.report.raidmap import plot_raid_map  # lazy: CLI start-up
    from iadsim.report.vcd import write_vcd  # lazy: CLI start-up
    from iadsim.scenario import load_scenario  # lazy: CLI start-up

    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, Path]] = []

    # 1. coverage: smooth Earth (horizon only) and terrain (GLOBE), same sites and altitudes
    scn = load_scenario(example_path("ankara.yaml"))
    cov_dir = out / "coverage"
    jobs = {}
    for kind, dem, agl in (("smooth", None, False), ("terrain", example_path(DEMO_DEM), True)):
        with _progress(console) as bar, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            task = bar.add_task(f"coverage ({kind}): one pass per site", total=len(scn.sites))
            jobs[kind] = run_coverage_job(
                scn,
                altitudes_m=DEMO_ALTITUDES_M,
                resolution_km=resolution_km,
                out_dir=cov_dir / kind,
                agl=agl,
                dem=dem,
                vcd="s-400" if kind == "smooth" else False,
                progress=lambda n, t=task: bar.advance(t, n),
            )
        print_warnings(caught)
    vcd_patriot = write_vcd("patriot", cov_dir / "smooth" / "vcd-patriot.png")
    table = Table(
        title=f"{scn.name}: coverage vs fighter-4gen, smooth 4/3 Earth vs GLOBE terrain (1,000 km²)",
        pad_edge=False,  # fits 80 columns
    )
    for col in ("altitude", "site", "system"):
        table.add_column(col, no_wrap=True)
    for col in ("detect\nsmooth", "detect\nterrain", "engage\nsmooth", "engage\nterrain"):
        table.add_column(col, justify="right", min_width=7)
    for smooth, terrain in zip(
        jobs["smooth"]["altitudes"], jobs["terrain"]["altitudes"], strict=True
    ):
        alt = f"{smooth['altitude_m']:g} m"
        rows = list(zip(smooth["summary"]["sites"], terrain["summary"]["sites"], strict=True))
        for a, b in rows:
            table.add_row(
                alt, a["id"], a["system"],
                *(_kkm2(x[k]) for k in ("detection_area_km2",) for x in (a, b)),
                *(_kkm2(x[k]) for k in ("engagement_area_km2",) for x in (a, b)),
            )  # fmt: skip
        ua, ub = smooth["summary"]["union"], terrain["summary"]["union"]
        table.add_row(
            alt, "[b]union[/b]", "",
            *(_kkm2(x["detection_area_km2"]) for x in (ua, ub)),
            *(_kkm2(x["engagement_area_km2"]) for x in (ua, ub)),
            end_section=True,
        )  # fmt: skip
        written.append((f"coverage at {alt}, smooth Earth", smooth["dir"]))
        written.append((f"coverage at {alt} above ground, terrain", terrain["dir"]))
    console.print(table)
    console.print(
        "smooth: targets at the altitude over a sea-level 4/3 Earth; terrain: targets at the "
        "height above the GLOBE ground, sites on the ground, hills mask line of sight. Sector "
        "radars may face any azimuth here ('iadsim coverage --fixed-sectors' fixes them at "
        "heading_deg, as the raid simulation does)"
    )
    written.append(("vertical coverage diagram, S-400", Path(jobs["smooth"]["vcd"]["png"])))
    written.append(("vertical coverage diagram, Patriot", Path(vcd_patriot["png"])))

    # 2. the raid against both deployments
    results, scenarios, maps = {}, {}, {}
    for label, (fname, dirname) in RAIDS.items():
        scn_raid = load_scenario(example_path(fname))  # loaded once: the run, map and report
        scenarios[label] = scn_raid
        with _progress(console) as bar, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            task = bar.add_task(f"raid vs {label}", total=runs)
            results[label] = run(
                scn_raid,
                runs=runs,
                seed=seed,
                workers=workers,
                out_dir=out / dirname,
                parameter_uncertainty=parameter_uncertainty,
                progress=lambda done, total, t=task: bar.update(t, completed=done, total=total),
            )
        print_warnings(caught)
        written.append((f"raid vs {label} (DuckDB + summary.json)", out / dirname))
        with warnings.catch_warnings():  # the raids were sampled (and warned about) above
            warnings.simplefilter("ignore", IadsimWarning)
            maps[label] = plot_raid_map(
                scn_raid, results[label].events, out / dirname / "raid-map.png"
            )
        written.append((f"raid vs {label}, map of run 0", maps[label]))

    labels = tuple(RAIDS)
    table_df = compare(results[labels[0]], results[labels[1]], labels=labels)
    atomic_write_text(out / "comparison.csv", table_df.to_csv())
    written.append(("side-by-side metrics", out / "comparison.csv"))

    # 3. the comparison report, from the runs above
    decisive_ok = parameter_uncertainty and runs >= MIN_RUNS_DECISIVE
    with _progress(console) as bar, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IadsimWarning)
        sites = sum(len(s.sites) for s in scenarios.values())
        task = bar.add_task("report: coverage of each deployment", total=sites)
        coverage = compute_coverage_set(
            scenarios, DEMO_ALTITUDES_M, resolution_km=resolution_km,
            progress=lambda n: bar.advance(task, n),
        )  # fmt: skip
        tasks: dict[str, int] = {}

        def report_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{stage}: maps, figures, page", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        jobs = [
            CompareJob(label, scenarios[label], results[label], out / RAIDS[label][1], maps[label])
            for label in labels
        ]
        rep = write_report(
            jobs, out, coverage, sensitivity=decisive_ok, progress=report_progress,
            command=f"iadsim demo --runs {runs} --seed {seed} --resolution-km {resolution_km:g}"
            + ("" if parameter_uncertainty else " --nominal"),
        )  # fmt: skip
    print_warnings(caught)

    what = "parameter uncertainty included" if parameter_uncertainty else "nominal catalog values"
    cmp = Table(title=f"Same illustrative raid, {runs} runs each, seed {seed}, {what} (95% CI)")
    cmp.add_column("metric")
    for label in labels:
        cmp.add_column(label, justify="right")
    for metric, row in table_df.iterrows():
        cmp.add_row(
            escape(str(metric)),
            *(_fmt(row[lb], row[f"{lb} ci_low"], row[f"{lb} ci_high"]) for lb in labels),
        )
    console.print(cmp)
    decisive = rep.data.get("decisive") or {}
    if decisive.get("pairs"):
        rows = decisive["pairs"][0]["rows"]
        atomic_write_text(out / "decisive.json", json.dumps(rows, indent=2) + "\n")
        console.print(_decisive_table(rows))
        written.append(("what the difference hinges on", out / "decisive.json"))
    elif parameter_uncertainty:
        console.print(
            f"(what the difference hinges on needs at least {MIN_RUNS_DECISIVE} runs per "
            f"deployment: --runs {MIN_RUNS_DECISIVE} or more)"
        )
    console.print(escape(rep.data["summary"]["text"].split("\n\n")[0]))
    written.append(("the comparison report (one page, opens offline)", rep.html))
    written.append(("every figure of the report", rep.json))
    written.append(("the report's charts and difference maps", out / "figures"))
    console.print("[b]Outputs[/b] (illustrative; public parameters with sources in the catalog):")
    for what, path in written:
        console.print(f"  {what}: {path}", soft_wrap=True)  # paths stay whole for copying


def _num(v: float) -> str:
    """A catalog number, short: 3 significant digits, no exponent below a million."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _decisive_table(rows: list[dict]) -> Table:
    """The parameters the difference in leakers hinges on, as printed by the demo."""
    table = Table(
        title="What the difference in leakers per run hinges on",
        caption="share: the part of the variance of the difference in leakers that the "
        "number's draws explain (squared rank correlation within its deployment's runs, 95% "
        "CI; Monte Carlo noise takes most of the rest). 'iadsim sensitivity' designs the full "
        "analysis.",
        pad_edge=False,  # fits 80 columns
    )
    table.add_column("catalog number (deployment)", overflow="fold", ratio=3)
    table.add_column("share", no_wrap=True)
    table.add_column("higher value", overflow="fold", ratio=1)
    table.add_column("drawn over", overflow="fold", ratio=2)
    table.add_column("source", overflow="fold", ratio=2)
    for r in rows:
        effect = "more leakers" if r["rho"] > 0 else "fewer leakers"
        span = f"{_num(r['low'])}-{_num(r['high'])} {r['unit']} (catalog {_num(r['value'])})"
        table.add_row(
            "\n".join(escape(x) for x in (*r["parameter"].split(":", 1), f"({r['job']})")),
            f"{r['share']:.0%} [{r['share_low']:.0%}, {r['share_high']:.0%}]",
            effect,
            escape(span),
            escape(r["quality"]),
        )
    return table


def register(app: typer.Typer) -> None:
    """Add ``iadsim demo`` to the app."""
    app.command("demo")(writes_dir(demo))
