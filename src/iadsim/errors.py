"""User-facing errors: one located sentence, never a traceback.

Every error a user can cause (bad scenario field, unknown catalog id, broken DEM, bad
argument value) is raised as an :class:`IadsimError` subclass. The CLI prints ``str(err)`` on
one line and exits with code 2.

Library code speaks Python: an :class:`InputError` about an argument names the function's
parameter (``resolution_km must be > 0, got 0``) and carries that name in ``params``, so that
the command line can show its own option instead (``--resolution-km must be > 0, got 0``)
without the library knowing about flags.
"""

from __future__ import annotations

from collections.abc import Sequence


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
    """Any other bad input, typically an argument value.

    ``param`` is the name of the Python parameter at fault, or several names when the message
    involves more than one (the first is the main one). Each name appears verbatim in the
    message, which lets a front end substitute its own spelling (the CLI's option).
    """

    def __init__(self, message: str, param: str | Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.params: tuple[str, ...] = (param,) if isinstance(param, str) else tuple(param or ())

    @property
    def param(self) -> str | None:
        """The main parameter at fault (None when the error is not about one)."""
        return self.params[0] if self.params else None

    def __reduce__(self):
        # keep ``params`` across pickling (errors raised in worker processes)
        return (type(self), (self.args[0] if self.args else "", self.params))


class IadsimWarning(UserWarning):
    """Base class of iadsim's warnings: a result that stands but needs the user's attention.
    ``str()`` is one sentence; the CLI prints each as one ``warning:`` line on stderr."""


class DemCoverageWarning(IadsimWarning):
    """A DEM does not cover all of a site's reach: the result beyond its edge is approximate
    (the ground there is taken as sea level). The CLI prints it as one ``warning:`` line."""


class DemOutlierWarning(IadsimWarning):
    """A DEM holds heights no ground on Earth has (beyond :data:`iadsim.geo.dem.HEIGHT_RANGE_M`,
    e.g. a 1e9 m spike of a broken file): those cells are read as nodata (sea level)."""


class DoubtfulScenarioWarning(IadsimWarning):
    """A scenario that is valid but probably not what was meant: no raids, a raid whose
    threats cannot arrive within ``time.duration_s``, a sector radar facing away from every
    raid (:mod:`iadsim.checks`)."""


class ThreatEnvelopeWarning(IadsimWarning):
    """A threat is flown far outside the class its catalog entry describes (range beyond its
    ``max_range``, or a ballistic flight needing more burnout speed than the class has): the
    flight is computed as asked, but the catalog's other numbers (RCS, boost, speeds) no
    longer describe that missile."""


class UnresolvedThreatsWarning(IadsimWarning):
    """Threats were still flying (or not yet launched) when the simulated time ended: they
    are counted as unresolved, neither killed nor leaked, and the raid is not scored
    defeated. The message says what ``time.duration_s`` would let them all arrive."""
