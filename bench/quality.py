"""Quality on dev: a model beside the retrieval baseline, one table.

    python bench/quality.py [--model SPEC] [--steps S] [--limit N]

Also prints the autoregressive peer's rows when bench/ar_peer.py has measured
them (bench/results/ar_peer.json). For each language: the paper's metric at top-1/3/5 (bash template match, cf
execution match, python normalised exact match), python chrF, share of
valid top-1, share of top-1 answers the network generated (not a training
program), top-5 diversity. Writes bench/results/quality.json (figures) and
quality.items.json (every item's candidates; too big to track).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from baselines import RetrievalPredictor

from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.evaluation.evaluate import evaluate
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.languages import language_names
from cfgen.pipeline import DEFAULT_STEPS, Pipeline, shared_encoder

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["top1", "top3", "top5", "chrf", "valid_top1", "generated_top1", "distinct_2", "edit_diversity"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--model", default=None, help="model spec (default: the bundled model)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--strength", type=float, default=None, help="retrieval guidance (default: the model's)")
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="first N dev items per language (0: all)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "quality.json")
    args = parser.parse_args()

    directory = resolve_model_directory(args.model) if args.model else default_model_directory()
    encoder = shared_encoder("cpu")
    generator = Pipeline.from_directory(directory, encoder=encoder)
    rows, reports = [], {}
    for lang in language_names():
        path = benchmark_path(args.data, lang)
        train, dev = load_benchmark(path, "train", lang), load_benchmark(path, "dev", lang)
        dev = dev[: args.limit] if args.limit else dev

        def model_predict(queries, lang=lang):
            return generator(queries, lang, args.n, args.steps, seed=0, strength=args.strength)

        for name, predict in (("retrieval", RetrievalPredictor(train, encoder, lang)), ("cfgen", model_predict)):
            report = evaluate(dev, lang, predict)
            strength = generator.effective_strength(args.strength, lang) if name == "cfgen" else None
            rows.append({"lang": lang, "system": name, "strength": strength, **report["figures"]})
            reports[f"{lang}/{name}"] = report

    peer = ROOT / "bench" / "results" / "ar_peer.json"  # written by bench/ar_peer.py eval, from its own checkpoint
    if peer.is_file() and not args.limit:
        measured = json.loads(peer.read_text())
        rows += [{**row, "system": f"AR peer ({measured['steps']} steps)"} for row in measured["rows"]]
        rows.sort(key=lambda row: language_names().index(row["lang"]))
    print(f"dev quality: model {directory}, {args.steps} steps, {args.n} candidates")
    print(f"{'lang':<8}{'system':<22}{'strength':>9}  {'metric':<24}{'n':>5}" + "".join(f"{c:>14}" for c in COLUMNS))
    for row in rows:
        cells = "".join(f"{row[c]:>14.3f}" if c in row else f"{'-':>14}" for c in COLUMNS)
        strength = "-" if row["strength"] is None else f"{row['strength']:.2f}"
        print(f"{row['lang']:<8}{row['system']:<22}{strength:>9}  {row['metric']:<24}{row['items']:>5}{cells}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": str(directory), "steps": args.steps, "rows": rows}, indent=1))
    args.output.with_suffix(".items.json").write_text(json.dumps(reports))  # per-item candidates: not tracked


if __name__ == "__main__":
    main()
