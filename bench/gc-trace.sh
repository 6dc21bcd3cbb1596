#!/usr/bin/env bash
# What V8's garbage collector does in one Node gateway under load, against the C hello (2
# libfcgi processes on a unix socket): scavenges, mark-compacts, what started incremental
# marking, the heap's spaces, and the CPU of the main thread against V8's helper threads.
#   bash bench/gc-trace.sh [gateway.js] [node flags...]
#   env: BYTES (response size, default 65536), CONNECTIONS (wrk -c, default 50),
#        DURATION (s, default 8), SAME_HEAP=1 (node-floor.js holding the heap ours holds)
# Run `bash bench/run.sh --short` once first: it builds dist/ and bench/.build/hello.
# Loopback and a unix socket in a temp dir only; stops what it started, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
GATEWAY=${1:-bench/gateways/fastify-fastcgi.js}
shift || true
BYTES=${BYTES:-65536} CONNECTIONS=${CONNECTIONS:-50} DURATION=${DURATION:-8}
[ -x bench/.build/hello ] || { echo "bench/.build/hello is missing: run bash bench/run.sh --short first" >&2; exit 1; }
DIR=$(mktemp -d)
PIDS=()
stop () {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap stop EXIT
SOCK=$DIR/hello.sock
# two libfcgi processes on one listening socket (fd 0), each our own child
# (the launcher stops its two children when it is stopped)
python3 - "$SOCK" > /dev/null 2>&1 <<'EOF' &
import os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1024)
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        os.dup2(s.fileno(), 0)
        os.execv('bench/.build/hello', ['hello'])
    pids.append(pid)
s.close()
def stop(*_):
    for pid in pids: os.kill(pid, signal.SIGKILL)
signal.signal(signal.SIGTERM, stop)
for pid in pids: os.waitpid(pid, 0)
EOF
LAUNCHER=$!
PIDS+=("$LAUNCHER")
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$PORT BACKEND=unix:$SOCK KIND=c MAX_CONCURRENCY=2 KEEP_ALIVE=1 BUFFER_REQUEST_BODY=1 NODE_ENV=production \
  node --trace-gc --trace-incremental-marking "$@" "$GATEWAY" > "$DIR/gateway.out" 2>&1 &
GW=$!
PIDS=("$GW" "${PIDS[@]}")
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/hello" && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/hello?bytes=$BYTES"
wrk -t1 -c"$CONNECTIONS" -d2s "$URL" > /dev/null
# utime + stime in clock ticks: of the whole process, and of its main thread
ticks () { awk '{print $14 + $15}' "/proc/$GW/stat"; awk '{print $14 + $15}' "/proc/$GW/task/$GW/stat"; }
mapfile -t BEFORE < <(ticks)
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL" > "$DIR/wrk.out"
mapfile -t AFTER < <(ticks)
REQUESTS=$(awk '/requests in/ {print $1}' "$DIR/wrk.out")
MAIN=$(( AFTER[1] - BEFORE[1] ))
HELPERS=$(( AFTER[0] - BEFORE[0] - MAIN ))
HZ=$(getconf CLK_TCK)
echo "gateway: $GATEWAY $* (SAME_HEAP=${SAME_HEAP:-}), ${BYTES} bytes, wrk -c$CONNECTIONS ${DURATION}s: $REQUESTS requests"
echo "CPU per request: main thread $(( MAIN * 1000000 / HZ / REQUESTS )) us, other threads (V8 helpers, libuv) $(( HELPERS * 1000000 / HZ / REQUESTS )) us"
echo "peak RSS: $(awk '/VmHWM/ {print int($2 / 1024)}' /proc/"$GW"/status) MiB"
echo "scavenges: $(grep -c 'Scavenge' "$DIR/gateway.out" || true), mark-compacts: $(grep -c 'Mark-Compact' "$DIR/gateway.out" || true)"
echo "incremental marking started by:"
grep -o 'IncrementalMarking\] Start ([a-z ]*)' "$DIR/gateway.out" | sort | uniq -c || echo "  (never)"
echo "last mark-compact: $(grep 'Mark-Compact' "$DIR/gateway.out" | tail -1 | sed 's/^.*Mark-Compact/Mark-Compact/; s/, [0-9.]* \/.*//' || true)"
