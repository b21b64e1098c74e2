"""Fuzzing helpers: hostile mutations of valid scenarios, the in-process CLI, and the contract
every invocation must keep (exit 0 with finite outputs, or exit 2 with one ``error:`` line).

``COUNT`` counts the generated scenarios and CLI invocations of this process; tests/conftest.py
adds the workers' counts up and prints the total at the end of the run.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import strategies as st

COUNT = [0]

ROOT = Path(__file__).resolve().parents[2]

#: values a hostile user types where a number (or anything) is expected
HOSTILE = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 1e20, -1e20, 10**20, 2**63, -1, 0, -5000,
    1e-300, 0.5, "", "x", "1e3", None, True, False, [], {}, [1, 2], [[0, 0, 0]], {"a": 1},
]  # fmt: skip


def numbers() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.text(max_size=6),
    )


def leaf_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Key paths of every value inside ``data`` (containers included, the root excluded)."""
    out = []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for k, v in items:
        out.append((*prefix, k))
        out.extend(leaf_paths(v, (*prefix, k)))
    return out


def get(data: Any, path: tuple) -> Any:
    for k in path:
        data = data[k]
    return data


@st.composite
def mutated(draw, base: dict, dems: dict[str, str] | None = None) -> dict:
    """A copy of ``base`` with one to three hostile mutations."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = leaf_paths(data)
        kind = draw(
            st.sampled_from(
                ["value", "value", "value", "delete", "empty", "duplicate", "unknown", "pole",
                 "antimeridian", "coincident", "dem"]
            )
        )  # fmt: skip
        if kind in ("value", "delete", "empty", "duplicate", "unknown") and not paths:
            continue
        if kind == "value":
            path = draw(st.sampled_from(paths))
            get(data, path[:-1])[path[-1]] = draw(numbers())
        elif kind == "delete":
            path = draw(st.sampled_from(paths))
            del get(data, path[:-1])[path[-1]]
        elif kind == "empty":
            lists = [p for p in paths if isinstance(get(data, p), list)]
            if lists:
                get(data, draw(st.sampled_from(lists))).clear()
        elif kind == "duplicate":
            lists = [p for p in paths if isinstance(get(data, p), list) and get(data, p)]
            if lists:
                lst = get(data, draw(st.sampled_from(lists)))
                lst.append(copy.deepcopy(lst[0]))
        elif kind == "unknown":
            dicts = [p for p in paths if isinstance(get(data, p), dict)]
            if dicts:
                get(data, draw(st.sampled_from(dicts)))["unexpected_key"] = 1
        elif kind == "pole":
            lat = draw(st.sampled_from([90.0, -90.0, 89.999, -89.999]))
            for s in _list(data, "sites"):
                if isinstance(s, dict):
                    s["lat"] = lat
            for r in _list(data, "raids"):
                if isinstance(r, dict) and isinstance(r.get("route"), list):
                    r["route"] = [[lat, 0.0, 1000.0], [lat - math.copysign(2, lat), 90.0, 1000.0]]
                elif isinstance(r, dict) and "launch" in r:
                    r["launch"], r["aim"] = [lat - math.copysign(3, lat), 0.0], [lat, 0.0]
        elif kind == "antimeridian":
            lon = draw(st.sampled_from([180.0, -180.0, 179.9, -179.9]))
            for s in _list(data, "sites"):
                if isinstance(s, dict):
                    s["lon"] = lon
            for r in _list(data, "raids"):
                if isinstance(r, dict) and isinstance(r.get("route"), list):
                    r["route"] = [[40.0, 178.5, 500.0], [40.0, -179.5, 500.0], [40.2, lon, 300.0]]
                elif isinstance(r, dict) and "launch" in r:
                    r["launch"], r["aim"] = [39.0, -178.0], [40.0, lon]
        elif kind == "coincident":
            sites = [s for s in _list(data, "sites") if isinstance(s, dict)]
            if sites:
                twin = copy.deepcopy(sites[0])
                twin["id"] = f"{twin.get('id')}-twin"
                data["sites"].append(twin)
        elif kind == "dem" and dems:
            env = data.setdefault("environment", {})
            if isinstance(env, dict):
                env["dem"] = draw(st.sampled_from(sorted(dems.values())))
            else:
                data["environment"] = {"dem": draw(st.sampled_from(sorted(dems.values())))}
    return data


def _list(data: Any, key: str) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def invoke(*args: object) -> tuple[int, str, str]:
    """Run ``iadsim ARGS`` through its real entry point in this process: (code, out, err)."""
    from iadsim.cli.main import main

    COUNT[0] += 1
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["iadsim", *map(str, args)]
    code: int | str | None = 0
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
    finally:
        sys.argv = argv
    return (code if isinstance(code, int) else 1 if code else 0), out.getvalue(), err.getvalue()


def assert_contract(code: int, err: str, what: str = "") -> None:
    """Exit 0 with only ``warning:`` lines on stderr, or exit 2 with exactly one line, an
    ``error:`` one; never a traceback."""
    lines = err.splitlines()
    assert "Traceback" not in err, f"{what}\n{err}"
    if code == 0:
        assert all(x.startswith("warning: ") for x in lines), f"{what}\n{err}"
    else:
        assert code == 2, f"exit {code}: {what}\n{err}"
        assert len(lines) == 1 and lines[0].startswith("error: "), f"{what}\n{err}"


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"non-finite number {name} in a JSON output")


def assert_finite_outputs(out_dir: Path) -> None:
    """No NaN or infinity in any JSON, CSV or results store under ``out_dir``."""
    for path in sorted(Path(out_dir).rglob("*")):
        if path.suffix in (".json", ".geojson"):
            json.loads(path.read_text(), parse_constant=_reject_constant)
        elif path.suffix == ".csv":
            for token in path.read_text().replace("\n", ",").split(","):
                assert token.strip().lower() not in ("nan", "inf", "-inf"), f"{path}: {token}"
        elif path.suffix == ".duckdb":
            _assert_finite_store(path)


def _assert_finite_store(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        for table in tables:
            cols = con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND data_type IN ('DOUBLE', 'FLOAT', 'REAL')",
                [table],
            ).fetchall()
            for (col,) in cols:
                bad = con.execute(
                    f'SELECT count(*) FROM "{table}" WHERE isnan("{col}") OR isinf("{col}")'
                ).fetchone()
                assert bad is not None and bad[0] == 0, f"{path}: {table}.{col} not finite"
    finally:
        con.close()


def write_broken_dems(folder: Path) -> dict[str, str]:
    """Broken DEMs: all nodata, 1x1, a truncated file, a wrong CRS (degrees labelled as web
    Mercator metres), no georeferencing, a 1e9 m spike, not a raster at all."""
    import rasterio
    from rasterio.transform import from_origin

    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: np.ndarray, crs: str | None, transform) -> str:
        path = folder / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(
                path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                dtype="float32", crs=crs, transform=transform, nodata=-32768,
            ) as ds:  # fmt: skip
                ds.write(data.astype(np.float32), 1)
        return str(path)

    geo = from_origin(30.0, 43.0, 0.05, 0.05)
    dems = {
        "nodata": write("nodata.tif", np.full((80, 100), -32768.0), "EPSG:4326", geo),
        "one": write("one.tif", np.array([[500.0]]), "EPSG:4326", geo),
        "crs": write("crs.tif", np.full((80, 100), 300.0), "EPSG:3857", geo),
        "nogeo": write("nogeo.tif", np.full((10, 10), 1.0), None, rasterio.Affine.identity()),
    }
    spikes = np.full((80, 100), 800.0)
    spikes[::7, ::11] = 1e9
    dems["spikes"] = write("spikes.tif", spikes, "EPSG:4326", geo)
    good = Path(write("good.tif", np.full((80, 100), 600.0), "EPSG:4326", geo)).read_bytes()
    (folder / "truncated.tif").write_bytes(good[: len(good) // 3])
    dems["truncated"] = str(folder / "truncated.tif")
    (folder / "text.tif").write_text("not a raster\n")
    dems["text"] = str(folder / "text.tif")
    return dems
