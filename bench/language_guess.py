"""How often the language guessed from a request (no --lang; cfgen/answering/language_guess.py) is the right one.

    python bench/language_guess.py [--model SPEC] [--data ../shared/data/codefusion]

Every dev request of the three benchmarks and the README's examples: the share guessed right per language,
the share answered in the right language (an unsure guess is answered in Bash), and how many were unsure.
Prints a table and writes bench/results/language_guess.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import language_names
from cfgen.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
README_EXAMPLES = [("list files older than 3 days", "bash"), ("highlight cells greater than 100", "cf"),
                   ("reverse the list x", "python"), ("show which process listens on port 8080", "bash"),
                   ("sort the list by the key age", "python")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "language_guess.json")
    args = parser.parse_args()

    pipeline = Pipeline.from_directory(resolve_model_directory(args.model) if args.model else default_model_directory())
    sets = {f"{lang} dev": [(pair.nl, lang) for pair in load_benchmark(benchmark_path(args.data, lang), "dev", lang)]
            for lang in language_names()}
    sets["README examples"] = README_EXAMPLES
    rows = {}
    for name, items in sets.items():
        guesses = pipeline.guess_languages([query for query, _ in items])
        rows[name] = {"requests": len(items),
                      "guessed": sum(g.lang == lang for g, (_, lang) in zip(guesses, items)) / len(items),
                      "answered_in": sum(g.answered_in == lang for g, (_, lang) in zip(guesses, items)) / len(items),
                      "unsure": sum(not g.sure for g in guesses) / len(items)}
    print(f"{'requests':<18}{'n':>6}{'guessed':>10}{'answered in':>13}{'unsure':>8}")
    for name, row in rows.items():
        print(f"{name:<18}{row['requests']:>6}{row['guessed']:>10.3f}{row['answered_in']:>13.3f}{row['unsure']:>8.3f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
