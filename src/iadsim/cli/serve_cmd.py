"""``iadsim serve``: the browser workbench (FastAPI app of :mod:`iadsim.web`) on uvicorn."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer

from iadsim.errors import InputError


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        help="address to listen on; the default serves this machine only (another address "
        "lets anyone who reaches it use the server: a warning is printed)",
    ),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="where scenarios, jobs and their results are kept (default "
        "$XDG_DATA_HOME/iadsim, i.e. ~/.local/share/iadsim)",
    ),
    workers: int = typer.Option(
        1, "--workers", help="jobs run at once, each in its own process (more wait queued)"
    ),
    jobs_per_client: int = typer.Option(
        2,
        "--jobs-per-client",
        help="queued and running jobs one client address may have (HTTP 429 beyond)",
    ),
    max_upload_mb: float = typer.Option(
        2.0, "--max-upload-mb", help="largest scenario upload accepted (MB); larger: HTTP 413"
    ),
) -> None:
    """Serve the browser workbench: open http://HOST:PORT/ (API documentation at /docs).

    Works offline: the page, its map library and the basemap (Natural Earth countries,
    GeoNames cities) ship with the package. Stop with Ctrl-C.
    """
    from iadsim.web.storage import default_data_dir  # lazy: CLI start-up

    if not 0 <= port <= 65535:
        raise InputError(f"port must be between 0 and 65535, got {port}", "port")
    if not (max_upload_mb > 0):
        raise InputError(f"max_upload_mb must be > 0, got {max_upload_mb:g}", "max_upload_mb")
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}", "workers")
    if jobs_per_client < 1:
        raise InputError(f"jobs_per_client must be >= 1, got {jobs_per_client}", "jobs_per_client")
    if not _loopback(host):
        typer.echo(
            f"warning: serving on {host}, not only this machine: anyone who can reach it can "
            "read and run scenarios here; use --host 127.0.0.1 unless that is intended",
            err=True,
        )
    directory = data_dir if data_dir is not None else default_data_dir()
    typer.echo(f"iadsim serve: starting on http://{host}:{port}/ (data in {directory})", err=True)

    import uvicorn  # lazy: CLI start-up

    from iadsim.web.app import create_app  # lazy: CLI start-up

    app = create_app(
        directory,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        workers=workers,
        jobs_per_client=jobs_per_client,
    )
    typer.echo(f"iadsim serve: ready at http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the app."""
    app.command("serve")(serve_command)
