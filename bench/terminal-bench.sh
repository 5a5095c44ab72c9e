#!/bin/sh
# What the sandbox's own terminal (docs/terminal.md) costs, side by side in
# one run: sbrun on a pty (as from a terminal: the relay) against
# `sbrun --no-pty` (the command shares the pty) and the command alone on it.
#   sh bench/terminal-bench.sh [BUILD_DIR]      (default build/release)
#   ROUNDS=N: rounds per case (default 20 for launches, 3 for output)
# Each round starts `script` (util-linux) with a fresh pty whose output goes
# to /dev/null; the order of the three rotates every round.
#   - launch: `true`, the relay's set-up (a pty made inside, a round trip to
#     sbrun) on top of a launch;
#   - output: `cat` of 256 MiB of base64 text, every byte through the relay.
set -eu
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -eq 0 ]; then
  id sbrun-bench >/dev/null 2>&1 || useradd -m sbrun-bench
  exec setpriv --reuid=sbrun-bench --regid=sbrun-bench --init-groups env HOME=/home/sbrun-bench \
    ROUNDS="${ROUNDS:-}" PATH=/usr/bin:/bin sh "$root/bench/terminal-bench.sh" "$build"
fi
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
cd "$ws"
head -c 201326592 /dev/urandom | base64 -w 76 > big.txt
SBRUN="$root/$build/runtime/sbrun" ROUNDS="${ROUNDS:-}" python3 - <<'PY'
import os, statistics, subprocess, time
sbrun, rounds = os.environ["SBRUN"], os.environ["ROUNDS"]
def timed(command):
    start = time.perf_counter()
    subprocess.run(["script", "-qec", command, "/dev/null"], stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000
for what, cmd, n in (("launch (`true`)", "true", int(rounds or 20)), ("output (256 MiB `cat`)", "cat big.txt", int(rounds or 3))):
    ways = [("alone on the pty", cmd), ("sbrun --no-pty", f"{sbrun} --no-pty std.agent -- {cmd}"),
            ("sbrun, own pty (relay)", f"{sbrun} std.agent -- {cmd}")]
    times = {name: [] for name, _ in ways}
    for r in range(n):
        for name, c in ways[r % 3:] + ways[:r % 3]:
            times[name].append(timed(c))
    base = statistics.median(times["sbrun --no-pty"])
    print(f"\n{what}, {n} rounds: median (ratio to --no-pty)")
    for name, _ in ways:
        m = statistics.median(times[name])
        print(f"  {name:26} {m:9.1f} ms  ({m / base:.2f})")
PY
