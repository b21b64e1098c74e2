"""The package version, in a module of its own so that any layer can read it without importing
the ``iadsim`` facade (:mod:`iadsim`, which sits above every layer)."""

from __future__ import annotations

import importlib.metadata as _metadata

try:
    __version__ = _metadata.version("iadsim")  # the one version string is pyproject.toml's
except _metadata.PackageNotFoundError:
    # Not installed (a copy of the source put on sys.path by hand): there is no metadata to
    # read, and the code still runs. "0+unknown" sorts below every release.
    __version__ = "0+unknown"
