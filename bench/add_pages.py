"""Teaching cfgen a team's own pages: the time and peak memory of adding N tldr-style pages to a model's index
(`cfgen export MODEL OUT --add-pages DIR`), which encodes only the new requests.

    python bench/add_pages.py [--model default] [--pages ../shared/data/tldr/pages/common] [--sizes 5 500]

Each size runs in a fresh process (the first N pages of the folder, copied aside); the peak resident memory is
that process's. Prints a table and writes bench/results/add_pages.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURE = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
           "code = subprocess.run(sys.argv[1:]).returncode; "
           "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one command, run alone in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    seconds, peak_kb, code = out.stdout.split()[-3:]
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed (exit {code})")
    return float(seconds), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--pages", type=Path, default=ROOT.parent / "shared" / "data" / "tldr" / "pages" / "common")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 500])
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "add_pages.json")
    args = parser.parse_args()

    pages = sorted(args.pages.glob("*.md"))
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "pages"
            folder.mkdir()
            for page in pages[:size]:
                shutil.copy(page, folder / page.name)
            command = [sys.executable, "-m", "cfgen", "-q", "export", args.model, str(Path(scratch) / "out"),
                       "--add-pages", str(folder)]
            seconds, peak_mb = measured(command)
        rows.append({"pages": size, "seconds": seconds, "peak_mb": peak_mb})
        print(f"{size:>6} pages  {seconds:8.1f} s  {peak_mb:8.0f} MB peak", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": args.model, "rows": rows, "at": time.strftime("%Y-%m-%d")}, indent=1))


if __name__ == "__main__":
    main()
