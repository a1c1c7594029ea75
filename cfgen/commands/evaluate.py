"""`cfgen eval`: score a model on a benchmark file with the paper's metrics."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from cfgen.commands.options import (
    MAX_CANDIDATES,
    AllowUnverified,
    Device,
    Guidance,
    Lang,
    Model,
    Seed,
    Steps,
    Strength,
    within,
)
from cfgen.errors import UsageError
from cfgen.answering.render import info

BenchmarkFile = Annotated[Path, typer.Argument(
    help="Benchmark JSON ({'train': [...], 'dev': [...]}) as in the CodeFusion data.")]
Split = Annotated[str, typer.Option(help="Which split to score.")]
PerItem = Annotated[int, typer.Option(
    "-n", help=f"Candidates per item (1-{MAX_CANDIDATES}).", callback=within(1, MAX_CANDIDATES, "-n"))]
Limit = Annotated[int, typer.Option(min=0, help="Score only the first N items (0: all).")]
Report = Annotated[Optional[Path], typer.Option(help="Write every figure and per-item candidates to this JSON file.")]


def evaluate(
    file: BenchmarkFile,
    lang: Lang,
    split: Split = "dev",
    model: Model = None,
    n: PerItem = 5,
    steps: Steps = None,
    seed: Seed = 0,
    limit: Limit = 0,
    device: Device = "auto",
    report: Report = None,
    strength: Strength = None,
    guidance: Guidance = 1.0,
    allow_unverified: AllowUnverified = False,
) -> None:
    """Score a model on a benchmark file with the paper's metrics."""
    import json

    from cfgen.answering import progress, render
    from cfgen.answering.answer import PipelineLoader
    from cfgen.answering.model_choice import ModelChoice
    from cfgen.training.data import load_benchmark
    from cfgen.evaluation.evaluate import evaluate_pipeline

    if report is not None and not (report.parent.is_dir() and os.access(report.parent, os.W_OK)):
        raise UsageError(f"cannot write the report: {report.parent} is not a writable folder")  # before the scoring
    items = load_benchmark(file, split, lang)[: limit or None]
    pipeline = PipelineLoader(ModelChoice(model, device, not allow_unverified))()
    with progress.counting(f"scoring {lang}", len(items)) as advance:
        result = evaluate_pipeline(pipeline, items, lang, n, steps, seed, strength, on_progress=advance,
                                   guidance=guidance)
    figures = result["figures"]
    result["split"] = split
    render.figures(f"{lang} {split} ({figures['items']} items, {figures['metric']}, {result['steps']} steps)", figures)
    if "note" in figures:
        info(figures["note"])
    if report is not None:
        report.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
