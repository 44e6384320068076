#!/usr/bin/env bash
# The sample configurations in etc/ are what a user starts from, so they
# must pass `--check` as shipped, and so must every key they show commented
# out (a user uncomments them). A typo in a copy must be refused with the
# file and line, as docs/CONFIGURATION.md promises.
# Usage: test_sample_configs.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
etc=$(cd "$(dirname "$0")/../../etc" && pwd)
sample=$etc/aerospike-kafka-outbound.yml

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# --- as shipped ------------------------------------------------------------
out=$("$ak" outbound --check --config "$sample" 2>&1); rc=$?
check "the outbound sample passes --check" 0 "$rc"
check "--check says so, naming the file" "$sample: configuration is valid" "$out"

# --- with every commented-out key uncommented --------------------------------
# "  # key: value" becomes "  key: value" (prose comments have no "key:" right
# after the '#'). The files the sample names are made here: a throwaway
# certificate for service.tls, a CA file for the Kafka client.
mkdir -p "$dir/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=xdr.test \
  -keyout "$dir/tls/connector.key" -out "$dir/tls/connector.pem" 2>/dev/null
cp "$dir/tls/connector.pem" "$dir/tls/ca.pem"
cp "$dir/tls/connector.pem" "$dir/tls/kafka-ca.pem"
sed -E -e 's/^( *)# ( *[a-z][a-z0-9._-]*:( |$))/\1\2/' \
  -e "s#/etc/aerokafka/tls/#$dir/tls/#" -e "s#/var/log/aerokafka/#$dir/#" "$sample" > "$dir/all-keys.yml"
uncommented=$(diff "$sample" "$dir/all-keys.yml" | grep -c '^>')
[ "$uncommented" -ge 10 ] && enough=yes || enough="no, $uncommented"
check "at least 10 commented-out keys were uncommented" yes "$enough"
contains "the uncommented copy has the TLS section" "    cert-file: tls/connector.pem" "$(cat "$dir/all-keys.yml")"
out=$("$ak" outbound --check --config "$dir/all-keys.yml" 2>&1); rc=$?
check "the sample with every commented-out key uncommented passes --check ($out)" 0 "$rc"

# --- a typo in a copy is refused with file and line ----------------------------
typo_line=$(grep -n '^  metadata-key:' "$sample" | cut -d: -f1)
sed 's/^  metadata-key:/  metadata-kye:/' "$sample" > "$dir/typo.yml"
out=$("$ak" outbound --check --config "$dir/typo.yml" 2>&1); rc=$?
check "a typo'd key exits 1" 1 "$rc"
contains "a typo'd key is named with its file and line" "$dir/typo.yml:$typo_line: format: unknown key 'metadata-kye'" "$out"

# ============================================================================
# The inbound sample: the same promises. --check validates the properties
# without connecting, so it must pass with no Kafka and no Aerospike running.
inbound=$etc/aerospike-kafka-inbound.yml

# --- as shipped ------------------------------------------------------------
out=$("$ak" inbound --check --config "$inbound" 2>&1); rc=$?
check "the inbound sample passes --check" 0 "$rc"
check "inbound --check says so, naming the file" "$inbound: configuration is valid" "$out"

# Nothing listens on port 1: a check that tried to reach the brokers would
# fail or hang there; it must answer at once.
sed -e 's/^  bootstrap.servers: .*/  bootstrap.servers: 127.0.0.1:1/' "$inbound" > "$dir/no-kafka.yml"
start=$(date +%s%N)
out=$("$ak" inbound --check --config "$dir/no-kafka.yml" 2>&1); rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "inbound --check passes with the brokers unreachable ($out)" 0 "$rc"
[ "$elapsed_ms" -lt 3000 ] && quick=yes || quick="no, ${elapsed_ms} ms"
check "inbound --check does not wait for Kafka" yes "$quick"

# --- with every commented-out key uncommented --------------------------------
# The files it names (relative to the configuration's directory): a CA file
# for aerospike.tls, a password file for aerospike.credentials.
mkdir -p "$dir/secrets"
echo 'not-a-real-password' > "$dir/secrets/aerospike-password.txt"
sed -E -e 's/^( *)# ( *[a-z][a-z0-9._-]*:( |$))/\1\2/' "$inbound" > "$dir/inbound-all-keys.yml"
uncommented=$(diff "$inbound" "$dir/inbound-all-keys.yml" | grep -c '^>')
[ "$uncommented" -ge 5 ] && enough=yes || enough="no, $uncommented"
check "at least 5 commented-out inbound keys were uncommented" yes "$enough"
contains "the uncommented inbound copy has the credentials" "    username: connector" \
  "$(cat "$dir/inbound-all-keys.yml")"
out=$("$ak" inbound --check --config "$dir/inbound-all-keys.yml" 2>&1); rc=$?
check "the inbound sample with every commented-out key uncommented passes --check ($out)" 0 "$rc"

# --- a typo in a copy is refused with file and line ----------------------------
typo_line=$(grep -n '^  tend-interval:' "$inbound" | cut -d: -f1)
sed 's/^  tend-interval:/  tend-intervall:/' "$inbound" > "$dir/inbound-typo.yml"
out=$("$ak" inbound --check --config "$dir/inbound-typo.yml" 2>&1); rc=$?
check "a typo'd inbound key exits 1" 1 "$rc"
contains "a typo'd inbound key is named with its file and line" \
  "$dir/inbound-typo.yml:$typo_line: aerospike: unknown key 'tend-intervall'" "$out"

# A consumer property librdkafka does not know, with its file and line too.
prop_line=$(( $(grep -n '^  auto.offset.reset:' "$inbound" | cut -d: -f1) + 1 ))
sed 's/^  auto.offset.reset: .*/&\n  fetch.wait.max.mss: 10/' "$inbound" > "$dir/inbound-prop.yml"
out=$("$ak" inbound --check --config "$dir/inbound-prop.yml" 2>&1); rc=$?
check "an unknown consumer property exits 1" 1 "$rc"
contains "an unknown consumer property is named with its file and line" \
  "$dir/inbound-prop.yml:$prop_line: consumer-props.fetch.wait.max.mss:" "$out"

summary
