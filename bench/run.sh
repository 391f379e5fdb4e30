#!/usr/bin/env bash
# bench/run.sh (make bench): every benchmark of BENCHMARKS.md, then BENCHMARKS.md itself.
#
#  1. the per-tick CPU path in Go (go test -bench), next to the encoding/json floor, on each
#     recording and on 1k..100k resampled states; its steps; the sink's Publish against the peer;
#     CPU profiles; the path again under GOMAXPROCS=1 and GOGC=400, from 6 to 50k states;
#  2. the same CPU path side by side with the Python way (bench/python/send_like.py) and the Node
#     way (bench/node/send.js);
#  3. one whole tick, as processes: the handler (run --once), the Node script and the Python script,
#     each fetching a recording from a local replay (test/replay) and publishing to the local
#     Event Hubs peer (test/ehpeer), round-robin, under /usr/bin/time;
#  4. cold start (exec until GET / answers, bench/coldstart) and binary sizes.
#
# Knobs (environment): BENCH_OUT (results folder, default a new one under /tmp), BENCH_COUNT (go
# test -count, 6), BENCH_CPU_ROUNDS (5), BENCH_TICK_ROUNDS (9), BENCH_COLD_N (50),
# BENCH_REPORT (the file written, default BENCHMARKS.md at the repo root), OPENSKY_RECORDINGS.
# Takes about 18 minutes on 2 cores. Needs root (or sudo-less apt) only when something is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$(mktemp -d /tmp/opensky-bench.XXXXXX)}
COUNT=${BENCH_COUNT:-6}
CPU_ROUNDS=${BENCH_CPU_ROUNDS:-5}
TICK_ROUNDS=${BENCH_TICK_ROUNDS:-9}
COLD_N=${BENCH_COLD_N:-50}
REPORT=${BENCH_REPORT:-$ROOT/BENCHMARKS.md}
export OPENSKY_RECORDINGS=${OPENSKY_RECORDINGS:-$(cd "$ROOT/.." && pwd)/shared/opensky}
PY=/usr/bin/python3 # Debian's, where python3-requests and python3-azure install
TIME=(/usr/bin/time -f '%e %U %S %M')
BIN=$OUT/bin
mkdir -p "$OUT" "$BIN"
: >"$OUT/commands.tsv"

say() { printf '\n== %s\n' "$*" >&2; }
# cmd SECTION COMMAND: records the command as the report shows it ($VARS are described there).
cmd() { printf '%s\t%s\n' "$1" "$2" >>"$OUT/commands.tsv"; }

[ -d "$OPENSKY_RECORDINGS/states" ] || { echo "bench: no recordings in $OPENSKY_RECORDINGS (set OPENSKY_RECORDINGS)" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
say "dependencies"
missing=()
$PY -c 'import requests' 2>/dev/null || missing+=(python3-requests)
$PY -c 'import azure.eventhub' 2>/dev/null || missing+=(python3-azure)
[ -x /usr/bin/time ] || missing+=(time)
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)" >&2
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi
for d in test/ehpeer bench/node; do
  if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules" ]; then
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# ---------------------------------------------------------------------------------------------
say "build"
go build -trimpath -o "$BIN/handler" ./cmd/handler                                   # make build
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$BIN/handler-stripped" ./cmd/handler # make build-linux
go build -trimpath -o "$BIN/hello" ./bench/coldstart/hello
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$BIN/hello-stripped" ./bench/coldstart/hello
go build -o "$BIN/replay" ./test/replay
go build -o "$BIN/coldstart" ./bench/coldstart
go test -c -o "$BIN/eventhub.test" ./internal/eventhub
{
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
  echo "go: $(go version)"
  echo "kernel: $(uname -sr)"
  echo "python: $($PY --version 2>&1)"
  echo "requests: $($PY -c 'import requests; print(requests.__version__)')"
  echo "azure.eventhub: $($PY -c 'import azure.eventhub as e; print(e.__version__)')"
  echo "node: $(node --version)"
  echo "@azure/event-hubs: $(node -p 'require("./bench/node/node_modules/@azure/event-hubs/package.json").version')"
  echo "rhea (peer): $(node -p 'require("./test/ehpeer/node_modules/rhea/package.json").version')"
  for f in handler handler-stripped hello hello-stripped; do echo "size $f: $(stat -c %s "$BIN/$f")"; done
} >"$OUT/versions.txt"
cmd size 'go build -trimpath -o handler ./cmd/handler'
cmd size-stripped 'CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o handler ./cmd/handler'

# ---------------------------------------------------------------------------------------------
# Services: a replay per recording, and the peer. PIDS are ours to stop.
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# wait_line FILE REGEX: waits until FILE has a line matching REGEX, prints its first group.
wait_line() {
  for _ in $(seq 200); do
    if v=$(sed -nE "s#$2#\\1#p" "$1" 2>/dev/null | head -1) && [ -n "$v" ]; then echo "$v"; return; fi
    sleep 0.05
  done
  echo "bench: timed out waiting for /$2/ in $1" >&2; exit 1
}

start_replay() { # NAME FILE: sets URL (not in a subshell, so that PIDS keeps the pid)
  "$BIN/replay" -file "$2" >"$OUT/replay-$1.out" 2>"$OUT/replay-$1.err" &
  PIDS+=($!)
  URL="$(wait_line "$OUT/replay-$1.out" '^listening on (http://.*)$')/api"
}

start_peer() { # NAME DIR: sets PEER_CS
  node "$2/peer.js" --port 0 --partitions 4 >"$OUT/peer-$1.out" 2>"$OUT/peer-$1.err" &
  PIDS+=($!)
  local port
  port=$(wait_line "$OUT/peer-$1.out" '^listening on 127\.0\.0\.1:([0-9]+)$')
  PEER_CS="Endpoint=sb://127.0.0.1:$port;SharedAccessKeyName=x;SharedAccessKey=y;EntityPath=opensky;UseDevelopmentEmulator=true"
}

# ---------------------------------------------------------------------------------------------
# One peer for everything: the CPU path batches on its links (sends are no-ops there), and the
# Go test binary then starts no peer of its own, whose memory /usr/bin/time would count as the
# test's (a waited-for child's peak RSS is reported for its parent).
start_peer bench "$ROOT/test/ehpeer"
CS=$PEER_CS
export EVENTHUB_TEST_CONNECTION_STRING=$CS

# ---------------------------------------------------------------------------------------------
say "1. Go CPU path benchmarks (count $COUNT)"
GOBENCH="eventhub.test -test.run '^\$' -test.bench '^(BenchmarkCPUPath|BenchmarkCPUPathCold|BenchmarkStep)\$' -test.benchtime 1s -test.count $COUNT"
cmd gobench "go test -c -o eventhub.test ./internal/eventhub && EVENTHUB_TEST_CONNECTION_STRING=\$PEER ./$GOBENCH"
(cd internal/eventhub && eval "\"$BIN/\"$GOBENCH") | tee "$OUT/gobench.txt" | grep -E '^Benchmark' | cut -c1-110 >&2
sed -n 's/^cpu: */cpu (go test): /p' "$OUT/gobench.txt" | head -1 >>"$OUT/versions.txt"

say "1b. CPU profiles"
PROF="eventhub.test -test.run '^\$' -test.bench '^BenchmarkCPUPath\$/^global-2021-10-17\$/^path\$' -test.benchtime 4s -test.cpuprofile cpu.prof"
cmd profile "EVENTHUB_TEST_CONNECTION_STRING=\$PEER ./$PROF && go tool pprof -top -cum -nodecount 45 eventhub.test cpu.prof"
(cd "$OUT" && eval "\"$BIN/\"$PROF" >/dev/null)
go tool pprof -top -cum -nodecount 45 "$BIN/eventhub.test" "$OUT/cpu.prof" >"$OUT/pprof-top.txt" 2>/dev/null
go tool pprof -top -cum -nodecount 400 "$BIN/eventhub.test" "$OUT/cpu.prof" >"$OUT/pprof-cum.txt" 2>/dev/null
for size in 1k 100k; do
  (cd "$OUT" && "$BIN/eventhub.test" -test.run '^$' -test.bench "^BenchmarkCPUPath\$/^synth-$size\$/^path\$" -test.benchtime 4s -test.cpuprofile "cpu-$size.prof" >/dev/null)
  go tool pprof -top -cum -nodecount 400 "$BIN/eventhub.test" "$OUT/cpu-$size.prof" >"$OUT/pprof-$size-cum.txt" 2>/dev/null
done

say "1c. the runtime's part (BENCHMARKS.md 1e): the path with one P, and with GOGC=400"
RTBENCH="eventhub.test -test.run '^\$' -test.bench '^BenchmarkCPUPath\$/^(global-2021-10-17|small-2018-02-13|synth-1k|synth-10k|synth-50k)\$/' -test.benchtime 1s -test.count 2"
cmd runtime "EVENTHUB_TEST_CONNECTION_STRING=\$PEER \$VARIANT ./$RTBENCH"
for r in 1 2; do # two passes, so that each variant is measured early and late
  for v in default GOMAXPROCS=1 GOGC=400; do
    (cd internal/eventhub && eval "env ${v/default/BENCH_VARIANT=default} \"$BIN/\"$RTBENCH") >>"$OUT/gobench-runtime-$v.txt"
  done
done

# ---------------------------------------------------------------------------------------------
say "2. CPU path side by side: Go, Python, Node ($CPU_ROUNDS rounds)"
mkdir -p "$OUT/cpu"
cmd cpu-go "EVENTHUB_TEST_CONNECTION_STRING=\$PEER ./eventhub.test -test.run '^\$' -test.bench '^BenchmarkCPUPath\$/^\$REC\$/^path\$' -test.benchtime 10x"
cmd cpu-py "/usr/bin/python3 bench/python/send_like.py cpu --file \$RECORDING --repeat 5"
cmd cpu-pybatch "/usr/bin/python3 bench/python/send_like.py cpu --batch --file \$RECORDING --repeat 3"
cmd cpu-node "node bench/node/send.js cpu --file \$RECORDING --repeat 5"
for rec in global-2021-10-17 north-america-2025-01-31; do
  file=$OPENSKY_RECORDINGS/states/$rec.json
  mkdir -p "$OUT/cpu/$rec"
  for r in $(seq "$CPU_ROUNDS"); do
    impls=(go py pybatch node)
    # rotate the order each round, so that none always runs first
    for i in 0 1 2 3; do
      impl=${impls[$(((i + r) % 4))]}
      o=$OUT/cpu/$rec/$r-$impl
      case $impl in
        go) "${TIME[@]}" -o "$o.time" "$BIN/eventhub.test" -test.run '^$' -test.bench "^BenchmarkCPUPath\$/^$rec\$/^path\$" -test.benchtime 10x >"$o.out" 2>"$o.err" ;;
        py) "${TIME[@]}" -o "$o.time" $PY bench/python/send_like.py cpu --file "$file" --repeat 5 >"$o.out" 2>"$o.err" ;;
        pybatch) "${TIME[@]}" -o "$o.time" $PY bench/python/send_like.py cpu --batch --file "$file" --repeat 3 >"$o.out" 2>"$o.err" ;;
        node) "${TIME[@]}" -o "$o.time" node bench/node/send.js cpu --file "$file" --repeat 5 >"$o.out" 2>"$o.err" ;;
      esac
    done
    printf '.' >&2
  done
done
echo >&2

# ---------------------------------------------------------------------------------------------
say "3. whole tick: handler, Node, Python ($TICK_ROUNDS rounds)"
PUBBENCH="eventhub.test -test.run '^\$' -test.bench '^BenchmarkPublishPeer\$' -test.benchtime 5x -test.count 3"
cmd publish "EVENTHUB_TEST_CONNECTION_STRING=\$PEER ./$PUBBENCH"
(cd internal/eventhub && eval "\"$BIN/\"$PUBBENCH") >"$OUT/publish.txt" 2>&1
unset EVENTHUB_TEST_CONNECTION_STRING

cmd tick-go "OPENSKY_BASE_URL=\$REPLAY OPENSKY_SINK=eventhub EVENTHUB_CONNECTION_STRING=\$PEER /usr/bin/time -f '%e %U %S %M' ./handler run --once"
cmd tick-node "/usr/bin/time -f '%e %U %S %M' node bench/node/send.js tick --url \$REPLAY --conn \$PEER"
cmd tick-py "/usr/bin/time -f '%e %U %S %M' /usr/bin/python3 bench/python/send_like.py tick --url \$REPLAY --offline"
mkdir -p "$OUT/tick"
for rec in global-2021-10-17 north-america-2025-01-31; do
  start_replay "$rec" "$OPENSKY_RECORDINGS/states/$rec.json"
  mkdir -p "$OUT/tick/$rec"
  for r in $(seq "$TICK_ROUNDS"); do
    impls=(go node py)
    for i in 0 1 2; do
      impl=${impls[$(((i + r) % 3))]}
      o=$OUT/tick/$rec/$r-$impl
      case $impl in
        go) OPENSKY_BASE_URL=$URL OPENSKY_SINK=eventhub EVENTHUB_CONNECTION_STRING=$CS \
              "${TIME[@]}" -o "$o.time" "$BIN/handler-stripped" run --once >"$o.out" 2>"$o.err" ;;
        node) "${TIME[@]}" -o "$o.time" node bench/node/send.js tick --url "$URL" --conn "$CS" >"$o.out" 2>"$o.err" ;;
        py) "${TIME[@]}" -o "$o.time" $PY bench/python/send_like.py tick --url "$URL" --offline >"$o.out" 2>"$o.err" ;;
      esac || { echo "bench: $impl failed on $rec (round $r): $(tail -3 "$o.err")" >&2; exit 1; }
    done
    printf '.' >&2
  done
  echo >&2
done

# ---------------------------------------------------------------------------------------------
say "4. cold start ($COLD_N runs per case, round-robin)"
cmd coldstart "./coldstart -n $COLD_N -case 'hello (net/http only),hello' -case 'handler: file sink,handler,OPENSKY_SINK=file,OPENSKY_FILE=\$TMP/x.ndjson' -case 'handler: file sink (not stripped),...' -case 'handler: eventhub sink (connects after the first answer),handler,OPENSKY_SINK=eventhub,EVENTHUB_CONNECTION_STRING=\$PEER'"
"$BIN/coldstart" -n "$COLD_N" -out "$OUT/coldstart.json" \
  -case "hello (net/http only),$BIN/hello-stripped" \
  -case "handler: file sink,$BIN/handler-stripped,OPENSKY_SINK=file,OPENSKY_FILE=$OUT/coldstart.ndjson" \
  -case "handler: file sink (not stripped),$BIN/handler,OPENSKY_SINK=file,OPENSKY_FILE=$OUT/coldstart.ndjson" \
  -case "handler: eventhub sink (connects after the first answer),$BIN/handler-stripped,OPENSKY_SINK=eventhub,EVENTHUB_CONNECTION_STRING=$CS" >&2
cmd inittrace "GODEBUG=inittrace=1 ./handler help"
for i in 1 2 3 4 5 6; do GODEBUG=inittrace=1 "$BIN/handler-stripped" help 2>"$OUT/inittrace-$i.txt" >/dev/null; done

cleanup
trap - EXIT

# ---------------------------------------------------------------------------------------------
say "report"
go run ./bench/report -in "$OUT" -out "$REPORT"
echo "bench: results in $OUT, report in $REPORT" >&2
