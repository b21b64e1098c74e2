"""Decorators of the commands that write: ``--out`` is checked before any work, and a
directory is locked for the command's duration (:mod:`iadsim.fileio`).

typer reads a decorated command's options through ``functools.wraps`` (``__wrapped__``), so
the decorators change nothing in the command's signature or ``--help``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from iadsim.fileio import check_out_file, job_out_dir


def writes_dir(func: Callable[..., Any]) -> Callable[..., Any]:
    """The command writes into the directory ``--out`` (keyword ``out``): check it, create it
    and hold its lock (a second job into it is refused) while the command runs
    (:func:`iadsim.fileio.job_out_dir`: removed again if the command fails and left it
    empty)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with job_out_dir(kwargs["out"], "out"):
            return func(*args, **kwargs)

    return wrapper


def writes_file(example: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The command writes the file ``--out`` (keyword ``out``): check it (not a directory, its
    directory creatable and writable) before the command's work; ``example`` is a file name
    shown when a directory is given."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_out_file(kwargs["out"], "out", example)
            return func(*args, **kwargs)

        return wrapper

    return decorate
