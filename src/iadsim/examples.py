"""Where the illustrative example scenarios live (shipped inside the package)."""

from __future__ import annotations

from pathlib import Path

from iadsim.errors import InputError

EXAMPLES_DIR = Path(__file__).parent / "data" / "examples"
_REPO_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_path(name: str) -> Path:
    """Path of a shipped example scenario, e.g. ``example_path("ankara.yaml")``."""
    path = EXAMPLES_DIR / name
    if not path.is_file() and (_REPO_EXAMPLES / name).is_file():
        path = _REPO_EXAMPLES / name
    if not path.is_file():
        known = sorted(p.name for p in EXAMPLES_DIR.glob("*.yaml"))
        raise InputError(f"no example scenario {name!r}; shipped examples: {known}")
    return path
