"""Atomic file writes: results are written to a temporary file beside the target and moved
into place with ``os.replace``, so an interrupted job never leaves a half-written file.

Every writer of result files goes through :func:`atomic_path` (directly for writers that
want a path, such as rasterio or DuckDB) or :func:`atomic_write` / :func:`atomic_write_text`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(final: str | Path, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; move it into place only if the block
    succeeds (the temporary file, and a DuckDB ``.wal`` beside it, are removed otherwise).

    The temporary file exists (empty) when the block starts; writers that must create the
    file themselves (DuckDB) may delete it first. The file gets the usual mode (umask
    applied), not mkstemp's 0600. ``fsync=True`` flushes the file to disk before the rename,
    so the new contents also survive a power loss, not only an interrupted process.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~umask)
            if fsync:
                _fsync_file(tmp_path)
        os.replace(tmp_path, final)
    finally:
        for p in (tmp_path, tmp_path.with_name(tmp_path.name + ".wal")):
            p.unlink(missing_ok=True)


def atomic_write(path: str | Path, write: Callable[[Path], object], *, fsync: bool = False) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path``; returns ``path``."""
    with atomic_path(path, fsync=fsync) as tmp:
        write(tmp)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, fsync: bool = False) -> Path:
    """Write text (UTF-8) atomically."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), fsync=fsync)
