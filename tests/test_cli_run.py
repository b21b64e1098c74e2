"""``iadsim run`` and ``iadsim results``: files written, byte-identical summary.json for any
worker count, one-line errors with exit code 2.

The engine is replaced by tests.helpers.stub_engine so these tests isolate the command.
"""

from __future__ import annotations

import json
import sys
import types

import duckdb
import pytest

import iadsim.api
import iadsim.sim
from tests.helpers.stub_engine import stub_prepare, stub_run_once

SCENARIO = "name: stub raid\ndescription: tests only\n"


@pytest.fixture
def stub_engine(monkeypatch):
    fake = types.ModuleType("iadsim.sim.engine")
    fake.prepare = lambda scenario: stub_prepare(n_threats=5)
    fake.run_once = stub_run_once
    monkeypatch.setitem(sys.modules, "iadsim.sim.engine", fake)
    monkeypatch.setattr(iadsim.sim, "engine", fake, raising=False)
    monkeypatch.setattr(iadsim.api, "engine", fake)  # the engine api.run calls
    return fake


@pytest.fixture
def scenario(tmp_path):
    p = tmp_path / "raid.yaml"
    p.write_text(SCENARIO)
    return p


@pytest.mark.slow
def test_run_writes_store_and_summary_identical_for_one_and_two_workers(
    stub_engine, scenario, tmp_path, iadsim_cli
):
    outs = {}
    for w in (1, 2):
        out = tmp_path / f"w{w}"
        code, stdout, _ = iadsim_cli(
            "run",
            scenario,
            "--runs",
            9,
            "--seed",
            4,
            "--workers",
            w,
            "--out",
            out,
        )
        assert code == 0
        assert "leakers_per_run" in stdout and "p_kill[cruise]" in stdout
        outs[w] = out
    a, b = ((outs[w] / "summary.json").read_bytes() for w in (1, 2))
    assert a == b
    summary = json.loads(a)
    assert (summary["scenario"], summary["seed"], summary["runs"]) == ("stub raid", 4, 9)
    con = duckdb.connect(str(outs[2] / "results.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 9
    value = con.execute("SELECT value FROM summary WHERE metric = 'leakers_per_run'").fetchone()[0]
    assert value == pytest.approx(summary["metrics"]["leakers_per_run"]["value"])
    con.close()


def test_results_prints_summary_and_runs_sql(stub_engine, scenario, tmp_path, iadsim_cli):
    out = tmp_path / "out"
    assert iadsim_cli("run", scenario, "--runs", 3, "--out", out)[0] == 0
    code, stdout, _ = iadsim_cli("results", out)
    assert code == 0 and "p_raid_defeated" in stdout
    code, stdout, _ = iadsim_cli("results", out, "--sql", "SELECT count(*) AS n_runs FROM runs")
    assert code == 0 and "n_runs" in stdout and " 3 " in stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "missing.yaml", "--out", "o"], "scenario file not found"),
        (["run", "{scn}", "--runs", "0", "--out", "o"], "--runs must be >= 1"),
        (["run", "{scn}", "--workers", "0", "--out", "o"], "--workers must be >= 1"),
        (["run", "{scn}", "--backend", "ray", "--out", "o"], "--backend"),
        (
            ["run", "{scn}", "--scheduler", "tcp://x:1", "--out", "o"],
            "--scheduler is a Dask address: it needs --backend 'dask'",
        ),
        (["results", "nowhere"], "no results store"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    stub_engine, scenario, tmp_path, iadsim_cli, monkeypatch, args, needle
):
    monkeypatch.chdir(tmp_path)
    code, _, err = iadsim_cli(*[a.format(scn=scenario) for a in args])
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_sql_is_one_line_and_exit_code_2(stub_engine, scenario, tmp_path, iadsim_cli):
    out = tmp_path / "out"
    iadsim_cli("run", scenario, "--runs", 2, "--out", out)
    code, _, err = iadsim_cli("results", out, "--sql", "SELECT nope FROM runs")
    assert code == 2 and err.startswith("error: --sql:") and err.count("\n") == 1


REAL_SCENARIO = """\
name: one Patriot, two cruise missiles from the north
sites:
  - {id: pat1, system: patriot, lat: 50.0, lon: 20.0, heading_deg: 0}  # faces the raid
time: {duration_s: 240, step_s: 1}
raids:
  - threat: cruise-missile
    count: 2
    spacing_s: 5
    route: [[50.4, 20.0, 300], [50.0, 20.0, 300]]
assets:
  - {id: base, lat: 50.0, lon: 20.0, radius_km: 5}
"""


@pytest.mark.slow
def test_real_engine_summary_is_byte_identical_for_one_and_two_workers(tmp_path, iadsim_cli):
    scn = tmp_path / "real.yaml"
    scn.write_text(REAL_SCENARIO)
    for w in (1, 2):
        args = ("run", scn, "--runs", 4, "--seed", 9, "--workers", w, "--out", tmp_path / f"w{w}")
        assert iadsim_cli(*args)[0] == 0
    a, b = ((tmp_path / f"w{w}" / "summary.json").read_bytes() for w in (1, 2))
    assert a == b
    metrics = json.loads(a)["metrics"]
    assert metrics["salvos_per_run"]["value"] > 0  # the scenario really engages
    con = duckdb.connect(str(tmp_path / "w2" / "results.duckdb"), read_only=True)
    launches = con.execute("SELECT count(*) FROM events WHERE kind = 'launch'").fetchone()[0]
    assert launches == metrics["salvos_per_run"]["value"] * 4
    con.close()


def test_a_run_failing_midway_leaves_the_previous_results_untouched(
    stub_engine, scenario, tmp_path, iadsim_cli
):
    """The earlier job's files stay as they were; the runs committed before the failure are
    kept beside them in the partial store (for --resume), nothing else is written."""
    out = tmp_path / "out"
    assert iadsim_cli("run", scenario, "--runs", 4, "--out", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    stub_engine.prepare = lambda scenario: stub_prepare(n_threats=5, fail_at=6)
    with pytest.raises(RuntimeError, match="run 6"):
        iadsim_cli("run", scenario, "--runs", 10, "--seed", 1, "--out", out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"results.partial.duckdb", "progress.json"}
    con = duckdb.connect(str(out / "results.partial.duckdb"), read_only=True)
    committed = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
    con.close()
    assert committed and max(committed) < 6  # whole chunks before the failing run


def test_recorded_command_leaves_out_options_that_change_no_number():
    from iadsim.cli.sim_cmd import reproducing_command

    argv = ["run", "a b.yaml", "--runs", "5", "--workers", "2", "--out=x", "--resume",
            "--seed", "3", "--backend", "dask", "--scheduler", "tcp://h:1", "--map",
            "--parameter-uncertainty"]  # fmt: skip
    assert reproducing_command(argv) == (
        "iadsim run 'a b.yaml' --runs 5 --seed 3 --parameter-uncertainty"
    )


def test_summary_records_the_jobs_provenance(stub_engine, scenario, tmp_path, iadsim_cli):
    import hashlib

    out = tmp_path / "out"
    assert iadsim_cli("run", scenario, "--runs", 2, "--workers", 1, "--out", out)[0] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario_text"] == SCENARIO
    assert summary["scenario_sha256"] == hashlib.sha256(SCENARIO.encode()).hexdigest()
    assert summary["command"] == f"iadsim run {scenario} --runs 2"
    assert summary["iadsim_version"] == iadsim.__version__
    assert isinstance(summary["catalog_values"], list) and len(summary["catalog_sha256"]) == 64
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    con.close()
    assert meta["scenario_text"] == SCENARIO and meta["command"] == summary["command"]
    assert not (out / "results.partial.duckdb").exists()


def test_resume_needs_an_output_directory():
    from iadsim.api import run
    from iadsim.errors import InputError

    with pytest.raises(InputError, match="resume continues a job in out_dir"):
        run("x.yaml", resume=True)


def test_map_run_worst_draws_the_run_with_most_leakers(
    stub_engine, scenario, tmp_path, iadsim_cli, monkeypatch
):
    """--map-run worst hands the raid map the run with the most leakers (lowest id on ties),
    --map-run N run N, --map run 0; the recorded command leaves --map-run out."""
    import iadsim.report.raidmap as raidmap

    drawn = []

    def fake_plot(scn, events, path, run_id=0, title=None, *, run_label=None):
        drawn.append((run_id, run_label, sorted(set(events.run_id))))
        path.write_bytes(b"png")
        return path

    monkeypatch.setattr(raidmap, "plot_raid_map", fake_plot)
    monkeypatch.setattr("iadsim.scenario.load_scenario", lambda path: None)
    out = tmp_path / "out"
    code, stdout, err = iadsim_cli("run", scenario, "--runs", 12, "--seed", 3, "--map-run",
                                   "worst", "--out", out)  # fmt: skip
    assert code == 0, err
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    (worst, most), *rest = con.execute(
        "SELECT run_id, leakers FROM runs ORDER BY leakers DESC, run_id"
    ).fetchall()
    con.close()
    assert rest and most > min(n for _, n in rest)  # the runs differ: a real choice
    assert drawn[-1][0] == worst and f"the most leakers: {most}" in drawn[-1][1]
    assert drawn[-1][2] == list(range(12))  # every run's events, the map picks its own
    assert f"raid-map.png: run {worst} of 12" in stdout
    assert "--map-run" not in json.loads((out / "summary.json").read_text())["command"]
    assert iadsim_cli("run", scenario, "--runs", 12, "--seed", 3, "--map-run", 5,
                      "--out", tmp_path / "five")[0] == 0  # fmt: skip
    assert drawn[-1][:2] == (5, None)
    assert iadsim_cli("run", scenario, "--runs", 2, "--map", "--out", tmp_path / "zero")[0] == 0
    assert drawn[-1][:2] == (0, None)


@pytest.mark.parametrize("value, needle", [("12", "--map-run 12: no such run; this job has "
                                            "runs 0 to 11"), ("-1", "--map-run -1: no such run"),
                                           ("last", "--map-run must be a run id or 'worst'")])  # fmt: skip
def test_map_run_is_checked_before_any_run(stub_engine, scenario, tmp_path, iadsim_cli, value,
                                           needle):  # fmt: skip
    out = tmp_path / "out"
    code, _, err = iadsim_cli("run", scenario, "--runs", 12, "--map-run", value, "--out", out)
    assert code == 2 and needle in err and err.count("\n") == 1
    assert not (out / "results.duckdb").exists() and not (out / "results.partial.duckdb").exists()
