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


@pytest.mark.parametrize(
    "args, line",
    [
        (["coverage", EXAMPLE, "--altitude-m", "100", "--resolution-km", "0"],
         "error: --resolution-km must be > 0, got 0.0"),
        (["coverage", EXAMPLE, "--altitude-m", "-100", "--agl"],
         "error: --altitude-m must be >= 0 above ground (--agl), got -100 m"),
        (["coverage", EXAMPLE, "--altitude-m", "2000000"],
         "error: --altitude-m must be between -500 m and 1000 km, got [2000000.0]"),
        (["run", EXAMPLE, "--runs", "0"], "error: --runs must be >= 1, got 0"),
        (["run", EXAMPLE, "--workers", "0"], "error: --workers must be >= 1, got 0"),
        (["run", EXAMPLE, "--seed", "-1"], "error: --seed must be a non-negative integer, got -1"),
        (["run", EXAMPLE, "--backend", "ray"],
         "error: --backend must be 'local' or 'dask', got 'ray'"),
        (["run", EXAMPLE, "--scheduler", "tcp://x:1"],
         "error: --scheduler is a Dask address: it needs --backend 'dask', got 'local'"),
        (["run", EXAMPLE, "--out", "{file}"],
         "error: --out '{file}': exists and is a file; give a directory"),
        (["demo", "--resolution-km", "0", "--out", "{dir}/demo"],
         "error: --resolution-km must be > 0, got 0.0"),
        (["trajectory", "srbm-300", "--from", "50,30", "--to", "52,31", "--step-s", "0"],
         "error: --step-s must be > 0 s, got 0.0"),
        (["trajectory", "cruise-missile", "--from", "50,30", "--to", "52,31", "--apogee-km", "9"],
         "error: --apogee-km applies to ballistic threats; 'cruise-missile' is not one"),
        (["trajectory", "cruise-missile", "--from", "50,30", "--to", "50,30"],
         "error: --from and --to are the same point; give two different points"),
        (["vcd", "s-400", "--k-factor", "0.2"], "error: --k-factor must be in (0.5, 100], got 0.2"),
        (["vcd", "s-400", "--antenna-height-m", "-1"],
         "error: --antenna-height-m must lie in [0, 10000] m (a scenario site's range), got -1"),
        (["vcd", "s-400", "--out", "{dir}/v.txt"],
         "error: --out '{dir}/v.txt': give a .png file name"),
        (["terrain", "extract", "--bounds", "1,2,3"],
         "error: --bounds '1,2,3': expected four numbers SOUTH,WEST,NORTH,EAST in degrees, "
         "e.g. 35.5,25.5,42.5,45"),
    ],
)  # fmt: skip
def test_library_errors_name_the_commands_options(iadsim_cli, tmp_path, args, line):
    """The library names its parameters (tests/test_errors.py); the command line shows each
    as the option a user typed, on one line with exit code 2."""
    afile = tmp_path / "file"
    afile.write_text("")
    fill = {"file": afile, "dir": tmp_path}
    args = [str(a).format(**fill) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out.png")]
    code, out, err = iadsim_cli(*args)
    assert code == 2, err
    assert err.splitlines() == [line.format(**fill)]
    assert out == "" or args[0] == "demo"  # the demo's progress is on stdout
    assert not (tmp_path / "out.png").exists()


def test_error_line_replaces_only_parameters_the_command_has_as_whole_words():
    from iadsim.cli.main import error_line, option_of
    from iadsim.errors import InputError, ScenarioError

    assert option_of("resolution_km") == "--resolution-km" and option_of("launch") == "--from"
    err = InputError("runs must be >= 1, got 0 (reruns and runs_x stay)", "runs")
    assert (
        error_line(err, {"--runs"}) == "error: --runs must be >= 1, got 0 (reruns and runs_x stay)"
    )
    # a parameter the command has no option for keeps its Python name
    assert error_line(InputError("cell_m must be > 0", "cell_m"), {"--runs"}).endswith(
        "cell_m must be > 0"
    )
    assert (
        error_line(ScenarioError("s.yaml:3: field 'sites': bad"))
        == "error: s.yaml:3: field 'sites': bad"
    )
