"""The command line: argument declarations and calls. With render.py the only
modules importing typer or rich; torch and the model code are imported inside
commands, so `--help` and completion stay fast."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from cfgen.errors import CfgenError, exit_codes_help
from cfgen.render import error as print_error
from cfgen.render import info, stderr, warning

app = typer.Typer(
    name="cfgen",
    help="Turn a plain-English request into ranked, syntax-checked Bash, Python or Excel CF-rule candidates.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}
MAX_CANDIDATES = 100  # -n bound: memory grows with it (CF: ~1 MB a candidate)
MAX_SEED = 2**63 - 1
DEVICES = ("auto", "cpu", "cuda")
EXIT_CODES_HELP = exit_codes_help()


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
) -> None:
    _state["debug"] = debug
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)  # this invocation's stderr (tests swap it)
    handler.setFormatter(logging.Formatter("cfgen: %(message)s"))
    if not debug:  # huggingface_hub logs each retry (and resets its own level); cfgen says in one line what happened
        handler.addFilter(lambda record: record.name.startswith("cfgen") or record.levelno >= logging.ERROR)
    for name in ("cfgen", "huggingface_hub"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


@contextlib.contextmanager
def _user_errors():
    """Every failure becomes one line on stderr and its exit code (errors.EXIT_CODES); --debug re-raises."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        if _state["debug"]:
            raise
        print_error("interrupted")
        raise typer.Exit(130) from None
    except CfgenError as failure:
        if _state["debug"]:
            raise
        print_error(str(failure))
        raise typer.Exit(failure.exit_code) from None
    except OSError as failure:  # file names too long, permissions, disk full
        if _state["debug"]:
            raise
        where = f" ({failure.filename})" if getattr(failure, "filename", None) else ""
        print_error(f"{failure.strerror or failure}{where}"[:400])
        raise typer.Exit(1) from None
    except (MemoryError, RecursionError) as failure:
        if _state["debug"]:
            raise
        print_error(f"out of {'memory' if isinstance(failure, MemoryError) else 'stack'}; try a smaller input")
        raise typer.Exit(1) from None


def _fail(message: str, code: int = 2) -> None:
    print_error(message)
    raise typer.Exit(code)


def _check_options(lang: str | None = None, device: str | None = None, seed: int | None = None,
                   n: int | None = None, steps: int | None = None) -> None:
    """One place for the option checks every command shares; each failure is bad usage (exit 2)."""
    from cfgen import LANGUAGES

    if lang is not None and lang not in LANGUAGES:
        _fail(f"unknown language {lang[:40]!r}; choose one of {', '.join(LANGUAGES)}")
    if device is not None and device not in DEVICES:
        _fail(f"unknown device {device[:40]!r}; choose one of {', '.join(DEVICES)}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        _fail(f"--seed must be from 0 to {MAX_SEED}")
    if n is not None and not 1 <= n <= MAX_CANDIDATES:
        _fail(f"-n must be from 1 to {MAX_CANDIDATES}")
    if steps is not None and not 1 <= steps <= 1200:
        _fail("--steps must be between 1 and 1200")


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
    overwrite: bool = typer.Option(False, help="Replace an earlier cfgen model or run in the output folder (other files are never touched)."),
) -> None:
    """Pre-train or fine-tune a model; the output directory is a model directory."""
    from cfgen.config import TrainConfig
    from cfgen.paths import run_path
    from cfgen.train import DataSources, TrainRequest

    with _user_errors():
        languages = tuple(name.strip() for name in lang.split(",") if name.strip())
        for name in languages:
            _check_options(lang=name)
        _check_options(device=device, seed=seed)
        if len(output) > 255:
            _fail("the run name or folder is longer than 255 characters")
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
            max_shard_size=max_shard_size, overwrite=overwrite,
        )
        result = _train_with_progress(request)
        if os.environ.get("RANK", "0") != "0":
            return  # under torchrun only rank 0 reports
        info(
            f"trained {result.steps} steps on {result.examples} examples ({result.skipped} skipped as too long); "
            f"loss {result.final_loss:.3f}" + (f", dev loss {result.dev_loss:.3f}" if result.dev_loss is not None else "")
            + f"; model in {result.output_dir}"
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
            if not stderr.is_terminal and (report.dev_loss is not None or report.step % 50 == 0):
                info(  # a log line instead of a bar when stderr is a file
                    f"step {report.step}/{report.total} loss {report.loss:.4f} dev {last_dev[0]} "
                    f"{report.tokens_per_second:,.0f} tok/s"
                )
            progress.update(
                task, completed=report.step, loss=f"{report.loss:.3f}", dev=last_dev[0],
                rate=f"{report.tokens_per_second:,.0f}",
            )

        return run_training(request, on_step)


# -- generating ------------------------------------------------------------------------


def _checked_query(query: str) -> str:
    from cfgen.answer import MAX_QUERY_CHARS

    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        _fail("the query is not valid UTF-8")
    if not query.strip():
        _fail("the query is empty; say what the code should do, e.g. cfgen \"list files older than 3 days\"")
    if len(query) > MAX_QUERY_CHARS:
        warning(f"query truncated to {MAX_QUERY_CHARS} characters")
        query = query[:MAX_QUERY_CHARS]
    return query.strip()


def _read_table(table: Optional[Path]) -> list | None:
    if table is None:
        return None
    from cfgen.languages.cf import CFError, read_table

    try:
        if not table.is_file():
            _fail(f"table file not found: {table}")
        return read_table(table)
    except (CFError, OSError, UnicodeDecodeError) as failure:
        _fail(f"cannot read the table {table}: {failure}"[:400])


def _load_generator(model: Optional[str], device: str, allow_unverified: bool = False):
    from cfgen.generate import CodeGenerator
    from cfgen.hub import default_model_directory, resolve_model_directory
    from cfgen.train import select_device

    directory = resolve_model_directory(model) if model else default_model_directory()
    return CodeGenerator(directory, device=select_device(device), verify=not allow_unverified), directory


ALLOW_UNVERIFIED = typer.Option(False, "--allow-unverified", help="Load a model folder that has no checksums.json (only one you trust).")


@app.command(epilog=EXIT_CODES_HELP)
def generate(
    query: Optional[str] = typer.Argument(None, help="What the code should do. '-' or none (with piped stdin): one request per line."),
    lang: str = typer.Option("bash", "--lang", "-l", help="bash, python or cf.", autocompletion=lambda: ["bash", "python", "cf"]),
    n: Optional[int] = typer.Option(None, "-n", help=f"Candidates to show, 1-{MAX_CANDIDATES} (default 5 on a terminal, 1 when piped)."),
    steps: Optional[int] = typer.Option(None, help="Denoising steps (1-1200; default 20)."),
    seed: int = typer.Option(0, help=f"Seed of the noise draws (0-{MAX_SEED})."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory, trained run name, or Hub repo[@revision]."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    table: Optional[Path] = typer.Option(None, help="CSV table (cf): ground columns in its header and show selected rows."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per request, one per line."),
    strength: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Edit the nearest training programs after noising them this far (0: as retrieved, 1: pure noise; default: per language)."),
    allow_invalid: bool = typer.Option(False, "--allow-invalid", help="Piped: print candidates that fail their syntax check too."),
    allow_unverified: bool = ALLOW_UNVERIFIED,
) -> None:
    """Generate ranked candidates for a request (the default command)."""
    import time

    from cfgen.generate import DEFAULT_STEPS
    from cfgen.output import Output

    _check_options(lang=lang, device=device, seed=seed, n=n, steps=steps)
    with _user_errors():
        rows = _read_table(table)
        batch = query is None or query == "-"
        if batch and sys.stdin.isatty():
            _fail("no query: give one as an argument, or pipe one per line")
        single = None if batch else _checked_query(query)
        output = Output(as_json=as_json, shown=n, allow_invalid=allow_invalid, batch=batch)
        load = lambda: _load_generator(model, device, allow_unverified)[0]  # noqa: E731
        steps = steps or DEFAULT_STEPS
        started = time.perf_counter()
        if batch:
            from cfgen.batch import read_windows

            summary = output.stream(read_windows(sys.stdin.buffer, lang, rows), load, max(n or 5, 5), steps, seed,
                                    strength)
        else:
            from cfgen.answer import Request

            summary = output.stream([[Request(single, lang, rows)]], load, max(n or 5, 5), steps, seed, strength)
        if summary.requests == 0:
            _fail("no requests on stdin: every line was blank" if summary.lines else "no requests on stdin: it was empty")
        if output.terminal:
            how = "; ".join(_method(output.generator, name, steps, strength) for name in summary.languages)
            from cfgen.render import note

            note(f"{summary.requests} request(s) in {time.perf_counter() - started:.2f} s ({how}). "
                 "cfgen never runs what it writes: read before you run.")
        if summary.rejected:
            raise typer.Exit(5)


def _method(generator, lang: str, steps: int, strength: float | None) -> str:
    """How a language's candidates were made, for the timing line."""
    strength = generator.effective_strength(strength, lang)
    if strength == 1.0:  # also every model without a retrieval index
        return f"{lang}: {steps} denoising steps from noise"
    index = generator.index
    retrieved = "nearest training programs" + (" (retrieval head)" if index.tuned(lang) else "")
    retrieved += ", with the request's values" if index.values else ""
    if strength == 0.0:
        return f"{lang}: {retrieved}, not edited"
    return f"{lang}: {retrieved}, edited by the model ({steps} steps from strength {strength:g})"


# -- evaluation ----------------------------------------------------------------------------


@app.command(name="eval")
def evaluate_command(
    file: Path = typer.Argument(..., help="Benchmark JSON ({'train': [...], 'dev': [...]}) as in the CodeFusion data."),
    lang: str = typer.Option(..., "--lang", "-l", help="bash, python or cf.", autocompletion=lambda: ["bash", "python", "cf"]),
    split: str = typer.Option("dev", help="Which split to score."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to score (default: the bundled one)."),
    n: int = typer.Option(5, "-n", help=f"Candidates per item (1-{MAX_CANDIDATES})."),
    steps: Optional[int] = typer.Option(None, help="Denoising steps (1-1200; default 20)."),
    seed: int = typer.Option(0, help=f"Seed of the noise draws (0-{MAX_SEED})."),
    limit: int = typer.Option(0, min=0, help="Score only the first N items (0: all)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    report: Optional[Path] = typer.Option(None, help="Write every figure and per-item candidates to this JSON file."),
    strength: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Retrieval-guided start (see generate --help)."),
    allow_unverified: bool = ALLOW_UNVERIFIED,
) -> None:
    """Score a model on a benchmark file with the paper's metrics."""
    import json

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    _check_options(lang=lang, device=device, seed=seed, n=n, steps=steps)
    with _user_errors():
        from cfgen.data import load_benchmark
        from cfgen.evaluate import evaluate
        from cfgen.generate import DEFAULT_STEPS
        from cfgen.ranking import rank

        items = load_benchmark(file, split, lang)
        items = items[:limit] if limit else items
        generator, directory = _load_generator(model, device, allow_unverified)
        steps = steps or DEFAULT_STEPS

        def predict(queries):
            return [rank(c, lang) for c in generator.generate(queries, lang, n, steps, seed, strength=strength)]

        with Progress(console=stderr, disable=not stderr.is_terminal, transient=True) as progress:
            task = progress.add_task(f"scoring {lang}", total=len(items))
            result = evaluate(items, lang, predict, on_progress=lambda k: progress.advance(task, k))
        result.update(model=str(directory), split=split, steps=steps, candidates=n, seed=seed,
                      strength=generator.effective_strength(strength, lang))
        figures = result["figures"]
        table = Table(title=f"{lang} {split} ({figures['items']} items, {figures['metric']}, {steps} steps)")
        table.add_column("figure")
        table.add_column("value", justify="right")
        for key, value in figures.items():
            if isinstance(value, float):
                table.add_row(key, f"{value:.3f}")
        Console().print(table)
        if "note" in figures:
            info(figures["note"])
        if report is not None:
            report.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


# -- models and the cache ------------------------------------------------------------------


@app.command(epilog=EXIT_CODES_HELP)
def pull(spec: str = typer.Argument(..., help="Hub repo id, optionally @revision (branch, tag or commit).")) -> None:
    """Download a model into the Hugging Face cache (HF_HOME, HF_ENDPOINT, HF_TOKEN apply) and verify it."""
    with _user_errors():
        from cfgen.hub import parse_repo_spec
        from cfgen.hub import pull as pull_model

        repo_id, revision = parse_repo_spec(spec)
        directory = pull_model(repo_id, revision, progress=stderr.is_terminal)
        info(f"{spec} is ready at {directory}")


@app.command()
def export(
    model: str = typer.Argument(..., help="Model directory, trained run name, or Hub repo[@revision]."),
    output: Path = typer.Argument(..., help="Directory to write (e.g. cfgen/weights/default to bundle it)."),
    half: bool = typer.Option(True, help="Store the weights in float16 (half the size; loads as float32 on CPU)."),
    max_shard_size: str = typer.Option("16MB", help="Largest weights file written."),
    index_from: Optional[Path] = typer.Option(None, help="Build the retrieval index from this CodeFusion data folder."),
    strength: List[str] = typer.Option([], help="LANG=S: default edit strength for a language, chosen on dev (repeatable; others keep the source's)."),
    tune_retrieval: List[str] = typer.Option([], help="LANG: train a retrieval head for this language on the --index-from train split (repeatable)."),
    tune_steps: int = typer.Option(300, min=1, help="Training steps of the retrieval head."),
    overwrite: bool = typer.Option(False, help="Replace an earlier cfgen model in OUTPUT (other files are never touched)."),
    allow_unverified: bool = ALLOW_UNVERIFIED,
) -> None:
    """Copy a model into a clean model directory (no checkpoints), optionally in half precision."""
    with _user_errors():
        from cfgen.bundle import RunLock, check_output_folder, load_model, model_size_mb, reading, save_model
        from cfgen.generate import load_strengths
        from cfgen.hub import resolve_model_directory
        from cfgen.retrieval import RetrievalIndex

        tuned = _parse_tuned_languages(tune_retrieval, index_from)
        parsed_strengths = _parse_strengths(strength)
        check_output_folder(output, overwrite)
        source = resolve_model_directory(model)
        if source.resolve() == output.resolve():
            _fail("export writes a copy: choose an output folder other than the model's own")
        with reading(source):
            strengths = {**load_strengths(source), **parsed_strengths}
            network, tokenizer = load_model(source, verify=not allow_unverified)
            index = None if index_from is not None else RetrievalIndex.load(source)
        if index_from is not None:
            from cfgen.train import DataSources, build_index

            index = build_index(DataSources(data_dir=index_from), tuned, tune_steps)
        with RunLock(output):
            check_output_folder(output, overwrite)  # again, now that no other writer can be at work there
            save_model(network, tokenizer, output, max_shard_size=max_shard_size, half=half, index=index,
                       strengths=strengths)
        info(f"wrote {output} ({model_size_mb(output):.1f} MB, {'float16' if half else 'float32'})")


def _parse_tuned_languages(languages: list[str], index_from: Optional[Path]) -> frozenset[str]:
    from cfgen import LANGUAGES
    from cfgen.slots import MASKED_LANGUAGES

    if languages and index_from is None:
        _fail("--tune-retrieval needs --index-from (the head is trained on that data's train split)")
    for lang in languages:
        if lang not in LANGUAGES:
            _fail(f"--tune-retrieval takes one of {', '.join(LANGUAGES)}, got {lang!r}")
        if lang in MASKED_LANGUAGES:
            _fail(f"--tune-retrieval {lang}: {lang} requests are retrieved with their values masked; a head serves only "
                  f"{', '.join(sorted(set(LANGUAGES) - MASKED_LANGUAGES))}")
    return frozenset(languages)


def _parse_strengths(values: list[str]) -> dict[str, float]:
    """`cf=0.15` -> {"cf": 0.15}; anything else is bad usage."""
    from cfgen import LANGUAGES

    parsed = {}
    for value in values:
        lang, _, number = value.partition("=")
        try:
            strength = float(number)
        except ValueError:
            strength = -1.0
        if lang not in LANGUAGES or not 0.0 <= strength <= 1.0:
            _fail(f"--strength takes LANG=S (LANG one of {', '.join(LANGUAGES)}, S from 0 to 1), got {value!r}")
        parsed[lang] = strength
    return parsed


@app.command()
def models() -> None:
    """List the bundled model, models in the Hugging Face cache, and models trained here."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from cfgen.render import printable

    with _user_errors():
        from cfgen.hub import list_models

        found = list_models()
        out = Console()
        if not out.is_terminal:
            for m in found:
                sys.stdout.write(f"{m['name']}\t{m['source']}\t{m['revision']}\t{m['size_mb']:.1f}MB\t{m['path']}\n")
            return
        table = Table()
        for column in ("name", "source", "revision", "size", "path"):
            table.add_column(column, overflow="fold")
        for m in found:
            cells = (m["name"], m["source"], m["revision"], f"{m['size_mb']:.1f} MB", m["path"])
            table.add_row(*(Text(printable(cell)) for cell in cells))
        out.print(table)


# -- entry point ---------------------------------------------------------------------------

GLOBAL_OPTIONS = {"--debug", "--quiet", "-q", "--help", "--install-completion", "--show-completion"}


def _with_default_command(argv: list[str]) -> list[str]:
    """`cfgen "query"` means `cfgen generate "query"`; so does bare `cfgen` with piped stdin."""
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    if any(o in argv for o in ("--install-completion", "--show-completion")):
        return argv
    for position, token in enumerate(argv):
        if token in GLOBAL_OPTIONS:
            continue
        if token in commands:
            return argv
        return argv[:position] + ["generate"] + argv[position:]
    if not sys.stdin.isatty() and "--help" not in argv:
        return argv + ["generate"]
    return argv


def main() -> None:
    if any(key.startswith("_CFGEN_COMPLETE") for key in os.environ):
        app(prog_name="cfgen")  # shell completion: leave the arguments alone
        return
    try:
        app(args=_with_default_command(sys.argv[1:]), prog_name="cfgen")
    except Exception as failure:  # a failure no command foresaw: still one line, unless --debug
        if "--debug" in sys.argv[1:]:
            raise
        print_error(f"internal error ({type(failure).__name__}: {str(failure)[:200]}); --debug shows the traceback")
        sys.exit(1)
