#!/usr/bin/env bash
# xdr-load throughput over TCP against `aerokafka xdr-sink`, beside the
# ceiling measured in the same run: the same sink driven with maximal
# pipelining (4 connections x 4096 in flight), i.e. as fast as the listener
# and the loopback can go on this machine.
#
# Usage: bench/xdr_load_bench.sh [path/to/aerokafka] [records]
# Build first with `./build.sh build` (release build/aerokafka).
set -euo pipefail
ak=${1:-build/aerokafka}
records=${2:-1000000}
# What a default XDR-like shipper looks like: one connection, 64 in flight.
shipper_args=${XDR_LOAD_ARGS:-"--connections 1 --in-flight 64"}
ceiling_args="--connections 4 --in-flight 4096"
record_args="--bins 4 --value-size 64"

[ -x "$ak" ] || { echo "no $ak: run ./build.sh build first" >&2; exit 1; }
tmp=$(mktemp -d)
sink_pid=
cleanup() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$ak" xdr-sink --quiet --protocol tcp >"$tmp/sink.out" 2>"$tmp/sink.err" &
sink_pid=$!
addr=
for _ in $(seq 1 400); do
  addr=$(sed -n 's/^LISTEN=//p' "$tmp/sink.out" | head -1)
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "xdr-sink did not start" >&2; exit 1; }

field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p" <<<"$2"; }

run() { # label, extra args
  local out
  out=$("$ak" xdr-load --to "$addr" --records "$records" $record_args $2 --json)
  [ "$(field acknowledged "$out")" == "$records" ] || { echo "$1: not every record acknowledged: $out" >&2; exit 1; }
  echo "$out"
}

"$ak" xdr-load --to "$addr" --records 100000 $record_args $shipper_args --json >/dev/null # warm-up
load=$(run "xdr-load" "$shipper_args")
ceiling=$(run "ceiling" "$ceiling_args")

load_tp=$(field throughput "$load")
ceiling_tp=$(field throughput "$ceiling")
echo "xdr-load over TCP, $records records ($record_args), $(nproc) CPUs"
printf "%-34s %12.0f acks/s   p50 %6s us   p99 %6s us   p99.9 %6s us\n" \
  "xdr-load ($shipper_args)" "$load_tp" "$(field p50_us "$load")" "$(field p99_us "$load")" \
  "$(field p999_us "$load")"
printf "%-34s %12.0f acks/s   p50 %6s us   p99 %6s us   p99.9 %6s us\n" \
  "ceiling ($ceiling_args)" "$ceiling_tp" "$(field p50_us "$ceiling")" \
  "$(field p99_us "$ceiling")" "$(field p999_us "$ceiling")"
awk -v a="$load_tp" -v c="$ceiling_tp" 'BEGIN { printf "ratio                              %12.2f of the ceiling\n", a / c }'
