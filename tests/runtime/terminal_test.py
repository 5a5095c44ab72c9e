#!/usr/bin/env python3
"""The sandbox's own terminal (docs/terminal.md), through a real pseudo-terminal.

An interactive bash runs on a pty this test owns, as a user at a terminal
would have it; the test types into it and reads the screen's bytes. sbrun
runs in that shell, started as root (the command then runs as the
workspace's owner) and as the unprivileged user sbrun-test. Checked: `tty`,
job control in a shell inside, window size and SIGWINCH, Ctrl-C, Ctrl-Z of
the command itself and `fg`, the exit status, the real terminal's modes
after the run, no way to the real terminal from inside, and a network
question owning the terminal while the command's output is held, also when
sbrun's output is piped.
usage: terminal_test.py SBRUN
"""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

from test_user import USER, ensure_user, run_as_user

SBRUN = os.path.abspath(sys.argv[1])
failures = 0


class Screen:
    """A shell on a pty of the test's: what is typed, and every byte shown."""

    def __init__(self, argv, cwd, env, rows=24, cols=80):
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd, self.seen = pid, fd, b""
        self.resize(rows, cols)

    def resize(self, rows, cols):
        # The kernel sends SIGWINCH to the terminal's foreground job.
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, text):
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def read_for(self, seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.seen += data

    def expect(self, pattern, after=0, timeout=15):
        """The first match of `pattern` (bytes regex) at or after offset `after`."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern, re.S)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.seen, after)
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.read_for(min(left, 0.2))

    def modes(self):
        return termios.tcgetattr(self.fd)

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)


def check(name, ok, screen=None):
    global failures
    print(("PASS " if ok else "FAIL ") + name, flush=True)
    if not ok:
        failures += 1
        if screen is not None:
            print("  screen: " + repr(screen.seen[-3000:]), flush=True)


class World:
    """A workspace owned by sbrun-test and an outer shell at a prompt."""

    def __init__(self, as_user, policy="use std.agent;\n"):
        self.as_user = as_user
        self.dir = tempfile.mkdtemp(prefix="sbrun-terminal-")
        os.chmod(self.dir, 0o755)
        self.ws = os.path.join(self.dir, "ws")
        os.mkdir(self.ws)
        with open(os.path.join(self.ws, "p.sbpolicy"), "w") as f:
            f.write(policy)
        shutil.chown(self.ws, USER, USER)
        shutil.chown(os.path.join(self.ws, "p.sbpolicy"), USER, USER)
        home = "/home/" + USER if as_user else "/root"
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TERM": "xterm", "PS1": "OUTER$ ",
               "LANG": "C"}
        argv = ["bash", "--norc", "--noprofile", "-i"]
        if as_user:
            argv = run_as_user(argv)
        self.screen = Screen(argv, self.ws, env)
        self.mark = 0
        self.prompt()

    def prompt(self):
        m = self.screen.expect(r"OUTER\$ $", self.mark)
        if m:
            self.mark = m.end()
        return m is not None

    def run(self, line):
        """Types `line` at the outer prompt; returns the offset it starts at."""
        start = len(self.screen.seen)
        self.screen.send(line + "\r")
        return start

    def close(self):
        self.screen.close()
        shutil.rmtree(self.dir, ignore_errors=True)


SB = SBRUN + " p.sbpolicy -- "


def case_tty_and_job_control(w):
    s = w.screen
    w.run(SB + "bash --norc --noprofile -i")
    at = len(s.seen)
    s.send("PS1='I''N$ '\r")  # the echo of the line is not the prompt
    check("a shell inside starts", s.expect(r"IN\$ ", at) is not None, s)
    at = len(s.seen)
    s.send("tty\r")
    check("`tty` inside is the sandbox's own pty", s.expect(r"/dev/pts/\d+\r\n", at) is not None, s)
    check("the shell inside has job control",
          b"no job control" not in s.seen and b"cannot set terminal process group" not in s.seen, s)
    at = len(s.seen)
    s.send("sleep 30\r")
    time.sleep(0.5)
    s.send(b"\x1a")  # Ctrl-Z
    check("Ctrl-Z stops the job inside", s.expect(r"Stopped\s+sleep 30", at) is not None, s)
    at = len(s.seen)
    s.send("jobs -l; echo JOBS-'DONE'\r")
    check("`jobs` inside lists it", s.expect(r"sleep 30.*JOBS-DONE", at) is not None, s)
    at = len(s.seen)
    s.send("fg\r")
    time.sleep(0.5)
    s.send(b"\x03")  # Ctrl-C, to the job in the foreground inside
    check("`fg` then Ctrl-C ends it; the shell inside stays", s.expect(r"IN\$ ", at + 1) is not None, s)
    at = len(s.seen)
    s.send("exit 7\r")
    check("back at the outer shell", w.prompt(), s)
    w.run("echo rc=$?")
    check("the exit status comes out", s.expect(r"rc=7", at) is not None, s)
    w.prompt()


def case_window_size(w):
    s = w.screen
    s.resize(33, 101)
    at = w.run(SB + "bash -c 'stty size; trap \"stty size; echo GOT-WINCH\" WINCH; "
               "while :; do sleep 0.1; done'")
    check("the window size is the real terminal's", s.expect(r"33 101\r\n", at) is not None, s)
    at = len(s.seen)
    s.resize(41, 120)
    check("a resize reaches the command (SIGWINCH, new size)",
          s.expect(r"41 120\r\nGOT-WINCH", at) is not None, s)
    s.send(b"\x03")
    check("Ctrl-C ends the command", w.prompt(), s)
    at = w.run("echo rc=$?")
    check("... with status 130", s.expect(r"rc=130", at) is not None, s)
    w.prompt()


def case_modes_restored(w):
    s = w.screen
    before = s.modes()
    at = w.run(SB + "sh -c 'stty raw -echo; echo CHANGED-\"INSIDE\"'")
    check("the command changed its terminal's modes", s.expect(r"CHANGED-INSIDE", at) is not None, s)
    w.prompt()
    check("the real terminal's modes are as they were", s.modes() == before, s)


def case_command_stops_itself(w):
    s = w.screen
    at = w.run(SB + "sh -c 'echo STOP\"PING\"; kill -TSTP $$; echo RESUMED-\"OK\"'")
    check("the command stopped itself, its output shown first", s.expect(r"STOPPING\r\n.*Stopped", at) is not None, s)
    check("sbrun stops with it: the outer shell has the terminal", w.prompt(), s)
    at = w.run("fg")
    check("`fg` continues the command", s.expect(r"RESUMED-OK", at) is not None, s)
    w.prompt()
    at = w.run("echo rc=$?")
    check("... which exits 0", s.expect(r"rc=0\r\n", at) is not None, s)
    w.prompt()


def case_stop_gives_the_terminal_back(as_user):
    """sbrun as the terminal's only job (no shell to restore the modes): when
    the command stops itself, sbrun stops with the real terminal in its own
    modes again, and goes on in raw mode when continued."""
    ws = tempfile.mkdtemp(prefix="sbrun-terminal-")
    try:
        with open(os.path.join(ws, "p.sbpolicy"), "w") as f:
            f.write("use std.agent;\n")
        shutil.chown(ws, USER, USER)
        env = {"PATH": "/usr/bin:/bin", "HOME": "/home/" + USER if as_user else "/root", "TERM": "xterm",
               "LANG": "C"}
        argv = [SBRUN, "p.sbpolicy", "--", "sh", "-c", "echo STOPPING; kill -TSTP $$; echo RESUMED-OK"]
        if as_user:
            argv = run_as_user(argv)
        s = Screen(argv, ws, env)
        before = s.modes()
        try:
            check("the command's output comes before the stop", s.expect(r"STOPPING") is not None, s)
            state = ""
            for _ in range(100):
                with open(f"/proc/{s.pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state == "T":
                    break
                time.sleep(0.05)
            check("sbrun stops when the command stops itself", state == "T", s)
            check("... with the terminal in its own modes", s.modes() == before, s)
            os.kill(s.pid, signal.SIGCONT)
            check("continued, the command goes on", s.expect(r"RESUMED-OK") is not None, s)
            _, status = os.waitpid(s.pid, 0)
            check("... and sbrun exits with its status", os.waitstatus_to_exitcode(status) == 0, s)
            s.pid = 0
        finally:
            if s.pid:
                s.close()
            else:
                os.close(s.fd)
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def case_signal_status(w):
    s = w.screen
    w.run(SB + "sh -c 'kill -TERM $$'")
    w.prompt()
    at = w.run("echo rc=$?")
    check("a command killed by SIGTERM: status 143", s.expect(r"rc=143", at) is not None, s)
    w.prompt()


def case_no_way_to_the_real_terminal(w):
    s = w.screen
    marker = os.path.join(w.dir, "INJECTED")
    # TIOCSTI on every descriptor and on /dev/tty; /dev/console (bubblewrap
    # binds the real terminal there when its stdout is one); then the host
    # checks that nothing reached the outer shell.
    probe = ("import fcntl, os, termios\n"
             "paths = ['/dev/tty', '/dev/console']\n"
             "fds = [0, 1, 2]\n"
             "for p in paths:\n"
             "    try: fds.append(os.open(p, os.O_RDWR))\n"
             "    except OSError as e: print('OPEN', p, e.errno)\n"
             "for fd in fds:\n"
             "    for c in 'touch " + marker + "\\n':\n"
             "        try: fcntl.ioctl(fd, termios.TIOCSTI, c)\n"
             "        except OSError as e: print('TIOCSTI', fd, e.errno); break\n"
             "print('PROBE-DONE')\n")
    with open(os.path.join(w.ws, "probe.py"), "w") as f:
        f.write(probe)
    at = w.run(SB + "python3 probe.py")
    check("the probe ran", s.expect(r"PROBE-DONE", at) is not None, s)
    check("no /dev/console inside", s.expect(r"OPEN /dev/console 2", at, timeout=1) is not None, s)
    check("TIOCSTI refused on every descriptor",
          len(re.findall(rb"TIOCSTI \d+ 1\r\n", s.seen[at:])) == 4, s)
    w.prompt()
    w.run("true")
    w.prompt()
    s.read_for(0.5)
    check("nothing was typed into the outer shell (host side)", not os.path.exists(marker), s)


def ask_world(as_user):
    return World(as_user, 'use std.agent;\nask net "ask.test";\n')


def question_case(w, pipe):
    s = w.screen
    # A ticker writes all along; the command writes BEFORE, asks, writes AFTER.
    # (The markers are quoted so that the echo of the typed line is not them.)
    cmd = ("sh -c '(while :; do echo TI\"CK\"; sleep 0.05; done) & echo BEFORE-\"QUESTION\"; "
           "curl -s -m 20 -o /dev/null http://ask.test/; echo AFTER-\"QUESTION\"; kill $!'")
    at = w.run(SB + cmd + (" | cat" if pipe else ""))
    q = s.expect(r"the sandbox asks to connect to ask\.test:80.*> ", at, timeout=20)
    label = " (output piped)" if pipe else ""
    check("the question is asked" + label, q is not None, s)
    if q is None:
        s.send(b"\x03")
        w.prompt()
        return
    before = s.seen.find(b"BEFORE-QUESTION", at)
    check("output written before the question shows before it" + label, 0 <= before < q.start(), s)
    s.read_for(1.0)
    held = s.seen[q.end():]
    check("nothing from the command while the question is up" + label, b"TICK" not in held, s)
    s.send("d\r")
    after = s.expect(r"AFTER-QUESTION", q.end(), timeout=20)
    check("the command goes on after the answer" + label, after is not None, s)
    w.prompt()


def case_question_owns_the_terminal(w):
    question_case(w, pipe=False)


def case_question_owns_the_terminal_piped(w):
    question_case(w, pipe=True)


CASES = [
    (case_tty_and_job_control, World),
    (case_window_size, World),
    (case_modes_restored, World),
    (case_command_stops_itself, World),
    (case_stop_gives_the_terminal_back, None),
    (case_signal_status, World),
    (case_no_way_to_the_real_terminal, World),
    (case_question_owns_the_terminal, ask_world),
    (case_question_owns_the_terminal_piped, ask_world),
]


def main():
    if os.geteuid() != 0:
        print("SKIP: the terminal tests run sbrun as root and as sbrun-test, and need root")
        sys.exit(77)
    ensure_user()
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    for as_user in (False, True):
        for case, make in CASES:
            if only not in case.__name__:
                continue
            print(f"-- {case.__name__} ({'user' if as_user else 'root'})", flush=True)
            if make is None:  # a case that makes its own terminal
                case(as_user)
                continue
            w = make(as_user)
            try:
                case(w)
            finally:
                w.close()
    print(f"{failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
