#!/bin/sh
# Whole-process launch time: `sbrun std.agent -- true` against bare bwrap
# with the same mount plan and flags (taken from `sbrun --dry-run`), side by
# side in one run. Needs python3.
#   sh bench/launch-bench.sh [BUILD_DIR]      (default build/release)
#   RUNS=N: rounds (default 200)
# The rounds are interleaved (bwrap, sbrun, sbrun, bwrap, ...), so a machine
# that speeds up or slows down during the run moves both alike; the cost of
# starting a process from the timer (measured with /bin/true) is subtracted.
# sbrun runs in two workspaces: an empty one, where std.agent's protected
# paths (.git/hooks, .vscode, ...) do not exist and sbrun makes and removes
# a placeholder for each on every run, and one where they all exist. Bare
# bwrap runs the empty workspace's plan with the placeholders made once.
set -eu
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
# sbrun never runs a command as host root (docs/linux.md): as root, the whole
# benchmark runs as an ordinary user made for it, bare bwrap included, so
# both start the same unprivileged sandbox.
if [ "$(id -u)" -eq 0 ]; then
  id sbrun-bench >/dev/null 2>&1 || useradd -m sbrun-bench
  exec setpriv --reuid=sbrun-bench --regid=sbrun-bench --init-groups env HOME=/home/sbrun-bench RUNS="${RUNS:-200}" \
    sh "$root/bench/launch-bench.sh" "$build"
fi
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
mkdir "$ws/fresh" "$ws/existing"
printf 'version 1;\nuse std.agent;\n' > "$ws/agent.sbpolicy"
cd "$ws"
SBRUN="$root/$build/runtime/sbrun" RUNS=${RUNS:-200} python3 - <<'PY'
import json, os, statistics, subprocess, time
# Placeholders must exist for bare bwrap; sbrun makes and removes its own.
# The existing workspace gets every protected path (made until the plan
# needs no placeholder: a `.git` made for the plan has protected files of its own).
def dry_run(workspace):
    return json.loads(subprocess.run([os.environ["SBRUN"], "--dry-run", "--ask", "deny", "--workspace", workspace,
                                      "agent.sbpolicy", "--", "true"], check=True, capture_output=True).stdout)
placeholders = len(dry_run("fresh")["placeholders"]) + len(dry_run("fresh").get("placeholder_files", []))
for _ in range(4):
    plan = dry_run("existing")
    if not plan["placeholders"] and not plan.get("placeholder_files"): break
    for p in plan["placeholders"]:
        os.makedirs(p, exist_ok=True)
    for f in plan.get("placeholder_files", []):
        os.makedirs(os.path.dirname(f["path"]), exist_ok=True)
        open(f["path"], "w").write(f["content"])
args, out, skip = plan["bwrap_args"], [], 0
# Drop the runtime-only flags that need sbrun's descriptors.
for a in args:
    if skip: skip -= 1; continue
    if a == "--json-status-fd": skip = 1; continue
    out.append(a)
open("bwrap.args", "wb").write(b"\0".join(x.encode() for x in out) + b"\0")

null = os.open("/dev/null", os.O_RDWR)
def run(argv, args_file=None):
    fds = {0: null, 1: null, 2: null}
    if args_file:
        fds[3] = os.open(args_file, os.O_RDONLY)
    actions = [(os.POSIX_SPAWN_DUP2, src, dst) for dst, src in fds.items()]
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, {}, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t
    if 3 in fds: os.close(fds[3])
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed: {status}")
    return dt * 1e3

bwrap = ["/usr/bin/bwrap", "--args", "3", "--", "/bin/true"]
sbrun = [os.environ["SBRUN"], "--ask", "deny", "agent.sbpolicy", "--", "/bin/true"]
fresh = sbrun[:1] + ["--workspace", "fresh"] + sbrun[1:]
existing = sbrun[:1] + ["--workspace", "existing"] + sbrun[1:]
runs = int(os.environ["RUNS"])
for _ in range(10):  # warm-up
    run(bwrap, "bwrap.args"); run(fresh); run(existing); run(["/bin/true"])
if os.listdir("fresh"):
    raise SystemExit("sbrun left something in the fresh workspace: %s" % os.listdir("fresh"))
# Two passes, each alternating bare bwrap with one sbrun case (the order
# flips every round), so each ratio is side by side and the fresh
# workspace's aftermath (its janitor releasing 45 directories, the disk
# discarding them) falls on its own pass, not on the other case's runs.
def compare(case):
    t, b, s = [], [], []
    for i in range(runs):
        t.append(run(["/bin/true"]))
        if i % 2 == 0:
            b.append(run(bwrap, "bwrap.args")); s.append(run(case))
        else:
            s.append(run(case)); b.append(run(bwrap, "bwrap.args"))
    spawn = statistics.median(t)
    return spawn, [x - spawn for x in b], [x - spawn for x in s]
def row(name, xs, b):
    print(f"| {name} | {statistics.mean(xs):.1f} ms ± {statistics.stdev(xs):.1f} | {statistics.median(xs):.1f} ms "
          f"| {statistics.mean(xs) / statistics.mean(b):.2f} | {statistics.median(xs) / statistics.median(b):.2f} |")
spawn_e, b_e, e = compare(existing)
spawn_f, b_f, f = compare(fresh)
print(f"{runs} interleaved rounds per pass; process start from the timer ({spawn_e:.2f}, {spawn_f:.2f} ms) "
      f"subtracted; {placeholders} placeholders in the empty workspace")
print("| command | mean ± σ | median | ratio of means | ratio of medians |")
print("|---|---:|---:|---:|---:|")
row("`bwrap --args 3 -- /bin/true` (same mounts and flags), pass 1", b_e, b_e)
row("`sbrun std.agent -- /bin/true`, protected paths exist (no placeholders)", e, b_e)
row("`bwrap --args 3 -- /bin/true` (same mounts and flags), pass 2", b_f, b_f)
row("`sbrun std.agent -- /bin/true`, empty workspace (makes the placeholders)", f, b_f)
PY
