#!/usr/bin/env bash
# The benchmark, in one command (`npm run bench`, `npm run bench:short`):
#   bash bench/run.sh            full mode: 8 scenarios x every gateway x 3 rounds (about 40 min)
#   bash bench/run.sh --short    3 scenarios, 1 round, 5 s each (a few minutes): to check a change
#   bash bench/run.sh --profile  node --cpu-prof on fastify-fastcgi, C hello over a unix socket (--scenarios X: another;
#                                --gateways node-floor or node-floor-heap, or PROFILE_GATEWAY=...: a floor instead)
#   bash bench/run.sh --gc-trace node --trace-gc on fastify-fastcgi, C 64 KiB over a unix socket: scavenges,
#                                mark-compacts, CPU of the main thread against the other threads (--scenarios,
#                                --gateways node-floor-heap or fastify-fastcgi:node=--max-semi-space-size=4, --duration)
# Other options go to bench/lib/bench.js (--rounds N --duration S --scenarios a,b --gateways a,b).
#
# 1. installs what is missing (Debian: lighttpd nginx h2o caddy php-fpm libfcgi-dev wrk gcc;
#    npm: bench/package.json's Node FastCGI clients into bench/node_modules), as root only;
#    a package Debian does not have is reported and its gateway is left out of the results,
# 2. builds dist/ (tsc) and the C hello (test/fixtures/c/hello.c) into bench/.build/,
# 3. runs bench/lib/bench.js: loopback and unix sockets only, bounded in time; every process it
#    starts is recorded by pid and stopped on exit, here too (trap) should the driver die.
# Results: bench/results/<date>-<mode>.md (printed too).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
cd "$ROOT"

say () { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

BENCH_TMP="$(mktemp -d /tmp/ffcgi-bench.XXXXXX)"
BENCH_PIDS="$BENCH_TMP/pids"
: > "$BENCH_PIDS"
export BENCH_TMP BENCH_PIDS
DRIVER_PID=""

cleanup () {
  local code=$?
  trap - EXIT INT TERM
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$DRIVER_PID" 2>/dev/null || true
  fi
  # whatever the driver started and did not stop (it stops its own on a normal exit)
  local pid
  while read -r pid; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done < "$BENCH_PIDS"
  sleep 0.3
  while read -r pid; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done < "$BENCH_PIDS"
  rm -rf "$BENCH_TMP"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. Debian packages ---------------------------------------------------------------------
has_fpm () {
  command -v php-fpm >/dev/null 2>&1 && return 0
  local f
  for f in /usr/sbin/php-fpm*; do [ -x "$f" ] && return 0; done
  return 1
}
have () {
  case "$1" in
    php-fpm) has_fpm ;;
    libfcgi-dev) [ -f /usr/include/fcgiapp.h ] || [ -f /usr/local/include/fcgiapp.h ] ;;
    libc6-dev) [ -f /usr/include/stdio.h ] ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ;;
  esac
}
MISSING=()
for pkg in lighttpd nginx h2o caddy php-fpm libfcgi-dev wrk gcc libc6-dev; do
  have "$pkg" || MISSING+=("$pkg")
done
if [ "${#MISSING[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing from Debian: ${MISSING[*]}"
    apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed; trying with the lists there are"
    # no grep -q below: it stops reading at the first match, apt-cache then dies of SIGPIPE, and
    # under pipefail every package looked missing from Debian
    INSTALLABLE=()
    for pkg in "${MISSING[@]}"; do
      if apt-cache policy "$pkg" 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then INSTALLABLE+=("$pkg")
      else say "Debian has no package $pkg here: its gateway is left out"; fi
    done
    if [ "${#INSTALLABLE[@]}" -gt 0 ]; then
      # a web server's package would start its service (port 80) on install: keep it from doing so
      POLICY_ADDED=""
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && POLICY_ADDED=1
      fi
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${INSTALLABLE[@]}" >/dev/null 2>&1 \
        || say "apt-get install failed for some of: ${INSTALLABLE[*]}"
      if [ -n "$POLICY_ADDED" ]; then rm -f /usr/sbin/policy-rc.d; fi
    fi
  else
    say "missing (not root, not installing): ${MISSING[*]}"
  fi
fi
command -v wrk >/dev/null 2>&1 || { say "wrk is required"; exit 1; }
command -v gcc >/dev/null 2>&1 && { [ -f /usr/include/fcgiapp.h ] || [ -f /usr/local/include/fcgiapp.h ]; } \
  || { say "gcc and libfcgi-dev are required for the C backend"; exit 1; }

# --- 2. npm packages, dist/, the C hello ----------------------------------------------------
if [ ! -d node_modules/fastify ]; then
  say "npm ci (the project's dependencies)"
  npm ci --no-audit --no-fund >/dev/null
fi
if [ ! -d "$BENCH_DIR/node_modules/fastcgi-client" ] || [ ! -d "$BENCH_DIR/node_modules/php-fpm" ] \
  || [ "$BENCH_DIR/package-lock.json" -nt "$BENCH_DIR/node_modules/.package-lock.json" ]; then
  say "npm ci in bench/ (the Node FastCGI clients)"
  (cd "$BENCH_DIR" && npm ci --no-audit --no-fund >/dev/null) || say "npm ci in bench/ failed: the Node clients are left out"
fi
say "building dist/ (tsc -p tsconfig.build.json)"
npx tsc -p tsconfig.build.json
mkdir -p "$BENCH_DIR/.build"
HELLO_BIN="$BENCH_DIR/.build/hello"
if [ ! -x "$HELLO_BIN" ] || [ test/fixtures/c/hello.c -nt "$HELLO_BIN" ] || [ test/fixtures/c/query.h -nt "$HELLO_BIN" ]; then
  say "compiling test/fixtures/c/hello.c"
  gcc -O2 -Wall -o "$HELLO_BIN" test/fixtures/c/hello.c -lfcgi -lpthread -lm
fi
export HELLO_BIN

# --- 3. the run -------------------------------------------------------------------------------
export BENCH_COMMAND="${BENCH_COMMAND:-bash bench/run.sh${*:+ $*}}"
node "$BENCH_DIR/lib/bench.js" "$@" &
DRIVER_PID=$!
wait "$DRIVER_PID"
