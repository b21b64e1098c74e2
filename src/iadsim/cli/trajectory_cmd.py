"""``iadsim trajectory``: one threat's flight from a launch point to an aim point, as CSV.

Thin over :func:`iadsim.sim.kinematics.point_to_point`: ballistic threats fly their catalog boost
(``--boost-model``, "climb" by default) and the drag-free Keplerian arc (minimum-energy unless
``--apogee-km``) from and to sea level (no terrain: a raid in a scenario with a DEM starts and
ends on the ground there), air threats a straight geodesic at their cruise altitude. Writes
``time_s, lat, lon, alt_m, speed_mps`` atomically (temp file + rename).
"""

from __future__ import annotations

import warnings
from enum import StrEnum
from pathlib import Path
from typing import cast

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from iadsim.cli.coverage_cmd import print_warnings
from iadsim.cli.outputs import writes_file
from iadsim.errors import IadsimWarning, InputError
from iadsim.fileio import atomic_write

COLUMNS = ("time_s", "lat", "lon", "alt_m", "speed_mps")


class BoostChoice(StrEnum):
    arc = "arc"
    climb = "climb"


_FORMATS = ("%.3f", "%.7f", "%.7f", "%.1f", "%.2f")


def parse_lat_lon(text: str, option: str) -> tuple[float, float]:
    """'50.45,30.52' -> (50.45, 30.52); InputError naming the option otherwise."""
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(
            f"{option}: expected LAT,LON in degrees, e.g. 50.45,30.52 (got {text!r})"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{option}: {text!r} is outside lat [-90, 90], lon [-180, 180]")
    return lat, lon


def write_csv_atomic(path: Path, cols: dict[str, np.ndarray]) -> None:
    """Write the columns to ``path`` via a temp file in the same directory, flushed to disk,
    then os.replace (:func:`iadsim.fileio.atomic_write`), so a reader never sees a
    half-written file."""
    data = np.column_stack([cols[c] for c in COLUMNS])

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            np.savetxt(fh, data, fmt=_FORMATS, delimiter=",", header=",".join(COLUMNS), comments="")

    atomic_write(path, write, fsync=True)


def _summary_table(summary: dict[str, object], out: Path, rows: int) -> Table:
    table = Table(title=f"{summary['threat']}: {summary['name']}", show_header=False)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if key in ("threat", "name"):
            continue
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    table.add_row("csv", f"{out} ({rows} rows)")
    return table


def register(app: typer.Typer) -> None:
    """Add ``iadsim trajectory`` to the app."""

    @app.command("trajectory")
    @writes_file("srbm.csv")
    def trajectory(
        threat: str = typer.Argument(
            ..., metavar="THREAT", help="catalog threat id, e.g. srbm-300, cruise-missile"
        ),
        from_: str = typer.Option(..., "--from", help="launch point LAT,LON in degrees"),
        to: str = typer.Option(..., "--to", help="aim point LAT,LON in degrees"),
        apogee_km: float | None = typer.Option(
            None,
            "--apogee-km",
            help="ballistic apogee; above minimum-energy: lofted, below: depressed",
        ),
        step_s: float = typer.Option(1.0, "--step-s", help="sample interval in seconds"),
        boost_model: BoostChoice = typer.Option(
            BoostChoice.climb,
            "--boost-model",
            help="climb (default: a powered climb from rest, then the arc; closer to published "
            "flight times) or arc (the drag-free arc's textbook timing, boost overlaid)",
        ),
        out: Path = typer.Option(..., "--out", help="CSV file: time_s, lat, lon, alt_m, speed_mps"),
    ) -> None:
        """Fly one threat from --from to --to and write its trajectory as CSV.

        A 'warning:' line (exit code 0) says when the flight lies far outside the threat's
        catalog class: more than 10% beyond its max_range, or (ballistic) needing more than
        110% of its catalog burnout speed.

        Example: iadsim trajectory srbm-300 --from 50.0,30.0 --to 52.5,31.0 --out srbm.csv
        """
        from iadsim.sim.ballistic import BoostModel  # lazy: CLI start-up
        from iadsim.sim.kinematics import point_to_point  # lazy: CLI start-up

        launch, aim = parse_lat_lon(from_, "--from"), parse_lat_lon(to, "--to")
        model = cast(BoostModel, boost_model.value)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IadsimWarning)
            cols, summary = point_to_point(threat, launch, aim, apogee_km, step_s, model)
        print_warnings(caught)
        try:
            write_csv_atomic(out, cols)
        except OSError as exc:
            raise InputError(f"--out: cannot write {str(out)!r} ({exc.strerror or exc})") from None
        Console().print(_summary_table(summary, out, len(cols["time_s"])))
