"""Bash retrieval with the CodeFusion data alone and with tldr-style pages beside it, in one index.

    python bench/bash_corpora.py [--pages ../shared/data/tldr] [--limit N]

The bundled model's index (NL2Bash train pairs, with its retrieval head) is
scored as it ships, then with the pages' train examples appended (their
vectors from the same encoder and head): a plain merge, and merges weighed by
corpus (corpora.py: a page row's cosine counts `margin` less, a row whose
command the request names `bonus` more). Template match top-1 / top-5 on the
NL2Bash dev split and on the pages' dev split (about one example in ten, by
hash). Prints a table and writes bench/results/bash_corpora.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from cfgen.bundle import load_bundle
from cfgen.corpus import DataSources, encode_texts, gather_corpus
from cfgen.data import load_benchmark
from cfgen.encoder import TextEncoder
from cfgen.hub import default_model_directory
from cfgen.languages import get_language
from cfgen.retrieval import RetrievalIndex
from cfgen.runtime import Distributed

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"NL2Bash only (shipped)": None, "plain merge": (0.0, 0.0), "margin 0.03": (0.03, 0.0),
            "margin 0.03, command bonus 0.05": (0.03, 0.05), "margin 0.05, command bonus 0.05": (0.05, 0.05)}


def merged(index: RetrievalIndex, pairs, encodings) -> RetrievalIndex:
    """`index` with the page pairs appended as bash rows (vectors from the same encoder and retrieval head)."""
    pages = RetrievalIndex.build(pairs, encodings, head=index.head)
    first = len(index.codes)
    return RetrievalIndex(torch.cat([index.vectors, pages.vectors]), index.codes + pages.codes,
                          index.langs + pages.langs, index.values + pages.values, index.masked,
                          index.masked_vectors, index.head, torch.cat([index.tuned_vectors, pages.tuned_vectors]),
                          (index.requests or [""] * first) + pages.requests,
                          frozenset(range(first, first + len(pages.codes))))


def score(index: RetrievalIndex, items, encodings) -> dict:
    bash, top1, top5 = get_language("bash"), 0, 0
    for start in range(0, len(items), 256):
        chunk = items[start : start + 256]
        found = index.nearest_programs(encodings[start : start + 256], "bash", 5, requests=[p.nl for p in chunk])
        for pair, row in zip(chunk, found):
            codes = [candidate.code for candidate in row]
            top1 += bool(codes) and bash.matches(codes[0], pair.code)
            top5 += any(bash.matches(code, pair.code) for code in codes[:5])
    return {"top1": top1 / len(items), "top5": top5 / len(items), "items": len(items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--pages", type=Path, default=ROOT.parent / "shared" / "data" / "tldr")
    parser.add_argument("--limit", type=int, default=0, help="first N items of each dev split (0: all)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "bash_corpora.json")
    args = parser.parse_args()
    started = time.perf_counter()
    index = load_bundle(default_model_directory()).index
    pages = gather_corpus("finetune", DataSources(page_dirs=[args.pages], languages=("bash",)))
    dev = {"NL2Bash dev": load_benchmark(args.data / "BashBenchmarks.json", "dev", "bash"), "tldr dev": pages.dev}
    dev = {name: items[: args.limit or None] for name, items in dev.items()}
    encode = lambda texts: encode_texts(texts, Distributed(), "cpu")  # noqa: E731 - cached on disk
    page_encodings = encode([p.nl for p in pages.pairs])
    dev_encodings = {name: encode([p.nl for p in items]) for name, items in dev.items()}
    both = merged(index, pages.pairs, page_encodings)
    results = {}
    for setting, weights in SETTINGS.items():
        chosen = index if weights is None else both
        if weights is not None:
            chosen.margin, chosen.bonus = weights
        results[setting] = {name: score(chosen, items, dev_encodings[name]) for name, items in dev.items()}
    print(f"{'index':<42}" + "".join(f"{name + ' top-1/5':>22}" for name in dev))
    for setting, found in results.items():
        print(f"{setting:<42}" + "".join(f"{f['top1']:>13.3f} / {f['top5']:.3f}" for f in found.values()))
    print(f"({len(index.codes):,} rows shipped, {len(both.codes):,} merged; {time.perf_counter() - started:.0f} s)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": {"shipped": len(index.codes), "merged": len(both.codes)},
                                       "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
