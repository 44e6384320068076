#!/usr/bin/env bash
# The `aerokafka wire` and `selfcheck` commands as a user runs them.
# Usage: test_wire_cli.sh path/to/aerokafka
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$1

# The issue's acceptance example and official vectors.
check "digest of set/\"s\"" $'digest 607cddba7cd111745ef0a3d783d57f0e83c8f311\npartition 3168' \
  "$("$ak" wire digest --set set --string s)"
check "digest of set/int 0" $'digest 93d943aae37b017ad7e011b0c1d2e2143c2fb37d\npartition 2451' \
  "$("$ak" wire digest --set set --int 0)"
check "digest of set/int -1" $'digest 22116d253745e29fc63fdf760b6e26f7e197e01d\npartition 290' \
  "$("$ak" wire digest --set set --int -1)"
check "digest of set/bytes empty" "digest 327e2877b8815c7aeede0d5a8620d4ef8df4a4b4" \
  "$("$ak" wire digest --set set --bytes '' | head -1)"
check "digest of set/bytes aaaaaaaaaa" $'digest d10982327b2b04c7360579f252e164a75f83cd99\npartition 2513' \
  "$("$ak" wire digest --set set --bytes 61616161616161616161)"
check "digest without a set" "digest 50149955959c2fef0a83613ae80c78bb9c96b269" \
  "$("$ak" wire digest --string k1 | head -1)"

out=$("$ak" wire digest --set set 2>&1); rc=$?
check "digest without a key is a usage error" 2 "$rc"
contains "digest without a key says why" "exactly one of" "$out"
out=$("$ak" wire digest --set set --int 12x 2>&1); rc=$?
check "digest with a bad integer is a usage error" 2 "$rc"
contains "digest with a bad integer names it" "'12x'" "$out"

# Decode the spec's put example (section 8) from hex.
put="02 03 00 00 00 00 00 52 16 00 01 00 00 00 00000000 00000000 000003e8 0003 0001
     00000005 00 74657374 00000005 01 64656d6f 00000015 04 b747f5854d0b33259928d0cfab7fad81d6abfbf6
     0000000d 02 01 00 01 62 0000000000000001"
out=$("$ak" wire decode --hex "$put"); rc=$?
check "decode of the put example succeeds" 0 "$rc"
contains "decode names the write flag" '"info2":["WRITE"]' "$out"
contains "decode shows the namespace" '"namespace":"test"' "$out"
contains "decode shows the set" '"set":"demo"' "$out"
contains "decode shows the digest" '"digest":"b747f5854d0b33259928d0cfab7fad81d6abfbf6"' "$out"
contains "decode shows the bin" '"name":"b","type":"int","value":1' "$out"

# Binary frames on stdin, several in a row: one JSON line each.
lines=$(printf '%s' "$put" | xxd -r -p 2>/dev/null | cat - <(printf '%s' "$put" | xxd -r -p) | "$ak" wire decode | wc -l)
check "two frames on stdin print two lines" 2 "$lines"

# Malformed input: a clear error naming the offset, non-zero exit.
out=$("$ak" wire decode --hex "02 03 00 00 00 00 00 52 16 00" 2>&1); rc=$?
check "truncated frame fails" 1 "$rc"
contains "truncated frame is reported" "truncated" "$out"
out=$("$ak" wire decode --hex "07 03 00 00 00 00 00 00" 2>&1); rc=$?
check "bad version fails" 1 "$rc"
contains "bad version is named with its offset" "unsupported proto version 7 (expected 2) at byte 0" "$out"
out=$("$ak" wire decode --hex "02 03 00 00 00 00 00 16 17 00 00 00 00 00 0000000000000000000000000000 0000" 2>&1); rc=$?
check "bad header size fails" 1 "$rc"
contains "bad header size is named" "message header size is 23, expected 22 at byte 8" "$out"
out=$("$ak" wire decode --hex "02 03 08 00 00 00 00 01" 2>&1); rc=$?
contains "oversized frame is refused" "exceeds the 128 MiB cap" "$out"
out=$("$ak" wire decode --hex "zz" 2>&1); rc=$?
check "bad hex is a usage error" 2 "$rc"

# The self-check passes and prints its summary.
out=$("$ak" selfcheck); rc=$?
check "selfcheck passes" 0 "$rc"
contains "selfcheck summary" " passed, 0 failed" "$out"

# Every command answers --help and the binary its version.
contains "version" "aerokafka " "$("$ak" --version)"
contains "wire help" "wire digest" "$("$ak" wire --help)"
contains "decode help" "JSON" "$("$ak" wire decode --help)"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
