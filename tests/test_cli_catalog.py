"""`iadsim catalog list|show` end to end through the real typer app."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from iadsim import catalog
from iadsim.cli.main import app

WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_list_table_shows_every_item_with_key_figures(runner):
    result = runner.invoke(app, ["catalog", "list"], env=WIDE)
    assert result.exit_code == 0, result.output
    for item in catalog.items():
        assert item.id in result.stdout
    assert "400 km, 30 km alt; since 2007" in result.stdout  # S-400 row


def test_list_json_filters_by_kind(runner):
    result = runner.invoke(app, ["catalog", "list", "--kind", "radar", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["kind"] for r in rows} == {"radar"}
    assert {r["id"] for r in rows} == {r.id for r in catalog.items("radar")}
    tpy2 = next(r for r in rows if r["id"] == "an-tpy-2")
    assert tpy2["key_figures"].startswith("early_warning")


def test_show_prints_every_quantity_with_source_and_alternatives(runner):
    result = runner.invoke(app, ["catalog", "show", "s-400"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "S-400 Triumf" in out and "noticiabrasil.net.br" in out and "difesaonline" in out
    for path, _ in catalog.iter_quantities(catalog.get("s-400")):
        assert path in out, path
    assert "fr.sputniknews.africa" in out  # an alternative's source
    assert "nato_interoperable: no" in out


def test_show_prints_the_terminal_seeker_with_source_and_alternatives(runner):
    result = runner.invoke(app, ["catalog", "show", "48n6e3"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "terminal_seeker" in out and "track_via_missile" in out
    assert "cmo-db-requests/issues/1971" in out and "command (DCS HighDigitSAMs" in out
    assert "terminal_seeker:" not in out  # a table row, not a raw model printed above it
    radar = runner.invoke(app, ["catalog", "show", "92n6e"], env=WIDE).stdout
    assert "detection_pd" in radar and "radartutorial.eu" in radar
    assert "0.5 probability (iadsim planning estimate" in radar and "[estimate]" in radar


def test_show_json_round_trips_to_the_model(runner):
    result = runner.invoke(app, ["catalog", "show", "40n6e", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    item = catalog.get("40n6e")
    assert data == item.model_dump(mode="json")
    assert type(item).model_validate(data) == item
    assert data["envelopes"]["ballistic"]["max_range"]["value"] == 60
    assert data["terminal_seeker"]["value"] == "active_radar"
    assert data["terminal_seeker"]["alternatives"][0]["value"] == "semi_active"


def test_show_unknown_id_is_one_line_error_with_exit_code_2(iadsim_cli):
    code, out, err = iadsim_cli("catalog", "show", "s-4000")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown catalog item 's-4000'") and "s-400" in lines[0]


@pytest.mark.parametrize(
    "args, text",
    [
        (["catalog", "--help"], "Browse the system catalog"),
        (["catalog", "list", "--help"], "--kind"),
        (["catalog", "show", "--help"], "Catalog id"),
    ],
)
def test_every_catalog_command_has_help(runner, args, text):
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0
    assert text in result.stdout
