#!/usr/bin/env bash
# The inbound connector's throughput: JSON records in kafka-dev -> aerokafka
# inbound -> aerospike-dev, beside its ceiling measured in the same run on
# the same machine: the same writes (5 bins, about 200 bytes, distinct string
# keys) issued directly through the Aerospike client as fast as it goes
# (bench_client), each side into an aerospike-dev node of its own, started
# empty. Prints both and their ratio.
#
# The topic is filled before anything is timed (bench_fill). The connector
# then starts with a new consumer group; its clock runs from the last
# metrics poll that saw no record consumed yet (so the group join is not
# counted) to the first poll that sees every record written. Polls are
# POLL_MS apart, so the time is over-counted by at most two of them:
#   records/s = records / (t(first poll with written = records)
#                          - t(last poll with consumed = 0))
# Write latency p50/p99 (issue -> answer, per record) are the connector's
# own "write-latency-us" metrics at the end.
#
# Usage: bench/inbound_bench.sh [build-dir] [records]
#   THREADS=N      the connector's processing-threads (default 0, the
#                  connector's own default: one per CPU; 1 maps records on the
#                  event loop itself, which measured slower on 2 cores)
#   PARTITIONS=N   partitions of the topic (default: one per 15,625 records,
#                  at least 4; kafka-dev keeps at most 5 MB per partition, and
#                  bench_fill refuses a topic that lost records)
#   IN_FLIGHT=N    the ceiling's puts outstanding (default 2048)
#   POLL_MS=N      metrics poll interval (default 10)
#   PERF_OUT=FILE  record the connector with `perf record -g` into FILE
#                  (then: perf report -i FILE --no-children --sort sym)
# Build first: ./build.sh build   (release build/aerokafka, bench_client, bench_fill)
set -euo pipefail
dir=${1:-build}
records=${2:-1000000}
ak=$dir/aerokafka
partitions=${PARTITIONS:-$(( (records + 15624) / 15625 < 4 ? 4 : (records + 15624) / 15625 ))}
poll_ms=${POLL_MS:-10}

for tool in "$ak" "$dir/bench_client" "$dir/bench_fill"; do
  [ -x "$tool" ] || { echo "build first: ./build.sh build ($tool missing)" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=()
# Stop in reverse order of start, each before the next: the connector
# commits its offsets and leaves its group while kafka-dev still runs.
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pids[i]}" 2>/dev/null || true
  done
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

"$ak" kafka-dev --topic "bench:$partitions" >"$tmp/kafka.out" 2>"$tmp/kafka.err" &
pids+=($!)
kafka_pid=$!
bootstrap=$(first_line "$tmp/kafka.out" BOOTSTRAP)
"$dir/bench_fill" "$bootstrap" bench "$records" >"$tmp/fill.json"

# Each side writes into a node of its own, started empty: a node already
# holding the other side's million records answers more slowly (longer hash
# chains, a table that doubles mid-run), which would favour whichever ran
# first.
start_node() { # name -> sets seeds, asd_host, asd_port
  "$ak" aerospike-dev --port 0 >"$tmp/$1.out" 2>"$tmp/$1.err" &
  pids+=($!)
  seeds=$(first_line "$tmp/$1.out" AEROSPIKE)
  asd_host=${seeds%%:*}
  asd_port=${seeds##*:}
}

# CPU seconds (user + system) a process has used so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }

# the ceiling: the client alone (its CPU: the child's rusage, from python)
start_node asd-ceiling
ceiling_node=$!
ceiling_node_cpu0=$(cpu_s "$ceiling_node")
python3 - "$tmp/ceiling.cpu" "$dir/bench_client" --seeds "$seeds" --records "$records" \
  --in-flight "${IN_FLIGHT:-2048}" --set inbound --json >"$tmp/ceiling.json" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{ru.ru_utime + ru.ru_stime:.3f}\n")
sys.exit(rc)
PY
ceiling_node_cpu=$(python3 -c "print($(cpu_s "$ceiling_node") - $ceiling_node_cpu0)")
kill "$ceiling_node"
wait "$ceiling_node" 2>/dev/null || true
unset 'pids[${#pids[@]}-1]'

# the connector, into a fresh node
start_node asd-connector
asd_pid=$!

manage=$(free_port)
cat >"$tmp/inbound.yml" <<YML
max-queued-records: ${MAX_QUEUED:-32768}
processing-threads: ${THREADS:-0}
consumer-props:
  bootstrap.servers: $bootstrap
  group.id: inbound-bench-$$
  auto.offset.reset: earliest
aerospike:
  seeds:
    - $asd_host:
        port: $asd_port
topics:
  bench:
    invalid-record: kill-task
    value-format: {mode: json}
    key-format: {mode: string}
    mapping:
      namespace: {mode: static, value: test}
      set: {mode: static, value: inbound}
      key-field: {source: key}
      bins: {type: multi-bins, all-value-fields: true}
service:
  manage:
    address: 127.0.0.1
    port: $manage
logging:
  levels:
    root: ${LOG_LEVEL:-warn}
YML
"$ak" inbound --config "$tmp/inbound.yml" >"$tmp/inbound.out" 2>"$tmp/inbound.err" &
inbound_pid=$!
pids+=($inbound_pid)
if [ -n "${PERF_OUT:-}" ]; then
  perf record -q ${PERF_ARGS:--g} -o "$PERF_OUT" -p "$inbound_pid" 2>"$tmp/perf.err" &
  perf_pid=$!
fi

python3 - "http://127.0.0.1:$manage/manage/rest/v1/metrics" "$records" "$poll_ms" "$inbound_pid" \
  "$asd_pid" "$kafka_pid" >"$tmp/connector.json" <<'PY'
import json, os, sys, time, urllib.request
url, n, poll_s, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000, int(sys.argv[4])
watched = [pid, int(sys.argv[5]), int(sys.argv[6])]   # connector, aerospike-dev, kafka-dev
hz = os.sysconf("SC_CLK_TCK")
def cpu(p):
    with open(f"/proc/{p}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz
def metrics():
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)
deadline = time.monotonic() + float(os.environ.get("TIMEOUT_S", "120"))
t_idle = None   # last poll that saw nothing consumed
while True:
    if time.monotonic() > deadline:
        sys.exit("inbound_bench: the connector did not finish in time")
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("inbound_bench: the connector exited")
    t = time.monotonic()
    cpu_t = [cpu(p) for p in watched]
    try:
        m = metrics()
    except OSError:
        time.sleep(poll_s)
        continue
    if m["records-consumed"] == 0:
        t_idle = t
        cpu_idle = cpu_t
    elif t_idle is None:
        sys.exit("inbound_bench: records were consumed before the first poll; cannot start the clock")
    if m["records-written"] + m["records-failed"] >= n:
        t_done = time.monotonic()
        cpu_done = [cpu(p) for p in watched]
        break
    time.sleep(poll_s)
lat = m["write-latency-us"]
secs = t_done - t_idle
print(json.dumps({"records": n, "written": m["records-written"], "failed": m["records-failed"],
                  "elapsed_s": secs, "records_per_s": m["records-written"] / secs,
                  "p50_us": lat["p50"], "p99_us": lat["p99"],
                  "cpu_s": [d - i for d, i in zip(cpu_done, cpu_idle)]}))
PY

if [ -n "${PERF_OUT:-}" ]; then
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
fi
written=$(json "['written']" <"$tmp/connector.json")
[ "$written" = "$records" ] || { echo "inbound_bench: the connector wrote $written of $records records" >&2; cat "$tmp/inbound.err" >&2; exit 1; }
a=$(json "['records_per_s']" <"$tmp/ceiling.json")
a50=$(json "['p50_us']" <"$tmp/ceiling.json")
a99=$(json "['p99_us']" <"$tmp/ceiling.json")
c=$(json "['records_per_s']" <"$tmp/connector.json")
c50=$(json "['p50_us']" <"$tmp/connector.json")
c99=$(json "['p99_us']" <"$tmp/connector.json")
size=$(json "['avg_value_bytes']" <"$tmp/fill.json")
cc=$(json "['cpu_s'][0]" <"$tmp/connector.json")
cn=$(json "['cpu_s'][1]" <"$tmp/connector.json")
ck=$(json "['cpu_s'][2]" <"$tmp/connector.json")
ac=$(cat "$tmp/ceiling.cpu")
python3 - "$a" "$a50" "$a99" "$c" "$c50" "$c99" "$records" "$size" "$partitions" "${THREADS:-0}" "$poll_ms" \
  "$cc" "$cn" "$ck" "$ac" "$ceiling_node_cpu" <<'PY'
import sys
a, a50, a99, c, c50, c99, n, size, parts, threads, poll, cc, cn, ck, ac, an = (float(x) for x in sys.argv[1:])
print(f"inbound benchmark: {int(n)} JSON records of about {size:.0f} bytes, 5 fields, {int(parts)} partitions, "
      f"processing-threads {int(threads)}{' (one per CPU)' if threads == 0 else ''}")
print(f"  connector  kafka-dev -> inbound -> aerospike-dev : {c:12,.0f} records/s  write p50 {c50:.0f} us  p99 {c99:.0f} us")
print(f"  ceiling    client puts -> aerospike-dev          : {a:12,.0f} records/s  put   p50 {a50:.0f} us  p99 {a99:.0f} us")
print(f"  ratio connector / ceiling                        : {c / a:.2f}")
print(f"  (connector time from the last poll with nothing consumed to the first with all written; "
      f"polls every {poll:.0f} ms)")
us = 1e6 / n
print(f"  CPU per record: connector {cc * us:.2f} us + aerospike-dev {cn * us:.2f} us + kafka-dev {ck * us:.2f} us"
      f" = {(cc + cn + ck) * us:.2f} us;  ceiling: client {ac * us:.2f} us + aerospike-dev {an * us:.2f} us"
      f" = {(ac + an) * us:.2f} us")
PY
