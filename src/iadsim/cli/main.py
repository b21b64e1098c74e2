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


def _usage_error_line(exc: Exception) -> str:
    """One line for a click/typer usage error, with a pointer to the command's --help."""
    ctx = getattr(exc, "ctx", None)
    message = " ".join(exc.format_message().split())
    if ctx is None or type(exc).__name__ not in _USAGE_ERRORS:
        return f"error: {message}"
    return f"error: {message} (see '{ctx.command_path} --help')"


# click's usage errors (typer >= 0.20 vendors click as typer._click: matched by name)
_USAGE_ERRORS = {
    "UsageError",
    "BadParameter",
    "MissingParameter",
    "NoSuchOption",
    "BadOptionUsage",
    "BadArgumentUsage",
}


def main() -> None:
    """Run the app with click's standalone mode off, so that every error is one line on
    stderr: user errors (:class:`IadsimError`) and usage errors (a missing option, a value
    of the wrong type, an unknown command) alike, with exit code 2 and, for usage errors, a
    pointer to the command's --help."""
    try:
        rv = app(standalone_mode=False, prog_name="iadsim")
    except IadsimError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        name = type(exc).__name__
        if name == "Abort":  # click's Ctrl-C
            typer.echo("interrupted", err=True)
            sys.exit(130)
        if name == "NoArgsIsHelpError":  # `iadsim` or a group without a command: its help
            ctx = getattr(exc, "ctx", None)
            text = ctx.get_help() if ctx is not None else exc.format_message()
            if text:  # typer's rich help prints itself (to stdout) and returns ""
                typer.echo(text)
            sys.exit(exc.exit_code)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # ClickException
            typer.echo(_usage_error_line(exc), err=True)
            sys.exit(exc.exit_code)
        raise
    if isinstance(rv, int) and rv:  # click returns Exit codes instead of exiting
        sys.exit(rv)


if __name__ == "__main__":
    main()
