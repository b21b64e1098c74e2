"""iadsim.fileio: atomic writes. The target only ever holds the old or the complete new
contents; a failed write leaves the old file and no temporary file behind."""

from __future__ import annotations

import os
import stat

import pytest

from iadsim import fileio
from iadsim.fileio import atomic_path, atomic_write, atomic_write_text


def _names(d):
    return sorted(p.name for p in d.iterdir())


def test_write_text_replaces_the_file_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old\n")
    assert atomic_write_text(target, "new ✓\n") == target
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert _names(tmp_path) == ["out.json"]


def test_missing_parent_directories_are_created(tmp_path):
    target = tmp_path / "a" / "b" / "c.txt"
    atomic_write_text(target, "x")
    assert target.read_text() == "x"


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_an_interrupted_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path, exc):
    target = tmp_path / "coverage.tif"
    target.write_bytes(b"old contents")
    seen = []

    def write(tmp):
        seen.append(tmp)
        tmp.write_bytes(b"half writ")  # partial output, then the writer dies
        raise exc

    with pytest.raises(type(exc)):
        atomic_write(target, write)
    assert target.read_bytes() == b"old contents"
    assert _names(tmp_path) == ["coverage.tif"]
    # the temporary file was a sibling of the target (same directory, same file system)
    assert seen[0].parent == tmp_path and seen[0] != target


def test_an_interrupted_first_write_leaves_no_file_at_all(tmp_path):
    with pytest.raises(ValueError), atomic_path(tmp_path / "results.duckdb") as tmp:
        tmp.write_bytes(b"partial")
        raise ValueError
    assert _names(tmp_path) == []


def test_writer_that_creates_the_file_itself_and_its_wal_are_cleaned_up(tmp_path):
    """DuckDB style: delete the reserved temp file, create it anew plus a ``.wal`` beside it."""
    target = tmp_path / "results.duckdb"
    target.write_bytes(b"old store")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.unlink()
        tmp.write_bytes(b"new store, unfinished")
        tmp.with_name(tmp.name + ".wal").write_bytes(b"log")
        raise RuntimeError
    assert target.read_bytes() == b"old store"
    assert _names(tmp_path) == ["results.duckdb"]


def test_new_file_gets_the_umask_mode_not_mkstemp_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644


def test_fsync_flushes_the_temp_file_before_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(fd)
        assert not target.exists()  # before os.replace
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", spy)
    atomic_write_text(target, "a,b\n", fsync=True)
    assert target.read_text() == "a,b\n" and len(synced) == 1
    atomic_write_text(target, "c,d\n")  # default: no fsync
    assert target.read_text() == "c,d\n" and len(synced) == 1
