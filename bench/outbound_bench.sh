#!/usr/bin/env bash
# The outbound connector's throughput: xdr-load over TCP -> aerokafka
# outbound (flat-json) -> kafka-dev, beside the two ceilings it sits between,
# measured in the same run on the same machine:
#   (a) the same xdr-load against a trivial acknowledging listener (xdr-sink):
#       what the XDR side alone can do;
#   (b) a bare librdkafka producer sending the same records, pre-formatted as
#       flat-json, to the same kafka-dev: what the Kafka side alone can do.
# Prints the three figures and the ratio of the connector to the lower ceiling.
#
# The three are measured ROUNDS times, alternating, and the medians are
# compared: on a shared 2-core machine a single figure swings by a third from
# one second to the next, and alternating gives both sides the same weather.
#
# Usage: bench/outbound_bench.sh [build-dir] [records]
#   IO_THREADS=N   connector pipelines (default 1: on a 2-core machine that also
#                  runs the load generator and kafka-dev, one pipeline does best)
#   IN_FLIGHT=N    xdr-load notifications in flight per connection (4 connections)
#   ROUNDS=N       rounds of the three measurements (default 3)
#   KEEP=1         keep the working folder (configurations, logs, JSON summaries)
# Build first: ./build.sh build   (release build/aerokafka and build/bench_produce)
set -euo pipefail
dir=${1:-build}
records=${2:-1000000}
ak=$dir/aerokafka
bins=5
value_size=${VALUE_SIZE:-24}
load_args="--records $records --bins $bins --value-size $value_size --connections 4 --in-flight ${IN_FLIGHT:-2048} --json"

[ -x "$ak" ] && [ -x "$dir/bench_produce" ] || { echo "build first: ./build.sh build" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

first_line() { # file prefix
  for _ in $(seq 1 200); do
    v=$(sed -n "s/^$2=//p" "$1" | head -1)
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.05
  done
  echo "no $2= line in $1" >&2; return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

"$ak" kafka-dev --topic bench:4 --topic ceiling:4 >"$tmp/kafka.out" 2>"$tmp/kafka.err" &
pids+=($!)
bootstrap=$(first_line "$tmp/kafka.out" BOOTSTRAP)

# (a) is measured against xdr-sink
"$ak" xdr-sink --quiet >"$tmp/sink.out" 2>"$tmp/sink.err" &
pids+=($!)
sink=$(first_line "$tmp/sink.out" LISTEN)

# the connector
port=$(free_port)
manage=$(free_port)
cat >"$tmp/outbound.yml" <<YML
service:
  port: $port
  io-threads: ${IO_THREADS:-1}
  manage:
    port: $manage
producer-props:
  bootstrap.servers: $bootstrap
format:
  mode: flat-json
  metadata-key: metadata
routing:
  mode: static
  destination: bench
logging:
  levels:
    root: warn
YML
"$ak" outbound --config "$tmp/outbound.yml" >"$tmp/outbound.out" 2>"$tmp/outbound.err" &
pids+=($!)
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$manage/manage/rest/v1/metrics" >/dev/null && break
  sleep 0.05
done
# warm-up: the producer's first metadata and idempotence handshake are not
# part of the steady state being measured
"$ak" xdr-load --to "127.0.0.1:$port" --records 20000 --bins $bins --value-size $value_size >/dev/null

rounds=${ROUNDS:-3}
for ((r = 1; r <= rounds; r++)); do
  # (a) xdr-load against xdr-sink
  "$ak" xdr-load --to "$sink" $load_args >"$tmp/a$r.json"
  # (b) bare librdkafka producer, same records pre-formatted
  "$dir/bench_produce" "$bootstrap" ceiling "$records" "$bins" "$value_size" >"$tmp/b$r.json"
  # the connector
  "$ak" xdr-load --to "127.0.0.1:$port" $load_args >"$tmp/c$r.json"
done

python3 - "$tmp" "$rounds" "$records" <<'PY'
import json, statistics, sys
tmp, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name, r):
    with open(f"{tmp}/{name}{r}.json") as f:
        return json.load(f)
a = [load("a", r)["throughput"] for r in range(1, rounds + 1)]
b = [load("b", r)["records_per_s"] for r in range(1, rounds + 1)]
c = [load("c", r) for r in range(1, rounds + 1)]
size = load("b", 1)["avg_value_bytes"]
ct = [x["throughput"] for x in c]
med = statistics.median
am, bm, cm = med(a), med(b), med(ct)
print(f"outbound benchmark: {n} records, flat-json values of about {size:.0f} bytes, 5 bins; "
      f"median of {rounds} alternating rounds")
print(f"  connector  xdr-load -> outbound -> kafka-dev : {cm:12,.0f} records/s  ack p50 "
      f"{med(x['p50_us'] for x in c):.0f} us  p99 {med(x['p99_us'] for x in c):.0f} us")
print(f"  ceiling a  xdr-load -> xdr-sink               : {am:12,.0f} records/s")
print(f"  ceiling b  librdkafka -> kafka-dev            : {bm:12,.0f} records/s")
print(f"  ratio connector / lower ceiling               : {cm / min(am, bm):.2f}")
print("  rounds (connector / ceiling b, ratio): " +
      ", ".join(f"{x / 1000:.0f}k / {y / 1000:.0f}k {x / min(y, z):.2f}" for x, y, z in zip(ct, b, a)))
PY
