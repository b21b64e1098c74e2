"""Figures for files: matplotlib's object-oriented API on an Agg canvas, never pyplot.

A :class:`~matplotlib.figure.Figure` with its own :class:`FigureCanvasAgg` renders to PNG
without a display and without touching pyplot's global state: the process's backend (a
notebook's inline or widget backend, a desktop GUI) stays as the user set it, no figure is
registered with pyplot (nothing to close, nothing shown by a later ``plt.show()``), and
drawing is safe from threads that share no figure.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(**kwargs: Any) -> Figure:
    """A Figure (``figsize``, ``dpi``, ... as for :class:`~matplotlib.figure.Figure`) attached
    to an Agg canvas; ``fig.savefig(path)`` writes it. Freed when no longer referenced."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig
