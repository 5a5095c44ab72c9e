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


def run(first_message, close_channel, marker, command=("/usr/bin/touch",)):
    """Starts the init with `touch marker` (or COMMAND... marker) as the
    command; sends `first_message` (or nothing) on the channel. Returns
    (status, stderr)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    started_r, started_w = os.pipe()
    # The shell puts them on 6 and 7, as bubblewrap does for sbrun.
    script = f'exec 6>&{started_w} 7<&{theirs.fileno()}; exec "$0" --sbrun-init -- "$@"'
    child = subprocess.Popen(
        ["/bin/sh", "-c", script, INIT, *command, marker], pass_fds=(theirs.fileno(), started_w),
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

    # The command's rlimits come with the go: set on it, capped at what the
    # init inherited; a malformed line runs nothing.
    m = os.path.join(d, "limits")
    show = ("/bin/sh", "-c", 'echo "$(ulimit -f) $(ulimit -Sn) $(ulimit -Hn)" > "$0"')
    inherited_hard = subprocess.run(["/bin/sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout.strip()
    status, err = run(b"G\x00L1 1048576 1048576\nL7 64 999999999999\n", False, m, show)
    seen = open(m).read().split() if os.path.exists(m) else []
    check("go with limits: set on the command, hard capped at the inherited",
          status == 0 and seen == ["2048", "64", inherited_hard], f"status {status}, saw {seen}, stderr {err!r}")

    m = os.path.join(d, "ran-after-bad-flags")
    status, err = run(b"G\x04", False, m)
    check("a go with an unknown flag: nothing runs, 125",
          status == 125 and not os.path.exists(m) and "flags are malformed" in err,
          f"status {status}, ran {os.path.exists(m)}, stderr {err!r}")

    for bad in (b"G\x00L1 5\n", b"G\x00L1 10 5\n", b"G\x00L99 1 1\n", b"G\x00Lx 1 1\n", b"G\x00L1 1 1",
                b"G\x00" + b"L1 1 1\n" * 9):
        m = os.path.join(d, "ran-after-bad-limits")
        status, err = run(bad, False, m)
        check(f"malformed limits {bad[2:14]!r}...: nothing runs, 125",
              status == 125 and not os.path.exists(m) and "limits are malformed" in err,
              f"status {status}, ran {os.path.exists(m)}, stderr {err!r}")

print(f"{failures} failed")
sys.exit(1 if failures else 0)
