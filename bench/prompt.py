"""Answers at the prompt: a widget key press to the replaced line, in a real shell in a pty, with the answerer warm;
and a whole `cfgen "…" --lang bash` process with the answerer warm and without it.

    python bench/prompt.py [--shell bash|zsh|fish] [--runs 20] [--model SPEC]

An answerer (`cfgen serve`, bundled model unless --model) is started in a private runtime folder of this run, so
that the user's own answerer is neither used nor disturbed. For each of --runs requests the shell gets the request
typed, then Ctrl-G; the time is from writing Ctrl-G to the pty until the shell has written the whole best command
(its last characters, terminal escapes removed). Then the same requests as whole `cfgen` processes, warm, and a
few cold ones. Prints a table and writes bench/results/prompt.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_startup import CFGEN, PYTHON, run_once  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
from everyday_requests import EVERYDAY_BASH as REQUESTS  # noqa: E402
ESCAPES = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[=>78DEHMZc])|[\x00-\x08\x0e-\x1f]")


REDRAW_WAIT_S = 30.0  # the longest a key press may take to redraw the line


def _first_change(request: str, expected: str) -> bytes:
    """The first few characters of `expected` from where it stops agreeing with `request`."""
    same = next((i for i, (a, b) in enumerate(zip(request, expected)) if a != b), min(len(request), len(expected)))
    return expected[same:same + 3].encode()


def start_answerer(environment: dict, model_args: list[str]) -> subprocess.Popen:
    answerer = subprocess.Popen([CFGEN, "serve", "--idle-minutes", "30", *model_args], env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while subprocess.run([CFGEN, "serve", "--status", *model_args], env=environment,
                         capture_output=True).returncode != 0:
        if answerer.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the answerer did not start: {answerer.stderr.read().strip()[-300:]}")
        time.sleep(0.2)
    return answerer


def best_command(request: str, environment: dict, model_args: list[str]) -> str:
    fields = subprocess.run([PYTHON, "-m", "cfgen.answering.widget", *model_args, "--", request], env=environment,
                            capture_output=True, timeout=60).stdout.decode().split("\0")[1:]  # past the state
    if fields[0]:
        raise SystemExit(f"no answer for {request!r}: {fields[0]}")
    return fields[1]


class Shell:
    """An interactive shell in a pty with the widget loaded and prompt `$ `."""

    def __init__(self, shell: str, folder: Path, environment: dict, model_args: list[str]) -> None:
        script = folder / f"widget.{shell}"
        script.write_bytes(subprocess.run([CFGEN, "shell-init", shell, *model_args], env=environment,
                                          capture_output=True, check=True).stdout)
        environment = {**environment, "HOME": str(folder), "TERM": "xterm-256color", "ZDOTDIR": str(folder)}
        (folder / "rc").write_text(f"PS1='$ '\nsource {script}\n")
        (folder / ".zshrc").write_text(f"PS1='$ '\nsource {script}\n")
        command = {"bash": ["bash", "--noprofile", "--rcfile", str(folder / "rc"), "-i"], "zsh": ["zsh", "-i"],
                   "fish": ["fish", "--no-config", "--init-command",
                            f"function fish_prompt; printf '$ '; end; source {script}"]}[shell]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(command[0], command, environment)
        self.read_for(1.0)

    def read_for(self, seconds: float) -> bytes:
        out, deadline = b"", time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.fd], [], [], left)[0]:
                out += os.read(self.fd, 65536)
        return out

    def key_press_seconds(self, request: str, expected: str) -> float:
        """Seconds from Ctrl-G to the arrival of the shell's output that completes the redrawn line, `request`
        typed first: the output (escapes removed) must come to hold the end of `expected`, or the first characters
        that differ from the request (zsh redraws only what changed), within REDRAW_WAIT_S. No quiet window: a busy
        machine may pause a redraw anywhere, and the line counts when it is all there."""
        os.write(self.fd, b"\x05\x15" + request.encode())  # Ctrl-E Ctrl-U (clear the line), then the request
        self.read_for(0.3)
        wanted = (expected.encode()[-6:], _first_change(request, expected))
        seen, started = b"", time.perf_counter()
        os.write(self.fd, b"\x07")
        deadline = started + REDRAW_WAIT_S
        while (left := deadline - time.perf_counter()) > 0 and select.select([self.fd], [], [], left)[0]:
            seen += os.read(self.fd, 65536)
            if any(part in ESCAPES.sub(b"", seen) for part in wanted):
                return time.perf_counter() - started
        raise SystemExit(f"the line did not become {expected!r} for {request!r}: {seen[-200:]!r}")

    def close(self) -> None:
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)


def stats(samples: list[float]) -> dict:
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "runs": len(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shell", choices=("bash", "zsh", "fish"), default="bash")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--model", help="model spec (default: the bundled model)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "prompt.json")
    args = parser.parse_args()
    model_args = ["--model", args.model] if args.model else []
    requests = (REQUESTS * (args.runs // len(REQUESTS) + 1))[: args.runs]
    folder = Path(tempfile.mkdtemp(prefix="cfgen-prompt-"))
    (folder / "run").mkdir(mode=0o700)
    # a private runtime folder: the user's answerer is neither used nor disturbed; an answerer a widget starts on
    # its own (for settings of another key) ends a minute after its last request, not 30
    environment = {**os.environ, "XDG_RUNTIME_DIR": str(folder / "run"), "CFGEN_SERVE_IDLE_MINUTES": "1"}
    results = {"cold cfgen (no answerer)": stats(
        [run_once([CFGEN, r, "--lang", "bash", *model_args], environment)[0] for r in requests[: args.cold_runs]])}
    answerer = start_answerer(environment, model_args)
    shell = None
    try:
        expected = {r: best_command(r, environment, model_args) for r in dict.fromkeys(requests)}
        shell = Shell(args.shell, folder, environment, model_args)
        results[f"{args.shell} widget key press"] = stats([shell.key_press_seconds(r, expected[r]) for r in requests])
        results["warm cfgen (answerer)"] = stats(
            [run_once([CFGEN, r, "--lang", "bash", *model_args], environment)[0] for r in requests])
    finally:
        if shell is not None:
            shell.close()
        answerer.terminate()
        answerer.wait(timeout=60)
        subprocess.run([CFGEN, "serve", "--stop", *model_args], env=environment, capture_output=True, timeout=60)
    print(f"{'case':<28}{'median s':>10}{'min s':>8}{'max s':>8}{'runs':>6}")
    for name, r in results.items():
        print(f"{name:<28}{r['median_s']:>10.3f}{r['min_s']:>8.3f}{r['max_s']:>8.3f}{r['runs']:>6}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
