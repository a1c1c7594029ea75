"""The network's dev accuracy against training: does more compute close the gap to retrieval, and how fast?

    python bench/learning_curve.py --run RUN --checkpoints DIR [--limit 200] [--steps 20] [--guidance W]

RUN is a training run folder (its config, tokenizer and retrieval index);
DIR holds copies of that run's checkpoints (`step-NNNNNNNN/` with
model.safetensors and state.json; a run keeps only its last two, so copy them
aside while it trains). Each checkpoint's network answers the first --limit
dev items of each language from pure noise (strength 1); the retrieval
index's answers (strength 0) are the flat line it must cross, and the
autoregressive peer's (bench/ar_peer.py, where measured) a second one. With
--guidance W (a run trained with request dropout), each checkpoint also answers
with classifier-free guidance at scale W (its step-0 weights must have been
trained with the dropout too, or that checkpoint's guided row is left out). Prints
a table and writes bench/results/learning_curve.json and learning_curve.png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from plots import pyplot
from safetensors.torch import load_file

from cfgen.model_files.bundle import index_files, load_model, save_model
from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.evaluation.evaluate import evaluate_pipeline
from cfgen.languages import language_names
from cfgen.pipeline import Pipeline, shared_encoder
from cfgen.retrieval.index import RetrievalIndex

ROOT = Path(__file__).resolve().parents[1]


def checkpoint_model(run: Path, checkpoint: Path, into: Path) -> dict:
    """A model folder holding the checkpoint's weights with the run's tokenizer and index; returns its state info."""
    network, tokenizer = load_model(run)
    network.load_state_dict(load_file(str(checkpoint / "model.safetensors")))
    info = json.loads((checkpoint / "state.json").read_text())
    save_model(network, tokenizer, into, index=RetrievalIndex.load(index_files(run)))
    return info


def scores(model: Path, dev: dict, steps: int, strength: float, guidance: float = 1.0) -> dict:
    pipeline = Pipeline(Pipeline.from_directory(model).bundle, encoder=shared_encoder("cpu"))
    found = {}
    for lang, items in dev.items():
        figures = evaluate_pipeline(pipeline, items, lang, 5, steps, 0, strength, guidance=guidance)["figures"]
        found[lang] = {"top1": figures["top1"], "top5": figures["top5"]}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "codefusion")
    parser.add_argument("--limit", type=int, default=200, help="first N dev items per language")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps")
    parser.add_argument("--guidance", type=float, default=1.0, help="also answer with this guidance scale")
    parser.add_argument("--lang", default=",".join(language_names()), help="comma-separated languages the run trained on")
    parser.add_argument("--train-examples", type=int, default=0,
                        help="the run's training examples (its log says), to put epochs beside examples seen")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "learning_curve.json")
    args = parser.parse_args()
    languages = [lang.strip() for lang in args.lang.split(",") if lang.strip()]
    dev = {lang: load_benchmark(benchmark_path(args.data, lang), "dev", lang)[: args.limit] for lang in languages}
    checkpoints = sorted(path for path in args.checkpoints.glob("step-*") if (path / "model.safetensors").is_file())
    if not checkpoints:
        parser.error(f"no step-*/model.safetensors in {args.checkpoints}")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for checkpoint in checkpoints:
            model = Path(scratch) / checkpoint.name
            info = checkpoint_model(args.run, checkpoint, model)
            examples = info["step"] * info["train_config"]["batch_size"]
            epochs = examples / args.train_examples if args.train_examples else None
            rows.append({"step": info["step"], "examples": examples, "epochs": epochs,
                         "network": scores(model, dev, args.steps, 1.0)})
            shown_epochs = f", {epochs:.2f} epochs" if epochs is not None else ""
            report(f"step {info['step']:>6} ({examples:,} examples{shown_epochs})", rows[-1]["network"])
            if args.guidance != 1.0 and info.get("model_config", {}).get("request_dropout"):
                rows[-1]["guided"] = scores(model, dev, args.steps, 1.0, args.guidance)
                report(f"{'guided, W = ' + format(args.guidance, 'g'):>33}", rows[-1]["guided"])
        retrieval = scores(model, dev, args.steps, 0.0)
    peer_file = ROOT / "bench" / "results" / "ar_peer.json"
    peer = json.loads(peer_file.read_text()) if peer_file.is_file() else None
    report(f"{'retrieval':>33}", retrieval)
    if peer is not None:  # measured on all of dev, not on the first --limit items
        print(f"{'AR peer (all dev)':>33}: " + "  ".join(f"{r['lang']} {r['top1']:.3f}/{r['top5']:.3f}" for r in peer["rows"]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"run": str(args.run), "limit": args.limit, "steps": args.steps,
                                       "guidance": args.guidance,
                                       "checkpoints": rows, "retrieval": retrieval, "ar_peer": peer}, indent=1) + "\n")
    plot(rows, retrieval, peer, args.output.with_suffix(".png"), languages)


def report(label: str, found: dict) -> None:
    print(f"{label}: " + "  ".join(f"{lang} {f['top1']:.3f}/{f['top5']:.3f}" for lang, f in found.items()), flush=True)


def plot(rows: list[dict], retrieval: dict, peer: dict | None, path: Path, languages: list[str]) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axes = plt.subplots(1, len(languages), figsize=(4 * len(languages), 3.2), sharey=True, squeeze=False)
    axes = axes[0]
    by_epoch = all(row.get("epochs") is not None for row in rows)
    for axis, lang in zip(axes, languages):
        seen = [row["epochs"] if by_epoch else row["examples"] for row in rows]
        for k, style in (("top1", "o-"), ("top5", "s--")):
            axis.plot(seen, [row["network"][lang][k] for row in rows], style, label=f"network {k}")
            guided = [(row["examples"], row["guided"][lang][k]) for row in rows if "guided" in row]
            if guided:
                axis.plot(*zip(*guided), style[0] + ":", label=f"guided {k}")
            axis.axhline(retrieval[lang][k], color="grey", linestyle=":" if k == "top5" else "-",
                         label=f"retrieval {k}")
        for found in (peer or {}).get("rows", []):
            if found["lang"] == lang:
                examples = peer["steps"] * peer.get("batch_size", 32)  # older files: bench/ar_peer.py's 32
                if not by_epoch:  # the peer trained on other examples: its epochs are not these
                    axis.plot([examples], [found["top1"]], "k^", label="AR peer top1 (all dev)")
        axis.set_title(lang)
        axis.set_xlabel("epochs" if by_epoch else "training examples seen")
    axes[0].set_ylabel("dev accuracy")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
