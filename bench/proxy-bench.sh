#!/bin/sh
# Tunnel throughput and one-byte round-trip latency through sbrun's proxy
# (client in the sandbox -> the init's door -> sbrun's proxy -> upstream),
# against the same client on a direct loopback connection, side by side in
# one run, with the same server (bench/tunnel_bench.cpp).
#   sh bench/proxy-bench.sh [BUILD_DIR] [MIB] [ROUNDS] [REPEATS]
#   (defaults: build/release 2048 5000 3)
set -eu
build=${1:-build/release}
mib=${2:-2048}
rounds=${3:-5000}
repeats=${4:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
tool="$root/$build/bench/tunnel_bench"
port=19443
ws=$(mktemp -d)
"$tool" serve $port > "$ws/ready" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$ws"' EXIT
while [ ! -s "$ws/ready" ]; do sleep 0.05; done
# Loopback is protected; an IP rule opens exactly the benchmark's port.
printf 'use std.base;\nallow read "%s";\nallow net "127.0.0.1:%s";\n' "$root/$build/bench" $port > "$ws/p.sbpolicy"
cd "$ws"
i=0
while [ $i -lt "$repeats" ]; do
  printf 'direct  '; "$tool" client $port "$mib" "$rounds"
  printf "proxied "; "$root/$build/runtime/sbrun" --ask deny p.sbpolicy -- "$tool" client $port "$mib" "$rounds" --proxy
  i=$((i + 1))
done
