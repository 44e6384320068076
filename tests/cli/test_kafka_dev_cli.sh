#!/usr/bin/env bash
# `aerokafka kafka-dev` as a user runs it, driven with kcat.
# Usage: test_kafka_dev_cli.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$1

if ! command -v kcat >/dev/null; then
  echo "FAIL: kcat is not installed (Debian package kcat)"
  echo "0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d)
dev_pid=
cleanup() {
  if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
    kill -KILL "$dev_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Waits up to $2 tenths of a second for child $1 to exit and sets exit_rc
# to its status, or to "running" if it is still there. Runs in this shell,
# not in $(...), because only the parent can wait for a child.
wait_exit() {
  local pid=$1 tenths=$2 i
  exit_rc=running
  for ((i = 0; i < tenths; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      exit_rc=$?
      return
    fi
    sleep 0.1
  done
}

# Start three brokers with a pre-created topic; the first stdout line is the
# bootstrap list. The fifo lets us read that line while the server runs on.
mkfifo "$work/out"
"$ak" kafka-dev --brokers 3 --topic orders:4 >"$work/out" 2>"$work/err" &
dev_pid=$!
exec 3<"$work/out"
line=
read -r -t 20 line <&3
bootstrap=${line#BOOTSTRAP=}
contains "first stdout line is BOOTSTRAP=" "BOOTSTRAP=127.0.0.1:" "$line"
check "bootstrap lists three brokers" 3 "$(tr ',' '\n' <<<"$bootstrap" | grep -c '^127\.0\.0\.1:[0-9]\+$')"

meta=$(kcat -b "$bootstrap" -L -m 10 2>&1)
contains "kcat sees three brokers" " 3 brokers:" "$meta"
check "kcat lists brokers 1..3" "1 2 3" "$(sed -n 's/^ *broker \([0-9]*\) at .*/\1/p' <<<"$meta" | sort | xargs)"
contains "orders has four partitions" 'topic "orders" with 4 partitions:' "$meta"

# Produce to the pre-created topic and read back exactly the same lines.
seq -f "order-%g" 1 200 >"$work/sent"
kcat -b "$bootstrap" -P -t orders -m 10 <"$work/sent" 2>"$work/produce.err"
check "kcat -P exits 0" 0 "$?"
kcat -b "$bootstrap" -C -t orders -o beginning -e -q -m 10 >"$work/got" 2>"$work/consume.err"
check "kcat -C -e exits 0" 0 "$?"
check "every message comes back once" "$(sort "$work/sent" | md5sum)" "$(sort "$work/got" | md5sum)"
check "message count" 200 "$(wc -l <"$work/got")"

# A topic nobody created: the producer's metadata request creates it.
printf 'x\ny\n' | kcat -b "$bootstrap" -P -t fresh -m 10 2>/dev/null
check "auto-created topic takes messages" "x y" \
  "$(kcat -b "$bootstrap" -C -t fresh -o beginning -e -q -m 10 2>/dev/null | sort | xargs)"
contains "auto-created topic has four partitions" 'topic "fresh" with 4 partitions:' \
  "$(kcat -b "$bootstrap" -L -t fresh -m 10 2>&1)"

# SIGTERM stops it promptly and cleanly.
kill -TERM "$dev_pid"
wait_exit "$dev_pid" 50
check "SIGTERM: exits 0 within 5 s" 0 "$exit_rc"
exec 3<&-
contains "stderr says why it stopped" "stopping" "$(cat "$work/err")"

# SIGINT too, with the defaults (one broker).
"$ak" kafka-dev >"$work/out2" 2>"$work/err2" &
dev_pid=$!
for ((i = 0; i < 100; i++)); do
  grep -q '^BOOTSTRAP=' "$work/out2" && break
  sleep 0.1
done
check "default: one broker" 1 "$(sed -n 's/^BOOTSTRAP=//p' "$work/out2" | tr ',' '\n' | grep -c .)"
kill -INT "$dev_pid"
wait_exit "$dev_pid" 50
check "SIGINT: exits 0 within 5 s" 0 "$exit_rc"
dev_pid=

# Bad arguments are usage errors that name the argument.
out=$("$ak" kafka-dev --brokers zero 2>&1); rc=$?
check "--brokers zero exits 2" 2 "$rc"
contains "--brokers zero is named" "--brokers 'zero'" "$out"
out=$("$ak" kafka-dev --brokers 0 2>&1); rc=$?
check "--brokers 0 exits 2" 2 "$rc"
out=$("$ak" kafka-dev --topic orders 2>&1); rc=$?
check "--topic without partitions exits 2" 2 "$rc"
contains "--topic without partitions is named" "--topic 'orders'" "$out"
out=$("$ak" kafka-dev --topic 'bad/name:3' 2>&1); rc=$?
check "--topic with a bad name exits 2" 2 "$rc"
contains "--topic with a bad name is named" "'bad/name'" "$out"
out=$("$ak" kafka-dev --topic t:0 2>&1); rc=$?
check "--topic with 0 partitions exits 2" 2 "$rc"
contains "--topic with 0 partitions is named" "--topic 't:0'" "$out"
out=$("$ak" kafka-dev --topic t:1 --topic t:2 2>&1); rc=$?
check "a topic given twice exits 2" 2 "$rc"
contains "a topic given twice is named" "'t': given twice" "$out"
# Fixed ports: brokers on P, P+1, ... and the bootstrap list says so.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ak" kafka-dev --brokers 2 --port "$port" >"$work/fixed.out" 2>"$work/fixed.err" &
fixed_pid=$!
for _ in $(seq 1 100); do grep -q BOOTSTRAP "$work/fixed.out" 2>/dev/null && break; sleep 0.05; done
check "--port places the brokers on consecutive ports" "BOOTSTRAP=127.0.0.1:$port,127.0.0.1:$((port + 1))" \
  "$(head -1 "$work/fixed.out")"
contains "--port: kcat reaches broker 2 on the next port" "broker 2 at 127.0.0.1:$((port + 1))" \
  "$(kcat -b "127.0.0.1:$port" -L 2>&1)"
out=$("$ak" kafka-dev --port "$port" 2>&1); rc=$?
check "--port on a port in use fails" 1 "$rc"
contains "--port on a port in use says so" "could not listen on ports $port" "$out"
kill "$fixed_pid"; wait "$fixed_pid" 2>/dev/null
out=$("$ak" kafka-dev --brokers 2 --port 65535 2>&1); rc=$?
check "--port range past 65535 exits 2" 2 "$rc"
out=$("$ak" kafka-dev --bogus 2>&1); rc=$?
check "unknown option exits 2" 2 "$rc"
contains "unknown option is named" "'--bogus'" "$out"
out=$("$ak" kafka-dev --brokers 2>&1); rc=$?
check "missing value exits 2" 2 "$rc"
contains "missing value is named" "--brokers needs a value" "$out"
out=$("$ak" kafka-dev extra 2>&1); rc=$?
check "stray argument exits 2" 2 "$rc"

out=$("$ak" kafka-dev --help); rc=$?
check "--help exits 0" 0 "$rc"
contains "--help shows usage" "usage: aerokafka kafka-dev" "$out"
contains "main help lists kafka-dev" "kafka-dev" "$("$ak" --help)"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
