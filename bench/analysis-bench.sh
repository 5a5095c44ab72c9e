#!/bin/sh
# Times `sbc lint`, `sbc diff` and `sbc test` on a generated 10,000-rule
# policy (bench/gen-policy.sh), whole process, in one run side by side with
# `sbc check` of the same policy (the front end alone), N times each;
# prints the median and the range in milliseconds.
#   sh bench/analysis-bench.sh build/release/compiler/sbc/sbc [N]
set -eu
sbc=$1
n=${2:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
here=$(dirname "$0")
sh "$here/gen-policy.sh" 10000 > "$dir/p.sbpolicy"
# A pull request against it: two rules removed, two changed, three added.
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
lines = open(f"{d}/p.sbpolicy").read().split("\n")
out = [l for i, l in enumerate(lines) if i not in (100, 2001)]
out = [l.replace("module8000/", "module8000x/") for l in out]
out = [l.replace("host4003.example.com:8000-8100", "host4003.example.com:8000-9000") for l in out]
out += ['allow read "~/.aws";', 'allow net "*.pastebin.com";', 'deny write "./src/module16/**";']
open(f"{d}/pr.sbpolicy", "w").write("\n".join(out) + "\n")
# A rewrite: every rule of the workspace moved (thousands of changes).
open(f"{d}/moved.sbpolicy", "w").write("\n".join(l.replace("./src/", "./lib/") for l in lines) + "\n")
# Tests: the policy and one test block of 20 expectations.
tests = ['test "a sample" {']
for i in range(0, 2000, 100):
    k = i % 8
    tests.append({0: f'  expect allow read "./src/module{i}/a.c";', 1: f'  expect allow read "./src/module{i - 1}/gen/x.tmp";',
                  2: f'  expect deny read "~/.config/app{i}/key";', 3: f'  expect allow net "host{i}.example.com:8050";',
                  4: f'  expect ask net "a.zone{i}.example.org";', 5: f'  expect deny net "10.0.{i % 256}.1:443";',
                  6: f'  expect allow env "APP{i}_X";', 7: f'  expect deny write "./src/module{i}/a.c";'}[k])
tests.append("}")
open(f"{d}/p_test.sbpolicy", "w").write("\n".join(lines + tests) + "\n")
PY
run() {
  label=$1
  shift
  times=""
  i=0
  while [ "$i" -lt "$n" ]; do
    t0=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    t1=$(date +%s%N)
    times="$times $(( (t1 - t0) / 1000000 ))"
    i=$((i + 1))
  done
  echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v label="$label" '
    { v[NR] = $1 } END { printf "%-58s median %5d ms   range %d-%d ms\n", label, v[int((NR + 1) / 2)], v[1], v[NR] }'
}
run "sbc check (front end only)" "$sbc" check "$dir/p.sbpolicy"
run "sbc lint (every rule)" "$sbc" lint "$dir/p.sbpolicy"
run "sbc diff, a pull request (7 rules changed)" "$sbc" diff "$dir/p.sbpolicy" "$dir/pr.sbpolicy"
run "sbc diff, a rewrite (2,500 rules moved)" "$sbc" diff "$dir/p.sbpolicy" "$dir/moved.sbpolicy"
run "sbc test (20 expectations x reference + 3 targets)" "$sbc" test "$dir/p_test.sbpolicy"
