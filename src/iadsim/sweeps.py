"""Sweeps: one Monte Carlo job over the cross product of scenario settings.

>>> import iadsim
>>> sw = iadsim.sweep("examples/raid_patriot_networked.yaml",
...                   {"networks.nato-iamd.mode": ["cued", "engage_on_remote"],
...                    "catalog_overrides.pac-3-mse.pk.cruise": [0.6, 0.8]},
...                   runs=100, workers=2, out_dir="out/sweep")
>>> sw.table()            # one row per variant: its settings and key metrics with intervals

A **path** names one value of the scenario as written in its YAML file, with dots between
keys (``time.duration_s``, ``environment.k_factor``). In a list, a segment is an index
(``sites.0.heading_deg``) or the ``id`` of an element (``sites.esenboga-patriot.lat``,
``networks.nato-iamd.latency_s``); missing mappings on the way are created
(``sites.esenboga-patriot.interceptors.pac-3-mse`` sets an inventory the site did not
state). ``catalog_overrides.ITEM.FIELD`` sets catalog number ``FIELD`` of item ``ITEM`` (the
dotted paths ``iadsim catalog show ITEM`` lists) in the catalog's unit, as an exact what-if
value: parameter uncertainty leaves a swept number fixed at each variant's value.

**Variants** are the cross product of the values, in the order given (the last ``--vary``
varies fastest); variant ``v`` is the base scenario with its settings, validated as a scenario
file is (an invalid variant is refused before any run, naming the setting).

**Seeds** (common random numbers): run ``i`` of every variant draws from the streams of run
``i`` of a plain job with the same seed (:func:`iadsim.montecarlo.run_rng` ``(seed, i)``, and
with parameter uncertainty :func:`iadsim.uncertainty.parameter_rng` ``(seed, i)``), so a
variant's numbers are exactly those of ``iadsim run`` on that variant with the same seed, the
variants differ by their settings and not by luck, and nothing depends on the number of
workers or the backend.

**One job**: the variants' runs are the work items ``variant * runs + run_id`` of one
:class:`iadsim.montecarlo.SweepJob`, run on the same backends as ``iadsim run`` (local
processes or Dask), committed in chunks to one partial store with a ``variant`` column
(:class:`iadsim.results.jobstore.JobStore`) and resumable after any interruption.

**Outputs** (``out_dir``): ``results.duckdb``, the tables of a results store
(docs/results.md) each with a leading ``variant`` column, plus ``variants`` (variant, label,
settings as JSON, scenario_sha256); ``summary.json`` (the job's provenance and each variant's
settings and metrics); ``sweep.csv`` (one row per variant: settings and key metrics with their
95 % intervals) and ``sweep.png`` (those metrics per variant).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from iadsim import catalog
from iadsim._version import __version__
from iadsim.api import (
    BYTES_PER_RUN,
    BYTES_PER_THREAT_RUN,
    RunSet,
    _sha256,
    catalog_values,
    parameter_record,
    unresolved_message,
)
from iadsim.checks import warn_before_run
from iadsim.errors import CatalogError, IadsimError, InputError, UnresolvedThreatsWarning
from iadsim.fileio import atomic_path, atomic_write_text, job_out_dir
from iadsim.memory import check_memory
from iadsim.montecarlo import (
    DRAW_COLUMNS,
    ParameterJob,
    Progress,
    SweepJob,
    _concat,
    check_job_args,
    chunk_size_for,
    run_sweep_item,
    stream_replications,
)
from iadsim.results.jobstore import VARIANT_COLUMNS, JobStore, first_record
from iadsim.results.metrics import CONFIDENCE
from iadsim.results.store import (
    STORE_NAME,
    SUMMARY_JSON,
    TABLES,
    _clean,
    _clean_tree,
    insert_frame,
    write_summary_json,
)
from iadsim.scenario import Scenario, scenario_from_dict
from iadsim.sim import engine
from iadsim.sim.cache import PrepareCache
from iadsim.uncertainty import uncertain_parameters
from iadsim.yamlpos import load_with_lines

SWEEP_CSV = "sweep.csv"
SWEEP_PNG = "sweep.png"
#: variants a sweep may have (a cross product grows fast: 5 settings of 10 values is 10^5)
MAX_VARIANTS = 10_000
#: the source recorded for a catalog number set by a sweep
SWEEP_SOURCE = "what-if value of a sweep (iadsim sweep --vary)"
#: metrics of the sweep table and plot
SWEEP_METRICS = (
    "leakers_per_run",
    "p_raid_defeated",
    "interceptors_spent_per_run",
    "mean_warning_time_s",
)


@dataclass(frozen=True)
class Vary:
    """One varied setting: the path into the scenario and its values, in order."""

    path: str
    values: tuple[Any, ...]

    @property
    def text(self) -> str:
        """As given on the command line: ``PATH=V1,V2``."""
        return f"{self.path}=" + ",".join(format_value(v) for v in self.values)


def format_value(v: Any) -> str:
    """A setting's value as short text (YAML flow style for lists and mappings)."""
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, dict)):
        return yaml.safe_dump(v, default_flow_style=True).strip()
    return str(v)


def split_values(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and braces (``[1, 2],[3, 4]`` is two
    values)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [v.strip() for v in out]


def parse_vary(spec: str) -> Vary:
    """``PATH=V1,V2,...`` as a :class:`Vary`; each value is read as YAML (``8``, ``0.7``,
    ``cued``, ``true``, ``[39.9, 32.8]``). A one-line :class:`InputError` naming ``vary``
    otherwise."""
    path, sep, rest = spec.partition("=")
    path = path.strip()
    if not sep or not path:
        raise InputError(
            f"vary {spec!r}: give PATH=V1,V2,..., e.g. networks.0.mode=cued,engage_on_remote",
            "vary",
        )
    if any(not seg for seg in path.split(".")):
        raise InputError(f"vary {spec!r}: path {path!r} has an empty segment", "vary")
    values = []
    for text in split_values(rest):
        if not text:
            raise InputError(f"vary {spec!r}: an empty value; give V1,V2,...", "vary")
        try:
            values.append(yaml.safe_load(text))
        except yaml.YAMLError:
            raise InputError(f"vary {spec!r}: value {text!r} is not valid YAML", "vary") from None
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            raise InputError(f"vary {spec!r}: values must be finite, got {v}", "vary")
    if len(set(map(format_value, values))) != len(values):
        raise InputError(f"vary {spec!r}: a value is given twice", "vary")
    return Vary(path, tuple(values))


def as_varies(vary: Any) -> list[Vary]:
    """``--vary`` texts, :class:`Vary` objects or a ``{path: values}`` mapping as a list of
    :class:`Vary` (paths distinct, at least one)."""
    if isinstance(vary, Mapping):
        items = [
            v if isinstance(v, Vary) else Vary(str(p), tuple(_as_list(v))) for p, v in vary.items()
        ]
    else:
        items = [v if isinstance(v, Vary) else parse_vary(str(v)) for v in vary or []]
    if not items:
        raise InputError("vary: give at least one setting to vary (PATH=V1,V2,...)", "vary")
    seen: set[str] = set()
    for v in items:
        if not v.values:
            raise InputError(f"vary {v.path}: give at least one value", "vary")
        if v.path in seen:
            raise InputError(f"vary {v.path}: the path is given twice; give it once", "vary")
        seen.add(v.path)
    return items


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _child(node: Any, seg: str, path: str, create: bool) -> Any:
    """The element ``seg`` of ``node`` (a mapping key, a list index or a list element's
    ``id``), creating a mapping for a missing key when ``create``."""
    if isinstance(node, dict):
        if seg not in node or node[seg] is None:
            if not create:
                return None
            node[seg] = {}
        return node[seg]
    if isinstance(node, list):
        return node[_index(node, seg, path)]
    raise InputError(
        f"vary {path}: {seg!r} is inside {format_value(node)!r}, which is a value, not a "
        "mapping or a list",
        "vary",
    )


def _index(node: list, seg: str, path: str) -> int:
    if seg.lstrip("-").isdigit():
        i = int(seg)
        if not 0 <= i < len(node):
            raise InputError(
                f"vary {path}: index {i} out of range (the list has {len(node)} elements)",
                "vary",
            )
        return i
    ids = [e.get("id") for e in node if isinstance(e, dict)]
    if seg in ids:
        return ids.index(seg)
    raise InputError(
        f"vary {path}: no element with id {seg!r}; ids: {', '.join(map(str, ids)) or 'none'} "
        "(or give an index)",
        "vary",
    )


def apply_setting(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` (see the module docstring) to ``value`` in the scenario dict ``data``."""
    parts = path.split(".")
    if parts[0] == "catalog_overrides":
        _set_override(data, path, parts, value)
        return
    node: Any = data
    for seg in parts[:-1]:
        node = _child(node, seg, path, create=True)
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    elif isinstance(node, list):
        node[_index(node, last, path)] = copy.deepcopy(value)
    else:
        _child(node, last, path, create=True)  # raises: a value has no elements


def _set_override(data: dict[str, Any], path: str, parts: list[str], value: Any) -> None:
    if len(parts) < 3:
        raise InputError(
            f"vary {path}: give catalog_overrides.ITEM.FIELD, e.g. "
            "catalog_overrides.pac-3-mse.pk.cruise",
            "vary",
        )
    item, fld = parts[1], ".".join(parts[2:])
    try:
        q = catalog.base().quantity(item, fld)
    except (CatalogError, KeyError, AttributeError, IndexError, TypeError, ValueError) as exc:
        hint = str(exc) if isinstance(exc, CatalogError) else f"{item} has no number {fld!r}"
        raise InputError(
            f"vary {path}: {hint}; 'iadsim catalog show {item}' lists its numbers", "vary"
        ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(
            f"vary {path}: a catalog number takes numbers (in {q.unit}), got "
            f"{format_value(value)!r}",
            "vary",
        )
    overrides = data.setdefault("catalog_overrides", {})
    if not isinstance(overrides, dict):
        raise InputError(f"vary {path}: the scenario's catalog_overrides is not a mapping", "vary")
    entries = overrides.setdefault(item, {})
    if not isinstance(entries, dict):
        raise InputError(f"vary {path}: catalog_overrides.{item} is not a mapping", "vary")
    entries[fld] = {"value": float(value), "unit": q.unit, "source": SWEEP_SOURCE}


def variant_settings(varies: Sequence[Vary]) -> list[dict[str, Any]]:
    """The settings of every variant, ``{path: value}``, in cross-product order (the last
    setting varies fastest); refused beyond :data:`MAX_VARIANTS`."""
    n = math.prod(len(v.values) for v in varies)
    if n > MAX_VARIANTS:
        raise InputError(
            f"vary: {n:,} variants (the cross product of "
            + " x ".join(str(len(v.values)) for v in varies)
            + f" values) exceed the limit of {MAX_VARIANTS:,}; vary fewer settings or values",
            "vary",
        )
    return [
        dict(zip((v.path for v in varies), combo, strict=True))
        for combo in itertools.product(*(v.values for v in varies))
    ]


def variant_label(settings: Mapping[str, Any]) -> str:
    """``path=value, path=value``."""
    return ", ".join(f"{p}={format_value(v)}" for p, v in settings.items())


def short_names(paths: Sequence[str]) -> list[str]:
    """Short names of setting paths (table heads, chart labels): the last segment, or a
    catalog override's field, or the whole path where two would share one."""
    short = [
        ".".join(p.split(".")[2:]) if p.startswith("catalog_overrides.") else p.split(".")[-1]
        for p in paths
    ]
    return [s if short.count(s) == 1 else p for s, p in zip(short, paths, strict=True)]


def short_label(settings: Mapping[str, Any]) -> str:
    """``name=value, name=value`` with :func:`short_names`."""
    names = short_names(list(settings))
    return ", ".join(
        f"{n}={format_value(v)}" for n, v in zip(names, settings.values(), strict=True)
    )


def _base_data(scenario_or_path: Any) -> tuple[dict[str, Any], Path | None, str]:
    """The base scenario as a dict (as written), its file and its text."""
    if isinstance(scenario_or_path, (str, Path)):
        path = Path(scenario_or_path)
        if not path.is_file():
            raise InputError(f"{path}: scenario file not found")
        data, _ = load_with_lines(path)
        if not isinstance(data, dict):
            raise InputError(f"{path}:1: a scenario must be a YAML mapping with 'name' and 'sites'")
        return data, path, path.read_text(encoding="utf-8")
    if isinstance(scenario_or_path, Mapping):
        data = copy.deepcopy(dict(scenario_or_path))
        return data, None, json.dumps(data, sort_keys=True, default=str)
    raise InputError(
        "sweep() takes a scenario path or dict (the settings are paths into the file as "
        f"written), not {type(scenario_or_path).__name__}"
    )


def build_variants(
    base: dict[str, Any], settings: Sequence[Mapping[str, Any]], scenario_file: Path | None
) -> list[Scenario]:
    """Each variant's resolved scenario: the base with its settings applied, validated like a
    scenario file; a one-line :class:`InputError` naming ``vary`` and the variant otherwise.
    The base's file (when any) stays the variant's (relative DEM paths, messages)."""
    base_dir = scenario_file.parent if scenario_file is not None else None
    out = []
    for s in settings:
        data = copy.deepcopy(base)
        for path, value in s.items():
            apply_setting(data, path, value)
        try:
            scn = scenario_from_dict(data, base_dir)
        except IadsimError as exc:
            why = str(exc).removeprefix("scenario: ")
            raise InputError(f"vary: variant {variant_label(s)}: {why}", "vary") from None
        if scenario_file is not None:
            scn._path = scenario_file
        out.append(scn)
    return out


@dataclass
class SweepResult:
    """The result of a sweep: the job's ``meta``, each variant's ``variants`` record
    (variant, label, settings) and its :class:`~iadsim.api.RunSet` (``runsets[v]``, with the
    variant's events, per-threat rows, summary, catalog values, site defaults)."""

    meta: dict[str, Any]
    variants: list[dict[str, Any]]
    runsets: list[RunSet] = field(repr=False)

    def table(self, metrics: Sequence[str] = SWEEP_METRICS) -> pd.DataFrame:
        """One row per variant: ``variant``, ``label``, one column per setting, and for each
        of ``metrics`` its value and 95 % interval (``M``, ``M ci_low``, ``M ci_high``)."""
        rows = []
        for rec, rs in zip(self.variants, self.runsets, strict=True):
            row: dict[str, Any] = {"variant": rec["variant"], "label": rec["label"]}
            row.update({p: format_value(v) for p, v in rec["settings"].items()})
            ms = rs.summary["metrics"]
            for m in metrics:
                est = ms.get(m, {})
                row[m] = est.get("value")
                row[f"{m} ci_low"] = est.get("ci_low")
                row[f"{m} ci_high"] = est.get("ci_high")
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def summary(self) -> dict[str, Any]:
        """The dict written to ``summary.json``: the job's provenance and, per variant, its
        settings, metrics, catalog overrides and site defaults."""
        out = {k: _clean_tree(v) for k, v in self.meta.items()}
        out["by_variant"] = []
        for rec, rs in zip(self.variants, self.runsets, strict=True):
            s = rs.summary
            out["by_variant"].append(
                _clean_tree(
                    {
                        **rec,
                        "scenario": s.get("scenario"),
                        "catalog_overrides": s.get("catalog_overrides", []),
                        "site_defaults": s.get("site_defaults", []),
                        "metrics": s["metrics"],
                    }
                )
            )
        return out

    def save(self, out_dir: str | Path) -> list[Path]:
        """Write results.duckdb, summary.json, sweep.csv and sweep.png to ``out_dir``, each
        atomically; returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        store = write_sweep_store(out / STORE_NAME, self)
        write_summary_json(out / SUMMARY_JSON, self.summary)
        csv = out / SWEEP_CSV
        table = self.table()
        atomic_write_text(csv, table.to_csv(index=False, float_format="%.6g"))
        from iadsim.report.sweep import plot_sweep  # lazy: matplotlib

        labels = [short_label(rec["settings"]) for rec in self.variants]
        png = plot_sweep(table, labels, SWEEP_METRICS, self.meta, out / SWEEP_PNG)
        return [store, out / SUMMARY_JSON, csv, png]


def write_sweep_store(path: str | Path, result: SweepResult) -> Path:
    """The sweep's results store at ``path``, written atomically: every table of a job's
    store with a leading ``variant`` column, the ``variants`` table and ``meta``."""
    with atomic_path(path) as tmp:
        tmp.unlink()  # DuckDB wants to create the file itself
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET threads = 1")
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
            rows = [(k, str(v)) for k, v in result.meta.items() if not isinstance(v, (list, dict))]
            rows.append(("vary", json.dumps(result.meta.get("vary", []))))
            con.executemany("INSERT INTO meta VALUES (?, ?)", rows)
            con.execute(
                "CREATE TABLE variants (variant INTEGER, label VARCHAR, settings VARCHAR, "
                "scenario_sha256 VARCHAR)"
            )
            con.executemany(
                "INSERT INTO variants VALUES (?, ?, ?, ?)",
                [
                    (r["variant"], r["label"], json.dumps(r["settings"]), r["scenario_sha256"])
                    for r in result.variants
                ],
            )
            schemas = {name: {**VARIANT_COLUMNS, **s} for name, s in TABLES.items()}
            for name, schema in schemas.items():
                cols = ", ".join(f"{c} {t}" for c, t in schema.items())
                con.execute(f"CREATE TABLE {name} ({cols})")
            for rec, rs in zip(result.variants, result.runsets, strict=True):
                frames = {
                    "runs": rs.runs,
                    "events": rs.events,
                    "per_threat": rs.per_threat,
                    "summary": rs.summary_table,
                    **rs._tables(),
                }
                for name, frame in frames.items():
                    if frame is not None and len(frame):
                        insert_frame(con, name, frame.assign(variant=rec["variant"]), schemas[name])
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return Path(path)


def sweep(
    scenario_or_path: Any,
    vary: Any,
    runs: int = 100,
    seed: int = 0,
    workers: int = 1,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    parameter_uncertainty: bool = False,
    resume: bool = False,
    command: str | None = None,
) -> SweepResult:
    """Run ``runs`` Monte Carlo replications of every variant of a scenario (the cross
    product of ``vary``) as one job; see the module docstring for the paths, the variants,
    the seeds and the outputs.

    ``vary``: ``{path: [values]}``, or ``PATH=V1,V2`` texts as ``iadsim sweep --vary`` takes
    them. The other arguments are those of :func:`iadsim.api.run`: with ``out_dir`` the job
    locks the directory, commits chunks of runs as they finish and, with ``resume``,
    continues an interrupted sweep (same scenario text, settings, seed, runs and options)
    running only the missing runs; ``progress(done, total)`` counts the runs of all variants.
    """
    check_job_args(runs, seed, workers, backend, scheduler)
    if resume and out_dir is None:
        raise InputError("resume continues a job in out_dir: give out_dir", ("resume", "out_dir"))
    varies = as_varies(vary)
    settings = variant_settings(varies)
    if command is None:
        command = (
            f"iadsim.sweep({str(scenario_or_path)!r}, {[v.text for v in varies]!r}, "
            f"runs={runs}, seed={seed}, parameter_uncertainty={parameter_uncertainty})"
        )
    base, scenario_file, text = _base_data(scenario_or_path)
    if out_dir is None:
        return _sweep(base, scenario_file, text, varies, settings, runs, seed, workers, None,
                      progress, backend, scheduler, parameter_uncertainty, False, command)  # fmt: skip
    with job_out_dir(out_dir, "out_dir") as out:
        return _sweep(base, scenario_file, text, varies, settings, runs, seed, workers, out,
                      progress, backend, scheduler, parameter_uncertainty, resume, command)  # fmt: skip


def _sweep(
    base: dict[str, Any],
    scenario_file: Path | None,
    text: str,
    varies: list[Vary],
    settings: list[dict[str, Any]],
    runs: int,
    seed: int,
    workers: int,
    out: Path | None,
    progress: Progress | None,
    backend: str,
    scheduler: str | None,
    parameter_uncertainty: bool,
    resume: bool,
    command: str,
) -> SweepResult:
    scenarios = build_variants(base, settings, scenario_file)
    n_var = len(scenarios)
    n_threats = max(sum(r.count for r in s.raids) for s in scenarios)
    check_memory(
        n_var * runs * (BYTES_PER_RUN + n_threats * BYTES_PER_THREAT_RUN),
        f"the results of {n_var:,} variants x {runs:,} Monte Carlo replications of up to "
        f"{n_threats:,} threats",
        "use fewer runs or variants",
        "runs",
    )
    for scn in scenarios:
        warn_before_run(scn)
    values = [catalog_values(s) for s in scenarios]
    records = [
        {
            "variant": v,
            "label": variant_label(s),
            "settings": s,
            "scenario_sha256": _sha256(scn.model_dump_json()),
        }
        for v, (s, scn) in enumerate(zip(settings, scenarios, strict=True))
    ]
    meta: dict[str, Any] = {
        "scenario": scenarios[0].name,
        "seed": seed,
        "runs": runs,
        "variants": n_var,
        "confidence": CONFIDENCE,
        "iadsim_version": __version__,
        "parameter_uncertainty": bool(parameter_uncertainty),
        "scenario_file": None if scenario_file is None else str(scenario_file),
        "scenario_sha256": _sha256(text),
        "sweep_sha256": _sha256(json.dumps([v.text for v in varies])),
        "catalog_sha256": _sha256(json.dumps(values, sort_keys=True)),
        "command": command,
        "scenario_text": text,
        "vary": [v.text for v in varies],
    }
    store: JobStore | None = None
    if out is not None:
        store = JobStore.open(out, meta, resume, VARIANT_COLUMNS)
        meta.update(first_record(store.stored_meta))
    cache = PrepareCache()  # shared by the variants: DEM, raid flights, terrain grids
    try:
        works: list[Any] = []
        deps: list[Any] = []
        params_of: list[list[Any]] = []
        for scn in scenarios:
            if parameter_uncertainty:
                params = uncertain_parameters(scn)
                pjob = ParameterJob(scn, params, seed)
                deps.append(engine.prepare(scn, cache=pjob.cache).deployment)
                works.append(pjob)
                params_of.append(params)
            else:
                prepared = engine.prepare(scn, cache=cache)
                deps.append(prepared.deployment)
                works.append(prepared)
                params_of.append([])
        job = SweepJob(works, runs)
        frames = _run_items(job, store, seed, workers, backend, scheduler, progress)
        runsets = []
        for v, scn in enumerate(scenarios):
            parts = [
                f[f["variant"] == v].drop(columns="variant").reset_index(drop=True)
                if "variant" in f
                else f.iloc[0:0]
                for f in frames
            ]
            dep = deps[v]
            vmeta = {
                "scenario": scn.name,
                "seed": seed,
                "runs": runs,
                "confidence": CONFIDENCE,
                "iadsim_version": __version__,
                "parameter_uncertainty": bool(parameter_uncertainty),
                "variant": v,
                "label": records[v]["label"],
                "catalog_overrides": [o.as_dict() for o in scn.catalog.overrides],
                "uncertain_parameters": [parameter_record(p) for p in params_of[v]],
                "fire_units": [] if dep is None else dep.fire_unit_ids,
                "catalog_values": values[v],
            }
            draws = parts[3] if len(parts[3]) else pd.DataFrame(columns=DRAW_COLUMNS)
            defaults = [] if dep is None else dep.provenance_records(defaults_only=True)
            runsets.append(
                RunSet(
                    vmeta,
                    parts[0],
                    parts[1],
                    parts[2],
                    site_defaults=defaults,
                    parameter_draws=draws,
                )  # fmt: skip
            )
        result = SweepResult(meta, records, runsets)
        if out is not None and store is not None:
            result.save(out)
            store.finish()
        for rs in runsets:
            message = unresolved_message(rs.events, runs)
            if message:
                warnings.warn(
                    UnresolvedThreatsWarning(f"variant {rs.meta['label']}: {message}"),
                    stacklevel=3,
                )
        return result
    finally:
        cache.close()
        if store is not None:
            store.close()


def _run_items(
    job: SweepJob,
    store: JobStore | None,
    seed: int,
    workers: int,
    backend: str,
    scheduler: str | None,
    progress: Progress | None,
) -> list[pd.DataFrame]:
    """Run the work items of ``job`` missing from ``store`` (all without one), committing
    each chunk as it finishes; return the frames of every item in (variant, run id) order."""
    total = job.items
    done = store.done_ids() if store is not None else set()
    collected: dict[int, tuple[pd.DataFrame, ...]] = {}
    if progress is not None:
        progress(len(done), total)
    count = len(done)

    def commit(chunk: Any) -> None:
        nonlocal count
        if store is not None:
            count = store.commit(chunk)
        else:
            first = chunk[0].iloc[0]
            collected[int(first["variant"]) * job.runs + int(first["run_id"])] = chunk
            count += len(chunk[0])
        if progress is not None:
            progress(count, total)

    if len(done) < total:
        stream_replications(
            job, (i for i in range(total) if i not in done), commit, seed, workers, backend,
            scheduler, chunk_size_for(total, workers), run_sweep_item,
        )  # fmt: skip
    if store is not None:
        return store.frames()
    ordered = [collected[k] for k in sorted(collected)]
    return [_concat([c[i] for c in ordered]) for i in range(4)]


def read_sweep_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The sweep table (as :meth:`SweepResult.table`) of a sweep's store, or None when the
    store is a plain job's."""
    names = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    if "variants" not in names:
        return None
    variants = con.execute("SELECT variant, label, settings FROM variants ORDER BY variant").df()
    summ = con.execute("SELECT variant, metric, value, ci_low, ci_high FROM summary").df()
    rows = []
    for r in variants.itertuples(index=False):
        row: dict[str, Any] = {"variant": int(r.variant), "label": r.label}
        row.update({p: format_value(v) for p, v in json.loads(r.settings).items()})
        mine = summ[summ["variant"] == r.variant].set_index("metric")
        for m in SWEEP_METRICS:
            has = m in mine.index
            row[m] = _clean(mine.at[m, "value"]) if has else None
            row[f"{m} ci_low"] = _clean(mine.at[m, "ci_low"]) if has else None
            row[f"{m} ci_high"] = _clean(mine.at[m, "ci_high"]) if has else None
        rows.append(row)
    return pd.DataFrame(rows)
