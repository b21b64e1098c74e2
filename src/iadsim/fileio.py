"""Atomic file writes: results are written to a temporary file beside the target and moved
into place with ``os.replace``, so an interrupted job never leaves a half-written file.

Every writer of result files goes through :func:`atomic_path` (directly for writers that
want a path, such as rasterio or DuckDB) or :func:`atomic_write` / :func:`atomic_write_text`.

Before any work, a command checks where it will write: :func:`check_out_dir` (a directory) or
:func:`check_out_file` (a file), and a job writing a directory holds :func:`output_lock` on it,
so that two jobs never mix their files there.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from iadsim.errors import InputError


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


# --- output paths: checked before any work ---------------------------------------------------

#: kernel and device file systems: nothing a job writes belongs there (a directory under /proc
#: or /sys cannot be created; /dev holds device nodes)
SYSTEM_ROOTS: tuple[str, ...] = ("/proc", "/sys", "/dev")

#: the lock file a job keeps in its output directory (holds the job's pid)
LOCK_NAME = ".iadsim.lock"


def _fail(param: str, path: Path, why: str) -> InputError:
    return InputError(f"{param} {str(path)!r}: {why}", param)


def _check_location(path: Path, param: str) -> Path:
    """Refuse a path under a kernel file system or under an existing file; return the nearest
    existing ancestor (a directory)."""
    resolved = Path(os.path.abspath(path))
    try:
        resolved = resolved.resolve()  # symlinks of the existing part (e.g. /tmp/x -> /proc)
    except (OSError, RuntimeError):
        pass
    if os.name == "posix":
        for root in SYSTEM_ROOTS:
            if resolved == Path(root) or Path(root) in resolved.parents:
                raise _fail(
                    param,
                    path,
                    f"is under {root}, a kernel file system; choose a directory on disk",
                )
    ancestor = resolved.parent if resolved.parent != resolved else resolved
    while not ancestor.exists() and ancestor.parent != ancestor:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise _fail(param, path, f"{str(ancestor)!r} is a file, so nothing can be created under it")
    return ancestor


def _probe_writable(directory: Path, path: Path, param: str) -> None:
    """Create and remove a temporary file in ``directory``: the only test of writability that
    holds for every user (root included), read-only mounts and network file systems."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise _fail(
            param, path, f"cannot write in {str(directory)!r} ({exc.strerror or exc})"
        ) from None


def check_out_dir(out_dir: str | Path, param: str = "out_dir", create: bool = True) -> Path:
    """``out_dir`` as a Path, checked as an output directory before any work: not under a
    kernel file system (``/proc``, ``/sys``, ``/dev``), not a file, not under a file, and
    writable. ``create`` makes it (with its parents) so that the job can lock it
    (:func:`output_lock`). Raises a one-line :class:`InputError` naming ``param``."""
    out = Path(out_dir)
    _check_location(out, param)
    if out.exists() and not out.is_dir():
        raise _fail(param, out, "exists and is a file; give a directory")
    if create:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _fail(param, out, f"cannot create it ({exc.strerror or exc})") from None
        _probe_writable(out, out, param)
    else:
        existing = out if out.is_dir() else _check_location(out, param)
        _probe_writable(existing, out, param)
    return out


def check_out_file(path: str | Path, param: str = "out", example: str = "out/result") -> Path:
    """``path`` as a Path, checked as an output file before any work: not under a kernel file
    system, not an existing directory, not under a file, and its directory creatable and
    writable (created here). ``example`` shows a file name in the error for a directory."""
    out = Path(path)
    _check_location(out, param)
    if out.is_dir():
        raise _fail(param, out, f"is a directory; give a file name, e.g. {example}")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(param, out, f"cannot create {str(parent)!r} ({exc.strerror or exc})") from None
    _probe_writable(parent, out, param)
    return out


def _lock_fd(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on the open file ``fd``; False when another process
    holds it. POSIX: ``flock`` (released by the kernel when the holder dies, so the lock of a
    killed job is never stale); Windows: ``msvcrt.locking`` on the first byte (likewise)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def lock_holder(out_dir: str | Path) -> int | None:
    """The pid recorded in ``out_dir``'s lock file when a live job holds the lock, else None."""
    path = Path(out_dir) / LOCK_NAME
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _lock_fd(fd):
            return None  # nobody holds it (our lock goes with the descriptor, closed below)
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)


@contextmanager
def job_out_dir(out_dir: str | Path, param: str = "out_dir") -> Iterator[Path]:
    """The output directory of a job for the block: checked (:func:`check_out_dir`), created
    and locked (:func:`output_lock`). When the block fails and the directory was created
    here, it is removed again if the job left nothing in it, so a refused command leaves no
    trace."""
    out = Path(out_dir)
    created = not out.exists()
    check_out_dir(out, param)
    try:
        with output_lock(out, param):
            yield out
    except BaseException:
        if created:
            (out / LOCK_NAME).unlink(missing_ok=True)
            try:
                out.rmdir()  # only if empty
            except OSError:
                pass
        raise


@contextmanager
def output_lock(out_dir: str | Path, param: str = "out_dir") -> Iterator[Path]:
    """Hold an exclusive lock on the output directory ``out_dir`` (created if needed) for the
    block: a second job into the same directory is refused with the holder's pid (a one-line
    :class:`InputError` naming ``param``). The lock is the kernel's lock on
    ``out_dir/.iadsim.lock`` (:data:`LOCK_NAME`; the file holds the holder's pid), released
    when the block ends or the process dies, however it dies: the lock of a killed job is
    taken over by the next one. The file itself stays (removing it would let two jobs lock
    two different files of the same name)."""
    out = Path(out_dir)
    path = out / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise _fail(param, out, f"cannot create its lock file ({exc.strerror or exc})") from None
    try:
        if not _lock_fd(fd):
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            who = f"pid {text}" if text.isdigit() else "another process"
            raise _fail(
                param,
                out,
                f"another iadsim job ({who}) is writing there; wait for it to end or choose "
                "another directory",
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield out
    finally:
        os.close(fd)  # releases the lock
