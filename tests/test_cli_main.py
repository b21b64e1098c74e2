"""The ``iadsim`` entry point (``iadsim.cli.main:main``): every error is one line on stderr
with exit code 2, usage errors (click's) included, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ankara.yaml"


@pytest.mark.parametrize(
    "args,needle,help_of",
    [
        (["coverage", EXAMPLE, "--altitude-m", "abc", "--out", "o"], "'--altitude-m'", "coverage"),
        (["coverage", EXAMPLE, "--out", "o"], "Missing option '--altitude-m'", "coverage"),
        (["coverage"], "Missing argument", "coverage"),
        (["run", EXAMPLE, "--out", "o", "--runs", "many"], "'--runs'", "run"),
        (
            ["coverage", EXAMPLE, "--altitude-m", "1", "--bogus", "--out", "o"],
            "--bogus",
            "coverage",
        ),
        (["no-such-command"], "No such command", None),
        (["catalog", "show", "no-such-system"], "unknown catalog item", None),
    ],
)
def test_errors_are_one_line_with_exit_code_2(iadsim_cli, args, needle, help_of):
    code, out, err = iadsim_cli(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0] and "Traceback" not in err
    if help_of:
        assert f"(see 'iadsim {help_of} --help')" in lines[0]


def test_help_and_success_exit_0(iadsim_cli):
    code, out, err = iadsim_cli("--help")
    assert code == 0 and "coverage" in out and "demo" in out
    code, out, err = iadsim_cli("catalog", "show", "s-400", "--json")
    assert code == 0 and '"s-400"' in out and err == ""


def test_bare_command_prints_its_help(iadsim_cli):
    code, out, err = iadsim_cli()
    assert code == 2 and "Usage: iadsim" in out and "coverage" in out and err == ""
