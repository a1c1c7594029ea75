"""Whether a model reads the request: token accuracy of its one-shot x̂₀ against the timestep.

    python bench/conditioning.py [MODEL] [--items 128] [--langs bash,cf,python] [--guidance W]

For a dev sample of each language, every program is noised to timestep t by
the model's process (Gaussian noise, or masked positions; one seeded draw),
the network's first estimate x̂₀ (no self-conditioning, as at the first
sampling step) is decoded, and its tokens are compared with the program's on
the content positions (the language tag and the padding after the end token
excluded; for a masked process, only the masked ones, which are all the
network predicts). Once with each item's own request, once with another item's (the
next one's; for a model that reads retrieved programs, that request's
programs too). At the last timestep x_t is pure noise (every position masked):
all that is right there comes from the request and the prior. With
--guidance W (a model trained with request dropout), the estimate is
classifier-free guided as the sampler guides it: x̂₀ for a Gaussian
process, the log-probabilities for a masked one. Writes
bench/results/conditioning.json and conditioning.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from plots import pyplot

from cfgen.batch_conditioning import Batch
from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.model_files.hub import default_model_directory, resolve_model_directory
from cfgen.pipeline import Pipeline
from cfgen.processes import guided

ROOT = Path(__file__).resolve().parents[1]


def timesteps(total: int, count: int) -> list[int]:
    """`count` timesteps over the schedule, denser near the end where sampling starts, always with T-1."""
    spread = torch.linspace(0, 1, count) ** 0.5 * (total - 1)
    return sorted(set(spread.round().long().tolist()) | {total - 1})


@torch.inference_mode()
def accuracy_by_timestep(pipeline: Pipeline, requests: list[str], codes: list[str], lang: str, steps: list[int],
                         seed: int = 0, guidance: float = 1.0) -> dict[int, float]:
    network, tokenizer, process = pipeline.network, pipeline.tokenizer, pipeline.process
    length = pipeline.sample_length(lang)
    rows = [tokenizer.encode(code, lang, length).ids for code in codes]
    tokens = torch.full((len(rows), length), tokenizer.pad_id, dtype=torch.long)
    content = torch.zeros((len(rows), length), dtype=torch.bool)
    for i, ids in enumerate(rows):
        tokens[i, : len(ids)] = torch.tensor(ids)
        content[i, 1 : len(ids)] = True  # code tokens and the end token; not the tag, not the padding
    # with guidance, `dropped` is the requests left out (the same programs read), as in training with request dropout
    batch = Batch(requests, lang, pipeline.encoder.encode(requests), 1, 1, seed, guidance)
    condition, dropped = pipeline.conditioner.of(batch)
    masked_process = hasattr(process, "masked_positions")
    result = {}
    for t in steps:
        at = torch.full((len(rows),), t, dtype=torch.long)
        x_t = process.noised(network, tokens, at, torch.Generator().manual_seed(seed))  # the same draw at every t
        x_start_hat = network.denoise(x_t, at, None, condition)
        if dropped is not None and not masked_process:
            x_start_hat = guided(x_start_hat, network.denoise(x_t, at, None, dropped), guidance)
        scores = _log_probs(network, x_start_hat, condition)
        if dropped is not None and masked_process:
            scores = guided(scores, _log_probs(network, network.denoise(x_t, at, None, dropped), dropped), guidance)
        predicted = scores.argmax(-1)
        scored = content & _hidden(process, tokens, at, seed)
        result[t] = ((predicted == tokens) & scored).sum().item() / max(1, scored.sum().item())
    return result


def _log_probs(network, x_start_hat: torch.Tensor, condition) -> torch.Tensor:
    return network.logits(network.decode(x_start_hat, condition), condition).float().log_softmax(-1)


def _hidden(process, tokens: torch.Tensor, t: torch.Tensor, seed: int) -> torch.Tensor:
    """The positions x_t hides from the network: the masked ones (the same draw as `noised`) for a masked
    process, whose output at a visible position is never trained nor used; every position under Gaussian noise."""
    if hasattr(process, "masked_positions"):
        return process.masked_positions(tokens, t, torch.Generator().manual_seed(seed))
    return torch.ones_like(tokens, dtype=torch.bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="model spec (default: the bundled model)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--items", type=int, default=128, help="dev items per language")
    parser.add_argument("--timesteps", type=int, default=20)
    parser.add_argument("--langs", default="bash,cf,python")
    parser.add_argument("--guidance", type=float, default=1.0, help="classifier-free guidance scale (1: none)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "conditioning.json")
    args = parser.parse_args()

    directory = resolve_model_directory(args.model) if args.model else default_model_directory()
    pipeline = Pipeline.from_directory(directory)
    steps = timesteps(pipeline.process.num_steps, args.timesteps)
    rows = []
    for lang in args.langs.split(","):
        items = load_benchmark(benchmark_path(args.data, lang), "dev", lang)
        items = [p for p in items if not pipeline.tokenizer.encode(p.code, lang, pipeline.sample_length(lang)).truncated]
        items = items[: args.items]
        requests, codes = [p.nl for p in items], [p.code for p in items]
        own = accuracy_by_timestep(pipeline, requests, codes, lang, steps, guidance=args.guidance)
        other = accuracy_by_timestep(pipeline, requests[1:] + requests[:1], codes, lang, steps, guidance=args.guidance)
        rows.append({"lang": lang, "items": len(items), "own": own, "other": other})

    print(f"token accuracy of the one-shot x̂₀ on content positions, model {directory}")
    print(f"{'lang':<7}{'request':<9}" + "".join(f"{t:>7}" for t in steps))
    for row in rows:
        for name in ("own", "other"):
            print(f"{row['lang']:<7}{name:<9}" + "".join(f"{row[name][t]:>7.3f}" for t in steps))
        last = steps[-1]
        ratio = row["own"][last] / max(row["other"][last], 1e-9)
        print(f"{row['lang']:<7}at t={last}: own {row['own'][last]:.3f}, other {row['other'][last]:.3f} ({ratio:.1f}x)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"model": str(directory), "guidance": args.guidance, "timesteps": steps,
                                       "rows": rows}, indent=1))
    plot(rows, steps, args.output.with_suffix(".png"))


def plot(rows: list[dict], steps: list[int], path: Path) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axis = plt.subplots(figsize=(7, 4))
    for row in rows:
        line = axis.plot(steps, [row["own"][t] for t in steps], marker="o", label=f"{row['lang']}, own request")[0]
        axis.plot(steps, [row["other"][t] for t in steps], linestyle="--", color=line.get_color(),
                  label=f"{row['lang']}, another item's request")
    axis.set_xlabel("timestep t (noise grows to the right)")
    axis.set_ylabel("content-token accuracy of x̂₀")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
