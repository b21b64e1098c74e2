"""Scenario files: valid loading, and one located line per mistake (file, line, field, fix)."""

import textwrap

import pytest

from iadsim.errors import ScenarioError
from iadsim.scenario import load_scenario

GOOD = """\
name: Illustrative S-400 near Ankara
environment: {k_factor: 1.3333, dem: null}
sites:
  - id: ankara-1
    system: s-400
    lat: 39.93
    lon: 32.86
    antenna_height_m: 25
    network: national
"""


def write(tmp_path, text, name="scn.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def error_of(tmp_path, text) -> str:
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(p) in msg
    return msg


def test_issue_example_loads_with_its_fields(tmp_path):
    scn = load_scenario(write(tmp_path, GOOD))
    assert scn.name.startswith("Illustrative")
    assert scn.environment.k_factor == pytest.approx(1.3333)
    site = scn.site("ankara-1")
    assert (site.lat, site.lon, site.antenna_height_m, site.network) == (
        39.93,
        32.86,
        25,
        "national",
    )
    assert scn.network_members()["national"].members == ["ankara-1"]


def test_out_of_range_latitude_names_line_field_and_bound(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("lat: 39.93", "lat: 95"))
    assert ":6:" in msg and "sites[0].lat" in msg and "90" in msg and "95" in msg


def test_unknown_system_names_line_and_known_ids(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("system: s-400", "system: s-500"))
    assert ":5:" in msg and "sites[0].system" in msg and "s-500" in msg and "s-400" in msg


def test_misspelled_field_is_reported_at_its_line(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("antenna_height_m: 25", "antena_height_m: 25"))
    assert ":8:" in msg and "antena_height_m" in msg and "unknown field" in msg


def test_missing_required_field(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("    lon: 32.86\n", ""))
    assert "sites[0].lon" in msg and "missing" in msg


def test_wrong_type_and_yaml_syntax_errors(tmp_path):
    msg = error_of(tmp_path, GOOD.replace("lat: 39.93", "lat: north"))
    assert "sites[0].lat" in msg and "north" in msg
    msg = error_of(tmp_path, GOOD + "  - id: [unclosed\n")
    assert "not valid YAML" in msg


def test_duplicate_site_ids_and_missing_dem(tmp_path):
    dup = GOOD + "  - {id: ankara-1, system: patriot, lat: 39.0, lon: 32.0}\n"
    msg = error_of(tmp_path, dup)
    assert ":10:" in msg and "duplicate" in msg
    msg = error_of(tmp_path, GOOD.replace("dem: null", "dem: nowhere.tif"))
    assert "environment.dem" in msg and "nowhere.tif" in msg


def test_key_without_colon_is_reported_at_its_own_line(tmp_path):
    # "lat 39.93" (line 6): PyYAML notices the missing ':' on the next line; the error names 6
    msg = error_of(tmp_path, GOOD.replace("lat: 39.93", "lat 39.93"))
    assert ":6:" in msg and "not valid YAML" in msg and "':'" in msg


def test_no_sites_is_a_field_error_for_coverage_only(tmp_path):
    from iadsim.coverage import compute_coverage

    scn = load_scenario(write(tmp_path, "name: x\nsites: []\n"))  # valid: a raid-only scenario
    with pytest.raises(ScenarioError) as exc:
        compute_coverage(scn, 1000.0)
    msg = str(exc.value)
    assert str(tmp_path / "scn.yaml") in msg and "field 'sites'" in msg and "no sites" in msg


def test_unreadable_or_ungeoreferenced_dem_is_reported_at_environment_dem(tmp_path):
    import numpy as np
    import rasterio

    (tmp_path / "junk.tif").write_bytes(b"II*\x00" + b"\x00" * 64)  # a TIFF header, no image
    msg = error_of(tmp_path, GOOD.replace("dem: null", "dem: junk.tif"))
    assert ":2:" in msg and "field 'environment.dem'" in msg and "junk.tif" in msg
    with rasterio.open(
        tmp_path / "plain.tif", "w", driver="GTiff", height=4, width=4, count=1, dtype="float32"
    ) as dst:  # no CRS, no transform
        dst.write(np.zeros((4, 4), np.float32), 1)
    msg = error_of(tmp_path, GOOD.replace("dem: null", "dem: plain.tif"))
    assert "field 'environment.dem'" in msg and "coordinate reference system" in msg


def test_radar_only_site_and_interceptor_inventory_check(tmp_path):
    ok = GOOD + "  - {id: ew, system: an-tpy-2, lat: 38.5, lon: 37.0}\n"
    assert load_scenario(write(tmp_path, ok)).site("ew").system == "an-tpy-2"
    bad = GOOD + "    interceptors: {pac-3-mse: 4}\n"
    msg = error_of(tmp_path, bad)
    assert "interceptors" in msg and "pac-3-mse" in msg and "s-400" in msg


def test_raid_needs_route_or_launch_and_aim(tmp_path):
    raid = GOOD + "raids:\n  - {threat: srbm-300, launch: [36.0, 36.0]}\n"
    msg = error_of(tmp_path, raid)
    assert "raids[0]" in msg and "aim" in msg
    raid = GOOD + "raids:\n  - {threat: cruise-missile, launch: [36.0, 36.0], aim: [39.9, 32.8]}\n"
    msg = error_of(tmp_path, raid)
    assert "raids[0]" in msg and "route" in msg


def test_network_member_must_be_a_site(tmp_path):
    net = GOOD + "networks:\n  - {id: nato, members: [ankara-1, ghost], mode: cued}\n"
    msg = error_of(tmp_path, net)
    assert "networks[0].members[1]" in msg and "ghost" in msg


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "absent.yaml")
    msg = error_of(tmp_path, "- just\n- a list\n")
    assert "mapping" in msg
