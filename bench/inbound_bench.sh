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
#   ROUNDS=N       rounds of ceiling then connector (default 3); the medians
#                  are compared (single figures swing by a third on a shared
#                  2-core machine; alternating gives both the same weather)
#   PERF_OUT=FILE  record the connector of the first round with `perf record
#                  -g` into FILE (then: perf report -i FILE --no-children --sort sym)
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
start_node() { # name -> sets node_pid, seeds, asd_host, asd_port
  "$ak" aerospike-dev --port 0 >"$tmp/$1.out" 2>"$tmp/$1.err" &
  node_pid=$!
  pids+=($node_pid)
  seeds=$(first_line "$tmp/$1.out" AEROSPIKE)
  asd_host=${seeds%%:*}
  asd_port=${seeds##*:}
}
# stops the last process started (the connector commits and leaves its group
# while kafka-dev still runs)
stop_last() {
  local pid=${pids[${#pids[@]}-1]}
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'pids[${#pids[@]}-1]'
}

# CPU seconds (user + system) a process has used so far
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }

ceiling_round() { # round
  start_node "asd-ceiling$1"
  local node_cpu0
  node_cpu0=$(cpu_s "$node_pid")
  # the client's CPU: the child's rusage, from python
  python3 - "$tmp/ceiling$1.cpu" "$dir/bench_client" --seeds "$seeds" --records "$records" \
    --in-flight "${IN_FLIGHT:-2048}" --set inbound --json >"$tmp/ceiling$1.json" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write(f"{ru.ru_utime + ru.ru_stime:.3f}\n")
sys.exit(rc)
PY
  python3 -c "print($(cpu_s "$node_pid") - $node_cpu0)" >"$tmp/ceiling$1.node-cpu"
  stop_last
}

connector_round() { # round
  start_node "asd-connector$1"
  local asd_pid=$node_pid manage
  manage=$(free_port)
  cat >"$tmp/inbound$1.yml" <<YML
max-queued-records: ${MAX_QUEUED:-32768}
processing-threads: ${THREADS:-0}
consumer-props:
  bootstrap.servers: $bootstrap
  group.id: inbound-bench-$$-$1
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
  "$ak" inbound --config "$tmp/inbound$1.yml" >"$tmp/inbound$1.out" 2>"$tmp/inbound$1.err" &
  local inbound_pid=$! perf_pid=
  pids+=($inbound_pid)
  if [ -n "${PERF_OUT:-}" ] && [ "$1" = 1 ]; then
    # after the processing threads exist: perf -p follows only threads
    # present when it attaches (the group join takes seconds anyway)
    sleep 0.5
    perf record -q ${PERF_ARGS:--g} -o "$PERF_OUT" -p "$inbound_pid" 2>"$tmp/perf.err" &
    perf_pid=$!
  fi

  python3 - "http://127.0.0.1:$manage/manage/rest/v1/metrics" "$records" "$poll_ms" "$inbound_pid" \
    "$asd_pid" "$kafka_pid" >"$tmp/connector$1.json" <<'PY'
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

  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
  fi
  local written
  written=$(json "['written']" <"$tmp/connector$1.json")
  [ "$written" = "$records" ] || { echo "inbound_bench: the connector wrote $written of $records records" >&2; cat "$tmp/inbound$1.err" >&2; exit 1; }
  stop_last   # the connector
  stop_last   # its node
}

rounds=${ROUNDS:-3}
for ((r = 1; r <= rounds; r++)); do
  ceiling_round "$r"
  connector_round "$r"
done

python3 - "$tmp" "$rounds" "$records" "${THREADS:-0}" "$poll_ms" "$partitions" <<'PY'
import json, statistics, sys
tmp, rounds, n, threads, poll, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6])
def load(path):
    with open(f"{tmp}/{path}") as f:
        return json.load(f)
def number(path):
    with open(f"{tmp}/{path}") as f:
        return float(f.read())
R = range(1, rounds + 1)
a = [load(f"ceiling{r}.json") for r in R]
c = [load(f"connector{r}.json") for r in R]
size = load("fill.json")["avg_value_bytes"]
med = statistics.median
am, cm = med(x["records_per_s"] for x in a), med(x["records_per_s"] for x in c)
us = 1e6 / n
cc, cn, ck = (med(x["cpu_s"][i] for x in c) * us for i in range(3))
ac, an = med(number(f"ceiling{r}.cpu") for r in R) * us, med(number(f"ceiling{r}.node-cpu") for r in R) * us
print(f"inbound benchmark: {n} JSON records of about {size:.0f} bytes, 5 fields, {parts} partitions, "
      f"processing-threads {threads}{' (one per CPU)' if threads == 0 else ''}; median of {rounds} alternating rounds")
print(f"  connector  kafka-dev -> inbound -> aerospike-dev : {cm:12,.0f} records/s  write p50 "
      f"{med(x['p50_us'] for x in c):.0f} us  p99 {med(x['p99_us'] for x in c):.0f} us")
print(f"  ceiling    client puts -> aerospike-dev          : {am:12,.0f} records/s  put   p50 "
      f"{med(x['p50_us'] for x in a):.0f} us  p99 {med(x['p99_us'] for x in a):.0f} us")
print(f"  ratio connector / ceiling                        : {cm / am:.2f}")
print("  rounds (connector / ceiling, ratio): " +
      ", ".join(f"{x['records_per_s'] / 1000:.0f}k / {y['records_per_s'] / 1000:.0f}k "
                f"{x['records_per_s'] / y['records_per_s']:.2f}" for x, y in zip(c, a)))
print(f"  CPU per record: connector {cc:.2f} us + aerospike-dev {cn:.2f} us + kafka-dev {ck:.2f} us"
      f" = {cc + cn + ck:.2f} us;  ceiling: client {ac:.2f} us + aerospike-dev {an:.2f} us = {ac + an:.2f} us")
print(f"  (connector time from the last poll with nothing consumed to the first with all written; "
      f"polls every {poll} ms)")
PY
