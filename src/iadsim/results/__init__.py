"""Results of Monte Carlo jobs: the DuckDB store and the metrics with confidence intervals.

See :mod:`iadsim.results.store` (tables, atomic writing) and :mod:`iadsim.results.metrics`
(the SQL queries and the interval estimators); docs/results.md explains both.
"""

from __future__ import annotations

from iadsim.results.metrics import bootstrap_interval, compute_summary, t_interval, wilson_interval
from iadsim.results.store import (
    STORE_NAME,
    SUMMARY_JSON,
    open_store,
    summary_dict,
    write_store,
    write_summary_json,
)

__all__ = [
    "STORE_NAME",
    "SUMMARY_JSON",
    "bootstrap_interval",
    "compute_summary",
    "open_store",
    "summary_dict",
    "t_interval",
    "wilson_interval",
    "write_store",
    "write_summary_json",
]
