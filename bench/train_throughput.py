"""Training throughput: cfgen's pipeline (one-language batches padded to that
language's length) against fixed-128 padding, same model, same batches, one run.

    python bench/train_throughput.py [--data ../shared/data/codefusion] [--steps 8] [--size small]

Prints a table and writes bench/results/train_throughput.json. "Tokens" are
real code tokens (tag + code + end), so padding is overhead, not throughput.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from cfgen.config import preset
from cfgen.training.corpus import BatchPlan, DataSources, build_examples, collate, encode_texts, gather_corpus
from cfgen.model import CodeFusionModel
from cfgen.processes.gaussian import Process
from cfgen.runtime import Distributed
from cfgen.tokenizer import CodeTokenizer
from cfgen.training.prepare import TrainingObjective

ROOT = Path(__file__).resolve().parents[1]


def time_steps(objective, optimizer, examples, encodings, pad_id, length_of, steps, batch_size):
    per_step = []
    tokens_total = 0
    plan = BatchPlan([e.lang for e in examples], batch_size, seed=0)
    for step in range(steps + 1):  # step 0 warms up and is not counted
        generator = torch.Generator().manual_seed(step)
        batch = [examples[i] for i in plan.batch(step)]
        tokens, encoded, mask, neighbours, neighbour_mask = collate(batch, encodings, pad_id, length_of(batch[0].lang),
                                                                    generator)
        started = time.perf_counter()
        terms = objective(tokens, encoded, mask, neighbours, neighbour_mask, generator)
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        if step:
            per_step.append(time.perf_counter() - started)
            tokens_total += sum(len(e.tokens) for e in batch)
    return tokens_total / sum(per_step), statistics.median(per_step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--size", default="small")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "train_throughput.json")
    args = parser.parse_args()

    corpus = gather_corpus("finetune", DataSources(data_dir=args.data))
    tokenizer = CodeTokenizer.train((pair.code for pair in corpus.pairs), 4096)
    config = preset(args.size, vocab_size=tokenizer.vocab_size, max_length=128)
    examples, texts, lengths, _ = build_examples(corpus.pairs, tokenizer, config.max_length)
    encodings = encode_texts(texts, Distributed(), "cpu")

    rows = []
    pipelines = (("fixed 128 padding", lambda lang: 128), ("cfgen: per-language length", lambda lang: lengths[lang]))
    for name, length_of in pipelines:
        torch.manual_seed(0)
        objective = TrainingObjective(CodeFusionModel(config), Process())
        optimizer = torch.optim.AdamW(objective.parameters(), lr=1e-4)
        rate, median = time_steps(objective, optimizer, examples, encodings, tokenizer.pad_id, length_of, args.steps, args.batch_size)
        rows.append({"pipeline": name, "tokens_per_second": rate, "median_step_seconds": median})
    speedup = rows[1]["tokens_per_second"] / rows[0]["tokens_per_second"]

    print(f"per-language lengths (99th percentile of the data): {lengths}")
    print(f"model {args.size} ({CodeFusionModel(config).parameter_count() / 1e6:.1f}M parameters), "
          f"batch {args.batch_size}, {args.steps} timed steps each, {torch.get_num_threads()} threads")
    print(f"{'pipeline':<22}{'tokens/s':>12}{'median step s':>16}")
    for row in rows:
        print(f"{row['pipeline']:<22}{row['tokens_per_second']:>12.0f}{row['median_step_seconds']:>16.3f}")
    print(f"speed-up: {speedup:.2f}x")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": rows, "speedup": speedup, "lengths": lengths, "size": args.size,
                                       "batch_size": args.batch_size, "steps": args.steps}, indent=2))


if __name__ == "__main__":
    main()
