#!/usr/bin/env node
// Publish one OpenSky snapshot to Event Hubs the way a Node developer would today: fetch() of
// /states/all, an object per state vector, @azure/event-hubs 6 EventDataBatch.tryAdd until the
// batch is full, sendBatch, a new batch. The Node side of the comparison in bench/run.sh.
//
//   node send.js tick --url BASE --conn CS     fetch, transform, batch and send
//   node send.js cpu --file PATH [--repeat N]  the CPU path only (JSON.parse, objects,
//                                              JSON.stringify), N times; median and peak RSS
//
// Each mode prints one JSON object on stdout. The events are the Go handler's (same fields, same
// ISO-8601 times, callsign trimmed, altitudes not swapped), with the same message id, content
// type and schema_version property.
"use strict";

const fs = require("node:fs");
const { EventHubProducerClient } = require("@azure/event-hubs");

function iso(ts) {
  return ts === null || ts === undefined ? null : new Date(ts * 1000).toISOString().replace(".000Z", "Z");
}

function toEvent(snapshotTime, s) {
  const callsign = s[1] === null ? null : s[1].trim();
  const ev = {
    event_id: `${s[0]}-${s[4]}`,
    snapshot_time: snapshotTime,
    icao24: s[0],
    callsign: callsign || null,
    origin_country: s[2],
    time_position: iso(s[3]),
    last_contact: iso(s[4]),
    longitude: s[5],
    latitude: s[6],
    baro_altitude: s[7],
    on_ground: s[8],
    velocity: s[9],
    true_track: s[10],
    vertical_rate: s[11],
    sensors: s[12],
    geo_altitude: s[13],
    squawk: s[14],
    spi: s[15],
    position_source: s[16],
  };
  if (s.length > 17) ev.category = s[17];
  return ev;
}

function events(snapshot) {
  const t = iso(snapshot.time);
  return (snapshot.states || []).map((s) => toEvent(t, s));
}

function eventData(ev) {
  return {
    body: ev, // the SDK encodes an object body as JSON
    messageId: ev.event_id,
    contentType: "application/json",
    properties: { schema_version: "1" },
  };
}

function parseArgs(argv) {
  const args = { mode: argv[0], repeat: 5 };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    args[k] = k === "repeat" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return args;
}

async function tick(args) {
  const t0 = performance.now();
  const producer = new EventHubProducerClient(args.conn);
  const t1 = performance.now();
  const res = await fetch(args.url.replace(/\/$/, "") + "/states/all");
  if (!res.ok) throw new Error(`GET /states/all: ${res.status}`);
  const text = await res.text();
  const t2 = performance.now();
  const snapshot = JSON.parse(text);
  const t3 = performance.now();
  const evs = events(snapshot);
  const t4 = performance.now();
  let batch = await producer.createBatch();
  let batches = 0;
  let sendMs = 0;
  const send = async (b) => {
    const s = performance.now();
    await producer.sendBatch(b);
    sendMs += performance.now() - s;
    batches++;
  };
  for (const ev of evs) {
    const ed = eventData(ev);
    if (!batch.tryAdd(ed)) {
      await send(batch);
      batch = await producer.createBatch();
      if (!batch.tryAdd(ed)) throw new Error(`event ${ev.event_id} is too large for an empty batch`);
    }
  }
  if (batch.count > 0) await send(batch);
  const t5 = performance.now();
  await producer.close();
  const t6 = performance.now();
  const s = (ms) => ms / 1000;
  return {
    mode: "send",
    events: evs.length,
    batches,
    gzip: res.headers.get("content-encoding") === "gzip",
    seconds: {
      client_s: s(t1 - t0), fetch_s: s(t2 - t1), decode_s: s(t3 - t2), encode_s: s(t4 - t3),
      batch_s: s(t5 - t4 - sendMs), send_s: s(sendMs), close_s: s(t6 - t5), total_s: s(t6 - t0),
    },
  };
}

// statusKB reads a field of /proc/self/status in KiB: VmHWM (peak RSS since the last reset) or VmRSS.
function statusKB(field) {
  const m = new RegExp(field + ":\\s+(\\d+) kB").exec(fs.readFileSync("/proc/self/status", "utf8"));
  return Number(m[1]);
}

function cpu(args) {
  const base = statusKB("VmRSS"); // runtime and modules, before any data
  const body = fs.readFileSync(args.file);
  const times = [];
  let n = 0;
  if (global.gc) global.gc();
  fs.writeFileSync("/proc/self/clear_refs", "5");
  for (let i = 0; i < args.repeat; i++) {
    const t0 = performance.now();
    // JSON.stringify per event, as the SDK does for an object body.
    const encoded = events(JSON.parse(body.toString("utf8"))).map((ev) => [ev.event_id, JSON.stringify(ev)]);
    times.push((performance.now() - t0) / 1000);
    n = encoded.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { mode: "cpu", file: args.file, events: n, repeat: args.repeat, seconds: times, median_s: median, peak_rss_mb: statusKB("VmHWM") / 1024, base_rss_mb: base / 1024 };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let out;
  if (args.mode === "tick" && args.url && args.conn) out = await tick(args);
  else if (args.mode === "cpu" && args.file) out = cpu(args);
  else {
    process.stderr.write("usage: node send.js tick --url BASE --conn CS | cpu --file PATH [--repeat N]\n");
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(`send.js: ${err.stack || err}\n`);
  process.exit(1);
});
