"""The FastAPI application of ``iadsim serve`` (docs/web.md lists the endpoints).

Every error is JSON ``{"error", "field", "line"}`` with a 4xx status: a scenario's located
message (422), an unknown id or file (404), a body beyond the upload limit (413); anything
unexpected is logged here and answered with one generic line (500), never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import shutil
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartParser

from iadsim._version import __version__
from iadsim.comparison import slugs_for
from iadsim.errors import IadsimError, IadsimWarning, InputError
from iadsim.export import FORMATS, SUFFIXES, load_scene, write_scene
from iadsim.web import basemap
from iadsim.web import scenarios as scn_store
from iadsim.web.coverage import MAX_ALTITUDE_M, CoverageCache, coverage_response
from iadsim.web.jobs import ACTIVE, JobManager, TooManyJobs
from iadsim.web.replay import replay
from iadsim.web.storage import DataDir, NotFound, new_id
from iadsim.web.worker import RESULTS_DIR

log = logging.getLogger("iadsim.web")

#: default upload limit of a scenario (bytes): far beyond any scenario, far below a DEM
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class TooLarge(Exception):
    """A request body beyond the upload limit (HTTP 413)."""


class Conflict(Exception):
    """The job is not in a state that has the thing asked for (HTTP 409)."""


class JobRequest(BaseModel):
    """A job: ``run`` (``iadsim run`` of one scenario) or ``compare`` (``iadsim compare`` of
    two: the report)."""

    kind: str = Field("run", description="run or compare")
    scenario_id: str
    other_scenario_id: str | None = Field(None, description="compare: the second scenario")
    runs: int = Field(20, description="Monte Carlo runs (per scenario)")
    seed: int = Field(0, description="the job's seed: same seed, same numbers")


#: the media type of each export format
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "czml": "application/json",
    "acmi": "text/plain",
}


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
    workers: int = 1,
    jobs_per_client: int = 2,
) -> FastAPI:
    """The application over ``data_dir`` (created if missing); request bodies beyond
    ``max_upload_bytes`` are refused with 413; at most ``workers`` jobs run at once, and a
    client (by address) may have ``jobs_per_client`` queued or running (429 beyond)."""
    data = DataDir(data_dir)
    cache = CoverageCache()
    jobs = JobManager(data, workers, jobs_per_client)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="iadsim",
        version=__version__,
        description="The browser workbench's API: scenarios, coverage at any altitude, "
        "Monte Carlo jobs, replays, exports. Illustrative analysis from public data.",
    )
    app.state.data = data
    app.state.coverage = cache
    app.state.max_upload_bytes = max_upload_bytes
    app.state.jobs = jobs

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

    @app.exception_handler(TooManyJobs)
    async def _too_many(_: Request, exc: TooManyJobs):
        return _error(429, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict):
        return _error(409, str(exc))

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

    @app.get("/api/scenarios/{scenario_id}/export", tags=["exports"])
    def scenario_export(
        scenario_id: str,
        format: str = Query("geojson", description="geojson, kml, czml or acmi"),
        altitude_m: list[float] = Query([1000.0], description="coverage altitudes (m AMSL)"),
    ) -> FileResponse:
        """The scenario as ``iadsim export`` writes it: sites, sectors, assets, coverage
        polygons at the altitudes, the raids as planned."""
        fmt = _format(format)
        stored = scn_store.load_stored(data, scenario_id)
        out_dir = data.tmp / new_id()
        out_dir.mkdir()
        out = out_dir / f"scenario{SUFFIXES[fmt][0]}"
        try:
            scene = load_scene(stored.path, altitudes_m=altitude_m)
            write_scene(scene, fmt, out)
            final = data.scenario_dir(scenario_id) / "exports" / out.name
            final.parent.mkdir(exist_ok=True)
            shutil.move(out, final)
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        return FileResponse(final, media_type=MEDIA_TYPES[fmt], filename=_download(stored, fmt))

    @app.post("/api/jobs", status_code=202, tags=["jobs"])
    def post_job(job: JobRequest, request: Request) -> JSONResponse:
        """Queue a job; 202 ``{job_id}``, 429 beyond the client's share of active jobs."""
        client = request.client.host if request.client else "unknown"
        job_id = jobs.submit(
            job.kind, job.scenario_id, job.other_scenario_id, job.runs, job.seed, client
        )
        return JSONResponse({"job_id": job_id}, status_code=202)

    @app.get("/api/jobs", tags=["jobs"])
    def list_jobs() -> list[dict[str, Any]]:
        """Every job, newest first."""
        return jobs.list()

    @app.get("/api/jobs/{job_id}", tags=["jobs"])
    def get_job(job_id: str) -> dict[str, Any]:
        """One job: state, progress {done, total, stage}, error, warnings."""
        return jobs.get(job_id)

    @app.post("/api/jobs/{job_id}/cancel", tags=["jobs"])
    def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (its process is terminated)."""
        return jobs.cancel(job_id)

    @app.get("/api/jobs/{job_id}/progress", tags=["jobs"])
    async def job_progress(job_id: str, request: Request) -> StreamingResponse:
        """Server-Sent Events: ``event: progress`` with ``{done, total, stage, state}`` as
        the job advances, the last one when it ends (then the stream closes)."""
        jobs.get(job_id)

        async def events():
            last = None
            while True:
                job = await _in_thread(jobs.get, job_id)
                data_ = {**job["progress"], "state": job["state"], "error": job["error"]}
                if data_ != last:
                    last = data_
                    yield f"event: progress\ndata: {json.dumps(data_)}\n\n"
                if job["state"] not in ACTIVE or await request.is_disconnected():
                    return
                await asyncio.sleep(0.25)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def _done_job(job_id: str) -> tuple[dict[str, Any], Path]:
        job = jobs.get(job_id)
        if job["state"] != "done":
            raise Conflict(f"the job is {job['state']}, not done")
        return job, data.inside(data.job_dir(job_id) / RESULTS_DIR)

    def _run_dir(job: dict[str, Any], results: Path, deployment: int) -> Path:
        if job["kind"] == "run":
            if deployment != 0:
                raise InputError("deployment: a run job has one deployment (0)", "deployment")
            return results
        labels = job["labels"] or []
        if not 0 <= deployment < len(labels):
            raise InputError(
                f"deployment must be 0 to {len(labels) - 1} ({', '.join(labels)})",
                "deployment",
            )
        return data.inside(results / slugs_for(labels)[deployment])

    def _check_run(job: dict[str, Any], run: int) -> int:
        if not 0 <= run < job["runs"]:
            raise InputError(f"run must be 0 to {job['runs'] - 1}, got {run}", "run")
        return run

    @app.get("/api/jobs/{job_id}/summary", tags=["jobs"])
    def job_summary(job_id: str) -> FileResponse:
        """A run job's summary.json (metrics with 95 % intervals); a compare job's
        report.json."""
        job, results = _done_job(job_id)
        name = "summary.json" if job["kind"] == "run" else "report.json"
        return FileResponse(data.inside(results / name), media_type="application/json")

    @app.get("/api/jobs/{job_id}/replay", tags=["jobs"])
    def job_replay(
        job_id: str, run: int = Query(0, ge=0), deployment: int = Query(0, ge=0)
    ) -> JSONResponse:
        """One run: tracks of threats and interceptor salvos as [t, lon, lat, alt_m]
        samples, events (detections, launches, intercepts, misses, leaks, shots not taken
        with their reason), sites. ``deployment``: a compare job's scenario (0 or 1)."""
        job, results = _done_job(job_id)
        where = _run_dir(job, results, deployment)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return JSONResponse(replay(where, _check_run(job, run)))

    @app.get("/api/jobs/{job_id}/report", tags=["jobs"])
    def job_report(job_id: str) -> FileResponse:
        """A compare job's report.html (self-contained)."""
        job, results = _done_job(job_id)
        if job["kind"] != "compare":
            raise Conflict("only compare jobs have a report")
        return FileResponse(data.inside(results / "report.html"), media_type="text/html")

    @app.get("/api/jobs/{job_id}/export", tags=["exports"])
    def job_export(
        job_id: str,
        format: str = Query("geojson", description="geojson, kml, czml or acmi"),
        run: int = Query(0, ge=0),
        deployment: int = Query(0, ge=0),
    ) -> FileResponse:
        """One run as ``iadsim export`` writes it (flights, fly-outs, events over time)."""
        fmt = _format(format)
        job, results = _done_job(job_id)
        where = _run_dir(job, results, deployment)
        run = _check_run(job, run)
        exports = data.job_dir(job_id) / "exports"
        exports.mkdir(exist_ok=True)
        out = exports / f"d{deployment}-run{run}{SUFFIXES[fmt][0]}"
        if not out.is_file():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                write_scene(load_scene(where, run_id=run), fmt, out)
        return FileResponse(
            data.inside(out), media_type=MEDIA_TYPES[fmt],
            filename=f"iadsim-job-{job_id[:8]}-run{run}{SUFFIXES[fmt][0]}",
        )  # fmt: skip

    static = _static_dir()
    if (static / "index.html").is_file():
        app.mount("/", StaticFiles(directory=static, html=True), name="static")
    else:

        @app.get("/", include_in_schema=False)
        def index() -> HTMLResponse:
            return HTMLResponse(PLACEHOLDER)

    return app


def _format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}", "format")
    return fmt


def _download(stored: scn_store.StoredScenario, fmt: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stored.scenario.name)
    return f"{stem.strip('-')[:60] or 'scenario'}{SUFFIXES[fmt][0]}"


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
