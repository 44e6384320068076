#!/usr/bin/env bash
# `cmake --install` as a user or a packager runs it: every file lands under
# the prefix, the systemd units start the binary installed beside them (with
# --prefix and with DESTDIR), and the man page renders without warnings and
# documents every subcommand `aerokafka --help` lists, with exactly the
# options each subcommand's --help lists.
# Usage: test_install.sh path/to/aerokafka (the build directory is its dirname)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ak=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
build=$(dirname "$ak")

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# --- cmake --install --prefix ------------------------------------------------
prefix=$dir/prefix
out=$(cmake --install "$build" --prefix "$prefix" 2>&1); rc=$?
check "cmake --install succeeds ($out)" 0 "$rc"

for f in bin/aerokafka share/man/man1/aerokafka.1 \
         lib/systemd/system/aerokafka-outbound.service lib/systemd/system/aerokafka-inbound.service \
         lib/sysusers.d/aerokafka.conf share/doc/aerokafka/examples/aerospike-kafka-outbound.yml \
         share/doc/aerokafka/examples/aerospike-kafka-inbound.yml; do
  [ -f "$prefix/$f" ] && present=yes || present=no
  check "installed: $f" yes "$present"
done
[ -x "$prefix/bin/aerokafka" ] && runnable=yes || runnable=no
check "the installed binary is executable" yes "$runnable"
check "the installed binary runs" "$("$ak" --version)" "$("$prefix/bin/aerokafka" --version 2>&1)"
for connector in outbound inbound; do
  check "the installed $connector sample is the one in etc/" "" \
    "$(cmp "$(dirname "$0")/../../etc/aerospike-kafka-$connector.yml" \
           "$prefix/share/doc/aerokafka/examples/aerospike-kafka-$connector.yml" 2>&1)"
done

for connector in outbound inbound; do
  unit=$prefix/lib/systemd/system/aerokafka-$connector.service
  check "the $connector unit starts the installed binary" \
    "ExecStart=$prefix/bin/aerokafka $connector --config /etc/aerokafka/aerospike-kafka-$connector.yml" \
    "$(grep '^ExecStart=' "$unit")"
  check "the $connector unit has no unsubstituted @VARIABLE@" "" "$(grep -o '@[A-Z_]*@' "$unit")"
  check "the $connector unit runs as the dedicated user" "User=aerokafka" "$(grep '^User=' "$unit")"
  check "the $connector unit restarts on failure" "Restart=on-failure" "$(grep '^Restart=' "$unit")"
  if command -v systemd-analyze >/dev/null 2>&1; then
    check "systemd-analyze verify accepts the $connector unit" "" \
      "$(systemd-analyze verify --man=no "$unit" 2>&1)"
  fi
done
contains "the sysusers.d entry creates the unit's user" "u aerokafka " "$(cat "$prefix/lib/sysusers.d/aerokafka.conf")"

# --- DESTDIR (packagers): files under DESTDIR, paths inside without it ----------
out=$(DESTDIR=$dir/staging cmake --install "$build" --prefix /usr/local 2>&1); rc=$?
check "cmake --install with DESTDIR succeeds ($out)" 0 "$rc"
for connector in outbound inbound; do
  check "with DESTDIR, the $connector unit names the final path of the binary" \
    "ExecStart=/usr/local/bin/aerokafka $connector --config /etc/aerokafka/aerospike-kafka-$connector.yml" \
    "$(grep '^ExecStart=' "$dir/staging/usr/local/lib/systemd/system/aerokafka-$connector.service" 2>&1)"
done

# --- the man page ---------------------------------------------------------------
man=$prefix/share/man/man1/aerokafka.1
check "the man page renders without warnings" "" "$(groff -man -ww -z "$man" 2>&1)"
check "the man page carries the program's version" "$("$ak" --version)" \
  "$(sed -n 's/^\.TH .* "\(aerokafka [^"]*\)" .*/\1/p' "$man")"

# The subcommands --help lists (hidden ones have no summary and are not listed).
commands=$("$ak" --help | sed -n '/^commands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(echo "$commands" | wc -l)" -ge 7 ] && enough=yes || enough="no: $commands"
check "aerokafka --help lists the subcommands" yes "$enough"

# The options a man page subsection documents: \-\-name tokens, unescaped.
man_options() { # subcommand
  local heading=".SS ${1//-/\\-}"
  awk -v heading="$heading" '$0 == heading {on = 1; next} /^\.S[SH] / {on = 0} on' "$man" |
    grep -oE '\\-\\-([a-z0-9]|\\-)+' | tr -d '\\' | sort -u
}
# The options a subcommand's --help names (wire: its two subcommands').
help_options() { # subcommand
  if [ "$1" = wire ]; then
    { "$ak" wire digest --help; "$ak" wire decode --help; } 2>&1
  else
    "$ak" "$1" --help 2>&1
  fi | grep -oE -- '--[a-z][a-z0-9-]*' | grep -vx -- --help | sort -u
}
for cmd in $commands; do
  heading=".SS ${cmd//-/\\-}"
  grep -qxF "$heading" "$man" && documented=yes || documented=no
  check "the man page has a subsection for '$cmd'" yes "$documented"
  check "the man page documents exactly the options of '$cmd --help'" \
    "$(help_options "$cmd" | tr '\n' ' ')" "$(man_options "$cmd" | tr '\n' ' ')"
done

summary
