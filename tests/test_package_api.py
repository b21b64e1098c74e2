"""The top-level ``iadsim`` namespace a notebook user sees: the README's quick tour runs, and
the lazily imported functions are listed by dir() (tab completion, help())."""

from __future__ import annotations

import subprocess
import sys
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


def test_version_is_the_installed_distributions_which_is_pyprojects():
    import importlib.metadata
    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert iadsim.__version__ == importlib.metadata.version("iadsim")
    assert iadsim.__version__ == pyproject["project"]["version"]


def test_version_falls_back_when_the_package_is_not_installed(tmp_path):
    # the package importable without its metadata: no site-packages (-S), a bare copy (symlink)
    (tmp_path / "iadsim").symlink_to(Path(iadsim.__file__).parent, target_is_directory=True)
    res = subprocess.run(
        [sys.executable, "-S", "-c", "import iadsim; print(iadsim.__version__)"],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0+unknown"
