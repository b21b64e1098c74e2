"""Fixtures shared by the test modules (helpers that are not fixtures: tests/helpers)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from iadsim import catalog
from tests.helpers.simkit import merged_catalog


@pytest.fixture
def test_catalog(monkeypatch):
    """The real catalog plus the synthetic ``test-*`` items under tests/data/sim_catalog, for
    the duration of a test (``catalog.load`` patched)."""
    merged = merged_catalog()
    monkeypatch.setattr(catalog, "load", lambda data_dir=None: merged)
    return merged


CliResult = tuple[int, str, str]


@pytest.fixture
def iadsim_cli(monkeypatch, capsys) -> Callable[..., CliResult]:
    """Run the ``iadsim`` command through its real entry point (:func:`iadsim.cli.main.main`,
    which prints every error as one line): ``iadsim_cli("coverage", path, "--out", d)`` ->
    ``(exit code, stdout, stderr)``. Arguments may be any objects (str() is applied)."""
    from iadsim.cli.main import main

    def invoke(*args: object) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["iadsim", *map(str, args)])
        monkeypatch.setenv("COLUMNS", "200")  # rich tables: no wrapping of what tests look for
        capsys.readouterr()  # drop what earlier calls printed
        code: int | str | None = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return (code if isinstance(code, int) else 1 if code else 0), out.out, out.err

    return invoke


# ---- fuzzing count (tests/test_fuzz.py): each xdist worker reports its own, the controller
# adds them up and prints the total at the end of the run


def pytest_sessionfinish(session):
    from tests.helpers import fuzz

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the count to the controller
        workeroutput["fuzz_count"] = fuzz.COUNT[0]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    counts = node.config.stash.setdefault(_FUZZ_WORKERS, [])
    counts.append(getattr(node, "workeroutput", {}).get("fuzz_count", 0))


_FUZZ_WORKERS = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config):
    from tests.helpers import fuzz

    total = fuzz.COUNT[0] + sum(config.stash.get(_FUZZ_WORKERS, []))
    if total:
        terminalreporter.write_line(f"fuzzing: {total} generated scenarios and CLI invocations")
