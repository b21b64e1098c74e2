"""The server's data directory: where scenarios and jobs live, and the only place a request
may name a file in.

Ids are server-made (``uuid4().hex``) and checked against :data:`ID_RE` before they touch a
path; every path built from a request is resolved (symlinks followed) and checked to lie
inside the data directory (:func:`DataDir.inside`), so ``../``, absolute paths, symlinks and
encoded variants of them end in a 404, never in a file outside.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from iadsim.errors import InputError

#: a scenario or job id: 32 lower-case hex digits
ID_RE = re.compile(r"^[0-9a-f]{32}$")


class NotFound(Exception):
    """A resource (scenario, job, file) the request names does not exist (HTTP 404)."""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/iadsim`` (default ``~/.local/share/iadsim``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "iadsim"


def new_id() -> str:
    return uuid.uuid4().hex


def check_id(value: str, what: str) -> str:
    """``value`` if it is a well-formed id, else :class:`NotFound` (a malformed id names no
    resource; the message does not echo the value)."""
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise NotFound(f"no {what} with that id (ids are 32 hex digits)")
    return value


class DataDir:
    """The data directory's layout: ``scenarios/ID/scenario.yaml``, ``jobs/ID/``,
    ``jobs.db``."""

    def __init__(self, root: str | Path) -> None:
        root = Path(root).expanduser()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"data_dir {str(root)!r} cannot be created ({exc.strerror}); give a writable "
                "directory",
                "data_dir",
            ) from None
        if not os.access(root, os.W_OK):
            raise InputError(
                f"data_dir {str(root)!r} is not writable; give a writable directory", "data_dir"
            )
        self.root = root.resolve()
        for sub in ("scenarios", "jobs", "tmp"):
            (self.root / sub).mkdir(exist_ok=True)

    def inside(self, path: Path) -> Path:
        """``path`` resolved (symlinks followed); :class:`NotFound` unless it lies inside the
        data directory."""
        resolved = Path(os.path.realpath(path))
        if not resolved.is_relative_to(self.root):
            raise NotFound("no such file")
        return resolved

    def scenario_dir(self, scenario_id: str) -> Path:
        return self.inside(self.root / "scenarios" / check_id(scenario_id, "scenario"))

    def job_dir(self, job_id: str) -> Path:
        return self.inside(self.root / "jobs" / check_id(job_id, "job"))

    @property
    def jobs_db(self) -> Path:
        return self.root / "jobs.db"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"
