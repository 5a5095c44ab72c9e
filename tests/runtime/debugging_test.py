#!/usr/bin/env python3
"""Debugging inside the sandbox: `allow ptrace;` (docs/language.md).

sbrun runs started as root (the command then runs as the workspace's owner)
and as the unprivileged user sbrun-test. Without the switch, strace and an
AddressSanitizer build's leak checker fail; with `use std.dev.debug;` they
work, the sanitizer's variables pass, and still nothing can trace the
sandbox's init (pid 1 inside) or read its memory, nor reach a process
outside.
usage: debugging_test.py SBRUN
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


# From inside: ptrace(2) and the memory of pid 1 (the init), and of a
# process outside (the test's own pid, which the sandbox's pid namespace
# does not have: ESRCH at best).
PROBE_INIT = r"""
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
def attach(pid):
    rc = libc.ptrace(PTRACE_ATTACH, pid, None, None)
    return "ok" if rc == 0 else errno.errorcode[ctypes.get_errno()]
def mem(pid):
    try:
        with open(f"/proc/{pid}/mem", "rb") as f:
            return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
child = os.fork()
if child == 0:
    import time; time.sleep(5); os._exit(0)
print("init", attach(1), mem(1))
print("child", attach(child))
print("outside", attach(int(sys.argv[1])))
os.kill(child, 9)
"""

LEAKY_C = r"""
#include <stdlib.h>
#include <string.h>
int main(void) {
  char* p = malloc(4242);
  strcpy(p, "leaked");
  p = 0;
  return 0;
}
"""


class World:
    def __init__(self, as_user):
        self.as_user = as_user
        self.dir = tempfile.mkdtemp(prefix="sbrun-debug-")
        os.chmod(self.dir, 0o755)
        self.ws = os.path.join(self.dir, "ws")
        os.mkdir(self.ws)
        shutil.chown(self.ws, USER, USER)

    def policy(self, text):
        path = os.path.join(self.ws, "p.sbpolicy")
        with open(path, "w") as f:
            f.write(text)
        shutil.chown(path, USER, USER)

    def run(self, command, args=(), env_extra=None):
        argv = [SBRUN, "--ask", "deny", *args, "p.sbpolicy", "--", *command]
        if self.as_user:
            argv = run_as_user(argv)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C",
               "HOME": "/home/" + USER if self.as_user else "/root", **(env_extra or {})}
        p = subprocess.run(argv, cwd=self.ws, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        return p.returncode, p.stdout, p.stderr

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def cases(as_user, leaky):
    who = "user" if as_user else "root"
    w = World(as_user)
    try:
        if leaky:
            shutil.copy(leaky, os.path.join(w.ws, "leaky"))
            shutil.chown(os.path.join(w.ws, "leaky"), USER, USER)
        base = "use std.base;\nallow read \"./**\";\n"

        w.policy(base)
        code, out, err = w.run(["strace", "-f", "-o", "/dev/null", "true"])
        check(f"[{who}] without `allow ptrace;`, strace is refused", code != 0 and "Operation not permitted" in err,
              f"exit {code}\nstderr {err}")
        code, out, err = w.run(["python3", "-c", PROBE_INIT, str(os.getpid())])
        check(f"[{who}] without it, not even a child can be traced",
              code == 0 and "child EPERM" in out and "init EPERM" in out, f"exit {code}\nstdout {out}\nstderr {err}")
        if leaky:
            code, out, err = w.run(["./leaky"])
            check(f"[{who}] without it, LeakSanitizer cannot run", code != 0 and "LeakSanitizer" in err
                  and "detected memory leaks" not in err, f"exit {code}\nstderr {err[-600:]}")

        w.policy(base + "use std.dev.debug;\n")
        code, out, err = w.run(["strace", "-f", "-o", "/dev/null", "true"])
        check(f"[{who}] with std.dev.debug, strace runs", code == 0, f"exit {code}\nstderr {err}")
        code, out, err = w.run(["python3", "-c", PROBE_INIT, str(os.getpid())])
        lines = dict(line.split(" ", 1) for line in out.strip().splitlines())
        check(f"[{who}] with it, a child can be traced", lines.get("child") == "ok",
              f"exit {code}\nstdout {out}\nstderr {err}")
        check(f"[{who}] with it, the init still cannot be traced nor its memory opened",
              lines.get("init") == "EPERM EACCES" or lines.get("init") == "EPERM EPERM",
              f"exit {code}\nstdout {out}\nstderr {err}")
        check(f"[{who}] with it, a process outside is not there to trace", lines.get("outside") in ("ESRCH", "EPERM"),
              f"exit {code}\nstdout {out}\nstderr {err}")
        code, out, err = w.run(["strace", "-p", "1", "-o", "/dev/null"])
        check(f"[{who}] with it, `strace -p 1` is refused", code != 0 and "Operation not permitted" in err,
              f"exit {code}\nstderr {err}")
        code, out, err = w.run(["true"], ["-v"])
        check(f"[{who}] -v says ptrace is allowed and where", "ptrace allowed" in err and "debug.sbpolicy" in err,
              f"exit {code}\nstderr {err}")
        if leaky:
            code, out, err = w.run(["./leaky"], env_extra={"ASAN_OPTIONS": "exitcode=42"})
            check(f"[{who}] with it, LeakSanitizer finds the leak, ASAN_OPTIONS passed",
                  code == 42 and "detected memory leaks" in err and "4242 byte" in err, f"exit {code}\nstderr {err[-600:]}")

        # A deny in any file of the policy wins over std.dev.debug.
        w.policy(base + "use std.dev.debug;\ndeny ptrace;\n")
        code, out, err = w.run(["strace", "-f", "-o", "/dev/null", "true"])
        check(f"[{who}] `deny ptrace;` beside std.dev.debug keeps it refused",
              code != 0 and "Operation not permitted" in err, f"exit {code}\nstderr {err}")
    finally:
        w.close()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to create the user sbrun-test and to start sbrun as root")
        return 77
    if shutil.which("strace") is None:
        print("FAIL: strace is not installed (.ci/install-deps installs it)")
        return 1
    ensure_user()
    with tempfile.TemporaryDirectory() as d:
        leaky = os.path.join(d, "leaky")
        src = os.path.join(d, "leaky.c")
        with open(src, "w") as f:
            f.write(LEAKY_C)
        built = subprocess.run(["gcc", "-g", "-fsanitize=address", "-o", leaky, src], capture_output=True, text=True)
        if built.returncode != 0:
            print("FAIL: cannot build the AddressSanitizer program: " + built.stderr)
            return 1
        os.chmod(leaky, 0o755)
        for as_user in (False, True):
            cases(as_user, leaky)
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
