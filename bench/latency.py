"""Speed and memory of generation, and quality against denoising steps.

    python bench/latency.py [--model SPEC] [--subset 68] [--steps-list 1,2,5,10,20,50,100,300,1200] [--batch 32]

Warm sampling per language (one query, 5 candidates, default steps and
strength), batched throughput, a cold `cfgen "…" --lang bash` from process
start and its peak memory; then quality against denoising steps on a fixed
dev subset, for each language whose default runs the denoiser, at its default
strength and from pure noise. Prints tables and writes bench/results/latency.json
and bench/results/quality_vs_steps.png (needs matplotlib: pip install matplotlib).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from plots import pyplot

ROOT = Path(__file__).resolve().parents[1]
CFGEN = str(Path(sys.executable).parent / "cfgen")
QUERY = "list files older than 3 days"
QUERIES = {"bash": QUERY, "cf": "highlight cells greater than 100", "python": "reverse the list x"}
# Timed warm beside QUERIES: a CF request that joins two conditions is answered part by part (one more pass).
JOINED = {"cf and/or": ("cf", "highlight cells greater than 100 or blank")}


def warm(generator, steps: int, repeats: int, batch: int = 32) -> list[dict]:
    rows = []
    asked = [(lang, lang, query) for lang, query in QUERIES.items()]
    asked += [(name, lang, query) for name, (lang, query) in JOINED.items()]
    for name, lang, query in asked:
        generator([query], lang, 5, steps)  # warm-up
        times = []
        for seed in range(repeats):
            started = time.perf_counter()
            generator([query], lang, 5, steps, seed=seed)
            times.append(time.perf_counter() - started)
        queries = [f"{query} number {i}" for i in range(batch)]
        started = time.perf_counter()
        generator(queries, lang, 5, steps)
        batch_seconds = time.perf_counter() - started
        rows.append({"lang": lang, "request": name, "strength": generator.effective_strength(None, lang),
                     "warm_p50_s": statistics.median(times), "batch32_queries_per_s": batch / batch_seconds})
    return rows


def cold(model_args: list[str], repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([CFGEN, QUERY, "--lang", "bash", *model_args], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"cold_p50_s": statistics.median(times), "peak_rss_mb": peak_mb}


def quality_vs_steps(generator, data: Path, subset: int, steps_list: list[int]) -> list[dict]:
    from cfgen.training.data import benchmark_path, load_benchmark
    from cfgen.evaluation.evaluate import evaluate

    rows = []
    for lang in QUERIES:
        default = generator.effective_strength(None, lang)
        if default == 0.0:
            continue  # retrieval only: steps change nothing
        items = load_benchmark(benchmark_path(data, lang), "dev", lang)[:subset]
        for strength in dict.fromkeys([default, 1.0]):
            for steps in steps_list:
                def predict(queries, lang=lang, steps=steps, strength=strength):
                    return generator(queries, lang, 5, steps, strength=strength)

                started = time.perf_counter()
                figures = evaluate(items, lang, predict)["figures"]
                rows.append({"lang": lang, "strength": strength, "steps": steps, "top1": figures["top1"],
                             "top5": figures["top5"], "valid_top1": figures["valid_top1"],
                             "seconds": time.perf_counter() - started})
                print(f"{lang:<6}{strength:>9.2f}{steps:>6}{figures['top1']:>8.3f}{figures['top5']:>8.3f}"
                      f"{figures['valid_top1']:>8.3f}", flush=True)
    return rows


def plot(rows: list[dict], path: Path) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axis = plt.subplots(figsize=(6, 4))
    for lang, strength in dict.fromkeys((r["lang"], r["strength"]) for r in rows):
        mine = [r for r in rows if (r["lang"], r["strength"]) == (lang, strength)]
        label = f"{lang}, strength {strength:g}"
        axis.plot([r["steps"] for r in mine], [r["top5"] for r in mine], marker="o", label=f"{label}: top-5")
        axis.plot([r["steps"] for r in mine], [r["top1"] for r in mine], marker=".", linestyle="--", label=f"{label}: top-1")
    axis.set_xscale("log")
    axis.set_xlabel("denoising steps")
    axis.set_ylabel("match on dev subset")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--subset", type=int, default=68)
    parser.add_argument("--steps-list", default="1,2,5,10,20,50,100,300,1200")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32, help="queries in the throughput batch")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latency.json")
    args = parser.parse_args()

    from cfgen.model_files.hub import default_model_directory, resolve_model_directory
    from cfgen.pipeline import DEFAULT_STEPS, Pipeline

    directory = resolve_model_directory(args.model) if args.model else default_model_directory()
    generator = Pipeline.from_directory(directory)
    results = {"model": str(directory), "default_steps": DEFAULT_STEPS,
               "warm": warm(generator, DEFAULT_STEPS, args.repeats, args.batch)}
    results.update(cold(["--model", str(directory)] if args.model else [], max(3, args.repeats // 2)))
    print(f"{'lang':<8}{'strength':>9}{'warm p50 (1 query, 5 cand.)':>30}{f'batch of {args.batch}':>16}")
    for row in results["warm"]:
        print(f"{row['request']:<10}{row['strength']:>7.2f}{row['warm_p50_s']:>28.3f} s{row['batch32_queries_per_s']:>10.1f} q/s")
    print(f"{'cold cfgen run p50':<36}{results['cold_p50_s']:.3f} s")
    print(f"{'peak RSS of a cold run':<36}{results['peak_rss_mb']:.0f} MB")
    print(f"{'lang':<6}{'strength':>9}{'steps':>6}{'top1':>8}{'top5':>8}{'valid':>8}")
    steps_list = [int(s) for s in args.steps_list.split(",")]
    results["quality_vs_steps"] = quality_vs_steps(generator, args.data, args.subset, steps_list)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    plot(results["quality_vs_steps"], args.output.with_name("quality_vs_steps.png"))


if __name__ == "__main__":
    main()
