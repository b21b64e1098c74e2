/* iadsim workbench: plain JavaScript on the HTTP API of `iadsim serve` (OpenAPI at /docs).
 *
 * One map (MapLibre GL JS, vendored) with an offline basemap from the API's Natural Earth
 * countries and GeoNames cities, the scenario's sites (draggable markers) and sector wedges,
 * coverage polygons (detection, engagement, overlap) and a run's replay. The side panel drives
 * it: scenario (example, upload, YAML, site form), coverage (altitude, terrain, layers, areas and
 * cities), Monte Carlo job (live progress over Server-Sent Events, cancel, outcome charts),
 * replay (time slider, play/pause), compare (the report) and downloads.
 *
 * `window.iadsim` exposes the state the browser tests read (e.g. `lastRedrawMs`: the time from
 * an altitude change to the redrawn map).
 */
"use strict";

const ALTITUDES_M = [10, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 7500, 10000, 15000,
  20000, 30000];
const COLOURS = {
  detection: "rgb(37, 99, 235)",
  engagement: "rgb(220, 38, 38)",
  overlap: "rgb(250, 204, 21)",
  threat: "#f97316",
  interceptor: "#0ea5e9",
};
const EVENT_COLOURS = [
  "match", ["get", "kind"],
  "detection_start", "#a855f7",
  "track_start", "#c084fc",
  "launch", "#0ea5e9",
  "intercept", "#16a34a",
  "miss", "#f59e0b",
  "leak", "#dc2626",
  "no_engagement", "#6b7280",
  "#334155",
];
const EVENT_LABELS = {
  detection_start: "first detection", track_start: "track", launch: "launch",
  intercept: "intercept", miss: "miss", leak: "leak", unresolved: "unresolved",
  no_engagement: "shot not taken",
};
const TERRAIN_ON = "on: the scenario's DEM masks line of sight; altitude above ground";
const TERRAIN_OFF = "off: smooth 4/3 Earth, altitude above sea level";
const FINAL_STATES = new Set(["done", "failed", "cancelled"]);

const $ = (id) => document.getElementById(id);
const fmt = (x, digits = 0) => (x === null || x === undefined || Number.isNaN(x)) ? "–"
  : Number(x).toLocaleString("en-GB",
    {maximumFractionDigits: digits, minimumFractionDigits: digits});

const state = {
  scenario: null,          // the API's scenario response
  examples: [],
  systems: null,           // catalog systems for the site form (null: free text)
  coverage: null,          // last coverage response
  coverageSeq: 0,          // request counter: only the latest response is drawn
  coverageAbort: null,
  lastRedrawMs: null,
  redraws: [],             // {altitude_m, terrain, ms}
  job: null,               // {job_id, state}
  compareJob: null,
  replay: null,
  playing: false,
  markers: [],
  loaded: [],              // {id, name} of the scenarios stored from this page (compare list)
  mapReady: false,
  errors: [],
};
window.iadsim = state;

/* ---------- HTTP ---------- */

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.field = body ? body.field : null;
    this.line = body ? body.line : null;
  }
}

async function api(path, options = {}) {
  const opts = {...options};
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers = {...(opts.headers || {}), "Content-Type": "application/json"};
    delete opts.json;
  }
  const r = await fetch(path, opts);
  const type = r.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    throw new ApiError(r.status, typeof body === "object" ? body : {error: String(body).trim()});
  }
  return body;
}

function showError(id, err) {
  const el = $(id);
  if (!err) { el.hidden = true; el.textContent = ""; return; }
  el.hidden = false;
  el.textContent = err.message || String(err);
}

/* ---------- map ---------- */

const empty = () => ({type: "FeatureCollection", features: []});

const map = new maplibregl.Map({
  container: "map",
  style: {
    version: 8,
    sources: {
      countries: {type: "geojson", data: empty()},
      cities: {type: "geojson", data: empty()},
      // union and overlap fills; per-site outlines in their own source (less to re-tile)
      coverage: {type: "geojson", data: empty(), tolerance: 1},
      "coverage-sites": {type: "geojson", data: empty(), tolerance: 1},
      scenario: {type: "geojson", data: empty()},
      replay: {type: "geojson", data: empty()},
    },
    layers: [
      {id: "sea", type: "background", paint: {"background-color": "rgb(207, 226, 243)"}},
      {id: "countries-fill", type: "fill", source: "countries",
        paint: {"fill-color": "rgb(244, 241, 234)"}},
      {id: "countries-line", type: "line", source: "countries",
        paint: {"line-color": "rgb(150, 150, 150)", "line-width": 0.7}},
      {id: "coverage-detection", type: "fill", source: "coverage",
        filter: ["all", ["==", ["get", "kind"], "detection"], ["==", ["get", "site"], "union"]],
        paint: {"fill-color": COLOURS.detection, "fill-opacity": 0.35}},
      {id: "coverage-engagement", type: "fill", source: "coverage",
        filter: ["all", ["==", ["get", "kind"], "engagement"], ["==", ["get", "site"], "union"]],
        paint: {"fill-color": COLOURS.engagement, "fill-opacity": 0.45}},
      {id: "coverage-overlap", type: "fill", source: "coverage",
        filter: ["==", ["get", "site"], "overlap"], layout: {visibility: "none"},
        paint: {"fill-color": COLOURS.overlap, "fill-opacity": 0.6}},
      {id: "coverage-sites-line", type: "line", source: "coverage-sites",
        paint: {"line-color": COLOURS.detection, "line-width": 0.8, "line-opacity": 0.7}},
      {id: "assets-fill", type: "fill", source: "scenario",
        filter: ["==", ["get", "layer"], "asset"],
        paint: {"fill-color": "rgb(22, 101, 52)", "fill-opacity": 0.5}},
      {id: "sectors-fill", type: "fill", source: "scenario",
        filter: ["==", ["get", "layer"], "sector"],
        paint: {"fill-color": "rgb(30, 41, 59)", "fill-opacity": 0.06}},
      {id: "sectors-line", type: "line", source: "scenario",
        filter: ["==", ["get", "layer"], "sector"],
        paint: {"line-color": "rgb(30, 41, 59)", "line-width": 1.2, "line-dasharray": [3, 2]}},
      {id: "cities-dot", type: "circle", source: "cities",
        paint: {"circle-radius": 2.5, "circle-color": "#222", "circle-stroke-color": "#fff",
          "circle-stroke-width": 0.8}},
      // no `glyphs` in the style: MapLibre draws the labels locally with the browser's fonts
      {id: "cities-label", type: "symbol", source: "cities",
        layout: {"text-field": ["get", "name"], "text-size": 11, "text-offset": [0, 0.9],
          "text-anchor": "top", "text-font": ["sans-serif"],
          "symbol-sort-key": ["-", 0, ["coalesce", ["get", "population"], 0]]},
        paint: {"text-color": "#333", "text-halo-color": "#fff", "text-halo-width": 1.2}},
      {id: "replay-tracks", type: "line", source: "replay",
        filter: ["==", ["get", "role"], "track"],
        paint: {"line-color": ["match", ["get", "kind"], "interceptor", COLOURS.interceptor,
          COLOURS.threat], "line-width": ["match", ["get", "kind"], "interceptor", 1.5, 2]}},
      {id: "replay-heads", type: "circle", source: "replay",
        filter: ["==", ["get", "role"], "head"],
        paint: {"circle-radius": ["match", ["get", "kind"], "interceptor", 3, 5],
          "circle-color": ["match", ["get", "kind"], "interceptor", COLOURS.interceptor,
            COLOURS.threat], "circle-stroke-color": "#fff", "circle-stroke-width": 1}},
      {id: "replay-events", type: "circle", source: "replay",
        filter: ["==", ["get", "role"], "event"],
        paint: {"circle-radius": ["match", ["get", "kind"], ["no_engagement", "track_start"], 3.5,
          6], "circle-color": EVENT_COLOURS,
          "circle-stroke-color": "#fff", "circle-stroke-width": 1.2}},
    ],
  },
  center: [33, 39.5],
  zoom: 5,
  fadeDuration: 0,  // labels appear at once: the map is idle as soon as a layer is redrawn
  attributionControl: {customAttribution: "Natural Earth, GeoNames"},
});
map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
map.addControl(new maplibregl.ScaleControl({unit: "metric"}), "bottom-left");
map.on("error", (e) => state.errors.push(String((e.error && e.error.message) || e)));

const mapLoaded = new Promise((resolve) => map.on("load", resolve));
const idle = () => new Promise((resolve) => map.once("idle", resolve));

async function loadBasemap() {
  await mapLoaded;
  const [countries, cities] = await Promise.all([
    api("api/basemap/countries"),
    api("api/basemap/cities?min_population=100000"),
  ]);
  map.getSource("countries").setData(countries);
  map.getSource("cities").setData(cities);
  await idle();
  state.mapReady = true;
}

function setMapStatus(text) { $("map-status").textContent = text || ""; }

/* ---------- scenario ---------- */

async function loadExamples() {
  state.examples = await api("api/examples");
  $("example-select").replaceChildren(...state.examples.map((e) => {
    const o = document.createElement("option");
    o.value = e.id; o.textContent = `${e.name} (${e.kind})`; o.title = e.description || "";
    return o;
  }));
  renderCompareOptions();
  pickCompareDefault(null);
}

/** The compare default: a raid example other than the one loaded. */
function pickCompareDefault(loadedId) {
  const other = state.examples.find((e) => e.kind === "raid" && e.id !== loadedId);
  if (other) $("compare-select").value = `example:${other.id}`;
}

async function loadSystems() {
  try { state.systems = await api("api/catalog/systems"); } catch (e) { state.systems = null; }
}

async function exampleYaml(id) {
  return (await api(`api/examples/${encodeURIComponent(id)}`)).yaml;
}

async function postScenario(body) {
  return api("api/scenarios", {method: "POST", json: body});
}

/** The compare list: the bundled examples, then the scenarios loaded in this page. */
function renderCompareOptions() {
  const sel = $("compare-select");
  const keep = sel.value;
  const group = (label, items) => {
    const g = document.createElement("optgroup");
    g.label = label;
    g.append(...items.map(([value, text]) => {
      const o = document.createElement("option");
      o.value = value; o.textContent = text;
      return o;
    }));
    return g;
  };
  const groups = [group("bundled examples",
    state.examples.map((e) => [`example:${e.id}`, `${e.name} (${e.kind})`]))];
  const mine = state.loaded.filter((x) => !state.scenario || x.id !== state.scenario.scenario_id);
  if (mine.length) {
    groups.push(group("loaded in this page", mine.map((x) => [`scenario:${x.id}`, x.name])));
  }
  sel.replaceChildren(...groups);
  if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
}

async function setScenario(sc) {
  state.scenario = sc;
  if (!state.loaded.some((x) => x.id === sc.scenario_id)) {
    state.loaded.push({id: sc.scenario_id, name: sc.name || sc.scenario_id});
  } else {
    state.loaded.find((x) => x.id === sc.scenario_id).name = sc.name || sc.scenario_id;
  }
  renderCompareOptions();
  state.coverage = null;
  state.replay = null;
  clearScenarioErrors();
  $("scenario-name").textContent = sc.name || sc.scenario_id;
  $("yaml-editor").value = sc.yaml || "";
  map.getSource("scenario").setData(sc.geojson || empty());
  renderSiteForm(sc.sites || []);
  renderSiteMarkers(sc.sites || []);
  fitToSites(sc.sites || []);
  state.fitPending = true;
  $("terrain").disabled = sc.has_dem === false;
  if (sc.has_dem === false) $("terrain").checked = false;
  $("terrain-hint").textContent = sc.has_dem === false ? "no DEM in this scenario: smooth 4/3 Earth"
    : $("terrain").checked ? TERRAIN_ON : TERRAIN_OFF;
  updateAltitudeLabel();
  const hasRaids = (sc.raids || []).length > 0;
  $("run-start").disabled = !hasRaids;
  $("compare-start").disabled = !hasRaids;
  $("run-state").textContent = hasRaids ? "" : "no raids in this scenario: coverage only";
  $("replay-load").disabled = true;
  map.getSource("replay").setData(empty());
  dimCoverage(false);
  renderDownloads();
  await refreshCoverage();
}

function clearScenarioErrors() {
  showError("scenario-error", null);
  showError("yaml-error", null);
  document.querySelectorAll(".field-error").forEach((e) => e.remove());
  document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
}

/** Shows a scenario error: the one line in the scenario box, and next to the form field or the
 * YAML line it names. */
function showScenarioError(err) {
  clearScenarioErrors();
  showError("scenario-error", err);
  if (err.field) {
    const input = document.querySelector(`[data-field="${CSS.escape(err.field)}"]`);
    if (input) {
      input.classList.add("invalid");
      const msg = document.createElement("div");
      msg.className = "field-error";
      msg.textContent = err.message;
      input.closest(".grid").append(msg);
      input.focus();
    }
  }
  if (err.line) {
    $("yaml-details").open = true;
    showError("yaml-error", {message: `line ${err.line}: ${err.message}`});
    selectLine($("yaml-editor"), err.line);
  }
}

function selectLine(textarea, line) {
  const lines = textarea.value.split("\n");
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  const end = start + (lines[line - 1] || "").length;
  textarea.setSelectionRange(start, end);
  const lineHeight = textarea.scrollHeight / Math.max(lines.length, 1);
  textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
}

async function withScenario(promise) {
  setMapStatus("loading scenario…");
  try {
    const sc = await promise;
    await setScenario(sc);
  } catch (err) {
    showScenarioError(err);
  } finally {
    setMapStatus("");
  }
}

function fitToSites(sites) {
  if (!sites.length) return;
  const b = new maplibregl.LngLatBounds();
  for (const s of sites) b.extend([s.lon, s.lat]);
  map.fitBounds(b, {padding: 140, maxZoom: 7, duration: 0});
}

/* ---------- site form and markers ---------- */

const SITE_FIELDS = [
  ["system", "system", "text"], ["network", "network", "text"],
  ["lat", "lat", "number"], ["lon", "lon", "number"],
  ["antenna_height_m", "antenna m", "number"], ["heading_deg", "heading °", "number"],
];

function renderSiteForm(sites) {
  const form = $("site-form");
  form.replaceChildren();
  sites.forEach((s, i) => {
    const box = document.createElement("div");
    box.className = "site";
    box.dataset.index = i;
    const title = document.createElement("div");
    title.className = "sid";
    title.textContent = s.id;
    const grid = document.createElement("div");
    grid.className = "grid";
    for (const [key, label, type] of SITE_FIELDS) {
      const l = document.createElement("label");
      l.textContent = label;
      let input;
      if (key === "system" && state.systems) {
        input = document.createElement("select");
        const ids = state.systems.map((x) => x.id);
        if (!ids.includes(s.system)) ids.unshift(s.system);
        for (const id of ids) {
          const o = document.createElement("option");
          const sys = state.systems.find((x) => x.id === id);
          o.value = id; o.textContent = sys && sys.name ? `${id} (${sys.name})` : id;
          input.append(o);
        }
      } else {
        input = document.createElement("input");
        input.type = type;
        if (type === "number") input.step = "any";
      }
      const v = s[key];
      input.value = v === null || v === undefined ? "" : v;
      input.name = key;
      input.dataset.field = `sites[${i}].${key}`;
      input.id = `site-${i}-${key}`;
      l.htmlFor = input.id;
      input.addEventListener("input", () => { $("sites-apply").disabled = false; });
      grid.append(l, input);
    }
    box.append(title, grid);
    form.append(box);
  });
  $("sites-apply").disabled = true;
}

function formSites() {
  const sites = structuredClone(state.scenario.sites);
  document.querySelectorAll("#site-form .site").forEach((box) => {
    const s = sites[Number(box.dataset.index)];
    for (const [key, , type] of SITE_FIELDS) {
      const raw = box.querySelector(`[name="${key}"]`).value.trim();
      if (raw === "") { delete s[key]; continue; }
      s[key] = type === "number" ? Number(raw) : raw;
    }
  });
  return sites;
}

async function putSites(sites) {
  const id = state.scenario.scenario_id;
  await withScenario(api(`api/scenarios/${id}`, {method: "PUT", json: {sites}}));
}

function renderSiteMarkers(sites) {
  state.markers.forEach((m) => m.remove());
  state.markers = sites.map((s, i) => {
    const el = document.createElement("div");
    el.className = "site-marker";
    el.title = `${s.id}: ${s.system} (drag to move)`;
    const pin = document.createElement("span");
    pin.className = "pin";
    const label = document.createElement("span");
    label.textContent = s.id;
    el.append(pin, label);
    const m = new maplibregl.Marker({element: el, draggable: true, anchor: "left",
      offset: [-7, 0]})
      .setLngLat([s.lon, s.lat]).addTo(map);
    m.on("dragend", () => {
      const p = m.getLngLat();
      const moved = formSites();
      moved[i].lat = Math.round(p.lat * 1e4) / 1e4;
      moved[i].lon = Math.round(p.lng * 1e4) / 1e4;
      putSites(moved);
    });
    return m;
  });
}

/* ---------- coverage ---------- */

function altitudeM() { return ALTITUDES_M[Number($("altitude").value)]; }

function updateAltitudeLabel() {
  const ref = $("terrain").checked ? "AGL" : "AMSL";
  $("altitude-label").textContent = `${fmt(altitudeM())} m ${ref}`;
}

/** Fetches the coverage at the slider's altitude and redraws it; records the time from the
 * change to the map's next idle frame in `state.lastRedrawMs`. Only the latest request draws. */
async function refreshCoverage() {
  if (!state.scenario) return;
  const seq = ++state.coverageSeq;
  if (state.coverageAbort) state.coverageAbort.abort();
  state.coverageAbort = new AbortController();
  const t0 = performance.now();
  const altitude = altitudeM();
  const terrain = $("terrain").checked;
  $("coverage-status").textContent = `computing ${fmt(altitude)} m…`;
  try {
    const q = `altitude_m=${altitude}&terrain=${terrain}&agl=${terrain}`;
    const cov = await api(`api/scenarios/${state.scenario.scenario_id}/coverage?${q}`,
      {signal: state.coverageAbort.signal});
    if (seq !== state.coverageSeq) return;
    const fetchMs = performance.now() - t0;
    showError("coverage-error", null);
    state.coverage = cov;
    const feats = cov.geojson.features;
    const shared = (f) => f.properties.site === "union" || f.properties.site === "overlap";
    map.getSource("coverage").setData({type: "FeatureCollection", features: feats.filter(shared)});
    map.getSource("coverage-sites").setData({type: "FeatureCollection",
      features: feats.filter((f) => !shared(f) && f.properties.kind === "detection")});
    renderCoverageSummary(cov.summary, altitude, terrain);
    if (state.fitPending) {
      // a new scenario: show its whole detection coverage once
      state.fitPending = false;
      const bounds = featureBounds(feats.filter((f) => f.properties.site === "union"));
      if (bounds) map.fitBounds(bounds, {padding: 30, maxZoom: 8, duration: 0});
    }
    await idle();
    if (seq !== state.coverageSeq) return;
    const ms = performance.now() - t0;
    state.lastRedrawMs = ms;
    state.redraws.push({altitude_m: altitude, terrain, ms, fetch_ms: fetchMs});
    $("coverage-status").textContent = `${fmt(altitude)} m ${terrain ? "AGL over terrain"
      : "AMSL, smooth 4/3 Earth"}: drawn in ${fmt(ms)} ms`;
  } catch (err) {
    if (err.name === "AbortError") return;
    if (seq !== state.coverageSeq) return;
    $("coverage-status").textContent = "";
    showError("coverage-error", err);
  }
}

function featureBounds(features) {
  const b = new maplibregl.LngLatBounds();
  let any = false;
  const walk = (c) => {
    if (typeof c[0] === "number") { b.extend(c); any = true; } else c.forEach(walk);
  };
  features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
  return any ? b : null;
}

function renderCoverageSummary(sum, altitude, terrain) {
  const u = sum.union || {};
  const pop = sum.population_covered || {};
  const rows = [
    ["Detection area", `${fmt(u.detection_area_km2)} km²`],
    ["Engagement area", `${fmt(u.engagement_area_km2)} km²`],
    ["Detection overlap (≥ 2 sites)", `${fmt(u.detection_overlap_area_km2)} km²`],
    ["Engagement overlap (≥ 2 sites)", `${fmt(u.engagement_overlap_area_km2)} km²`],
    ["Population detected", fmt(pop.detection)],
    ["Population engageable", fmt(pop.engagement)],
  ];
  for (const s of sum.sites || []) {
    rows.push([`${s.id} (${s.system})`,
      `${fmt(s.detection_area_km2)} / ${fmt(s.engagement_area_km2)} km²`]);
  }
  $("coverage-summary").replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement("tr");
    const a = document.createElement("td"); a.textContent = k;
    const b = document.createElement("td"); b.className = "num"; b.textContent = v;
    tr.append(a, b);
    return tr;
  }));
  $("coverage-summary").dataset.detectionKm2 = u.detection_area_km2;
  $("coverage-summary").dataset.engagementKm2 = u.engagement_area_km2;
  const cities = sum.cities_covered || [];
  $("cities-count").textContent = `(${cities.length})`;
  $("cities-list").replaceChildren(...cities.slice(0, 200).map((c) => {
    const li = document.createElement("li");
    const how = c.engaged ? "engageable" : "detected";
    li.textContent = `${c.name}, ${c.country}: ${fmt(c.population)} (${how})`;
    return li;
  }));
}

function applyLayerToggles() {
  for (const kind of ["detection", "engagement", "overlap"]) {
    const on = $(`show-${kind}`).checked;
    if (map.getLayer(`coverage-${kind}`)) {
      map.setLayoutProperty(`coverage-${kind}`, "visibility", on ? "visible" : "none");
    }
  }
  map.setLayoutProperty("coverage-sites-line", "visibility",
    $("show-detection").checked ? "visible" : "none");
}

/* ---------- jobs ---------- */

/** Follows a job's progress over Server-Sent Events until it ends; polls if the stream drops. */
function followJob(jobId, onProgress) {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (st) => { if (!finished) { finished = true; resolve(st); } };
    const es = new EventSource(`api/jobs/${jobId}/progress`);
    es.addEventListener("progress", (e) => {
      const p = JSON.parse(e.data);
      onProgress(p);
      if (FINAL_STATES.has(p.state)) { es.close(); finish(p); }
    });
    es.onerror = async () => {
      es.close();
      // the stream ended without a final event: ask for the state until the job ends
      while (!finished) {
        const j = await api(`api/jobs/${jobId}`).catch(() => null);
        if (j) {
          const p = {...(j.progress || {}), state: j.state, error: j.error};
          onProgress(p);
          if (FINAL_STATES.has(j.state)) { finish(p); break; }
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
  });
}

function progressText(p) {
  const n = p.total ? ` ${p.done ?? 0} / ${p.total}` : "";
  const stage = p.stage && p.state === "running" ? ` (${p.stage})` : "";
  return `${p.state}${n}${stage}`;
}

async function startRun() {
  showError("run-error", null);
  const runs = Number($("runs").value);
  const seed = Number($("seed").value);
  $("run-start").disabled = true;
  $("replay-load").disabled = true;
  $("charts").replaceChildren();
  try {
    const job = await api("api/jobs", {method: "POST",
      json: {kind: "run", scenario_id: state.scenario.scenario_id, runs, seed}});
    state.job = {job_id: job.job_id, state: "queued"};
    $("run-cancel").disabled = false;
    $("run-state").textContent = "queued";
    const final = await followJob(job.job_id, (p) => {
      state.job.state = p.state;
      $("run-state").textContent = progressText(p);
      if (p.total) { $("run-progress").max = p.total; $("run-progress").value = p.done || 0; }
    });
    $("run-cancel").disabled = true;
    if (final.state === "done") {
      $("run-progress").value = $("run-progress").max;
      const summary = await api(`api/jobs/${job.job_id}/summary`);
      renderCharts(summary);
      $("replay-run").max = runs - 1;
      $("replay-load").disabled = false;
      renderDownloads();
      await loadReplay();
    } else if (final.state === "failed") {
      showError("run-error", {message: final.error || "the job failed"});
    }
  } catch (err) {
    showError("run-error", err);
  } finally {
    $("run-start").disabled = false;
  }
}

async function cancelJob(job) {
  if (!job) return;
  try { await api(`api/jobs/${job.job_id}/cancel`, {method: "POST"}); } catch (err) {
    showError("run-error", err);
  }
}

/* ---------- charts (SVG bars with 95 % intervals) ---------- */

const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One horizontal bar chart: rows of [label, {value, ci_low, ci_high}], on [0, max]. */
function barChart(title, rows, {max = null, digits = 2, unit = ""} = {}) {
  const div = document.createElement("div");
  div.className = "chart";
  const h = document.createElement("h3");
  h.textContent = title;
  div.append(h);
  const top = max ?? Math.max(1e-9, ...rows.map(([, m]) => m.ci_high ?? m.value));
  const labelW = 130, barW = 170, rowH = 18, W = labelW + barW + 60;
  const svg = svgEl("svg", {width: W, height: rows.length * rowH + 4, role: "img",
    "aria-label": title});
  rows.forEach(([label, m], i) => {
    const y = i * rowH + 2;
    const x = (v) => labelW + (barW * Math.max(0, v)) / top;
    svg.append(svgEl("text", {x: 0, y: y + 12}, label));
    svg.append(svgEl("rect", {x: labelW, y: y + 2, width: Math.max(1, x(m.value) - labelW),
      height: rowH - 6, fill: "rgb(100, 116, 139)"}));
    if (m.ci_low !== null && m.ci_high !== null && m.ci_low !== undefined) {
      const yc = y + rowH / 2 - 1;
      svg.append(svgEl("line", {x1: x(m.ci_low), x2: x(m.ci_high), y1: yc, y2: yc,
        stroke: "#111", "stroke-width": 1.5}));
      for (const v of [m.ci_low, m.ci_high]) {
        svg.append(svgEl("line", {x1: x(v), x2: x(v), y1: yc - 4, y2: yc + 4, stroke: "#111",
          "stroke-width": 1.5}));
      }
    }
    svg.append(svgEl("text", {x: labelW + barW + 6, y: y + 12}, `${fmt(m.value, digits)}${unit}`));
    const tip = svgEl("title", {},
      `${label}: ${fmt(m.value, digits)} ` +
      `(95 % interval ${fmt(m.ci_low, digits)}–${fmt(m.ci_high, digits)})`);
    svg.lastChild.append(tip);
  });
  div.append(svg);
  return div;
}

function renderCharts(summary) {
  const m = summary.metrics || {};
  const pick = (prefix) => Object.entries(m).filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => [k.slice(prefix.length, -1), v]);
  const charts = [];
  const per = [["leakers", m.leakers_per_run], ["interceptors spent", m.interceptors_spent_per_run],
    ["undetected", m.undetected_per_run]].filter(([, v]) => v);
  if (per.length) charts.push(barChart("Per run (mean, 95 % interval)", per, {digits: 2}));
  const probs = [];
  if (m.p_raid_defeated) probs.push(["raid defeated", m.p_raid_defeated]);
  for (const [k, v] of pick("p_kill[")) probs.push([`kill: ${k}`, v]);
  for (const [k, v] of pick("p_detected[")) probs.push([`detected: ${k}`, v]);
  if (probs.length) charts.push(barChart("Probabilities", probs, {max: 1, digits: 2}));
  const sites = pick("interceptors_per_run[");
  if (sites.length) charts.push(barChart("Interceptors per run, by fire unit", sites, {digits: 1}));
  const note = document.createElement("p");
  note.className = "hint";
  note.textContent = `${summary.runs} runs, seed ${summary.seed}; illustrative numbers.`;
  $("charts").replaceChildren(...charts, note);
}

/* ---------- replay ---------- */

async function loadReplay() {
  showError("replay-error", null);
  const run = Number($("replay-run").value);
  try {
    const r = await api(`api/jobs/${state.job.job_id}/replay?run=${run}`);
    state.replay = r;
    const slider = $("replay-time");
    slider.min = Math.floor(r.start_s);
    slider.max = Math.ceil(r.end_s);
    slider.value = slider.max;
    slider.disabled = false;
    $("replay-play").disabled = false;
    const n = (k) => r.events.filter((e) => e.kind === k).length;
    $("replay-counts").textContent = `run ${run}: ${r.threats.length} threats, ` +
      `${r.interceptors.length} interceptor fly-outs, ${n("launch")} launches, ` +
      `${n("intercept")} intercepts, ${n("leak")} leaks`;
    drawReplay(Number(slider.value));
    // the raid in view, the coverage dimmed under it
    const bounds = featureBounds([...r.threats, ...r.interceptors].map((x) => ({geometry:
      {coordinates: x.samples.map((p) => [p[1], p[2]])}})));
    if (bounds) map.fitBounds(bounds, {padding: 40, maxZoom: 9, duration: 0});
    dimCoverage(true);
  } catch (err) {
    showError("replay-error", err);
  }
}

/** The part of a track flown by time t: samples up to t plus the interpolated head. */
function trackUntil(samples, t) {
  const coords = [];
  let head = null;
  for (let i = 0; i < samples.length; i++) {
    const [ts, lon, lat] = samples[i];
    if (ts <= t) { coords.push([lon, lat]); head = [lon, lat]; continue; }
    if (i > 0) {
      const [t0, lon0, lat0] = samples[i - 1];
      const f = (t - t0) / (ts - t0);
      head = [lon0 + f * (lon - lon0), lat0 + f * (lat - lat0)];
      coords.push(head);
    }
    break;
  }
  return {coords, head};
}

function drawReplay(t) {
  const r = state.replay;
  if (!r) return;
  const feats = [];
  const add = (kind, item) => {
    if (!item.samples.length || item.samples[0][0] > t) return;
    const {coords, head} = trackUntil(item.samples, t);
    const alive = item.samples[item.samples.length - 1][0] >= t;
    if (coords.length > 1) {
      feats.push({type: "Feature", properties: {role: "track", kind, id: item.id},
        geometry: {type: "LineString", coordinates: coords}});
    }
    if (alive && head) {
      feats.push({type: "Feature", properties: {role: "head", kind, id: item.id},
        geometry: {type: "Point", coordinates: head}});
    }
  };
  r.threats.forEach((x) => add("threat", x));
  r.interceptors.forEach((x) => add("interceptor", x));
  for (const e of r.events) {
    if (e.t > t) continue;
    feats.push({type: "Feature", properties: {role: "event", kind: e.kind, t: e.t,
      site: e.site || "", threat: e.threat || "", text: e.text || "", reason: e.reason || "",
      meaning: e.meaning || ""},
    geometry: {type: "Point", coordinates: [e.lon, e.lat]}});
  }
  map.getSource("replay").setData({type: "FeatureCollection", features: feats});
  $("replay-clock").textContent = `t = ${fmt(t)} s`;
  state.replayTime = t;
  state.replayFeatures = feats.length;
}

function dimCoverage(dim) {
  map.setPaintProperty("coverage-detection", "fill-opacity", dim ? 0.12 : 0.35);
  map.setPaintProperty("coverage-engagement", "fill-opacity", dim ? 0.15 : 0.45);
}

function togglePlay() {
  state.playing = !state.playing;
  $("replay-play").innerHTML = state.playing ? "&#10073;&#10073;" : "&#9654;";
  $("replay-play").setAttribute("aria-label", state.playing ? "pause" : "play");
  if (!state.playing) return;
  const slider = $("replay-time");
  if (Number(slider.value) >= Number(slider.max)) slider.value = slider.min;
  const span = Number(slider.max) - Number(slider.min);
  let last = performance.now();
  const step = (now) => {
    if (!state.playing) return;
    // the whole run in about 30 s of wall time
    const t = Math.min(Number(slider.max), Number(slider.value) + ((now - last) / 30000) * span);
    last = now;
    slider.value = t;
    drawReplay(t);
    if (t >= Number(slider.max)) { togglePlay(); return; }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

const popup = new maplibregl.Popup({closeButton: false, closeOnClick: false});
map.on("mousemove", "replay-events", (e) => {
  const p = e.features[0].properties;
  map.getCanvas().style.cursor = "pointer";
  const lines = [`${EVENT_LABELS[p.kind] || p.kind} at t = ${fmt(p.t, 1)} s`];
  if (p.text) lines.push(p.text);
  if (p.reason) lines.push(`reason: ${p.reason}${p.meaning ? ` (${p.meaning})` : ""}`);
  const div = document.createElement("div");
  div.className = "event-popup";
  for (const l of lines) {
    const d = document.createElement("div");
    d.textContent = l;
    div.append(d);
  }
  popup.setLngLat(e.lngLat).setDOMContent(div).addTo(map);
});
map.on("mouseleave", "replay-events", () => { map.getCanvas().style.cursor = ""; popup.remove(); });

/* ---------- compare ---------- */

async function startCompare() {
  showError("compare-error", null);
  $("compare-links").replaceChildren();
  $("compare-start").disabled = true;
  try {
    const [what, id] = $("compare-select").value.split(/:(.*)/s);
    const otherId = what === "scenario" ? id
      : (await postScenario({yaml: await exampleYaml(id), example: id})).scenario_id;
    const job = await api("api/jobs", {method: "POST", json: {kind: "compare",
      scenario_id: state.scenario.scenario_id, other_scenario_id: otherId,
      runs: Number($("runs").value), seed: Number($("seed").value)}});
    state.compareJob = {job_id: job.job_id, state: "queued"};
    const final = await followJob(job.job_id, (p) => {
      state.compareJob.state = p.state;
      $("compare-state").textContent = progressText(p);
      if (p.total) {
        $("compare-progress").max = p.total;
        $("compare-progress").value = p.done || 0;
      }
    });
    if (final.state === "done") {
      $("compare-progress").value = $("compare-progress").max;
      const a = document.createElement("a");
      a.href = `api/jobs/${job.job_id}/report`;
      a.target = "_blank";
      a.rel = "noopener";
      a.id = "report-link";
      a.textContent = "Open the comparison report";
      $("compare-links").append(a);
      renderDownloads();
    } else if (final.state === "failed") {
      showError("compare-error", {message: final.error || "the comparison failed"});
    }
  } catch (err) {
    showError("compare-error", err);
  } finally {
    $("compare-start").disabled = false;
  }
}

/* ---------- downloads ---------- */

function link(href, text) {
  const a = document.createElement("a");
  a.href = href; a.textContent = text; a.setAttribute("download", "");
  return a;
}

function renderDownloads() {
  const out = [];
  if (state.scenario) {
    const id = state.scenario.scenario_id;
    const alt = altitudeM();
    const h = document.createElement("div");
    h.className = "hint";
    h.textContent = `Scenario (coverage at ${fmt(alt)} m, raids as planned):`;
    out.push(h);
    for (const f of ["geojson", "kml", "czml", "acmi"]) {
      out.push(link(`api/scenarios/${id}/export?format=${f}&altitude_m=${alt}`, f.toUpperCase()));
    }
  }
  if (state.job && state.job.state === "done") {
    const id = state.job.job_id;
    const run = Number($("replay-run").value);
    const h = document.createElement("div");
    h.className = "hint";
    h.textContent = `Monte Carlo job (run ${run} for the tracks):`;
    out.push(h, link(`api/jobs/${id}/summary`, "summary.json"));
    for (const f of ["geojson", "kml", "czml", "acmi"]) {
      out.push(link(`api/jobs/${id}/export?format=${f}&run=${run}`, f.toUpperCase()));
    }
  }
  if (state.compareJob && state.compareJob.state === "done") {
    const h = document.createElement("div");
    h.className = "hint";
    h.textContent = "Comparison:";
    out.push(h, link(`api/jobs/${state.compareJob.job_id}/report`, "report.html"));
  }
  $("downloads").replaceChildren(...out);
}

/* ---------- wiring ---------- */

$("example-load").addEventListener("click", async () => {
  const id = $("example-select").value;
  pickCompareDefault(id);
  await withScenario(exampleYaml(id).then((yaml) => postScenario({yaml, example: id})));
});
$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  const fd = new FormData();
  fd.append("file", file);
  await withScenario(api("api/scenarios", {method: "POST", body: fd}));
  $("upload").value = "";
});
$("yaml-apply").addEventListener("click", async () => {
  const yaml = $("yaml-editor").value;
  const body = {yaml};
  if (state.scenario) {
    await withScenario(api(`api/scenarios/${state.scenario.scenario_id}`,
      {method: "PUT", json: body}));
  } else {
    await withScenario(postScenario(body));
  }
});
$("sites-apply").addEventListener("click", () => putSites(formSites()));
$("altitude").addEventListener("input", () => { updateAltitudeLabel(); refreshCoverage(); });
$("altitude").addEventListener("change", renderDownloads);
$("terrain").addEventListener("change", () => {
  $("terrain-hint").textContent = $("terrain").checked ? TERRAIN_ON : TERRAIN_OFF;
  updateAltitudeLabel();
  refreshCoverage();
});
for (const kind of ["detection", "engagement", "overlap"]) {
  $(`show-${kind}`).addEventListener("change", applyLayerToggles);
}
$("run-start").addEventListener("click", startRun);
$("run-cancel").addEventListener("click", () => cancelJob(state.job));
$("replay-load").addEventListener("click", loadReplay);
$("replay-run").addEventListener("change", renderDownloads);
$("replay-time").addEventListener("input", () => drawReplay(Number($("replay-time").value)));
$("replay-play").addEventListener("click", togglePlay);
$("compare-start").addEventListener("click", startCompare);

updateAltitudeLabel();
(async () => {
  try {
    await Promise.all([loadBasemap(), loadExamples(), loadSystems()]);
  } catch (err) {
    showError("scenario-error", err);
  }
  state.ready = true;
})();
