"""``iadsim export``: a scenario or one run as GeoJSON, KML, CZML or Tacview ACMI.

Thin over :mod:`iadsim.export` (``load_scene``, ``write_scene``); a sweep's variant is built
with :func:`iadsim.sweeps.build_variants`, the layer that owns sweeps.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from iadsim.cli.coverage_cmd import print_warnings
from iadsim.cli.outputs import writes_file
from iadsim.errors import InputError


def _variant_scenario(data, settings, scenario_file):
    from iadsim.sweeps import build_variants  # lazy: CLI start-up

    return build_variants(data, [settings], scenario_file)[0]


def export_command(
    source: Path = typer.Argument(
        ...,
        metavar="INPUT",
        help="a scenario YAML file, or the --out directory of 'iadsim run' or 'iadsim sweep'",
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="geojson, kml, czml or acmi; default: from the --out file name's ending",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="output file: .geojson/.json, .kml/.kmz (zipped), .czml, .acmi/.txt.acmi or "
        ".zip.acmi (zipped)",
    ),
    run_id: int | None = typer.Option(
        None, "--run", help="results directory: the run to export (default 0)"
    ),
    variant: int | None = typer.Option(
        None, "--variant", help="results directory of a sweep: the variant (see 'iadsim results')"
    ),
    altitude_m: list[float] | None = typer.Option(
        None,
        "--altitude-m",
        help="coverage polygons at this target altitude (m AMSL; above ground with --agl); "
        "repeat for several. Default for a scenario: 1000; a run gets coverage only when given",
    ),
    no_coverage: bool = typer.Option(
        False, "--no-coverage", help="a scenario without coverage polygons (faster)"
    ),
    agl: bool = typer.Option(False, "--agl", help="the coverage altitudes are above ground"),
    threat: str = typer.Option(
        "fighter-4gen",
        "--threat",
        help="catalog threat whose RCS sets the coverage's and the drawn radar sectors' "
        "detection ranges",
    ),
    resolution_km: float = typer.Option(2.0, "--resolution-km", help="coverage cell size (km)"),
    fixed_sectors: bool = typer.Option(
        False,
        "--fixed-sectors",
        help="coverage of sector radars only around each site's heading_deg (as iadsim coverage)",
    ),
    dem: Path | None = typer.Option(
        None, "--dem", help="GeoTIFF DEM replacing the scenario's environment.dem"
    ),
    sample_s: float | None = typer.Option(
        None,
        "--sample-s",
        help="flights sampled every this many seconds (default: the scenario's time step)",
    ),
    start_utc: str | None = typer.Option(
        None,
        "--start-utc",
        help="UTC time of simulated time 0, ISO 8601 (e.g. 2024-05-01T06:00:00Z); default: "
        "12:00 local mean solar time on 2000-01-01 at the scenario's centre",
    ),
) -> None:
    """Export a scenario or one simulated run for QGIS, Google Earth, Cesium or Tacview.

    A scenario gives its sites, radar sectors, defended assets, coverage polygons (detection
    and engagement of each site and their union, at each --altitude-m) and the raids' flights
    as planned. A results directory gives one run: the threats' flights to their kill, leak or
    the end, each salvo's fly-out (drawn as a simple arc to its recorded outcome: iadsim models
    no guidance law), detections, intercepts, misses and leaks, over time. docs/exports.md
    describes each format.

    Example: iadsim export out/patriot --run 0 --out out/patriot-run0.zip.acmi
    """
    from iadsim.export import format_for, load_scene, write_scene  # lazy: CLI start-up

    kind = format_for(out, fmt)
    if no_coverage and altitude_m:
        raise InputError(
            "no_coverage leaves the coverage out and altitudes_m asks for it; give one",
            ("no_coverage", "altitudes_m"),
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scene = load_scene(
            source,
            run_id=run_id,
            variant=variant,
            variant_scenario=_variant_scenario,
            altitudes_m=[] if no_coverage else altitude_m,
            agl=agl,
            threat=threat,
            resolution_km=resolution_km,
            fixed_sectors=fixed_sectors,
            dem=dem,
            sample_s=sample_s,
            start_utc=start_utc,
        )
        path = write_scene(scene, kind, out)
    print_warnings(caught)
    parts = ", ".join(f"{n} {k}" for k, n in scene.counts().items() if n)
    typer.echo(f"wrote {path} ({kind}): {parts or 'nothing to draw'}")


def register(app: typer.Typer) -> None:
    """Add ``export`` to the app."""
    app.command("export")(writes_file("scenario.kml")(export_command))
