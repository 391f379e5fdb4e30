#!/usr/bin/python3
"""Publish one OpenSky snapshot to Event Hubs the way the original open_sky.py/send.py did.

This is the Python side of the comparison in bench/run.sh: `requests.get` of /states/all, a dict
per state vector, `json.dumps` per event, `EventDataBatch.add` until the batch is full, send. It
differs from the originals only where they were wrong: baro and geo altitude are not swapped, a
full batch is sent (not swallowed) and a new one started, and no key is in the source.

It runs under Debian's /usr/bin/python3 with python3-requests and python3-azure (azure.eventhub 5.11).

Modes (each prints one JSON object on stdout):
  tick --url BASE --conn CS     fetch, transform, batch and send to the hub
  tick --url BASE --offline     the same without a connection: EventDataBatch objects are built
                                with an explicit max_size_in_bytes and nothing is sent
                                (azure.eventhub 5.11 always wraps its socket in TLS, so it cannot
                                reach a plain AMQP peer on 5672)
  cpu --file PATH [--batch] [--repeat N]
                                the CPU path only, on a file, N times: json.loads, dicts,
                                json.dumps (and with --batch, EventDataBatch.add); reports the
                                median time and the peak RSS while the loop ran
"""

import argparse
import gc
import json
import re
import statistics
import sys
import time
from datetime import datetime, timezone

import requests
from azure.eventhub import EventData, EventDataBatch, EventHubProducerClient

MAX_BATCH_BYTES = 1024 * 1024  # Event Hubs Standard: 1 MB per batch


def iso(ts):
    """Unix seconds as ISO-8601 UTC, as the Go handler writes them."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_event(snapshot_time, s):
    """One state vector (a list, OpenSky's field order) as the event the Go handler publishes."""
    callsign = s[1].strip() if s[1] is not None else None
    ev = {
        "event_id": "%s-%d" % (s[0], s[4]),
        "snapshot_time": snapshot_time,
        "icao24": s[0],
        "callsign": callsign or None,
        "origin_country": s[2],
        "time_position": iso(s[3]),
        "last_contact": iso(s[4]),
        "longitude": s[5],
        "latitude": s[6],
        "baro_altitude": s[7],
        "on_ground": s[8],
        "velocity": s[9],
        "true_track": s[10],
        "vertical_rate": s[11],
        "sensors": s[12],
        "geo_altitude": s[13],
        "squawk": s[14],
        "spi": s[15],
        "position_source": s[16],
    }
    if len(s) > 17:
        ev["category"] = s[17]
    return ev


def encode(snapshot):
    """The snapshot's events as (event_id, JSON text) pairs."""
    snapshot_time = iso(snapshot["time"])
    out = []
    for s in snapshot["states"] or []:
        ev = to_event(snapshot_time, s)
        out.append((ev["event_id"], json.dumps(ev)))
    return out


def event_data(event_id, body):
    ed = EventData(body)
    ed.message_id = event_id
    ed.content_type = "application/json"
    ed.properties = {"schema_version": "1"}
    return ed


def batches(encoded, new_batch):
    """Fill batches from new_batch() in order; a full batch is closed and a new one started."""
    done = []
    batch = new_batch()
    for event_id, body in encoded:
        ed = event_data(event_id, body)
        try:
            batch.add(ed)
        except ValueError:
            done.append(batch)
            batch = new_batch()
            batch.add(ed)  # an event too large for an empty batch raises: not swallowed
    if len(batch) > 0:
        done.append(batch)
    return done


def offline_batch():
    return EventDataBatch(max_size_in_bytes=MAX_BATCH_BYTES)


def tick(args):
    t = {}
    t0 = time.perf_counter()
    producer = None
    if not args.offline:
        producer = EventHubProducerClient.from_connection_string(args.conn)
    t1 = time.perf_counter()
    r = requests.get(args.url.rstrip("/") + "/states/all", timeout=30)
    r.raise_for_status()
    t2 = time.perf_counter()
    snapshot = r.json()
    t3 = time.perf_counter()
    encoded = encode(snapshot)
    t4 = time.perf_counter()
    new_batch = offline_batch if producer is None else producer.create_batch
    bs = batches(encoded, new_batch)
    t5 = time.perf_counter()
    if producer is not None:
        with producer:
            for b in bs:
                producer.send_batch(b)
    t6 = time.perf_counter()
    t.update(client_s=t1 - t0, fetch_s=t2 - t1, decode_s=t3 - t2, encode_s=t4 - t3,
             batch_s=t5 - t4, send_s=t6 - t5, total_s=t6 - t0)
    return {"mode": "offline" if producer is None else "send", "events": len(encoded),
            "batches": len(bs), "gzip": r.headers.get("Content-Encoding") == "gzip",
            "seconds": t}


def status_kb(field):
    """A field of /proc/self/status in KiB: VmHWM (peak RSS since the last reset) or VmRSS."""
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\s+(\d+) kB", f.read()).group(1))


def reset_peak_rss():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def cpu(args):
    base = status_kb("VmRSS")  # interpreter and imports, before any data
    with open(args.file, "rb") as f:
        body = f.read()
    times = []
    events = 0
    gc.collect()
    reset_peak_rss()
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        encoded = encode(json.loads(body))
        if args.batch:
            batches(encoded, offline_batch)
        times.append(time.perf_counter() - t0)
        events = len(encoded)
        del encoded
    return {"mode": "cpu+batch" if args.batch else "cpu", "file": args.file, "events": events,
            "repeat": args.repeat, "seconds": times, "median_s": statistics.median(times),
            "peak_rss_mb": status_kb("VmHWM") / 1024, "base_rss_mb": base / 1024}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    pt = sub.add_parser("tick")
    pt.add_argument("--url", required=True, help="OpenSky API base, e.g. http://127.0.0.1:8080/api")
    pt.add_argument("--conn", help="Event Hubs connection string with EntityPath")
    pt.add_argument("--offline", action="store_true", help="build batches without a connection; send nothing")
    pc = sub.add_parser("cpu")
    pc.add_argument("--file", required=True)
    pc.add_argument("--batch", action="store_true", help="also add each event to an EventDataBatch")
    pc.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    if args.mode == "tick" and not args.offline and not args.conn:
        p.error("tick needs --conn or --offline")
    out = tick(args) if args.mode == "tick" else cpu(args)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
