"""Entry point of the ``iadsim`` command. Each command group lives in its own module and
registers itself on the one typer app; this module only wires them and turns user errors
into one line on stderr with exit code 2."""

from __future__ import annotations

import sys

import typer

from iadsim.errors import IadsimError

app = typer.Typer(
    name="iadsim",
    help="Integrated air and missile defence simulation from public data "
    "(coverage, raids, Monte Carlo). Examples are illustrative.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from iadsim.cli import (
        catalog_cmd,
        coverage_cmd,
        demo_cmd,
        sim_cmd,
        terrain_cmd,
        trajectory_cmd,
    )

    for mod in (catalog_cmd, coverage_cmd, terrain_cmd, trajectory_cmd, sim_cmd, demo_cmd):
        mod.register(app)


_register()


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit (no traceback)."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise SystemExit(code)


def main() -> None:
    """Run the app in click's standalone mode (usage errors and exit codes handled there);
    user errors raised as :class:`IadsimError` become one line on stderr and exit code 2."""
    try:
        app()
    except IadsimError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
