#!/usr/bin/env python3
"""The init runs the command only after sbrun's go on the channel.

sbrun starts bubblewrap before the plan is ready and feeds it through a
pipe; killed while writing, it leaves bubblewrap a plan cut short. The init
must then run nothing: it waits for [kOrderGo, U] as the channel's first
message. Run here outside any sandbox: sbrun-init with fd 6 ("started") and
fd 7 (the channel) as sbrun gives them.
usage: init_go_test.py SBRUN_INIT
"""
import os
import socket
import subprocess
import sys
import tempfile

INIT = sys.argv[1]
failures = 0


def run(first_message, close_channel, marker):
    """Starts the init with `touch marker` as the command; sends
    `first_message` (or nothing) on the channel. Returns (status, stderr)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    started_r, started_w = os.pipe()
    # The shell puts them on 6 and 7, as bubblewrap does for sbrun.
    script = f'exec 6>&{started_w} 7<&{theirs.fileno()}; exec "$0" --sbrun-init -- /usr/bin/touch "$1"'
    child = subprocess.Popen(
        ["/bin/sh", "-c", script, INIT, marker], pass_fds=(theirs.fileno(), started_w),
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    theirs.close()
    os.close(started_w)
    if first_message is not None:
        ours.send(first_message)
    if close_channel:
        ours.close()
    _, err = child.communicate(timeout=10)
    os.close(started_r)
    if not close_channel:
        ours.close()
    return child.returncode, err.decode()


def check(name, ok, detail):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    failures += 0 if ok else 1


with tempfile.TemporaryDirectory() as d:
    m = os.path.join(d, "ran-without-go")
    status, err = run(None, True, m)
    check("no go (sbrun gone): nothing runs, 125", status == 125 and not os.path.exists(m) and "no go" in err,
          f"status {status}, ran {os.path.exists(m)}, stderr {err!r}")

    m = os.path.join(d, "ran-after-hold")
    status, err = run(b"T", True, m)
    check("another order first: nothing runs, 125", status == 125 and not os.path.exists(m),
          f"status {status}, ran {os.path.exists(m)}, stderr {err!r}")

    m = os.path.join(d, "ran-after-short-go")
    status, err = run(b"G", True, m)
    check("a go without its flag: nothing runs, 125", status == 125 and not os.path.exists(m),
          f"status {status}, ran {os.path.exists(m)}, stderr {err!r}")

    m = os.path.join(d, "ran-after-go")
    status, err = run(b"G\x00", False, m)
    check("go: the command runs, its status returned", status == 0 and os.path.exists(m),
          f"status {status}, ran {os.path.exists(m)}, stderr {err!r}")

print(f"{failures} failed")
sys.exit(1 if failures else 0)
