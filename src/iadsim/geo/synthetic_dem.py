"""Synthetic fractal terrain for tests and benchmarks (no real DEM needed).

Spectral synthesis (Saupe 1988, "Algorithms for random fractals", in *The Science of Fractal
Images*): complex Gaussian noise shaped by a power spectrum ``P(f) ~ |f|^-beta`` and inverted
with an FFT. ``beta = 3.2`` gives rough, mountain-like relief (fractal dimension
``D = (8 - beta) / 2 = 2.4``), the setting of the benchmark DEMs in
benchmarks/coverage_vs_gdal.py.
"""

from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine


def fractal_dem(n: int, seed: int, relief_m=(50.0, 1550.0), beta: float = 3.2) -> np.ndarray:
    """n x n float32 heights (m), linearly rescaled to span ``relief_m`` exactly.

    The spectrum amplitude is ``|f|^(-beta/2)`` (power ``|f|^-beta``), phases uniformly random
    from ``numpy.random.default_rng(seed)``; the result is periodic (wraps at the edges).
    """
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0)
    amp[0, 0] = 0.0  # zero mean; the offset is set by the rescale below
    noise = rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)
    z = np.fft.irfft2(noise * amp, s=(n, n))
    lo, hi = float(relief_m[0]), float(relief_m[1])
    z = (z - z.min()) / (z.max() - z.min()) * (hi - lo) + lo
    return z.astype(np.float32)


def write_geotiff(
    path,
    dem: np.ndarray,
    cell_size_m: float = 30.0,
    crs="EPSG:32633",
    origin=(500000.0, 4500000.0),
    nodata=None,
) -> None:
    """Write ``dem`` as a single-band float32 GeoTIFF with plain strips and no compression.

    ``origin`` is the (x, y) of the upper-left corner in ``crs`` units; rows go south.
    NaN cells are written as ``nodata`` when it is given.
    """
    data = np.asarray(dem, dtype=np.float32)
    if nodata is not None:
        data = np.where(np.isnan(data), np.float32(nodata), data)
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": Affine(cell_size_m, 0.0, origin[0], 0.0, -cell_size_m, origin[1]),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
