"""``iadsim export`` as a user runs it: the files it writes, its one-line errors naming the
option, a sweep's variant, atomic writes."""

from __future__ import annotations

import json
import warnings

import pytest
import yaml

import iadsim
from iadsim.export import format_for
from tests.helpers.export_kit import run_store, scenario_dict


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return run_store(tmp_path_factory)


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "raid.yaml"
    path.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    return path


def test_export_writes_each_format_and_says_what(iadsim_cli, store, tmp_path):
    for name in ("run.geojson", "run.kml", "run.kmz", "run.czml", "run.acmi", "run.zip.acmi"):
        code, out, err = iadsim_cli("export", store, "--out", tmp_path / name)
        assert code == 0, err
        assert f"wrote {tmp_path / name}" in out and "4 threats, 3 interceptor fly-outs" in out
        assert (tmp_path / name).stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["run.geojson", "run.kml", "run.kmz", "run.czml", "run.acmi", "run.zip.acmi"]
    )  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "shp", "--out", "x.geojson"], "--format 'shp' is not a format"),
        (["--format", "kml", "--out", "x.czml"], "does not end in .kml or .kmz"),
        (["--out", "x.txt"], "give --format"),
        (["--run", "5", "--out", "x.czml"], "--run 5: "),
        (["--variant", "1", "--out", "x.czml"], "--variant 1: "),
        (["--altitude-m", "2e6", "--out", "x.czml"], "--altitude-m must be between"),
        (["--sample-s", "0", "--out", "x.czml"], "--sample-s must be between"),
        (["--start-utc", "noon", "--out", "x.czml"], "--start-utc 'noon' is not an ISO 8601"),
        (["--threat", "ufo", "--out", "x.czml"], "--threat 'ufo' is not in the catalog"),
    ],
)
def test_export_errors_are_one_line_naming_the_option(iadsim_cli, store, tmp_path, args, message):
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    code, out, err = iadsim_cli("export", store, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert not list(tmp_path.iterdir())


def test_run_options_on_a_scenario_are_refused(iadsim_cli, scenario_file, tmp_path):
    code, _, err = iadsim_cli("export", scenario_file, "--run", "0", "--out", tmp_path / "a.kml")
    assert code == 2 and "--run chooses a run of a results directory" in err


def test_export_of_a_scenario_has_coverage_by_default(iadsim_cli, scenario_file, tmp_path):
    out = tmp_path / "s.geojson"
    code, text, err = iadsim_cli("export", scenario_file, "--out", out, "--resolution-km", "5")
    assert code == 0, err
    gj = json.loads(out.read_text(encoding="utf-8"))
    alts = {f["properties"]["altitude_m"] for f in gj["features"]
            if f["properties"]["layer"] == "coverage"}  # fmt: skip
    assert alts == {1000.0}
    code, text, err = iadsim_cli("export", scenario_file, "--out", out, "--no-coverage")
    assert code == 0 and "coverage" not in text


def test_a_failed_write_leaves_no_file(monkeypatch, store, tmp_path):
    """The writers go through fileio's atomic path: an error while writing leaves neither the
    file nor a temporary one."""
    import iadsim.export.acmi as acmi

    def boom(scene):
        raise RuntimeError("disk full")

    monkeypatch.setattr(acmi, "acmi_text", boom)
    with pytest.raises(RuntimeError):
        iadsim.export.export(store, "acmi", tmp_path / "run.acmi")
    assert not list(tmp_path.iterdir())


def test_format_for_reads_the_file_name():
    assert format_for("a/b.zip.acmi") == "acmi"
    assert format_for("b.KMZ") == "kml"
    assert format_for("b.json", "geojson") == "geojson"


def test_export_a_sweep_variant(iadsim_cli, tmp_path):
    """A sweep's store needs --variant; each variant's flights are its own scenario's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", iadsim.UnresolvedThreatsWarning)
        iadsim.sweep(scenario_dict(), {"raids.cm.speed_mps": [250, 200]}, runs=1, seed=4,
                     out_dir=tmp_path / "sw")  # fmt: skip
    code, _, err = iadsim_cli("export", tmp_path / "sw", "--out", tmp_path / "a.geojson")
    assert code == 2 and "--variant: " in err and "raids.cm.speed_mps=200" in err
    ends = {}
    for v in (0, 1):
        out = tmp_path / f"v{v}.geojson"
        code, _, err = iadsim_cli("export", tmp_path / "sw", "--variant", v, "--out", out)
        assert code == 0, err
        gj = json.loads(out.read_text(encoding="utf-8"))
        first = next(
            f for f in gj["features"] if f["properties"].get("id") == "cm-cruise-missile-0"
        )
        ends[v] = first["geometry"]["coordinates"][1]
    # the slower variant's missile is less far along after the same time
    assert ends[0] != ends[1]
    code, _, err = iadsim_cli(
        "export", tmp_path / "sw", "--variant", 9, "--out", tmp_path / "x.kml"
    )
    assert code == 2 and "--variant 9: " in err and "holds variants 0, 1" in err
