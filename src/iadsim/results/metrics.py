"""Monte Carlo metrics as SQL queries over the results store, each with a 95% interval.

Every metric is a DuckDB query over the ``runs``, ``events`` and ``per_threat`` tables
(see :mod:`iadsim.results.store`) followed by one of two interval estimators, both of which
keep their bounds inside the values the quantity can take:

* **Mean of a per-run quantity** (leakers, unresolved and undetected threats per run,
  interceptors spent per run and per site, mean warning time, first detection and warning time
  of a threat): the runs are independent replications; the interval is Hesterberg's
  *expanded percentile bootstrap* over runs (:func:`bootstrap_interval`): the percentiles of
  :data:`BOOTSTRAP_RESAMPLES` resampled means at the tail probability ``α'/2 =
  Φ(−√(n/(n−1))·t_{1−α/2, n−1})``, which widens the plain percentile interval so that for a
  large, well-behaved sample it agrees with the Student-t interval ``x̄ ± t·s/√n`` (Hesterberg,
  "What teachers should know about the bootstrap", *Am. Stat.* 69, 2015, §5.3). A resampled
  mean is a mean of observed values, so the bounds never leave [smallest, largest] observed
  per-run value: no negative bound for a count (the t interval gave leakers [−0.044, 0.244]),
  and the interval follows the skew of rare counts. The resampling generator is seeded from the
  metric's name, so a store gives the same summary every time. No interval for n < 2; a sample
  whose values are all equal gives the zero-width interval at that value.
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
import re
import zlib
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
#: resampled means per bootstrap interval: the Monte Carlo error of a 2.5 % percentile is then
#: about 4 % of the mean's standard error
BOOTSTRAP_RESAMPLES = 4000
#: root of every bootstrap generator (the metric's name is mixed in: see bootstrap_interval)
BOOTSTRAP_SEED = 20_251_010
#: resampled values drawn at once (bounds the memory of one block of resamples)
_BLOCK_VALUES = 4_000_000
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


def bootstrap_interval(
    values: np.ndarray,
    key: str = "",
    level: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Estimate:
    """Expanded percentile bootstrap interval for the mean of ``values`` (one per run).

    The bounds are the ``α'/2`` and ``1 − α'/2`` percentiles of ``resamples`` means of ``n``
    values drawn with replacement, with ``α'/2 = Φ(−√(n/(n−1))·t_{1−α/2, n−1})`` (Hesterberg
    2015): the plain percentile interval is too narrow for small ``n`` by about the factor
    ``z·√((n−1)/n) / t``, and this choice of tail removes it, so a large, symmetric sample
    gets the Student-t interval. Every resampled mean lies within [min, max] of ``values``,
    hence so do the bounds: a count's interval never goes below 0, a proportion's never
    leaves [0, 1]. ``key`` (the metric's name) seeds the generator with
    :data:`BOOTSTRAP_SEED`, so the same values give the same interval every time. No
    interval for fewer than 2 values; all values equal give the zero-width interval there.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n < 1:
        return Estimate(None, None, None, 0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, None, None, n)
    lo_x, hi_x = float(x.min()), float(x.max())
    if lo_x == hi_x:
        return Estimate(lo_x, lo_x, lo_x, n)
    tail = float(stats.norm.cdf(-math.sqrt(n / (n - 1)) * stats.t.ppf(0.5 + level / 2, n - 1)))
    rng = np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(key.encode())])
    uniq, counts = np.unique(x, return_counts=True)
    if 4 * uniq.size <= n:
        # few distinct values (counts): the resample's multiplicities are multinomial
        means = rng.multinomial(n, counts / n, size=resamples) @ uniq / n
    else:
        block = max(1, _BLOCK_VALUES // n)
        means = np.concatenate([
            x[rng.integers(0, n, size=(min(block, resamples - i), n))].mean(axis=1)
            for i in range(0, resamples, block)
        ])  # fmt: skip
    low, high = np.quantile(means, [tail, 1.0 - tail])
    # the bounds are means of observed values; clip away rounding beyond the observed range
    return Estimate(mean, min(max(float(low), lo_x), mean), max(min(float(high), hi_x), mean), n)


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


def _mean_ci(con: duckdb.DuckDBPyConnection, name: str, per_run_sql: str) -> Estimate:
    x = con.execute(
        f"SELECT x FROM ({per_run_sql}) WHERE x IS NOT NULL ORDER BY run_id"
    ).fetchnumpy()["x"]
    return bootstrap_interval(np.asarray(x, dtype=float), name)


def _grouped_mean_ci(
    con: duckdb.DuckDBPyConnection, name: str, sql: str
) -> list[tuple[str, Estimate]]:
    """``sql`` yields (key, run_id, x, order) rows, one per run of the key; returns
    (key, estimate of the mean of x) per key, ordered by ``order`` then key."""
    df = con.execute(f"SELECT * FROM ({sql}) ORDER BY 4, 1, 2").df()
    if not len(df):
        return []
    df.columns = ["key", "run_id", "x", "order"]
    keys = pd.unique(df["key"])
    groups = {k: g["x"].to_numpy(dtype=float) for k, g in df.groupby("key", sort=False)}
    return [(str(k), bootstrap_interval(groups[k], f"{name}[{k}]")) for k in keys]


def compute_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All metrics of a results store as a ``summary`` table (metric, value, ci_low, ci_high, n).

    Row order and values are deterministic for a given store (no wall-clock, no worker count).
    """
    rows: list[tuple[str, Estimate]] = []
    n_runs = int(con.execute("SELECT count(*) FROM runs").fetchone()[0])
    rows.append(("runs", Estimate(float(n_runs), None, None, n_runs)))
    for name, sql in _PER_RUN_SQL.items():
        rows.append((name, _mean_ci(con, name, sql)))

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

    # Interceptors fired per site per run: zero-filled over every (run, fire unit), the fire
    # units of the ``fire_units`` table (every one of the scenario, idle ones too) and any
    # other site that launched.
    for site, est in _grouped_mean_ci(
        con,
        "interceptors_per_run",
        """WITH sites AS (SELECT site FROM fire_units
                          UNION SELECT site FROM events WHERE kind = 'launch' AND site IS NOT NULL),
                counts AS (SELECT run_id, site, sum(value) AS c FROM events
                           WHERE kind = 'launch' GROUP BY run_id, site)
           SELECT s.site, r.run_id, coalesce(c.c, 0), s.site
           FROM runs r CROSS JOIN sites s LEFT JOIN counts c
                ON c.run_id = r.run_id AND c.site = s.site""",
    ):
        rows.append((f"interceptors_per_run[{site}]", est))

    # First detection (earliest detection_start event) and warning time, per threat, over
    # the runs in which the threat was detected; ordered by launch time then id.
    for threat, est in _grouped_mean_ci(
        con,
        "first_detection_s",
        """WITH first AS (SELECT run_id, threat, min(time_s) AS t FROM events
                          WHERE kind = 'detection_start' GROUP BY run_id, threat),
                launch AS (SELECT threat, min(launched_s) AS l FROM per_threat GROUP BY threat)
           SELECT f.threat, f.run_id, f.t, l.l
           FROM first f LEFT JOIN launch l USING (threat)""",
    ):
        rows.append((f"first_detection_s[{threat}]", est))
    for threat, est in _grouped_mean_ci(
        con,
        "warning_time_s",
        """WITH launch AS (SELECT threat, min(launched_s) AS l FROM per_threat GROUP BY threat)
           SELECT p.threat, p.run_id, p.warning_time_s, l.l
           FROM per_threat p JOIN launch l USING (threat)
           WHERE p.warning_time_s IS NOT NULL""",
    ):
        rows.append((f"warning_time_s[{threat}]", est))

    return pd.DataFrame(
        [(m, e.value, e.ci_low, e.ci_high, e.n) for m, e in rows], columns=list(SUMMARY_COLUMNS)
    )


# --- per-run values and the difference between two jobs ----------------------------------------

_CLASS_METRIC = re.compile(r"^(p_kill|p_detected)\[(.+)\]$")
_CLASS_SQL = {
    "p_kill": "avg(CASE WHEN killed THEN 1.0 ELSE 0.0 END)",
    "p_detected": "avg(CASE WHEN first_detection_s IS NOT NULL THEN 1.0 ELSE 0.0 END)",
}


def per_run_values(con: duckdb.DuckDBPyConnection, metric: str) -> pd.Series:
    """The per-run quantity behind ``metric`` as a Series indexed by ``run_id`` (sorted), so
    that two jobs can be compared run by run:

    * a mean over runs (``leakers_per_run``, ``mean_warning_time_s``, ...): the value the
      metric averages, from the same SQL;
    * ``p_raid_defeated``: 1.0 for a run with no leaker and no unresolved threat, else 0.0;
    * ``p_kill[CLASS]``, ``p_detected[CLASS]``: the share of the run's threats of the class
      killed (detected). Every run flies the same raid, so the mean of these shares is the
      pooled proportion the metric reports, and their spread over runs carries the
      correlation of the threats of one run that the pooled Wilson interval ignores.

    KeyError for a metric without a per-run quantity (``runs``, ``interceptors_per_run[..]``
    and the per-threat times)."""
    if metric in _PER_RUN_SQL:
        df = con.execute(
            f"SELECT run_id, x FROM ({_PER_RUN_SQL[metric]}) WHERE x IS NOT NULL ORDER BY run_id"
        ).df()
    elif metric == "p_raid_defeated":
        df = con.execute(
            f"""SELECT run_id, CASE WHEN l.x = 0 AND u.x = 0 THEN 1.0 ELSE 0.0 END AS x
                FROM ({_PER_RUN_SQL["leakers_per_run"]}) l
                JOIN ({_PER_RUN_SQL["unresolved_per_run"]}) u USING (run_id) ORDER BY run_id"""
        ).df()
    elif (m := _CLASS_METRIC.match(metric)) is not None:
        df = con.execute(
            f"""SELECT run_id, {_CLASS_SQL[m.group(1)]} AS x FROM per_threat
                WHERE target_class = ? GROUP BY run_id ORDER BY run_id""",
            [m.group(2)],
        ).df()
    else:
        raise KeyError(f"{metric!r} has no per-run value")
    return pd.Series(df["x"].to_numpy(float), index=pd.Index(df["run_id"], name="run_id"))


@dataclass(frozen=True)
class Difference:
    """A difference of two means (``value`` = mean of job B minus mean of job A) with its
    interval, the number of runs it rests on (pairs when ``paired``) and the estimator."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    paired: bool
    method: str

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (a two-sided test at 1 - CONFIDENCE)."""
        return (
            self.ci_low is not None
            and self.ci_high is not None
            and (self.ci_low > 0 or self.ci_high < 0)
        )


PAIRED_METHOD = "paired expanded percentile bootstrap over runs (common random numbers)"
WELCH_METHOD = "Welch t interval (independent runs)"


def paired_difference(
    a: pd.Series, b: pd.Series, key: str = "", level: float = CONFIDENCE
) -> Difference:
    """The mean of ``b - a`` over the runs both hold (matched by run id) and its interval.

    Run *i* of two jobs with the same seed draws from the same seed streams (common random
    numbers), so the pairs (a_i, b_i) are independent replications of one experiment and the
    differences d_i = b_i - a_i are an i.i.d. sample whatever the correlation within a pair:
    the interval is :func:`bootstrap_interval` of the d_i (the estimator of every mean in the
    store), seeded by ``key``. A positive correlation between a_i and b_i narrows it; none
    costs nothing against the unpaired interval."""
    joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    d = (joined["b"] - joined["a"]).to_numpy(float)
    e = bootstrap_interval(d, key, level)
    return Difference(e.value, e.ci_low, e.ci_high, e.n, True, PAIRED_METHOD)


def welch_difference(a: pd.Series, b: pd.Series, level: float = CONFIDENCE) -> Difference:
    """The difference of the means of two independent samples (``b`` minus ``a``) with Welch's
    interval: ``d ± t(ν)·√(s_a²/n_a + s_b²/n_b)``, ν by Welch-Satterthwaite. For jobs whose runs
    cannot be paired (different seeds or numbers of runs). No interval with fewer than 2
    values on a side; a zero standard error gives the zero-width interval."""
    xa, xb = a.dropna().to_numpy(float), b.dropna().to_numpy(float)
    na, nb = xa.size, xb.size
    if na < 1 or nb < 1:
        return Difference(None, None, None, min(na, nb), False, WELCH_METHOD)
    d = float(xb.mean() - xa.mean())
    if na < 2 or nb < 2:
        return Difference(d, None, None, min(na, nb), False, WELCH_METHOD)
    va, vb = float(xa.var(ddof=1)) / na, float(xb.var(ddof=1)) / nb
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Difference(d, d, d, min(na, nb), False, WELCH_METHOD)
    nu = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = float(stats.t.ppf(0.5 + level / 2, nu)) * se
    return Difference(d, d - half, d + half, min(na, nb), False, WELCH_METHOD)
