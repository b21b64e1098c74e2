"""Exports to the tools analysts already use: GeoJSON (QGIS, GDAL), KML (Google Earth), CZML
(Cesium) and Tacview ACMI 2.2.

>>> from iadsim.export import export
>>> export("examples/ankara.yaml", "kml", "out/ankara.kml", altitudes_m=[1000, 10000])
>>> export("out/patriot", "acmi", "out/patriot-run0.zip.acmi", run_id=0)

The input is a scenario file (sites, radar sectors, assets, coverage polygons at the
altitudes, the raids' flights as planned) or a results directory of ``iadsim run`` (one run:
the threats' flights, interceptor fly-outs, detections, intercepts, misses, leaks, over
time; :mod:`iadsim.export.runs`), or of ``iadsim sweep`` with ``variant``. Both become a
:class:`~iadsim.export.scene.Scene`, which each writer formats; every file is written
atomically (:mod:`iadsim.fileio`). docs/exports.md describes each format's content and how to
open it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from iadsim.errors import InputError
from iadsim.export.acmi import write_acmi
from iadsim.export.czml import write_czml
from iadsim.export.geojson import write_geojson
from iadsim.export.kml import write_kml
from iadsim.export.runs import VariantScenario, run_scene
from iadsim.export.scene import Scene, parse_start_utc, scenario_scene, with_dem
from iadsim.results.store import PARTIAL_NAME, STORE_NAME
from iadsim.scenario import load_scenario

__all__ = ["FORMATS", "SUFFIXES", "Scene", "export", "format_for", "load_scene", "write_scene"]

#: each format's writer
WRITERS = {"geojson": write_geojson, "kml": write_kml, "czml": write_czml, "acmi": write_acmi}
FORMATS = tuple(WRITERS)
#: the file name endings each format is written to (the first is the usual one)
SUFFIXES = {
    "geojson": (".geojson", ".json"),
    "kml": (".kml", ".kmz"),
    "czml": (".czml",),
    "acmi": (".acmi", ".txt.acmi", ".zip.acmi"),
}
#: altitudes of a scenario's coverage when none are given, m
DEFAULT_ALTITUDES_M = (1000.0,)


def format_for(out: str | Path, fmt: str | None = None) -> str:
    """The format of ``out``: ``fmt`` checked against the file name's ending, or, without
    ``fmt``, the format that ending belongs to. One-line :class:`InputError` naming ``fmt``
    (an unknown format) or ``out`` (an ending of another format, or none)."""
    name = Path(out).name.lower()
    by_suffix = next((f for f, sfx in SUFFIXES.items() if name.endswith(sfx)), None)
    if fmt is not None:
        fmt = fmt.lower()
        if fmt not in WRITERS:
            raise InputError(f"fmt {fmt!r} is not a format; choose {', '.join(FORMATS)}", "fmt")
        if not name.endswith(SUFFIXES[fmt]):
            raise InputError(
                f"out {str(out)!r} does not end in {' or '.join(SUFFIXES[fmt])}, the ending of "
                f"fmt {fmt}{f' (it is that of {by_suffix})' if by_suffix else ''}; rename it, "
                "e.g. " + Path(out).name.split(".")[0] + SUFFIXES[fmt][0],
                ("out", "fmt"),
            )
        return fmt
    if by_suffix is None:
        endings = ", ".join(s for sfx in SUFFIXES.values() for s in sfx)
        raise InputError(
            f"out {str(out)!r}: give fmt ({', '.join(FORMATS)}) or a file name ending in one "
            f"of {endings}",
            ("out", "fmt"),
        )
    return by_suffix


def _input_kind(path: Path) -> str:
    if path.is_dir():
        if (path / STORE_NAME).is_file() or (path / PARTIAL_NAME).is_file():
            return "results"
        raise InputError(
            f"{path}: a directory without a results store ({STORE_NAME}); give a scenario "
            "YAML file or the --out directory of 'iadsim run' or 'iadsim sweep'"
        )
    if not path.exists():
        raise InputError(f"{path}: not found; give a scenario YAML file or a results directory")
    if path.suffix.lower() == ".duckdb":
        return "results"
    return "scenario"


def load_scene(
    source: str | Path,
    *,
    run_id: int | None = None,
    variant: int | None = None,
    variant_scenario: VariantScenario | None = None,
    altitudes_m: Sequence[float] | None = None,
    agl: bool = False,
    threat: str = "fighter-4gen",
    resolution_km: float = 2.0,
    fixed_sectors: bool = False,
    dem: str | Path | None = None,
    sample_s: float | None = None,
    start_utc: str | dt.datetime | None = None,
) -> Scene:
    """The :class:`Scene` of a scenario file or of one run of a results directory.

    A scenario gets coverage at ``altitudes_m`` (default :data:`DEFAULT_ALTITUDES_M`; ``[]``
    for none); a run gets coverage only when ``altitudes_m`` is given. ``run_id`` (default 0)
    and ``variant`` (a sweep's) choose the run; ``variant_scenario`` builds a sweep variant's
    scenario (:data:`iadsim.export.runs.VariantScenario`). ``threat`` sets the detection
    ranges of the coverage and of the drawn radar sectors; ``dem`` replaces the scenario's
    DEM; ``sample_s`` is the flights' sampling interval (default the scenario's time step);
    ``start_utc`` the UTC time of simulated time 0 (default: see :mod:`iadsim.export.scene`).
    """
    path = Path(source)
    kind = _input_kind(path)
    start = parse_start_utc(start_utc)
    if kind == "scenario":
        for name, value in (("run_id", run_id), ("variant", variant)):
            if value is not None:
                raise InputError(
                    f"{name} chooses a run of a results directory; {path} is a scenario file",
                    name,
                )
        scn = with_dem(load_scenario(path), dem)
        return scenario_scene(
            scn,
            altitudes_m=DEFAULT_ALTITUDES_M if altitudes_m is None else altitudes_m,
            agl=agl,
            threat=threat,
            resolution_km=resolution_km,
            fixed_sectors=fixed_sectors,
            sample_s=sample_s,
            start_utc=start,
            source={"input": "scenario", "scenario": str(path)},
        )
    return run_scene(
        path,
        0 if run_id is None else run_id,
        variant=variant,
        variant_scenario=variant_scenario,
        altitudes_m=altitudes_m or (),
        agl=agl,
        threat=threat,
        resolution_km=resolution_km,
        fixed_sectors=fixed_sectors,
        dem=dem,
        sample_s=sample_s,
        start_utc=start,
    )


def write_scene(scene: Scene, fmt: str, out: str | Path) -> Path:
    """Write ``scene`` in format ``fmt`` to ``out`` (atomically)."""
    return WRITERS[format_for(out, fmt)](scene, out)


def export(source: str | Path, fmt: str | None, out: str | Path, **options) -> Path:
    """Export a scenario or one run of a results directory (:func:`load_scene`, whose keyword
    ``options`` it takes) to ``out`` in format ``fmt`` (None: from the file name's ending,
    :data:`SUFFIXES`). The format and name are checked before any work. Returns ``out``."""
    fmt = format_for(out, fmt)
    scene = load_scene(source, **options)
    return WRITERS[fmt](scene, out)
