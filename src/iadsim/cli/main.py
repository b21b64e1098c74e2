"""Entry point of the ``iadsim`` command. Each command group lives in its own module and
registers itself on the one typer app; this module only wires them and turns user errors
into one line on stderr with exit code 2.

The commands do not catch library errors: they all end here, in :func:`main`, which prints
them. The library names its Python parameters (``resolution_km must be > 0``); :func:`error_line`
puts the command's option in their place (``--resolution-km must be > 0``).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Collection, Sequence

import typer

from iadsim.cli import (
    catalog_cmd,
    check_cmd,
    compare_cmd,
    coverage_cmd,
    demo_cmd,
    export_cmd,
    sensitivity_cmd,
    serve_cmd,
    sim_cmd,
    sweep_cmd,
    terrain_cmd,
    trajectory_cmd,
)
from iadsim.errors import IadsimError, IadsimWarning

app = typer.Typer(
    name="iadsim",
    help="Integrated air and missile defence simulation from public data "
    "(coverage, raids, Monte Carlo). Examples are illustrative.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # paragraphs of the docstrings are reflowed to the terminal (blank lines separate them)
    rich_markup_mode="markdown",
)


def _register() -> None:
    for mod in (
        catalog_cmd,
        check_cmd,
        coverage_cmd,
        terrain_cmd,
        trajectory_cmd,
        sim_cmd,
        sweep_cmd,
        sensitivity_cmd,
        compare_cmd,
        demo_cmd,
        export_cmd,
        serve_cmd,
    ):
        mod.register(app)


_register()


#: library parameter -> command-line option, where the option is not the parameter's name
#: with dashes for underscores (``resolution_km`` -> ``--resolution-km``)
OPTION_OF_PARAM = {
    "out_dir": "--out",  # run, coverage, demo
    "out_png": "--out",  # vcd
    "altitudes_m": "--altitude-m",  # coverage: one --altitude-m per altitude
    "sectors": "--fixed-sectors",  # coverage
    "launch": "--from",  # trajectory
    "resume": "--resume",  # run
    "aim": "--to",  # trajectory
    "fmt": "--format",  # export
    "run_id": "--run",  # export
}


def option_of(param: str) -> str:
    """The command-line option spelling of a library parameter name."""
    return OPTION_OF_PARAM.get(param, "--" + param.replace("_", "-"))


def command_options(argv: Sequence[str]) -> set[str]:
    """The long options of the command that ``argv`` (without the program name) invokes,
    e.g. ``{"--altitude-m", "--out", ...}`` for ``coverage ...``; empty when none is."""
    cmd = typer.main.get_command(app)
    for token in argv:
        sub = getattr(cmd, "commands", {}).get(token)  # descend groups: `terrain extract`
        if sub is not None:
            cmd = sub
        elif not token.startswith("-") or not hasattr(cmd, "commands"):
            break
    if hasattr(cmd, "commands"):  # a group, not a command: no options of its own to name
        return set()
    return {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}


def error_line(exc: IadsimError, options: Collection[str] = ()) -> str:
    """``error: <message>`` on one line. The library parameters an :class:`InputError` names
    (``exc.params``) are replaced, as whole words, by their options when the command has
    them (``options``): the option of :data:`OPTION_OF_PARAM`, else the parameter's name with
    dashes (``altitudes_m`` is ``--altitude-m`` in ``coverage``, ``--altitudes-m`` in
    ``compare``); a parameter without an option keeps its Python name."""
    message = str(exc)
    for param in getattr(exc, "params", ()):
        for option in (option_of(param), "--" + param.replace("_", "-")):
            if option in options:
                pattern = rf"(?<![\w.-]){re.escape(param)}(?![\w-])"
                message = re.sub(pattern, lambda _m, o=option: o, message)
                break
    return f"error: {message}"


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


def quiet_library_warnings() -> None:
    """Hide the warnings of the libraries iadsim calls (numpy, matplotlib, rasterio, pyproj,
    dask, ...) from the command's output: they are about iadsim's internals, not the user's
    input, and iadsim's own :class:`~iadsim.errors.IadsimWarning` lines say what the user
    needs to know. ``PYTHONWARNINGS`` (or ``-W``) still shows them when debugging."""
    if sys.warnoptions:
        return
    warnings.simplefilter("ignore")
    warnings.simplefilter("default", IadsimWarning)


def main() -> None:
    """Run the app with click's standalone mode off, so that every error is one line on
    stderr: user errors (:class:`IadsimError`) and usage errors (a missing option, a value
    of the wrong type, an unknown command) alike, with exit code 2 and, for usage errors, a
    pointer to the command's --help.

    Text the terminal's encoding cannot show (``PYTHONIOENCODING=ascii``, a C locale) is
    printed as ``?`` rather than failing; library warnings that are not iadsim's own
    (numpy's RuntimeWarning on an empty mean, matplotlib's missing glyph) are not shown:
    iadsim states what matters as its own ``warning:`` lines."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    quiet_library_warnings()
    try:
        rv = app(standalone_mode=False, prog_name="iadsim")
    except IadsimError as exc:
        typer.echo(error_line(exc, command_options(sys.argv[1:])), err=True)
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
