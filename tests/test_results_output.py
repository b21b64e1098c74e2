"""``iadsim results --format table|csv|json [--limit N]``: numbers without binary noise that
parse back to the store's, valid CSV and JSON (read back with the csv and json modules), SQL
NULL as an empty field / null, the table's default limit and its note, and a sweep's
directory.

The engine is replaced by tests.helpers.stub_engine: these tests are about the output."""

from __future__ import annotations

import csv
import decimal
import io
import json
import math
import sys
import types

import duckdb
import pytest

import iadsim.api
import iadsim.sim
from iadsim.results import tabular
from tests.helpers.stub_engine import stub_prepare, stub_run_once


@pytest.fixture
def store(monkeypatch, tmp_path, iadsim_cli):
    """A results directory of 12 stub runs (5 threats each)."""
    fake = types.ModuleType("iadsim.sim.engine")
    fake.prepare = lambda scenario: stub_prepare(n_threats=5)
    fake.run_once = stub_run_once
    monkeypatch.setitem(sys.modules, "iadsim.sim.engine", fake)
    monkeypatch.setattr(iadsim.sim, "engine", fake, raising=False)
    monkeypatch.setattr(iadsim.api, "engine", fake)
    scn = tmp_path / "raid.yaml"
    scn.write_text("name: stub raid\n")
    out = tmp_path / "out"
    assert iadsim_cli("run", scn, "--runs", 12, "--seed", 2, "--out", out)[0] == 0
    return out


def _store_rows(out, sql):
    con = duckdb.connect(str(out / "results.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- the number rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333333"),
        (2.0, "2.0"),
        (7, "7"),
        (10**22, "10000000000000000000000"),
        (decimal.Decimal("1.500"), "1.5"),
        (decimal.Decimal("12.000"), "12"),
        (1e-7 * 3, "3e-07"),
        (-0.0, "-0.0"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_numbers_print_without_binary_noise(value, text):
    assert tabular.csv_text(value) == text
    assert tabular.cell_text(value) == text


def test_printed_floats_parse_back_within_15_significant_digits():
    import random

    rnd = random.Random(5)
    for _ in range(2000):
        x = rnd.uniform(-1, 1) * 10 ** rnd.randint(-30, 30)
        assert float(tabular.csv_text(x)) == pytest.approx(x, rel=5e-15, abs=0)


def test_null_is_empty_in_csv_null_in_the_table_and_json():
    assert tabular.csv_text(None) == "" and tabular.cell_text(None) == "NULL"
    fh = io.StringIO()
    tabular.write_json(["a", "a", "b"], [(None, float("nan"), [0.1 + 0.2, None])], fh)
    assert json.loads(fh.getvalue()) == [{"a": None, "a_2": None, "b": [0.3, None]}]


def test_csv_quotes_commas_quotes_and_newlines():
    fh = io.StringIO()
    rows = [("a, b", 'say "hi"', "two\nlines", True, [1, 2])]
    assert tabular.write_csv(["x", "y", "z", "flag", "list"], rows, fh) == 1
    back = list(csv.reader(io.StringIO(fh.getvalue())))
    assert back == [["x", "y", "z", "flag", "list"], ["a, b", 'say "hi"', "two\nlines", "true",
                                                      "[1, 2]"]]  # fmt: skip


# --- the command -------------------------------------------------------------------------

SQL = (
    "SELECT run_id, time_s, kind, track, value, 0.1::DOUBLE + 0.2::DOUBLE AS noisy "
    "FROM events ORDER BY ALL"
)


def test_csv_parses_back_to_the_stores_numbers(store, iadsim_cli):
    code, out, err = iadsim_cli("results", store, "--sql", SQL, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    ref = _store_rows(store, SQL)
    assert len(rows) == len(ref) > 100  # csv: every row, no default limit
    for got, (run_id, time_s, kind, track, value, noisy) in zip(rows, ref, strict=True):
        assert got["run_id"] == str(run_id)  # an integer as an integer
        assert float(got["time_s"]) == pytest.approx(time_s, rel=1e-14)
        assert got["kind"] == kind
        assert got["track"] == ("" if track is None else str(track))  # NULL: empty field
        if value is None or math.isnan(value):
            assert got["value"] in ("", "nan")
        else:
            assert float(got["value"]) == pytest.approx(value, rel=1e-14)
        assert noisy == 0.30000000000000004 and got["noisy"] == "0.3"


def test_json_is_a_list_of_objects_with_the_stores_numbers(store, iadsim_cli):
    sql = "SELECT metric, value, ci_low, ci_high, n FROM summary ORDER BY metric"
    code, out, err = iadsim_cli("results", store, "--sql", sql, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    ref = _store_rows(store, sql)
    assert isinstance(rows, list) and len(rows) == len(ref)
    for got, (metric, value, lo, hi, n) in zip(rows, ref, strict=True):
        assert list(got) == ["metric", "value", "ci_low", "ci_high", "n"]
        assert got["metric"] == metric and got["n"] == n and isinstance(got["n"], int)
        for key, want in (("value", value), ("ci_low", lo), ("ci_high", hi)):
            if want is None or math.isnan(want):
                assert got[key] is None
            else:
                assert got[key] == pytest.approx(want, rel=1e-14)


def test_summary_without_sql_in_csv_and_json_holds_every_metric(store, iadsim_cli):
    n_metrics = _store_rows(store, "SELECT count(*) FROM summary")[0][0]
    code, out, _ = iadsim_cli("results", store, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == n_metrics
    assert {"leakers_per_run", "p_raid_defeated"} <= {r["metric"] for r in rows}
    code, out, _ = iadsim_cli("results", store, "--format", "json", "--limit", 3)
    assert code == 0 and [r["metric"] for r in json.loads(out)][:1] == ["runs"]
    assert len(json.loads(out)) == 3


def test_table_shows_100_rows_by_default_and_says_how_many_it_left_out(store, iadsim_cli):
    sql = "SELECT range AS i, range / 3 AS third FROM range(250)"
    code, out, _ = iadsim_cli("results", store, "--sql", sql)
    assert code == 0
    assert "│ 99 " in out and "│ 100 " not in out
    assert "100 of 250 rows shown" in out
    assert "0.333333333333333" in out and "0.3333333333333333" not in out
    code, out, _ = iadsim_cli("results", store, "--sql", sql, "--limit", 0)
    assert "│ 249 " in out and "rows shown" not in out
    code, out, _ = iadsim_cli("results", store, "--sql", sql, "--format", "csv", "--limit", 7)
    assert len(list(csv.reader(io.StringIO(out)))) == 1 + 7


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--format", "xml"], "--format must be one of table, csv, json"),
        (["--limit", "-1"], "--limit must be >= 0"),
    ],
)
def test_bad_format_or_limit_is_one_line_naming_the_option(store, iadsim_cli, args, needle):
    code, _, err = iadsim_cli("results", store, *args)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_a_sweeps_directory_prints_its_variants_as_csv_and_json(tmp_path, iadsim_cli):
    """A sweep's store (variants table, a variant column): the sweep table, one row per
    variant, in every format."""
    out = tmp_path / "sweep"
    out.mkdir()
    con = duckdb.connect(str(out / "results.duckdb"))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute(
        "INSERT INTO meta VALUES ('scenario', 'swept'), ('runs', '4'), ('seed', '0'), "
        "('variants', '2'), ('vary', '[\"sites.a.heading_deg=0,90\"]')"
    )
    con.execute("CREATE TABLE variants (variant INTEGER, label VARCHAR, settings VARCHAR)")
    con.execute(
        "INSERT INTO variants VALUES (0, 'heading 0', '{\"sites.a.heading_deg\": 0}'), "
        "(1, 'heading 90', '{\"sites.a.heading_deg\": 90}')"
    )
    con.execute(
        "CREATE TABLE summary (variant INTEGER, metric VARCHAR, value DOUBLE, ci_low DOUBLE, "
        "ci_high DOUBLE, n INTEGER)"
    )
    con.execute(
        "INSERT INTO summary VALUES (0, 'leakers_per_run', 0.1 + 0.2, 0.0, 1.0, 4), "
        "(1, 'leakers_per_run', 2.5, 2.0, 3.0, 4)"
    )
    con.close()
    code, text, err = iadsim_cli("results", out, "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["variant"] for r in rows] == ["0", "1"]
    assert [r["leakers_per_run"] for r in rows] == ["0.3", "2.5"]
    assert rows[1]["sites.a.heading_deg"] == "90"
    code, text, _ = iadsim_cli("results", out, "--format", "json")
    assert [r["leakers_per_run"] for r in json.loads(text)] == [0.3, 2.5]
    code, text, _ = iadsim_cli("results", out)
    assert code == 0 and "heading_deg" in text
    code, text, _ = iadsim_cli(
        "results", out, "--sql", "SELECT variant, value FROM summary ORDER BY 1", "--format",
        "json",
    )  # fmt: skip
    assert json.loads(text) == [{"variant": 0, "value": 0.3}, {"variant": 1, "value": 2.5}]
