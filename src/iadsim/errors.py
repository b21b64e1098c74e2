"""User-facing errors: one located sentence, never a traceback.

Every error a user can cause (bad scenario field, unknown catalog id, broken DEM, bad CLI
argument) is raised as an :class:`IadsimError` subclass. The CLI prints ``str(err)`` on one
line and exits with code 2.
"""

from __future__ import annotations


class IadsimError(Exception):
    """Base class for errors caused by user input. ``str()`` is a one-line message."""

    exit_code = 2

    def __str__(self) -> str:  # keep it one line whatever the args contain
        return " ".join(str(self.args[0] if self.args else "").split())


class ScenarioError(IadsimError):
    """A scenario file is malformed: the message names file, line, field and the fix."""


class CatalogError(IadsimError):
    """An unknown catalog id or a malformed catalog data file."""


class DemError(IadsimError):
    """A DEM cannot be read or has no usable georeferencing."""


class InputError(IadsimError):
    """Any other bad input (CLI argument values, upload contents)."""


class DemCoverageWarning(UserWarning):
    """A DEM does not cover all of a site's reach: the result beyond its edge is approximate
    (the ground there is taken as sea level). The CLI prints it as one ``warning:`` line."""
