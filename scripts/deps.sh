#!/usr/bin/env bash
# Installs every Debian package aerokafka needs to build, test, fuzz and
# benchmark. Idempotent and non-interactive: it asks apt only for what is
# missing, and refreshes the package lists only when it must install.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang llvm libclang-rt-14-dev git
  # libraries (see docs/ARCHITECTURE.md for which layer uses which)
  libmsgpack-dev nettle-dev libssl-dev zlib1g-dev libyaml-dev libjansson-dev libyajl-dev
  librdkafka-dev libavro-dev libnghttp2-dev libcurl4-openssl-dev libhttp-parser-dev
  # tests
  libcmocka-dev kcat xxd openssl groff-base
)

# The interop tests need Node.js 20+ and npm (the official Aerospike client
# ships prebuilt bindings for Node 20 and later). Debian's nodejs is only
# installed when no node is present at all.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
