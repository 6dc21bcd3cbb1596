#!/usr/bin/env bash
# The demo: Fastify on 127.0.0.1:3000 in front of real FastCGI backends (README quick start).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
npm run --silent build
exec node examples/demo.js "$@"
