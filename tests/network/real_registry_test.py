"""npm through sbrun against the real package registry, the way a user runs
it: `use std.agent; use std.dev.node;` and `npm install` of a small real
tree over HTTPS, with a fresh cache.

Optional: it needs the Internet. When registry.npmjs.org cannot be reached
from this machine (or npm is not installed) it skips, saying why.

usage: real_registry_test.py SBRUN
Exit status 0 when it passed, 1 when it failed, 77 when skipped.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

REGISTRY = "registry.npmjs.org"
USER = "sbrun-test"  # as root, sbrun runs the sandbox as the workspace's owner
# chalk 4 brings five dependencies; is-number none: seven packages.
DEPENDENCIES = {"is-number": "7.0.0", "chalk": "4.1.2"}


def skip(reason):
    print("skipped:", reason)
    sys.exit(77)


def fail(message):
    print("FAIL", message)
    sys.exit(1)


def main():
    sbrun = os.path.abspath(sys.argv[1])
    if shutil.which("npm") is None or shutil.which("node") is None:
        skip("npm is not installed")
    probe = subprocess.run(["curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}",
                            f"https://{REGISTRY}/is-number"], capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout != "200":
        skip(f"{REGISTRY} is not reachable from this machine: {probe.stderr.strip() or 'HTTP ' + probe.stdout}")

    root = tempfile.mkdtemp(prefix="sbrun-registry-")
    try:
        os.chmod(root, 0o755)
        work, home = os.path.join(root, "ws"), os.path.join(root, "home")
        os.makedirs(work)
        os.makedirs(os.path.join(home, ".npm"))
        with open(os.path.join(work, "p.sbpolicy"), "w") as f:
            f.write("use std.agent;\nuse std.dev.node;\n")
        with open(os.path.join(work, "package.json"), "w") as f:
            json.dump({"name": "project", "version": "1.0.0", "private": True, "dependencies": DEPENDENCIES}, f)
        log = os.path.join(root, "log.jsonl")
        argv = [sbrun, "--log", log, "p.sbpolicy", "--", "sh", "-c",
                "npm install --no-audit --no-fund --no-update-notifier && "
                "node -e \"console.log('loaded', require('is-number')(5), typeof require('chalk').red)\""]
        if os.geteuid() == 0:
            if subprocess.run(["id", USER], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "-m", USER], check=True)
            subprocess.run(["chown", "-R", f"{USER}:{USER}", root], check=True)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
        p = subprocess.run(argv, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=240)
        output = p.stdout + p.stderr
        print(output)
        if p.returncode != 0 or "loaded true function" not in output:
            fail(f"npm install under sbrun failed (exit {p.returncode})")
        installed = sorted(n for n in os.listdir(os.path.join(work, "node_modules")) if not n.startswith("."))
        if len(installed) != 7:
            fail(f"expected 7 packages, got {installed}")
        # Every connection went to the registry, through a tunnel the
        # policy allowed, and the cache is on the host.
        with open(log) as f:
            events = [json.loads(line) for line in f if line.strip()]
        net = [e for e in events if e.get("event") == "net" and e.get("host")]
        if not net or any(e.get("host") != REGISTRY or e.get("port") != 443 or e.get("effect") != "allow"
                          for e in net):
            fail(f"connections other than allowed ones to {REGISTRY}:443: {net}")
        cache = os.path.join(home, ".npm", "_cacache", "content-v2")
        if not os.path.isdir(cache):
            fail(f"npm's cache is not on the host at {cache}")
        print(f"PASS npm install of {len(installed)} packages from {REGISTRY} over {len(net)} connections")
    finally:
        shutil.rmtree(root, ignore_errors=True)


main()
