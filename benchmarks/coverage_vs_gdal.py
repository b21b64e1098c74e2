"""Benchmark: iadsim terrain line of sight against GDAL's gdal_viewshed (not a test).

Setup (issue 2, item 8): synthetic fractal DEMs
(beta 3.2, relief 50-1550 m) as float32 GeoTIFFs (EPSG:32633, 30 m, plain strips), observer at the
centre cell 10 m above ground, target 100 m above ground, 4/3 Earth. gdal_viewshed runs with
``-cc 0.75``; its curvature uses the SRS semi-major axis a = 6 378 137 m, so iadsim runs with
k = 4/3 and R = 6 378 137 m (k R = a / 0.75: identical drop).

Prints: (1) single-observer times, gdal_viewshed CLI end to end (GeoTIFF -> GeoTIFF) vs iadsim
end to end in this process (DEM read with iadsim's reader, ``iadsim.geo.dem.Dem``: rasterio, GDAL's
direct IO for uncompressed GeoTIFFs; ``visible_mask`` with the threshold in the kernel; GeoTIFF
write) and iadsim compute only; gdal_viewshed is also timed with GDAL's direct IO
(``--config GTIFF_DIRECT_IO YES``), the same read; (2) each tool's agreement with the exact per-cell line of
sight (R3) on a 2000^2 DEM (iadsim: the mask, and the minimum-visible-height raster thresholded);
(3) the union of 10 sites (-md 30000) vs 10 gdal_viewshed calls.

    .venv/bin/python benchmarks/coverage_vs_gdal.py           # full run (several minutes)
    .venv/bin/python benchmarks/coverage_vs_gdal.py --quick   # smoke run (small DEMs)
    .venv/bin/python benchmarks/coverage_vs_gdal.py --union-only   # part 3 alone (4000^2)

Needs ``gdal_viewshed`` on PATH for the GDAL columns (Debian: apt-get install -y gdal-bin).
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from iadsim.geo.dem import Dem
from iadsim.geo.los import min_visible_height, min_visible_height_exact, visible_mask
from iadsim.geo.synthetic_dem import fractal_dem, write_geotiff

CELL_M = 30.0
ORIGIN = (500000.0, 4500000.0)
OBS_M, TARGET_M = 10.0, 100.0
K, R_SRS = 4 / 3, 6_378_137.0  # k R = a / 0.75, GDAL -cc 0.75
GDAL_CC = "0.75"


def median_time(repeats, fn, *args, **kwargs):
    fn(*args, **kwargs)  # warm-up: numba JIT, page cache
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cell_xy(row, col):
    return ORIGIN[0] + (col + 0.5) * CELL_M, ORIGIN[1] - (row + 0.5) * CELL_M


def gdal_viewshed(dem_path, out_path, row, col, max_range_m=0.0, direct_io=False):
    """One gdal_viewshed CLI call; ``direct_io`` adds ``--config GTIFF_DIRECT_IO YES`` (GDAL's
    own faster read of uncompressed GeoTIFFs, printed for reference)."""
    x, y = cell_xy(row, col)
    cmd = ["gdal_viewshed", "-q"] + (["--config", "GTIFF_DIRECT_IO", "YES"] if direct_io else [])
    cmd += ["-oz", str(OBS_M), "-tz", str(TARGET_M), "-cc", GDAL_CC]
    cmd += ["-md", str(max_range_m), "-ox", str(x), "-oy", str(y), str(dem_path), str(out_path)]
    subprocess.run(cmd, check=True, capture_output=True)


MODES = {  # iadsim settings compared: the defaults, a sparser faster and a denser slower sweep
    "default": {},
    "sparse": {"ray_density": 0.6},
    "dense": {"ray_density": 2.0},
}


def read_dem(path):
    """Band 1 (float32, nodata -> NaN) and its georeferencing, read the way iadsim reads any DEM
    (:class:`iadsim.geo.dem.Dem`: rasterio/GDAL, uncompressed GeoTIFFs with GDAL's direct IO).
    No hand-written reader: this is the read every iadsim user gets."""
    with Dem.open(path) as src:
        dem = src.read_window(Window(0, 0, src.shape[1], src.shape[0]))
        geo = {"crs": src.crs, "transform": src.transform}
    return dem, geo


def write_mask(path, mask, geo):
    """Write a uint8 0/255 mask (GDAL's visible value) as a Byte GeoTIFF."""
    h, w = mask.shape
    with rasterio.open(
        path, "w", driver="GTiff", height=h, width=w, count=1, dtype="uint8", **geo
    ) as dst:
        dst.write(mask, 1)


def mvh(dem, row, col, mode, max_range_m=None):
    return min_visible_height(
        dem, CELL_M, row, col, OBS_M, K, max_range_m, earth_radius_m=R_SRS, **MODES[mode]
    )


def vis_mask(dem, sites, mode, max_range_m=None):
    """0/255 mask: a target TARGET_M above ground seen from at least one of the sites."""
    return visible_mask(
        dem,
        CELL_M,
        sites,
        OBS_M,
        TARGET_M,
        K,
        max_range_m,
        earth_radius_m=R_SRS,
        visible_value=255,
        **MODES[mode],
    )


def iadsim_end_to_end(dem_path, out_path, row, col, mode):
    dem, profile = read_dem(dem_path)
    write_mask(out_path, vis_mask(dem, [(row, col)], mode), profile)


def single_observer(paths, work, repeats, have_gdal):
    print(f"\n1) One observer at the centre, full raster (median of {repeats} after a warm-up)")
    print(
        f"{'DEM':>7} | {'gdal_viewshed CLI':>17} | {'iadsim mode':>11} | {'iadsim e2e':>10} |"
        f" {'compute only':>12} | {'gdal/iadsim (e2e)':>17} | {'visible %':>9} |"
        f" {'gdal direct IO':>14} | {'gdal DIO/iadsim':>15}"
    )
    for n, path in paths.items():
        row = col = n // 2
        t_gdal = t_dio = math.nan
        if have_gdal:
            t_gdal = median_time(repeats, gdal_viewshed, path, work / "g.tif", row, col)
            t_dio = median_time(repeats, gdal_viewshed, path, work / "g.tif", row, col, 0.0, True)
        with rasterio.open(path) as src:
            dem = src.read(1)
        for mode in MODES:
            t_e2e = median_time(repeats, iadsim_end_to_end, path, work / "i.tif", row, col, mode)
            t_mem = median_time(repeats, vis_mask, dem, [(row, col)], mode)
            vis = 100 * np.mean(vis_mask(dem, [(row, col)], mode) == 255)
            print(
                f"{n:>6}² | {t_gdal:>15.3f} s | {mode:>11} | {t_e2e:>8.3f} s | {t_mem:>10.3f} s |"
                f" {t_gdal / t_e2e:>17.2f} | {vis:>9.2f} | {t_dio:>12.3f} s |"
                f" {t_dio / t_e2e:>15.2f}"
            )


def agreement(n, work, have_gdal):
    print(f"\n2) Agreement with the exact per-cell line of sight (R3) on {n}², target 100 m AGL")
    dem = fractal_dem(n, 1)
    path = work / f"agree_{n}.tif"
    write_geotiff(path, dem, CELL_M, "EPSG:32633", ORIGIN)
    print(
        f"{'observer':>8} | {'R3 visible %':>12} | {'R3 time':>8} | {'gdal vs R3':>10} |"
        + "".join(f" {'iadsim ' + m + ' vs R3':>22} |" for m in MODES)
        + f" {'H raster (default) vs R3':>24} |"
    )
    peak = np.unravel_index(np.argmax(dem), dem.shape)
    for name, (row, col) in (("centre", (n // 2, n // 2)), ("peak", peak)):
        t = time.perf_counter()
        exact = min_visible_height_exact(dem, CELL_M, row, col, OBS_M, K, earth_radius_m=R_SRS)
        t_exact = time.perf_counter() - t
        truth = dem + TARGET_M >= exact
        theirs = math.nan
        if have_gdal:
            gdal_viewshed(path, work / "ga.tif", row, col)
            with rasterio.open(work / "ga.tif") as src:
                theirs = 100 * np.mean((src.read(1) == 255) == truth)
        ours = [100 * np.mean((vis_mask(dem, [(row, col)], m) == 255) == truth) for m in MODES]
        h_raster = 100 * np.mean((dem + TARGET_M >= mvh(dem, row, col, "default")) == truth)
        print(
            f"{name:>8} | {100 * truth.mean():>12.2f} | {t_exact:>6.1f} s | {theirs:>9.3f}% |"
            + "".join(f" {a:>21.3f}% |" for a in ours)
            + f" {h_raster:>23.3f}% |"
        )


def multi_site(path, n, work, have_gdal, n_sites=10, radius_m=30_000.0):
    print(
        f"\n3) Union of {n_sites} sites (random cells, max range {radius_m / 1000:.0f} km) on {n}²"
    )
    rng = np.random.default_rng(42)
    sites = rng.integers(0, n, size=(n_sites, 2))

    def run_iadsim(mode):
        dem, profile = read_dem(path)  # the DEM is read once for all sites
        # all sites in one call: their octants share one pool of tasks on all cores, and each
        # site only touches the cells within its range
        union = vis_mask(dem, sites, mode, radius_m)
        write_mask(work / "union.tif", union, profile)
        return union == 255

    def run_gdal(direct_io):
        for k, (row, col) in enumerate(sites):
            gdal_viewshed(path, work / f"site{k}.tif", row, col, radius_m, direct_io)

    t_gdal = median_time(3, run_gdal, False) if have_gdal else math.nan
    t_dio = median_time(3, run_gdal, True) if have_gdal else math.nan
    print(f"{n_sites} x gdal_viewshed -md {radius_m:.0f}: {t_gdal:.3f} s")
    print(
        f"{n_sites} x gdal_viewshed -md {radius_m:.0f} --config GTIFF_DIRECT_IO YES: {t_dio:.3f} s"
    )
    for mode in MODES:
        t_ours = median_time(3, run_iadsim, mode)
        union = run_iadsim(mode)
        print(
            f"iadsim {mode} (DEM read once, {n_sites} sites, union GeoTIFF written): {t_ours:.3f} s;"
            f" ratio gdal/iadsim {t_gdal / t_ours:.2f} (direct-IO gdal {t_dio / t_ours:.2f});"
            f" union covers {100 * union.mean():.2f} %"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small DEMs, few repeats")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--union-only", action="store_true", help="only part 3, the union of 10 sites"
    )
    args = parser.parse_args()
    sizes, agree_n, repeats = ([1000], 300, 2) if args.quick else ([4000, 8000], 2000, 5)
    if args.union_only:
        sizes = sizes[:1]  # the union runs on the first DEM only
    have_gdal = shutil.which("gdal_viewshed") is not None
    if not have_gdal:
        print("gdal_viewshed not found: GDAL columns are NaN (apt-get install -y gdal-bin)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="iadsim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    paths = {}
    for n in sizes:
        paths[n] = work / f"dem_{n}.tif"
        if not paths[n].exists():
            write_geotiff(paths[n], fractal_dem(n, 0), CELL_M, "EPSG:32633", ORIGIN)
    print(f"DEMs in {work}; gdal -cc {GDAL_CC}; iadsim k={K:.4f}, R={R_SRS:.0f} m")
    if not args.union_only:
        single_observer(paths, work, repeats, have_gdal)
        agreement(agree_n, work, have_gdal)
    multi_site(paths[sizes[0]], sizes[0], work, have_gdal)


if __name__ == "__main__":
    main()
