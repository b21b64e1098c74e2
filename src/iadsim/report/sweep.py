"""The chart of a sweep: its key metrics per variant, each with its 95 % interval."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iadsim.fileio import atomic_write
from iadsim.report.figure import new_figure, with_fonts

_TITLES = {
    "leakers_per_run": "leakers per run",
    "p_raid_defeated": "P(raid defeated)",
    "interceptors_spent_per_run": "interceptors spent per run",
    "mean_warning_time_s": "mean warning time (s)",
}


@with_fonts
def plot_sweep(
    table: pd.DataFrame,
    labels: Sequence[str],
    metrics: Sequence[str],
    meta: Mapping[str, Any],
    path: str | Path,
) -> Path:
    """One panel per metric of ``metrics`` (those with a value), one row per variant
    (``labels``; variants in sweep order from the top): the value as a dot and its 95 %
    interval as a bar. ``table`` has columns ``M``, ``M ci_low``, ``M ci_high`` per metric
    (:meth:`iadsim.sweeps.SweepResult.table`); ``meta`` the sweep's (scenario, runs, seed,
    vary, parameter_uncertainty). Written atomically; returns the path."""
    paths = [str(p) for p in meta.get("vary", [])]
    n = len(table)
    shown = [m for m in metrics if m in table and table[m].notna().any()] or list(metrics[:1])
    height = min(40.0, 1.6 + 0.32 * n)
    fig = new_figure(figsize=(3.2 * len(shown) + 3.4, height), dpi=110)
    axes = fig.subplots(1, len(shown), sharey=True, squeeze=False)[0]
    y = np.arange(n)[::-1]
    for ax, m in zip(axes, shown, strict=True):
        v = pd.to_numeric(table[m], errors="coerce").to_numpy(float)
        lo = pd.to_numeric(table[f"{m} ci_low"], errors="coerce").to_numpy(float)
        hi = pd.to_numeric(table[f"{m} ci_high"], errors="coerce").to_numpy(float)
        err = np.vstack([np.nan_to_num(v - lo), np.nan_to_num(hi - v)])
        ax.errorbar(v, y, xerr=err, fmt="o", color="#1f4e79", ecolor="#7fa7cf", capsize=3)
        ax.set_title(_TITLES.get(m, m), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
        if m.startswith("p_"):
            ax.set_xlim(-0.05, 1.05)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([textwrap.shorten(str(s), 70) for s in labels], fontsize=8)
    axes[0].set_ylim(-0.7, n - 0.3)
    scenario = meta.get("scenario", "")
    note = "; parameter uncertainty drawn" if meta.get("parameter_uncertainty") else ""
    fig.suptitle(
        textwrap.shorten(f"Sweep of {scenario}", 110)
        + f"\n{n} variants x {meta.get('runs')} runs, seed {meta.get('seed')}{note}; "
        "bars: 95 % intervals",
        fontsize=9,
    )
    fig.text(0.01, 0.012, "varied: " + "; ".join(paths), fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.02, 1, 0.95))
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
