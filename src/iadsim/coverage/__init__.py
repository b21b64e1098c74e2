"""Coverage analysis: where each site detects and can engage a threat at a given altitude.

>>> import iadsim
>>> scn = iadsim.load_scenario("examples/ankara.yaml")
>>> cov = iadsim.compute_coverage(scn, altitude_m=1000, resolution_km=4)
>>> cov.summary()["union"]["detection_area_km2"]  # doctest: +SKIP

See docs/coverage.md for the model, the file products and their layout. The files without the
map come from :func:`write_coverage`; :mod:`iadsim.report.coverage_job` (coverage, maps and the
vertical coverage diagram in one call) sits above this package, in the report layer.
"""

from __future__ import annotations

from iadsim.coverage.analysis import (
    CoverageResult,
    EnvelopeSpec,
    RadarSpec,
    SiteSpec,
    compute_coverage,
    compute_coverage_multi,
    resolve_sites,
)
from iadsim.coverage.grid import Grid, make_grid
from iadsim.coverage.products import summarize, write_coverage, write_coverage_set

__all__ = [
    "CoverageResult",
    "EnvelopeSpec",
    "Grid",
    "RadarSpec",
    "SiteSpec",
    "compute_coverage",
    "compute_coverage_multi",
    "make_grid",
    "resolve_sites",
    "summarize",
    "write_coverage",
    "write_coverage_set",
]
