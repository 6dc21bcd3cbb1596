#!/usr/bin/env bash
# The demo: Fastify on 127.0.0.1:3000 (PORT) in front of real FastCGI backends (README quick
# start): the example Node FastCGI app under /app/ and php-cgi for *.php. On a fresh Debian
# machine, as root, php-cgi is installed when it is missing, the way `npm test` installs what the
# tests need; otherwise the demo says how and serves /app/ alone.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v php-cgi >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "demo: installing php-cgi (apt-get install php-cgi)" >&2
    # no service may start on install: a policy-rc.d that denies starts, unless there is one
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    installed=0
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends php-cgi; then
      installed=1
    fi
    [ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$installed" -eq 1 ] || echo "demo: apt-get install php-cgi failed; serving /app/ only" >&2
  else
    echo "demo: php-cgi is not installed, so *.php is not served; to add it: sudo apt-get install php-cgi (Debian/Ubuntu)" >&2
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
npm run --silent build
exec node examples/demo.js "$@"
