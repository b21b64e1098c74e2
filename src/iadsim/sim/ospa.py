"""OSPA: the optimal sub-pattern assignment metric between a truth set and an estimate set.

Schuhmacher, Vo & Vo, "A consistent metric for performance evaluation of multi-object
filters", IEEE Trans. Signal Processing 56(8), 2008, eq. (3). For X with m points and Y with
n points, m <= n, cut-off c > 0 and order 1 <= p < inf::

    d_p^(c)(X, Y) = ( (1/n) * ( min_pi sum_{i=1..m} d^(c)(x_i, y_pi(i))^p + c^p (n - m) ) )^(1/p)

with ``d^(c)(x, y) = min(c, |x - y|)``; two empty sets are at distance 0 and an empty set is at
distance c from a non-empty one. ``p = inf`` gives the worst matched error, or c when the
cardinalities differ. The assignment is solved by ``scipy.optimize.linear_sum_assignment``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from iadsim.errors import InputError


def ospa_components(truth_xyz, est_xyz, c: float, p: float = 1.0) -> tuple[float, float, float]:
    """``(ospa, localisation, cardinality)`` with ``ospa**p = loc**p + card**p``.

    ``loc**p = (1/n) min_pi sum d^(c)^p`` and ``card**p = c^p (n - m) / n`` (Schuhmacher et al.
    2008, sec. IV-C). Points are rows of (k, d) arrays in metres (any consistent unit)."""
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
    rows, cols = linear_sum_assignment(D if np.isinf(p) else D**p)
    if np.isinf(p):
        if m != n:
            return float(c), float(D[rows, cols].max()), float(c)
        worst = float(D[rows, cols].max())
        return worst, worst, 0.0
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
