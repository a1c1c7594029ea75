"""Bash retrieval with the CodeFusion data alone and with tldr-style pages beside it, in one index.

    python bench/bash_corpora.py [--model SPEC] [--pages ../shared/data/tldr] [--limit N]

The model's index (the bundled one: NL2Bash train pairs and tldr-pages'
train examples, bash rows also scored by the retrieval head) is scored
without its page rows, as a plain merge, and weighed by corpus with a few
settings (corpora.py: a page row's cosine counts `margin` less, a row that
runs a command the request names `bonus` more; the default is the shipped
one). Template match top-1 / top-5 on the NL2Bash dev split and on the
pages' dev split (about one example in ten, by hash). Prints a table and
writes bench/results/bash_corpora.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cfgen.model_files.bundle import load_bundle
from cfgen.retrieval.corpora import COMMAND_BONUS, PAGE_MARGIN
from cfgen.training.corpus import DataSources, encode_texts, gather_corpus
from cfgen.training.data import load_benchmark
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import get_language
from cfgen.retrieval.index import RetrievalIndex
from cfgen.runtime import Distributed

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"plain merge": (0.0, 0.0), "margin 0.03": (0.03, 0.0), "margin 0.05, command bonus 0.05": (0.05, 0.05),
            f"margin {PAGE_MARGIN}, command bonus {COMMAND_BONUS} (shipped)": (PAGE_MARGIN, COMMAND_BONUS)}


def without_pages(index: RetrievalIndex) -> RetrievalIndex:
    """The index less its page rows: the benchmark pairs alone, with the same vectors and head."""
    keep = [row for row in range(len(index.codes)) if row not in index.pages]
    served = [row for row, lang in enumerate(index.langs) if index.head is not None and lang in index.head.languages]
    position = {row: n for n, row in enumerate(served)}
    tuned = None if index.tuned_vectors is None else index.tuned_vectors[[position[r] for r in keep if r in position]]
    pick = lambda items: None if items is None else [items[row] for row in keep]  # noqa: E731
    # page rows are bash rows, never masked ones: the masked vectors stay as they are
    return RetrievalIndex(index.vectors[keep], pick(index.codes), pick(index.langs), pick(index.values), index.masked,
                          index.masked_vectors, index.head, tuned, pick(index.requests), bases=index.bases)


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
    parser.add_argument("--model", default=None, help="model directory or Hub id (default: the bundled model)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--pages", type=Path, default=ROOT.parent / "shared" / "data" / "tldr")
    parser.add_argument("--limit", type=int, default=0, help="first N items of each dev split (0: all)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "bash_corpora.json")
    args = parser.parse_args()
    started = time.perf_counter()
    index = load_bundle(resolve_model_directory(args.model) if args.model else default_model_directory()).index
    if not index.pages:
        parser.error("the model's index holds no page rows: export it with --index-from a folder of pages")
    pages = gather_corpus("finetune", DataSources(page_dirs=[args.pages], languages=("bash",), page_dev=True))
    dev = {"NL2Bash dev": load_benchmark(args.data / "BashBenchmarks.json", "dev", "bash"), "tldr dev": pages.dev}
    dev = {name: items[: args.limit or None] for name, items in dev.items()}
    encode = lambda texts: encode_texts(texts, Distributed(), "cpu")  # noqa: E731 - cached on disk
    dev_encodings = {name: encode([p.nl for p in items]) for name, items in dev.items()}
    alone = without_pages(index)
    results = {"without page rows": {name: score(alone, items, dev_encodings[name]) for name, items in dev.items()}}
    for setting, (margin, bonus) in SETTINGS.items():
        index.margin, index.bonus = margin, bonus
        results[setting] = {name: score(index, items, dev_encodings[name]) for name, items in dev.items()}
    print(f"{'index':<46}" + "".join(f"{name + ' top-1/5':>22}" for name in dev))
    for setting, found in results.items():
        print(f"{setting:<46}" + "".join(f"{f['top1']:>13.3f} / {f['top5']:.3f}" for f in found.values()))
    print(f"({len(alone.codes):,} rows without pages, {len(index.codes):,} with; {time.perf_counter() - started:.0f} s)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": {"without pages": len(alone.codes), "with": len(index.codes)},
                                       "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
