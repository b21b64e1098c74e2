"""Scenarios posted to the server: stored as the user wrote them, loaded with the CLI's
checks, refused with the CLI's located message.

A scenario lives in ``DATA_DIR/scenarios/ID/scenario.yaml`` (ID server-made). It is checked
in a staging directory first and moved into place only when it loads, so a bad edit never
replaces a good scenario. Its DEM (``environment.dem``) may name a bundled example DEM by its
file name (``anatolia-globe.tif``: linked into the scenario's directory, so the relative path
keeps working for the simulation and the exports) or a file inside the data directory; any
other path is refused with a located error, so a request cannot make the server read a file
elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from iadsim.errors import ScenarioError
from iadsim.examples import EXAMPLES_DIR
from iadsim.export.geojson import scene_geojson
from iadsim.export.scene import base_scene
from iadsim.scenario import Scenario, load_scenario
from iadsim.web.storage import DataDir, NotFound, check_id, new_id
from iadsim.yamlpos import line_for, load_with_lines

SCENARIO_FILE = "scenario.yaml"
#: the located prefix of a scenario error once its path is shown as ``scenario.yaml``
_LOCATED = re.compile(r"^scenario\.yaml(?::(?P<line>\d+))?: (?:field '(?P<field>[^']*)')?")


class LocatedError(Exception):
    """A scenario the server refuses: the CLI's one-line message, with the field path and
    YAML line it names (either may be None)."""

    def __init__(self, message: str, field: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message, self.field, self.line = message, field, line

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.message, "field": self.field, "line": self.line}


def located(exc: ScenarioError, path: Path) -> LocatedError:
    """The error of a scenario stored at ``path`` as the page shows it: the server's path
    replaced by ``scenario.yaml``, field and line parsed from the message."""
    msg = str(exc).replace(str(path), SCENARIO_FILE)
    m = _LOCATED.match(msg)
    if m is None:
        return LocatedError(msg)
    line = int(m["line"]) if m["line"] else None
    return LocatedError(msg, m["field"] or None, line)


@dataclass
class StoredScenario:
    id: str
    path: Path
    text: str
    scenario: Scenario


def _link_dem(data: DataDir, staging: Path, raw: Any, lines: dict[tuple, int]) -> None:
    """Check the DEM a scenario names (module docstring); link a bundled example's DEM named
    by its file name into ``staging``."""
    if not isinstance(raw, str) or not raw.strip():
        return  # absent, null or of the wrong type: the schema says what is wrong
    name = Path(raw)
    examples = EXAMPLES_DIR.resolve()
    bundled = examples / name.name
    if not name.is_absolute() and len(name.parts) == 1 and bundled.is_file():
        link = staging / name.name
        try:
            link.symlink_to(bundled)
        except OSError:  # no symlinks on this file system: a copy
            shutil.copyfile(bundled, link)
        return
    candidate = Path(os.path.realpath(name if name.is_absolute() else staging / name))
    if candidate.is_relative_to(data.root) or candidate.is_relative_to(examples):
        return
    line = line_for(lines, ("environment", "dem"))
    where = f"{SCENARIO_FILE}:{line}" if line else SCENARIO_FILE
    bundled_names = ", ".join(sorted(p.name for p in examples.glob("*.tif")))
    raise LocatedError(
        f"{where}: field 'environment.dem': the server reads DEMs only from its data directory "
        f"or the bundled examples; name a bundled DEM ({bundled_names}) or put the GeoTIFF "
        "in the data directory",
        "environment.dem",
        line,
    )


def _dem_of(data: Any) -> Any:
    env = data.get("environment") if isinstance(data, dict) else None
    return env.get("dem") if isinstance(env, dict) else None


def store(data: DataDir, text: str, scenario_id: str | None = None) -> StoredScenario:
    """Check ``text`` as a scenario and store it under a new id (or replace scenario
    ``scenario_id``); :class:`LocatedError` when it does not load."""
    if scenario_id is not None:
        final = data.scenario_dir(scenario_id)
        if not (final / SCENARIO_FILE).is_file():
            raise NotFound("no scenario with that id")
    else:
        scenario_id = new_id()
        final = data.root / "scenarios" / scenario_id
    staging = data.tmp / new_id()
    staging.mkdir()
    try:
        path = staging / SCENARIO_FILE
        path.write_text(text, encoding="utf-8")
        try:
            parsed, lines = load_with_lines(path)
            _link_dem(data, staging, _dem_of(parsed), lines)
            load_scenario(path)
        except ScenarioError as exc:
            raise located(exc, path) from None
        old = None
        if final.exists():
            old = data.tmp / new_id()
            final.rename(old)
        staging.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return load_stored(data, scenario_id)


def load_stored(data: DataDir, scenario_id: str) -> StoredScenario:
    """The stored scenario ``scenario_id``; :class:`NotFound` when there is none."""
    check_id(scenario_id, "scenario")
    path = data.scenario_dir(scenario_id) / SCENARIO_FILE
    if not path.is_file():
        raise NotFound("no scenario with that id")
    text = path.read_text(encoding="utf-8")
    try:
        scn = load_scenario(path)
    except ScenarioError as exc:  # e.g. a DEM removed from the data directory since
        raise located(exc, path) from None
    return StoredScenario(scenario_id, path, text, scn)


def with_sites(text: str, sites: list[Any]) -> str:
    """The scenario ``text`` with its ``sites`` replaced (the page's site form and marker
    drags); the YAML is written anew, so its comments are lost."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        data = {}
    data["sites"] = sites
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def payload(stored: StoredScenario, threat: str = "fighter-4gen") -> dict[str, Any]:
    """What the API returns for a scenario: its text, sections and a GeoJSON of its sites,
    sector wedges (out to each radar's detection range on ``threat``) and assets."""
    scn = stored.scenario
    scene = base_scene(scn, source={"input": "scenario"}, threat=threat, start_utc=None)
    return {
        "scenario_id": stored.id,
        "name": scn.name,
        "description": scn.description,
        "yaml": stored.text,
        "has_dem": scn.environment.dem is not None,
        "sites": [s.model_dump(mode="json", exclude_none=True) for s in scn.sites],
        "raids": [r.model_dump(mode="json", exclude_none=True) for r in scn.raids],
        "networks": [n.model_dump(mode="json") for n in scn.networks],
        "assets": [a.model_dump(mode="json") for a in scn.assets],
        "geojson": scene_geojson(scene),
    }


def examples() -> list[dict[str, Any]]:
    """The bundled example scenarios: id (file stem), name, description, kind."""
    out = []
    for p in sorted(EXAMPLES_DIR.glob("*.yaml")):
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        out.append(
            {
                "id": p.stem,
                "name": data.get("name", p.stem),
                "description": " ".join(str(data.get("description", "")).split()),
                "kind": "raid" if data.get("raids") else "coverage",
            }
        )
    return out


def example_text(example_id: str) -> str:
    """The YAML of bundled example ``example_id``; :class:`NotFound` for any other name."""
    by_id = {p.stem: p for p in EXAMPLES_DIR.glob("*.yaml")}
    if example_id not in by_id:
        raise NotFound(f"no bundled example of that name; examples: {', '.join(sorted(by_id))}")
    return by_id[example_id].read_text(encoding="utf-8")
