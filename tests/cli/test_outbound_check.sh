#!/usr/bin/env bash
# `aerokafka outbound --check` as a user runs it: a good configuration is
# accepted; every kind of mistake stops with exit 1 and a message of the
# form docs/CONFIGURATION.md promises: `FILE:LINE: section.key: what was
# expected, got what`.
# Usage: test_outbound_check.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # we cd below

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

# A good configuration; the bad ones below each change one thing in it, so
# the line numbers in the expected messages are those of this text.
good() {
  cat <<'EOF'
service:
  port: 8080
producer-props:
  bootstrap.servers: 127.0.0.1:9092
  linger.ms: 5
format:
  mode: flat-json
  metadata-key: metadata
routing:
  mode: static
  destination: events
EOF
}

run_check() { # config file -> sets out (stdout+stderr) and rc
  out=$("$ak" outbound --check --config "$1" 2>&1)
  rc=$?
}

# --- the good configuration --------------------------------------------
good > good.yml
out=$("$ak" outbound --check --config good.yml 2>/dev/null); rc=$?
check "a good configuration passes --check" 0 "$rc"
check "--check says so on stdout, naming the file" "good.yml: configuration is valid" "$out"

# --- mistakes in aerokafka's own tables ----------------------------------
good | sed 's/^  port: 8080$/  port: 8080\n  colour: blue/' > unknown.yml
run_check unknown.yml
check "an unknown key exits 1" 1 "$rc"
check "an unknown key is named with its file and line" \
  "aerokafka outbound: unknown.yml:3: service: unknown key 'colour'" "$out"

good | sed 's/^  port: 8080$/  port: eighty/' > wrongtype.yml
run_check wrongtype.yml
check "a wrong type exits 1" 1 "$rc"
check "a wrong type says what was expected and what was found" \
  "aerokafka outbound: wrongtype.yml:2: service.port: expected an integer 1..65535, got \"eighty\"" "$out"

good | sed 's/^  port: 8080$/  port: 8080\n  max-concurrent-records: 0/' > range.yml
run_check range.yml
check "an out-of-range value exits 1" 1 "$rc"
check "an out-of-range value gives the range" \
  "aerokafka outbound: range.yml:3: service.max-concurrent-records: expected an integer 1..16777216, got \"0\"" "$out"

good | sed '/metadata-key/d' > missing.yml
run_check missing.yml
check "a missing required key exits 1" 1 "$rc"
check "a missing required key is named at its section's line" \
  "aerokafka outbound: missing.yml:6: format.metadata-key: required when mode is flat-json" "$out"

good > nested.yml
cat >> nested.yml <<'EOF'
namespaces:
  test:
    sets:
      demo:
        routing:
          mode: bin
EOF
run_check nested.yml
check "a missing key in a per-set override exits 1" 1 "$rc"
check "a per-set key is named by its full path" \
  "aerokafka outbound: nested.yml:16: namespaces.test.sets.demo.routing.bin: required when mode is bin" "$out"

good | sed 's/^  mode: flat-json$/  mode: custom/' > custom.yml
run_check custom.yml
check "format mode custom exits 1" 1 "$rc"
check "format mode custom explains that Java plug-ins cannot run" \
  "aerokafka outbound: custom.yml:7: format.mode: 'custom' needs a Java plug-in (custom transformer, router or formatter), and aerokafka cannot run Java plug-ins; use the built-in modes" \
  "$out"

good | sed 's/^  port: 8080$/  port: 8080\n  tls:\n    port: 8443\n    key-store:\n      store-file: svc.keystore.jks/' > jks.yml
run_check jks.yml
check "a JKS key-store exits 1" 1 "$rc"
check "a JKS key-store names the PEM keys to use instead" \
  "aerokafka outbound: jks.yml:5: service.tls.key-store: JKS/PKCS12 stores are not supported: aerokafka needs PEM files (cert-file, key-file, ca-file); convert with keytool -importkeystore -deststoretype PKCS12, then openssl pkcs12 -nodes (see docs/CONFIGURATION.md)" \
  "$out"

# --- producer properties librdkafka refuses ------------------------------
# CONFIGURATION.md: librdkafka refuses unknown properties at start, and
# every refusal reads FILE:LINE: section.key: ..., got what.
good | sed 's/^  linger.ms: 5$/  linger.ms: 5\n  acks: sometimes/' > acks.yml
run_check acks.yml
check "acks: sometimes exits 1" 1 "$rc"
contains "acks: sometimes names producer-props and the property" "producer-props.acks:" "$out"
contains "acks: sometimes is located by file and line" "acks.yml:6: producer-props.acks" "$out"
# CONFIGURATION.md promises "got what"; librdkafka's text names its own
# alias (request.required.acks) and not the value, so aerokafka must add it.
contains "acks: sometimes shows the value refused" "sometimes" "$out"

good | sed 's/^  linger.ms: 5$/  linger.ms: 5\n  no.such.property: 1/' > nosuch.yml
run_check nosuch.yml
check "an unknown producer property exits 1" 1 "$rc"
check "an unknown producer property is named, located and explained" \
  'aerokafka outbound: nosuch.yml:6: producer-props.no.such.property: No such configuration property: "no.such.property" (librdkafka), got "1"' \
  "$out"

# --- the file itself ------------------------------------------------------
run_check "$dir/absent/aerospike-kafka-outbound.yml"
check "a missing configuration file exits 1" 1 "$rc"
check "a missing configuration file is named" \
  "aerokafka outbound: $dir/absent/aerospike-kafka-outbound.yml: No such file or directory" "$out"

printf 'service:\n  port: [8080\n' > broken.yml
run_check broken.yml
check "unparsable YAML exits 1" 1 "$rc"
contains "unparsable YAML is located in the file" "aerokafka outbound: broken.yml:3: " "$out"

# --- usage ----------------------------------------------------------------
out=$("$ak" outbound --help 2>&1); rc=$?
check "outbound --help exits 0" 0 "$rc"
contains "outbound --help shows the usage" "usage: aerokafka outbound --config FILE [--check]" "$out"
contains "outbound --help explains --check" "--check" "$out"
out=$("$ak" outbound --no-such-option 2>&1); rc=$?
check "an unknown option is a usage error" 2 "$rc"
contains "an unknown option is named" "'--no-such-option'" "$out"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
