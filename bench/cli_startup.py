"""Start-up time of `cfgen --help` and of a tab completion (target: under 0.5 s).

    python bench/cli_startup.py [--runs 15]

Each is run as a fresh process; prints median and p90 and writes
bench/results/cli_startup.json. Neither may import torch (checked here too).
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
CFGEN = str(Path(sys.executable).parent / "cfgen")
CASES = {
    "cfgen --help": ([CFGEN, "--help"], {}),
    "tab completion": ([CFGEN], {"_CFGEN_COMPLETE": "complete_bash", "COMP_WORDS": "cfgen generate --l", "COMP_CWORD": "2"}),
}


def measure(command: list[str], env_extra: dict, runs: int) -> dict:
    env = {**os.environ, **env_extra}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    probe = subprocess.run(command, env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
                           capture_output=True, text=True)
    imports_torch = any(line.rstrip().endswith(" torch") for line in probe.stderr.splitlines())
    ordered = sorted(times)
    return {"median_s": statistics.median(times), "p90_s": ordered[int(0.9 * (len(ordered) - 1))], "runs": runs,
            "imports_torch": imports_torch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "cli_startup.json")
    args = parser.parse_args()
    results = {name: measure(command, env, args.runs) for name, (command, env) in CASES.items()}
    print(f"{'case':<18}{'median s':>10}{'p90 s':>10}{'imports torch':>15}")
    for name, r in results.items():
        print(f"{name:<18}{r['median_s']:>10.3f}{r['p90_s']:>10.3f}{str(r['imports_torch']):>15}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
