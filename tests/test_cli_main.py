"""The ``iadsim`` entry point (``iadsim.cli.main:main``): every error is one line on stderr
with exit code 2, usage errors (click's) included, and never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from iadsim.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ankara.yaml"


def run_main(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["iadsim", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


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
def test_errors_are_one_line_with_exit_code_2(monkeypatch, capsys, args, needle, help_of):
    code, out, err = run_main(monkeypatch, capsys, *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0] and "Traceback" not in err
    if help_of:
        assert f"(see 'iadsim {help_of} --help')" in lines[0]


def test_help_and_success_exit_0(monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "--help")
    assert code == 0 and "coverage" in out and "demo" in out
    code, out, err = run_main(monkeypatch, capsys, "catalog", "show", "s-400", "--json")
    assert code == 0 and '"s-400"' in out and err == ""


def test_bare_command_prints_its_help(monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys)
    assert code == 2 and "Usage: iadsim" in out and "coverage" in out and err == ""
