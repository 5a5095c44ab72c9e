#!/bin/sh
# A short libFuzzer run on a copy of the seed corpus (libFuzzer adds inputs
# to its first corpus directory; the checked-in seeds stay untouched).
# usage: run-short.sh FUZZER_BUILD_DIR TARGET SEED_DIR SECONDS
set -eu
dir=$1 target=$2 seeds=$3 seconds=$4
if [ -z "$dir" ] || [ ! -x "$dir/fuzz/$target" ]; then
  echo "skipped: no libFuzzer build of $target (configure a clang tree with -DSBPOLICY_FUZZ=ON and pass it as -DSBPOLICY_FUZZER_DIR; .ci/test does)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
status=0
"$dir/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/log" 2>&1 || status=$?
tail -n 25 "$work/log"
for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
  [ -e "$crash" ] || continue
  echo "fuzzer found an input that fails: $crash"; od -c "$crash" | head -n 20; exit 1
done
exit $status
