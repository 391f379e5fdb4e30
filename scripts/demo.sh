#!/usr/bin/env bash
# demo.sh: the handler end to end on this machine, with no network and no Azure account.
#
#   1. a local OpenSky stand-in (test/replay) serves a bundled recording (1,000 real states of a
#      whole-world snapshot, internal/recordings/testdata/states/global-2021-10-17.json);
#   2. the local Event Hubs peer (test/ehpeer) when Node.js and its npm packages are there
#      (make deps), else the NDJSON file sink;
#   3. three ticks of the real handler binary (handler run --every 2s --for 5s) against them;
#   4. the events read back (handler tail from the peer, or the file) into DEMO_OUT, and a summary.
#
# Everything it starts is stopped when it ends. Settings: DEMO_OUT (default data/demo.ndjson),
# DEMO_SINK=file to skip the peer, DEMO_RECORDING (another /states/all answer to serve).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

OUT=${DEMO_OUT:-data/demo.ndjson}
RECORDING=${DEMO_RECORDING:-internal/recordings/testdata/states/global-2021-10-17.json}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
# wait_line FILE REGEX: waits (10 s at most) for a line of FILE matching REGEX and prints its group.
wait_line() {
  for _ in $(seq 100); do
    if line=$(grep -Em1 "$2" "$1" 2>/dev/null) && [[ $line =~ $2 ]]; then
      printf '%s\n' "${BASH_REMATCH[1]}"
      return 0
    fi
    sleep 0.1
  done
  say "demo: no line like '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

SECONDS=0
say "== building the handler and the OpenSky stand-in"
go build -o "$WORK/handler" ./cmd/handler
go build -o "$WORK/replay" ./test/replay

"$WORK/replay" -file "$RECORDING" >"$WORK/replay.out" 2>"$WORK/replay.err" &
PIDS+=($!)
OPENSKY_URL="$(wait_line "$WORK/replay.out" '^listening on (http://.*)$')/api"
say "== OpenSky stand-in at $OPENSKY_URL, serving $RECORDING"

# Only what the demo sets reaches the handler: no credentials or settings from this shell.
ENV=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" "OPENSKY_BASE_URL=$OPENSKY_URL")
mkdir -p "$(dirname "$OUT")"
if [ "${DEMO_SINK:-}" != file ] && command -v node >/dev/null && [ -f test/ehpeer/node_modules/rhea/package.json ]; then
  node test/ehpeer/peer.js --port 0 >"$WORK/peer.out" 2>"$WORK/peer.err" &
  PIDS+=($!)
  PORT=$(wait_line "$WORK/peer.out" '^listening on 127\.0\.0\.1:([0-9]+)$')
  ENV+=("OPENSKY_SINK=eventhub" "EVENTHUB_CONNECTION_STRING=Endpoint=sb://127.0.0.1:$PORT;SharedAccessKeyName=demo;SharedAccessKey=demo;EntityPath=opensky;UseDevelopmentEmulator=true")
  SINK="eventhub"
  say "== local Event Hubs peer (test/ehpeer) on 127.0.0.1:$PORT, hub opensky"
else
  : >"$OUT"
  ENV+=("OPENSKY_SINK=file" "OPENSKY_FILE=$OUT")
  SINK="file"
  say "== file sink: $OUT (for the local Event Hubs peer: Node.js 20+ and make deps)"
fi

say "== three ticks: handler run --every 2s --for 5s (the start-up credit check may warn: the real OpenSky allows no such rate)"
if ! "${ENV[@]}" "$WORK/handler" run --every 2s --for 5s 2>"$WORK/handler.log"; then
  cat "$WORK/handler.log" >&2
  say "demo: the handler failed" >&2
  exit 1
fi
sed -nE 's/.*level=(WARN|ERROR) msg="?([^"]*)"?.*/   \1: \2/p; s/.*msg="(tick ok:[^"]*)".*/   \1/p' "$WORK/handler.log"
TICKS=$(grep -c 'tick ok:' "$WORK/handler.log" || true)
EVENTS=$(grep -Eo 'tick ok:.* ([0-9]+) events' "$WORK/handler.log" | grep -Eo '[0-9]+ events' | awk '{n += $1} END {print n + 0}')
if [ "$TICKS" -lt 1 ] || [ "$EVENTS" -lt 1 ]; then
  cat "$WORK/handler.log" >&2
  say "demo: no tick published anything" >&2
  exit 1
fi

if [ "$SINK" = eventhub ]; then
  say "== reading the hub back: handler tail --from start --count $EVENTS > $OUT"
  "${ENV[@]}" "$WORK/handler" tail --from start --count "$EVENTS" --for 15s >"$OUT" 2>"$WORK/tail.log" || { cat "$WORK/tail.log" >&2; exit 1; }
fi
READ=$(wc -l <"$OUT" | tr -d ' ')
if [ "$READ" -ne "$EVENTS" ]; then
  say "demo: $TICKS ticks published $EVENTS events, but $READ were read back from $OUT" >&2
  exit 1
fi

# The summary reads the handler's own NDJSON (one flat object per line, in schema order) with
# grep and awk, so it needs no jq.
say ""
say "== $READ events from $TICKS ticks in $OUT (sink: $SINK)"
grep -Eo '"(icao24|origin_country)":"[^"]*"' "$OUT" | cut -d'"' -f4 | paste - - | sort -u >"$WORK/aircraft"
say "   $(wc -l <"$WORK/aircraft" | tr -d ' ') aircraft from $(cut -f2 "$WORK/aircraft" | sort -u | wc -l | tr -d ' ') countries; most aircraft:"
cut -f2 "$WORK/aircraft" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/  /'
say "   a few events:"
head -n 3 "$OUT" | awk '
  function field(k,   m) {
    if (!match($0, "\"" k "\":(\"[^\"]*\"|[^,}]*)")) return ""
    m = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
    gsub(/^"|"$/, "", m)
    return m
  }
  { printf "     %s %-8s %-16s lat %-8s lon %-9s alt %s m, %s m/s\n", field("icao24"), field("callsign"), field("origin_country"),
      field("latitude"), field("longitude"), field("geo_altitude"), field("velocity") }'
say ""
say "== done in ${SECONDS}s; stopping what the demo started. Try: jq -c 'select(.icao24 == \"$(head -n1 "$OUT" | grep -Eo '"icao24":"[^"]*"' | cut -d'"' -f4)\")' $OUT"
