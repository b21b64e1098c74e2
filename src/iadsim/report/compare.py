"""Side-by-side chart of two Monte Carlo jobs (e.g. S-400 standalone vs Patriot networked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from iadsim.fileio import atomic_write
from iadsim.report.figure import new_figure, with_fonts

# panel title -> its metrics (bars side by side; those the table lacks are left out);
# probabilities share one more panel
_PANELS = {
    "threats per run": ("leakers_per_run", "unresolved_per_run", "undetected_per_run"),
    "interceptors spent per run": ("interceptors_spent_per_run",),
    "mean warning time (s; undetected = 0)": ("mean_warning_time_s",),
}
_SHORT = {
    "leakers_per_run": "leakers",
    "unresolved_per_run": "unresolved",
    "undetected_per_run": "undetected",
}


def _bars(ax, names, table: pd.DataFrame, labels, colors) -> None:
    x = np.arange(len(names))
    width = 0.8 / len(labels)
    for i, (label, color) in enumerate(zip(labels, colors, strict=True)):
        v = table.loc[names, label].to_numpy(float)
        lo = table.loc[names, f"{label} ci_low"].to_numpy(float)
        hi = table.loc[names, f"{label} ci_high"].to_numpy(float)
        err = np.vstack([np.nan_to_num(v - lo), np.nan_to_num(hi - v)])
        ax.bar(
            x + (i - (len(labels) - 1) / 2) * width,
            np.nan_to_num(v),
            width,
            yerr=err,
            capsize=3,
            label=label,
            color=color,
            alpha=0.85,
        )
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)


@with_fonts
def plot_comparison(
    table: pd.DataFrame,
    labels,
    path: str | Path,
    runs: int | None = None,
    parameter_uncertainty: bool = False,
) -> Path:
    """Bar charts with 95 % intervals of the metrics in ``table`` (as returned by
    :func:`iadsim.api.compare`): counts and times each in its own panel, probabilities together.
    The legend sits above the panels (inside one it could hide a bar); the footnote says how
    many runs and whether they drew the uncertain catalog numbers."""
    colors = ["#b2182b", "#2166ac", "#4d9221", "#762a83"][: len(labels)]
    panels = {title: [m for m in names if m in table.index] for title, names in _PANELS.items()}
    panels = {title: names for title, names in panels.items() if names}
    probs = [m for m in table.index if m.startswith("p_")]
    n_panels = len(panels) + (1 if probs else 0)
    fig = new_figure(figsize=(3.2 * n_panels + 2.5, 4.2))
    axes = fig.subplots(1, n_panels, squeeze=False)
    for ax, (title, names) in zip(axes[0], panels.items(), strict=False):
        _bars(ax, names, table, labels, colors)
        ax.set_xticklabels([_SHORT.get(m, "") for m in names])
        ax.set_title(title, fontsize=10)
    if probs:
        ax = axes[0][len(panels)]
        _bars(ax, probs, table, labels, colors)
        ax.set_ylim(0, 1.05)
        ax.set_title("probabilities", fontsize=10)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.945),
               ncol=len(labels), frameon=False)  # fmt: skip
    note = f"{runs} Monte Carlo runs each; " if runs else ""
    if parameter_uncertainty:
        note += "every run draws the uncertain catalog numbers (intervals include them); "
    fig.suptitle("Same illustrative raid, two deployments (error bars: 95 % CI)", fontsize=11)
    fig.text(
        0.01,
        0.01,
        note + "illustrative: public parameters, invented positions and raid. iadsim",
        fontsize=7,
        color="0.35",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.89))
    return atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))
