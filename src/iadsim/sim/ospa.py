"""OSPA: the optimal sub-pattern assignment metric between a truth set and an estimate set.

Schuhmacher, Vo & Vo, "A consistent metric for performance evaluation of multi-object
filters", IEEE Trans. Signal Processing 56(8), 2008, eq. (3). For X with m points and Y with
n points, m <= n, cut-off c > 0 and order 1 <= p < inf::

    d_p^(c)(X, Y) = ( (1/n) * ( min_pi sum_{i=1..m} d^(c)(x_i, y_pi(i))^p + c^p (n - m) ) )^(1/p)

with ``d^(c)(x, y) = min(c, |x - y|)``; two empty sets are at distance 0 and an empty set is at
distance c from a non-empty one. For finite p the assignment is solved by
``scipy.optimize.linear_sum_assignment``.

``p = inf`` (the same definition's p = inf case):
``d_inf^(c)(X, Y) = min_pi max_i d^(c)(x_i, y_pi(i))`` when m = n and c when m != n.
Its optimal assignment is a *bottleneck* assignment (minimise the largest matched error), which
is not in general the lowest-total one: for matched errors (0, 10) against (6, 6) the lowest
total (10 < 12) has the larger worst error (10 > 6). It is solved exactly by a binary search
over the sorted distinct cut-off distances: a threshold tau is feasible when the bipartite graph
of pairs with ``d^(c) <= tau`` has a matching that covers the smaller set
(``scipy.sparse.csgraph.maximum_bipartite_matching``, Hopcroft-Karp); the smallest feasible tau
is the bottleneck value (e.g. Burkard, Dell'Amico & Martello, *Assignment Problems*, 2009, sec.
6.2, threshold algorithm).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_bipartite_matching
from scipy.spatial.distance import cdist

from iadsim.errors import InputError


def bottleneck_assignment_value(cost) -> float:
    """``min over injections pi of the rows into the columns of max_i cost[i, pi(i)]`` for an
    (m, n) matrix with m <= n (rows are the smaller set). Threshold algorithm: binary search
    over the sorted distinct entries for the smallest tau whose graph ``cost <= tau`` has a
    matching of all m rows."""
    cost = np.asarray(cost, float)
    m, n = cost.shape
    if m > n:
        cost, m, n = cost.T, n, m
    if m == 0:
        return 0.0
    values = np.unique(cost)
    # every row needs a column: the answer is at least the largest row minimum
    lo = int(np.searchsorted(values, cost.min(axis=1).max()))
    hi = len(values) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        graph = csr_array(cost <= values[mid])
        matched = maximum_bipartite_matching(graph, perm_type="column")
        if np.count_nonzero(matched >= 0) == m:
            hi = mid
        else:
            lo = mid + 1
    return float(values[lo])


def ospa_components(truth_xyz, est_xyz, c: float, p: float = 1.0) -> tuple[float, float, float]:
    """``(ospa, localisation, cardinality)`` with ``ospa**p = loc**p + card**p``.

    ``loc**p = (1/n) min_pi sum d^(c)^p`` and ``card**p = c^p (n - m) / n`` (Schuhmacher et al.
    2008, sec. IV-C). For ``p = inf``: ``loc = min_pi max_i d^(c)`` (the bottleneck assignment
    of the smaller set into the larger), ``card = c`` when m != n else 0, and
    ``ospa = max(loc, card)`` (= loc when m = n, c otherwise). Points are rows of (k, d) arrays
    in metres (any consistent unit)."""
    if not c > 0:
        raise InputError(f"c (the cut-off distance) must be > 0, got {c}", "c")
    if not p >= 1:
        raise InputError(f"p (the order) must be >= 1, got {p}", "p")
    X = np.asarray(truth_xyz, float)
    Y = np.asarray(est_xyz, float)
    m, n = len(X), len(Y)
    if m == 0 and n == 0:
        return 0.0, 0.0, 0.0
    if m == 0 or n == 0:
        return float(c), 0.0, float(c)
    D = np.minimum(cdist(X.reshape(m, -1), Y.reshape(n, -1)), c)
    if np.isinf(p):
        worst = bottleneck_assignment_value(D)
        if m != n:
            return float(c), worst, float(c)
        return worst, worst, 0.0
    rows, cols = linear_sum_assignment(D**p)
    big = max(m, n)
    loc_p = float(np.sum(D[rows, cols] ** p)) / big
    card_p = c**p * abs(m - n) / big
    return (loc_p + card_p) ** (1 / p), loc_p ** (1 / p), card_p ** (1 / p)


def ospa(truth_xyz, est_xyz, c: float, p: float = 1.0) -> float:
    """OSPA distance of order ``p`` with cut-off ``c`` between two point sets (rows)."""
    return ospa_components(truth_xyz, est_xyz, c, p)[0]


def ospa_series(
    truths: Iterable[np.ndarray], estimates: Iterable[np.ndarray], c: float, p: float = 1.0
) -> np.ndarray:
    """OSPA per scan for paired sequences of truth and estimate point sets; returns (scans,)."""
    return np.array([ospa(t, e, c, p) for t, e in zip(truths, estimates, strict=True)])
