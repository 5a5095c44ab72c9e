#!/bin/sh
# Whole-process launch time: `sbrun std.agent -- true` against bare bwrap
# with the same mount plan and flags (taken from `sbrun --dry-run`), side by
# side in one hyperfine run. Needs hyperfine and python3 (Debian packages).
#   sh bench/launch-bench.sh [BUILD_DIR]      (default build/release)
set -eu
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
printf 'version 1;\nuse std.agent;\n' > "$ws/agent.sbpolicy"
cd "$ws"
"$root/$build/runtime/sbrun" --dry-run --ask deny agent.sbpolicy -- true > plan.json
python3 - <<'PY'
import json
plan = json.load(open("plan.json"))
# Placeholders must exist for bare bwrap too; sbrun creates and removes its own.
import os
for p in plan["placeholders"]:
    os.makedirs(p, exist_ok=True)
args = plan["bwrap_args"]
# Drop the runtime-only flags that need sbrun's descriptors.
out, skip = [], 0
for i, a in enumerate(args):
    if skip: skip -= 1; continue
    if a == "--json-status-fd": skip = 1; continue
    out.append(a)
open("bwrap.args", "wb").write(b"\0".join(x.encode() for x in out) + b"\0")
PY
# Both through the shell (hyperfine subtracts the shell's own start-up), so
# bare bwrap can read its arguments from a fresh descriptor each run.
hyperfine --warmup 10 --runs ${RUNS:-100} --export-json launch.json \
  "/usr/bin/bwrap --args 3 -- /bin/true 3<bwrap.args" \
  "$root/$build/runtime/sbrun --ask deny agent.sbpolicy -- /bin/true"
python3 -c "
import json; r = json.load(open('launch.json'))['results']
print('ratio sbrun/bwrap: %.2f' % (r[1]['mean'] / r[0]['mean']))"
