"""The unprivileged user the runtime tests run sbrun as (shared by the
Python tests of this directory)."""
import subprocess
import time

USER = "sbrun-test"


def ensure_user():
    # Other tests may be adding the same user at this moment: useradd then
    # fails on the lock of /etc/passwd, and a retry finds the user made.
    for _ in range(20):
        if subprocess.run(["id", USER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return
        subprocess.run(["useradd", "-m", USER], stderr=subprocess.DEVNULL)
        time.sleep(0.25)
    raise RuntimeError(f"cannot create the user {USER}")


def run_as_user(argv):
    """`argv` run as the user, with its groups."""
    return ["setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups", "--"] + list(argv)
