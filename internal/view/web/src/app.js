// The live map: the latest snapshot's aircraft on a canvas over Natural Earth borders, and the
// panel of aggregates the server computes (GET /api/stats). A server-sent event per snapshot
// (GET /api/stream) brings the new stats; the page then fetches the snapshot (GET /api/snapshot).
import { geoMercator, geoPath } from "d3-geo";
import { feature, mesh } from "topojson-client";
import world from "world-atlas/countries-110m.json";

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d", { alpha: false });
const tip = $("tip");

const EMERGENCY = { "7500": "unlawful interference", "7600": "radio failure", "7700": "emergency" };
const MAX_LAT = 85.05113;
const NO_COUNTRY = "(not given)"; // OpenSky gives "" when it cannot tell the country // Web Mercator's square world

// Web Mercator in world units: x and y in [0, 1], y down.
function project(lon, lat) {
  const φ = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
  return [(lon + 180) / 360, (1 - Math.log(Math.tan(Math.PI / 4 + φ / 2)) / Math.PI) / 2];
}

// Base map: land filled, coastlines and borders stroked, as paths in world units built once.
// d3-geo's Mercator (the same formula as project) cuts the rings that cross the antimeridian.
const toWorld = geoPath(geoMercator().scale(1 / (2 * Math.PI)).translate([0.5, 0.5]).precision(0));
function pathOf(object) {
  const path = new Path2D();
  toWorld.context(path)(object);
  return path;
}
const land = pathOf(feature(world, world.objects.land));
const borders = pathOf(mesh(world, world.objects.countries, (a, b) => a !== b));

// Colour by barometric altitude (geometric when there is none), in 1,000 m steps to 13,000 m,
// from warm (low) to cool (high); red is kept for emergencies.
const ALT_COLOURS = ["#ffe14d", "#ffc53d", "#ffa83a", "#ff8c42", "#f7764f", "#e8685f", "#d46a8c",
  "#bf72b5", "#a57ddb", "#8a8cf0", "#6f9ff5", "#58b4f0", "#49c9e6", "#4fdbd5"]; // bright on the dark map
const GROUND = ALT_COLOURS.length; // bin of aircraft on the ground
const NO_ALT = GROUND + 1; // airborne with no altitude
const BIN_COLOURS = [...ALT_COLOURS, "#8a949e", "#d0d6dc"];

// The snapshot as flat arrays, so that drawing 10,000 aircraft allocates nothing.
let snap = { n: 0, x: new Float64Array(0), y: new Float64Array(0), track: new Float32Array(0), bin: new Uint8Array(0), props: [], emergency: [] };
let stats = null;

function load(geojson) {
  const fs = geojson.features.filter((f) => f.geometry && f.geometry.type === "Point");
  const n = fs.length;
  const s = { n, x: new Float64Array(n), y: new Float64Array(n), track: new Float32Array(n), bin: new Uint8Array(n), props: new Array(n), emergency: [] };
  fs.forEach((f, i) => {
    const p = f.properties;
    const [x, y] = project(f.geometry.coordinates[0], f.geometry.coordinates[1]);
    s.x[i] = x;
    s.y[i] = y;
    s.track[i] = p.true_track == null ? NaN : (p.true_track * Math.PI) / 180;
    const alt = p.baro_altitude ?? p.geo_altitude;
    s.bin[i] = p.on_ground ? GROUND : alt == null ? NO_ALT : Math.max(0, Math.min(ALT_COLOURS.length - 1, Math.floor(alt / 1000)));
    s.props[i] = p;
    if (EMERGENCY[p.squawk]) s.emergency.push(i);
  });
  snap = s;
  layerAt = null;
  requestDraw();
}

// View: screen = world * k + (tx, ty), in CSS pixels.
let k = 1, tx = 0, ty = 0, dpr = 1, width = 0, height = 0;
function resize() {
  dpr = window.devicePixelRatio || 1;
  const r = canvas.getBoundingClientRect();
  const first = width === 0;
  width = r.width;
  height = r.height;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  if (first) reset();
  layerAt = null;
  requestDraw();
}
function reset() {
  // The whole world across, centred on latitude 25 N where most traffic is.
  k = Math.max(width, height * 1.1);
  tx = (width - k) / 2;
  ty = height / 2 - project(0, 25)[1] * k;
}
function zoomAt(factor, sx, sy) {
  const nk = Math.max(Math.min(width, height) * 0.8, Math.min(k * factor, 2 ** 20));
  tx = sx - ((sx - tx) * nk) / k;
  ty = sy - ((sy - ty) * nk) / k;
  k = nk;
  zooming = true;
  clearTimeout(settle);
  settle = setTimeout(() => {
    zooming = false;
    requestDraw();
  }, 150);
  requestDraw();
}

// Frames are blits of a layer rendered with a margin around the view: a pan within the margin
// moves the layer, and only a zoom, a new snapshot or a pan past the margin renders it again.
// Rendering 10,000 aircraft takes many times longer than a blit.
const MARGIN = 256;
const layer = document.createElement("canvas");
const lctx = layer.getContext("2d", { alpha: false });
let layerAt = null; // the view ({k, tx, ty}) the layer shows; null when it must be rendered

// Screen positions at the last render, for hit tests.
let sx = new Float32Array(0), sy = new Float32Array(0);

function render() {
  const n = snap.n, W = width + 2 * MARGIN, H = height + 2 * MARGIN;
  const ox = tx + MARGIN, oy = ty + MARGIN; // world to layer: world * k + (ox, oy)
  if (layer.width !== Math.round(W * dpr) || layer.height !== Math.round(H * dpr)) {
    layer.width = Math.round(W * dpr);
    layer.height = Math.round(H * dpr);
  }
  const c = lctx;
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.fillStyle = "#0b1622";
  c.fillRect(0, 0, W, H);
  c.setTransform(k * dpr, 0, 0, k * dpr, ox * dpr, oy * dpr);
  c.fillStyle = "#1c2b3a";
  c.fill(land);
  c.lineWidth = 1 / k;
  c.strokeStyle = "#3d5670";
  c.stroke(land);
  c.strokeStyle = "#2c4258";
  c.stroke(borders);

  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  if (sx.length < n) {
    sx = new Float32Array(n);
    sy = new Float32Array(n);
  }
  const size = Math.max(3, Math.min(7, 2 + Math.log2(k / 500)));
  // One path per colour: a fill per colour, not per aircraft.
  for (let b = 0; b < BIN_COLOURS.length; b++) {
    c.beginPath();
    for (let i = 0; i < n; i++) {
      if (b === 0) {
        sx[i] = snap.x[i] * k + tx;
        sy[i] = snap.y[i] * k + ty;
      }
      if (snap.bin[i] !== b) continue;
      const x = sx[i] + MARGIN, y = sy[i] + MARGIN;
      if (x < -10 || y < -10 || x > W + 10 || y > H + 10) continue;
      const t = snap.track[i];
      if (b === GROUND || Number.isNaN(t)) {
        const r = b === GROUND ? size * 0.45 : size * 0.6;
        c.rect(x - r, y - r, 2 * r, 2 * r);
        continue;
      }
      // A narrow triangle pointing along true_track (clockwise from north; screen y is down).
      // Three points, not a concave dart: Chromium fills 10,000 triangles several times faster.
      const s = Math.sin(t), co = Math.cos(t);
      c.moveTo(x + s * size * 1.4, y - co * size * 1.4);
      c.lineTo(x - s * size * 0.8 + co * size * 0.6, y + co * size * 0.8 + s * size * 0.6);
      c.lineTo(x - s * size * 0.8 - co * size * 0.6, y + co * size * 0.8 - s * size * 0.6);
    }
    c.fillStyle = BIN_COLOURS[b];
    c.fill();
  }
  // Emergencies: a red ring each, on top.
  c.beginPath();
  for (const i of snap.emergency) {
    c.moveTo(sx[i] + MARGIN + 11, sy[i] + MARGIN);
    c.arc(sx[i] + MARGIN, sy[i] + MARGIN, 11, 0, 2 * Math.PI);
  }
  c.lineWidth = 3;
  c.strokeStyle = "#ff2d2d";
  c.stroke();
  layerAt = { k, tx, ty };
}

// While the wheel or a pinch is zooming, frames scale the layer; it is rendered sharp again once
// the zoom has paused.
let zooming = false, settle = 0;

function draw() {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  if (zooming && layerAt && layerAt.k !== k) {
    const s = k / layerAt.k;
    ctx.fillStyle = "#0b1622";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(layer, dpr * (tx - (layerAt.tx + MARGIN) * s), dpr * (ty - (layerAt.ty + MARGIN) * s), layer.width * s, layer.height * s);
    return;
  }
  if (!layerAt || layerAt.k !== k || Math.abs(tx - layerAt.tx) > MARGIN || Math.abs(ty - layerAt.ty) > MARGIN) render();
  ctx.drawImage(layer, Math.round((tx - layerAt.tx - MARGIN) * dpr), Math.round((ty - layerAt.ty - MARGIN) * dpr));
}

let drawQueued = false;
function requestDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

// Hover and tap: the nearest aircraft within 10 px.
function nearest(x, y) {
  if (!layerAt || layerAt.k !== k) return -1;
  x -= tx - layerAt.tx;
  y -= ty - layerAt.ty;
  let best = -1, bestD = 100;
  for (let i = 0; i < snap.n; i++) {
    const dx = sx[i] - x, dy = sy[i] - y, d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
const fmt = (v, unit, digits = 0) => (v == null ? "–" : `${v.toFixed(digits)} ${unit}`);
function showTip(i, x, y) {
  if (i < 0) {
    tip.hidden = true;
    return;
  }
  const p = snap.props[i];
  const em = EMERGENCY[p.squawk];
  tip.className = em ? "emergency" : "";
  tip.replaceChildren();
  const line = (label, value) => {
    const div = document.createElement("div");
    div.textContent = label ? `${label}: ${value}` : value;
    tip.append(div);
  };
  const title = document.createElement("b");
  title.textContent = `${p.callsign || "(no callsign)"} · ${p.icao24}`;
  tip.append(title);
  line("", p.origin_country || NO_COUNTRY);
  line("Altitude", p.on_ground ? "on the ground" : fmt(p.baro_altitude ?? p.geo_altitude, "m"));
  line("Speed", fmt(p.velocity, "m/s"));
  line("Vertical rate", fmt(p.vertical_rate, "m/s", 1));
  line("Squawk", (p.squawk ?? "–") + (em ? ` (${em})` : ""));
  tip.hidden = false;
  const r = tip.getBoundingClientRect();
  tip.style.left = `${Math.min(x + 14, width - r.width - 4)}px`;
  tip.style.top = `${Math.min(y + 14, height - r.height - 4)}px`;
}

// Pan with a drag (mouse or one finger), zoom with the wheel, a pinch or the buttons.
const pointers = new Map();
let dragged = false;
canvas.addEventListener("pointerdown", (e) => {
  canvas.setPointerCapture(e.pointerId);
  pointers.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
  dragged = false;
  canvas.classList.add("dragging");
});
canvas.addEventListener("pointermove", (e) => {
  const prev = pointers.get(e.pointerId);
  if (!prev) {
    if (e.pointerType === "mouse") showTip(nearest(e.offsetX, e.offsetY), e.offsetX, e.offsetY);
    return;
  }
  if (pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    const before = Math.hypot(a.x - b.x, a.y - b.y);
    prev.x = e.offsetX;
    prev.y = e.offsetY;
    const after = Math.hypot(a.x - b.x, a.y - b.y);
    if (before > 0) zoomAt(after / before, (a.x + b.x) / 2, (a.y + b.y) / 2);
  } else {
    const dx = e.offsetX - prev.x, dy = e.offsetY - prev.y;
    if (Math.abs(dx) + Math.abs(dy) > 2) dragged = true;
    tx += dx;
    ty += dy;
    prev.x = e.offsetX;
    prev.y = e.offsetY;
    requestDraw();
  }
  tip.hidden = true;
});
function endPointer(e) {
  if (pointers.delete(e.pointerId) && !dragged && pointers.size === 0) showTip(nearest(e.offsetX, e.offsetY), e.offsetX, e.offsetY);
  if (pointers.size === 0) canvas.classList.remove("dragging");
}
canvas.addEventListener("pointerup", endPointer);
canvas.addEventListener("pointercancel", endPointer);
// A touch ends with a pointerleave after its pointerup: only a mouse leaving hides the tip.
canvas.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse" && pointers.size === 0) tip.hidden = true; });
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  zoomAt(Math.exp(-e.deltaY * 0.002), e.offsetX, e.offsetY);
}, { passive: false });
$("zoom-in").onclick = () => zoomAt(2, width / 2, height / 2);
$("zoom-out").onclick = () => zoomAt(0.5, width / 2, height / 2);
$("zoom-reset").onclick = () => { reset(); requestDraw(); };
new ResizeObserver(resize).observe(canvas);

// The panel.
let sortKey = "aircraft", sortDir = -1;
function renderStats(s) {
  stats = s;
  $("aircraft-count").textContent = s.aircraft.toLocaleString("en");
  const t = $("snapshot-time");
  t.textContent = s.snapshot_time ? s.snapshot_time.replace("T", " ").replace("Z", " UTC") : "none yet";
  t.dateTime = s.snapshot_time || "";
  renderCountries();
  const list = $("emergencies");
  list.replaceChildren();
  $("emergency-count").textContent = s.emergencies.length;
  $("emergency-count").classList.toggle("alert", s.emergencies.length > 0);
  if (s.emergencies.length === 0) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = "none";
    list.append(li);
  }
  for (const e of s.emergencies) {
    const li = document.createElement("li");
    li.dataset.icao24 = e.icao24;
    li.textContent = `${e.callsign || e.icao24} · squawk ${e.squawk} (${EMERGENCY[e.squawk]}) · ${e.origin_country || NO_COUNTRY}`;
    if (e.longitude != null && e.latitude != null) {
      li.title = "Show on the map";
      li.onclick = () => {
        const [x, y] = project(e.longitude, e.latitude);
        k = Math.max(k, 4096);
        tx = width / 2 - x * k;
        ty = height / 2 - y * k;
        requestDraw();
      };
    }
    list.append(li);
  }
}
function renderCountries() {
  if (!stats) return;
  const rows = [...stats.countries].sort((a, b) => {
    const c = sortKey === "aircraft" ? a.aircraft - b.aircraft : a.origin_country.localeCompare(b.origin_country);
    return sortDir * c || a.origin_country.localeCompare(b.origin_country);
  });
  const body = $("countries").tBodies[0];
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    name.textContent = r.origin_country || NO_COUNTRY;
    const n = document.createElement("td");
    n.className = "num";
    n.textContent = r.aircraft;
    tr.append(name, n);
    return tr;
  }));
}
for (const th of $("countries").tHead.rows[0].cells) {
  th.querySelector("button").onclick = () => {
    const key = th.dataset.key;
    sortDir = key === sortKey ? -sortDir : key === "aircraft" ? -1 : 1;
    sortKey = key;
    for (const other of th.parentElement.cells) other.removeAttribute("aria-sort");
    th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
    renderCountries();
  };
}
const legend = $("legend");
for (const [label, colour] of [["0 km", ALT_COLOURS[0]], ["5 km", ALT_COLOURS[5]], ["10 km", ALT_COLOURS[10]], ["13+ km", ALT_COLOURS[13]], ["on ground", BIN_COLOURS[GROUND]]]) {
  const span = document.createElement("span");
  const i = document.createElement("i");
  i.style.background = colour;
  span.append(i, label);
  legend.append(span);
}

// Live updates: each stream event is a new snapshot's stats; fetch its aircraft, one at a time.
let fetching = false, again = false;
async function refresh() {
  if (fetching) {
    again = true;
    return;
  }
  fetching = true;
  try {
    const res = await fetch("api/snapshot", { cache: "no-store" });
    if (!res.ok) throw new Error(`GET /api/snapshot: ${res.status}`);
    load(await res.json());
  } catch (err) {
    setStatus(`could not load the snapshot: ${err.message}`, true);
  } finally {
    fetching = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}
function setStatus(text, error) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", !!error);
}
const events = new EventSource("api/stream");
events.addEventListener("snapshot", (e) => {
  const s = JSON.parse(e.data);
  renderStats(s);
  setStatus(s.snapshot_time ? "live" : "live; waiting for the first snapshot");
  refresh();
});
events.onerror = () => setStatus("connection lost; reconnecting…", true);

// For tests and benchmarks: load a snapshot, render and draw synchronously, pan, and find an
// aircraft.
window.openskyView = {
  load,
  draw() { layerAt = null; draw(); },
  pan(dx, dy) { tx += dx; ty += dy; draw(); },
  screen(icao24) {
    const i = snap.props.findIndex((p) => p.icao24 === icao24);
    return i < 0 ? null : { x: snap.x[i] * k + tx, y: snap.y[i] * k + ty, emergency: snap.emergency.includes(i) };
  },
  get aircraftOnMap() { return snap.n; },
  get settled() { return !zooming && layerAt !== null && layerAt.k === k; },
};
