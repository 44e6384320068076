#!/usr/bin/env bash
# `aerokafka xdr-sink` as a shipper's test partner: TCP replies, HTTP/1.1
# and h2c answers, --answer, --print, and a clean exit on SIGTERM.
# Usage: test_xdr_sink_cli.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$1
work=$(mktemp -d)
sink_pid=
cleanup() {
  if [ -n "$sink_pid" ]; then kill -KILL "$sink_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The spec's put example (section 8): one AS_MSG frame.
put_hex="02 03 00 00 00 00 00 52 16 00 01 00 00 00 00000000 00000000 000003e8 0003 0001
     00000005 00 74657374 00000005 01 64656d6f 00000015 04 b747f5854d0b33259928d0cfab7fad81d6abfbf6
     0000000d 02 01 00 01 62 0000000000000001"
put_hex=$(echo "$put_hex" | tr -d ' \n')
printf '%s' "$put_hex" | xxd -r -p > "$work/put.bin"
{ printf '\001'; cat "$work/put.bin"; } > "$work/post1.bin"
{ printf '\002'; cat "$work/put.bin"; } > "$work/post2.bin"

# Starts the sink with the given options; sets $addr (host:port) and $sink_pid.
start_sink() {
  # A fresh file: the child truncates it only once it runs, and the loop
  # below must not read the previous sink's LISTEN line meanwhile.
  rm -f "$work/out" "$work/err"
  "$ak" xdr-sink --quiet "$@" > "$work/out" 2> "$work/err" &
  sink_pid=$!
  addr=
  for _ in $(seq 1 200); do
    if [ -s "$work/out" ]; then
      addr=$(head -1 "$work/out" | sed -n 's/^LISTEN=//p')
      [ -n "$addr" ] && return 0
    fi
    sleep 0.05
  done
  echo "FAIL: xdr-sink $* printed no LISTEN line"; cat "$work/err"
  fails=$((fails + 1))
  return 1
}

# Stops the sink with SIGTERM; sets $rc.
stop_sink() {
  kill -TERM "$sink_pid"
  wait "$sink_pid"
  rc=$?
  sink_pid=
}

# Sends the put frame n times over one TCP connection, prints the reply bytes as hex.
tcp_send() { # addr count
  python3 - "$1" "$2" "$work/put.bin" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
count = int(sys.argv[2])
frame = open(sys.argv[3], "rb").read()
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(frame * count)
want, got = 30 * count, b""
while len(got) < want:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
print(got.hex())
EOF
}

# --- TCP ---
if start_sink; then
  contains "LISTEN line names the loopback address" "127.0.0.1:" "$addr"
  reply=$(tcp_send "$addr" 1)
  check "a put gets a reply with result 0" "020300000000001616$(printf '0%.0s' $(seq 1 42))" "$reply"
  check "the reply is exactly one 30-byte message" 60 "${#reply}"
  reply=$(tcp_send "$addr" 3)
  check "three pipelined puts get three replies" 180 "${#reply}"
  # An info request echoes its names with empty values.
  info=$(python3 - "$addr" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
body = b"node\nbuild\n"
s.sendall(bytes([2, 1]) + len(body).to_bytes(6, "big") + body)
hdr = s.recv(8)
size = int.from_bytes(hdr[2:8], "big")
data = b""
while len(data) < size:
    data += s.recv(size - len(data))
print(repr(data.decode()))
EOF
)
  check "an info request gets its names back" "'node\\t\\nbuild\\t\\n'" "$info"
  stop_sink
  check "SIGTERM exits 0" 0 "$rc"
  summary=$(cat "$work/err")
  contains "the summary counts messages" "received 4, answered 4 (0:4), held 0, malformed 0" "$summary"
fi

if start_sink --answer 14; then
  reply=$(tcp_send "$addr" 1)
  check "--answer 14 answers KEY_BUSY" "0e" "${reply:26:2}"
  stop_sink
  contains "the summary counts code 14" "answered 1 (14:1)" "$(cat "$work/err")"
fi

if start_sink --answer 0,2; then
  reply=$(tcp_send "$addr" 2)
  check "--answer 0,2 cycles the codes" "00 02" "${reply:26:2} ${reply:86:2}"
  stop_sink
fi

if start_sink --print; then
  tcp_send "$addr" 1 > /dev/null
  sleep 0.2
  printed=$(sed -n 2p "$work/out")
  contains "--print shows the namespace" '"namespace":"test"' "$printed"
  contains "--print shows the digest" '"digest":"b747f5854d0b33259928d0cfab7fad81d6abfbf6"' "$printed"
  stop_sink
fi

if start_sink --hold-first 1; then
  reply=$(python3 - "$addr" "$work/put.bin" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
frame = open(sys.argv[2], "rb").read()
s = socket.create_connection((host, int(port)), timeout=0.5)
s.sendall(frame)
try:
    print(s.recv(100).hex() or "closed")
except socket.timeout:
    print("no answer")
s.close()
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(frame)
print(s.recv(100).hex()[:12])
EOF
)
  check "--hold-first 1 leaves the first message unanswered, then answers" \
    $'no answer\n020300000000' "$reply"
  stop_sink
  contains "the summary counts the held message" "held 1" "$(cat "$work/err")"
fi

if start_sink; then
  python3 - "$addr" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\n\r\n")
s.recv(100)  # the sink closes the connection
EOF
  stop_sink
  contains "a bad frame header counts as malformed" "malformed 1" "$(cat "$work/err")"
fi

# --- HTTP ---
if start_sink --protocol http --print; then
  code=$(curl -s -o /dev/null -w '%{http_code} %{http_version}' --noproxy '*' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$work/post1.bin" "http://$addr/aerospike")
  check "HTTP/1.1 POST with version byte 1 gets 200" "200 1.1" "$code"
  code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --data-binary @"$work/post2.bin" "http://$addr/aerospike")
  check "version byte 2 gets 501" "501" "$code"
  code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' -X POST "http://$addr/aerospike")
  check "an empty body gets 400" "400" "$code"
  body=$(curl -s -w ' %{http_code}' --noproxy '*' "http://$addr/health")
  check "GET is a health check" "ok 200" "$body"
  code=$(curl -s -o /dev/null -w '%{http_code} %{http_version}' --noproxy '*' --http2-prior-knowledge \
    --data-binary @"$work/post1.bin" "http://$addr/aerospike")
  check "h2c POST gets 200" "200 2" "$code"
  sleep 0.2
  printed=$(sed -n 2p "$work/out")
  contains "--print decodes the HTTP body after its version byte" '"set":"demo"' "$printed"
  stop_sink
  check "SIGTERM exits 0 (http)" 0 "$rc"
  contains "the http summary" "received 2, answered 2 (200:2), held 0, malformed 2" "$(cat "$work/err")"
fi

if start_sink --protocol http --http-status 503; then
  code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' --data-binary @"$work/post1.bin" "http://$addr/")
  check "--http-status 503 answers 503" "503" "$code"
  stop_sink
fi

out=$("$ak" xdr-sink --protocol udp 2>&1); rc=$?
check "an unknown protocol is a usage error" 2 "$rc"
contains "an unknown protocol is named" "'udp'" "$out"
out=$("$ak" xdr-sink --answer 300 2>&1); rc=$?
check "a result code above 255 is a usage error" 2 "$rc"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
