"""Run one command of one task in a bubblewrap sandbox and say whether the task's check passed.

The sandbox: a fresh temporary folder mounted as /work (the only writable place but a private /tmp), the
system read-only, no network (every namespace unshared), a new session, uid 1000 (never root), HOME=/work/home,
and a wall-clock limit. Setup, the command and the check run in one bash there, in the folder the setup ends in,
so that a process the setup starts is one the command can see. The command's output goes to $OUT (in the private /tmp, out of the
command's way), its exit status to $RC. Requires `bwrap` (apt-get install bubblewrap).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile

COMMAND_SECONDS = 5  # the command's own limit inside; the whole task gets a few seconds more
_HELPERS = r"""
printed() { grep -qw -- "$1" "$OUT"; }
lines() { [ "$(grep -c . "$OUT")" -eq "$1" ]; }
ok() { [ "$RC" -eq 0 ]; }
"""
_SCRIPT = _HELPERS + r"""
export OUT=/tmp/out RC
mkdir -p /work/home; cd /work
eval "$1" >/dev/null 2>&1
timeout -k 1 %d bash -c "$2" </dev/null >"$OUT" 2>/tmp/err; RC=$?
eval "$3"
""" % COMMAND_SECONDS


def available() -> bool:
    """Whether bubblewrap is installed and can make a sandbox here."""
    if shutil.which("bwrap") is None:
        return False
    return subprocess.run(_bwrap(["/", "/tmp"]) + ["true"], capture_output=True, timeout=30).returncode == 0


def _bwrap(work: list[str]) -> list[str]:
    source, _ = work
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--uid", "1000", "--gid", "1000",
               "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "--bind", source, "/work", "--chdir", "/work", "--setenv", "HOME", "/work/home",
               "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "LC_ALL", "C.UTF-8"]
    for link in ("bin", "lib", "lib64", "sbin"):  # merged-/usr systems: /bin -> usr/bin
        command += ["--symlink", f"usr/{link}", f"/{link}"]
    return command


def passes(setup: str, command: str, check: str) -> bool:
    """Whether `check` holds after `command` ran on what `setup` made, in a fresh sandbox."""
    folder = tempfile.mkdtemp(prefix="cfgen-exec-")
    try:
        done = subprocess.run(_bwrap([folder, "/work"]) + ["bash", "-c", _SCRIPT, "task", setup, command, check],
                              capture_output=True, timeout=COMMAND_SECONDS + 10)
        return done.returncode == 0
    except subprocess.TimeoutExpired:
        return False
    finally:  # rm, not shutil.rmtree: a command may leave folders nested deeper than Python recurses
        subprocess.run(["chmod", "-R", "u+rwx", folder], capture_output=True)
        subprocess.run(["rm", "-rf", folder], capture_output=True)
