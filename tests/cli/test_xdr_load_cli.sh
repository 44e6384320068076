#!/usr/bin/env bash
# `aerokafka xdr-load` as a user runs it, against `aerokafka xdr-sink`.
# Usage: test_xdr_load_cli.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$1
tmp=$(mktemp -d)
sink_pids=()
cleanup() {
  for pid in "${sink_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# field NAME JSON: the integer value of "NAME" in a compact JSON summary
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"; }

# start_sink NAME ARGS...: starts xdr-sink, sets $addr to its LISTEN address
start_sink() {
  local name=$1; shift
  "$ak" xdr-sink --quiet "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  sink_pids+=($!)
  addr=""
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/^LISTEN=//p' "$tmp/$name.out" | head -1)
    [ -n "$addr" ] && return 0
    sleep 0.05
  done
  echo "FAIL: xdr-sink $name did not print LISTEN="
  fails=$((fails + 1))
  return 1
}

# --- usage ---
out=$("$ak" --help); contains "help lists xdr-load" "xdr-load" "$out"
out=$("$ak" xdr-load --help); rc=$?
check "xdr-load --help exits 0" 0 "$rc"
contains "help documents the exit status" "Exit status" "$out"
out=$("$ak" xdr-load --records 10 2>&1); rc=$?
check "no --to is a usage error" 2 "$rc"
contains "no --to says what is missing" "--to HOST:PORT" "$out"
out=$("$ak" xdr-load --to 127.0.0.1:1 --protocol udp 2>&1); rc=$?
check "unknown protocol is a usage error" 2 "$rc"
contains "unknown protocol names it" "'udp'" "$out"
out=$("$ak" xdr-load --to 127.0.0.1:1 --deletes 101 2>&1); rc=$?
check "--deletes above 100 is a usage error" 2 "$rc"
out=$("$ak" xdr-load --to nonsense 2>&1); rc=$?
check "a destination without a port is a usage error" 2 "$rc"
contains "bad destination is named" "nonsense" "$out"

# --- nothing listening ---
out=$("$ak" xdr-load --to 127.0.0.1:1 --records 5 --timeout-ms 300 --json 2>"$tmp/err"); rc=$?
check "unreachable destination exits 1" 1 "$rc"
check "unreachable: nothing acknowledged" 0 "$(field acknowledged "$out")"
contains "unreachable is explained" "could be reached" "$(cat "$tmp/err")"

if ! "$ak" --help | grep -q xdr-sink; then
  echo "SKIP: xdr-sink is not built; sink-based checks skipped"
else
  # --- every record acknowledged ---
  start_sink ok --protocol tcp
  out=$("$ak" xdr-load --to "$addr" --records 10000 --json); rc=$?
  check "10000 records: exit 0" 0 "$rc"
  check "10000 records acknowledged" 10000 "$(field acknowledged "$out")"
  check "10000 records shipped once each" 10000 "$(field shipped "$out")"
  check "no retries" 0 "$(field retried "$out")"
  contains "summary says complete" '"complete":true' "$out"

  out=$("$ak" xdr-load --to "$addr" --records 3000 --bins 15 --value-size 100 --deletes 30 \
        --connections 3 --in-flight 8); rc=$?
  check "all types, deletes, 3 connections: exit 0" 0 "$rc"
  contains "text summary shows acknowledged" "acknowledged     3000" "$out"
  contains "text summary shows latency" "latency_us       p50" "$out"

  # --- same seed, same records ---
  start_sink print1 --protocol tcp --print
  "$ak" xdr-load --to "$addr" --records 50 --deletes 20 --seed 7 >/dev/null
  start_sink print2 --protocol tcp --print
  "$ak" xdr-load --to "$addr" --records 50 --deletes 20 --seed 7 >/dev/null
  sleep 0.2
  a=$(grep '^{' "$tmp/print1.out" | sed 's/"lut":[0-9]*,"lut_unix_ms":[0-9]*//' | sort | md5sum)
  b=$(grep '^{' "$tmp/print2.out" | sed 's/"lut":[0-9]*,"lut_unix_ms":[0-9]*//' | sort | md5sum)
  check "the same seed ships the same records (LUT aside)" "$a" "$b"
  check "50 records printed" 50 "$(grep -c '^{' "$tmp/print1.out")"
  contains "records carry the XDR bit" '"info1":["XDR"]' "$(head -2 "$tmp/print1.out")"
  types=$(grep -o '"type":"[a-z-]*"' "$tmp/print1.out" | sort -u | tr -d '\n')
  for t in int double string blob bool list map geojson hll java-blob; do
    contains "bins include $t" "\"type\":\"$t\"" "$types"
  done

  # --- retry-class answers are re-sent until acknowledged ---
  start_sink busy --protocol tcp --answer 14,0
  out=$("$ak" xdr-load --to "$addr" --records 10000 --json); rc=$?
  check "answers 14,0: exit 0" 0 "$rc"
  check "answers 14,0: all acknowledged in the end" 10000 "$(field acknowledged "$out")"
  retried=$(field retried "$out")
  [ "${retried:-0}" -gt 0 ] && pass=$((pass + 1)) || { echo "FAIL: answers 14,0: retried is $retried"; fails=$((fails + 1)); }

  # --- abandon-class answers are counted, not re-sent ---
  start_sink abandon --protocol tcp --answer 4
  out=$("$ak" xdr-load --to "$addr" --records 1000 --json); rc=$?
  check "answer 4: exit 0 (abandoned records are resolved)" 0 "$rc"
  check "answer 4: 1000 abandoned" 1000 "$(field abandoned "$out")"
  check "answer 4: shipped once each" 1000 "$(field shipped "$out")"

  # --- records retried too often are given up ---
  start_sink always_busy --protocol tcp --answer 14
  out=$("$ak" xdr-load --to "$addr" --records 20 --max-retries 2 --json 2>/dev/null); rc=$?
  check "always 14 with --max-retries 2: exit 1" 1 "$rc"
  check "always 14: 20 given up" 20 "$(field gave_up "$out")"
  check "always 14: 3 attempts each" 60 "$(field shipped "$out")"

  # --- silence: timeouts ---
  start_sink silent --protocol tcp --hold-first 5
  out=$("$ak" xdr-load --to "$addr" --records 20 --timeout-ms 300 --json); rc=$?
  check "first 5 unanswered: exit 0 after retries" 0 "$rc"
  check "first 5 unanswered: all acknowledged" 20 "$(field acknowledged "$out")"
  timeouts=$(field timeouts "$out")
  [ "${timeouts:-0}" -ge 5 ] && pass=$((pass + 1)) || { echo "FAIL: timeouts is $timeouts, want >= 5"; fails=$((fails + 1)); }

  # --- rate limit ---
  start_sink rate --protocol tcp
  out=$("$ak" xdr-load --to "$addr" --records 2000 --rate 10000 --json); rc=$?
  check "rate 10000/s: exit 0" 0 "$rc"
  elapsed=$(sed -n 's/.*"elapsed_s":\([0-9.e-]*\).*/\1/p' <<<"$out")
  awk -v e="$elapsed" 'BEGIN { exit !(e >= 0.15) }' && pass=$((pass + 1)) ||
    { echo "FAIL: 2000 records at 10000/s took $elapsed s, want >= 0.15"; fails=$((fails + 1)); }

  # --- two destinations ---
  start_sink two_a --protocol tcp; a_addr=$addr
  start_sink two_b --protocol tcp; b_addr=$addr
  out=$("$ak" xdr-load --to "$a_addr" --to "$b_addr" --records 1000 --json); rc=$?
  check "two destinations: exit 0" 0 "$rc"
  check "two destinations: all acknowledged" 1000 "$(field acknowledged "$out")"
  check "two destinations: one connection each" 2 "$(field connects "$out")"

  # --- legacy HTTP ---
  start_sink http --protocol http
  for proto in http1 http2; do
    out=$("$ak" xdr-load --to "$addr" --protocol $proto --records 500 --in-flight 8 --json); rc=$?
    check "$proto: exit 0" 0 "$rc"
    check "$proto: 500 acknowledged" 500 "$(field acknowledged "$out")"
  done
  start_sink http503 --protocol http --http-status 503,200
  out=$("$ak" xdr-load --to "$addr" --protocol http1 --records 200 --in-flight 4 --json); rc=$?
  check "http 503,200: exit 0" 0 "$rc"
  check "http 503,200: all acknowledged" 200 "$(field acknowledged "$out")"
  retried=$(field retried "$out")
  [ "${retried:-0}" -gt 0 ] && pass=$((pass + 1)) || { echo "FAIL: http 503: retried is $retried"; fails=$((fails + 1)); }
fi

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
