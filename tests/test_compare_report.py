"""``iadsim compare`` and its report (:mod:`iadsim.comparison`, :mod:`iadsim.report.html_report`).

One small comparison (two tiny deployments facing the same raid over a smooth Earth, 20 runs,
two altitudes on a coarse grid, with --sensitivity) is run once per module; the tests check
every figure of ``report.json`` against the results stores and coverage files, recomputed
independently (pandas over the stores' tables, scipy for the intervals, rasterio over the
GeoTIFFs), and every number of ``report.html`` against ``report.json``, and that the page
loads nothing from outside itself.

The page's rule, tested here: no ``<link>``, ``<script>``, ``<iframe>``, ``<object>``,
``<embed>`` or ``<base>`` element; every ``src`` is a ``data:image/`` URI; every ``href`` is an
anchor on the page (``#...``); no ``url(`` or ``@import`` in any style. Source citations are
plain text (their URLs are words on the page, never links).
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import rasterio
from PIL import Image
from scipy import stats

from iadsim import catalog
from iadsim.api import decisive_parameters
from iadsim.catalog import get_path
from iadsim.comparison import (
    CompareJob,
    check_labels,
    compare_scenarios,
    crop_to_coverage,
    label_slug,
    outcome_rows,
    parse_altitudes,
    slugs_for,
)
from iadsim.errors import InputError
from iadsim.report.html_report import format_number, resolve_pointer
from iadsim.results.metrics import paired_difference, per_run_values, welch_difference
from iadsim.results.store import open_store

RAID = """\
raids:
  - id: cm
    threat: cruise-missile
    count: 3
    launch_time_s: 0
    spacing_s: 20
    speed_mps: 240
    route: [[38.60, 33.00, 50], [39.925, 32.866, 50]]
  - {id: sr, threat: srbm-300, count: 1, launch_time_s: 100, launch: [37.9, 34.9], aim: [39.925, 32.866]}
"""
S400 = """\
name: tiny S-400
description: one S-400 battery against 3 low cruise missiles and an SRBM, smooth Earth
time: {duration_s: 720, step_s: 2.0}
sites:
  - {id: s400, system: s-400, lat: 39.98, lon: 32.75, heading_deg: 180}
assets:
  - {id: centre, lat: 39.925, lon: 32.866, radius_km: 5, value: 10}
"""
PATRIOT = """\
name: tiny Patriot
description: a Patriot battery and a forward AN/TPY-2 engaging on remote, same raid
time: {duration_s: 720, step_s: 2.0}
sites:
  - {id: pat, system: patriot, lat: 39.90, lon: 32.90, heading_deg: 180, network: net}
  - {id: tpy, system: an-tpy-2, lat: 39.3, lon: 33.5, heading_deg: 180, network: net}
networks:
  - {id: net, members: [pat, tpy], latency_s: 1, mode: engage_on_remote}
assets:
  - {id: centre, lat: 39.925, lon: 32.866, radius_km: 5, value: 10}
"""
LABELS = ("S-400 <standalone>", "Patriot & TPY-2")  # HTML-special characters on purpose
RUNS = 20
ALTITUDES = (100.0, 3000.0)


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def cmp(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmp")
    a = _write(tmp, "s400.yaml", S400 + RAID)
    b = _write(tmp, "patriot.yaml", PATRIOT + RAID)
    rep = compare_scenarios(
        [a, b], tmp / "out", labels=LABELS, runs=RUNS, seed=3, workers=1,
        altitudes_m=ALTITUDES, resolution_km=8.0, sensitivity=True,
    )  # fmt: skip
    out = tmp / "out"
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    return rep, out, data, html


# --- independent per-run values from a store's tables ----------------------------------------


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT * FROM {t}").df()
            for t in ("runs", "events", "per_threat", "summary", "catalog_values")
        }
    finally:
        con.close()


def _per_run(t: dict[str, pd.DataFrame], metric: str) -> pd.Series:
    """The per-run value of ``metric`` from the raw tables with pandas (not the store's SQL)."""
    runs = t["runs"]["run_id"].sort_values().to_numpy()
    ev, pt = t["events"], t["per_threat"]

    def count(kind):
        c = ev[ev.kind == kind].groupby("run_id").threat.nunique()
        return c.reindex(runs, fill_value=0).astype(float)

    if metric == "leakers_per_run":
        return count("leak")
    if metric == "unresolved_per_run":
        return count("unresolved")
    if metric == "interceptors_spent_per_run":
        s = ev[ev.kind == "launch"].groupby("run_id").value.sum()
        return s.reindex(runs, fill_value=0.0).astype(float)
    if metric == "undetected_per_run":
        s = pt.assign(u=pt.first_detection_s.isna()).groupby("run_id").u.sum()
        return s.reindex(runs, fill_value=0).astype(float)
    if metric == "mean_warning_time_s":
        return pt.assign(w=pt.warning_time_s.fillna(0.0)).groupby("run_id").w.mean()
    if metric == "p_raid_defeated":
        return ((count("leak") == 0) & (count("unresolved") == 0)).astype(float)
    m = re.fullmatch(r"(p_kill|p_detected)\[(\w+)\]", metric)
    assert m, metric
    sub = pt[pt.target_class == m.group(2)]
    hit = sub.killed.astype(bool) if m.group(1) == "p_kill" else sub.first_detection_s.notna()
    return sub.assign(h=hit.astype(float)).groupby("run_id").h.mean()


def _boot_ref(d: np.ndarray) -> tuple[float, float]:
    """scipy's percentile bootstrap of the mean at Hesterberg's expanded level."""
    n = len(d)
    tail = stats.norm.cdf(-np.sqrt(n / (n - 1)) * stats.t.ppf(0.975, n - 1))
    res = stats.bootstrap(
        (d,), np.mean, confidence_level=1 - 2 * tail, method="percentile",
        n_resamples=20_000, random_state=np.random.default_rng(0),
    )  # fmt: skip
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _stores(out: Path, data: dict) -> dict[str, dict[str, pd.DataFrame]]:
    return {d["label"]: _tables(out / d["dir"] / "results.duckdb") for d in data["deployments"]}


# --- report.json against the stores -------------------------------------------------------------


@pytest.mark.slow
def test_every_outcome_is_the_stores_summary(cmp):
    _, out, data, _ = cmp
    stores = _stores(out, data)
    assert data["labels"] == list(LABELS) and data["reference"] == LABELS[0]
    metrics = [r["metric"] for r in data["outcomes"]]
    for needed in ("leakers_per_run", "p_raid_defeated", "interceptors_spent_per_run",
                   "mean_warning_time_s", "p_kill[cruise]", "p_detected[cruise]",
                   "p_kill[ballistic]", "p_detected[ballistic]"):  # fmt: skip
        assert needed in metrics
    sj = {
        d["label"]: json.loads((out / d["dir"] / "summary.json").read_text())["metrics"]
        for d in data["deployments"]
    }
    for row in data["outcomes"]:
        for label in LABELS:
            # summary.json's figures exactly; the store's to its 12 significant digits
            assert row["values"][label] == sj[label][row["metric"]]
            summ = stores[label]["summary"].set_index("metric").loc[row["metric"]]
            got = row["values"][label]
            for f in ("value", "ci_low", "ci_high"):
                assert got[f] == pytest.approx(getattr(summ, f), rel=1e-11, abs=1e-12)
            assert got["n"] == summ.n
            # the per-run values behind the metric average to it (pooled = mean of shares)
            assert _per_run(stores[label], row["metric"]).mean() == pytest.approx(
                summ.value, rel=1e-12, abs=1e-12
            )


@pytest.mark.slow
def test_every_difference_is_the_paired_mean_with_its_bootstrap_interval(cmp):
    _, out, data, _ = cmp
    stores = _stores(out, data)
    a_label, b_label = LABELS
    assert data["difference_method"]["paired"] is True
    for row in data["outcomes"]:
        d = row["differences"][b_label]
        a = _per_run(stores[a_label], row["metric"])
        b = _per_run(stores[b_label], row["metric"])
        diff = (b - a).dropna().to_numpy(float)
        assert d["n"] == len(diff) == RUNS
        assert d["value"] == pytest.approx(diff.mean(), abs=1e-12)
        assert diff.min() - 1e-12 <= d["ci_low"] <= d["value"] <= d["ci_high"] <= diff.max() + 1e-12
        if np.ptp(diff) == 0:
            assert d["ci_low"] == d["ci_high"] == d["value"]
        else:
            lo, hi = _boot_ref(diff)
            half = max(hi - lo, 1e-9) / 2
            assert d["ci_low"] == pytest.approx(lo, abs=0.2 * half + 1e-9), row["metric"]
            assert d["ci_high"] == pytest.approx(hi, abs=0.2 * half + 1e-9), row["metric"]
        assert d["significant"] == (d["ci_low"] > 0 or d["ci_high"] < 0)


@pytest.mark.slow
def test_shots_not_taken_and_misses_are_counted_from_the_events(cmp):
    _, out, data, _ = cmp
    stores = _stores(out, data)
    for label in LABELS:
        ev, pt = stores[label]["events"], stores[label]["per_threat"]
        leaked = set(map(tuple, pt[pt.leaked.astype(bool)][["run_id", "threat"]].to_numpy()))
        for kind, key in (("no_engagement", "shots_not_taken"), ("miss", "missed_salvos")):
            sub = ev[ev.kind == kind].assign(reason=lambda f: f.reason.fillna(""))
            rows = {r["reason"]: r for r in data[key][label]}
            assert sum(r["events"] for r in rows.values()) == len(sub)
            for reason, g in sub.groupby("reason"):
                r = rows[reason or "chance (P_k)"]
                assert r["events"] == len(g)
                assert r["per_run"] == pytest.approx(len(g) / RUNS)
                assert r["runs_with"] == g.run_id.nunique()
                pairs = {(run, th) for run, th in g[["run_id", "threat"]].to_numpy()}
                assert r["leakers_per_run"] == pytest.approx(len(pairs & leaked) / RUNS)
                assert r["meaning"], reason  # every reason the engine gives is explained
    assert data["shots_not_taken"][LABELS[1]], "the tiny Patriot refuses shots at low cruise"


@pytest.mark.slow
def test_coverage_figures_are_the_coverage_files(cmp):
    _, out, data, _ = cmp
    cov = data["coverage"]
    assert cov["common_grid"] and cov["threat"] == "cruise-missile"
    assert cov["altitude_reference"] == "amsl" and not cov["terrain"]
    assert [a["altitude_m"] for a in cov["altitudes"]] == list(ALTITUDES)
    a_label, b_label = LABELS
    for alt in cov["altitudes"]:
        bands = {}
        for label in LABELS:
            entry = alt["deployments"][label]
            summ = json.loads((out / entry["summary_json"]).read_text())
            assert summ["altitude_m"] == alt["altitude_m"]
            for key in ("detection_area_km2", "engagement_area_km2", "detection_overlap_area_km2"):
                assert (
                    entry[key]
                    == summ["union"][key.replace("detection_overlap", "detection_overlap")]
                )
            assert entry["population_detection"] == summ["population_covered"]["detection"]
            assert entry["population_engagement"] == summ["population_covered"]["engagement"]
            assert entry["places_detected"] == sum(c["detected"] for c in summ["cities_covered"])
            with rasterio.open(out / entry["dir"] / "coverage.tif") as ds:
                names = list(ds.descriptions)
                bands[label] = {
                    k: ds.read(names.index(f"union {k}") + 1).astype(bool)
                    for k in ("detection", "engagement")
                }
                bands[label]["transform"] = ds.transform
                cell_km2 = abs(ds.transform.a * ds.transform.e) / 1e6
        # one grid for both deployments: the difference is cell by cell
        assert bands[a_label]["transform"] == bands[b_label]["transform"]
        d = alt["differences"][b_label]
        for k in ("detection", "engagement"):
            a, b = bands[a_label][k], bands[b_label][k]
            assert d[k]["reference_only_km2"] == pytest.approx(round((a & ~b).sum() * cell_km2, 1))
            assert d[k]["other_only_km2"] == pytest.approx(round((b & ~a).sum() * cell_km2, 1))
            assert d[k]["both_km2"] == pytest.approx(round((a & b).sum() * cell_km2, 1))
            # the union areas of the summaries are the same cells
            assert alt["deployments"][a_label][f"{k}_area_km2"] == pytest.approx(
                round(a.sum() * cell_km2, 1)
            )


@pytest.mark.slow
def test_catalog_appendix_lists_every_number_read_with_the_catalogs_alternatives(cmp):
    _, out, data, _ = cmp
    stores = _stores(out, data)
    rows = data["catalog"]
    for label in LABELS:
        cv = stores[label]["catalog_values"]
        assert len(cv) > 10
        for r in cv.itertuples(index=False):
            match = [
                c for c in rows
                if (c["item"], c["field"], c["value"], c["source"]) == (r.item, r.field, r.value, r.source)
            ]  # fmt: skip
            assert len(match) == 1 and label in match[0]["used_by"], (r.item, r.field)
            q = get_path(catalog.get(r.item, kind=r.kind), r.field)
            assert [a["value"] for a in match[0]["alternatives"]] == [
                a.value for a in q.alternatives
            ]
            assert match[0]["confidence"] == r.confidence and match[0]["unit"] == r.unit


@pytest.mark.slow
def test_decisive_numbers_are_those_of_the_runs_and_flag_their_source(cmp):
    rep, _, data, _ = cmp
    dec = data["decisive"]
    assert dec["skipped"] is None and len(dec["pairs"]) == 1
    rows = dec["pairs"][0]["rows"]
    jobs = {j.label: j.results for j in rep.jobs}
    again = decisive_parameters(jobs, outcome="leakers", k=3, seed=3)
    assert [(r["job"], r["parameter"]) for r in rows] == [(r["job"], r["parameter"]) for r in again]
    for r, s in zip(rows, again, strict=True):
        assert r["share"] == pytest.approx(s["share"])
        assert 0 <= r["share_low"] <= r["share"] <= r["share_high"] <= 1
        assert r["quality"] in ("unsourced estimate", "scenario override") or r[
            "quality"
        ].startswith("sourced (")


# --- the page ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Tags, attributes, numbers (``span.n``), images, paragraphs and <pre> texts of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.numbers: list[dict] = []
        self.styles: list[str] = []
        self.pres: list[str] = []
        self.summary: list[str] = []
        self._stack: list[str] = []
        self._span: dict | None = None
        self._pre: list[str] | None = None
        self._style: list[str] | None = None
        self._in_summary = 0
        self._para: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("style"):
            self.styles.append(a["style"] or "")
        if tag == "span" and "n" in (a.get("class") or "").split():
            self._span = {**a, "text": ""}
        if tag == "pre":
            self._pre = []
        if tag == "style":
            self._style = []
        if tag == "section" and a.get("id") == "summary":
            self._in_summary = 1
        elif tag == "section" and self._in_summary:
            self._in_summary += 1
        if tag in ("p", "li") and self._in_summary:
            self._para = []

    def handle_endtag(self, tag):
        if tag == "span" and self._span is not None:
            self.numbers.append(self._span)
            self._span = None
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None
        if tag == "style" and self._style is not None:
            self.styles.append("".join(self._style))
            self._style = None
        if tag in ("p", "li") and self._para is not None:
            self.summary.append("".join(self._para))
            self._para = None
        if tag == "section" and self._in_summary:
            self._in_summary -= 1

    def handle_data(self, data):
        for buf in (self._pre, self._style, self._para):
            if buf is not None:
                buf.append(data)
        if self._span is not None:
            self._span["text"] += data


def _page(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    p.close()
    return p


@pytest.mark.slow
def test_page_loads_nothing_from_outside_itself(cmp):
    _, _, data, html = cmp
    page = _page(html)
    tags = [t for t, _ in page.tags]
    for forbidden in ("link", "script", "iframe", "object", "embed", "base", "frame", "audio",
                      "video", "source", "track"):  # fmt: skip
        assert forbidden not in tags, forbidden
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            value = value or ""
            if name == "src":
                assert value.startswith(("data:image/png;base64,", "data:image/jpeg;base64,"))
            elif name == "href":
                assert value.startswith("#"), value
            elif name in ("srcset", "poster", "data", "action", "formaction", "background"):
                raise AssertionError(f"<{tag} {name}=...>")
            else:
                assert "://" not in value or name == "title", (tag, name, value[:80])
    for style in page.styles:
        assert "url(" not in style and "@import" not in style and "@font-face" not in style
    # the citations still name their sources: as text
    assert "https://" in unescape(re.sub(r"<[^>]+>", " ", html))
    # every figure is embedded, and each one is a picture
    imgs = [a["src"] for t, a in page.tags if t == "img"]
    assert len(imgs) == len(data["figures"]) >= 2 + 3 * len(ALTITUDES) + 2
    for src in imgs:
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as im:
            assert im.size[0] > 300 and im.size[1] > 150


def _parse_shown(text: str) -> tuple[float, int]:
    """A number as the page shows it -> (value, decimals shown)."""
    t = text.replace("\u2212", "-").replace(",", "").replace("+", "")
    t = re.sub(r"\s*(%|pp|km²|s)$", "", t.strip())
    decimals = len(t.split(".", 1)[1]) if "." in t else 0
    return float(t), decimals


@pytest.mark.slow
def test_every_number_on_the_page_is_in_report_json_as_shown(cmp):
    _, _, data, html = cmp
    page = _page(html)
    assert len(page.numbers) > 100
    keys = set()
    for n in page.numbers:
        key, raw, kind, text = n["data-key"], n["data-value"], n["data-kind"], n["text"]
        keys.add(key)
        value = resolve_pointer(data, key)
        if raw == "null":
            assert value is None and text == "\u2013"
            continue
        assert float(raw) == pytest.approx(value, rel=1e-15, abs=0), key
        shown, decimals = _parse_shown(text)
        scale = 100.0 if kind in ("probability", "pp", "share") else 1.0
        tol = 0.5 * 10.0 ** (-decimals) * (1 + 1e-9) + 1e-12
        if abs(value * scale) >= 1000 and kind != "value":
            tol = 0.5 + 1e-9
        assert abs(shown - value * scale) <= tol, (key, text, value)
    # every outcome, interval, difference and coverage figure of report.json is on the page
    for i, row in enumerate(data["outcomes"]):
        for label in LABELS:
            for f in ("value", "ci_low", "ci_high"):
                if row["values"][label][f] is not None:
                    assert f"/outcomes/{i}/values/{_esc(label)}/{f}" in keys
        for f in ("value", "ci_low", "ci_high"):
            assert f"/outcomes/{i}/differences/{_esc(LABELS[1])}/{f}" in keys
    for ai in range(len(data["coverage"]["altitudes"])):
        for label in LABELS:
            for f in ("detection_area_km2", "engagement_area_km2", "population_detection",
                      "population_engagement"):  # fmt: skip
                assert f"/coverage/altitudes/{ai}/deployments/{_esc(label)}/{f}" in keys
        for k in ("detection", "engagement"):
            for f in ("reference_only_km2", "other_only_km2", "both_km2"):
                assert f"/coverage/altitudes/{ai}/differences/{_esc(LABELS[1])}/{k}/{f}" in keys


def _esc(label: str) -> str:
    return label.replace("~", "~0").replace("/", "~1")


@pytest.mark.slow
def test_summary_scenarios_and_labels_are_on_the_page_escaped(cmp):
    _, _, data, html = cmp
    page = _page(html)
    shown = [" ".join(p.split()) for p in page.summary]
    for block in data["summary"]["text"].split("\n\n"):
        lines = block.split("\n- ") if block.startswith("- ") else [block]
        for line in lines:  # a paragraph, or the items of a list
            assert " ".join(line.removeprefix("- ").split()) in shown
    assert len(shown) == sum(
        len(b["list"]) if "list" in b else 1 for b in data["summary"]["blocks"]
    )
    # the summary says who leaks fewer, by how much, with the test
    text = data["summary"]["text"]
    assert "let through fewer threats than" in text and "95 % interval" in text
    assert "significant at the 5 % level" in text
    for label in LABELS:
        assert data["scenarios"][label] in page.pres  # the YAML as written, unescaped back
        assert label not in html  # HTML-special characters are escaped...
        assert label in unescape(html)  # ...and read back as written
    assert "Illustrative." in html


# --- the parts, without simulating ----------------------------------------------------------------


@pytest.mark.slow
def test_a_deployment_against_itself_differs_by_exactly_zero(cmp):
    rep, out, _, _ = cmp
    job = rep.jobs[0]
    twin = [CompareJob("A", job.scenario, job.results, job.dir),
            CompareJob("B", job.scenario, job.results, job.dir)]  # fmt: skip
    cons = {"A": open_store(job.dir), "B": open_store(job.dir)}
    try:
        rows = outcome_rows(twin, cons, paired=True)
    finally:
        for c in cons.values():
            c.close()
    for r in rows:
        d = r["differences"]["B"]
        assert (d["value"], d["ci_low"], d["ci_high"]) == (0.0, 0.0, 0.0), r["metric"]
        assert not d["significant"] and d["favours"] is None


@pytest.mark.slow
def test_per_run_values_average_to_the_summary(cmp):
    rep, _, _, _ = cmp
    con = open_store(rep.jobs[1].dir)
    try:
        summary = con.execute("SELECT metric, value FROM summary").df().set_index("metric").value
        for metric in ("leakers_per_run", "p_raid_defeated", "p_kill[cruise]",
                       "p_detected[ballistic]", "mean_warning_time_s", "undetected_per_run"):  # fmt: skip
            s = per_run_values(con, metric)
            assert len(s) == RUNS and s.index.is_monotonic_increasing
            assert s.mean() == pytest.approx(summary[metric], rel=1e-12, abs=1e-12)
        with pytest.raises(KeyError):
            per_run_values(con, "runs")
    finally:
        con.close()


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(4)
    a, b = pd.Series(rng.normal(2, 1, 30)), pd.Series(rng.normal(2.6, 2, 45))
    d = welch_difference(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert d.value == pytest.approx(b.mean() - a.mean())
    assert (d.ci_low, d.ci_high) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert not d.paired and d.significant == (ref.low > 0 or ref.high < 0)


def test_paired_difference_pairs_by_run_and_ignores_unmatched_runs():
    a = pd.Series([1.0, 2.0, 3.0, 9.0], index=[0, 1, 2, 3])
    b = pd.Series([2.0, 3.0, 4.0], index=[2, 1, 0])  # run 3 missing, another order
    d = paired_difference(a, b)
    assert d.n == 3 and d.paired
    assert d.value == pytest.approx(((4 - 1) + (3 - 2) + (2 - 3)) / 3)
    same = paired_difference(a, a + 0.5)
    assert (same.value, same.ci_low, same.ci_high) == (0.5, 0.5, 0.5) and same.significant


@pytest.mark.parametrize(
    "value, kind, signed, shown",
    [
        (5.04, "count", False, "5.04"),
        (19.83, "count", False, "19.8"),
        (-2.2345, "count", True, "\u22122.23"),
        (2.2345, "count", True, "+2.23"),
        (0.0, "count", True, "0"),
        (12345.6, "count", False, "12,346"),
        (0.8271, "probability", False, "82.7 %"),
        (-0.22, "pp", True, "\u221222 pp"),
        (97.64, "time", False, "97.6 s"),
        (123456.4, "area", False, "123,456 km²"),
        (3517182, "population", False, "3,517,182"),
        (1.3333, "value", False, "1.3333"),
        (None, "count", False, "\u2013"),
        (float("nan"), "count", False, "\u2013"),
    ],
)
def test_format_number(value, kind, signed, shown):
    assert format_number(value, kind, signed) == shown


def test_labels_and_altitudes_are_checked_naming_the_option():
    files = ["a/x.yaml", "b/y.yaml"]
    assert check_labels(None, files) == ["x", "y"]
    assert check_labels([" S-400 ", "Patriot"], files) == ["S-400", "Patriot"]
    for labels, why in (
        (["one"], "1 label(s) for 2 scenarios"),
        (["A", ""], "empty"),
        (["Patriot", "patriot"], "name two deployments alike"),
        (["S 400", "S-400"], "name two deployments alike"),
    ):
        with pytest.raises(InputError, match=re.escape(why)) as exc:
            check_labels(labels, files)
        assert exc.value.params == ("labels",)
    with pytest.raises(InputError, match="name two deployments alike"):
        check_labels(None, ["a/x.yaml", "b/x.yaml"])  # the same file name: give --labels
    assert parse_altitudes("100, 1000,10000") == [100.0, 1000.0, 10000.0]
    for bad in ("100,abc", "100,,1000", "-1000", "100,100", "inf", ""):
        with pytest.raises(InputError) as exc:
            parse_altitudes(bad)
        assert exc.value.params == ("altitudes_m",)
    assert label_slug("S-400 standalone") == "s-400-standalone"
    assert slugs_for(["Зенит", "figures", "Ж"]) == [
        "deployment-1",
        "figures-deployment",
        "deployment-3",
    ]


def test_crop_keeps_every_covered_cell_and_shares_one_window():
    from iadsim.coverage import compute_coverage_multi
    from iadsim.scenario import scenario_from_dict

    scn = scenario_from_dict({
        "name": "two sites", "sites": [
            {"id": "a", "system": "patriot", "lat": 39.9, "lon": 32.9},
            {"id": "b", "system": "patriot", "lat": 39.9, "lon": 36.0}],
    })  # fmt: skip
    # the grid holds the reach at 10 km; the coverage at 100 m is a small part of it
    res = compute_coverage_multi(scn, [100.0, 10000.0], resolution_km=5.0)[0]
    cut = crop_to_coverage({"x": res, "y": res})
    assert cut["x"].grid == cut["y"].grid
    assert cut["x"].grid.nrows * cut["x"].grid.ncols < res.grid.nrows * res.grid.ncols
    for kind in ("union_detection", "union_engagement"):
        assert getattr(cut["x"], kind).sum() == getattr(res, kind).sum()
    assert cut["x"].summary(countries=False)["union"] == res.summary(countries=False)["union"]


# --- the command line: one-line errors before any work -------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["{a}"], "compare needs two or more scenario files"),
        (["{a}", "{b}", "--labels", "only-one"], "--labels: 1 label(s) for 2 scenarios"),
        (["{a}", "{b}", "--labels", "X,x"], "--labels: 'X' and 'x' name two deployments alike"),
        (["{a}", "{b}", "--altitudes-m", "100,abc"], "--altitudes-m: 'abc' is not a number"),
        (["{a}", "{b}", "--altitudes-m", "100,-900"], "--altitudes-m must be between"),
        (["{a}", "{b}", "--runs", "0"], "--runs must be >= 1"),
        (["{a}", "{b}", "--dem", "{tmp}/none.tif"], "--dem"),
        (["{a}", "{tmp}/missing.yaml"], "missing.yaml: scenario file not found"),
        (
            ["{a}", "{b}", "--threat", "nope"],
            "--threat 'nope' is not in the catalog; known threats: cruise-missile",
        ),
    ],
)
def test_cli_errors_are_one_line_naming_the_option(iadsim_cli, tmp_path, args, message):
    a = _write(tmp_path, "a.yaml", S400 + RAID)
    b = _write(tmp_path, "b.yaml", PATRIOT + RAID)
    argv = [x.format(a=a, b=b, tmp=tmp_path) for x in args]
    code, out, err = iadsim_cli("compare", *argv, "--out", tmp_path / "out")
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "out" / "report.html").exists()


def test_cli_refuses_an_out_that_is_a_file(iadsim_cli, tmp_path):
    a = _write(tmp_path, "a.yaml", S400 + RAID)
    b = _write(tmp_path, "b.yaml", PATRIOT + RAID)
    (tmp_path / "f").write_text("x")
    code, _, err = iadsim_cli("compare", a, b, "--out", tmp_path / "f")
    assert code == 2 and err.startswith("error: --out") and "is a file" in err


@pytest.mark.slow
def test_different_raids_are_said_prominently(tmp_path, iadsim_cli):
    a = _write(tmp_path, "a.yaml", S400 + RAID)
    b = _write(tmp_path, "b.yaml", PATRIOT + RAID.replace("count: 3", "count: 5"))
    code, out, err = iadsim_cli(
        "compare", a, b, "--runs", 3, "--workers", 1, "--altitudes-m", "1000",
        "--resolution-km", 10, "--out", tmp_path / "out",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["same_raid"] is False
    assert any("raid(s) cm differ" in line for line in data["raid_differences"])
    assert "different raids" in data["summary"]["text"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert '<div class="alert"><strong>The raids differ.</strong>' in html
    assert "report.html" in out and (tmp_path / "out" / "a" / "results.duckdb").is_file()
    assert math.isfinite(data["outcomes"][0]["values"]["a"]["value"])
