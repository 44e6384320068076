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

summary
