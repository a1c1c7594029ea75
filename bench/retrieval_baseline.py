"""Retrieval baseline: for each dev utterance, the code of the nearest training
utterances under the NL encoder (cosine), scored with cfgen's metrics.

    python bench/retrieval_baseline.py [--data ../shared/data/codefusion] [--limit N]

Prints a table and writes bench/results/retrieval_baseline.json (figures) and
retrieval_baseline.items.json (every item's candidates; not tracked).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from baselines import RetrievalPredictor

from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.encoding.encoder import TextEncoder
from cfgen.evaluation.evaluate import evaluate
from cfgen.languages import language_names

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["top1", "top3", "top5", "valid_top1", "distinct_2", "edit_diversity", "chrf"]


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(title)
    print(f"{'lang':<8}{'metric':<24}{'n':>5}" + "".join(f"{c:>15}" for c in COLUMNS))
    for lang, f in rows.items():
        cells = "".join(f"{f[c]:>15.3f}" if c in f else f"{'-':>15}" for c in COLUMNS)
        print(f"{lang:<8}{f['metric']:<24}{f['items']:>5}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N dev items per language")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "retrieval_baseline.json")
    args = parser.parse_args()

    encoder = TextEncoder()
    figures, reports = {}, {}
    for lang in language_names():
        path = benchmark_path(args.data, lang)
        train, dev = load_benchmark(path, "train", lang), load_benchmark(path, "dev", lang)
        dev = dev[: args.limit] if args.limit else dev
        report = evaluate(dev, lang, RetrievalPredictor(train, encoder, lang))
        figures[lang], reports[lang] = report["figures"], report
    print_table("retrieval baseline (nearest training utterance, MiniLM cosine), dev split", figures)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"figures": figures}, indent=1))
    args.output.with_suffix(".items.json").write_text(json.dumps(reports))  # per-item candidates: not tracked


if __name__ == "__main__":
    main()
