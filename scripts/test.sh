#!/usr/bin/env bash
# The test command (`npm test`, and what .ci/run runs). On a fresh Debian 12 machine:
#   1. installs the Debian packages the tests use, only those missing (as root; otherwise it
#      says what is missing and the tests that need it skip),
#   2. runs `npm ci` when node_modules is missing or older than package-lock.json,
#   3. typechecks (tsc --noEmit), 4. runs tap over test/**/*.test.ts.
# Extra arguments go to tap: `npm test -- test/cgi`, `npm test -- --reporter=tap`.
# Exits non-zero when anything fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step () { printf '\n\033[1m== %s\033[0m\n' "$*"; }
warn () { printf 'test.sh: %s\n' "$*" >&2; }

# --- 1. Debian packages -------------------------------------------------------------------
PACKAGES=(php-cgi php-fpm lighttpd gcc libc6-dev libfcgi-dev libfcgi-bin libfcgi-perl fcgiwrap spawn-fcgi iproute2 curl)

has_fpm () {
  command -v php-fpm >/dev/null 2>&1 && return 0
  local f
  for f in /usr/sbin/php-fpm*; do [ -x "$f" ] && return 0; done
  return 1
}

# Whether what the package provides is there (a command or a file), so that a machine that
# has it another way (a versioned php-fpm, say) is not sent to apt for nothing.
have () {
  case "$1" in
    php-cgi) command -v php-cgi ;;
    php-fpm) has_fpm ;;
    lighttpd) command -v lighttpd || [ -x /usr/sbin/lighttpd ] ;;
    gcc) command -v gcc ;;
    libc6-dev) [ -f /usr/include/stdio.h ] ;;
    libfcgi-dev) [ -f /usr/include/fcgiapp.h ] ;;
    libfcgi-bin) command -v cgi-fcgi ;;
    libfcgi-perl) perl -MFCGI -e 1 ;;
    fcgiwrap) command -v fcgiwrap || [ -x /usr/sbin/fcgiwrap ] ;;
    spawn-fcgi) command -v spawn-fcgi ;;
    iproute2) command -v ss ;;
    curl) command -v curl ;;
    *) dpkg -s "$1" 2>/dev/null | grep '^Status: install ok installed' >/dev/null ;;
  esac
} >/dev/null 2>&1

# pids of the services these packages may start on install (from their usual pid files)
service_pids () {
  local f
  for f in /run/lighttpd.pid /var/run/lighttpd.pid /run/php/php*-fpm.pid; do
    [ -f "$f" ] && printf '%s\n' "$(cat "$f" 2>/dev/null)"
  done | grep -E '^[0-9]+$' | sort -u
}

missing=()
for pkg in "${PACKAGES[@]}"; do have "$pkg" || missing+=("$pkg"); done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "installing Debian packages: ${missing[*]}"
    # no service may start on install (lighttpd would take port 80, php-fpm its socket):
    # a policy-rc.d that denies starts, unless the machine already has one
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    before="$(service_pids)"
    apt_ok=0
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"; then
      apt_ok=1
    fi
    [ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    # a service started anyway by this install (not one that ran before): stop it by pid
    for pid in $(service_pids); do
      if ! grep -qx "$pid" <<<"$before" && kill -0 "$pid" 2>/dev/null; then
        warn "stopping service process $pid started by the package install"
        kill "$pid" 2>/dev/null || true
      fi
    done
    if [ "$apt_ok" -ne 1 ]; then
      warn "apt-get install failed"
      exit 1
    fi
    still=()
    for pkg in "${missing[@]}"; do have "$pkg" || still+=("$pkg"); done
    if [ "${#still[@]}" -gt 0 ]; then warn "still missing after install: ${still[*]}"; exit 1; fi
  else
    warn "missing Debian packages (not root or no apt-get, not installing): ${missing[*]}"
    warn "the tests that need them will be skipped; as root: apt-get install ${missing[*]}"
  fi
fi

# --- 2. node_modules ----------------------------------------------------------------------
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund || { warn "npm ci failed"; exit 1; }
fi

# --- 3. typecheck -------------------------------------------------------------------------
step "typecheck: tsc -p tsconfig.json --noEmit"
typecheck=0
if npx tsc -p tsconfig.json --noEmit; then
  echo "typecheck ok"
else
  typecheck=1
  warn "typecheck FAILED (errors above); running the tests anyway"
fi

# --- 4. tests -----------------------------------------------------------------------------
# with no file or directory among the arguments, every test/**/*.test.ts
has_target=0
for arg in "$@"; do case "$arg" in -*) ;; *) has_target=1 ;; esac; done
targets=()
if [ "$has_target" -eq 0 ]; then
  shopt -s globstar nullglob
  targets=(test/**/*.test.ts)
  shopt -u globstar nullglob
  if [ "${#targets[@]}" -eq 0 ]; then warn "no test files under test/"; exit 1; fi
fi

if [ "$has_target" -eq 0 ]; then step "tap: ${#targets[@]} test files"; else step "tap $*"; fi
tap_log="$(mktemp)"
npx tap "$@" "${targets[@]}" 2>&1 | tee "$tap_log"
tests=${PIPESTATUS[0]}
# one plain closing line ('N passed, N failed') from tap's own summary
summary="$(grep -aE '^# \{ total: [0-9]+' "$tap_log" | tail -n 1)"
rm -f "$tap_log"
closing=""
if [ -n "$summary" ]; then
  num () { local v; v="$(sed -nE "s/.*[ {]$1: ([0-9]+).*/\\1/p" <<<"$summary")"; echo "${v:-0}"; }
  closing="tests: $(num pass) passed, $(num fail) failed, $(num skip) skipped"
fi

# the helpers stop what they start; say so if a test backend (temp dirs named ffcgi-*) still listens
if command -v ss >/dev/null 2>&1; then
  left="$(ss -lxpn 2>/dev/null | grep -F /ffcgi- || true)"
  [ -n "$left" ] && warn "test backends still listening after the run:"$'\n'"$left"
fi

if [ "$typecheck" -ne 0 ]; then
  warn "FAILED: typecheck (tests exit code $tests)"
  tests=1
fi
[ -n "$closing" ] && echo "$closing"
exit "$tests"
