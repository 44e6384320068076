#!/usr/bin/env bash
# Runs the official-client interop tests against the given aerokafka binary.
# Installs the pinned client (package-lock.json) on first use.
# Usage: run.sh path/to/aerokafka [test files...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export AEROKAFKA_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
cd "$here"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "interop: Node.js >= 20 is needed (the aerospike package ships prebuilt bindings for 20+); found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi
# Install the pinned client when it is missing or the lockfile changed.
if [ ! -f node_modules/aerospike/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
fi
if [ $# -eq 0 ]; then
  set -- *.test.js
fi
exec node --test --test-concurrency=1 "$@"
