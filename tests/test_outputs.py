"""Output paths are checked before any work, every output error is one line with exit code 2,
and a job holds an exclusive lock on its output directory (:mod:`iadsim.fileio`,
:mod:`iadsim.cli.outputs`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iadsim.errors import InputError
from iadsim.fileio import (
    LOCK_NAME,
    check_out_dir,
    check_out_file,
    job_out_dir,
    lock_holder,
    output_lock,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RAID = EXAMPLES / "raid_s400_standalone.yaml"
PATRIOT = EXAMPLES / "raid_patriot_networked.yaml"
ANKARA = EXAMPLES / "ankara.yaml"


@pytest.fixture
def afile(tmp_path):
    p = tmp_path / "afile"
    p.write_text("x")
    return p


def _cases(afile: Path, d: Path) -> list[tuple[list[str], str]]:
    traj = ["trajectory", "srbm-300", "--from", "37.9,34.9", "--to", "39.9,32.8"]
    raid = ["run", str(RAID), "--runs", "2"]
    return [
        (raid + ["--out", f"{afile}/sub"], "is a file, so nothing can be created under it"),
        (raid + ["--out", "/proc/iadsim-test"], "is under /proc, a kernel file system"),
        (raid + ["--out", "/sys/iadsim-test"], "is under /sys, a kernel file system"),
        (raid + ["--out", str(afile)], "exists and is a file; give a directory"),
        (["coverage", str(ANKARA), "--altitude-m", "100", "--out", str(afile)],
         "exists and is a file; give a directory"),
        (["coverage", str(ANKARA), "--altitude-m", "100", "--out", "/proc/x"], "under /proc"),
        (["vcd", "s-400", "--out", str(d)], "is a directory; give a file name"),
        (["vcd", "s-400", "--out", f"{afile}/v.png"], "is a file, so nothing can be created"),
        (["demo", "--out", str(afile)], "exists and is a file; give a directory"),
        (["sensitivity", str(RAID), "--out", "/sys/x"], "under /sys"),
        (["compare", str(RAID), str(PATRIOT), "--out", str(afile)],
         "exists and is a file; give a directory"),
        (["compare", str(RAID), str(PATRIOT), "--out", "/proc/c"], "under /proc"),
        (traj + ["--out", str(d)], "is a directory; give a file name"),
        (traj + ["--out", "/proc/t.csv"], "under /proc"),
        (["terrain", "extract", "--bounds", "35.5,25.5,42.5,45", "--out", str(d)],
         "is a directory; give a file name"),
    ]  # fmt: skip


def test_every_output_path_error_is_one_line_naming_out_with_exit_2(iadsim_cli, tmp_path, afile):
    d = tmp_path / "adir"
    d.mkdir()
    for args, needle in _cases(afile, d):
        code, out, err = iadsim_cli(*args)
        assert code == 2, (args, err)
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --out "), (args, err)
        assert needle in lines[0], (args, err)
        assert "Traceback" not in err


def test_a_refused_command_leaves_no_directory_behind(iadsim_cli, tmp_path):
    out = tmp_path / "new" / "cov"
    code, _, err = iadsim_cli(
        "coverage", ANKARA, "--altitude-m", "100", "--resolution-km", "0", "--out", out
    )
    assert code == 2 and "--resolution-km" in err
    assert not out.exists()


def test_run_checks_out_before_loading_the_scenario(iadsim_cli, tmp_path, afile):
    """A bad --out fails at once, not after the runs (the scenario here does not even exist)."""
    code, _, err = iadsim_cli("run", tmp_path / "missing.yaml", "--out", afile)
    assert code == 2 and err.startswith("error: --out ")


def test_unwritable_directory_is_refused(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(InputError, match="cannot"):
        check_out_dir(ro / "x")


def test_check_out_file_and_dir_accept_new_paths(tmp_path):
    assert check_out_file(tmp_path / "a" / "b.csv") == tmp_path / "a" / "b.csv"
    assert (tmp_path / "a").is_dir()
    assert check_out_dir(tmp_path / "c" / "d").is_dir()


def test_a_second_lock_on_the_same_directory_is_refused_with_the_holders_pid(tmp_path):
    with output_lock(tmp_path):
        assert lock_holder(tmp_path) == os.getpid()
        with pytest.raises(InputError, match=rf"pid {os.getpid()}\b"):
            with output_lock(tmp_path):
                pass
    assert lock_holder(tmp_path) is None
    with output_lock(tmp_path):  # released: taken again
        pass


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    code = (
        "import sys, time\n"
        "from iadsim.fileio import output_lock\n"
        f"with output_lock({str(tmp_path)!r}):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match=rf"pid {proc.pid}\b"):
            with output_lock(tmp_path):
                pass
        proc.kill()
        proc.wait(10)
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(proc.pid)  # a stale pid file
        with output_lock(tmp_path):
            assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
    finally:
        proc.kill()
        proc.wait(10)


def test_a_second_cli_job_into_a_locked_directory_is_refused(iadsim_cli, tmp_path):
    out = tmp_path / "job"
    with job_out_dir(out):
        code, _, err = iadsim_cli("run", RAID, "--runs", "1", "--out", out)
    assert code == 2
    assert err.splitlines() == [
        f"error: --out {str(out)!r}: another iadsim job (pid {os.getpid()}) is writing there; "
        "wait for it to end or choose another directory"
    ]


def test_job_out_dir_removes_what_it_created_when_the_block_fails(tmp_path):
    out = tmp_path / "x" / "y"
    with pytest.raises(RuntimeError), job_out_dir(out):
        raise RuntimeError
    assert not out.exists()
    out.mkdir(parents=True)
    with pytest.raises(RuntimeError), job_out_dir(out):  # existed before: kept
        raise RuntimeError
    assert out.is_dir()


def test_results_of_a_running_job_names_its_pid(iadsim_cli, tmp_path):
    with output_lock(tmp_path):
        time.sleep(0)
        code, _, err = iadsim_cli("results", tmp_path)
    assert code == 2 and f"a job (pid {os.getpid()}) is still running there" in err
