"""`sbc fmt` as a command: the layout on written-out cases (stdin to
stdout), --check (exit 1 and the files that change), --diff, -w, and a
policy that does not parse refused with nothing on stdout. The round trip
over every policy of the project (meaning, comments, idempotence) is the
unit test Format.KeepsMeaningAndCommentsOnEveryPolicyAndIsIdempotent.

usage: fmt_test.py SBC SOURCE_DIR
"""

import os
import shutil
import subprocess
import sys
import tempfile

SBC, SOURCE = (os.path.abspath(a) for a in sys.argv[1:3])
failures = []
work = tempfile.mkdtemp(prefix="sbpolicy-fmt-")


def sbc(*args, stdin=None, cwd=work):
    return subprocess.run([SBC, *args], input=stdin, capture_output=True, text=True, cwd=cwd)


# The command on a few files: stdout, --check, --diff, -w, stdin.
open(os.path.join(work, "a.sbpolicy"), "w").write('allow read "./a";\n')
open(os.path.join(work, "b.sbpolicy"), "w").write('allow   read "./b" ;# note\n')
check = sbc("fmt", "--check", "a.sbpolicy", "b.sbpolicy")
if check.returncode != 1 or check.stdout != "b.sbpolicy\n":
    failures.append(f"--check: exit {check.returncode}, {check.stdout!r}")
diff = sbc("fmt", "--diff", "b.sbpolicy")
if diff.returncode != 0 or '-allow   read "./b" ;# note' not in diff.stdout or '+allow read "./b";  # note' not in diff.stdout:
    failures.append(f"--diff: {diff.stdout!r}")
write = sbc("fmt", "-w", "a.sbpolicy", "b.sbpolicy")
if write.returncode != 0 or open(os.path.join(work, "b.sbpolicy")).read() != 'allow read "./b";  # note\n':
    failures.append(f"-w: exit {write.returncode}, {open(os.path.join(work, 'b.sbpolicy')).read()!r}")
if sbc("fmt", "--check", "a.sbpolicy", "b.sbpolicy").returncode != 0:
    failures.append("--check after -w")
# -w rewrites the file a link names, and keeps its mode.
open(os.path.join(work, "c.sbpolicy"), "w").write('allow   read "./c";\n')
os.chmod(os.path.join(work, "c.sbpolicy"), 0o640)
os.symlink("c.sbpolicy", os.path.join(work, "link.sbpolicy"))
if sbc("fmt", "-w", "link.sbpolicy").returncode != 0 or not os.path.islink(os.path.join(work, "link.sbpolicy")) \
        or open(os.path.join(work, "c.sbpolicy")).read() != 'allow read "./c";\n' \
        or (os.stat(os.path.join(work, "c.sbpolicy")).st_mode & 0o777) != 0o640:
    failures.append("-w through a link: the link or the mode was not kept")
# -w never leaves the file more open than it was, even for a moment: the
# new file has the old one's mode (and, for root, owner) before the rename
# puts it in place; no change of mode or owner comes after.
secret = os.path.join(work, "secret.sbpolicy")
open(secret, "w").write('allow   read "./s";\n')
os.chmod(secret, 0o600)
if os.geteuid() == 0:
    os.chown(secret, 65534, 65534)
if shutil.which("strace") is None:
    print("skipped: the order of mode and rename (strace is not installed)")
    write = sbc("fmt", "-w", "secret.sbpolicy")
    calls = ""
else:
    trace = os.path.join(work, "trace")
    write = subprocess.run(["strace", "-f", "-o", trace, "-e", "trace=chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,"
                            "rename,renameat,renameat2", SBC, "fmt", "-w", "secret.sbpolicy"],
                           capture_output=True, text=True, cwd=work,
                           # LeakSanitizer cannot run under ptrace (a sanitised build).
                           env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    calls = open(trace).read()
    after = calls[calls.find("rename"):] if "rename" in calls else ""
    if "rename" not in calls or any(c in after for c in ("chmod", "chown")):
        failures.append(f"-w changes the mode or owner after the rename:\n{calls}")
st = os.stat(secret)
if write.returncode != 0 or (st.st_mode & 0o777) != 0o600 or (os.geteuid() == 0 and st.st_uid != 65534):
    failures.append(f"-w of a 0600 file of another user: exit {write.returncode}, mode {oct(st.st_mode)}, "
                    f"owner {st.st_uid}")
if sbc("fmt", "-w").returncode != 2:
    failures.append("-w without files is a usage error")

# The layout itself.
cases = [
    ('allow   read "./a" ,"./b";deny read "./c"', 'allow read "./a", "./b";\ndeny read "./c";\n'),
    ("# head\n\n\n\nversion 1;\n\n\n\nuse std.base;\n", "# head\n\nversion 1;\n\nuse std.base;\n"),
    ('deny read\n  "~/.ssh", # keys\n  "~/.aws"\nexcept "~/.aws/config";\n',
     'deny read\n  "~/.ssh",  # keys\n  "~/.aws"\nexcept\n  "~/.aws/config";\n'),
    ('let x = [ "a" ,\n "b" ];\n', 'let x = [\n  "a",\n  "b",\n];\n'),
    ('let x=["a","b"];', 'let x = ["a", "b"];\n'),
    ('test "t" {expect deny read "./a";   expect allow net "a.test" by "p:1";}',
     'test "t" {\n  expect deny read "./a";\n  expect allow net "a.test" by "p:1";\n}\n'),
    ('allow read "' + "a" * 60 + '", "' + "b" * 60 + '";', 'allow read\n  "' + "a" * 60 + '",\n  "' + "b" * 60 + '";\n'),
    ("allow read \"./a\";  # trailing\n# tail\n", "allow read \"./a\";  # trailing\n# tail\n"),
    ("limit memory   4G ;", "limit memory 4G;\n"),
]
for given, want in cases:
    got = sbc("fmt", stdin=given)
    if got.returncode != 0 or got.stdout != want:
        failures.append(f"layout of {given!r}: got {got.stdout!r} (exit {got.returncode}), want {want!r}")
bad = sbc("fmt", stdin='allow reed "./a" "./b";')
if bad.returncode != 1 or bad.stdout != "" or "syntax errors" not in bad.stderr:
    failures.append(f"a policy that does not parse: exit {bad.returncode}, {bad.stderr!r}")

print(f"fmt: {len(cases)} layout cases and the command's flags; {len(failures)} failures")
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
