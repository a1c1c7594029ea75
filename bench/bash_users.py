"""Everyday Bash requests as users type them: the model's index without its tldr-page rows, and with them.

    python bench/bash_users.py [--model SPEC]

`bench/data/bash_users.json` holds 63 requests written for cfgen (not copied
from NL2Bash or tldr-pages: some name values, some a command, many use
commands outside NL2Bash's hundred utilities), each with the commands that
would be accepted. Scored: template match of the top-1 / any of the top-5
against any accepted command, and, for requests that name values, how often
the top-1 holds every one of them ("values in place"). Prints a table and
writes bench/results/bash_users.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bash_corpora import without_pages
from cfgen.model_files.bundle import load_bundle
from cfgen.training.corpus import encode_texts
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import get_language
from cfgen.runtime import Distributed

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ROOT / "bench" / "data" / "bash_users.json"


def score(index, items: list[dict], encodings) -> dict:
    bash = get_language("bash")
    found = index.nearest_programs(encodings, "bash", 5, requests=[item["request"] for item in items])
    rows, top1, top5, placed, named = [], 0, 0, 0, 0
    for item, candidates in zip(items, found):
        codes = [c.code for c in candidates]
        hit = [any(bash.matches(code, accepted) for accepted in item["accept"]) for code in codes]
        top1 += bool(hit) and hit[0]
        top5 += any(hit)
        if item["values"]:
            named += 1
            placed += bool(codes) and all(value in codes[0] for value in item["values"])
        rows.append({"request": item["request"], "top1": codes[0] if codes else None, "match": bool(hit) and hit[0]})
    return {"top1": top1 / len(items), "top5": top5 / len(items), "values_in_place": placed / max(named, 1),
            "items": len(items), "with_values": named, "answers": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory or Hub id (default: the bundled model)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "bash_users.json")
    args = parser.parse_args()
    items = json.loads(ITEMS.read_text(encoding="utf-8"))["items"]
    encode = lambda texts: encode_texts(texts, Distributed(), "cpu")  # noqa: E731 - cached on disk
    index = load_bundle(resolve_model_directory(args.model) if args.model else default_model_directory()).index
    requests = encode([item["request"] for item in items])
    results = {"NL2Bash rows only": score(without_pages(index), items, requests),
               "with tldr pages (shipped)": score(index, items, requests)}
    print(f"{'index':<36}{'top-1':>8}{'top-5':>8}{'values in place':>18}   ({len(items)} requests)")
    for name, r in results.items():
        print(f"{name:<36}{r['top1']:>8.3f}{r['top5']:>8.3f}{r['values_in_place']:>18.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
