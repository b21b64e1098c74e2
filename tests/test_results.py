"""The results store: tables and types, NaN -> NULL, and atomic writes (an interrupted write,
by exception or by SIGKILL, never leaves a partial results.duckdb nor replaces a good one)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pytest

from iadsim.errors import InputError
from iadsim.montecarlo import run_replications
from iadsim.results import store
from iadsim.results.store import open_store, summary_dict, write_store, write_summary_json
from tests.helpers.stub_engine import stub_prepare, stub_run_once

META = {"scenario": "stub", "seed": 3, "runs": 5}


@pytest.fixture(scope="module")
def reps():
    return run_replications(stub_prepare(), runs=5, seed=3, run_fn=stub_run_once)


def _write(path, reps):
    return write_store(path, reps.runs, reps.events, reps.per_threat, META)


def test_store_holds_every_row_with_typed_columns(tmp_path, reps):
    _write(tmp_path / "results.duckdb", reps)
    con = open_store(tmp_path)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert tables == {
        "meta", "runs", "events", "per_threat", "summary", "catalog_overrides", "site_defaults",
        "uncertain_parameters", "parameter_draws", "fire_units", "catalog_values",
    }  # fmt: skip
    for name, frame in (
        ("runs", reps.runs),
        ("events", reps.events),
        ("per_threat", reps.per_threat),
    ):
        assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == len(frame)
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall())
    assert types["time_s"] == "DOUBLE" and types["kind"] == "VARCHAR" and types["track"] == "BIGINT"
    # NaN and the engine's "no track" (-1) become NULL, so SQL aggregates skip them
    undetected = int(reps.per_threat.first_detection_s.isna().sum())
    assert undetected > 0
    q = "SELECT count(*) FROM per_threat WHERE first_detection_s IS NULL"
    assert con.execute(q).fetchone()[0] == undetected
    q = "SELECT count(*) FROM events WHERE track IS NULL"
    assert con.execute(q).fetchone()[0] == int((reps.events.track == -1).sum())
    assert dict(con.execute("SELECT * FROM meta").fetchall())["seed"] == "3"
    con.close()


def test_empty_job_tables_still_get_their_schema(tmp_path):
    runs = pd.DataFrame({"run_id": [0, 1]})
    empty = pd.DataFrame()
    summary = write_store(tmp_path / "r.duckdb", runs, empty, empty, META)
    m = summary.set_index("metric")
    assert m.loc["leakers_per_run", "value"] == 0 and m.loc["p_raid_defeated", "value"] == 1
    con = duckdb.connect(str(tmp_path / "r.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    con.close()


def test_a_failed_write_keeps_the_previous_store_and_leaves_no_temp_file(
    tmp_path, reps, monkeypatch
):
    target = tmp_path / "results.duckdb"
    _write(target, reps)
    before = target.read_bytes()

    def boom(con):
        raise RuntimeError("interrupted while computing metrics")

    monkeypatch.setattr(store, "compute_summary", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        _write(target, reps)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.duckdb"]


def test_a_killed_writer_never_leaves_a_partial_store(tmp_path, reps):
    """SIGKILL in the middle of writing (tables half filled): the old store is intact."""
    target = tmp_path / "results.duckdb"
    _write(target, reps)
    n_events = len(reps.events)
    script = textwrap.dedent(
        f"""
        import sys, time
        import pandas as pd
        from iadsim.results import store
        def stall(con):
            print("writing", flush=True)
            time.sleep(60)
        store.compute_summary = stall
        runs = pd.DataFrame({{"run_id": range(1000)}})
        events = pd.DataFrame({{"run_id": [0] * 10, "time_s": range(10), "kind": "launch"}})
        store.write_store({str(target)!r}, runs, events, pd.DataFrame(), {{}})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    con = duckdb.connect(str(target), read_only=True)
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == n_events
    assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 5
    con.close()


def test_summary_json_is_stable_text_with_nulls_for_undefined(tmp_path, reps):
    summary = _write(tmp_path / "results.duckdb", reps)
    d = summary_dict(summary, META)
    d["metrics"]["extra"] = {"value": np.nan, "ci_low": None, "ci_high": None, "n": 0}
    write_summary_json(tmp_path / "a.json", d)
    write_summary_json(tmp_path / "b.json", summary_dict(summary, META) | {"metrics": d["metrics"]})
    text = (tmp_path / "a.json").read_text()
    assert text == (tmp_path / "b.json").read_text()
    loaded = json.loads(text)
    assert loaded["scenario"] == "stub" and loaded["metrics"]["extra"]["value"] is None
    assert loaded["metrics"]["runs"]["value"] == 5


def test_opening_a_missing_store_is_a_one_line_input_error(tmp_path):
    with pytest.raises(InputError, match="no results store"):
        open_store(tmp_path)
