"""Compare two or more deployments facing a raid, and write the report an analyst can publish
(``iadsim compare``, ``iadsim demo``).

:func:`compare_scenarios` checks its arguments, locks ``out_dir``, computes every deployment's
coverage on one grid (seconds; before the runs, so a bad altitude or DEM fails at once), runs
each scenario's Monte Carlo job into ``out_dir/<label-slug>/`` (:func:`iadsim.api.run`) and
calls :func:`write_report`. :func:`write_report` takes jobs already run (the demo passes its
own) and writes

* ``report.json``: every figure the report shows (outcomes with 95 % intervals, differences
  with their intervals, coverage areas, population and cities, difference areas, shots not
  taken by reason, the decisive catalog numbers, the catalog appendix, the scenarios);
* ``report.html``: one self-contained page (:mod:`iadsim.report.html_report`);
* ``figures/``: the charts and difference maps as PNG files, and per deployment
  ``<slug>/coverage/`` (coverage products and maps) and ``<slug>/raid-map.png``.

Differences are B minus A for every other deployment B against the first (the reference) A.
Jobs run with one seed and one number of runs share their random streams run by run (common
random numbers), so the difference of run *i* is a fair draw of the difference and its
interval is the expanded percentile bootstrap of the per-run differences
(:func:`iadsim.results.metrics.paired_difference`); jobs that cannot be paired get Welch's
interval (:func:`iadsim.results.metrics.welch_difference`). A difference is significant at
the 5 % level when its 95 % interval excludes 0. docs/report.md describes every figure.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from iadsim._version import __version__
from iadsim.api import RunSet, decisive_parameters, run
from iadsim.catalog import Quantity, get_path
from iadsim.coverage.analysis import (
    CoverageResult,
    compute_coverage_multi,
    resolve_sites,
    resolve_threat,
)
from iadsim.coverage.grid import Grid
from iadsim.coverage.products import altitude_dirname
from iadsim.deployment import resolve_deployment
from iadsim.errors import CatalogError, IadsimWarning, InputError
from iadsim.fileio import atomic_write_text, job_out_dir
from iadsim.geo.dem import Dem
from iadsim.montecarlo import check_job_args
from iadsim.report.compare import plot_comparison, plot_decisive, plot_differences
from iadsim.report.coverage_job import write_coverage_set
from iadsim.report.difference import difference_areas, plot_difference_map, same_grid
from iadsim.report.html_report import format_number, json_pointer, render_report
from iadsim.report.raidmap import plot_raid_map
from iadsim.results.metrics import (
    CONFIDENCE,
    Difference,
    paired_difference,
    per_run_values,
    welch_difference,
)
from iadsim.results.store import open_store
from iadsim.scenario import Scenario, load_scenario

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
FIGURES_DIR = "figures"
#: format of report.json (bumped when a key changes meaning)
SCHEMA = "iadsim.compare-report/1"
DEFAULT_ALTITUDES_M: tuple[float, ...] = (100.0, 1000.0, 10000.0)
#: fewest runs per deployment for which the report ranks the decisive catalog numbers
MIN_RUNS_DECISIVE = 20
DECISIVE_K = 3
#: threat of the coverage maps when the raids have no air-breathing threat
FALLBACK_THREAT = "fighter-4gen"
#: sub-directory names a label's slug may not take
RESERVED_SLUGS = frozenset({FIGURES_DIR})

#: the raid outcomes of the report: metric, what it is, kind of number, which way is better
OUTCOMES: tuple[tuple[str, str, str, str | None], ...] = (
    ("leakers_per_run", "leakers per run (threats that reached their target)", "count", "lower"),
    ("p_raid_defeated", "raid defeated (no leaker, none unresolved)", "probability", "higher"),
    ("interceptors_spent_per_run", "interceptors spent per run", "count", None),
    ("mean_warning_time_s", "mean warning time (undetected threats count 0 s)", "time", "higher"),
    ("undetected_per_run", "threats never detected, per run", "count", "lower"),
    ("unresolved_per_run", "threats still flying at the end, per run", "count", "lower"),
)
CLASS_OUTCOMES: tuple[tuple[str, str], ...] = (("p_detected", "detected"), ("p_kill", "killed"))

#: what each reason of a shot not taken (``no_engagement``) or of a missed salvo (``miss``)
#: means, in plain words (the engine's checks: docs/simulation.md)
REASON_TEXT: dict[str, str] = {
    "no_track": "no radar of the unit or its network held a confirmed track on the threat "
    "while it was within the unit's maximum range",
    "no_fcr_track": "the unit's own fire-control radar never held the threat well enough to "
    "launch (standalone: two detections by it; cued: one)",
    "too_fast": "the threat was faster than the interceptor's maximum target speed",
    "out_of_envelope": "the predicted intercept point was inside the interceptor's minimum range",
    "below_min_altitude": "the threat flew lower above the ground than the interceptor's "
    "minimum altitude (its floor)",
    "above_max_altitude": "the predicted intercept point was above the interceptor's ceiling",
    "beyond_max_range": "the predicted intercept point was beyond the interceptor's maximum "
    "range, or the round could not catch the threat",
    "no_interceptor": "no round was ready: the ready rounds were spent (reloading or empty)",
    "no_channel": "every fire-control channel was busy guiding other engagements",
    "class_not_engageable": "none of the unit's interceptors can engage this class of threat",
    "outside_fcr_sector": "the intercept point lay outside the sector its fire-control radar "
    "faces (the site's heading)",
    "fcr_cannot_guide_at_pip": "launch on remote: the unit's own fire-control radar would not "
    "hold the threat at the intercept point (horizon, terrain, sector or range)",
    "no_network_track_at_pip": "engage on remote: no radar of the network would hold the "
    "threat at the intercept point",
    "no_fcr_guidance": "launch on remote: the unit's own radar never acquired the threat "
    "before the intercept, so the round had no guidance",
    "no_network_guidance": "engage on remote: the network's track went stale before the "
    "intercept, so the round lost its midcourse guidance",
    "target_already_killed": "the threat was already killed by another round",
    "no_intercept_before_impact": "the threat hit the ground (or ended its route) before the "
    "round could reach it",
    "beyond_range_at_intercept": "the round's fly-out ended before it reached the threat",
    "inside_min_range_at_intercept": "at the true intercept the threat was inside the "
    "minimum range",
    "below_floor_at_intercept": "at the true intercept the threat was below the interceptor's "
    "floor (e.g. a cruise missile hugging the terrain)",
    "above_ceiling_at_intercept": "at the true intercept the threat was above the ceiling",
    "too_fast_at_intercept": "at the true intercept the threat was faster than the "
    "interceptor's maximum target speed",
    "": "the round reached the threat inside its envelope and did not kill it (the "
    "single-shot kill probability P_k was drawn and failed)",
}
#: label of the empty reason of a miss (the P_k draw)
CHANCE = "chance (P_k)"

Progress = Callable[[str, int, int], None]


# --- inputs ----------------------------------------------------------------------------------


def label_slug(label: str) -> str:
    """A directory name for a label: ASCII letters, digits and dashes (``S-400 standalone``
    -> ``s-400-standalone``); empty when the label has none of them."""
    ascii_ = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60]


def check_labels(labels: Sequence[str] | None, scenarios: Sequence[Any]) -> list[str]:
    """One label per scenario: ``labels`` as given (stripped), else each scenario file's stem
    (a scenario given as an object: its name). Raises a one-line :class:`InputError` naming
    ``labels`` for a wrong count, an empty label, or two labels that are the same or give the
    same directory name."""
    if labels is None:
        out = [
            Path(s).stem if isinstance(s, (str, Path)) else str(getattr(s, "name", f"#{i + 1}"))
            for i, s in enumerate(scenarios)
        ]
        given = False
    else:
        out = [str(x).strip() for x in labels]
        given = True
        if len(out) != len(scenarios):
            raise InputError(
                f"labels: {len(out)} label(s) for {len(scenarios)} scenarios; give one per "
                "scenario, in order, separated by commas",
                "labels",
            )
        if any(not x for x in out):
            raise InputError("labels: a label is empty; give one name per scenario", "labels")
    slugs = slugs_for(out)
    for i, a in enumerate(out):
        for j in range(i):
            b = out[j]
            if a.casefold() == b.casefold() or slugs[i] == slugs[j]:
                fix = "rename one" if given else "give --labels with one name per scenario"
                raise InputError(
                    f"labels: {b!r} and {a!r} name two deployments alike (directory "
                    f"{slugs[i]!r}); {fix}",
                    "labels",
                )
    return out


def slugs_for(labels: Sequence[str]) -> list[str]:
    """The directory of each deployment: its label's slug, ``deployment-N`` when the label
    has no ASCII letter or digit, suffixed with ``-deployment`` when it is reserved
    (``figures``)."""
    out = []
    for i, label in enumerate(labels):
        s = label_slug(label) or f"deployment-{i + 1}"
        out.append(f"{s}-deployment" if s in RESERVED_SLUGS else s)
    return out


def check_altitudes(altitudes_m: Sequence[float | str]) -> list[float]:
    """The coverage altitudes as floats: at least one, finite, between -500 m and 1000 km and
    distinct (a one-line :class:`InputError` naming ``altitudes_m`` otherwise)."""
    alts = []
    for a in altitudes_m:
        try:
            alts.append(float(a))
        except (TypeError, ValueError):
            raise InputError(
                f"altitudes_m: {a!r} is not a number of metres", "altitudes_m"
            ) from None
    if not alts:
        raise InputError("altitudes_m is empty; give at least one altitude", "altitudes_m")
    bad = [a for a in alts if not math.isfinite(a) or a < -500 or a > 1_000_000]
    if bad:
        raise InputError(
            f"altitudes_m must be between -500 m and 1000 km, got {bad[0]:g}", "altitudes_m"
        )
    if len(set(alts)) != len(alts):
        raise InputError(f"altitudes_m lists an altitude twice: {alts}", "altitudes_m")
    return alts


def parse_altitudes(text: str) -> list[float]:
    """``"100,1000,10000"`` -> ``[100.0, 1000.0, 10000.0]`` (checked by
    :func:`check_altitudes`)."""
    parts = [p.strip() for p in str(text).split(",")]
    if any(not p for p in parts):
        raise InputError(
            f"altitudes_m: {text!r} has an empty entry; give metres separated by commas, e.g. "
            "100,1000,10000",
            "altitudes_m",
        )
    return check_altitudes(parts)


def default_threat(scenarios: Sequence[Scenario]) -> str:
    """The threat of the coverage maps when none is given: the air-breathing threat (cruise
    missile, aircraft, drone) the raids hold most of (first scenario first; ties: the first
    met), else :data:`FALLBACK_THREAT`. Ballistic threats fly no fixed altitude, so a
    coverage map at an altitude does not describe them."""
    counts: Counter[str] = Counter()
    for scn in scenarios:
        for r in scn.raids:
            if resolve_threat(r.threat, scn).target_class != "ballistic":
                counts[r.threat] += r.count
        if counts:
            break
    return counts.most_common(1)[0][0] if counts else FALLBACK_THREAT


# --- coverage ----------------------------------------------------------------------------------


@dataclass
class CoverageSet:
    """Every deployment's coverage at the report's altitudes. ``results[label]`` holds one
    :class:`~iadsim.coverage.CoverageResult` per altitude. ``common_grid``: all were computed
    in one pass on one grid (then the difference maps exist); ``note`` says why not."""

    threat: str
    agl: bool
    resolution_km: float
    dem: str | None
    k_factor: float | None
    fixed_sectors: bool
    common_grid: bool
    results: dict[str, list[CoverageResult]]
    note: str = ""

    @property
    def altitudes_m(self) -> list[float]:
        first = next(iter(self.results.values()))
        return [r.altitude_m for r in first]


def compute_coverage_set(
    scenarios: Mapping[str, Scenario],
    altitudes_m: Sequence[float] = DEFAULT_ALTITUDES_M,
    agl: bool | None = None,
    dem: str | Path | None = None,
    threat: str | None = None,
    resolution_km: float = 2.0,
    progress: Callable[[int], None] | None = None,
) -> CoverageSet:
    """Coverage of every deployment (``scenarios``: label -> scenario) at ``altitudes_m``.

    ``dem`` overrides the scenarios' ``environment.dem`` (for coverage only); ``agl`` None:
    above ground when a DEM is used, else above mean sea level. ``threat`` None:
    :func:`default_threat`. Sector radars are fixed at their ``heading_deg`` (as the raid
    simulation fixes them) when every one has a heading, else they may face any azimuth.
    When all deployments share one DEM and one k-factor, every site is computed in one pass
    on one grid (:func:`iadsim.coverage.compute_coverage_multi` with all sites) and the
    results are split by deployment, so that a cell is the same area in each; otherwise each
    deployment gets its own grid and the report draws no difference map (``note`` says
    why). ``progress(1)`` is called as each site's line-of-sight pass completes."""
    alts = check_altitudes(altitudes_m)
    scns = dict(scenarios)
    threat = threat or default_threat(list(scns.values()))
    for scn in scns.values():
        try:
            resolve_threat(threat, scn)  # an unknown id fails here, before any work
        except CatalogError:
            known = ", ".join(sorted(t.id for t in scn.catalog.items("threat")))
            raise InputError(
                f"threat {threat!r} is not in the catalog; known threats: {known}", "threat"
            ) from None
    dems = {
        label: (Path(dem) if dem is not None else scn.dem_path()) for label, scn in scns.items()
    }
    dem_keys = {str(p.resolve()) if p is not None else None for p in dems.values()}
    ks = {scn.environment.k_factor for scn in scns.values()}
    terrain_used = any(p is not None for p in dems.values())
    agl = terrain_used if agl is None else bool(agl)
    sectors = not any(scn.sector_sites_without_heading() for scn in scns.values())
    first_dem = next(iter(dems.values()))
    if len(dem_keys) == 1 and len(ks) == 1:
        k = ks.pop()
        terrain = Dem.open(first_dem) if first_dem is not None else None
        try:
            specs = {
                label: resolve_sites(scn, threat, resolve_deployment(scn, terrain))
                for label, scn in scns.items()
            }
            every = [s for label in scns for s in specs[label]]
            results = compute_coverage_multi(
                None, alts, agl=agl, threat=threat, resolution_km=resolution_km, dem=terrain,
                sites=every, k_factor=k, progress=progress, sectors=sectors,
            )  # fmt: skip
        finally:
            if terrain is not None:
                terrain.close()
        split: dict[str, list[CoverageResult]] = {label: [] for label in scns}
        for r in results:
            start, parts = 0, {}
            for label, scn in scns.items():
                idx = slice(start, start + len(specs[label]))
                start = idx.stop
                parts[label] = _subset(r, idx, scn.name)
            for label, cut in crop_to_coverage(parts).items():
                split[label].append(cut)
        return CoverageSet(
            threat, agl, resolution_km, None if first_dem is None else str(first_dem), k,
            sectors, True, split,
        )  # fmt: skip
    why = (
        "The deployments use different DEMs"
        if len(dem_keys) > 1
        else "The deployments use different k-factors (refraction)"
    )
    split = {}
    for label, scn in scns.items():
        own = compute_coverage_multi(
            scn, alts, agl=agl, threat=threat, resolution_km=resolution_km, dem=dems[label],
            progress=progress, sectors=sectors,
        )  # fmt: skip
        split[label] = [crop_to_coverage({label: r})[label] for r in own]
    return CoverageSet(
        threat, agl, resolution_km, None, ks.pop() if len(ks) == 1 else None, sectors, False,
        split, f"{why}, so each was computed on its own grid and no difference map is drawn",
    )  # fmt: skip


def crop_to_coverage(
    results: Mapping[str, CoverageResult], margin_frac: float = 0.12, min_cells: int = 24
) -> dict[str, CoverageResult]:
    """Coverage results of one altitude on one grid, cut to one window: the smallest that
    holds every covered cell and every site of all of them, plus ``margin_frac`` of its span
    on each side (at least three cells; at least ``min_cells`` across). The grid of the
    highest altitude's reach would show a low altitude's coverage as specks; cut, the maps of
    every deployment show the same area at a useful scale. Nothing covered lies outside the
    window, so areas, cities and countries are unchanged."""
    first = next(iter(results.values()))
    grid = first.grid
    covered = np.zeros(grid.shape, bool)
    for r in results.values():
        covered |= r.union_detection | r.union_engagement
    rows, cols = [list(a) for a in np.nonzero(covered)]
    sites = [s for r in results.values() for s in r.sites]
    if sites:
        sx, sy = grid.project([s.lon for s in sites], [s.lat for s in sites])
        sr, sc, inside = grid.rowcol(sx, sy)
        rows += list(np.atleast_1d(sr)[np.atleast_1d(inside)])
        cols += list(np.atleast_1d(sc)[np.atleast_1d(inside)])
    if not rows:
        return dict(results)

    def span(lo: int, hi: int, n: int) -> tuple[int, int]:
        pad = max(3, int(np.ceil(margin_frac * (hi - lo + 1))))
        lo, hi = lo - pad, hi + 1 + pad
        if hi - lo < min_cells:
            grow = min_cells - (hi - lo)
            lo, hi = lo - grow // 2, hi + grow - grow // 2
        return max(lo, 0), min(hi, n)

    r0, r1 = span(int(min(rows)), int(max(rows)), grid.nrows)
    c0, c1 = span(int(min(cols)), int(max(cols)), grid.ncols)
    window = Grid(
        crs=grid.crs, x_min=grid.x_min + c0 * grid.cell_m, y_max=grid.y_max - r0 * grid.cell_m,
        cell_m=grid.cell_m, nrows=r1 - r0, ncols=c1 - c0,
    )  # fmt: skip
    return {
        label: dataclasses.replace(
            r,
            grid=window,
            detection=r.detection[:, r0:r1, c0:c1],
            engagement=r.engagement[:, r0:r1, c0:c1],
        )  # fmt: skip
        for label, r in results.items()
    }


def _subset(result: CoverageResult, idx: slice, name: str) -> CoverageResult:
    """The sites ``idx`` of a coverage result, as a result of their own (same grid)."""
    frac = result.dem_covered_fraction
    return CoverageResult(
        result.grid, result.altitude_m, result.agl, result.threat, result.k_factor,
        result.terrain, result.sites[idx], result.detection[idx], result.engagement[idx],
        name, result.sectors, None if frac is None else frac[idx],
    )  # fmt: skip


# --- the jobs ----------------------------------------------------------------------------------


@dataclass
class CompareJob:
    """One deployment of a comparison: its label, scenario, Monte Carlo results and the
    directory holding its ``results.duckdb`` (and where its coverage and raid map go)."""

    label: str
    scenario: Scenario
    results: RunSet
    dir: Path
    raid_map: Path | None = None


@dataclass
class ComparisonReport:
    """What :func:`write_report` wrote: ``data`` (the content of ``report.json``), the paths
    of ``report.html`` and ``report.json``, and the jobs."""

    data: dict[str, Any]
    html: Path
    json: Path
    jobs: list[CompareJob] = field(default_factory=list)


def compare_scenarios(
    scenarios: Sequence[str | Path | Scenario],
    out_dir: str | Path,
    labels: Sequence[str] | None = None,
    runs: int = 200,
    seed: int = 0,
    workers: int = 1,
    altitudes_m: Sequence[float] = DEFAULT_ALTITUDES_M,
    agl: bool | None = None,
    dem: str | Path | None = None,
    threat: str | None = None,
    resolution_km: float = 2.0,
    parameter_uncertainty: bool = False,
    sensitivity: bool = False,
    progress: Progress | None = None,
    command: str | None = None,
) -> ComparisonReport:
    """Run every scenario (one deployment each, usually facing the same raid) ``runs`` times
    with the same ``seed`` and write the comparison report into ``out_dir``.

    Checks everything it can before any work (two or more scenarios, labels, run settings,
    altitudes, ``out_dir``, which it then locks; the scenarios load with located errors),
    computes the coverage of every deployment (:func:`compute_coverage_set`: ``altitudes_m``,
    ``agl``, ``dem``, ``threat``, ``resolution_km``), runs each job into
    ``out_dir/<slug>/`` (:func:`iadsim.api.run`; ``parameter_uncertainty``: every run draws
    the uncertain catalog numbers) and writes the report (:func:`write_report`).
    ``sensitivity`` implies ``parameter_uncertainty`` and ranks the catalog numbers the
    difference in leakers hinges on. ``progress(stage, done, total)`` reports the stages
    ``coverage``, ``runs LABEL`` and ``report``. ``command`` is recorded as the jobs'
    provenance and shown on the report.
    """
    if len(scenarios) < 2:
        raise InputError(
            f"scenarios: compare needs two or more scenarios (one per deployment), got "
            f"{len(scenarios)}",
            "scenarios",
        )
    names = check_labels(labels, scenarios)
    check_job_args(runs, seed, workers, "local")
    alts = check_altitudes(altitudes_m)
    if not (math.isfinite(resolution_km) and resolution_km > 0):
        raise InputError(f"resolution_km must be > 0, got {resolution_km}", "resolution_km")
    if dem is not None and not Path(dem).is_file():
        raise InputError(f"dem {str(dem)!r}: no such file", "dem")
    parameter_uncertainty = parameter_uncertainty or sensitivity
    if command is None:
        command = (
            f"iadsim.comparison.compare_scenarios({[str(s) for s in scenarios]!r}, "
            f"labels={names!r}, runs={runs}, seed={seed}, "
            f"parameter_uncertainty={parameter_uncertainty})"
        )
    with job_out_dir(out_dir, "out_dir") as out:
        scns = {
            label: s if isinstance(s, Scenario) else _load(s)
            for label, s in zip(names, scenarios, strict=True)
        }
        slugs = dict(zip(names, slugs_for(names), strict=True))
        n_sites = sum(len(s.sites) for s in scns.values())
        done = [0]

        def cov_progress(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress("coverage", done[0], n_sites)

        coverage = compute_coverage_set(
            scns, alts, agl=agl, dem=dem, threat=threat, resolution_km=resolution_km,
            progress=cov_progress,
        )  # fmt: skip
        jobs = []
        for label, scn in scns.items():
            rs = run(
                scn, runs=runs, seed=seed, workers=workers, out_dir=out / slugs[label],
                parameter_uncertainty=parameter_uncertainty, command=command,
                progress=_stage(progress, f"runs {label}"),
            )  # fmt: skip
            jobs.append(CompareJob(label, scn, rs, out / slugs[label]))
        return write_report(
            jobs, out, coverage, sensitivity=sensitivity, command=command, progress=progress
        )


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    """``progress`` as a ``(done, total)`` callback of one stage."""
    if progress is None:
        return None
    report = progress

    def call(done: int, total: int) -> None:
        report(stage, done, total)

    return call


def _load(path: str | Path) -> Scenario:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: scenario file not found", "scenarios")
    return load_scenario(p)


# --- the figures -------------------------------------------------------------------------------


def _diff_record(d: Difference, better: str | None, labels: tuple[str, str]) -> dict[str, Any]:
    """A difference as report.json holds it; ``favours`` names the deployment a significant
    difference favours (``better``: which way is better for the metric)."""
    favours = None
    if d.significant and better is not None and d.value is not None:
        other_higher = d.value > 0
        favours = labels[1] if other_higher == (better == "higher") else labels[0]
    return {
        "value": d.value,
        "ci_low": d.ci_low,
        "ci_high": d.ci_high,
        "n": d.n,
        "significant": d.significant,
        "favours": favours,
    }


def _metric_list(jobs: Sequence[CompareJob]) -> list[tuple[str, str, str, str | None]]:
    classes = sorted(
        {m.split("[", 1)[1][:-1] for j in jobs for m in j.results.summary["metrics"]
         if m.startswith(("p_kill[", "p_detected["))}
    )  # fmt: skip
    out = list(OUTCOMES)
    for cls in classes:
        for key, what in CLASS_OUTCOMES:
            out.append((f"{key}[{cls}]", f"{cls} threats {what}", "probability", "higher"))
    return out


def outcome_rows(
    jobs: Sequence[CompareJob], cons: Mapping[str, duckdb.DuckDBPyConnection], paired: bool
) -> list[dict[str, Any]]:
    """One row per outcome metric: each deployment's value with its 95 % interval (the
    store's summary) and the difference of every other deployment from the first."""
    ref = jobs[0]
    rows = []
    for metric, name, kind, better in _metric_list(jobs):
        values = {j.label: j.results.summary["metrics"].get(metric) for j in jobs}
        diffs: dict[str, Any] = {}
        series = {}
        for j in jobs:
            try:
                series[j.label] = per_run_values(cons[j.label], metric)
            except KeyError:
                series[j.label] = None
        for j in jobs[1:]:
            a, b = series[ref.label], series[j.label]
            if values[ref.label] is None or values[j.label] is None or a is None or b is None:
                diffs[j.label] = None
                continue
            key = f"difference {metric}"
            d = paired_difference(a, b, key) if paired else welch_difference(a, b)
            diffs[j.label] = _diff_record(d, better, (ref.label, j.label))
        rows.append({
            "metric": metric, "name": name, "kind": kind, "better": better,
            "values": values, "differences": diffs,
        })  # fmt: skip
    return rows


_SHOTS_SQL = """
WITH leaked AS (SELECT run_id, threat FROM per_threat WHERE leaked)
SELECT coalesce(e.reason, '') AS reason, count(*) AS events,
       count(DISTINCT e.run_id) AS runs_with,
       count(DISTINCT CASE WHEN l.threat IS NOT NULL THEN e.run_id || ':' || e.threat END)
           AS leaked_threats,
       string_agg(DISTINCT e.site, ', ' ORDER BY e.site) AS sites
FROM events e LEFT JOIN leaked l ON l.run_id = e.run_id AND l.threat = e.threat
WHERE e.kind = ?
GROUP BY 1 ORDER BY events DESC, reason
"""


def reason_rows(con: duckdb.DuckDBPyConnection, kind: str, runs: int) -> list[dict[str, Any]]:
    """Events of ``kind`` (``no_engagement`` or ``miss``) by reason: how many, per run, in
    how many runs (and the share of runs), how many leakers per run had it recorded against
    them, and the sites."""
    out = []
    for reason, n, runs_with, leaked, sites in con.execute(_SHOTS_SQL, [kind]).fetchall():
        out.append({
            "reason": reason or CHANCE,
            "meaning": REASON_TEXT.get(reason or "", ""),
            "events": int(n),
            "per_run": n / runs,
            "runs_with": int(runs_with),
            "share_of_runs": runs_with / runs,
            "leakers_per_run": leaked / runs,
            "sites": sites or "",
        })  # fmt: skip
    return out


def reason_index(by_label: Mapping[str, list[dict]], labels: Sequence[str]) -> list[dict]:
    """The reasons of every deployment's table, most frequent first (the largest per-run
    count over deployments), each with the index of its row in each deployment's table
    (None where the deployment never met it): the rows of the side-by-side table."""
    where: dict[str, dict[str, int | None]] = {}
    top: dict[str, float] = {}
    for lb in labels:
        for i, row in enumerate(by_label[lb]):
            where.setdefault(row["reason"], dict.fromkeys(labels))[lb] = i
            top[row["reason"]] = max(top.get(row["reason"], 0.0), row["per_run"])
    order = sorted(where, key=lambda r: (-top[r], r))
    return [{"reason": r, "meaning": REASON_TEXT.get("" if r == CHANCE else r, ""),
             "rows": where[r]} for r in order]  # fmt: skip


def _raid_text(scn: Scenario) -> dict[str, Any]:
    by_threat: Counter[str] = Counter()
    by_class: Counter[str] = Counter()
    for r in scn.raids:
        by_threat[r.threat] += r.count
        by_class[resolve_threat(r.threat, scn).target_class] += r.count
    total = sum(by_threat.values())
    text = ", ".join(f"{n} {t}" for t, n in by_threat.items())
    return {
        "threats": total,
        "by_threat": dict(by_threat),
        "by_class": dict(by_class),
        "text": f"{total} threats ({text})" if total else "no raid",
    }


def raid_differences(jobs: Sequence[CompareJob]) -> tuple[bool, list[str], list[str]]:
    """Whether every deployment faces the same raid (the ``raids`` blocks are equal), what
    differs in the raids, and what else differs that shapes the outcome (time, environment,
    assets), each as sentences naming the deployments."""
    ref = jobs[0]
    raids: list[str] = []
    other: list[str] = []

    def dump(items):
        return [x.model_dump(mode="json") for x in items]

    for j in jobs[1:]:
        a, b = ref.scenario, j.scenario
        pair = f"{j.label} vs {ref.label}"
        if dump(a.raids) != dump(b.raids):
            ra, rb = _raid_text(a)["text"], _raid_text(b)["text"]
            ids_a = {r.id or f"#{i}": r for i, r in enumerate(a.raids)}
            ids_b = {r.id or f"#{i}": r for i, r in enumerate(b.raids)}
            changed = sorted(
                k for k in ids_a.keys() & ids_b.keys()
                if ids_a[k].model_dump(mode="json") != ids_b[k].model_dump(mode="json")
            )  # fmt: skip
            parts = [f"{ref.label}: {ra}; {j.label}: {rb}"]
            if ids_a.keys() - ids_b.keys():
                parts.append(
                    f"only {ref.label} has raid(s) {', '.join(sorted(ids_a.keys() - ids_b.keys()))}"
                )
            if ids_b.keys() - ids_a.keys():
                parts.append(
                    f"only {j.label} has raid(s) {', '.join(sorted(ids_b.keys() - ids_a.keys()))}"
                )
            if changed:
                parts.append(f"raid(s) {', '.join(changed)} differ in their settings")
            raids.append(f"{pair}: " + "; ".join(parts))
        for what, x, y in (
            ("time (duration, step)", a.time.model_dump(mode="json"), b.time.model_dump(mode="json")),
            ("environment (DEM, k-factor)", a.environment.model_dump(mode="json"),
             b.environment.model_dump(mode="json")),
            ("defended assets", dump(a.assets), dump(b.assets)),
        ):  # fmt: skip
            if x != y:
                other.append(f"{pair}: the {what} differ")
    return not raids, raids, other


def catalog_rows(jobs: Sequence[CompareJob], cons: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every catalog number any job's engine read (each store's ``catalog_values``), merged
    across deployments (one row per item, field, value and source, with the deployments
    using it), with the catalog's alternatives and basis, and the distribution drawn per run
    under parameter uncertainty."""
    order = {"system": 0, "radar": 1, "interceptor": 2, "threat": 3}
    rows: dict[tuple, dict[str, Any]] = {}
    for j in jobs:
        con = cons[j.label]
        values = con.execute(
            "SELECT item, kind, field, value, unit, confidence, source FROM catalog_values"
        ).fetchall()
        drawn = dict(
            ((item, fld), dist)
            for item, fld, dist in con.execute(
                "SELECT item, field, distribution FROM uncertain_parameters"
            ).fetchall()
        )
        cat = j.scenario.catalog
        for item, kind, fld, value, unit, confidence, source in values:
            key = (item, kind, fld, value, unit, confidence, source)
            if key not in rows:
                alts: list[dict[str, Any]] = []
                basis = None
                try:
                    q = get_path(cat.get(item, kind=kind), fld)
                except (AttributeError, KeyError, LookupError):
                    q = None
                if isinstance(q, Quantity):
                    basis = q.basis
                    alts = [{"value": a.value, "source": a.source, "note": a.note}
                            for a in q.alternatives]  # fmt: skip
                rows[key] = {
                    "item": item, "kind": kind, "field": fld, "value": value, "unit": unit,
                    "confidence": confidence, "basis": basis, "source": source,
                    "alternatives": alts, "used_by": [], "drawn": {},
                }  # fmt: skip
            rows[key]["used_by"].append(j.label)
            if (item, fld) in drawn:
                rows[key]["drawn"][j.label] = drawn[(item, fld)]
    return sorted(rows.values(), key=lambda r: (order.get(r["kind"], 9), r["item"], r["field"]))


def _coverage_section(
    coverage: CoverageSet, jobs: Sequence[CompareJob], out: Path, figures: dict[str, Path],
    progress: Callable[[], None],
) -> dict[str, Any]:  # fmt: skip
    """Write every deployment's coverage products and maps, the difference maps, and return
    the report's coverage section."""
    ref = jobs[0]
    written = {}
    for j in jobs:
        written[j.label] = write_coverage_set(coverage.results[j.label], j.dir / "coverage")
        progress()
    altitudes = []
    for i, alt in enumerate(coverage.altitudes_m):
        deps = {}
        for j in jobs:
            entry = written[j.label]["altitudes"][i]
            s = entry["summary"]
            name = f"coverage {j.label} {i}"
            figures[name] = Path(entry["paths"]["png"])
            cities = s.get("cities_covered", [])
            deps[j.label] = {
                "dir": _rel(Path(entry["dir"]), out),
                "summary_json": _rel(Path(entry["paths"]["summary"]), out),
                "map": name,
                "detection_area_km2": s["union"]["detection_area_km2"],
                "engagement_area_km2": s["union"]["engagement_area_km2"],
                "detection_overlap_area_km2": s["union"]["detection_overlap_area_km2"],
                "population_detection": s.get("population_covered", {}).get("detection"),
                "population_engagement": s.get("population_covered", {}).get("engagement"),
                "places_detected": sum(1 for c in cities if c["detected"]),
                "places_engaged": sum(1 for c in cities if c["engaged"]),
                "largest_places": [
                    {k: c[k] for k in ("name", "country", "population", "detected", "engaged")}
                    for c in cities[:5]
                ],
                "sites": [
                    {k: st[k] for k in ("id", "system", "detection_area_km2", "engagement_area_km2")}
                    for st in s["sites"]
                ],
            }  # fmt: skip
        diffs = {}
        for j in jobs[1:]:
            a, b = coverage.results[ref.label][i], coverage.results[j.label][i]
            if not (coverage.common_grid and same_grid(a, b)):
                continue
            suffix = "" if len(jobs) == 2 else f"-{j.dir.name}"
            png = (
                out / FIGURES_DIR / f"difference-{altitude_dirname(alt, coverage.agl)}{suffix}.png"
            )
            plot_difference_map(a, b, (ref.label, j.label), png)
            name = f"difference {j.label} {i}"
            figures[name] = png
            diffs[j.label] = {"map": name, **difference_areas(a, b)}
            progress()
        altitudes.append({"altitude_m": alt, "deployments": deps, "differences": diffs})
    return {
        "threat": coverage.threat,
        "altitude_reference": "agl" if coverage.agl else "amsl",
        "terrain": coverage.dem is not None or any(
            r.terrain for rs in coverage.results.values() for r in rs),
        "dem": None if coverage.dem is None else Path(coverage.dem).name,
        "k_factor": coverage.k_factor,
        "resolution_km": coverage.resolution_km,
        "fixed_sectors": coverage.fixed_sectors,
        "common_grid": coverage.common_grid,
        "note": coverage.note,
        "altitudes": altitudes,
    }  # fmt: skip


def _rel(p: Path, base: Path) -> str:
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(p)


def _deployment_record(j: CompareJob, out: Path) -> dict[str, Any]:
    scn = j.scenario
    meta = j.results.meta
    nets = scn.network_members()
    return {
        "label": j.label,
        "slug": j.dir.name,
        "dir": _rel(j.dir, out),
        "scenario_name": scn.name,
        "scenario_file": meta.get("scenario_file"),
        "scenario_sha256": meta.get("scenario_sha256"),
        "catalog_sha256": meta.get("catalog_sha256"),
        "illustrative": scn.illustrative,
        "runs": int(meta["runs"]),
        "seed": int(meta["seed"]),
        "parameter_uncertainty": bool(meta.get("parameter_uncertainty")),
        "sites": [
            {"id": s.id, "system": s.system, "lat": s.lat, "lon": s.lon,
             "network": s.network, "heading_deg": s.heading_deg}
            for s in scn.sites
        ],
        "networks": [
            {"id": n.id, "mode": n.mode, "latency_s": n.latency_s, "members": list(n.members)}
            for n in nets.values()
        ],
        "raid": _raid_text(scn),
    }  # fmt: skip


class _List:
    """A bulleted list of :class:`_Text` items."""

    def __init__(self, items: list[_Text]) -> None:
        self.items = items

    @property
    def text(self) -> str:
        return "\n".join(f"- {x.text}" for x in self.items)

    def block(self) -> dict[str, Any]:
        return {"list": [x.parts for x in self.items]}


class _Text:
    """A paragraph built of text and numbers; each number keeps its JSON Pointer so the HTML
    can tag it (:mod:`iadsim.report.html_report`)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def t(self, text: str) -> _Text:
        self.parts.append({"text": text})
        return self

    def n(self, value: Any, key: str, kind: str, signed: bool = False, unit: bool = True) -> _Text:
        self.parts.append(
            {"value": value, "key": key, "kind": kind, "signed": signed, "unit": unit}
        )
        return self

    def ci(self, entry: dict, key: str, kind: str, signed: bool = False) -> _Text:
        """``value [low, high]`` of an entry at ``key`` (the bounds without the unit)."""
        self.n(entry["value"], key + "/value", kind, signed)
        if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
            self.t(" [").n(entry["ci_low"], key + "/ci_low", kind, signed, False).t(", ")
            self.n(entry["ci_high"], key + "/ci_high", kind, signed, False).t("]")
        return self

    def block(self) -> dict[str, Any]:
        return {"paragraph": self.parts}

    @property
    def text(self) -> str:
        return "".join(
            p["text"]
            if "text" in p
            else format_number(p["value"], p["kind"], p["signed"], p["unit"])
            for p in self.parts
        )


def summary_paragraphs(
    report: dict[str, Any], jobs: Sequence[CompareJob], paired: bool
) -> list[_Text | _List]:
    """The summary of the report, from its figures: who leaks fewer threats and by how much,
    with intervals and the test; the raid defeated; the other significant differences; how
    the intervals were computed; what the numbers stand on."""
    rows = {r["metric"]: (i, r) for i, r in enumerate(report["outcomes"])}
    ref = jobs[0].label
    runs = jobs[0].results.meta["runs"]
    il, leak = rows["leakers_per_run"]
    test = (
        "paired over {n} runs with common random numbers" if paired else "Welch, independent runs"
    )
    out: list[_Text | _List] = []
    p = _Text()
    raid = report["deployments"][0]["raid"]["text"]
    if report["same_raid"]:
        p.t(f"Against the same raid of {raid}, flown {runs} times against each deployment, ")
    else:
        p.t("The deployments faced different raids (see the warning above), so their numbers "
            f"are not a like-for-like comparison. Over {runs} runs each, ")  # fmt: skip
    have = [j.label for j in jobs if leak["values"].get(j.label)]
    order = sorted(have, key=lambda lb: leak["values"][lb]["value"])
    if len(jobs) == 2 and len(order) == 2:
        other = jobs[1].label
        d = leak["differences"].get(other)
        if d is not None and d["value"] == 0 and d["ci_low"] == 0 and d["ci_high"] == 0:
            p.t(f"{ref} and {other} let through the same number of threats in every run: ")
            p.ci(leak["values"][ref], json_pointer("outcomes", il, "values", ref), "count")
            p.t(" leakers per run.")
        elif d is not None:
            fewer, more = (ref, other) if d["value"] > 0 else (other, ref)
            if d["value"] == 0:
                p.t(f"{ref} and {other} let through as many threats on average: ")
            else:
                p.t(f"{fewer} let through fewer threats than {more}: ")
            p.ci(leak["values"][fewer], json_pointer("outcomes", il, "values", fewer), "count")
            p.t(" leakers per run against ")
            p.ci(leak["values"][more], json_pointer("outcomes", il, "values", more), "count")
            p.t(f". The difference ({other} minus {ref}) is ")
            p.ci(d, json_pointer("outcomes", il, "differences", other), "count", signed=True)
            p.t(f" threats per run (95 % interval, {test.format(n=d['n'])}): ")
            p.t("significant at the 5 % level." if d["significant"]
                else "not significant at the 5 % level (the interval includes 0).")  # fmt: skip
    else:
        p.t("ranked by leakers per run (fewest first): ")
        for k, lb in enumerate(order):
            p.t(("" if k == 0 else "; ") + f"{lb} ")
            p.ci(leak["values"][lb], json_pointer("outcomes", il, "values", lb), "count")
        p.t(f". Against the reference, {ref}: ")
        first = True
        for j in jobs[1:]:
            d = leak["differences"].get(j.label)
            if d is None:
                continue
            p.t(("" if first else "; ") + f"{j.label} minus {ref} ")
            p.ci(d, json_pointer("outcomes", il, "differences", j.label), "count", signed=True)
            p.t(" (significant)" if d["significant"] else " (not significant)")
            first = False
        n = leak["differences"].get(jobs[1].label) or {"n": runs}
        p.t(f" (95 % intervals of the difference in leakers per run, {test.format(n=n['n'])}).")
    out.append(p)

    # the raid defeated, then the other differences whose interval excludes 0
    q = _Text()
    idf, dfe = rows["p_raid_defeated"]
    q.t("The raid was defeated (no leaker, none left flying) in ")
    shown = [j for j in jobs if dfe["values"].get(j.label)]
    for k, j in enumerate(shown):
        q.t("" if k == 0 else (" and " if k == len(shown) - 1 else ", "))
        q.ci(dfe["values"][j.label], json_pointer("outcomes", idf, "values", j.label),
             "probability")  # fmt: skip
        q.t(f" of the runs of {j.label}")
    q.t(".")
    for j in jobs[1:]:
        d = dfe["differences"].get(j.label)
        if d is not None and d["significant"]:
            q.t(f" {j.label} minus {ref}: ")
            q.ci(d, json_pointer("outcomes", idf, "differences", j.label), "pp", signed=True)
            q.t(" (significant).")
    notable = [
        (i, r, lb, d)
        for metric, (i, r) in rows.items()
        if metric not in ("leakers_per_run", "p_raid_defeated")
        for lb, d in r["differences"].items()
        if d and d["significant"]
    ]
    items: list[_Text] = []
    if notable:
        q.t(" Other differences whose 95 % interval excludes 0 ("
            + ("" if len(jobs) == 2 else "each ") + f"minus {ref}):")  # fmt: skip
        for i, r, lb, d in notable:
            kind = "pp" if r["kind"] == "probability" else r["kind"]
            item = _Text().t(r["name"][:1].upper() + r["name"][1:])
            item.t(": " if len(jobs) == 2 else f", {lb}: ")
            item.ci(d, json_pointer("outcomes", i, "differences", lb), kind, signed=True)
            if d["favours"]:
                item.t(f" (favours {d['favours']})")
            items.append(item)
    else:
        q.t(" No other outcome differs significantly.")
    out.append(q)
    if items:
        out.append(_List(items))

    m = _Text()
    if all(j.results.meta.get("parameter_uncertainty") for j in jobs):
        m.t("Every run drew the uncertain catalog numbers (value, alternatives, confidence), so "
            "the intervals include what the public figures leave open; a significant "
            "difference holds on average over those numbers, not necessarily for every value "
            "they may take. ")  # fmt: skip
    else:
        m.t("The runs used the catalog's values only (no parameter uncertainty): the "
            "intervals cover the chance events of the engagements, not the disputed public "
            "figures (--parameter-uncertainty draws them). ")  # fmt: skip
    m.t("Figures are means over runs with 95 % intervals. ")
    if report["illustrative"]:
        m.t("The positions, the raid and many catalog numbers are illustrative public "
            "estimates: the report describes a model, not any real deployment.")  # fmt: skip
    else:
        m.t("The catalog numbers are public estimates, each with its source in the appendix: "
            "the results are as good as those figures.")  # fmt: skip
    out.append(m)
    return out


def write_report(
    jobs: Sequence[CompareJob],
    out_dir: str | Path,
    coverage: CoverageSet | None = None,
    sensitivity: bool = False,
    command: str | None = None,
    progress: Progress | None = None,
) -> ComparisonReport:
    """Write ``report.json``, ``report.html`` and ``figures/`` into ``out_dir`` for ``jobs``
    (two or more, already run with their stores in ``job.dir``; the first is the reference),
    plus each deployment's coverage products and raid map (``job.raid_map`` when given, else
    drawn from run 0) in its directory. ``coverage`` (:func:`compute_coverage_set`) adds
    the coverage section; ``sensitivity`` ranks the catalog numbers the difference in
    leakers hinges on (jobs run with parameter uncertainty and at least
    :data:`MIN_RUNS_DECISIVE` runs)."""
    if len(jobs) < 2:
        raise InputError(f"a comparison needs two or more jobs, got {len(jobs)}", "jobs")
    out = Path(out_dir)
    (out / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path] = {}
    n_steps = len(jobs) + 4 + (
        0 if coverage is None
        else len(jobs) + (len(jobs) - 1) * len(coverage.altitudes_m) * coverage.common_grid
    )  # fmt: skip
    step = [0]

    def advance() -> None:
        step[0] += 1
        if progress is not None:
            progress("report", step[0], n_steps)

    if progress is not None:
        progress("report", 0, n_steps)
    labels = [j.label for j in jobs]
    first = jobs[0].results.meta
    paired = all(
        int(j.results.meta["seed"]) == int(first["seed"])
        and int(j.results.meta["runs"]) == int(first["runs"])
        for j in jobs
    )
    cons = {j.label: open_store(j.dir) for j in jobs}
    try:
        same, raid_diffs, other_diffs = raid_differences(jobs)
        report: dict[str, Any] = {
            "schema": SCHEMA,
            "title": "Comparison: " + " vs ".join(labels),
            "iadsim_version": __version__,
            "command": command,
            "illustrative": any(j.scenario.illustrative for j in jobs),
            "confidence": CONFIDENCE,
            "reference": labels[0],
            "labels": labels,
            "deployments": [_deployment_record(j, out) for j in jobs],
            "same_raid": same,
            "raid_differences": raid_diffs,
            "other_differences": other_diffs,
            "difference_method": {
                "paired": paired,
                "name": "paired expanded percentile bootstrap over runs"
                if paired
                else "Welch t interval",
                "text": (
                    "Every deployment ran with the same seed and number of runs, so run i of "
                    "each drew from the same random streams (common random numbers). The "
                    "difference of a metric is the mean over runs of the per-run difference "
                    "(other minus reference), and its 95 % interval is the expanded percentile "
                    "bootstrap (Hesterberg 2015) of those per-run differences, the estimator of "
                    "every mean in the results store. For a probability the per-run value is "
                    "0/1 (raid defeated) or the share of the run's threats of the class; the "
                    "difference is shown in percentage points."
                    if paired
                    else "The deployments ran with different seeds or numbers of runs, so their runs "
                    "cannot be paired: the 95 % interval of a difference is Welch's t interval "
                    "for two independent means."
                ),
                "significance": "A difference is significant at the 5 % level when its 95 % "
                "interval excludes 0 (a two-sided test; each row is a test of its own, so "
                "among many rows some may pass by chance: the leakers per run is the primary "
                "outcome)",
            },  # fmt: skip
            "outcomes": outcome_rows(jobs, cons, paired),
        }
        report["interceptors_by_site"] = {
            j.label: [
                {"site": m.split("[", 1)[1][:-1], **v}
                for m, v in j.results.summary["metrics"].items()
                if m.startswith("interceptors_per_run[")
            ]
            for j in jobs
        }
        report["shots_not_taken"] = {
            j.label: reason_rows(cons[j.label], "no_engagement", int(j.results.meta["runs"]))
            for j in jobs
        }
        report["missed_salvos"] = {
            j.label: reason_rows(cons[j.label], "miss", int(j.results.meta["runs"])) for j in jobs
        }
        report["reasons_order"] = {
            kind: reason_index(report[kind], labels)
            for kind in ("shots_not_taken", "missed_salvos")
        }
        report["catalog"] = catalog_rows(jobs, cons)
    finally:
        for con in cons.values():
            con.close()
    advance()

    # pictures of the outcomes
    table = pd.DataFrame(
        [
            {"metric": r["metric"],
             **{k: v for lb in labels for k, v in (
                 (lb, (r["values"].get(lb) or {}).get("value")),
                 (f"{lb} ci_low", (r["values"].get(lb) or {}).get("ci_low")),
                 (f"{lb} ci_high", (r["values"].get(lb) or {}).get("ci_high")))}}
            for r in report["outcomes"]
        ]
    ).set_index("metric").astype(float)  # fmt: skip
    pu = all(j.results.meta.get("parameter_uncertainty") for j in jobs)
    title = (
        ("Same raid" if same else "Different raids")
        + (", illustrative" if report["illustrative"] else "")
        + f", {len(jobs)} deployments"
    )
    figures["outcomes"] = plot_comparison(
        table, labels, out / FIGURES_DIR / "outcomes.png", runs=int(first["runs"]),
        parameter_uncertainty=pu, title=title,
    )  # fmt: skip
    forest = []
    for r in report["outcomes"]:
        for lb, d in r["differences"].items():
            if d is None:
                continue
            prob = r["kind"] == "probability"
            unit = {"count": "threats or interceptors per run", "time": "seconds"}.get(
                r["kind"], "percentage points"
            )
            scale = 100.0 if prob else 1.0
            forest.append({
                "name": r["name"] if len(jobs) == 2 else f"{r['name']} ({lb})",
                "unit": unit,
                **{k: None if d[k] is None else d[k] * scale for k in ("value", "ci_low", "ci_high")},
                "significant": d["significant"],
            })  # fmt: skip
    if forest:
        pair = f"{labels[1]} minus {labels[0]}" if len(jobs) == 2 else f"each minus {labels[0]}"
        figures["differences"] = plot_differences(
            forest, out / FIGURES_DIR / "differences.png",
            title=f"Differences ({pair}) with 95 % intervals",
        )  # fmt: skip
    advance()

    # coverage
    if coverage is not None:
        report["coverage"] = _coverage_section(coverage, jobs, out, figures, advance)
    else:
        report["coverage"] = None

    # raid maps (run 0 of each job)
    for j in jobs:
        path = j.raid_map
        if path is None or not Path(path).is_file():
            with warnings.catch_warnings():  # the raids were sampled (and warned about) before
                warnings.simplefilter("ignore", IadsimWarning)
                path = plot_raid_map(j.scenario, j.results.events, j.dir / "raid-map.png")
        figures[f"raid map {j.label}"] = Path(path)
        advance()

    # what the difference hinges on
    report["decisive"] = _decisive(jobs, sensitivity, out, figures)
    advance()

    report["scenarios"] = {j.label: j.results.meta.get("scenario_text", "") for j in jobs}
    report["reasons"] = {(k or CHANCE): v for k, v in REASON_TEXT.items()}
    report["summary"] = {}
    paragraphs = summary_paragraphs(report, jobs, paired)
    report["summary"] = {
        "text": "\n\n".join(p.text for p in paragraphs),
        "blocks": [p.block() for p in paragraphs],
    }
    report["figures"] = {name: _rel(p, out) for name, p in figures.items()}
    report["files"] = {
        "report_html": REPORT_HTML,
        "report_json": REPORT_JSON,
        "deployments": {j.label: _rel(j.dir, out) for j in jobs},
    }
    report = _clean(report)
    json_path = atomic_write_text(
        out / REPORT_JSON, json.dumps(report, indent=2, allow_nan=False) + "\n"
    )
    html_path = render_report(report, figures, out / REPORT_HTML)
    advance()
    return ComparisonReport(report, html_path, json_path, list(jobs))


def _decisive(
    jobs: Sequence[CompareJob], sensitivity: bool, out: Path, figures: dict[str, Path]
) -> dict[str, Any] | None:
    """The decisive catalog numbers of the difference in leakers between the reference and
    each other deployment (:func:`iadsim.api.decisive_parameters`), or why they are not
    given; None without ``sensitivity``."""
    if not sensitivity:
        return None
    runs = min(int(j.results.meta["runs"]) for j in jobs)
    if not all(j.results.uncertain_parameters for j in jobs):
        return {"skipped": "the jobs were run without parameter uncertainty", "pairs": []}
    if runs < MIN_RUNS_DECISIVE:
        return {
            "skipped": f"ranking the catalog numbers needs at least {MIN_RUNS_DECISIVE} runs "
            f"per deployment (got {runs}): a rank correlation over fewer runs cannot tell a "
            "decisive number from chance",
            "pairs": [],
        }  # fmt: skip
    ref = jobs[0]
    pairs = []
    for j in jobs[1:]:
        rows = decisive_parameters(
            {ref.label: ref.results, j.label: j.results}, outcome="leakers", k=DECISIVE_K,
            seed=int(ref.results.meta["seed"]),
        )  # fmt: skip
        suffix = "" if len(jobs) == 2 else f"-{j.dir.name}"
        name = f"decisive {j.label}"
        figures[name] = plot_decisive(
            rows, out / FIGURES_DIR / f"decisive{suffix}.png",
            title=f"What the difference in leakers ({j.label} vs {ref.label}) hinges on",
        )  # fmt: skip
        pairs.append({"reference": ref.label, "other": j.label, "figure": name, "rows": rows})
    return {"skipped": None, "outcome": "leakers", "k": DECISIVE_K, "pairs": pairs}


def _clean(x: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN and infinities to None, tuples to lists."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
