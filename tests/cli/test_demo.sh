#!/usr/bin/env bash
# `aerokafka demo`: the whole round trip in one process, judged by what a
# first-time user sees: exit 0, a summary whose counts add up with lost 0,
# flat-json messages printed as they arrive in Kafka and the records they
# became in the sink, plain progress lines when stdout is not a terminal,
# usage errors, and a clean stop on SIGINT.
# Usage: test_demo.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$1
work=$(mktemp -d)
demo_pid=
cleanup() {
  if [ -n "$demo_pid" ]; then kill -KILL "$demo_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- a full run, stdout not a terminal ----------------------------------
start=$(date +%s)
"$ak" demo --records 300 > "$work/out" 2> "$work/err"
status=$?
elapsed=$(( $(date +%s) - start ))
out=$(cat "$work/out")
check "demo --records 300 exits 0 (stderr: $(head -c 300 "$work/err"))" 0 "$status"
check "demo finishes well under a minute (took ${elapsed}s)" yes "$([ "$elapsed" -lt 45 ] && echo yes || echo no)"
# 300 writes, every 4th record from 1 updated (75), every 10th from 9 deleted (30).
contains "changes counted" "changes made          405  (300 writes, 75 updates, 30 deletes; 0 failed)" "$out"
contains "every change shipped" "shipped               405  XDR notifications" "$out"
contains "every change published" "published             405  records in Kafka" "$out"
contains "every message seen in Kafka, per topic" "seen in kafka         405  (375 on aerospike-changes, 30 on aerospike-deletes)" "$out"
contains "every message written back" "written back          405  (375 writes, 30 deletes; 0 invalid)" "$out"
contains "every record verified" "verified              300  records (270 equal in both, 30 deleted from both)" "$out"
check "lost is 0" 1 "$(grep -cE '^  lost +0$' "$work/out")"
contains "the summary says how values were compared" "blobs and HLL as Base64 text" "$out"
check "no live-line carriage returns when stdout is not a terminal" 0 "$(tr -cd '\r' < "$work/out" | wc -c)"
check "plain progress lines" yes "$([ "$(grep -c '^progress ' "$work/out")" -ge 1 ] && echo yes || echo no)"

# The Kafka messages printed are flat-json exactly as the outbound wrote them:
# two writes, an update, a delete; and each is followed by its record landing.
python3 - "$work/out" > "$work/messages" <<'EOF'
import json, sys
writes = updates = deletes = landed = gone = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("kafka   aerospike-"):
        value = json.loads(line.split("]: ", 1)[1])
        meta = value["metadata"]
        assert meta["namespace"] == "source" and meta["set"] == "demo", meta
        assert len(meta["digest"]) == 28, meta
        if meta["msg"] == "delete":
            assert line.startswith("kafka   aerospike-deletes"), line
            assert set(value) == {"metadata"}, value
            deletes += 1
        else:
            assert meta["msg"] == "write", meta
            for b in ("id", "str", "int", "dbl", "bool", "hll", "geo", "list", "map", "imap"):
                assert b in value, (b, value)
            assert isinstance(value["geo"], dict) and isinstance(value["imap"], dict)
            if "extra" in value:
                assert "blob" not in value, value  # the update removed it
                updates += 1
            else:
                writes += 1
    elif line.startswith("sink    sink/demo, landed: "):
        value = json.loads(line.split("landed: ", 1)[1])
        assert value["metadata"]["namespace"] == "sink", value
        landed += 1
    elif line.startswith("sink    sink/demo: the record is gone"):
        gone += 1
print(writes, updates, deletes, landed, gone)
EOF
check "flat-json messages printed: writes, updates, deletes, landed, gone" "2 1 1 3 1" "$(cat "$work/messages")"

# ---- usage errors ---------------------------------------------------------
"$ak" demo --records 0 > /dev/null 2> "$work/err"
check "--records 0 is a usage error" 2 "$?"
contains "--records 0 says why" "--records: '0' is not a number" "$(cat "$work/err")"
"$ak" demo --no-such-option > /dev/null 2>&1
check "an unknown option is a usage error" 2 "$?"
"$ak" demo --help > "$work/help"
check "--help exits 0" 0 "$?"
contains "--help names --records" "--records N" "$(cat "$work/help")"

# ---- Ctrl-C stops everything cleanly -----------------------------------------
"$ak" demo --records 1000000 --plain > "$work/int.out" 2> "$work/int.err" &
demo_pid=$!
for _ in $(seq 1 300); do
  grep -q '^writing ' "$work/int.out" 2>/dev/null && break
  sleep 0.1
done
contains "the long run started writing" "writing 1000000 records" "$(cat "$work/int.out")"
kill -INT "$demo_pid"
stopped=no
for _ in $(seq 1 150); do
  if ! kill -0 "$demo_pid" 2>/dev/null; then stopped=yes; break; fi
  sleep 0.1
done
check "SIGINT stops the demo within 15 s" yes "$stopped"
wait "$demo_pid"
check "an interrupted demo exits 130" 130 "$?"
demo_pid=
contains "an interrupted demo says so" "interrupted; everything stopped" "$(cat "$work/int.err")"
check "an interrupted demo prints no summary" 0 "$(grep -c '^summary' "$work/int.out")"

summary
