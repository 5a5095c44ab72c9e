#!/bin/sh
# Wall time of `npm install` of a real tree from the real registry, bare and
# under sbrun (`use std.agent; use std.dev.node;`), side by side in one run.
# Needs npm, python3 and the Internet.
#   sh bench/npm-bench.sh [BUILD_DIR]      (default build/release)
#   ROUNDS=N: rounds per case (default 8)
# Three ways to run npm: bare; bare through a plain CONNECT proxy
# (bench/connect-proxy.py: what going through any proxy costs npm, which
# sends its requests through one tunnel at a time); and under sbrun. Two
# cases, each running the three in turn (the order rotates every round), so
# the network's drift moves them alike:
#   - warm cache: the way a second install runs: npm revalidates every
#     packument with the registry (conditional requests, 304s) and takes the
#     tarballs from its cache;
#   - cold cache: npm's cache emptied before every install, so every
#     packument and tarball comes over the network.
# Each install starts without node_modules and without a lockfile.
set -eu
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
# As root, everything runs as an ordinary user made for it (sbrun never runs
# a command as host root): bare npm and sbrun alike.
if [ "$(id -u)" -eq 0 ]; then
  id sbrun-bench >/dev/null 2>&1 || useradd -m sbrun-bench
  exec setpriv --reuid=sbrun-bench --regid=sbrun-bench --init-groups env HOME=/home/sbrun-bench \
    ROUNDS="${ROUNDS:-8}" PATH=/usr/bin:/bin sh "$root/bench/npm-bench.sh" "$build"
fi
ws=$(mktemp -d)
home=$(mktemp -d)
trap 'rm -rf "$ws" "$home"' EXIT
mkdir -p "$home/.npm"
printf 'version 1;\nuse std.agent;\nuse std.dev.node;\n' > "$ws/p.sbpolicy"
# express 4 and its dependencies: 70 packages.
printf '{"name":"bench","version":"1.0.0","private":true,"dependencies":{"express":"4.21.2"}}\n' > "$ws/package.json"
cd "$ws"
SBRUN="$root/$build/runtime/sbrun" PROXY="$root/bench/connect-proxy.py" HOME="$home" ROUNDS=${ROUNDS:-8} \
  python3 - <<'PY'
import os, shutil, socket, statistics, subprocess, sys, time
home, rounds = os.environ["HOME"], int(os.environ["ROUNDS"])
with socket.socket() as s:  # a free port for the plain proxy
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
proxy = subprocess.Popen([sys.executable, os.environ["PROXY"], str(port)], stdout=subprocess.PIPE)
assert proxy.stdout.readline().strip() == b"ready"
npm = ["npm", "install", "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error"]
bare = npm
proxied = ["env", f"HTTPS_PROXY=http://127.0.0.1:{port}"] + npm
sbrun = [os.environ["SBRUN"], "--quiet", "--ask", "deny", "p.sbpolicy", "--"] + npm

def run(argv, cold):
    shutil.rmtree("node_modules", ignore_errors=True)
    if os.path.exists("package-lock.json"):
        os.unlink("package-lock.json")
    if cold:
        shutil.rmtree(os.path.join(home, ".npm", "_cacache"), ignore_errors=True)
    t = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return dt * 1e3

def compare(cold):
    cases = [bare, proxied, sbrun]
    times = [[] for _ in cases]
    for i in range(rounds):
        for k in range(len(cases)):
            j = (i + k) % len(cases)
            times[j].append(run(cases[j], cold))
    return times

run(bare, False)  # warm-up: fills the cache
packages = len([n for n in os.listdir("node_modules") if not n.startswith(".")])
def row(name, xs, b):
    print(f"| {name} | {statistics.median(xs):.0f} ms | {min(xs):.0f}-{max(xs):.0f} ms "
          f"| {statistics.median(xs) / statistics.median(b):.2f} |")
print(f"npm {subprocess.run(['npm', '--version'], capture_output=True, text=True).stdout.strip()}, "
      f"{packages} packages in node_modules, {rounds} interleaved rounds per case")
print("| case | median | range | ratio of medians |")
print("|---|---:|---:|---:|")
for cold, name in ((False, "warm cache"), (True, "cold cache")):
    b, p, s = compare(cold)
    row(f"bare `npm install`, {name}", b, b)
    row(f"bare, through a plain CONNECT proxy, {name}", p, b)
    row(f"`sbrun std.agent+std.dev.node -- npm install`, {name}", s, b)
proxy.kill()
PY
