"""Monte Carlo metrics as SQL queries over the results store, each with a 95% interval.

Every metric is a DuckDB query over the ``runs``, ``events`` and ``per_threat`` tables
(see :mod:`iadsim.results.store`) followed by one of two interval estimators:

* **Mean of a per-run quantity** (leakers, unresolved and undetected threats per run,
  interceptors spent per run and per site, mean warning time, first detection and warning time
  of a threat): the runs are independent replications, so the Student-t interval is used,
  ``x̄ ± t_{0.975, n-1} · s / √n`` with ``s`` the sample standard deviation over runs
  (e.g. Law, *Simulation Modeling and Analysis*, 5th ed., §9.4.1). No interval for n < 2.
* **A probability** (raid defeated: no leaker and no unresolved threat, kill per threat class, detection): the Wilson
  score interval (Wilson 1927; Brown, Cai & DasGupta 2001),
  ``(p̂ + z²/2n ± z·√(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n)`` with ``z = Φ⁻¹(0.975)``,
  which stays inside [0, 1] and behaves at p̂ = 0 or 1 where the normal interval collapses.

The kill probability per class pools (run, threat) pairs; threats of one raid are not
independent (they share a defence and its inventory), so that interval is narrower than
the truth when saturation couples them — docs/results.md says more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
SUMMARY_COLUMNS = ("metric", "value", "ci_low", "ci_high", "n")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval (None where undefined) and sample size."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


def t_interval(mean: float | None, sd: float | None, n: int, level: float = CONFIDENCE) -> Estimate:
    """Student-t interval for a mean from its sample moments: ``x̄ ± t·s/√n``."""
    if n < 1 or mean is None:
        return Estimate(None, None, None, n)
    if n < 2 or sd is None or not math.isfinite(sd):
        return Estimate(float(mean), None, None, n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(sd) / math.sqrt(n)
    return Estimate(float(mean), float(mean) - half, float(mean) + half, n)


def wilson_interval(successes: int, n: int, level: float = CONFIDENCE) -> Estimate:
    """Wilson score interval for a binomial proportion ``successes / n``."""
    if n < 1:
        return Estimate(None, None, None, 0)
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact 0 and 1 at the ends,
    high = 1.0 if successes == n else min(1.0, centre + half)  # not 1e-17 from rounding
    return Estimate(p, low, high, n)


# Per-run quantities. Every run appears (LEFT JOIN runs) so a run with nothing counts as 0.
_PER_RUN_SQL = {
    # A leaker is a threat that was not killed and flew to the end (one 'leak' event each).
    "leakers_per_run": """
        SELECT r.run_id, count(DISTINCT e.threat) FILTER (WHERE e.kind = 'leak') AS x
        FROM runs r LEFT JOIN events e USING (run_id) GROUP BY r.run_id""",
    # A threat still flying when the simulated time ended (one 'unresolved' event each).
    "unresolved_per_run": """
        SELECT r.run_id, count(DISTINCT e.threat) FILTER (WHERE e.kind = 'unresolved') AS x
        FROM runs r LEFT JOIN events e USING (run_id) GROUP BY r.run_id""",
    # A 'launch' event is one salvo; its value is the number of interceptors in it.
    "interceptors_spent_per_run": """
        SELECT r.run_id, coalesce(sum(e.value) FILTER (WHERE e.kind = 'launch'), 0) AS x
        FROM runs r LEFT JOIN events e USING (run_id) GROUP BY r.run_id""",
    "salvos_per_run": """
        SELECT r.run_id, count(e.kind) FILTER (WHERE e.kind = 'launch') AS x
        FROM runs r LEFT JOIN events e USING (run_id) GROUP BY r.run_id""",
    # Threats no radar ever detected (first_detection_s NULL).
    "undetected_per_run": """
        SELECT r.run_id, count(t.threat) FILTER (WHERE t.first_detection_s IS NULL) AS x
        FROM runs r LEFT JOIN per_threat t USING (run_id) GROUP BY r.run_id""",
    # Mean over ALL the run's threats, an undetected threat counting as 0 s of warning, so two
    # deployments facing the same raid are compared on the same threats.
    "mean_warning_time_s": """
        SELECT run_id, avg(coalesce(warning_time_s, 0.0)) AS x FROM per_threat
        GROUP BY run_id""",
    # Mean over the run's detected threats only (runs with none are left out): how early the
    # threats that were seen were seen, NOT comparable across deployments that detect
    # different threats; read it with undetected_per_run.
    "mean_warning_time_detected_s": """
        SELECT run_id, avg(warning_time_s) AS x FROM per_threat
        WHERE warning_time_s IS NOT NULL GROUP BY run_id""",
}


def _mean_ci(con: duckdb.DuckDBPyConnection, per_run_sql: str) -> Estimate:
    row = con.execute(
        f"SELECT avg(x), stddev_samp(x), count(x) FROM ({per_run_sql}) WHERE x IS NOT NULL"
    ).fetchone()
    return t_interval(row[0], row[1], int(row[2]))


def _grouped_mean_ci(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, Estimate]]:
    """``sql`` yields (key, mean, sd, n, order) rows; returns (key, estimate) in order."""
    return [(str(k), t_interval(m, s, int(n))) for k, m, s, n, _ in con.execute(sql).fetchall()]


def compute_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All metrics of a results store as a ``summary`` table (metric, value, ci_low, ci_high, n).

    Row order and values are deterministic for a given store (no wall-clock, no worker count).
    """
    rows: list[tuple[str, Estimate]] = []
    n_runs = int(con.execute("SELECT count(*) FROM runs").fetchone()[0])
    rows.append(("runs", Estimate(float(n_runs), None, None, n_runs)))
    for name, sql in _PER_RUN_SQL.items():
        rows.append((name, _mean_ci(con, sql)))

    # defeated: no leaker and no threat left unresolved (still flying at the end)
    defeated = con.execute(
        f"""SELECT count(*) FILTER (WHERE l.x = 0 AND u.x = 0)
            FROM ({_PER_RUN_SQL["leakers_per_run"]}) l
            JOIN ({_PER_RUN_SQL["unresolved_per_run"]}) u USING (run_id)"""
    ).fetchone()[0]
    rows.append(("p_raid_defeated", wilson_interval(int(defeated), n_runs)))

    for cls, kills, n in con.execute(
        """SELECT target_class, count(*) FILTER (WHERE killed), count(*) FROM per_threat
           GROUP BY target_class ORDER BY target_class"""
    ).fetchall():
        rows.append((f"p_kill[{cls}]", wilson_interval(int(kills), int(n))))

    for cls, seen, n in con.execute(
        """SELECT target_class, count(*) FILTER (WHERE first_detection_s IS NOT NULL), count(*)
           FROM per_threat GROUP BY target_class ORDER BY target_class"""
    ).fetchall():
        rows.append((f"p_detected[{cls}]", wilson_interval(int(seen), int(n))))

    # Interceptors fired per site per run: zero-filled over every (run, site that launched).
    for site, est in _grouped_mean_ci(
        con,
        """WITH sites AS (SELECT DISTINCT site FROM events
                          WHERE kind = 'launch' AND site IS NOT NULL),
                counts AS (SELECT run_id, site, sum(value) AS c FROM events
                           WHERE kind = 'launch' GROUP BY run_id, site)
           SELECT s.site, avg(coalesce(c.c, 0)), stddev_samp(coalesce(c.c, 0)), count(*), s.site
           FROM runs r CROSS JOIN sites s LEFT JOIN counts c
                ON c.run_id = r.run_id AND c.site = s.site
           GROUP BY s.site ORDER BY s.site""",
    ):
        rows.append((f"interceptors_per_run[{site}]", est))

    # First detection (earliest detection_start event) and warning time, per threat, over
    # the runs in which the threat was detected; ordered by launch time then id.
    for threat, est in _grouped_mean_ci(
        con,
        """WITH first AS (SELECT run_id, threat, min(time_s) AS t FROM events
                          WHERE kind = 'detection_start' GROUP BY run_id, threat),
                launch AS (SELECT threat, min(launched_s) AS l FROM per_threat GROUP BY threat)
           SELECT f.threat, avg(f.t), stddev_samp(f.t), count(*), min(l.l)
           FROM first f LEFT JOIN launch l USING (threat)
           GROUP BY f.threat ORDER BY min(l.l), f.threat""",
    ):
        rows.append((f"first_detection_s[{threat}]", est))
    for threat, est in _grouped_mean_ci(
        con,
        """SELECT threat, avg(warning_time_s), stddev_samp(warning_time_s),
                  count(warning_time_s), min(launched_s)
           FROM per_threat GROUP BY threat HAVING count(warning_time_s) > 0
           ORDER BY min(launched_s), threat""",
    ):
        rows.append((f"warning_time_s[{threat}]", est))

    return pd.DataFrame(
        [(m, e.value, e.ci_low, e.ci_high, e.n) for m, e in rows], columns=list(SUMMARY_COLUMNS)
    )
