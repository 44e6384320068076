#!/usr/bin/env bash
# aerokafka's single entry point on a fresh Debian 12 machine. Every command
# first installs what it needs through scripts/deps.sh.
#
#   ./build.sh run          build, then run the main job on embedded defaults:
#                           the demo (both connectors end to end on the dev stack)
#   ./build.sh test         build with gcc and clang, run the whole suite under
#                           AddressSanitizer + UndefinedBehaviorSanitizer
#   ./build.sh fuzz [SECS] [NAME]
#                           run a libFuzzer harness (default: every harness, 60 s each)
#   ./build.sh build        just build build/aerokafka
set -euo pipefail
cd "$(dirname "$0")"

jobs=$(nproc 2>/dev/null || echo 2)

configure_and_build() { # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G "Unix Makefiles" "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2
    return 1
  }
  cmake --build "$dir" -j "$jobs" -- --no-print-directory >"$dir.build.log" 2>&1 || {
    cat "$dir.build.log" >&2
    return 1
  }
}

build_release() {
  echo "== building build/aerokafka (gcc, -Werror)" >&2
  CC=gcc configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAK_TESTS=OFF
}

build_test() {
  # clang with ASan + UBSan; the same build carries the fuzz harnesses so the
  # suite replays their seed corpora.
  echo "== building build-test (clang, ASan + UBSan, -Werror)" >&2
  CC=clang configure_and_build build-test -DCMAKE_BUILD_TYPE=Debug -DAK_SANITIZE=ON -DAK_FUZZ=ON
}

cmd=${1:-build}
case "$cmd" in
  build)
    scripts/deps.sh
    build_release
    ;;
  run)
    scripts/deps.sh
    build_release
    exec build/aerokafka demo
    ;;
  test)
    scripts/deps.sh
    build_release
    build_test
    echo "== running the test suite" >&2
    cd build-test
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --output-on-failure -j "$jobs"
    ;;
  fuzz)
    seconds=${2:-60}
    only=${3:-}
    scripts/deps.sh
    build_test
    status=0
    for harness in build-test/fuzz/fuzz_*; do
      name=$(basename "$harness")
      name=${name#fuzz_}
      [ -n "$only" ] && [ "$only" != "$name" ] && continue
      work=fuzz/corpus-work/$name
      findings=fuzz/findings/$name
      mkdir -p "$work" "$findings"
      echo "== fuzzing $name for ${seconds}s (seeds fuzz/corpus/$name, findings in $findings)" >&2
      "$harness" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
        -artifact_prefix="$findings/" "$work" "fuzz/corpus/$name" || status=1
    done
    exit $status
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
