"""`cfgen train`: pre-train or fine-tune a model. Its parameters are named as the fields of TrainRequest and
TrainConfig they set, and the request is built from them by name: an option is declared once, here."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cfgen.commands.options import Device, Overwrite, PagesDev, Seed, choices, learning_rate_option, one_of, within
from cfgen.config import MODEL_PRESETS, STAGES
from cfgen.errors import UsageError
from cfgen.languages import language_names
from cfgen.processes import PROCESSES
from cfgen.answering.render import info

Output = Annotated[str, typer.Argument(help="Run name (kept in cfgen's data folder) or a directory path.")]
Stage = Annotated[str, typer.Option(
    help="pretrain (code only: unsupervised + CPD) or finetune (NL-code pairs).", callback=one_of(STAGES, "stage"),
    autocompletion=choices(STAGES))]
Data = Annotated[List[Path], typer.Option(
    metavar="DIR", help="The CodeFusion data folder (benchmarks and snippet files), or a folder of tldr-style pages "
                        "(Bash pairs); repeatable.")]
Pairs = Annotated[
    List[Path], typer.Option(metavar="FILE", help="JSON Lines file of {nl, code, lang} pairs (repeatable).")
]
UnindexedPairs = Annotated[List[Path], typer.Option(
    metavar="FILE", help="JSON Lines pairs to learn from that are never retrieved: no example reads them as a "
                         "neighbour and the model's index leaves them out (repeatable).")]
Languages = Annotated[
    Optional[str],
    typer.Option("--lang", help="Comma-separated languages to train on (default: all).", autocompletion=language_names),
]
Size = Annotated[
    Optional[str],
    typer.Option(
        help=f"Model size when starting from scratch: {', '.join(MODEL_PRESETS)} (default small).",
        callback=one_of(tuple(MODEL_PRESETS), "size"),
        autocompletion=choices(tuple(MODEL_PRESETS)),
    ),
]
VocabSize = Annotated[
    Optional[int], typer.Option(help="Code BPE vocabulary size when starting from scratch (default 4096).")
]
Init = Annotated[
    Optional[str],
    typer.Option(help="Continue from this model (keeps its tokenizer), e.g. to fine-tune a pre-trained one."),
]
Process = Annotated[
    Optional[str],
    typer.Option(
        help=f"Forward process of the new model: {' or '.join(PROCESSES)}. Default: --init's, else gaussian.",
        callback=one_of(tuple(PROCESSES), "process"),
        autocompletion=choices(tuple(PROCESSES)),
    ),
]
Neighbours = Annotated[
    Optional[int],
    typer.Option(
        help="How many nearest training programs the new model reads beside the request (0 to 16). Default: --init's, "
        "else 0.",
        callback=within(0, 16, "--neighbours"),
    ),
]
Copy = Annotated[
    Optional[bool],
    typer.Option(
        "--copy/--no-copy",
        help="Whether the new model may copy tokens of the programs it reads (a pointer head). "
        "Default: --init's, else no.",
    ),
]
Aligned = Annotated[
    Optional[bool],
    typer.Option(
        "--aligned/--no-aligned",
        help="Whether the new model also reads the nearest program position by position "
        "(needs neighbours). Default: --init's, else no.",
    ),
]
Slots = Annotated[
    Optional[bool],
    typer.Option(
        "--slots/--no-slots",
        help="Whether the new model writes the values a request names as placeholders "
        "({{path}}, {{number}}), filled from the request. Default: --init's, else no.",
    ),
]
Templates = Annotated[
    Optional[bool],
    typer.Option(
        "--templates/--no-templates",
        help="Whether the new model writes Bash as templates (utilities, flags and typed "
        "slots), filled from the request. A new model only.",
    ),
]
RequestDropout = Annotated[
    Optional[float],
    typer.Option(
        min=0.0,
        max=0.9,
        help="Share of examples trained without their request, so that sampling can use --guidance "
        "(e.g. 0.1). Default: --init's, else 0.",
    ),
]
Resume = Annotated[bool, typer.Option(help="Continue this run from its last checkpoint.")]
StepCount = Annotated[int, typer.Option(min=1, help="Optimiser steps in all.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Global batch size (split across torchrun ranks).")]
LearningRate = Annotated[
    float, typer.Option("--lr", help="Peak learning rate (AdamW), above 0, at most 1.", callback=learning_rate_option)
]
Warmup = Annotated[int, typer.Option("--warmup", min=0, help="Warm-up steps.")]
LanguageTemperature = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Each language's share of the batches, as (its examples)^T: 1 as in the data, 0 even, "
        "0.5 lifts a small language such as CF.",
    ),
]
CheckpointEvery = Annotated[int, typer.Option(min=1, help="Steps between checkpoints.")]
EvalEvery = Annotated[int, typer.Option(min=0, help="Steps between dev-loss reports (0: never).")]
KeepBest = Annotated[
    bool, typer.Option(help="Also keep the model of the lowest dev loss so far in OUTPUT/best (needs --eval-every).")
]
MaxSnippets = Annotated[
    int, typer.Option(min=0, help="Pre-training: at most this many snippets per language (0: all).")
]
ShardSize = Annotated[str, typer.Option(help="Largest weights file written.")]


def train(
    output: Output,
    stage: Stage = "finetune",
    data: Data = [],  # noqa: B006 - typer's way to declare a repeatable option
    pairs: Pairs = [],  # noqa: B006
    unindexed_pairs: UnindexedPairs = [],  # noqa: B006
    lang: Languages = None,
    size: Size = None,
    vocab_size: VocabSize = None,
    init: Init = None,
    process: Process = None,
    neighbours: Neighbours = None,
    copy: Copy = None,
    aligned: Aligned = None,
    slots: Slots = None,
    templates: Templates = None,
    request_dropout: RequestDropout = None,
    resume: Resume = False,
    steps: StepCount = 1000,
    batch_size: BatchSize = 64,
    learning_rate: LearningRate = 5e-4,
    warmup_steps: Warmup = 100,
    language_temperature: LanguageTemperature = 1.0,
    seed: Seed = 0,
    checkpoint_every: CheckpointEvery = 200,
    eval_every: EvalEvery = 200,
    keep_best: KeepBest = False,
    pages_dev: PagesDev = False,
    max_snippets: MaxSnippets = 0,
    device: Device = "auto",
    max_shard_size: ShardSize = "16MB",
    overwrite: Overwrite = False,
) -> None:
    """Pre-train or fine-tune a model; the output directory is a model directory at every checkpoint."""
    from cfgen.answering import progress
    from cfgen.config import TrainConfig
    from cfgen.training.corpus import DataSources
    from cfgen.model_files.hub import resolve_model_directory
    from cfgen.model_files.paths import run_path
    from cfgen.training.train import run_training
    from cfgen.training.train_request import TrainRequest

    given = dict(locals())
    if len(output) > 255:
        raise UsageError("the run name or folder is longer than 255 characters")
    if keep_best and not eval_every:
        raise UsageError("--keep-best needs dev-loss reports: give --eval-every a positive number of steps")
    sources = DataSources.from_folders(
        data, pair_files=pairs, unindexed_pair_files=unindexed_pairs, languages=_languages(lang), page_dev=pages_dev,
        max_snippets=max_snippets,
    )
    request = TrainRequest(
        **_named(given, TrainRequest),
        output_dir=run_path(output),
        sources=sources,
        train=TrainConfig(**_named(given, TrainConfig)),
        init=resolve_model_directory(init) if init else None,
    )
    with progress.training_progress(steps) as on_step:
        result = run_training(request, on_step)
    if result.already_done:
        info(
            f"nothing to do: {result.output_dir} has trained all {result.steps} steps; "
            "give --steps more than that to train longer"
        )
    elif os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        dev = f", dev loss {result.dev_loss:.3f}" if result.dev_loss is not None else ""
        info(
            f"trained {result.steps} steps on {result.examples} examples ({result.skipped} skipped as too long); "
            f"loss {result.final_loss:.3f}{dev}; model in {result.output_dir}"
        )


# Fields the command computes from its parameters rather than taking one of the same name.
_COMPUTED = {"output_dir", "sources", "train", "init"}


def _named(given: dict, declaration: type) -> dict:
    """The parameters named as fields of the dataclass `declaration`."""
    return {f.name: given[f.name] for f in fields(declaration) if f.name in given and f.name not in _COMPUTED}


def _languages(lang: str | None) -> tuple[str, ...]:
    if lang is None:
        return language_names()
    return tuple(one_of(language_names(), "language")(name.strip()) for name in lang.split(",") if name.strip())
