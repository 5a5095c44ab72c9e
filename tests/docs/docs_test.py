"""The docs say what the tools do: the policies shown in README.md and
docs/*.md check clean, the commands they show run, and the options they
name exist.

  - every fenced block that is a policy (each statement a `version`, `use`,
    `let`, `allow`, `deny` or `ask`) passes `sbc check`;
  - every `sbrun ...` line in a fenced block runs and exits 0, with the
    policy its `# p.sbpolicy: ...` comment gives, in a fresh workspace, and
    with a server on the loopback address and port the command names (the
    recipe for dev servers);
  - every `--option` in README's sbrun synopsis and sbc table is in the
    tool's --help;
  - the numbers of escape and network cases the docs give are the
    sources'.

usage: docs_test.py SBC SBRUN SOURCE_DIR
Exit status 0 when every check passed, 1 otherwise.
"""

import glob
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

SBC, SBRUN, SOURCE = (os.path.abspath(a) for a in sys.argv[1:4])
USER = "sbrun-test"  # as root, sbrun runs the sandbox as the workspace's owner
failures = []


def fail(what):
    failures.append(what)
    print("FAIL", what, flush=True)


def blocks():
    for path in ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=SOURCE)):
        text = open(os.path.join(SOURCE, path)).read()
        for m in re.finditer(r"```[a-z]*\n(.*?)```", text, re.S):
            yield f"{path}:{text[:m.start()].count(chr(10)) + 2}", m.group(1)


def is_policy(block):
    statements = [line.split("#")[0].strip() for line in block.splitlines()]
    statements = [s for s in statements if s]
    return bool(statements) and any(s.endswith(";") for s in statements) and all(
        re.match(r"(version|use|let|export|limit|allow|deny|ask|test|expect)\b", s) or not re.match(r"[A-Za-z]", s) for s in statements)


def workspace():
    d = tempfile.mkdtemp(prefix="sbpolicy-docs-")
    os.chmod(d, 0o755)
    return d


def own(d):
    if os.geteuid() == 0:
        if subprocess.run(["id", USER], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-m", USER], check=True)
        subprocess.run(["chown", "-R", f"{USER}:{USER}", d], check=True)


def serve_loopback(port):
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"dev server\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check_policies():
    count = 0
    for where, block in blocks():
        if not is_policy(block):
            continue
        count += 1
        d = workspace()
        ws = os.path.join(d, "ws")
        os.mkdir(ws)
        with open(os.path.join(ws, "p.sbpolicy"), "w") as f:
            f.write(block)
        # The files it imports by path exist (the shape of the example is
        # what is checked here, not the baseline it names).
        for imported in re.findall(r'^\s*use\s+"([^"]+)"', block, re.M):
            path = os.path.normpath(os.path.join(ws, imported))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("version 1;\n")
        r = subprocess.run([SBC, "check", "--format", "plain", "p.sbpolicy"], cwd=ws, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"{where}: the policy shown does not check:\n{r.stderr}")
        else:
            print("PASS", where, "policy checks", flush=True)
        shutil.rmtree(d)
    if count == 0:
        fail("no policy found in the docs: the test looks at nothing")


def run_commands():
    for where, block in blocks():
        lines = block.splitlines()
        policy = "".join(l.split(":", 1)[1].strip() + "\n" for l in lines if l.startswith("# p.sbpolicy:"))
        for line in lines:
            if not line.startswith("sbrun "):
                continue
            d = workspace()
            ws, home = os.path.join(d, "ws"), os.path.join(d, "home")
            os.mkdir(ws)
            os.mkdir(home)
            with open(os.path.join(ws, "p.sbpolicy"), "w") as f:
                f.write(policy)
            own(d)
            servers = [serve_loopback(int(port)) for port in re.findall(r"http://[a-z.]+:(\d+)/", line)
                       if "127.0.0.1" in line]
            argv = [SBRUN, "--ask", "deny"] + line.split()[1:]
            r = subprocess.run(argv, cwd=ws, capture_output=True, text=True, timeout=60,
                               env={"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"})
            for s in servers:
                s.shutdown()
                s.server_close()
            if r.returncode != 0:
                fail(f"{where}: `{line}` exits {r.returncode}:\n{r.stdout}{r.stderr}")
            else:
                print("PASS", where, line, flush=True)
            shutil.rmtree(d)


def check_options():
    readme = open(os.path.join(SOURCE, "README.md")).read()
    synopsis = next((l for l in readme.splitlines() if l.startswith("`sbrun [")), None)
    if synopsis is None:
        fail("README.md has no sbrun synopsis line")
        return
    sbrun_help = subprocess.run([SBRUN, "--help"], capture_output=True, text=True).stdout
    for option in re.findall(r"--[a-z][a-z-]*", synopsis):
        if option not in sbrun_help:
            fail(f"README.md names `sbrun {option}`, which sbrun --help does not have")
    for line in readme.splitlines():
        m = re.match(r"\| `sbc (check|compile|explain)[^|]*\|", line)
        if not m:
            continue
        helptext = subprocess.run([SBC, m.group(1), "--help"], capture_output=True, text=True).stdout
        for option in re.findall(r"--[a-z][a-z-]*", line):
            if option not in helptext:
                fail(f"README.md names `sbc {m.group(1)} {option}`, which its --help does not have")
    print("PASS README options exist", flush=True)


def check_counts():
    """The numbers of tests the docs give are the numbers in the sources."""
    def count(path, pattern):
        return len(re.findall(pattern, open(os.path.join(SOURCE, path)).read(), re.M))
    actual = {"escape": count("tests/runtime/escape_test.cpp", r"^TEST_P\(Escape,"),
              "network": count("tests/network/network_test.py", r"^@case\(")}
    claims = [("docs/linux.md", r"(\d+) attacks from the escape catalogue", "escape"),
              ("docs/status.md", r"escape tests \((\d+) cases", "escape"),
              ("docs/status.md", r"Network tests \((\d+) cases", "network"),
              ("docs/network.md", r"It has (\d+) cases", "network")]
    for path, pattern, what in claims:
        found = re.findall(pattern, open(os.path.join(SOURCE, path)).read())
        if not found:
            fail(f"{path} no longer says /{pattern}/: update the docs test with it")
        for n in found:
            if int(n) != actual[what]:
                fail(f"{path} says {n} {what} cases; the sources have {actual[what]}")
    print("PASS test counts in the docs", actual, flush=True)


check_policies()
run_commands()
check_options()
check_counts()
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
