"""The test network of sbrun's network tests: real clients in real
sandboxes against a real network that records everything.

The world is built by the test, so nothing depends on the machine's network:
  - the test re-runs itself in new mount and network namespaces (root only);
  - "upstream" is a second network namespace behind a veth pair, at
    198.51.100.2, running servers.py: an authoritative DNS server that logs
    every query, HTTP vhosts (with `git http-backend`, and static sites such
    as a package registry that a test writes into `World.site`) and raw TCP
    ports, all logging what they receive;
  - /etc/resolv.conf is bind-mounted (in the test's mount namespace only) to
    point at that DNS server;
  - "host loopback services" listen on 127.0.0.1 in the test's namespace,
    where sbrun's proxy runs, and log every connection (SSRF tripwires).
Each case runs sbrun with a policy and a command, as root and (for the
cases marked so) as the unprivileged user sbrun-test, then checks the
command's output and the logs of everything on the far side.

A test script registers its cases with `case` and calls `main`:
  usage: SCRIPT SBRUN [CASE-NAME-SUBSTRING...]
Exit status 0 when every case passed, 1 otherwise, 77 when skipped.
"""

import json
import os
import pty
import pwd
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "runtime"))
from test_user import USER, ensure_user  # noqa: E402 - the runtime tests' user, one definition

UPSTREAM = "198.51.100.2"
LOCAL_SERVICE = 15432  # on the host's 127.0.0.1


def skip(reason):
    print("skipped:", reason)
    sys.exit(77)


# ---------------------------------------------------------------------------
# The world


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sbrun-net-")
        os.chmod(self.dir, 0o755)
        self.logs = os.path.join(self.dir, "logs")
        os.mkdir(self.logs)
        os.chmod(self.logs, 0o777)
        # Static sites, one directory per host name (servers.py serves them).
        self.site = os.path.join(self.dir, "site")
        os.mkdir(self.site)
        self.git_root = os.path.join(self.dir, "git")  # made by start()
        self.procs = []

    def sh(self, *cmd):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

    def start(self):
        self.sh("ip", "link", "set", "lo", "up")
        holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])
        self.procs.append(holder)
        time.sleep(0.1)
        ns = ["nsenter", "-t", str(holder.pid), "-n"]
        self.sh("ip", "link", "add", "sbt0", "type", "veth", "peer", "name", "sbt1")
        self.sh("ip", "link", "set", "sbt1", "netns", str(holder.pid))
        self.sh("ip", "addr", "add", "198.51.100.1/24", "dev", "sbt0")
        self.sh("ip", "link", "set", "sbt0", "up")
        self.sh(*ns, "ip", "link", "set", "lo", "up")
        self.sh(*ns, "ip", "addr", "add", UPSTREAM + "/24", "dev", "sbt1")
        self.sh(*ns, "ip", "link", "set", "sbt1", "up")
        # A bare git repository for `git clone` over HTTP.
        os.mkdir(self.git_root)
        src = os.path.join(self.dir, "src")
        subprocess.run(["git", "init", "-q", "-b", "main", src], check=True)
        with open(os.path.join(src, "README"), "w") as f:
            f.write("sbrun network test repository\n")
        subprocess.run(["git", "-C", src, "add", "README"], check=True)
        subprocess.run(["git", "-C", src, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"],
                       check=True)
        subprocess.run(["git", "clone", "-q", "--bare", src, os.path.join(self.git_root, "repo.git")], check=True)
        # And one that takes pushes over smart HTTP.
        push = os.path.join(self.git_root, "push.git")
        subprocess.run(["git", "clone", "-q", "--bare", src, push], check=True)
        subprocess.run(["git", "--git-dir", push, "config", "http.receivepack", "true"], check=True)
        servers = subprocess.Popen(ns + [sys.executable, os.path.join(HERE, "servers.py"), self.logs, self.git_root,
                                         self.site],
                                   stdout=subprocess.PIPE)
        self.procs.append(servers)
        if servers.stdout.readline().strip() != b"ready":
            raise RuntimeError("servers.py did not start")
        resolv = os.path.join(self.dir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write(f"nameserver {UPSTREAM}\noptions timeout:1 attempts:1\n")
        self.sh("mount", "--bind", resolv, "/etc/resolv.conf")
        # Host loopback services: an SSRF that reaches one shows up here.
        for port in (22, 631, 2375, 6379, 9222, 8080):
            threading.Thread(target=self.tripwire, args=(port,), daemon=True).start()
        # A service on the host's loopback that policies allow (a database, a
        # dev server): it greets, then echoes.
        threading.Thread(target=self.local_service, daemon=True).start()

    def local_service(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", LOCAL_SERVICE))
        s.listen(64)

        def serve(c):
            with c:
                c.sendall(b"hello from the host's service\n")
                while data := c.recv(4096):
                    c.sendall(data)

        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    def tripwire(self, port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        while True:
            c, _ = s.accept()
            with open(os.path.join(self.logs, "loopback.jsonl"), "a") as f:
                f.write(json.dumps({"port": port}) + "\n")
            c.close()

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def marks(self):
        out = {}
        for name in ("dns", "http", "tcp", "loopback"):
            path = os.path.join(self.logs, name + ".jsonl")
            out[name] = os.path.getsize(path) if os.path.exists(path) else 0
        return out

    def since(self, name, marks):
        path = os.path.join(self.logs, name + ".jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            f.seek(marks[name])
            return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------
# Running one case


class Result:
    def __init__(self, world, marks, code, output, log_path):
        self.code, self.output = code, output
        self.work = self.home = None  # set by run_sbrun
        time.sleep(0.2)  # let the far side finish writing its logs
        self.dns = world.since("dns", marks)
        self.http = world.since("http", marks)
        self.tcp = world.since("tcp", marks)
        self.loopback = world.since("loopback", marks)
        self.log = []
        if os.path.exists(log_path):
            with open(log_path) as f:
                self.log = [json.loads(line) for line in f if line.strip()]
        self.net = [e for e in self.log if e.get("event") == "net"]


POLICY_BASE = 'use std.base;\nallow read "./**";\nallow write "./**";\n'


def run_sbrun(world, sbrun, case, mode, tty=None):
    # The case's directory holds the workspace, a home beside it, and the log
    # (outside everything the sandbox may write). It belongs to USER in both
    # modes: sbrun started as root runs the sandbox as the workspace's owner.
    case_dir = tempfile.mkdtemp(prefix="case-", dir=world.dir)
    work = os.path.join(case_dir, "ws")
    home = os.path.join(case_dir, "home")
    os.mkdir(work)
    os.mkdir(home)
    shutil.copy(os.path.join(HERE, "client.py"), work)
    with open(os.path.join(work, "p.sbpolicy"), "w") as f:
        f.write(case.get("base", POLICY_BASE) + case.get("policy", ""))
    for name, content in case.get("files", {}).items():  # the project the command works on
        path = os.path.join(work, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
    log_path = os.path.join(case_dir, "log.jsonl")
    # Refusal notices on stderr would mix with what the cases parse: only the
    # cases about them (notices=True) see them.
    quiet = [] if case.get("notices") else ["--quiet"]
    argv = [sbrun, "--log", log_path] + quiet + case.get("args", []) + ["p.sbpolicy", "--", "sh", "-c", case["cmd"]]
    # As the user, setpriv --reset-env gives sbrun the user's own home.
    run_home = home if mode == "root" else pwd.getpwnam(USER).pw_dir
    for d in case.get("home_dirs", []):  # what a user of the tool already has, empty
        shutil.rmtree(os.path.join(run_home, d), ignore_errors=True)
        os.makedirs(os.path.join(run_home, d))
        subprocess.run(["chown", "-R", USER + ":" + USER, os.path.join(run_home, d.split("/")[0])], check=True)
    subprocess.run(["chown", "-R", USER + ":" + USER, case_dir], check=True)
    if mode == "user":
        argv = ["setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups", "--reset-env"] + argv
    if case.get("piped"):  # sbrun's output through a pipe to a reader that copies it late
        argv = ["sh", "-c", '"$@" 2>&1 | (sleep 0.3; cat)', "sh"] + argv
    marks = world.marks()
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
    timeout = case.get("timeout", 60)
    if tty is None:
        p = subprocess.run(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True)
        r = Result(world, marks, p.returncode, p.stdout.decode("utf-8", "replace"), log_path)
    else:
        r = tty(world, argv, work, env, marks, log_path, timeout)
    r.work, r.home = work, run_home
    return r


def with_answers(answers, delay=0.0):
    """Runs sbrun on a pseudo-terminal and answers each network prompt in
    turn, `delay` seconds after it appears."""

    def run(world, argv, work, env, marks, log_path, timeout):
        pid, master = pty.fork()
        if pid == 0:
            os.chdir(work)
            os.execvpe(argv[0], argv, env)
        transcript, pending = b"", list(answers)
        deadline = time.time() + timeout
        status = None
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                transcript += chunk
                while pending and transcript.count(b"deny (default)  > ") > len(answers) - len(pending):
                    time.sleep(delay)
                    os.write(master, pending.pop(0).encode() + b"\n")
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                try:
                    transcript += os.read(master, 65536)
                except OSError:
                    pass
                break
        else:
            os.kill(pid, 9)
        if status is None:  # ended by EOF on the terminal, or killed above
            _, status = os.waitpid(pid, 0)
        os.close(master)
        code = os.waitstatus_to_exitcode(status)
        return Result(world, marks, code, transcript.decode("utf-8", "replace"), log_path)

    return run


# ---------------------------------------------------------------------------
# Checks


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def no_dns(r, *fragments):
    for q in r.dns:
        for frag in fragments:
            expect(frag not in q["name"], f"DNS query for {q['name']} (must never be resolved)")


def no_upstream(r, host=None):
    hits = [h for h in r.http if host is None or (h.get("host") or "").startswith(host)]
    expect(not hits, f"upstream received {hits}")


def no_loopback(r):
    expect(not r.loopback, f"a host loopback service was reached: {r.loopback}")


def logged(r, **fields):
    for e in r.net:
        if all(e.get(k) == v for k, v in fields.items()):
            return e
    raise AssertionError(f"no log event with {fields}; events: {r.net}")


# ---------------------------------------------------------------------------
# Registering and running cases

CASES = []


def case(name, cmd, policy="", args=(), users=("root", "user"), tty=None, **kw):
    """Registers a case: `cmd` runs under sbrun with POLICY_BASE (or `base`)
    and `policy`; `check` gets its Result. Other keys: files (written into
    the workspace), home_dirs (made empty in the home the run gets), timeout,
    notices, piped."""
    def register(check):
        CASES.append(dict(name=name, cmd=cmd, policy=policy, args=list(args), users=users, tty=tty, check=check, **kw))
        return check
    return register


def run_case(world, sbrun, c, mode):
    r = run_sbrun(world, sbrun, c, mode, c["tty"])
    c["check"](r)
    # Whatever the case: sbrun built with sanitizers reported nothing,
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        expect(marker not in r.output, r.output)
    # and nothing in the log says a refused connection was dialled.
    for e in r.net:
        if e.get("outcome") == "refused" and e.get("reason", "").startswith(("no rule", "denied by")):
            expect("address" not in e, e)


def main(script, tools=("unshare", "nsenter", "ip", "curl", "git"), prepare=None):
    """Runs every registered case (or those whose names contain a filter) in
    a new world. `prepare(world)` fills the world's sites before it starts."""
    if os.geteuid() != 0:
        skip("the network tests build network namespaces and need root")
    sbrun, filters = os.path.abspath(sys.argv[1]), sys.argv[2:]
    if os.environ.get("SBRUN_NET_WORLD") != "1":
        for tool in tools:
            if shutil.which(tool) is None:
                skip(f"`{tool}` is not installed")
        env = dict(os.environ, SBRUN_NET_WORLD="1")
        os.execvpe("unshare", ["unshare", "--mount", "--net", "--fork", "--propagation", "private",
                               sys.executable, os.path.abspath(script)] + sys.argv[1:], env)
    ensure_user()
    world = World()
    failures = 0
    try:
        if prepare is not None:
            prepare(world)
        world.start()
        for c in CASES:
            if filters and not any(f in c["name"] for f in filters):
                continue
            for mode in c["users"]:
                label = f"{c['name']} [{mode}]"
                try:
                    run_case(world, sbrun, c, mode)
                    print("PASS", label, flush=True)
                except Exception as e:  # noqa: BLE001 - report every failure, keep going
                    failures += 1
                    print("FAIL", label, "\n   ", str(e).replace("\n", "\n    "), flush=True)
    finally:
        world.stop()
    print(f"{failures} failed")
    sys.exit(1 if failures else 0)
