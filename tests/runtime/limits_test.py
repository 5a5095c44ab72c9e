#!/usr/bin/env python3
"""Resource limits (docs/limits.md) in real sandboxes.

sbrun runs started as root (the command then runs as the workspace's owner)
and as the unprivileged user sbrun-test. Each case sets a limit in the
policy or with --limit, runs a command that goes past it, and checks the
exit status, sbrun's message naming the limit, and what the host sees: the
bytes a capped write left in the workspace, no process of the sandbox left
after its wall_time. The cgroup v2 scope is used only where systemd runs the
unified hierarchy; elsewhere its case says why it is skipped.
usage: limits_test.py SBRUN
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from test_user import USER, ensure_user, run_as_user

SBRUN = os.path.abspath(sys.argv[1])
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else "\n    " + detail.replace("\n", "\n    ")))
    failures += 0 if ok else 1


class World:
    """A workspace owned by sbrun-test, with policy files in it."""

    def __init__(self, as_user):
        self.as_user = as_user
        self.dir = tempfile.mkdtemp(prefix="sbrun-limits-")
        os.chmod(self.dir, 0o755)
        self.ws = os.path.join(self.dir, "ws")
        os.mkdir(self.ws)
        shutil.chown(self.ws, USER, USER)

    def policy(self, text, name="p.sbpolicy"):
        path = os.path.join(self.ws, name)
        with open(path, "w") as f:
            f.write(text)
        shutil.chown(path, USER, USER)

    def run(self, args, command, timeout=60):
        argv = [SBRUN, "--ask", "deny", *args, "p.sbpolicy", "--", *command]
        if self.as_user:
            argv = run_as_user(argv)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C",
               "HOME": "/home/" + USER if self.as_user else "/root"}
        start = time.monotonic()
        p = subprocess.run(argv, cwd=self.ws, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - start

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


FORK_UNTIL_REFUSED = r"""
import os, time
n = 0
try:
    while n < 10000:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        n += 1
except OSError as e:
    print("forked", n, e.errno)
"""

OPEN_UNTIL_REFUSED = r"""
fs = []
try:
    while len(fs) < 100000:
        fs.append(open("/dev/null"))
except OSError as e:
    print("highest", fs[-1].fileno(), e.errno)
"""

RAISE_EVERY_LIMIT = r"""
import resource as r
for kind in (r.RLIMIT_DATA, r.RLIMIT_NPROC, r.RLIMIT_CPU, r.RLIMIT_FSIZE, r.RLIMIT_NOFILE):
    soft, hard = r.getrlimit(kind)
    try:
        r.setrlimit(kind, (soft, hard + 1))
        print("raised", kind)
    except (ValueError, OSError):
        print("refused")
"""


def host_processes_with(marker):
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def cases(as_user):
    who = "user" if as_user else "root"
    w = World(as_user)
    try:
        # processes: exact for the sandbox (the command is one of them).
        w.policy("use std.base;\nallow write \"./**\";\nlimit processes 12;\n")
        code, out, err, _ = w.run([], ["python3", "-c", FORK_UNTIL_REFUSED])
        check(f"[{who}] processes 12: the command and 11 children, then fork fails with EAGAIN",
              code == 0 and out.split() == ["forked", "11", "11"], f"exit {code}\nstdout {out}\nstderr {err}")

        # open_files: descriptors 0..N-1.
        w.policy("use std.base;\nlimit open_files 40;\n")
        code, out, err, _ = w.run([], ["python3", "-c", OPEN_UNTIL_REFUSED])
        check(f"[{who}] open_files 40: the highest descriptor is 39, then EMFILE",
              code == 0 and out.split() == ["highest", "39", "24"], f"exit {code}\nstdout {out}\nstderr {err}")

        # file_size: the write stops at the limit; the host sees that many bytes.
        w.policy("use std.base;\nallow write \"./**\";\nlimit file_size 64K;\n")
        big = os.path.join(w.ws, "big")
        code, out, err, _ = w.run([], ["sh", "-c", "head -c 1000000 /dev/zero > big"])
        size = os.path.getsize(big) if os.path.exists(big) else -1
        check(f"[{who}] file_size 64K: SIGXFSZ (153), the limit named, 65536 bytes on the host",
              code == 153 and size == 65536 and "file size limit of 64 KiB (p.sbpolicy:3:1)" in err,
              f"exit {code}, size {size}\nstderr {err}")

        # cpu_time: SIGXCPU at the limit.
        w.policy("use std.base;\nlimit cpu_time 1s;\n")
        code, out, err, took = w.run([], ["sh", "-c", "while :; do :; done"])
        check(f"[{who}] cpu_time 1s: SIGXCPU (152), the limit named",
              code == 152 and "CPU time limit of 1 s (p.sbpolicy:2:1)" in err and took < 20,
              f"exit {code} after {took:.1f} s\nstderr {err}")

        # wall_time: everything ends, also what ignores SIGTERM and what runs
        # in the background; exit 124.
        marker = f"1000.{os.getpid()}{int(as_user)}"
        w.policy("use std.base;\nlimit wall_time 2s;\n")
        code, out, err, took = w.run([], ["sh", "-c", f"sleep {marker} & trap '' TERM; sleep {marker}; sleep {marker}"])
        time.sleep(0.3)
        left = host_processes_with(marker)
        check(f"[{who}] wall_time 2s: 124, the limit named, nothing of the sandbox left on the host",
              code == 124 and "wall_time limit of 2 s (p.sbpolicy:2:1) is reached" in err and not left and took < 15,
              f"exit {code} after {took:.1f} s, left {left}\nstderr {err}")

        # memory (per process here): an allocation past it fails; below, fine.
        w.policy("use std.base;\nlimit memory 128M;\n")
        code, out, err, _ = w.run([], ["python3", "-c", "x = bytearray(400 << 20)"])
        check(f"[{who}] memory 128M: a 400 MiB allocation fails, the limits named",
              code == 1 and "MemoryError" in err and "memory 128 MiB per process (p.sbpolicy:2:1)" in err,
              f"exit {code}\nstderr {err}")
        code, out, err, _ = w.run([], ["python3", "-c", "x = bytearray(32 << 20); print('ok')"])
        check(f"[{who}] memory 128M: a 32 MiB allocation works", code == 0 and out.strip() == "ok",
              f"exit {code}\nstderr {err}")

        # The command line overrides the policy, both ways.
        code, out, err, _ = w.run(["--limit", "memory=1G"], ["python3", "-c", "x = bytearray(400 << 20); print('ok')"])
        check(f"[{who}] --limit memory=1G raises the policy's", code == 0 and out.strip() == "ok",
              f"exit {code}\nstderr {err}")
        w.policy("use std.base;\nlimit wall_time 1s;\n")
        code, out, err, _ = w.run(["--limit", "wall_time=none"], ["sleep", "2"])
        check(f"[{who}] --limit wall_time=none lifts it", code == 0, f"exit {code}\nstderr {err}")
        code, out, err, _ = w.run(["--limit", "processes=3"], ["python3", "-c", FORK_UNTIL_REFUSED])
        check(f"[{who}] --limit processes=3 where the policy has none", out.split() == ["forked", "2", "11"],
              f"exit {code}\nstdout {out}\nstderr {err}")

        # Across files the smallest wins.
        w.policy("limit processes 4;\n", "baseline.sbpolicy")
        w.policy("use std.base;\nuse \"baseline.sbpolicy\";\nlimit processes 100;\n")
        code, out, err, _ = w.run([], ["python3", "-c", FORK_UNTIL_REFUSED])
        check(f"[{who}] a baseline's smaller limit holds over the policy's", out.split() == ["forked", "3", "11"],
              f"exit {code}\nstdout {out}\nstderr {err}")

        # -v says how each applies; --target-strict refuses a per-process one.
        w.policy("use std.base;\nlimit memory 1G;\nlimit processes 50;\nlimit wall_time 1h;\n")
        code, out, err, _ = w.run(["-v"], ["true"])
        check(f"[{who}] -v names each limit, its origin and what enforces it",
              code == 0 and "limit: processes 50 (p.sbpolicy:3:1)" in err and "limit: wall_time 1 h" in err
              and ("RLIMIT_DATA" in err or "cgroup v2 memory.max" in err), f"exit {code}\nstderr {err}")
        if "RLIMIT_DATA" in err:
            code, out, err, _ = w.run(["--target-strict"], ["true"])
            check(f"[{who}] --target-strict refuses a memory limit enforced per process",
                  code == 125 and "W0106" in err, f"exit {code}\nstderr {err}")
        else:
            print(f"SKIP [{who}] --target-strict and per-process memory: a cgroup v2 scope enforces memory here")

        # The command cannot raise a hard limit it was given.
        w.policy("use std.base;\nlimit memory 1G;\nlimit processes 50;\nlimit cpu_time 1h;\n"
                 "limit file_size 1G;\nlimit open_files 500;\n")
        code, out, err, _ = w.run([], ["python3", "-c", RAISE_EVERY_LIMIT])
        check(f"[{who}] no hard limit can be raised from inside", code == 0 and out.split() == ["refused"] * 5,
              f"exit {code}\nstdout {out}\nstderr {err}")

        # A bad --limit is refused before anything runs.
        code, out, err, _ = w.run(["--limit", "memory=4X"], ["true"])
        check(f"[{who}] --limit memory=4X is refused (125)", code == 125 and "not a unit of size" in err,
              f"exit {code}\nstderr {err}")
    finally:
        w.close()


def scope_case():
    """The cgroup v2 scope: only where systemd manages the unified hierarchy."""
    unified = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    systemd = os.path.isdir("/run/systemd/system")
    if not (unified and systemd):
        print("SKIP cgroup v2 scope for memory and processes: this machine "
              + ("does not mount the unified cgroup v2 hierarchy at /sys/fs/cgroup" if not unified
                 else "is not managed by systemd") + " (the request and the fallback are unit-tested)")
        return
    w = World(False)
    try:
        w.policy("use std.base;\nlimit memory 64M;\nlimit processes 8;\n")
        code, out, err, _ = w.run(["-v"], ["cat", "/proc/self/cgroup"])
        check("[root] a transient scope holds the sandbox", code == 0 and "sbrun-" in out and ".scope" in out,
              f"exit {code}\nstdout {out}\nstderr {err}")
        code, out, err, _ = w.run([], ["python3", "-c", "x = bytearray(400 << 20); x[::4096] = b'x' * len(x[::4096])"])
        check("[root] memory past the scope's limit: killed (137), the limit named",
              code == 137 and "memory limit of 64 MiB (p.sbpolicy:2:1)" in err, f"exit {code}\nstderr {err}")
    finally:
        w.close()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to create the user sbrun-test and to start sbrun as root")
        return 77
    ensure_user()
    for as_user in (False, True):
        cases(as_user)
    scope_case()
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
