"""Bash programs as templates (cfgen/languages/bash_template.py): how many round-trip, how long they are, how many
of dev's templates training holds.

    python bench/bash_templates.py [--data ../shared/data] [--min-count 10]

Round trip: the template filled with the program's own values parses as the program does, to the same words.
Prints a table and writes bench/results/bash_templates.json.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
from pathlib import Path

from cfgen.training.data import load_benchmark
from cfgen.languages.bash_template import closed_class, round_trips, template, why_not
from cfgen.training.tldr import read_pages

ROOT = Path(__file__).resolve().parents[1]


def corpora(data: Path) -> dict[str, dict[str, list[str]]]:
    benchmark = data / "codefusion" / "BashBenchmarks.json"
    pages, _ = read_pages(data / "tldr" / "pages")
    return {"nl2bash": {split: [p.code for p in load_benchmark(benchmark, split, "bash")] for split in ("train", "dev")},
            "tldr": {"train": [e.command for e in pages if not e.dev], "dev": [e.command for e in pages if e.dev]}}


def figures(programs: list[str], literals: frozenset[str], seen: set[str]) -> dict:
    made = [template(program, literals) for program in programs]
    reasons = collections.Counter(why_not(p) or "filled back differently" for p, t in zip(programs, made)
                                  if t is None or not round_trips(p, literals))
    lengths = [len(t.tokens) for t in made if t is not None]
    return {"programs": len(programs), "round_trip": len(programs) - sum(reasons.values()),
            "round_trip_share": 1 - sum(reasons.values()) / len(programs), "why_not": dict(reasons.most_common()),
            "mean_tokens": statistics.mean(lengths), "median_tokens": statistics.median(lengths),
            "mean_slots": statistics.mean(len(t.values) for t in made if t is not None),
            "template_seen_in_train": sum(t is not None and t.text in seen for t in made) / len(programs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--min-count", type=int, default=10, help="a literal argument recurs this often in training")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "bash_templates.json")
    args = parser.parse_args()

    data = corpora(args.data)
    train = data["nl2bash"]["train"] + data["tldr"]["train"]
    literals = closed_class(train, args.min_count)
    train_templates = [template(p, literals) for p in train]
    seen = {t.text for t in train_templates if t is not None}
    vocabulary = {token for t in train_templates if t is not None for token in t.tokens}
    rows = {f"{name} {split}": figures(programs, literals, seen)
            for name, splits in data.items() for split, programs in splits.items()}
    print(f"{'corpus':<14}{'programs':>9}{'round trip':>12}{'tokens':>8}{'slots':>7}{'seen':>7}")
    for name, row in rows.items():
        print(f"{name:<14}{row['programs']:>9}{row['round_trip_share']:>12.3f}{row['mean_tokens']:>8.1f}"
              f"{row['mean_slots']:>7.1f}{row['template_seen_in_train']:>7.3f}")
    print(f"literals: {len(literals)}; template vocabulary: {len(vocabulary)} tokens; distinct train templates: "
          f"{len(seen)}")
    for name, row in rows.items():
        print(f"{name}: not round-tripped: {row['why_not']}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"min_count": args.min_count, "literals": len(literals),
                                       "vocabulary": len(vocabulary), "train_templates": len(seen), "rows": rows},
                                      indent=1))


if __name__ == "__main__":
    main()
