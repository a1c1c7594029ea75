"""The command line. The only module that imports typer or rich; torch and the
model code are imported inside commands, so `--help` and completion stay fast."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from cfgen.errors import CfgenError

app = typer.Typer(
    name="cfgen",
    help="Turn a plain-English request into ranked, syntax-checked Bash, Python or Excel CF-rule candidates.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
) -> None:
    _state["debug"] = debug
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="cfgen: %(message)s", stream=sys.stderr)


@contextlib.contextmanager
def _user_errors():
    """Known failures become one line on stderr and their exit code."""
    try:
        yield
    except CfgenError as error:
        if _state["debug"]:
            raise
        stderr.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    except ValueError as error:  # bad option values caught by our config classes
        if _state["debug"]:
            raise
        stderr.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def train(
    output: str = typer.Argument(..., help="Run name (kept in cfgen's data folder) or a directory path."),
    stage: str = typer.Option("finetune", help="pretrain (code only: unsupervised + CPD) or finetune (NL-code pairs)."),
    data: Optional[Path] = typer.Option(None, help="The CodeFusion data folder (benchmarks and snippet files)."),
    pairs: List[Path] = typer.Option([], help="JSON Lines file of {nl, code, lang} pairs (repeatable)."),
    lang: str = typer.Option("bash,python,cf", help="Comma-separated languages to train on."),
    size: str = typer.Option("small", help="Model size when starting from scratch: tiny, small or base."),
    vocab_size: int = typer.Option(4096, help="Code BPE vocabulary size when starting from scratch."),
    init: Optional[str] = typer.Option(None, help="Continue from this model (keeps its tokenizer), e.g. to fine-tune a pre-trained one."),
    resume: bool = typer.Option(False, help="Continue this run from its last checkpoint."),
    steps: int = typer.Option(1000, min=1, help="Optimiser steps in all."),
    batch_size: int = typer.Option(64, min=1, help="Global batch size (split across torchrun ranks)."),
    lr: float = typer.Option(5e-4, help="Peak learning rate (AdamW)."),
    warmup: int = typer.Option(100, min=0, help="Warm-up steps."),
    seed: int = typer.Option(0, help="Seed for initialisation, batches and noise."),
    checkpoint_every: int = typer.Option(200, min=1, help="Steps between checkpoints."),
    eval_every: int = typer.Option(200, min=0, help="Steps between dev-loss reports (0: never)."),
    max_snippets: int = typer.Option(0, min=0, help="Pre-training: at most this many snippets per language (0: all)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    max_shard_size: str = typer.Option("16MB", help="Largest weights file written."),
) -> None:
    """Pre-train or fine-tune a model; the output directory is a model directory."""
    from cfgen.config import TrainConfig
    from cfgen.paths import run_path
    from cfgen.train import DataSources, TrainRequest

    with _user_errors():
        from cfgen.data import check_language

        languages = tuple(check_language(name.strip()) for name in lang.split(",") if name.strip())
        config = TrainConfig(
            stage=stage, steps=steps, batch_size=batch_size, learning_rate=lr, warmup_steps=warmup, seed=seed,
            checkpoint_every=checkpoint_every, eval_every=eval_every,
        )
        init_directory = None
        if init:
            from cfgen.hub import resolve_model_directory

            init_directory = resolve_model_directory(init)
        request = TrainRequest(
            output_dir=run_path(output), train=config,
            sources=DataSources(data_dir=data, pair_files=list(pairs), languages=languages, max_snippets=max_snippets),
            size=size, vocab_size=vocab_size, init=init_directory, resume=resume, device=device,
            max_shard_size=max_shard_size,
        )
        result = _train_with_progress(request)
        stderr.print(
            f"trained {result.steps} steps on {result.examples} examples ({result.skipped} skipped as too long); "
            f"loss {result.final_loss:.3f}" + (f", dev loss {result.dev_loss:.3f}" if result.dev_loss is not None else "")
            + f"; model in {result.output_dir}",
            highlight=False,
        )


def _train_with_progress(request):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from cfgen.train import run_training

    columns = [
        TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"), TextColumn("dev {task.fields[dev]}"),
        TextColumn("{task.fields[rate]} tok/s"), TimeRemainingColumn(),
    ]
    with Progress(*columns, console=stderr, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("train", total=request.train.steps, loss="-", dev="-", rate="-")
        last_dev = ["-"]

        def on_step(report) -> None:
            if report.dev_loss is not None:
                last_dev[0] = f"{report.dev_loss:.3f}"
                logging.getLogger("cfgen.train").info("step %d dev loss %.4f", report.step, report.dev_loss)
            progress.update(
                task, completed=report.step, loss=f"{report.loss:.3f}", dev=last_dev[0],
                rate=f"{report.tokens_per_second:,.0f}",
            )

        return run_training(request, on_step)


def main() -> None:
    app()
