"""The top-level ``iadsim`` namespace a notebook user sees: the README's quick tour runs, and
the lazily imported functions are listed by dir() (tab completion, help())."""

from __future__ import annotations

from pathlib import Path

import iadsim

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ankara.yaml"


def test_every_public_name_resolves_and_is_listed():
    for name in iadsim.__all__:
        assert getattr(iadsim, name) is not None, name
        assert name in dir(iadsim), name


def test_quick_tour_from_the_docstring():
    scn = iadsim.load_scenario(EXAMPLE)
    cov = iadsim.compute_coverage(scn, altitude_m=1000, resolution_km=8)
    area = cov.summary(cities=False, countries=False)["union"]["detection_area_km2"]
    assert area > 0
