"""The workbench page's static files: they ship in the package and load nothing from the network
(the page must work offline); the vendored MapLibre GL JS is the pinned 5.24.1 with its licence."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

STATIC = Path(str(resources.files("iadsim.web") / "static"))
VENDOR = STATIC / "vendor" / "maplibre-gl"


def test_the_page_and_its_map_library_are_package_files():
    for name in ("index.html", "app.js", "app.css"):
        assert (STATIC / name).is_file(), name
    for name in ("maplibre-gl.js", "maplibre-gl.css", "LICENSE.txt"):
        assert (VENDOR / name).is_file(), name
    head = (VENDOR / "maplibre-gl.js").read_text(encoding="utf-8")[:400]
    assert "v5.24.1" in head
    assert "BSD" in head and "MapLibre" in (VENDOR / "LICENSE.txt").read_text(encoding="utf-8")


def test_the_page_fetches_nothing_from_the_network():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    # every script and stylesheet is a relative path inside the package
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs, "no references found"
    for ref in refs:
        assert "://" not in ref and not ref.startswith("//"), ref
        if ref != "docs":  # the API documentation page, served by the app
            assert (STATIC / ref).is_file(), ref
    for name in ("app.js", "app.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), name
        assert "@import" not in text
    # the map style names no glyph or sprite server: labels are drawn with local fonts
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "glyphs:" not in js and "sprite:" not in js
