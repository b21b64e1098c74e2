"""Pictures of a sensitivity analysis: a tornado chart of the ranked parameters (with their
confidence intervals, coloured by source quality) and, for Morris screening, the mu*-sigma
plane (influence against non-linearity/interaction)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.patches import Patch

from iadsim.fileio import atomic_write
from iadsim.report.figure import new_figure, with_fonts
from iadsim.sensitivity import SensitivityResult

#: colour of a bar by the parameter's source quality (unsourced estimates stand out)
QUALITY_COLOURS = {"unsourced": "#d6604d", "weak": "#f4a582", "sourced": "#4393c3"}


def quality_class(quality: str) -> str:
    """``unsourced`` (an iadsim estimate), ``weak`` (low confidence or unverified) or
    ``sourced``, from a parameter's quality label."""
    q = quality.lower()
    if "unsourced" in q or "estimate" in q:
        return "unsourced"
    if "low" in q or "unverified" in q:
        return "weak"
    return "sourced"


def _index(result: SensitivityResult):
    if result.method == "morris":
        return "mu_star", "mu_star_conf", "mu* (mean |elementary effect|)"
    if result.method == "sobol":
        return "ST", "ST_conf", "total Sobol index ST"
    return "rho2", None, "rho^2 (squared rank correlation)"


@with_fonts
def plot_sensitivity(
    result: SensitivityResult, path: str | Path, top: int = 15, title: str = ""
) -> Path:
    """Tornado chart of the ``top`` parameters (and the mu*-sigma plane for Morris)."""
    key, conf, label = _index(result)
    rows = result.rows[:top][::-1]
    morris = result.method == "morris"
    fig = new_figure(figsize=(11.5 if morris else 8.5, 1.2 + 0.32 * max(len(rows), 4)))
    axes = fig.subplots(1, 2 if morris else 1, squeeze=False)[0]
    ax = axes[0]
    y = np.arange(len(rows))
    vals = np.array([r[key] for r in rows], float)
    if conf:
        err = np.array([r[conf] for r in rows], float)
        xerr = np.vstack([np.minimum(err, np.maximum(vals, 0)), err])
    else:
        xerr = np.vstack(
            [vals - [r["rho2_low"] for r in rows], [r["rho2_high"] for r in rows] - vals]
        )
    colours = [QUALITY_COLOURS[quality_class(r.get("quality", ""))] for r in rows]
    ax.barh(y, vals, xerr=np.clip(xerr, 0, None), color=colours, capsize=2, height=0.7)
    ax.set_yticks(y)
    ax.set_yticklabels([r["parameter"] for r in rows], fontsize=7)
    ax.set_xlabel(f"{label} of {result.metric or 'the metric'}", fontsize=8)
    ax.axvline(0, color="0.4", lw=0.6)
    ax.set_xlim(left=0)
    handles = [
        Patch(color=c, label=n)
        for n, c in (("unsourced estimate", QUALITY_COLOURS["unsourced"]),
                     ("low confidence / unverified", QUALITY_COLOURS["weak"]),
                     ("sourced", QUALITY_COLOURS["sourced"]))
    ]  # fmt: skip
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    if morris:
        ax2 = axes[1]
        mu = np.array([r["mu_star"] for r in result.rows], float)
        sg = np.array([r["sigma"] for r in result.rows], float)
        ax2.scatter(mu, sg, c=[QUALITY_COLOURS[quality_class(r.get("quality", ""))]
                               for r in result.rows], s=18)  # fmt: skip
        for r in result.rows[:6]:
            ax2.annotate(r["parameter"], (r["mu_star"], r["sigma"]), fontsize=6,
                         xytext=(3, 3), textcoords="offset points")  # fmt: skip
        lim = max(float(np.nanmax(mu)) if len(mu) else 1.0, 1e-9) * 1.1
        ax2.plot([0, lim], [0, lim], color="0.6", lw=0.6, ls="--")
        ax2.set_xlabel("mu*", fontsize=8)
        ax2.set_ylabel("sigma (non-linearity, interactions)", fontsize=8)
        ax2.set_xlim(0, lim)
        ax2.set_ylim(bottom=0)
        ax2.set_title("Morris plane (above the dashed line: interactions dominate)", fontsize=8)
    fig.suptitle(
        title
        or f"Which numbers decide {result.metric or 'the outcome'} ({result.method}, "
        f"{result.n_points} points)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return atomic_write(path, lambda p: fig.savefig(p, dpi=120, format="png"))
