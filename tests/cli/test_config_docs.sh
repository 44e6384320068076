#!/usr/bin/env bash
# docs/CONFIGURATION.md is exactly what `aerokafka config-docs` prints, so the
# reference never goes stale. Regenerate: build/aerokafka config-docs > docs/CONFIGURATION.md
# Usage: test_config_docs.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$1
root=$(cd "$(dirname "$0")/../.." && pwd)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$ak" config-docs >"$out"; rc=$?
check "config-docs succeeds" 0 "$rc"
if cmp -s "$out" "$root/docs/CONFIGURATION.md"; then
  pass=$((pass + 1))
else
  echo "FAIL: docs/CONFIGURATION.md differs from \`aerokafka config-docs\`; regenerate it:"
  echo "  build/aerokafka config-docs > docs/CONFIGURATION.md"
  diff "$root/docs/CONFIGURATION.md" "$out" | head -20
  fails=$((fails + 1))
fi
check "config-docs --help" 0 "$("$ak" config-docs --help >/dev/null; echo $?)"
check "config-docs is hidden from the command list" "" "$("$ak" --help | grep config-docs)"
"$ak" config-docs extra >/dev/null 2>&1; rc=$?
check "an extra argument is a usage error" 2 "$rc"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
