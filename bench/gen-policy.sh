#!/bin/sh
# Writes a policy of N generated rules (default 10000) to stdout, with the
# same mix as frontend_bench, for timing whole `sbc check` runs:
#   sh bench/gen-policy.sh 10000 > /tmp/p10k.sbpolicy
#   hyperfine 'build/compiler/sbc/sbc check /tmp/p10k.sbpolicy'
n=${1:-10000}
echo 'version 1;'
echo 'let hosts = ["a.pkgs.test", "*.b.pkgs.test"];'
echo 'allow net hosts;'
awk -v n="$n" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = i % 8
    if (k == 0) printf "allow read \"./src/module%d/**\";\n", i
    if (k == 1) printf "deny write \"./src/module%d/gen/*.tmp\";\n", i
    if (k == 2) printf "deny read \"~/.config/app%d\" except \"~/.config/app%d/public\";\n", i, i
    if (k == 3) printf "allow net \"host%d.example.com:8000-8100\";\n", i
    if (k == 4) printf "ask net \"*.zone%d.example.org\";\n", i
    if (k == 5) printf "deny net \"10.%d.%d.0/24\";\n", int(i / 256) % 256, i % 256
    if (k == 6) printf "allow env \"APP%d_*\";\n", i
    if (k == 7) printf "allow write \"$TMPDIR/build%d/{a,b}/[0-9]*\";\n", i
  }
}'
