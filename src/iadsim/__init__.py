"""iadsim: integrated air and missile defence simulation from public data.

Quick tour::

    import iadsim
    scn = iadsim.load_scenario("examples/ankara.yaml")
    cov = iadsim.compute_coverage(scn, altitude_m=1000)
    cov.summary()["union"]["detection_area_km2"]

Every number in the catalog carries its public source; examples are illustrative.
"""

from __future__ import annotations

from iadsim._version import __version__
from iadsim.errors import (
    CatalogError,
    DemCoverageWarning,
    DemError,
    IadsimError,
    IadsimWarning,
    InputError,
    ScenarioError,
    ThreatEnvelopeWarning,
    UnresolvedThreatsWarning,
)

__all__ = [
    "__version__",
    "IadsimError",
    "ScenarioError",
    "CatalogError",
    "DemError",
    "InputError",
    "IadsimWarning",
    "DemCoverageWarning",
    "ThreatEnvelopeWarning",
    "UnresolvedThreatsWarning",
    "run",
    "sweep",
    "load_scenario",
    "compute_coverage",
    "compute_coverage_multi",
    "write_coverage",
    "run_coverage_job",
]


def __getattr__(name: str):
    # Lazy: ``iadsim.run`` pulls in DuckDB, pandas and the engine only when used.
    if name == "run":
        from iadsim.api import run  # lazy: `import iadsim` (and the CLI) start fast

        return run
    if name == "sweep":
        from iadsim.sweeps import sweep  # lazy: `import iadsim` starts fast

        return sweep
    if name == "load_scenario":
        from iadsim.scenario import load_scenario  # lazy: `import iadsim` starts fast

        return load_scenario
    if name in ("compute_coverage", "compute_coverage_multi"):
        import iadsim.coverage  # lazy: `import iadsim` starts fast

        return getattr(iadsim.coverage, name)
    if name in ("write_coverage", "run_coverage_job"):  # the files and the maps
        import iadsim.report.coverage_job  # lazy: `import iadsim` starts fast

        return getattr(iadsim.report.coverage_job, name)
    raise AttributeError(f"module 'iadsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names too, for tab completion and help() in notebooks
    return sorted(set(globals()) | set(__all__))
