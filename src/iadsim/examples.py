"""Where the illustrative example scenarios live (shipped inside the package).

The repository's ``examples/`` folder is a link to the same directory, so that
``iadsim run examples/raid_s400_standalone.yaml`` works from a clone and
``example_path("raid_s400_standalone.yaml")`` works from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

from iadsim.errors import InputError

EXAMPLES_DIR = Path(__file__).parent / "data" / "examples"


def example_path(name: str) -> Path:
    """Path of a shipped example file, e.g. ``example_path("ankara.yaml")``."""
    path = EXAMPLES_DIR / name
    if not path.is_file():
        known = sorted(p.name for p in EXAMPLES_DIR.glob("*.yaml"))
        raise InputError(f"no example scenario {name!r}; shipped examples: {known}")
    return path
