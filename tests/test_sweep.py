"""Sweeps (:mod:`iadsim.sweeps`): paths into a scenario, the cross product of variants, one job
whose variant ``v`` gives exactly the numbers of ``iadsim.run`` on that variant with the same
seed (for any number of workers), one store with a ``variant`` column, and a sweep that
resumes after ``kill -9`` on the local and the Dask backend with the uninterrupted
summary's bytes.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import psutil
import pytest
import yaml

import iadsim
from iadsim.errors import InputError
from iadsim.results.store import PARTIAL_NAME
from iadsim.sweeps import (
    MAX_VARIANTS,
    SWEEP_SOURCE,
    apply_setting,
    as_varies,
    parse_vary,
    short_names,
    split_values,
    variant_settings,
)

TINY = """\
name: tiny raid for sweep tests
description: one S-400 battery, 3 low cruise missiles, smooth Earth, 12 minutes
time: {duration_s: 720, step_s: 2.0}
sites:
  - {id: s400, system: s-400, lat: 39.98, lon: 32.75, heading_deg: 180}
networks:
  - {id: net, members: [s400], latency_s: 1, mode: cued}
assets:
  - {id: centre, lat: 39.925, lon: 32.866, radius_km: 5, value: 10}
raids:
  - id: cm
    threat: cruise-missile
    count: 3
    launch_time_s: 0
    spacing_s: 20
    speed_mps: 240
    route: [[38.60, 33.00, 50], [39.925, 32.866, 50]]
"""


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


# --- settings --------------------------------------------------------------------------


def test_values_split_at_top_level_commas_and_read_as_yaml():
    assert split_values("[39.9, 32.8],[40, 33]") == ["[39.9, 32.8]", "[40, 33]"]
    v = parse_vary("sites.0.lat=39.9, 40.1")
    assert v.path == "sites.0.lat" and v.values == (39.9, 40.1)
    assert parse_vary("networks.net.mode=cued,engage_on_remote").values == (
        "cued",
        "engage_on_remote",
    )
    assert parse_vary("x.y=[1, 2],[3, 4]").values == ([1, 2], [3, 4])
    assert parse_vary("x.y=true").values == (True,)


@pytest.mark.parametrize(
    "spec, words",
    [
        ("sites.0.lat", "give PATH=V1,V2"),
        ("=1,2", "give PATH=V1,V2"),
        ("sites..lat=1", "empty segment"),
        ("sites.0.lat=1,,2", "an empty value"),
        ("sites.0.lat=1,1.0", "given twice"),
        ("sites.0.lat=.nan", "finite"),
        ("sites.0.lat=[1,", "not valid YAML"),
    ],
)
def test_bad_vary_texts_are_one_line_errors_naming_vary(spec, words):
    with pytest.raises(InputError) as err:
        parse_vary(spec)
    assert words in str(err.value) and err.value.param == "vary"


def test_paths_reach_indices_ids_new_mappings_and_catalog_numbers():
    data = yaml.safe_load(TINY)
    apply_setting(data, "sites.0.heading_deg", 90)
    apply_setting(data, "sites.s400.lat", 40.0)
    apply_setting(data, "networks.net.mode", "engage_on_remote")
    apply_setting(data, "sites.s400.interceptors.48n6e3", 8)  # a mapping the site lacked
    apply_setting(data, "catalog_overrides.48n6e3.pk.cruise", 0.5)
    site = data["sites"][0]
    assert (site["heading_deg"], site["lat"], site["interceptors"]) == (90, 40.0, {"48n6e3": 8})
    assert data["networks"][0]["mode"] == "engage_on_remote"
    assert data["catalog_overrides"]["48n6e3"]["pk.cruise"] == {
        "value": 0.5,
        "unit": "probability",  # the catalog's unit: the override is valid as written
        "source": SWEEP_SOURCE,
    }


@pytest.mark.parametrize(
    "path, value, words",
    [
        ("sites.3.lat", 1, "index 3 out of range (the list has 1 elements)"),
        ("sites.nope.lat", 1, "no element with id 'nope'; ids: s400"),
        ("time.duration_s.x", 1, "is a value, not a mapping or a list"),
        ("catalog_overrides.48n6e3", 1, "give catalog_overrides.ITEM.FIELD"),
        ("catalog_overrides.48n6e3.pk.nothing", 1, "iadsim catalog show 48n6e3"),
        ("catalog_overrides.no-such-item.pk.cruise", 1, "iadsim catalog show no-such-item"),
        ("catalog_overrides.48n6e3.pk.cruise", "high", "takes numbers (in probability)"),
    ],
)
def test_bad_paths_are_one_line_errors(path, value, words):
    with pytest.raises(InputError) as err:
        apply_setting(yaml.safe_load(TINY), path, value)
    assert words in str(err.value) and err.value.param == "vary"


def test_variants_are_the_cross_product_last_setting_fastest():
    varies = as_varies(["a.b=1,2", "c=x,y,z"])
    got = [tuple(s.values()) for s in variant_settings(varies)]
    assert got == [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
    assert as_varies({"a.b": [1, 2]})[0].values == (1, 2)
    with pytest.raises(InputError, match="the path is given twice"):
        as_varies(["a=1", "a=2"])
    with pytest.raises(InputError, match="at least one setting"):
        as_varies([])
    many = [f"p{i}=" + ",".join(map(str, range(10))) for i in range(5)]
    with pytest.raises(InputError, match=f"exceed the limit of {MAX_VARIANTS:,}"):
        variant_settings(as_varies(many))
    assert short_names(["sites.a.lat", "sites.b.lat", "catalog_overrides.x.pk.cruise"]) == [
        "sites.a.lat",
        "sites.b.lat",
        "pk.cruise",
    ]


def test_an_invalid_variant_is_refused_before_any_run_naming_the_setting(tiny, tmp_path):
    with pytest.raises(InputError) as err:
        iadsim.sweep(tiny, ["sites.s400.heading_deg=90,400"], runs=2, out_dir=tmp_path / "o")
    msg = str(err.value)
    assert msg.startswith("vary: variant sites.s400.heading_deg=400:"), msg
    assert "heading_deg" in msg and "\n" not in msg
    assert not (tmp_path / "o").exists()  # refused before the directory was made


# --- the job ---------------------------------------------------------------------------


def _variant_dict(setting: dict) -> dict:
    data = yaml.safe_load(TINY)
    for p, v in setting.items():
        apply_setting(data, p, v)
    return data


@pytest.mark.slow
def test_each_variant_gives_the_numbers_of_a_plain_run_for_any_worker_count(tiny, tmp_path):
    vary = ["sites.s400.heading_deg=180,0", "catalog_overrides.48n6e3.pk.cruise=0.3,0.9"]
    one = iadsim.sweep(tiny, vary, runs=4, seed=3, workers=1)
    two = iadsim.sweep(tiny, vary, runs=4, seed=3, workers=2, out_dir=tmp_path / "sw")
    assert len(one.runsets) == 4
    pd.testing.assert_frame_equal(one.table(), two.table())
    for rec, rs in zip(one.variants, one.runsets, strict=True):
        plain = iadsim.run(_variant_dict(rec["settings"]), runs=4, seed=3)
        # check_dtype=False: a text column is object or pandas' string dtype depending on how
        # the chunks were concatenated; the values are compared exactly
        pd.testing.assert_frame_equal(rs.per_threat, plain.per_threat, check_dtype=False)
        pd.testing.assert_frame_equal(
            rs.events.reset_index(drop=True),
            plain.events.reset_index(drop=True),
            check_dtype=False,
        )
        assert rs.summary["metrics"] == plain.summary["metrics"]
    # the settings change the outcome: a radar facing away (heading 0) sees nothing
    table = one.table()
    assert table.loc[table["sites.s400.heading_deg"] == "0", "leakers_per_run"].min() == 3
    assert table.loc[table["sites.s400.heading_deg"] == "180", "leakers_per_run"].max() < 3
    # the store: every table with a variant column, the variants, the summary per variant
    con = duckdb.connect(str(tmp_path / "sw" / "results.duckdb"), read_only=True)
    try:
        per_variant = con.execute(
            "SELECT variant, count(*) FROM runs GROUP BY variant ORDER BY variant"
        ).fetchall()
        assert per_variant == [(0, 4), (1, 4), (2, 4), (3, 4)]
        labels = [
            r[0] for r in con.execute("SELECT label FROM variants ORDER BY variant").fetchall()
        ]
        assert labels == [r["label"] for r in one.variants]
        leak = con.execute(
            "SELECT variant, value FROM summary WHERE metric = 'leakers_per_run' ORDER BY variant"
        ).fetchall()
        assert [v for _, v in leak] == pytest.approx(list(table["leakers_per_run"]))
        swept = con.execute(
            "SELECT variant, value FROM catalog_values WHERE item = '48n6e3' "
            "AND field = 'pk.cruise' ORDER BY variant"
        ).fetchall()
        assert [v for _, v in swept] == [0.3, 0.9, 0.3, 0.9]
    finally:
        con.close()
    summary = json.loads((tmp_path / "sw" / "summary.json").read_text())
    assert summary["variants"] == 4 and summary["vary"] == [
        "sites.s400.heading_deg=180,0",
        "catalog_overrides.48n6e3.pk.cruise=0.3,0.9",
    ]
    assert [v["settings"] for v in summary["by_variant"]] == [r["settings"] for r in one.variants]
    csv = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert list(csv["leakers_per_run"]) == pytest.approx(list(table["leakers_per_run"]))
    assert (tmp_path / "sw" / "sweep.png").stat().st_size > 10_000


def test_parameter_uncertainty_leaves_a_swept_number_at_its_value(tiny):
    sw = iadsim.sweep(
        tiny, ["catalog_overrides.48n6e3.pk.cruise=0.4,0.6"], runs=2, parameter_uncertainty=True
    )
    for rec, rs in zip(sw.variants, sw.runsets, strict=True):
        names = {p["name"] for p in rs.uncertain_parameters}
        assert names and "48n6e3:pk.cruise" not in names  # an exact what-if: not drawn
        assert (
            rs.meta["catalog_overrides"][0]["value"]
            == rec["settings"]["catalog_overrides.48n6e3.pk.cruise"]
        )


# --- the command line, interruption and resume ------------------------------------------

RUNS = 30  # per variant; 2 variants: 60 work items in chunks of 15 (1 worker) or 8 (2)


def _cmd(scenario: Path, out: Path, *extra: str, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "iadsim.cli.main", "sweep", str(scenario), "--vary",
            "catalog_overrides.48n6e3.pk.cruise=0.5,0.9", "--runs", str(RUNS), "--seed", "5",
            "--workers", str(workers), "--out", str(out), *extra]  # fmt: skip


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def _committed(out: Path) -> int:
    try:
        return json.loads((out / "progress.json").read_text())["committed_runs"]
    except (OSError, ValueError, KeyError):
        return 0


def _start_and_kill(cmd: list[str], out: Path, at_least: int) -> list[psutil.Process]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while _committed(out) < at_least:
            assert proc.poll() is None, f"the sweep ended before the kill: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.02)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr is not None:
            proc.stderr.close()
    return children


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "dask"])
def test_a_killed_sweep_resumed_gives_the_uninterrupted_summary_bytes(tiny, tmp_path, backend):
    out = tmp_path / "sweep"
    ref = _run(_cmd(tiny, out, "--backend", backend))
    assert ref.returncode == 0, ref.stderr
    assert ref.stdout.startswith("sweep: 2 variants x 30 runs = 60 runs")
    reference = (out / "summary.json").read_bytes()
    listed = _run([sys.executable, "-m", "iadsim.cli.main", "results", str(out)])
    assert listed.returncode == 0 and "pk.cruise" in listed.stdout and "0.9" in listed.stdout
    shutil.rmtree(out)
    children = _start_and_kill(_cmd(tiny, out, "--backend", backend, workers=2), out, 16)
    con = duckdb.connect(str(out / PARTIAL_NAME), read_only=True)  # valid after kill -9
    committed = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    con.close()
    assert 16 <= committed < 2 * RUNS
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    refused = _run(_cmd(tiny, out, "--backend", backend))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: {out} holds an interrupted job ({committed} of 60")
    other = _run(_cmd(tiny, out, "--resume") + ["--vary", "time.step_s=1,2"])
    assert other.returncode == 2 and "sweep (stored " in other.stderr
    done = _run(_cmd(tiny, out, "--backend", backend, "--resume"))
    assert done.returncode == 0, done.stderr
    assert f"{committed} of 60 runs were committed before" in done.stdout
    assert (out / "summary.json").read_bytes() == reference
    again = _run(_cmd(tiny, out, "--resume"))  # complete: nothing to run, the same bytes
    assert again.returncode == 0 and "60 of 60 runs were committed before" in again.stdout
    assert (out / "summary.json").read_bytes() == reference


def test_sweep_errors_on_the_command_line_are_one_line(tiny, tmp_path):
    bad = _run(_cmd(tiny, tmp_path / "o") + ["--vary", "sites.nope.lat=1"])
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert bad.stderr.startswith("error: --vary sites.nope.lat: no element with id 'nope'")
    assert not (tmp_path / "o").exists()


def test_deep_copies_keep_the_base_scenario_untouched():
    data = yaml.safe_load(TINY)
    before = copy.deepcopy(data)
    from iadsim.sweeps import build_variants

    build_variants(data, variant_settings(as_varies(["sites.0.lat=40,41"])), None)
    assert data == before
