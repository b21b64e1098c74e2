"""The FastAPI application of ``iadsim serve`` (docs/web.md lists the endpoints).

Every error is JSON ``{"error", "field", "line"}`` with a 4xx status: a scenario's located
message (422), an unknown id or file (404), a body beyond the upload limit (413); anything
unexpected is logged here and answered with one generic line (500), never a traceback.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartParser

from iadsim._version import __version__
from iadsim.errors import IadsimError, IadsimWarning, InputError
from iadsim.web import basemap
from iadsim.web import scenarios as scn_store
from iadsim.web.coverage import MAX_ALTITUDE_M, CoverageCache, coverage_response
from iadsim.web.storage import DataDir, NotFound

log = logging.getLogger("iadsim.web")

#: default upload limit of a scenario (bytes): far beyond any scenario, far below a DEM
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class TooLarge(Exception):
    """A request body beyond the upload limit (HTTP 413)."""


def _error(status: int, message: str, field: str | None = None, line: int | None = None):
    return JSONResponse({"error": message, "field": field, "line": line}, status_code=status)


def _static_dir() -> Path:
    return Path(str(resources.files("iadsim.web") / "static"))


PLACEHOLDER = """<!doctype html><html><head><meta charset="utf-8"><title>iadsim</title></head>
<body><h1>iadsim serve</h1><p>The page is not installed in this build; the API is at
<a href="/docs">/docs</a>.</p></body></html>"""


def create_app(
    data_dir: str | Path,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> FastAPI:
    """The application over ``data_dir`` (created if missing); request bodies beyond
    ``max_upload_bytes`` are refused with 413."""
    data = DataDir(data_dir)
    cache = CoverageCache()
    app = FastAPI(
        title="iadsim",
        version=__version__,
        description="The browser workbench's API: scenarios, coverage at any altitude, "
        "Monte Carlo jobs, replays, exports. Illustrative analysis from public data.",
    )
    app.state.data = data
    app.state.coverage = cache
    app.state.max_upload_bytes = max_upload_bytes

    @app.exception_handler(scn_store.LocatedError)
    async def _located(_: Request, exc: scn_store.LocatedError):
        return _error(422, exc.message, exc.field, exc.line)

    @app.exception_handler(IadsimError)
    async def _iadsim(_: Request, exc: IadsimError):
        field = exc.param if isinstance(exc, InputError) else None
        return _error(422, str(exc), field)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound):
        return _error(404, str(exc))

    @app.exception_handler(TooLarge)
    async def _too_large(_: Request, exc: TooLarge):
        return _error(413, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or None
        return _error(422, f"{field or 'request'}: {err.get('msg', 'invalid')}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "internal error: the server log has the details")

    async def _body(request: Request) -> bytes:
        """The request body, read up to the upload limit (:class:`TooLarge` beyond)."""
        limit = app.state.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise TooLarge(_too_large_text(limit))
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(_too_large_text(limit))
            chunks.append(chunk)
        return b"".join(chunks)

    async def _scenario_text(request: Request, current: str | None = None) -> str:
        """The YAML of a POST/PUT: JSON ``{"yaml": TEXT}`` (or ``{"sites": [...]}`` on PUT)
        or a multipart upload in field ``file``."""
        body = await _body(request)
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):

            async def once():
                yield body
                yield b""

            form = await MultiPartParser(request.headers, once()).parse()
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError("file: the upload has no field 'file' (a scenario YAML)", "file")
            raw = await upload.read()
            return _decode(raw)
        try:
            obj = json.loads(body or b"null")
        except ValueError:
            raise InputError('body: not JSON; send {"yaml": TEXT} or a file upload') from None
        if isinstance(obj, dict) and isinstance(obj.get("yaml"), str):
            return obj["yaml"]
        if current is not None and isinstance(obj, dict) and isinstance(obj.get("sites"), list):
            return scn_store.with_sites(current, obj["sites"])
        raise InputError(
            'body: send {"yaml": TEXT}'
            + (' or {"sites": [...]}' if current is not None else "")
            + " or a multipart upload in field 'file'",
            "yaml",
        )

    @app.get("/api/health", tags=["server"])
    def health() -> dict[str, Any]:
        """The server's iadsim version."""
        return {"version": __version__}

    @app.get("/api/basemap/countries", tags=["basemap"])
    def countries() -> JSONResponse:
        """Natural Earth admin-0 countries (simplified) as GeoJSON."""
        return JSONResponse(basemap.countries_geojson())

    @app.get("/api/basemap/cities", tags=["basemap"])
    def cities(min_population: int = Query(500_000, ge=0)) -> JSONResponse:
        """GeoNames cities of at least ``min_population`` as GeoJSON points."""
        return JSONResponse(basemap.cities_geojson(min_population))

    @app.get("/api/examples", tags=["scenarios"])
    def examples() -> list[dict[str, Any]]:
        """The bundled example scenarios."""
        return scn_store.examples()

    @app.get("/api/examples/{example_id}", tags=["scenarios"])
    def example(example_id: str) -> dict[str, Any]:
        """One bundled example's YAML."""
        return {"id": example_id, "yaml": scn_store.example_text(example_id)}

    @app.post("/api/scenarios", status_code=201, tags=["scenarios"])
    async def post_scenario(request: Request) -> JSONResponse:
        """Store a scenario (JSON ``{"yaml": TEXT}`` or a multipart ``file``); 422 with the
        located error when it does not load."""
        text = await _scenario_text(request)
        stored = await _in_thread(scn_store.store, data, text)
        return JSONResponse(await _in_thread(scn_store.payload, stored), status_code=201)

    @app.put("/api/scenarios/{scenario_id}", tags=["scenarios"])
    async def put_scenario(scenario_id: str, request: Request) -> JSONResponse:
        """Replace a scenario's YAML (or only its ``sites``); the old one stays on error."""
        current = await _in_thread(scn_store.load_stored, data, scenario_id)
        text = await _scenario_text(request, current.text)
        stored = await _in_thread(scn_store.store, data, text, scenario_id)
        cache.forget(scenario_id)
        return JSONResponse(await _in_thread(scn_store.payload, stored))

    @app.get("/api/scenarios/{scenario_id}", tags=["scenarios"])
    def get_scenario(scenario_id: str) -> JSONResponse:
        """A stored scenario (as POST returns it)."""
        return JSONResponse(scn_store.payload(scn_store.load_stored(data, scenario_id)))

    @app.get("/api/scenarios/{scenario_id}/coverage", tags=["coverage"])
    def coverage(
        scenario_id: str,
        altitude_m: float = Query(1000.0, description="target altitude (m AMSL, or AGL)"),
        terrain: bool = Query(False, description="mask with the scenario's DEM"),
        agl: bool = Query(False, description="altitude above the ground"),
        threat: str = Query("fighter-4gen", description="catalog threat id"),
    ) -> JSONResponse:
        """Coverage polygons (per site, union, overlap) and summary at one altitude. The
        first call per scenario, threat and switch computes each site's pass; later
        altitudes only threshold it."""
        if not (math.isfinite(altitude_m) and (0 if agl else -500) <= altitude_m
                <= MAX_ALTITUDE_M):  # fmt: skip
            raise InputError(
                f"altitude_m must be between {0 if agl else -500} and {MAX_ALTITUDE_M:g} m, "
                f"got {altitude_m:g}",
                "altitude_m",
            )
        stored = scn_store.load_stored(data, scenario_id)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            prepared = cache.get(scenario_id, stored.text, stored.scenario, threat, terrain, agl)
            out = coverage_response(prepared.at(altitude_m))
        out["warnings"] = sorted({str(w.message) for w in caught if _is_user_warning(w)})
        return JSONResponse(out)

    static = _static_dir()
    if (static / "index.html").is_file():
        app.mount("/", StaticFiles(directory=static, html=True), name="static")
    else:

        @app.get("/", include_in_schema=False)
        def index() -> HTMLResponse:
            return HTMLResponse(PLACEHOLDER)

    return app


def _is_user_warning(w: warnings.WarningMessage) -> bool:
    return issubclass(w.category, IadsimWarning)


def _too_large_text(limit: int) -> str:
    return (
        f"the upload exceeds the server's limit of {limit / 1024 / 1024:g} MB "
        "(iadsim serve --max-upload-mb)"
    )


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("file: the scenario is not UTF-8 text (a YAML file)", "file") from None


async def _in_thread(fn, *args):
    """Run blocking work (files, the scenario loader) off the event loop."""
    return await run_in_threadpool(fn, *args)
