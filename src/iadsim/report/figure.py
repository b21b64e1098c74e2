"""Figures for files: matplotlib's object-oriented API on an Agg canvas, never pyplot.

A :class:`~matplotlib.figure.Figure` with its own :class:`FigureCanvasAgg` renders to PNG
without a display and without touching pyplot's global state: the process's backend (a
notebook's inline or widget backend, a desktop GUI) stays as the user set it, no figure is
registered with pyplot (nothing to close, nothing shown by a later ``plt.show()``), and
drawing is safe from threads that share no figure.

Names in any script (Cyrillic, Arabic, CJK site and city names) render: :func:`with_fonts`
draws with DejaVu Sans (Latin, Greek, Cyrillic, Arabic; shipped with matplotlib) and falls
back glyph by glyph to the CJK fonts of :data:`FALLBACK_FONTS` found on the machine
(``fonts-droid-fallback`` on Debian, which ``.ci/run`` installs; Noto Sans CJK, WenQuanYi).
A glyph no font has is drawn as a box, without matplotlib's warning.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: fonts tried, in order, for glyphs DejaVu Sans lacks (CJK); those installed are used
FALLBACK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Source Han Sans",
    "Droid Sans Fallback",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
)

P = ParamSpec("P")
R = TypeVar("R")


#: files of the fallback fonts, registered when matplotlib's font cache predates them
FALLBACK_FILES = frozenset(
    {"NotoSansCJK-Regular.ttc", "DroidSansFallbackFull.ttf", "wqy-microhei.ttc", "wqy-zenhei.ttc"}
)


@functools.cache
def font_families() -> tuple[str, ...]:
    """DejaVu Sans, then the :data:`FALLBACK_FONTS` installed on this machine (a font
    installed after matplotlib built its font cache is found by its file name)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed.intersection(FALLBACK_FONTS):
        for path in font_manager.findSystemFonts():
            if Path(path).name in FALLBACK_FILES:
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(f for f in FALLBACK_FONTS if f in installed))


def with_fonts(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a drawing function with :func:`font_families` as the font family (matplotlib's
    per-glyph fallback) and matplotlib's missing-glyph warnings silenced; the process's
    rcParams are restored afterwards."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with (
            matplotlib.rc_context({"font.family": list(font_families())}),
            warnings.catch_warnings(),
        ):
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
            warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
            return draw(*args, **kwargs)

    return wrapper


def new_figure(**kwargs: Any) -> Figure:
    """A Figure (``figsize``, ``dpi``, ... as for :class:`~matplotlib.figure.Figure`) attached
    to an Agg canvas; ``fig.savefig(path)`` writes it. Freed when no longer referenced."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig
