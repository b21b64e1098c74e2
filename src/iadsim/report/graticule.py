"""A latitude/longitude graticule for maps drawn in a projected CRS (the coverage maps' equal-area
grid centred on the sites), with its lines labelled where they cross the map's frame.

The frame's extent in longitude and latitude is read from points spread over it, with
longitudes taken relative to the frame's centre (so a map across the 180th meridian spans a
few degrees, not 360); a map holding a pole spans every longitude. Lines are every
:data:`NICE_STEPS_DEG` step that gives at most about six of them, each densified before
projection, so that parallels stay curved and meridians converge at a pole.

Labels: a meridian is labelled where it crosses the bottom and top edges, a parallel where it
crosses the left and right edges; on a map around a pole (every longitude in the frame,
where meridians radiate from the pole and parallels are circles around it) a line that
crosses neither of its edges is labelled on the other two. On each edge a label closer than :data:`MIN_GAP` of the edge's length to the
previous one is dropped. Text: ``40°N``, ``12.5°S``, ``33°E``, ``175°W``, ``0°``, ``180°``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: graticule steps tried (degrees), the smallest giving at most ~6 lines across the map
NICE_STEPS_DEG = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0)
#: smallest distance between two labels on one edge, as a share of the edge's length
MIN_GAP = 0.07
EDGES = ("bottom", "top", "left", "right")


def lon_text(lon_deg: float) -> str:
    """``33°E``, ``175°W``, ``0°``, ``180°`` (any longitude, wrapped to (-180, 180])."""
    lon = (float(lon_deg) + 180.0) % 360.0 - 180.0
    lon = 180.0 if np.isclose(lon, -180.0) else round(lon, 6)
    if lon == 0 or abs(lon) == 180:
        return f"{abs(lon):g}°"
    return f"{abs(lon):g}°{'E' if lon > 0 else 'W'}"


def lat_text(lat_deg: float) -> str:
    """``40°N``, ``12.5°S``, ``0°``."""
    lat = round(float(lat_deg), 6)
    return "0°" if lat == 0 else f"{abs(lat):g}°{'N' if lat > 0 else 'S'}"


def nice_step(span_deg: float, lines: int = 6) -> float:
    """The smallest of :data:`NICE_STEPS_DEG` giving at most ``lines`` steps over the span."""
    for step in NICE_STEPS_DEG:
        if span_deg / step <= lines:
            return step
    return NICE_STEPS_DEG[-1]


@dataclass
class Graticule:
    """Lines (``kind``: ``"meridian"`` / ``"parallel"``, the value in degrees, x and y in the
    map's units) and, per edge, the labels as (position along the edge, text)."""

    lines: list[tuple[str, float, np.ndarray, np.ndarray]] = field(default_factory=list)
    labels: dict[str, list[tuple[float, str]]] = field(
        default_factory=lambda: {e: [] for e in EDGES}
    )
    lon_step_deg: float = 0.0
    lat_step_deg: float = 0.0


def _crossings(x, y, extent) -> dict[str, list[float]]:
    """Where the polyline (x, y) crosses each edge of the frame (positions along the edge)."""
    x0, x1, y0, y1 = extent
    out: dict[str, list[float]] = {e: [] for e in EDGES}
    for edge, a, b, level, lo, hi in (
        ("bottom", y, x, y0, x0, x1),
        ("top", y, x, y1, x0, x1),
        ("left", x, y, x0, y0, y1),
        ("right", x, y, x1, y0, y1),
    ):
        da = a - level
        i = np.flatnonzero((da[:-1] * da[1:] < 0) | ((da[:-1] == 0) & (da[1:] != 0)))
        f = da[i] / (da[i] - da[i + 1])
        pos = b[i] + f * (b[i + 1] - b[i])
        out[edge] = [float(p) for p in pos if lo <= p <= hi]
    return out


def graticule(to_lonlat, to_xy, extent, unit_m: float = 1000.0, samples: int = 41) -> Graticule:
    """The graticule of a map whose frame is ``extent`` = (x0, x1, y0, y1) in map units of
    ``unit_m`` metres (km by default) of a projected CRS: ``to_lonlat`` and ``to_xy`` are its
    pyproj transformers to and from WGS84 (``always_xy``)."""
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, samples), np.linspace(y0, y1, samples))
    lon, lat = (np.asarray(v, float) for v in to_lonlat.transform(gx * unit_m, gy * unit_m))
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    c_lon, _ = (float(v) for v in to_lonlat.transform((x0 + x1) / 2 * unit_m,
                                                       (y0 + y1) / 2 * unit_m))  # fmt: skip
    lat_lo, lat_hi = float(lat.min()), float(lat.max())
    rel = (lon - c_lon + 180.0) % 360.0 - 180.0
    lon_lo, lon_hi = c_lon + float(rel.min()), c_lon + float(rel.max())
    for pole in (90.0, -90.0):  # a pole inside the frame: every longitude, up to the pole
        px, py = (float(v) / unit_m for v in to_xy.transform(0.0, pole))
        if x0 <= px <= x1 and y0 <= py <= y1:
            lon_lo, lon_hi = -180.0, 180.0
            lat_lo, lat_hi = min(lat_lo, pole), max(lat_hi, pole)
    full = lon_hi - lon_lo >= 300.0
    if full:
        lon_lo, lon_hi = -180.0, 180.0
    out = Graticule()
    out.lat_step_deg = lat_step = nice_step(lat_hi - lat_lo)
    out.lon_step_deg = lon_step = 30.0 if full else nice_step(lon_hi - lon_lo)
    meridians = np.arange(np.floor(lon_lo / lon_step), np.ceil(lon_hi / lon_step) + 1) * lon_step
    if full:
        meridians = meridians[meridians < 180.0]
    parallels = np.arange(np.floor(lat_lo / lat_step), np.ceil(lat_hi / lat_step) + 1) * lat_step
    parallels = parallels[np.abs(parallels) < 90.0]
    m_lat = np.linspace(max(lat_lo - lat_step, -90.0), min(lat_hi + lat_step, 90.0), 241)
    p_lon = (np.linspace(-180.0, 180.0, 721) if full
             else np.linspace(lon_lo - lon_step, lon_hi + lon_step, 241))  # fmt: skip
    for kind, values in (("meridian", meridians), ("parallel", parallels)):
        for v in values:
            lo, la = (
                (np.full_like(m_lat, v), m_lat)
                if kind == "meridian"
                else (p_lon, np.full_like(p_lon, v))
            )
            x, y = (np.asarray(a, float) / unit_m for a in to_xy.transform(lo, la))
            keep = np.isfinite(x) & np.isfinite(y)
            if keep.sum() >= 2:
                out.lines.append((kind, float(v), x[keep], y[keep]))
    own = {"meridian": ("bottom", "top"), "parallel": ("left", "right")}
    other = {"meridian": ("left", "right"), "parallel": ("bottom", "top")}
    for kind, v, x, y in out.lines:
        cross = _crossings(x, y, extent)
        text = lon_text(v) if kind == "meridian" else lat_text(v)
        # the other edges only around a pole (meridians radiate, parallels are circles):
        # elsewhere a parallel's curve dipping into the top corners is no reason to mix
        # latitudes into the longitude labels
        edges = own[kind] if any(cross[e] for e in own[kind]) or not full else other[kind]
        for e in edges:
            out.labels[e] += [(p, text) for p in cross[e]]
    for e in EDGES:
        length = (x1 - x0) if e in ("bottom", "top") else (y1 - y0)
        kept: list[tuple[float, str]] = []
        for p, text in sorted(out.labels[e]):
            if not kept or p - kept[-1][0] >= MIN_GAP * length:
                kept.append((p, text))
        out.labels[e] = kept
    return out


def draw_graticule(ax, to_lonlat, to_xy, extent, unit_m: float = 1000.0, fontsize: float = 8):
    """Draw the graticule of :func:`graticule` on ``ax`` (thin grey lines under the sites) and
    put its labels as the ticks of the four edges (top and right through secondary axes);
    returns the :class:`Graticule`."""
    g = graticule(to_lonlat, to_xy, extent, unit_m)
    for kind, v, x, y in g.lines:
        ax.plot(x, y, color="0.45", lw=0.45, alpha=0.7, zorder=3.5, gid=f"graticule:{kind}:{v:g}")
    top = ax.secondary_xaxis("top")
    right = ax.secondary_yaxis("right")
    for axis, edge in ((ax.xaxis, "bottom"), (top.xaxis, "top"), (ax.yaxis, "left"),
                       (right.yaxis, "right")):  # fmt: skip
        pos = [p for p, _ in g.labels[edge]]
        axis.set_ticks(pos, labels=[t for _, t in g.labels[edge]], fontsize=fontsize)
    for a in (ax, top, right):
        a.tick_params(length=3, pad=2)
    return g
