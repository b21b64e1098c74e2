"""Charts of a comparison of Monte Carlo jobs (e.g. S-400 standalone vs Patriot networked):
the metrics side by side (:func:`plot_comparison`), the differences with their intervals
(:func:`plot_differences`) and the catalog numbers a difference hinges on
(:func:`plot_decisive`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from iadsim.fileio import atomic_write
from iadsim.report.figure import new_figure, with_fonts
from iadsim.report.sensitivity_plot import QUALITY_COLOURS, quality_class

#: colours of the deployments, in order (red, blue, green, purple, then Okabe-Ito tones)
DEPLOYMENT_COLOURS = ("#b2182b", "#2166ac", "#4d9221", "#762a83", "#E69F00", "#56B4E9",
                      "#CC79A7", "#666666")  # fmt: skip

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


def _probability_name(metric: str) -> str:
    """A probability metric's short name under its bars: ``p_kill[cruise]`` -> ``cruise
    killed``, ``p_raid_defeated`` -> ``raid defeated``."""
    if metric == "p_raid_defeated":
        return "raid defeated"
    for prefix, what in (("p_kill[", "killed"), ("p_detected[", "detected")):
        if metric.startswith(prefix):
            return f"{metric[len(prefix) : -1]} {what}"
    return metric


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
    title: str | None = None,
) -> Path:
    """Bar charts with 95 % intervals of the metrics in ``table`` (as returned by
    :func:`iadsim.api.compare`; columns ``LABEL``, ``LABEL ci_low``, ``LABEL ci_high`` for each
    of ``labels``, up to 8): counts and times each in its own panel, probabilities together.
    The legend sits above the panels (inside one it could hide a bar); the footnote says how
    many runs and whether they drew the uncertain catalog numbers. ``title`` replaces the
    default "Same illustrative raid, N deployments"."""
    colors = list(DEPLOYMENT_COLOURS[: len(labels)])
    panels = {title: [m for m in names if m in table.index] for title, names in _PANELS.items()}
    panels = {title: names for title, names in panels.items() if names}
    probs = [m for m in table.index if m.startswith("p_")]
    n_panels = len(panels) + (1 if probs else 0)
    fig = new_figure(figsize=(3.2 * n_panels + 2.5, 4.2))
    axes = fig.subplots(1, n_panels, squeeze=False)
    for ax, (panel, names) in zip(axes[0], panels.items(), strict=False):
        _bars(ax, names, table, labels, colors)
        ax.set_xticklabels([_SHORT.get(m, "") for m in names])
        ax.set_title(panel, fontsize=10)
    if probs:
        ax = axes[0][len(panels)]
        _bars(ax, probs, table, labels, colors)
        ax.set_xticklabels([_probability_name(m) for m in probs])
        ax.set_ylim(0, 1.05)
        ax.set_title("probabilities", fontsize=10)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.945),
               ncol=len(labels), frameon=False)  # fmt: skip
    note = f"{runs} Monte Carlo runs each; " if runs else ""
    if parameter_uncertainty:
        note += "every run draws the uncertain catalog numbers (intervals include them); "
    n = {2: "two", 3: "three", 4: "four"}.get(len(labels), str(len(labels)))
    fig.suptitle(
        (title or f"Same illustrative raid, {n} deployments") + " (error bars: 95 % CI)",
        fontsize=11,
    )
    fig.text(
        0.01,
        0.01,
        note + "illustrative: public parameters, invented positions and raid. iadsim",
        fontsize=7,
        color="0.35",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.89))
    return atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))


@with_fonts
def plot_differences(rows: list[dict], path: str | Path, title: str = "") -> Path:
    """Forest plot of differences between deployments: one row per (metric, pair) with the
    point estimate and its 95 % interval, a dashed line at 0, filled markers for intervals
    that exclude 0 (significant at the 5 % level), hollow ones otherwise. Counts and times
    share one panel per unit; probabilities are drawn in percentage points.

    ``rows``: dicts with ``name`` (the row's label), ``unit`` (a panel title: e.g.
    ``threats per run``), ``value``, ``ci_low``, ``ci_high``, ``significant``."""
    units = list(dict.fromkeys(r["unit"] for r in rows))
    heights = [max(1, sum(r["unit"] == u for r in rows)) for u in units]
    fig = new_figure(figsize=(9.5, 1.1 + 0.42 * sum(heights) + 0.55 * len(units)))
    axes = fig.subplots(len(units), 1, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]  # fmt: skip
    for ax, unit in zip(axes, units, strict=True):
        rs = [r for r in rows if r["unit"] == unit][::-1]
        y = np.arange(len(rs))
        for yi, r in zip(y, rs, strict=True):
            v = r["value"]
            if v is None:
                continue
            lo = v if r["ci_low"] is None else r["ci_low"]
            hi = v if r["ci_high"] is None else r["ci_high"]
            colour = "#b2182b" if r["significant"] else "0.45"
            ax.plot([lo, hi], [yi, yi], color=colour, lw=2, solid_capstyle="butt")
            ax.plot([v], [yi], "o", ms=7, color=colour,
                    mfc=colour if r["significant"] else "white", zorder=3)  # fmt: skip
        ax.axvline(0.0, color="0.3", ls="--", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels([r["name"] for r in rs], fontsize=8.5)
        ax.set_ylim(-0.6, len(rs) - 0.4)
        ax.set_xlabel(unit, fontsize=8.5)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="0.9", lw=0.6)
        lo_all = min([r["ci_low"] for r in rs if r["ci_low"] is not None] + [0.0])
        hi_all = max([r["ci_high"] for r in rs if r["ci_high"] is not None] + [0.0])
        pad = 0.08 * max(hi_all - lo_all, 1e-9)
        ax.set_xlim(lo_all - pad, hi_all + pad)
    fig.suptitle(title or "Differences with 95 % intervals", fontsize=10.5)
    fig.text(0.01, 0.005, "filled: the interval excludes 0 (significant at the 5 % level); "
             "hollow: it does not. Illustrative. iadsim", fontsize=7, color="0.35")  # fmt: skip
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))


@with_fonts
def plot_decisive(rows: list[dict], path: str | Path, title: str = "") -> Path:
    """Bars of the share of the variance of a difference that each catalog number explains
    (rows of :func:`iadsim.api.decisive_parameters`: ``parameter``, ``job``, ``share``,
    ``share_low``, ``share_high``, ``quality``), coloured by source quality, so that an
    unsourced estimate that decides the comparison stands out."""
    rs = rows[::-1]
    fig = new_figure(figsize=(9.5, 1.3 + 0.42 * max(len(rs), 2)))
    ax = fig.subplots()
    y = np.arange(len(rs))
    share = np.array([r["share"] for r in rs], float) * 100
    lo = share - np.array([r["share_low"] for r in rs], float) * 100
    hi = np.array([r["share_high"] for r in rs], float) * 100 - share
    colours = [QUALITY_COLOURS[quality_class(r.get("quality", ""))] for r in rs]
    ax.barh(y, share, xerr=np.clip(np.vstack([lo, hi]), 0, None), color=colours, capsize=3,
            height=0.65)  # fmt: skip
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r['parameter']}\n({r['job']})" for r in rs], fontsize=8)
    ax.set_xlabel("share of the variance of the difference in leakers per run (%)", fontsize=8.5)
    ax.set_xlim(0, max(5.0, float((share + hi).max()) * 1.15) if len(rs) else 5.0)
    ax.legend(
        handles=[Patch(color=QUALITY_COLOURS[k], label=n) for k, n in (
            ("unsourced", "unsourced estimate"), ("weak", "low confidence / unverified"),
            ("sourced", "sourced"))],
        fontsize=8, loc="lower right", framealpha=0.9,
    )  # fmt: skip
    fig.suptitle(title or "What the difference hinges on (95 % intervals)", fontsize=10.5)
    fig.tight_layout()
    return atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
