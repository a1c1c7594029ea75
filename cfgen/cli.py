"""The command line: argument declarations and calls (the `cfgen` entry point is `__main__.main`). With render.py,
output.py and command_group.py the only modules importing typer or rich; torch and the model code are imported
inside commands, so `--help` and completion stay fast. Every failure, an option's check included, leaves through
`CommandGroup.invoke`: one line, the exit code of errors.py."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cfgen import STARTED
from cfgen.cli_options import (
    MAX_CANDIDATES,
    AllowUnverified,
    Device,
    GuessedLang,
    Guidance,
    Lang,
    Model,
    Overwrite,
    PagesDev,
    Platform,
    Seed,
    Steps,
    Strength,
    choices,
    learning_rate_option,
    one_of,
    within,
)
from cfgen.command_group import CommandGroup
from cfgen.config import MODEL_PRESETS, STAGES
from cfgen.environment import check_environment
from cfgen.errors import UsageError, exit_codes_help
from cfgen.languages import language_names
from cfgen.processes import PROCESSES
from cfgen.render import configure_logging, info, note, stderr

app = typer.Typer(
    cls=CommandGroup,
    name="cfgen",
    help="Turn a plain-English request into ranked, syntax-checked Bash, Python or Excel CF-rule candidates.\n\n"
         'cfgen "QUERY" [OPTIONS] is short for cfgen generate "QUERY" [OPTIONS], e.g. '
         'cfgen "list files older than 3 days" --lang bash.',
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags without a type after them
)
EXIT_CODES_HELP = exit_codes_help()


def _print_version(asked: bool) -> None:
    if asked:
        from cfgen import __version__

        print(f"cfgen {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print cfgen's version and exit.", callback=_print_version, is_eager=True)] = False,
) -> None:
    configure_logging(debug, quiet)  # --debug also makes CommandGroup re-raise failures
    check_environment()  # before any library reads it (huggingface_hub prints on stdout about what it cannot read)


def _pipeline(model: Optional[str], device: str, allow_unverified: bool = False, platform: Optional[str] = None):
    from cfgen.hub import default_model_directory, resolve_model_directory
    from cfgen.pipeline import Pipeline
    from cfgen.runtime import select_device

    directory = resolve_model_directory(model) if model else default_model_directory()
    pipeline = Pipeline.from_directory(directory, select_device(device), verify=not allow_unverified)
    if platform is not None and pipeline.index is not None:
        pipeline.index.platform = platform  # commands for other platforms rank after this one's
    return pipeline


# -- generating ------------------------------------------------------------------------------

@app.command(epilog=EXIT_CODES_HELP)
def generate(
    query: Annotated[Optional[str], typer.Argument(metavar="QUERY", help="What the code should do. '-' or none (with piped stdin): one request per line.")] = None,
    lang: GuessedLang = None,
    n: Annotated[Optional[int], typer.Option("-n", help=f"Candidates to show, 1-{MAX_CANDIDATES} (default 5 on a terminal, 1 when piped).", callback=within(1, MAX_CANDIDATES, "-n"))] = None,
    steps: Steps = None,
    seed: Seed = 0,
    model: Model = None,
    device: Device = "auto",
    table: Annotated[Optional[Path], typer.Option(help="CSV table (cf): ground columns in its header and show selected rows.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per request, one per line.")] = False,
    strength: Strength = None,
    guidance: Guidance = 1.0,
    allow_invalid: Annotated[bool, typer.Option("--allow-invalid", help="Piped: print candidates that fail their syntax check too.")] = False,
    null: Annotated[bool, typer.Option("--null", "-z", help="Piped: end each candidate with NUL instead of a newline, multi-line code as written (for xargs -0).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Terminal: also show the training request each retrieved or edited program was written for.")] = False,
    allow_unverified: AllowUnverified = False,
    platform: Platform = None,
) -> None:
    """Generate ranked candidates for a request (the default command)."""
    import functools

    from cfgen.answer import Request, Settings, Summary, answers, checked_query, load_table
    from cfgen.batch import read_windows
    from cfgen.languages import get_language
    from cfgen.output import Output

    if table is not None and lang is None:
        lang = "cf"  # only CF rules name a table's columns
    if table is not None and not get_language(lang).tables:
        raise UsageError(f"--table grounds candidates in a table's columns, which {lang} code does not name: use it with --lang cf")
    rows = load_table(table) if table is not None else None
    batch = query is None or query == "-"
    if batch and sys.stdin is None:
        raise UsageError("no query, and stdin is closed: give one as an argument, or pipe one per line")
    if batch and sys.stdin.isatty():
        raise UsageError("no query: give one as an argument, or pipe one per line")
    windows = read_windows(sys.stdin.buffer, lang, rows) if batch else [[Request(checked_query(query), lang, rows)]]
    output = Output(as_json=as_json, shown=n, allow_invalid=allow_invalid, batch=batch, null=null, verbose=verbose)
    pipeline = functools.cache(lambda: _pipeline(model, device, allow_unverified, platform))  # for the first request
    summary = Summary()
    for item in answers(windows, pipeline, Settings(n, steps, seed, strength, guidance)):
        summary.add(item)
        output.write(item)
    if summary.requests == 0 and summary.rejected == 0:
        raise UsageError("no requests on stdin: every line was blank" if summary.lines else "no requests on stdin: it was empty")
    if output.terminal and summary.requests:  # the timing line: one short line
        how = "; ".join(pipeline().how(name, steps, strength, guidance) for name in summary.languages)
        count = f"{summary.requests} request{'s' if summary.requests != 1 else ''}"
        note(f"{count} in {time.perf_counter() - STARTED:.1f} s · {how} · read before you run")
    if summary.rejected:
        raise typer.Exit(5)


# -- evaluation ----------------------------------------------------------------------------------

@app.command(name="eval", epilog=EXIT_CODES_HELP)
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="Benchmark JSON ({'train': [...], 'dev': [...]}) as in the CodeFusion data.")],
    lang: Lang,
    split: Annotated[str, typer.Option(help="Which split to score.")] = "dev",
    model: Model = None,
    n: Annotated[int, typer.Option("-n", help=f"Candidates per item (1-{MAX_CANDIDATES}).", callback=within(1, MAX_CANDIDATES, "-n"))] = 5,
    steps: Steps = None,
    seed: Seed = 0,
    limit: Annotated[int, typer.Option(min=0, help="Score only the first N items (0: all).")] = 0,
    device: Device = "auto",
    report: Annotated[Optional[Path], typer.Option(help="Write every figure and per-item candidates to this JSON file.")] = None,
    strength: Strength = None,
    guidance: Guidance = 1.0,
    allow_unverified: AllowUnverified = False,
) -> None:
    """Score a model on a benchmark file with the paper's metrics."""
    import json

    from cfgen import progress, render
    from cfgen.data import load_benchmark
    from cfgen.evaluate import evaluate_pipeline

    if report is not None and not (report.parent.is_dir() and os.access(report.parent, os.W_OK)):
        raise UsageError(f"cannot write the report: {report.parent} is not a writable folder")  # before the scoring
    items = load_benchmark(file, split, lang)[: limit or None]
    pipeline = _pipeline(model, device, allow_unverified)
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


# -- training and models ----------------------------------------------------------------------

@app.command(epilog=EXIT_CODES_HELP)
def train(
    output: Annotated[str, typer.Argument(help="Run name (kept in cfgen's data folder) or a directory path.")],
    stage: Annotated[str, typer.Option(help="pretrain (code only: unsupervised + CPD) or finetune (NL-code pairs).", callback=one_of(STAGES, "stage"), autocompletion=choices(STAGES))] = "finetune",
    data: Annotated[List[Path], typer.Option(metavar="DIR", help="The CodeFusion data folder (benchmarks and snippet files), or a folder of tldr-style pages (Bash pairs); repeatable.")] = [],  # noqa: B006
    pairs: Annotated[List[Path], typer.Option(metavar="FILE", help="JSON Lines file of {nl, code, lang} pairs (repeatable).")] = [],  # noqa: B006
    lang: Annotated[str, typer.Option(help="Comma-separated languages to train on.")] = ",".join(language_names()),
    size: Annotated[Optional[str], typer.Option(help="Model size when starting from scratch: tiny, small (default) or base.", callback=one_of(tuple(MODEL_PRESETS), "size"), autocompletion=choices(tuple(MODEL_PRESETS)))] = None,
    vocab_size: Annotated[Optional[int], typer.Option(help="Code BPE vocabulary size when starting from scratch (default 4096).")] = None,
    init: Annotated[Optional[str], typer.Option(help="Continue from this model (keeps its tokenizer), e.g. to fine-tune a pre-trained one.")] = None,
    process: Annotated[Optional[str], typer.Option(help="Forward process of the new model: gaussian (CodeFusion's) or masked (absorbing-state). Default: --init's, else gaussian.", callback=one_of(tuple(PROCESSES), "process"), autocompletion=choices(tuple(PROCESSES)))] = None,
    neighbours: Annotated[Optional[int], typer.Option(help="How many nearest training programs the new model reads beside the request (0 to 16; 0: none). Default: --init's, else 0.", callback=within(0, 16, "--neighbours"))] = None,
    copy: Annotated[Optional[bool], typer.Option("--copy/--no-copy", help="Whether the new model may copy tokens of the programs it reads (a pointer head). Default: --init's, else no.")] = None,
    aligned: Annotated[Optional[bool], typer.Option("--aligned/--no-aligned", help="Whether the new model also reads the nearest program position by position (needs neighbours). Default: --init's, else no.")] = None,
    slots: Annotated[Optional[bool], typer.Option("--slots/--no-slots", help="Whether the new model writes the values a request names as placeholders ({{path}}, {{number}}), filled from the request (Bash, Python). Default: --init's, else no.")] = None,
    templates: Annotated[Optional[bool], typer.Option("--templates/--no-templates", help="Whether the new model writes Bash as templates (utilities, flags and typed slots), filled from the request. A new model only.")] = None,
    request_dropout: Annotated[Optional[float], typer.Option(min=0.0, max=0.9, help="Share of examples trained without their request, so that sampling can use --guidance (e.g. 0.1). Default: --init's, else 0.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue this run from its last checkpoint.")] = False,
    steps: Annotated[int, typer.Option(min=1, help="Optimiser steps in all.")] = 1000,
    batch_size: Annotated[int, typer.Option(min=1, help="Global batch size (split across torchrun ranks).")] = 64,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW), above 0, at most 1.", callback=learning_rate_option)] = 5e-4,
    warmup: Annotated[int, typer.Option(min=0, help="Warm-up steps.")] = 100,
    language_temperature: Annotated[float, typer.Option(min=0.0, max=1.0, help="Each language's share of the batches, as (its examples)^T: 1 as in the data, 0 even, 0.5 lifts a small language such as CF.")] = 1.0,
    seed: Seed = 0,
    checkpoint_every: Annotated[int, typer.Option(min=1, help="Steps between checkpoints.")] = 200,
    eval_every: Annotated[int, typer.Option(min=0, help="Steps between dev-loss reports (0: never).")] = 200,
    keep_best: Annotated[bool, typer.Option(help="Also keep the model of the lowest dev loss so far in OUTPUT/best (needs --eval-every).")] = False,
    pages_dev: PagesDev = False,
    max_snippets: Annotated[int, typer.Option(min=0, help="Pre-training: at most this many snippets per language (0: all).")] = 0,
    device: Device = "auto",
    max_shard_size: Annotated[str, typer.Option(help="Largest weights file written.")] = "16MB",
    overwrite: Overwrite = False,
) -> None:
    """Pre-train or fine-tune a model; the output directory is a model directory at every checkpoint."""
    from cfgen import progress
    from cfgen.config import TrainConfig
    from cfgen.corpus import DataSources
    from cfgen.hub import resolve_model_directory
    from cfgen.paths import run_path
    from cfgen.train import TrainRequest, run_training

    languages = tuple(one_of(language_names(), "language")(name.strip()) for name in lang.split(",") if name.strip())
    if len(output) > 255:
        raise UsageError("the run name or folder is longer than 255 characters")
    if keep_best and not eval_every:
        raise UsageError("--keep-best needs dev-loss reports: give --eval-every a positive number of steps")
    config = TrainConfig(stage=stage, steps=steps, batch_size=batch_size, learning_rate=lr, warmup_steps=warmup,
                         seed=seed, checkpoint_every=checkpoint_every, eval_every=eval_every,
                         language_temperature=language_temperature)
    request = TrainRequest(
        output_dir=run_path(output), train=config,
        sources=DataSources.from_folders(list(data), pair_files=list(pairs), languages=languages, page_dev=pages_dev,
                                         max_snippets=max_snippets),
        size=size, vocab_size=vocab_size, init=resolve_model_directory(init) if init else None, resume=resume,
        device=device, max_shard_size=max_shard_size, overwrite=overwrite, process=process, neighbours=neighbours,
        copy=copy, aligned=aligned, slots=slots, templates=templates, request_dropout=request_dropout, keep_best=keep_best,
    )
    with progress.training_progress(steps) as on_step:
        result = run_training(request, on_step)
    if result.already_done:
        info(f"nothing to do: {result.output_dir} has trained all {result.steps} steps; "
             "give --steps more than that to train longer")
    elif os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        dev = f", dev loss {result.dev_loss:.3f}" if result.dev_loss is not None else ""
        info(f"trained {result.steps} steps on {result.examples} examples ({result.skipped} skipped as too long); "
             f"loss {result.final_loss:.3f}{dev}; model in {result.output_dir}")


@app.command(epilog=EXIT_CODES_HELP)
def export(
    model: Annotated[str, typer.Argument(help="Model directory, trained run name, or Hub repo[@revision].")],
    output: Annotated[Path, typer.Argument(help="Directory to write (e.g. cfgen/weights/default to bundle it).")],
    half: Annotated[bool, typer.Option(help="Store the weights in float16 (half the size; loads as float32 on CPU).")] = True,
    max_shard_size: Annotated[str, typer.Option(help="Largest weights file written.")] = "16MB",
    index_from: Annotated[List[Path], typer.Option(metavar="DIR", help="Build the retrieval index from this CodeFusion data folder or folder of tldr-style pages (repeatable); without --tune-retrieval the model's retrieval head, if it has one, serves the new index.")] = [],  # noqa: B006
    strength: Annotated[List[str], typer.Option(help="LANG=S: default edit strength for a language, chosen on dev (repeatable; others keep the source's).")] = [],  # noqa: B006
    tune_retrieval: Annotated[List[str], typer.Option(help="LANG: train a retrieval head for this language on the --index-from train split (repeatable).")] = [],  # noqa: B006
    tune_steps: Annotated[int, typer.Option(min=1, help="Training steps of the retrieval head.")] = 300,
    pages_dev: PagesDev = False,
    add_pages: Annotated[List[Path], typer.Option(metavar="DIR", help="Add every example of this folder of tldr-style pages to the model's index as it is (repeatable): only the new requests are encoded.")] = [],  # noqa: B006
    overwrite: Overwrite = False,
    allow_unverified: AllowUnverified = False,
) -> None:
    """Copy a model into a clean model directory (no checkpoints), optionally in half precision."""
    from cfgen.bundle import model_size_mb
    from cfgen.export import ExportRequest, export_model, parse_strengths, tuned_languages
    from cfgen.hub import resolve_model_directory

    tuned, strengths = tuned_languages(tune_retrieval), parse_strengths(strength)
    request = ExportRequest(resolve_model_directory(model), output, half, max_shard_size, index_from, tuned,
                            tune_steps, strengths, overwrite, verify=not allow_unverified, page_dev=pages_dev,
                            add_pages=add_pages)
    export_model(request)
    info(f"wrote {output} ({model_size_mb(output):.1f} MB, {'float16' if half else 'float32'})")


@app.command(epilog=EXIT_CODES_HELP)
def pull(spec: Annotated[str, typer.Argument(help="Hub repo id, optionally @revision (branch, tag or commit).")]) -> None:
    """Download a model into the Hugging Face cache (HF_HOME, HF_ENDPOINT, HF_TOKEN apply) and verify it."""
    from cfgen.hub import parse_repo_spec
    from cfgen.hub import pull as pull_model

    directory = pull_model(*parse_repo_spec(spec), progress=stderr.is_terminal)
    info(f"{spec} is ready at {directory}")


@app.command()
def models() -> None:
    """List the bundled model, models in the Hugging Face cache, and models trained here."""
    from cfgen import render
    from cfgen.model_listing import list_models

    render.models(list_models())
