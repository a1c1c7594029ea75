"""The command line. The only module that imports typer or rich; torch and the
model code are imported inside commands, so `--help` and completion stay fast."""

from __future__ import annotations

import contextlib
import logging
import os
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
stderr = Console(stderr=True, soft_wrap=True)
_state = {"debug": False}


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
) -> None:
    _state["debug"] = debug
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)  # this invocation's stderr (tests swap it)
    handler.setFormatter(logging.Formatter("cfgen: %(message)s"))
    for name in ("cfgen", "huggingface_hub"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


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
        if os.environ.get("RANK", "0") != "0":
            return  # under torchrun only rank 0 reports
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
            if not stderr.is_terminal and (report.dev_loss is not None or report.step % 50 == 0):
                stderr.print(  # a log line instead of a bar when stderr is a file
                    f"step {report.step}/{report.total} loss {report.loss:.4f} dev {last_dev[0]} "
                    f"{report.tokens_per_second:,.0f} tok/s", highlight=False,
                )
            progress.update(
                task, completed=report.step, loss=f"{report.loss:.3f}", dev=last_dev[0],
                rate=f"{report.tokens_per_second:,.0f}",
            )

        return run_training(request, on_step)


# -- generating ------------------------------------------------------------------------

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 runtime failure; 2 bad usage or input; 3 model not available "
    "(missing, corrupt, unknown revision, offline cache miss); 4 network failure; "
    "5 some batch lines rejected (the rest answered); 130 interrupted."
)


def _fail(message: str, code: int = 2) -> None:
    stderr.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _checked_query(query: str) -> str:
    from cfgen.answer import MAX_QUERY_CHARS

    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        _fail("the query is not valid UTF-8")
    if not query.strip():
        _fail("the query is empty; say what the code should do, e.g. cfgen \"list files older than 3 days\"")
    if len(query) > MAX_QUERY_CHARS:
        stderr.print(f"[yellow]warning:[/yellow] query truncated to {MAX_QUERY_CHARS} characters", highlight=False)
        query = query[:MAX_QUERY_CHARS]
    return query.strip()


def _parse_batch(data: bytes, default_lang: str, default_table):
    """Requests from stdin lines (plain text or JSON objects) and a message per rejected line."""
    import json

    from cfgen import LANGUAGES
    from cfgen.answer import MAX_QUERY_CHARS, Request

    requests, problems = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            problems.append(f"line {number}: not valid UTF-8")
            continue
        if not line:
            continue
        query, lang, table = line, default_lang, default_table
        if line.startswith("{"):
            try:
                item = json.loads(line)
                query, lang = str(item["query"]), str(item.get("lang", default_lang))
                table = item.get("table", default_table)
                if table is not None and not (isinstance(table, list) and table and all(isinstance(r, list) for r in table)):
                    raise ValueError("table must be a list of rows, header first")
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                problems.append(f"line {number}: malformed JSON request ({error})")
                continue
        if lang not in LANGUAGES:
            problems.append(f"line {number}: unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
            continue
        if not query.strip():
            problems.append(f"line {number}: empty query")
            continue
        requests.append(Request(query.strip()[:MAX_QUERY_CHARS], lang, table, number))
    return requests, problems


def _load_generator(model: Optional[str], device: str):
    from cfgen.generate import CodeGenerator
    from cfgen.hub import default_model_directory, resolve_model_directory
    from cfgen.train import select_device

    directory = resolve_model_directory(model) if model else default_model_directory()
    return CodeGenerator(directory, device=select_device(device)), directory


def _print_answers(answers, as_json: bool, shown: Optional[int], elapsed: float, how: str) -> None:
    import json

    out = Console(highlight=False, soft_wrap=True)
    if as_json:
        for answer in answers:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        return
    if not out.is_terminal:  # piped: code only, so `cfgen "…" | sh` and $(cfgen "…") work
        for answer in answers:
            codes = [c.code for c in answer.candidates][: shown or 1]
            sys.stdout.write("\n".join(codes or [""]) + "\n")
        return
    from rich.syntax import Syntax
    from rich.table import Table

    lexers = {"bash": "bash", "python": "python", "cf": "text"}
    for answer in answers:
        table = Table(title=answer.request.query, title_justify="left", expand=False)
        for column in ("#", "code", "score", "check", "risks"):
            table.add_column(column, overflow="fold")
        with_rows = bool(answer.rows)
        if with_rows:
            table.add_column("rows")
        for rank_number, candidate in enumerate(answer.candidates[: shown or len(answer.candidates)], start=1):
            check = "[green]ok[/green]" if candidate.valid else f"[red]{candidate.check}[/red]"
            risks = "[bold red]" + ", ".join(candidate.risks) + "[/bold red]" if candidate.risks else ""
            cells = [str(rank_number), Syntax(candidate.code, lexers[answer.request.lang], word_wrap=True),
                     f"{candidate.score:.3f}", check, risks]
            if with_rows:
                rows = answer.rows[rank_number - 1]
                cells.append("-" if rows is None else ", ".join(map(str, rows)) or "none")
            table.add_row(*cells)
        out.print(table)
    stderr.print(f"[dim]{len(answers)} request(s) in {elapsed:.2f} s ({how}). "
                 "cfgen never runs what it writes: read before you run.[/dim]")


@app.command(epilog=EXIT_CODES_HELP)
def generate(
    query: Optional[str] = typer.Argument(None, help="What the code should do. '-' or none (with piped stdin): one request per line."),
    lang: str = typer.Option("bash", "--lang", "-l", help="bash, python or cf.", autocompletion=lambda: ["bash", "python", "cf"]),
    n: Optional[int] = typer.Option(None, "-n", help="Candidates to show (default 5 on a terminal, 1 when piped)."),
    steps: Optional[int] = typer.Option(None, help="Denoising steps (1-1200; default: the model's)."),
    seed: int = typer.Option(0, help="Seed of the noise draws."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model directory, trained run name, or Hub repo[@revision]."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    table: Optional[Path] = typer.Option(None, help="CSV table (cf): ground columns in its header and show selected rows."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per request, one per line."),
    strength: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Edit the nearest training programs after noising them this far (0: as retrieved, 1: pure noise; default: per language)."),
) -> None:
    """Generate ranked candidates for a request (the default command)."""
    import time

    from cfgen import LANGUAGES

    if lang not in LANGUAGES:
        _fail(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    if n is not None and n < 1:
        _fail("-n must be at least 1")
    if steps is not None and not 1 <= steps <= 1200:
        _fail("--steps must be between 1 and 1200")
    with _user_errors():
        from cfgen.answer import Request, answer_all
        from cfgen.generate import DEFAULT_STEPS

        rows = None
        if table is not None:
            from cfgen.languages.cf import CFError, read_table

            if not table.is_file():
                _fail(f"table file not found: {table}")
            try:
                rows = read_table(table)
            except (CFError, OSError, UnicodeDecodeError) as error:
                _fail(f"cannot read the table {table}: {error}")
        problems: list[str] = []
        if query is None or query == "-":
            if sys.stdin.isatty():
                _fail("no query: give one as an argument, or pipe one per line")
            requests, problems = _parse_batch(sys.stdin.buffer.read(), lang, rows)
            for problem in problems:
                stderr.print(f"[red]error:[/red] {problem}", highlight=False)
        else:
            requests = [Request(_checked_query(query), lang, rows)]
        if not requests:
            raise typer.Exit(5 if problems else 2)
        generator, _ = _load_generator(model, device)
        steps = steps or DEFAULT_STEPS
        started = time.perf_counter()
        answers = _answer_with_progress(generator, requests, max(n or 5, 5), steps, seed, strength)
        how = "; ".join(_method(generator, lang_, steps, strength) for lang_ in dict.fromkeys(r.lang for r in requests))
        _print_answers(answers, as_json, n, time.perf_counter() - started, how)
        if problems:
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


def _answer_with_progress(generator, requests, num_candidates, steps, seed, strength):
    from rich.progress import Progress

    from cfgen.answer import answer_all

    with Progress(console=stderr, disable=not stderr.is_terminal or len(requests) < 2, transient=True) as progress:
        task = progress.add_task("generating", total=len(requests))
        return answer_all(generator, requests, num_candidates, steps, seed, lambda k: progress.advance(task, k),
                          strength=strength)


# -- evaluation ----------------------------------------------------------------------------


@app.command(name="eval")
def evaluate_command(
    file: Path = typer.Argument(..., help="Benchmark JSON ({'train': [...], 'dev': [...]}) as in the CodeFusion data."),
    lang: str = typer.Option(..., "--lang", "-l", help="bash, python or cf.", autocompletion=lambda: ["bash", "python", "cf"]),
    split: str = typer.Option("dev", help="Which split to score."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to score (default: the bundled one)."),
    n: int = typer.Option(5, "-n", min=1, help="Candidates per item."),
    steps: Optional[int] = typer.Option(None, min=1, max=1200, help="Denoising steps."),
    seed: int = typer.Option(0, help="Seed of the noise draws."),
    limit: int = typer.Option(0, min=0, help="Score only the first N items (0: all)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda."),
    report: Optional[Path] = typer.Option(None, help="Write every figure and per-item candidates to this JSON file."),
    strength: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Retrieval-guided start (see generate --help)."),
) -> None:
    """Score a model on a benchmark file with the paper's metrics."""
    import json

    from rich.progress import Progress
    from rich.table import Table

    with _user_errors():
        from cfgen.data import check_language, load_benchmark
        from cfgen.evaluate import evaluate
        from cfgen.generate import DEFAULT_STEPS
        from cfgen.ranking import rank

        check_language(lang)
        items = load_benchmark(file, split, lang)
        items = items[:limit] if limit else items
        generator, directory = _load_generator(model, device)
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
            stderr.print(figures["note"], highlight=False)
        if report is not None:
            report.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


# -- models and the cache ------------------------------------------------------------------


@app.command(epilog=EXIT_CODES_HELP)
def pull(spec: str = typer.Argument(..., help="Hub repo id, optionally @revision (branch, tag or commit).")) -> None:
    """Download a model into the Hugging Face cache (HF_HOME, HF_ENDPOINT, HF_TOKEN apply) and verify it."""
    with _user_errors():
        from cfgen.errors import ModelNotAvailableError
        from cfgen.hub import pull as pull_model

        repo_id, _, revision = spec.partition("@")
        if repo_id.count("/") != 1:
            raise ModelNotAvailableError(f"{spec!r} is not a Hub repo id (owner/name[@revision])")
        directory = pull_model(repo_id, revision or None, progress=stderr.is_terminal)
        stderr.print(f"{spec} is ready at {directory}", highlight=False)


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
) -> None:
    """Copy a model into a clean model directory (no checkpoints), optionally in half precision."""
    with _user_errors():
        from cfgen.generate import load_strengths
        from cfgen.hub import load_model, model_size_mb, resolve_model_directory, save_model
        from cfgen.retrieval import RetrievalIndex

        source = resolve_model_directory(model)
        strengths = {**load_strengths(source), **_parse_strengths(strength)}
        network, tokenizer = load_model(source)
        tuned = _parse_tuned_languages(tune_retrieval, index_from)
        if index_from is not None:
            from cfgen.train import DataSources, build_index

            index = build_index(DataSources(data_dir=index_from), tuned, tune_steps)
        else:
            index = RetrievalIndex.load(source)
        save_model(network, tokenizer, output, max_shard_size=max_shard_size, half=half, index=index, strengths=strengths)
        stderr.print(f"wrote {output} ({model_size_mb(output):.1f} MB, {'float16' if half else 'float32'})", highlight=False)


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
    from rich.table import Table

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
            table.add_row(m["name"], m["source"], m["revision"], f"{m['size_mb']:.1f} MB", m["path"])
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
    app(args=_with_default_command(sys.argv[1:]), prog_name="cfgen")
