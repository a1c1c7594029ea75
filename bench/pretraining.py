"""Does pre-training on code alone help the network write programs? The same fine-tuning with and without it.

    python bench/pretraining.py WORK [--lang bash] [--size small] [--pretrain-steps 600] [--finetune-steps 600]
                                     [--batch-size 32] [--max-snippets 5000] [--limit 100] [--steps 20]

Three runs of a masked network that reads the request only (no neighbours, so
what it writes is its own), kept in WORK (outside the repository; each run
resumes where it stopped, so the bench can be run again after an interruption):

- `finetuned`: from scratch, `--finetune-steps` on the LANG train pairs;
- `pretrained`: from scratch, `--pretrain-steps` of CodeFusion's pre-training
  on LANG code alone (its snippet file, at most --max-snippets of it: each
  snippet once unconditioned and once under its identifier-masked text, CPD);
- `pretrained+finetuned`: `pretrained` continued by the same fine-tuning.

With `--equal-compute`, a fourth run fine-tunes from scratch for the steps of
pre-training and fine-tuning together. Each fine-tuned network answers the
first --limit dev items from pure noise (strength 1); the table gives its lowest
dev loss and top-1 / top-5. Writes bench/results/pretraining.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cfgen.training.checkpoint import list_checkpoints
from cfgen.config import TrainConfig
from cfgen.training.corpus import DataSources
from cfgen.training.data import benchmark_path, load_benchmark
from cfgen.evaluation.evaluate import evaluate_pipeline
from cfgen.pipeline import Pipeline, shared_encoder
from cfgen.training.train import TrainRequest, run_training

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "codefusion"


def train(output: Path, stage: str, steps: int, args, init: Path | None = None) -> dict:
    """One run (resumed if a checkpoint exists; nothing to do if it is complete): its lowest dev loss and the
    wall-clock seconds this call spent."""
    settings = TrainConfig(stage=stage, steps=steps, batch_size=args.batch_size, learning_rate=args.lr,
                           warmup_steps=min(100, steps // 10), checkpoint_every=max(1, min(250, steps)),
                           eval_every=max(1, min(250, steps)), seed=args.seed)
    request = TrainRequest(output_dir=output, train=settings, device="cpu", init=init,
                           sources=DataSources(data_dir=args.data, languages=(args.lang,), max_snippets=args.max_snippets),
                           size=None if init else args.size, process=None if init else "masked",
                           neighbours=None if init else 0, resume=bool(list_checkpoints(output)))
    started = time.perf_counter()
    run_training(request, on_step=lambda report: print(
        f"  {output.name} step {report.step}/{report.total} loss {report.loss:.3f}"
        + (f" dev {report.dev_loss:.3f}" if report.dev_loss is not None else ""), flush=True)
        if report.dev_loss is not None or report.step % 50 == 0 else None)
    state = json.loads((list_checkpoints(output)[-1] / "state.json").read_text())
    return {"steps": steps, "dev_loss": state.get("best_dev_loss"), "seconds": round(time.perf_counter() - started, 1)}


def scores(model: Path, items: list, lang: str, steps: int) -> dict:
    pipeline = Pipeline(Pipeline.from_directory(model).bundle, encoder=shared_encoder("cpu"))
    figures = evaluate_pipeline(pipeline, items, lang, 5, steps, 0, 1.0)["figures"]
    return {"top1": figures["top1"], "top5": figures["top5"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="folder for the runs (outside the repository)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--lang", default="bash")
    parser.add_argument("--size", default="small", help="model preset: tiny, small or base")
    parser.add_argument("--pretrain-steps", type=int, default=600)
    parser.add_argument("--finetune-steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-snippets", type=int, default=5000, help="pre-training snippets (0: all)")
    parser.add_argument("--equal-compute", action="store_true", help="also fine-tune alone for both budgets together")
    parser.add_argument("--limit", type=int, default=100, help="first N dev items")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "pretraining.json")
    args = parser.parse_args()
    work = args.work
    runs = {"pretrained": train(work / "pretrained", "pretrain", args.pretrain_steps, args)}
    runs["pretrained+finetuned"] = train(work / "pretrained+finetuned", "finetune", args.finetune_steps, args,
                                         init=work / "pretrained")
    runs["finetuned"] = train(work / "finetuned", "finetune", args.finetune_steps, args)
    if args.equal_compute:
        runs["finetuned, both budgets"] = train(work / "finetuned-long", "finetune",
                                                args.pretrain_steps + args.finetune_steps, args)
    items = load_benchmark(benchmark_path(args.data, args.lang), "dev", args.lang)[: args.limit]
    folders = {"pretrained+finetuned": "pretrained+finetuned", "finetuned": "finetuned",
               "finetuned, both budgets": "finetuned-long"}
    print(f"| run | steps | dev loss | {args.lang} top-1 | top-5 | seconds |\n|---|---|---|---|---|---|")
    for name, run in runs.items():
        if name in folders:
            run.update(scores(work / folders[name], items, args.lang, args.steps))
        print(f"| {name} | {run['steps']} | {run['dev_loss'] if run['dev_loss'] is None else round(run['dev_loss'], 3)}"
              f" | {run.get('top1', '–')} | {run.get('top5', '–')} | {run['seconds']} |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    args.output.write_text(json.dumps({"settings": settings, "items": len(items), "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
