"""Refusing what would exhaust memory: inputs whose arrays grow with a number the user types
(time steps x threats of a raid, trajectory samples, Monte Carlo runs and their events) are
sized before they are allocated, and refused with the figure, the limit and how to lower it.

The limit is :data:`MEMORY_FRACTION` of the memory available when the check runs
(:func:`available_bytes`: ``psutil.virtual_memory().available`` when psutil is installed,
else ``MemAvailable`` from ``/proc/meminfo``, else the free physical pages), so a job refused
on a busy laptop may run on a larger machine. The environment variable
``IADSIM_MEMORY_LIMIT_MB`` replaces the computed limit (e.g. on a shared machine, or to make a
job fail early in a test).
"""

from __future__ import annotations

import os
from pathlib import Path

from iadsim.errors import InputError

#: share of the available memory one allocation may take
MEMORY_FRACTION = 0.5
#: environment variable that sets the limit in MB instead
LIMIT_ENV = "IADSIM_MEMORY_LIMIT_MB"
_FALLBACK_BYTES = 4 << 30  # no way to ask the system: assume 4 GiB available


def available_bytes() -> int:
    """The memory available to a new allocation without swapping, in bytes."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return _FALLBACK_BYTES


def limit_bytes() -> tuple[int, str]:
    """The limit in bytes and where it comes from, as a phrase for messages."""
    env = os.environ.get(LIMIT_ENV)
    if env:
        try:
            mb = float(env)
        except ValueError:
            mb = float("nan")
        if not (mb > 0 and mb < float("inf")):
            raise InputError(f"{LIMIT_ENV}={env!r}: expected a positive number of MB")
        return int(mb * 2**20), f"set by {LIMIT_ENV}"
    avail = available_bytes()
    return int(avail * MEMORY_FRACTION), (
        f"{MEMORY_FRACTION:.0%} of the {human_bytes(avail)} of memory available; "
        f"{LIMIT_ENV} sets another"
    )


def human_bytes(n: float) -> str:
    """``1.5 GB``-style text (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PB"  # pragma: no cover


def check_memory(
    need_bytes: float,
    what: str,
    lower: str,
    param: str | tuple[str, ...] | None = None,
) -> None:
    """Raise a one-line :class:`InputError` when ``need_bytes`` exceeds the limit
    (:func:`limit_bytes`): ``"{what} would need about X of memory, more than the limit of Y
    (...); {lower}"``. ``what`` states the figure (e.g. "500 threats x 86,401 time steps"),
    ``lower`` how to bring it down; ``param`` names the parameter(s) for the CLI."""
    limit, origin = limit_bytes()
    if need_bytes > limit:
        raise InputError(
            f"{what} would need about {human_bytes(need_bytes)} of memory, more than the limit "
            f"of {human_bytes(limit)} ({origin}); {lower}",
            param,
        )
