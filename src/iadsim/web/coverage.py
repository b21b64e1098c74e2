"""Coverage for the page's altitude slider: each site's pass computed once per scenario,
every altitude a threshold on it.

The expensive part of coverage is altitude-independent: each site's ground ranges, azimuths
and, per radar, the minimum visible altitude (over terrain a line-of-sight raster,
:func:`iadsim.coverage.analysis.terrain_pass`). :class:`PreparedCoverage` computes it once for
the slider's highest altitude (:data:`MAX_ALTITUDE_M`: the grid and each site's window reach
as far as any altitude below it can), and :meth:`PreparedCoverage.at` evaluates one altitude
on it with the same functions as ``iadsim coverage`` (``_evaluate``), so the numbers equal
the command's at that altitude on the same grid. :class:`CoverageCache` keeps the passes per
scenario version (its text's hash), threat, terrain switch and altitude reference.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio.features import shapes

from iadsim.coverage.analysis import (
    CoverageResult,
    SiteSpec,
    _evaluate,
    _open_terrain,
    _prepare_pass,
    _reaches,
    _site_grounds,
    _SitePass,
    resolve_sites,
    resolve_threat,
)
from iadsim.coverage.grid import Grid, make_grid
from iadsim.coverage.products import summarize
from iadsim.deployment import resolve_deployment
from iadsim.errors import InputError, ScenarioError
from iadsim.scenario import Scenario

#: the slider's highest altitude (m): passes are prepared to reach as far as it
MAX_ALTITUDE_M = 30_000.0
#: analysis cell of the page's coverage (km): the command's default
RESOLUTION_KM = 2.0
#: prepared scenarios kept in memory (least recently used dropped first)
CACHE_SIZE = 8


@dataclass
class PreparedCoverage:
    """A scenario's per-site passes on one grid (module docstring)."""

    name: str
    threat: str
    agl: bool
    terrain: bool
    k_factor: float
    grid: Grid
    sites: list[SiteSpec]
    passes: list[_SitePass]

    def at(self, altitude_m: float) -> CoverageResult:
        """The coverage at ``altitude_m`` (AMSL, or above ground with ``agl``)."""
        shape = (len(self.sites), *self.grid.shape)
        det, eng = np.zeros(shape, bool), np.zeros(shape, bool)
        for i, (site, p) in enumerate(zip(self.sites, self.passes, strict=True)):
            d, e = _evaluate(site, p, altitude_m, self.agl, self.k_factor)
            det[i, p.rows, p.cols] = d
            eng[i, p.rows, p.cols] = e
        return CoverageResult(
            self.grid, altitude_m, self.agl, self.threat, self.k_factor, self.terrain,
            self.sites, det, eng, self.name,
        )  # fmt: skip


def prepare(scenario: Scenario, threat: str, terrain: bool, agl: bool) -> PreparedCoverage:
    """Each site's pass for altitudes up to :data:`MAX_ALTITUDE_M` (module docstring)."""
    if not scenario.sites:
        raise ScenarioError(
            f"{scenario.locate(('sites',))}: no sites to compute coverage for; add at least one "
            "entry under 'sites'"
        )
    resolve_threat(threat, scenario)
    if terrain and scenario.dem_path() is None:
        raise InputError(
            "terrain: the scenario has no DEM (environment.dem); name one, e.g. the bundled "
            "anatolia-globe.tif, or use terrain=false",
            "terrain",
        )
    dem = _open_terrain(scenario, None) if terrain else None
    try:
        k = scenario.environment.k_factor
        specs = resolve_sites(scenario, threat, resolve_deployment(scenario, dem))
        grounds = _site_grounds(specs, dem)
        reach = _reaches(specs, grounds, MAX_ALTITUDE_M, agl, k, dem)
        grid = make_grid(
            [s.lat for s in specs], [s.lon for s in specs], reach, RESOLUTION_KM * 1000.0
        )
        passes = [_prepare_pass(s, grid, k, r, dem) for s, r in zip(specs, reach, strict=True)]
    finally:
        if dem is not None:
            dem.close()
    return PreparedCoverage(scenario.name, threat, agl, dem is not None, k, grid, specs, passes)


def mask_geometry(mask: np.ndarray, grid: Grid):
    """The cells of ``mask`` as a lon/lat (Multi)Polygon, coordinates to 5 decimals: the
    polygons of :func:`iadsim.coverage.products.mask_to_geometry`, traced on the bounding box
    of the mask's cells only (a site's coverage fills a small part of the grid) and gathered
    into one MultiPolygon without a union (the traced regions are already disjoint)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return shapely.Polygon()
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    sub = mask[r0:r1, c0:c1].astype(np.uint8)
    transform = grid.transform * Affine.translation(int(c0), int(r0))
    polys = [
        shapely.geometry.shape(g)
        for g, _ in shapes(sub, mask=sub.astype(bool), transform=transform, connectivity=4)
    ]
    geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = grid.to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 5)

    return shapely.transform(geom, to_lonlat)


def coverage_features(result: CoverageResult) -> list[dict[str, Any]]:
    """The features of ``coverage.geojson`` (each site's and the union's detection and
    engagement) and where two or more sites detect (engage): kind ``detection_overlap``
    (``engagement_overlap``), site ``overlap``."""
    systems = {s.id: s.system for s in result.sites}
    layers = [
        (kind, key, mask) for kind, masks in result.masks().items() for key, mask in masks.items()
    ]
    layers += [
        ("detection_overlap", "overlap", result.overlap_detection >= 2),
        ("engagement_overlap", "overlap", result.overlap_engagement >= 2),
    ]
    return [
        {
            "type": "Feature",
            "properties": {
                "site": key,
                "system": systems.get(key, "all"),
                "kind": kind,
                "area_km2": round(result.area_km2(mask), 1),
                "altitude_m": result.altitude_m,
                "altitude_reference": "agl" if result.agl else "amsl",
                "threat": result.threat,
            },
            "geometry": shapely.geometry.mapping(mask_geometry(mask, result.grid)),
        }
        for kind, key, mask in layers
    ]


def coverage_response(result: CoverageResult) -> dict[str, Any]:
    """The coverage endpoint's answer: the polygons of :func:`coverage_features` and the
    summary (areas, cities and population covered, countries) of ``summary.json``."""
    geojson = {
        "type": "FeatureCollection",
        "name": result.scenario_name or "coverage",
        "features": coverage_features(result),
    }
    return {"geojson": geojson, "summary": summarize(result)}


class CoverageCache:
    """Prepared coverage per (scenario id, text hash, threat, terrain, agl), least recently
    used dropped beyond :data:`CACHE_SIZE`; one preparation at a time per key."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple, PreparedCoverage] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}

    def get(
        self, scenario_id: str, text: str, scenario: Scenario, threat: str, terrain: bool,
        agl: bool,
    ) -> PreparedCoverage:  # fmt: skip
        key = (scenario_id, hashlib.sha256(text.encode()).hexdigest(), threat, terrain, agl)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            prepared = prepare(scenario, threat, terrain, agl)
            with self._lock:
                self._items[key] = prepared
                while len(self._items) > self.size:
                    old, _ = self._items.popitem(last=False)
                    self._key_locks.pop(old, None)
            return prepared

    def forget(self, scenario_id: str) -> None:
        """Drop every preparation of ``scenario_id`` (its text changed)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == scenario_id]:
                del self._items[key]
