"""The comparison report as one self-contained HTML file (``iadsim compare``, ``iadsim demo``).

:func:`render_report` fills the Jinja2 template ``templates/compare.html.j2`` with the
report's data (the dict written to ``report.json``) and embeds every picture as a base64
``data:image/png`` URI, with the style sheet inline: the file opens offline and refers to
nothing outside itself (no ``src`` other than data URIs, no ``<link>``, no ``<script>``, no
``url()``, no web font; source citations are text, not links), so it can be mailed,
archived or printed as it is. Print CSS (``@page``, no page break inside a figure or a short
table, table headers repeated on each page) makes the browser's "print to PDF" clean.

Every number shown is a ``<span class="n">`` carrying ``data-key`` (a JSON Pointer, RFC
6901, into ``report.json``), ``data-value`` (the unrounded number) and ``data-kind``, and
is formatted by :func:`format_number`, so a reader (or a test) can trace each figure of the
page to the machine-readable report and from there to the results stores.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from PIL import Image

from iadsim.fileio import atomic_write_text

TEMPLATE = "compare.html.j2"
MINUS = "\u2212"

#: number kinds: how a value is shown (probabilities and shares as per cent, differences of
#: probabilities as percentage points)
KINDS = ("count", "time", "probability", "pp", "share", "area", "population", "value")


#: how a catalog unit is written after a number (counts and probabilities need none)
UNIT_TEXT = {"count": "", "probability": "", "ratio": "", "mps": "m/s", "m2": "m²", "deg": "°",
             "ghz": "GHz"}  # fmt: skip


def unit_suffix(unit: str) -> str:
    """What follows a catalog number: a space and its unit (``" m/s"``), nothing for a count
    or a probability."""
    text = UNIT_TEXT.get(unit, unit)
    return f" {text}" if text else ""


def _sig3(v: float) -> str:
    """Three significant digits without an exponent (thousands separated)."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{a:,.0f}"
    if a < 0.001:
        return f"{a:.2g}"
    return f"{a:.3g}"


def format_number(value: Any, kind: str = "count", signed: bool = False, unit: bool = True) -> str:
    """``value`` as the report shows it: counts and times with three significant digits
    (times with `` s``), catalog numbers (``value``) with up to six, probabilities and shares in per cent (``82.7 %``), differences of
    probabilities in percentage points (``-22 pp``), areas in whole km², populations whole;
    ``signed`` puts a ``+`` before a positive number; a minus is the minus sign U+2212;
    ``unit=False`` leaves out the unit (the bounds of an interval). None or NaN shows as an
    en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    v = float(value)
    if kind in ("probability", "share", "pp"):
        body, suffix = _sig3(v * 100.0), " pp" if kind == "pp" else " %"
    elif kind == "area":
        body, suffix = f"{abs(v):,.0f}", " km²"
    elif kind == "population":
        body, suffix = f"{abs(v):,.0f}", ""
    elif kind == "time":
        body, suffix = _sig3(v), " s"
    elif kind == "value":  # a catalog number: as written (up to 6 significant digits)
        body, suffix = (f"{abs(v):,.0f}" if abs(v) >= 1e6 else f"{abs(v):,.6g}"), ""
    else:
        body, suffix = _sig3(v), ""
    sign = MINUS if v < 0 and body.strip("0.,") else ("+" if signed and v > 0 else "")
    return f"{sign}{body}{suffix if unit else ''}"


def json_pointer(*parts: Any) -> str:
    """The JSON Pointer (RFC 6901) of a path of keys and indices: ``~`` and ``/`` escaped."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``doc`` (dicts and lists)."""
    if pointer == "":
        return doc
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


def _number_span(
    value: Any, pointer: str, kind: str = "count", signed: bool = False, unit: bool = True
) -> Markup:
    raw = "null" if value is None else repr(float(value))
    text = format_number(value, kind, signed, unit)
    return Markup(
        f'<span class="n" data-key="{escape(pointer)}" data-value="{raw}" '
        f'data-kind="{escape(kind)}">{escape(text)}</span>'
    )


def _interval(entry: dict | None, pointer: str, kind: str, signed: bool = False) -> Markup:
    """``value [low, high]`` of a ``{value, ci_low, ci_high}`` entry at ``pointer``."""
    if not entry or entry.get("value") is None:
        return Markup('<span class="na">\u2013</span>')
    out = _number_span(entry["value"], pointer + "/value", kind, signed)
    if entry.get("ci_low") is not None and entry.get("ci_high") is not None:
        lo = _number_span(entry["ci_low"], pointer + "/ci_low", kind, signed, unit=False)
        hi = _number_span(entry["ci_high"], pointer + "/ci_high", kind, signed, unit=False)
        out += Markup(f' <span class="ci">[{lo}, {hi}]</span>')
    return out


#: a PNG larger than this is embedded as a JPEG when that is smaller (terrain shading)
JPEG_ABOVE_BYTES = 600_000
JPEG_QUALITY = 88


def image_data_uri(path: str | Path) -> str:
    """A PNG file as a ``data:image/png;base64,...`` URI; a PNG larger than
    :data:`JPEG_ABOVE_BYTES` (a map over shaded terrain is megabytes) as a JPEG of quality
    :data:`JPEG_QUALITY` when that is smaller, to keep the page light. The file itself is
    left as it is."""
    data = Path(path).read_bytes()
    mime = "image/png"
    if len(data) > JPEG_ABOVE_BYTES:
        with Image.open(io.BytesIO(data)) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        if buf.tell() < len(data):
            data, mime = buf.getvalue(), "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("iadsim.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = format_number
    env.filters["unit"] = unit_suffix
    env.filters["basename"] = lambda path: Path(str(path)).name
    env.globals.update(num=_number_span, interval=_interval, ptr=json_pointer)
    return env


def render_html(report: dict, images: Mapping[str, str | Path]) -> str:
    """The HTML text of ``report`` (the ``report.json`` dict) with ``images`` (name -> PNG
    path, as in ``report["figures"]``) embedded."""
    uris = {name: image_data_uri(p) for name, p in images.items()}
    template = _environment().get_template(TEMPLATE)
    return template.render(r=report, img=uris)


def render_report(report: dict, images: Mapping[str, str | Path], path: str | Path) -> Path:
    """Write the report's HTML to ``path`` atomically (:func:`render_html`); returns it."""
    return atomic_write_text(path, render_html(report, images))
