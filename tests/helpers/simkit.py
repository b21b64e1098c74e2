"""Shared helpers for the simulation engine tests: small scenario builders over the synthetic
``test-*`` catalog items (the ``test_catalog`` fixture of tests/conftest.py merges them into
the real catalog; all numbers synthetic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iadsim import catalog
from iadsim.scenario import scenario_from_dict
from iadsim.sim import engine

TEST_CATALOG = Path(__file__).parents[1] / "data" / "sim_catalog"
SITE = (40.0, 30.0)  # lat, lon of the defended site in the test scenarios


def merged_catalog() -> dict:
    """The real catalog plus the synthetic ``test-*`` items under tests/data/sim_catalog."""
    return {**catalog.load(), **catalog.load(TEST_CATALOG)}


def east_of(km: float, lat: float = SITE[0], lon: float = SITE[1]) -> float:
    """Longitude ``km`` east of (lat, lon) along the parallel (small-offset approximation)."""
    return lon + km / (111.32 * np.cos(np.radians(lat)))


def inbound_raid(start_km: float, end_km: float, alt_m: float, count: int = 1, spacing_s=0.0, **kw):
    """A test-cruise raid flying west along the site's parallel from start_km to end_km east."""
    return {
        "threat": "test-cruise",
        "count": count,
        "spacing_s": spacing_s,
        "speed_mps": 250,
        "route": [[SITE[0], east_of(start_km), alt_m], [SITE[0], east_of(end_km), alt_m]],
        **kw,
    }


def scenario(sites, raids, duration_s=600.0, networks=(), assets=()):
    return scenario_from_dict(
        {
            "name": "engine test",
            "sites": list(sites),
            "raids": list(raids),
            "time": {"duration_s": duration_s, "step_s": 1.0},
            "networks": list(networks),
            "assets": list(assets),
        }
    )


def sam(system="test-sam", **kw):
    return {
        "id": "sam",
        "system": system,
        "lat": SITE[0],
        "lon": SITE[1],
        "ground_altitude_m": 0,
        **kw,
    }


def run(scn, seed=0):
    return engine.run_once(engine.prepare(scn), np.random.default_rng(seed))
