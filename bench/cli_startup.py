"""Cold start: a whole `cfgen "…"` process against `python -c "import torch"`, paired in one run.

    python bench/cli_startup.py [--runs 5] [--model SPEC]

Every case is a fresh process. The three cold requests (Bash, Python, CF,
bundled model unless --model) and the torch import are run in turn, round
after round, so that both sides of each ratio meet the same machine load;
the ratio is of the medians. Peak memory is the process's maximum resident
set (wait4). `cfgen --help` and a tab completion are timed too; neither may
import torch (checked here). Prints a table and writes
bench/results/cli_startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CFGEN = str(Path(PYTHON).parent / "cfgen")
REQUESTS = {"bash": "list files older than 3 days", "python": "sort the list by the key age",
            "cf": "highlight cells greater than 100"}
LIGHT = {"cfgen --help": ([CFGEN, "--help"], {}),
         "tab completion": ([CFGEN], {"_CFGEN_COMPLETE": "complete_bash", "COMP_WORDS": "cfgen --l",
                                      "COMP_CWORD": "1"})}


def run_once(command: list[str], env_extra: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fresh process, which must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **(env_extra or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {error.strip()[:300]}")
    return seconds, usage.ru_maxrss / 1024


def imports_torch(command: list[str], env_extra: dict) -> bool:
    probe = subprocess.run(command, env={**os.environ, **env_extra, "PYTHONPROFILEIMPORTTIME": "1"},
                           capture_output=True, text=True)
    return any(line.rstrip().endswith(" torch") for line in probe.stderr.splitlines())


def summary(samples: list[tuple[float, float]]) -> dict:
    times = [s for s, _ in samples]
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "peak_rss_mb": max(m for _, m in samples), "runs": len(samples)}


def paired(runs: int, model_args: list[str]) -> dict:
    cases = {"import torch": [PYTHON, "-c", "import torch"]}
    cases |= {f"cfgen {lang}": [CFGEN, request, "--lang", lang, *model_args] for lang, request in REQUESTS.items()}
    for command in cases.values() if runs > 1 else ():  # one run is a smoke check: nothing to compare
        run_once(command)  # warm the file cache once, outside the figures
    samples: dict[str, list] = {name: [] for name in cases}
    for _ in range(runs):
        for name, command in cases.items():
            samples[name].append(run_once(command))
    results = {name: summary(found) for name, found in samples.items()}
    torch_median = results["import torch"]["median_s"]
    for name in cases:
        results[name]["ratio_to_import_torch"] = results[name]["median_s"] / torch_median
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", help="model spec for the cold requests (default: the bundled model)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "cli_startup.json")
    args = parser.parse_args()
    results = paired(args.runs, ["--model", args.model] if args.model else [])
    for name, (command, env) in LIGHT.items():
        results[name] = summary([run_once(command, env) for _ in range(args.runs)])
        results[name]["imports_torch"] = imports_torch(command, env)
    print(f"{'case':<16}{'median s':>10}{'min s':>8}{'max s':>8}{'× torch':>9}{'peak MB':>9}")
    for name, r in results.items():
        ratio = f"{r['ratio_to_import_torch']:.2f}" if "ratio_to_import_torch" in r else "-"
        print(f"{name:<16}{r['median_s']:>10.2f}{r['min_s']:>8.2f}{r['max_s']:>8.2f}{ratio:>9}{r['peak_rss_mb']:>9.0f}")
    for name in LIGHT:
        if results[name]["imports_torch"]:
            print(f"warning: {name} imports torch")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
