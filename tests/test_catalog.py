"""Catalog provenance and consistency: every number sourced, article figures reproduced,
envelopes and references sane, detection range following the radar equation."""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from iadsim import catalog
from iadsim.catalog import Interceptor, Quantity, Radar, SourcedChoice, System, Threat
from iadsim.catalog.models import _TO_SI, Alternative
from iadsim.errors import CatalogError

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "catalog.md"

REQUIRED = {
    "system": {"s-400", "patriot", "samp-t", "nasams", "hq-9b"},
    "radar": {"91n6e", "92n6e", "an-mpq-65", "arabel", "an-mpq-64", "ht-233", "an-tpy-2"},
    "interceptor": {
        "40n6e",
        "48n6e3",
        "48n6e2",
        "9m96e2",
        "pac-2-gem-t",
        "pac-3-mse",
        "aster-30-b1",
        "aster-30-b1nt",
        "amraam",
        "hq-9b-missile",
    },  # fmt: skip
    "threat": {
        "fighter-4gen",
        "fighter-stealth",
        "drone",
        "cruise-missile",
        "srbm-300",
        "mrbm-1000",
    },
}
# The only bare numbers allowed in an item: rounds per interceptor type, whose provenance is
# carried by the System.default_loadout_rounds Quantity (checked below).
BARE_NUMBER_ALLOWED = re.compile(r"^default_loadout\.[a-z0-9\-]+$")


def provenance_problems(obj: object, path: str = "") -> list[str]:
    """Walk any pydantic model generically (independently of catalog.iter_quantities) and
    list every number that is not a sourced Quantity with a known unit."""
    problems: list[str] = []
    if isinstance(obj, Quantity):
        if not obj.source.strip():
            problems.append(f"{path}: empty source")
        if obj.unit not in _TO_SI:
            problems.append(f"{path}: unknown unit {obj.unit!r}")
        if obj.basis is None:
            problems.append(f"{path}: no basis (seen/community/unverified/derived/estimate)")
        for i, alt in enumerate(obj.alternatives):
            problems += provenance_problems(alt, f"{path}.alternatives.{i}")
    elif isinstance(obj, SourcedChoice):
        if not obj.source.strip():
            problems.append(f"{path}: empty source")
        for i, alt in enumerate(obj.alternatives):
            if not alt.source.strip():
                problems.append(f"{path}.alternatives.{i}: alternative without source")
    elif isinstance(obj, Alternative):
        if not obj.source.strip():
            problems.append(f"{path}: alternative without source")
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            problems += provenance_problems(getattr(obj, name), f"{path}.{name}".lstrip("."))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            problems += provenance_problems(value, f"{path}.{key}".lstrip("."))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            problems += provenance_problems(value, f"{path}.{i}")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        if not BARE_NUMBER_ALLOWED.match(path):
            problems.append(f"{path}: bare number {obj!r} without source")
    return problems


ALL_ITEMS = catalog.items()


@pytest.mark.parametrize("item", ALL_ITEMS, ids=lambda i: i.id)
def test_every_number_in_item_is_a_sourced_quantity_with_known_unit(item):
    assert provenance_problems(item) == []


def test_provenance_walker_flags_unsourced_and_unknown_unit_numbers():
    class Leaky(BaseModel):
        speed_mps: float = 3.0
        ok: Quantity
        bad: Quantity

    good = Quantity(value=1, unit="km", source="somewhere", confidence="low", basis="seen")
    bad = Quantity.model_construct(value=1, unit="furlong", source=" ", confidence="low")
    found = provenance_problems(Leaky(ok=good, bad=bad))
    assert any(p.startswith("speed_mps: bare number") for p in found)
    assert any("bad: empty source" in p for p in found)
    assert any("unknown unit 'furlong'" in p for p in found)
    assert any("bad: no basis" in p for p in found)
    assert not any(p.startswith("ok") for p in found)


def test_quantity_rejects_unknown_unit_and_empty_source():
    with pytest.raises(ValueError):
        Quantity(value=1, unit="furlong", source="x" * 5, confidence="low")
    with pytest.raises(ValueError):
        Quantity(value=1, unit="km", source="", confidence="low")


@pytest.mark.parametrize("item", ALL_ITEMS, ids=lambda i: i.id)
def test_confidence_is_honest_about_the_basis(item):
    for path, q in catalog.iter_quantities(item):
        if q.basis in ("estimate", "unverified"):
            assert q.confidence == "low", f"{item.id}.{path}: {q.basis} must be low confidence"
        if q.basis == "community":
            assert q.confidence != "high", f"{item.id}.{path}: community source rated high"
        if q.basis == "estimate":
            assert "docs/catalog.md#estimates" in q.source, f"{item.id}.{path}"
        if "planning estimate" in q.source:
            assert q.basis == "estimate", f"{item.id}.{path}: planning estimate not labelled"


def test_items_relying_mostly_on_estimates_are_flagged_illustrative():
    for item in ALL_ITEMS:
        qs = [q for _, q in catalog.iter_quantities(item)]
        share = sum(q.basis == "estimate" for q in qs) / len(qs)
        if share > 0.4:
            assert item.illustrative, f"{item.id}: {share:.0%} estimates but not illustrative"


def test_required_items_are_present_with_their_kind():
    for kind, ids in REQUIRED.items():
        assert ids <= {i.id for i in catalog.items(kind)}, kind


def test_files_live_in_the_folder_of_their_kind():
    for path in catalog.DATA_DIR.glob("*/*.yaml"):
        raw = yaml.safe_load(path.read_text())
        assert path.parent.name == raw["kind"] + "s", path
        assert raw["id"] == path.stem


def test_s400_reproduces_article_figures():
    s400 = catalog.get("s-400", kind="system")
    assert s400.in_service.value == 2007 and s400.in_service.unit == "year"
    assert s400.headline_max_range.si == pytest.approx(400_000.0)
    assert s400.headline_max_altitude.si == pytest.approx(30_000.0)
    assert set(s400.target_classes) == {"aircraft", "cruise", "ballistic"}
    assert "noticiabrasil.net.br" in s400.headline_max_range.source
    assert "noticiabrasil.net.br" in s400.headline_max_altitude.source
    assert "difesaonline" in s400.in_service.source
    assert s400.nato_interoperable is False
    # The 400 km comes from the 40N6E, limited to 60 km / 25 km against ballistic missiles.
    m40 = catalog.get("40n6e")
    assert m40.envelopes["aircraft"].max_range.si == pytest.approx(400_000.0)
    assert m40.envelopes["ballistic"].max_range.si == pytest.approx(60_000.0)
    assert m40.envelopes["ballistic"].max_altitude.si == pytest.approx(25_000.0)
    assert {a.value for a in m40.envelopes["aircraft"].min_altitude.alternatives} >= {5.0, 25.0}


def test_patriot_is_nato_interoperable():
    assert catalog.get("patriot").nato_interoperable is True
    assert catalog.get("hq-9b").nato_interoperable is False


@pytest.mark.parametrize("item", catalog.items("interceptor"), ids=lambda i: i.id)
def test_interceptor_envelopes_are_ordered_and_pk_is_a_probability(item: Interceptor):
    assert item.envelopes, item.id
    for cls, env in item.envelopes.items():
        assert 0 <= env.min_range.si < env.max_range.si, (item.id, cls)
        assert 0 <= env.min_altitude.si < env.max_altitude.si, (item.id, cls)
    assert set(item.pk) == set(item.envelopes), "a Pk for exactly the classes it can engage"
    for q in item.pk.values():
        assert q.unit == "probability" and 0.0 <= q.value <= 1.0
    assert item.average_speed.si > 0 and item.max_target_speed.si > 0


def test_terminal_seekers_follow_their_sources_and_active_seeker_means_active_radar():
    seekers = {i.id: i.terminal_seeker for i in catalog.items("interceptor")}
    active = {i.id for i in catalog.items("interceptor") if i.active_seeker}
    assert active == {i for i, s in seekers.items() if s.value == "active_radar"}
    # the rounds engage-on-remote may use (own seeker) and those the FCR must guide to the end
    assert {"pac-3-mse", "9m96e2", "40n6e", "aster-30-b1", "aster-30-b1nt", "amraam"} <= active
    assert {"pac-2-gem-t", "48n6e2", "48n6e3"}.isdisjoint(active)
    assert seekers["pac-2-gem-t"].value == "track_via_missile"
    assert [a.value for a in seekers["40n6e"].alternatives] == ["semi_active"]
    assert [a.value for a in seekers["48n6e3"].alternatives] == ["command"]
    for item_id, s in seekers.items():
        assert re.search(r"https?://", s.source), item_id
        if s.basis in ("estimate", "unverified"):
            assert s.confidence == "low", item_id
        if s.basis == "community":
            assert s.confidence != "high", item_id


def test_every_item_pickles_for_worker_processes():
    # the Monte Carlo backends send catalog items to other processes
    for item in ALL_ITEMS:
        assert pickle.loads(pickle.dumps(item)) == item, item.id


def test_radar_detection_pd_is_a_probability_with_its_convention_and_alternatives():
    for radar in catalog.items("radar"):
        q = radar.detection_pd
        assert q.unit == "probability" and 0 < q.value < 1, radar.id
        assert "radartutorial.eu" in q.source and q.value == 0.8, radar.id
        assert sorted(a.value for a in q.alternatives) == [0.5, 0.9], radar.id
    base = catalog.get("92n6e").model_dump()
    for bad in (0.0, 1.0, 1.2):
        base["detection_pd"] |= {"value": bad}
        with pytest.raises(ValueError, match="detection_pd"):
            Radar.model_validate(base)


def test_amraam_has_no_ballistic_envelope_and_pac3_reaches_higher_than_gem_t():
    assert "ballistic" not in catalog.get("amraam").envelopes
    pac3 = catalog.get("pac-3-mse").envelopes
    assert pac3["aircraft"].max_range.si == pytest.approx(120e3)
    assert pac3["ballistic"].max_range.si == pytest.approx(60e3)
    assert 30e3 <= pac3["ballistic"].max_altitude.si <= 36e3
    assert catalog.get("hq-9b-missile").envelopes["aircraft"].min_altitude.si == 25.0


@pytest.mark.parametrize("system", catalog.items("system"), ids=lambda i: i.id)
def test_system_references_resolve_and_cover_its_target_classes(system: System):
    radar_ids = {r.id for r in catalog.items("radar")}
    assert set(system.radars) <= radar_ids
    assert system.fire_control_radar in system.radars
    interceptors = [catalog.get(i, kind="interceptor") for i in system.interceptors]
    assert set(system.default_loadout) <= set(system.interceptors)
    assert all(n > 0 for n in system.default_loadout.values())
    assert system.default_loadout_rounds is not None
    assert system.default_loadout_rounds.value == sum(system.default_loadout.values())
    engageable = {cls for m in interceptors for cls in m.envelopes}
    assert set(system.target_classes) <= engageable
    # The headline range is what the best interceptor reaches against aircraft.
    best = max(m.envelopes["aircraft"].max_range.si for m in interceptors)
    assert system.headline_max_range.si <= best + 1.0
    assert system.fire_control_channels.value >= 1 and system.missiles_per_channel.value >= 1


def test_early_warning_radar_is_an_tpy_2_calibrated_on_a_small_rv():
    tpy2 = catalog.get("an-tpy-2", kind="radar")
    assert tpy2.role == "early_warning" and tpy2.detects_ballistic
    assert tpy2.reference_rcs.si <= 0.01
    assert "mostlymissiledefense.com" in tpy2.reference_rcs.source


def _radar(range_km: float, rcs_m2: float, instrumented_km: float) -> Radar:
    base = catalog.get("91n6e").model_dump()

    def q(v: float, unit: str) -> dict:
        return {"value": v, "unit": unit, "source": "test", "confidence": "low"}

    base |= {
        "reference_detection_range": q(range_km, "km"),
        "reference_rcs": q(rcs_m2, "m2"),
        "instrumented_range": q(instrumented_km, "km"),
    }
    return Radar.model_validate(base)


def test_detection_range_scales_with_fourth_root_of_rcs_and_is_capped():
    radar = _radar(400, 1.0, 600)
    # R = R_ref (sigma / sigma_ref)^(1/4): 400 km on 1 m2 sees 0.1 m2 at 225 km, 0.01 m2 at 126 km.
    assert catalog.detection_range_m(radar, 0.1) == pytest.approx(224.94e3, rel=1e-4)
    assert catalog.detection_range_m(radar, 0.01) == pytest.approx(126.49e3, rel=1e-4)
    assert catalog.detection_range_m(radar, 1.0) == pytest.approx(400e3)
    # 10 m2 would be 711 km in free space; the instrumented range caps it.
    assert catalog.detection_range_m(radar, 10.0) == pytest.approx(600e3)


def test_detection_range_ratio_matches_full_radar_range_equation():
    # R_max = [P G^2 lambda^2 sigma / ((4 pi)^3 k T B F L SNR)]^(1/4) with arbitrary parameters.
    def r_max(sigma: float) -> float:
        p, g, lam, k, t, b, f, loss, snr = 1e6, 10**3.5, 0.03, 1.380649e-23, 290, 1e6, 3, 4, 20
        return (
            p * g**2 * lam**2 * sigma / ((4 * math.pi) ** 3 * k * t * b * f * loss * snr)
        ) ** 0.25

    radar = _radar(r_max(2.0) / 1e3, 2.0, 1e6)
    for sigma in (0.003, 0.05, 0.7, 30.0):
        assert catalog.detection_range_m(radar, sigma) == pytest.approx(r_max(sigma), rel=1e-9)


def test_shipped_radars_see_a_fighter_no_farther_than_instrumented_range():
    fighter = catalog.get("fighter-4gen", kind="threat")
    for radar in catalog.items("radar"):
        r = catalog.detection_range_m(radar, fighter.rcs.si)
        assert 0 < r <= radar.instrumented_range.si


def test_threat_rcs_lies_in_reference_bands():
    # X-band, aspect-averaged bands: small fighter 1-5 m2, stealth fighter 0.001-0.01 m2
    # (bhaswanth.in and rfessentials.com tables); cruise missile 0.01-0.1 m2 and RV 0.01 m2
    # planning values (unverified in the catalog).
    assert 1 <= catalog.get("fighter-4gen").rcs.si <= 5
    assert 0.001 <= catalog.get("fighter-stealth").rcs.si <= 0.01
    assert 0.01 <= catalog.get("cruise-missile").rcs.si <= 0.1
    assert catalog.get("srbm-300").rcs.si == pytest.approx(0.01)
    assert catalog.get("cruise-missile").cruise_altitude.si <= 50
    assert catalog.get("drone").target_class in ("aircraft", "cruise")


@pytest.mark.parametrize("threat_id", ["srbm-300", "mrbm-1000"])
def test_ballistic_threats_match_minimum_energy_trajectory(threat_id):
    # Bate, Mueller & White eq. 6.2-20: Q = 2 sin(psi/2) / (1 + sin(psi/2)), v = sqrt(Q mu / R);
    # apogee h = R (sin(psi/2) + cos(psi/2) - 1) / 2 (from the same ellipse, a = R (1 + sin(psi/2))
    # / 2 and e = cos(psi/2) / (1 + sin(psi/2)): h = a (1 + e) - R).
    threat: Threat = catalog.get(threat_id, kind="threat")
    mu, r_e = 3.986004418e14, 6371e3
    half = threat.max_range.si / r_e / 2
    q = 2 * math.sin(half) / (1 + math.sin(half))
    assert threat.speed.si == pytest.approx(math.sqrt(q * mu / r_e), rel=0.01)
    assert threat.cruise_altitude.si == pytest.approx(
        r_e * (math.sin(half) + math.cos(half) - 1) / 2, rel=0.005
    )
    assert threat.boost_time is not None and threat.boost_time.si > 0
    assert threat.reentry_speed is not None


URL = re.compile(r"https?://\S+")
ESTIMATE_MARKER = "iadsim planning estimate (illustrative), see docs/catalog.md#estimates"


def _sourced(obj) -> list[tuple[str, object]]:
    """Every sourced value of an item: its Quantities and SourcedChoices with their paths."""
    rows: list[tuple[str, object]] = list(catalog.iter_quantities(obj))
    for name in type(obj).model_fields:
        if isinstance(getattr(obj, name), SourcedChoice):
            rows.append((name, getattr(obj, name)))
    return rows


def source_problems(path: str, source: str, basis: str | None) -> list[str]:
    """A source must be checkable: a URL, or the estimate marker with basis estimate, or a
    derivation (basis derived, 'iadsim derived:' naming the formula's equation or the
    definition), or say it is unverified (basis unverified)."""
    if URL.search(source) or basis == "unverified":
        return []
    if basis == "estimate" and source == ESTIMATE_MARKER:
        return []
    if (
        basis == "derived"
        and source.startswith("iadsim derived:")
        and re.search(r"\beq\.|\bsec\.|definition", source)
    ):
        return []
    return [f"{path}: source {source!r} (basis {basis}) has no URL and is not marked"]


@pytest.mark.parametrize("item", ALL_ITEMS, ids=lambda i: i.id)
def test_every_source_has_a_url_or_is_an_estimate_derivation_or_unverified(item):
    problems = []
    for path, q in _sourced(item):
        problems += source_problems(path, q.source, q.basis)
        for i, alt in enumerate(q.alternatives):
            problems += source_problems(f"{path}.alternatives.{i}", alt.source, alt.basis)
    assert problems == []


def test_source_rule_refuses_bare_citations_and_accepts_the_marked_forms():
    assert source_problems("a", "tech.wp.pl (Aster 30 about 100 km)", "seen")
    assert source_problems("a", "cmo-db-requests #5797", None)
    assert source_problems("a", "iadsim planning estimate", "estimate")  # marker incomplete
    assert source_problems("a", ESTIMATE_MARKER, "seen")
    assert source_problems("a", "iadsim derived: a formula", "derived")  # names no equation
    assert not source_problems("a", "x, https://example.org/page", "seen")
    assert not source_problems("a", ESTIMATE_MARKER, "estimate")
    assert not source_problems("a", "Wikipedia 'AN/MPQ-53', not opened", "unverified")
    assert not source_problems("a", "iadsim derived: Bate, Mueller & White eq. 6.2-20", "derived")


# Paths and names of files that live outside the repository (notes and reference documents that
# earlier sessions worked from). Built from pieces so that this file does not match itself.
OUTSIDE = [
    "../" + "shared",
    "shared" + "/reference",
    "reference" + "/public",
    "reference " + "file",
    "public-" + "parameters.md",
    "coverage-" + "anchors.md",
    "tracking-" + "anchor.md",
    "/work" + "/notes",
    "the " + "issue's example",
]
SCANNED = [
    *sorted((REPO / "src").rglob("*.py")),
    *sorted(catalog.DATA_DIR.rglob("*.yaml")),
    *sorted((REPO / "docs").rglob("*.md")),
    *sorted((REPO / "tests").rglob("*.py")),
    *sorted((REPO / "tests").rglob("*.yaml")),
    *sorted((REPO / "benchmarks").rglob("*.py")),
    *sorted((REPO / "benchmarks").rglob("*.md")),
    REPO / "README.md",
]


def test_no_text_references_files_outside_the_repository():
    found = []
    for path in SCANNED:
        text = path.read_text(encoding="utf-8").lower()
        for pattern in OUTSIDE:
            for m in re.finditer(re.escape(pattern.lower()), text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(REPO)}:{line}: {pattern}")
        # a numbered section of an outside reference document
        if re.search(r"section \d+\.\d+ of the " + "reference", text):
            found.append(f"{path.relative_to(REPO)}: section of an outside reference")
    assert found == [], "cite the public source instead:\n" + "\n".join(found)


def test_every_estimated_field_is_listed_in_docs():
    text = DOCS.read_text(encoding="utf-8")
    section = text.split('<a id="estimates"></a>', 1)[1]
    missing = set()
    for item in ALL_ITEMS:
        for path, q in catalog.iter_quantities(item):
            if q.basis == "estimate":
                field = next(
                    p for p in path.split(".") if p not in ("envelopes", *catalog.TARGET_CLASSES)
                )
                if f"`{field}`" not in section:
                    missing.add(field)
    assert not missing, f"docs/catalog.md#estimates does not list: {sorted(missing)}"


def test_malformed_file_is_a_one_line_catalog_error_naming_file_and_field(tmp_path):
    src = catalog.DATA_DIR / "threats" / "drone.yaml"
    raw = yaml.safe_load(src.read_text())
    raw["speed"]["source"] = ""
    (tmp_path / "threats").mkdir()
    bad = tmp_path / "threats" / "drone.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(CatalogError) as err:
        catalog.load(tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "drone.yaml" in msg and "speed.source" in msg


def test_catalog_rejects_a_system_whose_fire_control_radar_is_not_among_its_radars(tmp_path):
    raw = yaml.safe_load((catalog.DATA_DIR / "systems" / "s-400.yaml").read_text())
    raw["radars"] = ["91n6e"]  # 92n6e, its fire-control radar, left out
    (tmp_path / "systems").mkdir()
    (tmp_path / "systems" / "s-400.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(CatalogError) as err:
        catalog.load(tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "s-400.yaml" in msg and "'fire_control_radar'" in msg
    assert "92n6e" in msg


def test_unknown_id_names_known_ids():
    with pytest.raises(CatalogError, match="unknown system 's-4000'.*s-400"):
        catalog.get("s-4000", kind="system")
    with pytest.raises(CatalogError):
        catalog.get("91n6e", kind="interceptor")
