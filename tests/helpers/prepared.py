"""Flatten a :class:`iadsim.sim.prepared.PreparedScenario` into named numeric arrays, to
compare two preparations field by field (identical, or which fields a catalog number moves)."""

from __future__ import annotations

import dataclasses

import numpy as np

#: the parts of a PreparedScenario holding the engine's numbers
PARTS = ("traj", "radars", "opp", "fu", "icp", "nets")


def _walk(obj, prefix: str, out: dict[str, np.ndarray]) -> None:
    if isinstance(obj, np.ndarray):
        if obj.dtype != object:
            out[prefix] = obj
        return
    if isinstance(obj, (int, float, bool, np.number)):
        out[prefix] = np.asarray(obj)
        return
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            _walk(getattr(obj, f.name), f"{prefix}.{f.name}", out)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, f"{prefix}[{k}]", out)


def prepared_arrays(p) -> dict[str, np.ndarray]:
    """Every numeric array of ``p`` by dotted name (the parts in :data:`PARTS` and the
    PreparedScenario's own arrays)."""
    out: dict[str, np.ndarray] = {}
    for f in dataclasses.fields(p):
        if f.name in ("scenario", "config", "deployment"):
            continue
        value = getattr(p, f.name)
        if f.name in PARTS or isinstance(value, np.ndarray):
            _walk(value, f.name, out)
    return out


def differing(a, b) -> list[str]:
    """Names of the arrays that differ between two preparations (shape or any element)."""
    fa, fb = prepared_arrays(a), prepared_arrays(b)
    names = sorted(set(fa) | set(fb))

    def same(x: np.ndarray, y: np.ndarray) -> bool:
        floats = x.dtype.kind in "fc" and y.dtype.kind in "fc"
        return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=floats))

    return [n for n in names if n not in fa or n not in fb or not same(fa[n], fb[n])]
