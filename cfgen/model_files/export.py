"""`cfgen export`: a clean copy of a model (no checkpoints), with its retrieval index and default strengths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cfgen.model_files.bundle import (
    CHECKPOINTS, check_output_folder, index_files, load_model,
    load_strengths, save_model,
)
from cfgen.errors import UsageError
from cfgen.model_files.files import RunLock, reading, remove_if_empty
from cfgen.languages import language_names


@dataclass
class ExportRequest:
    source: Path  # a model directory
    output: Path
    half: bool = True
    max_shard_size: str = "16MB"
    index_from: list[Path] = field(default_factory=list)  # rebuild the retrieval index from these data folders
    tuned: frozenset[str] = frozenset()  # languages to train a retrieval head for (needs index_from)
    tune_steps: int = 300
    strengths: dict[str, float] = field(default_factory=dict)  # overrides of the source's default strengths
    overwrite: bool = False
    verify: bool = True
    page_dev: bool = False  # keep the pages' dev split out of the index (corpus.DataSources.page_dev)
    add_pages: list[Path] = field(default_factory=list)  # folders of pages added to the index as it is
    index_of: Path | None = None  # a model directory whose retrieval index (and head) replaces the source's
    add_pairs: list[Path] = field(default_factory=list)  # JSON Lines files of {nl, code, lang} added to the index
    lengths: dict[str, int] = field(default_factory=dict)  # positions the sampler denoises, per language


def tuned_languages(languages: list[str]) -> frozenset[str]:
    """--tune-retrieval's languages: known ones, and not those retrieved by masked request."""
    from cfgen.languages import check_language, masked_languages

    masked = masked_languages()
    for lang in languages:
        check_language(lang, UsageError)
        if lang in masked:
            raise UsageError(f"--tune-retrieval {lang}: {lang} requests are retrieved with their values masked; a head "
                             f"serves only {', '.join(sorted(set(language_names()) - masked))}")
    return frozenset(languages)


def parse_lengths(values: list[str]) -> dict[str, int]:
    """`cf=16` -> {"cf": 16}; anything else is bad usage (the model checks the bound when it is applied)."""
    parsed = {}
    for value in values:
        lang, _, number = value.partition("=")
        if lang not in language_names() or not number.isdigit():
            raise UsageError(f"--length takes LANG=N (LANG one of {', '.join(language_names())}, N a whole number), "
                             f"got {value[:40]!r}")
        parsed[lang] = int(number)
    return parsed


def _with_lengths(network, lengths: dict[str, int]):
    """The network with its sample lengths set for `lengths`' languages (a model option: shorter is faster, and a
    program longer than its language's length cannot be written)."""
    from dataclasses import replace

    if not lengths:
        return network
    try:
        network.config = replace(network.config, sample_lengths={**network.config.sample_lengths, **lengths})
    except ValueError as error:
        raise UsageError(f"--length: {error}") from None
    return network


def parse_strengths(values: list[str]) -> dict[str, float]:
    """`cf=0.15` -> {"cf": 0.15}; anything else is bad usage."""
    parsed = {}
    for value in values:
        lang, _, number = value.partition("=")
        try:
            strength = float(number)
        except ValueError:
            strength = -1.0
        if lang not in language_names() or not 0.0 <= strength <= 1.0:
            raise UsageError(f"--strength takes LANG=S (LANG one of {', '.join(language_names())}, S from 0 to 1), "
                             f"got {value[:40]!r}")
        parsed[lang] = strength
    return parsed


def checkpoint_run(source: Path) -> Path | None:
    """The run whose checkpoint folder (RUN/checkpoints/step-N) `source` is, or None when it is not one: a
    checkpoint exports as a model with its run's config, tokenizer and index."""
    source = Path(source)
    if source.parent.name == CHECKPOINTS and (source / "state.json").is_file():
        return source.parent.parent
    return None


def _checkpoint_weights(checkpoint: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from cfgen.errors import CheckpointError

    try:
        return load_file(str(checkpoint / "model.safetensors"))
    except (OSError, SafetensorError) as error:
        raise CheckpointError(f"checkpoint {checkpoint} cannot be read ({error})") from None


def _index_of(directory: Path, verify: bool):
    """The retrieval index of the model in `directory`, its files checked against that model's checksums."""
    from cfgen.model_files.checksums import verify_checksums
    from cfgen.retrieval.index import RetrievalIndex

    with reading(directory):
        if verify:
            verify_checksums(directory)
        index = RetrievalIndex.load(index_files(directory))
    if index is None:
        raise UsageError(f"--index-of {directory}: that model holds no retrieval index")
    return index


def export_model(request: ExportRequest) -> None:
    from cfgen.retrieval.index import RetrievalIndex

    check_output_folder(request.output, request.overwrite)
    if Path(request.source).resolve() == Path(request.output).resolve():
        raise UsageError("export writes a copy: choose an output folder other than the model's own")
    if request.tuned and not request.index_from:
        raise UsageError("--tune-retrieval needs --index-from (the head is trained on that data's train split)")
    if request.index_of is not None and request.index_from:
        raise UsageError("--index-of takes another model's index as it is; --index-from builds one: give one of them")
    run = checkpoint_run(request.source)
    model_directory = run or request.source
    with reading(model_directory):
        strengths = {**load_strengths(model_directory), **request.strengths}
        network, tokenizer = load_model(model_directory, verify=request.verify)
        if run is not None:
            network.load_state_dict(_checkpoint_weights(Path(request.source)))
        index = RetrievalIndex.load(index_files(model_directory))
    network = _with_lengths(network, request.lengths)
    if request.index_of is not None:
        index = _index_of(Path(request.index_of), request.verify)
    if request.index_from:
        from cfgen.training.corpus import DataSources
        from cfgen.training.indexing import build_index

        # without --tune-retrieval the source's head (if any) serves the new index, as it was trained
        kept_head = None if request.tuned or index is None else index.head
        sources = DataSources.from_folders(request.index_from, page_dev=request.page_dev)
        index = build_index(sources, request.tuned, request.tune_steps, kept_head)
    if request.add_pages or request.add_pairs:
        from cfgen.training.data import load_pairs_jsonl
        from cfgen.training.indexing import with_pairs
        from cfgen.answering.progress import counting
        from cfgen.training.tldr import page_pairs

        pairs = [pair for folder in request.add_pages for pair in page_pairs(folder, hold_out_dev=False)[0]]
        pairs += [pair for path in request.add_pairs for pair in load_pairs_jsonl(path)]
        with counting("adding examples", len({pair.nl for pair in pairs})) as advance:
            index = with_pairs(index, pairs, advance)
    created = not Path(request.output).exists()
    try:
        with RunLock(request.output):
            check_output_folder(request.output, request.overwrite)  # again, now that no other writer can be at work
            save_model(network, tokenizer, request.output, max_shard_size=request.max_shard_size, half=request.half,
                       index=index, strengths=strengths)
    except BaseException:
        if created:  # a failed export (a full disk, Ctrl-C) leaves no empty folder behind
            remove_if_empty(request.output)
        raise
