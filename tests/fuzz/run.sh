#!/usr/bin/env bash
# Run every fuzz target of a -DSLUICE_FUZZ=ON build for a bounded time on
# its seed corpus:
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]    (default 5 s a target)
# Each fuzz_<parser> starts from tests/fuzz/corpus/<parser>/ (left as it
# is: new inputs go to a scratch copy) with $TMPDIR on a tmpfs when there is
# one.  A crash, a sanitizer report, a leak or a stuck input fails the run;
# the input that did it is kept as BUILD_DIR/fuzz-artifacts/<target>-*.
set -euo pipefail
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]}
secs=${2:-5}
src=$(cd "$(dirname "$0")" && pwd)
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/sluice-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz-artifacts"

found=0
for t in "$build"/fuzz_*; do
  [ -f "$t" ] && [ -x "$t" ] || continue
  name=$(basename "$t")
  parser=${name#fuzz_}
  seeds="$src/corpus/$parser"
  if [ ! -d "$seeds" ]; then
    echo "fuzz: $name has no seed corpus ($seeds)" >&2
    exit 1
  fi
  found=$((found + 1))
  mkdir -p "$work/corpus-$parser" "$work/tmp-$parser"
  if ! TMPDIR="$work/tmp-$parser" \
       ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
       UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
       "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" \
            "$work/corpus-$parser" "$seeds" >"$work/$name.log" 2>&1; then
    tail -n 60 "$work/$name.log" >&2
    echo "fuzz: $name FAILED; the input is in $build/fuzz-artifacts/" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -n 1)
  echo "fuzz: $name: ${runs:-?} inputs in ${secs} s, no finding"
done
if [ "$found" -eq 0 ]; then
  echo "fuzz: no fuzz_* targets in $build (configure it with CC=clang -DSLUICE_FUZZ=ON)" >&2
  exit 1
fi
