"""The model directory: every file name in it, verifying it, loading it as one `Bundle`, saving it.

Layout (the Hugging Face one; names in model_files.py): `config.json`, `model.safetensors` (or shards
plus `model.safetensors.index.json`), `tokenizer.json`, `checksums.json`,
`README.md` (model card), optionally `generation_config.json` (default edit
strengths) and `retrieval/` (index vectors, entries, retrieval head). A run
folder of `cfgen train` adds `checkpoints/`. Contracts: nothing is loaded
before `checksums.json` vouches for every file that will be read (unless the
caller allows an unverified model explicitly), and its entries may only name
files inside the directory; `config.json` is checked against the weights'
headers before anything is allocated; a save is staged beside the directory
and published under a lock (files.py), replacing only files cfgen wrote.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from cfgen.errors import CorruptModelError, ModelNotAvailableError, UsageError
from cfgen.model_files.files import (
    RUN_LOCK,
    check_shapes,
    first_line,
    module_shapes,
    publish,
    read_json,
    read_tensors,
    reading,
    staging_folder,
    uninitialised,
    weight_shapes,
)
from cfgen.languages import language_names
from cfgen.model_files.checksums import (  # noqa: F401
    BEST,
    CARD,
    CHECKPOINTS,
    CHECKSUMS,
    CONFIG,
    GENERATION_CONFIG,
    LOADED,
    SHARD_INDEX,
    TOKENIZER,
    WEIGHTS_PATTERN,
    check_confined,
    inside,
    loaded_files,
    read_checksums,
    verify_checksums,
    write_checksums,
)


def index_files(directory: Path):
    """The retrieval index's files in a model directory (an index_files.IndexFiles)."""
    from cfgen.model_files.index_files import IndexFiles

    folder = Path(directory) / "retrieval"
    return IndexFiles(folder / "vectors.safetensors", folder / "entries.json", folder / "head.safetensors")


FALLBACK_STRENGTH = 0.1  # edit strength for a language a model's generation_config.json does not name


@dataclass
class Bundle:
    """A loaded model directory: what generation needs, read as one consistent whole."""

    directory: Path
    network: object  # CodeFusionModel
    tokenizer: object  # CodeTokenizer
    index: object | None  # RetrievalIndex, if the model ships one
    strengths: dict[str, float]  # default edit strength per language (generation_config.json)


def load_bundle(directory: Path, device: str = "cpu", verify: bool = True) -> Bundle:
    from cfgen.retrieval.index import RetrievalIndex

    directory = Path(directory)
    with reading(directory):
        network, tokenizer = load_model(directory, device, verify)
        index = RetrievalIndex.load(index_files(directory))
        strengths = load_strengths(directory)
    if network.config.neighbours and index is None:
        raise CorruptModelError(f"{directory} holds a model that reads retrieved programs but no retrieval index")
    return Bundle(directory, network, tokenizer, index, strengths)


# -- loading ------------------------------------------------------------------------------------

def load_config(directory: Path):
    """The model's config, its process and that process's schedule known; CorruptModelError if not."""
    from cfgen.config import ModelConfig, from_dict
    from cfgen.processes import make_process

    path = Path(directory) / CONFIG
    try:
        config = from_dict(ModelConfig, read_json(path))
        make_process(config.process, config.diffusion_steps, config.schedule)
        return config
    except (TypeError, ValueError) as error:
        raise CorruptModelError(f"{path} is not a valid model config: {error}") from None


def load_tokenizer(directory: Path):
    from cfgen.tokenizer import CodeTokenizer

    path = Path(directory) / TOKENIZER
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} is missing")
    try:
        return CodeTokenizer.load(path)
    except Exception as error:  # the tokenizers library raises plain Exception for malformed files
        raise CorruptModelError(f"{path} is not a valid tokenizer ({first_line(error)})") from None


def load_strengths(directory: Path) -> dict[str, float]:
    """Per-language default edit strengths: generation_config.json where it names them, else FALLBACK_STRENGTH."""
    path = Path(directory) / GENERATION_CONFIG
    chosen = {}
    if path.is_file():
        try:
            chosen = read_json(path)["strength"]
            if not all(
                lang in language_names() and type(v) in (int, float) and 0.0 <= v <= 1.0 for lang, v in chosen.items()
            ):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CorruptModelError(f"{path} is not a valid generation config") from None
    return {lang: float(chosen.get(lang, FALLBACK_STRENGTH)) for lang in language_names()}


def load_model(directory: Path, device: str = "cpu", verify: bool = True):
    """(network, tokenizer) from a model directory; float16 on CUDA, float32 on CPU."""
    from cfgen.model import CodeFusionModel

    directory = Path(directory)
    if not (directory / CONFIG).is_file():
        raise ModelNotAvailableError(f"{directory} is not a model directory (no config.json)")
    with reading(directory):
        sums = check_confined(directory)
        verify_checksums(directory, required=verify, sums=sums)
        config = load_config(directory)
        tokenizer = load_tokenizer(directory)
        if tokenizer.vocab_size != config.vocab_size:
            raise CorruptModelError(f"{directory}: tokenizer.json does not match config.json (vocabulary size)")
        files = weight_files(directory)
        with uninitialised():  # on the meta device: a lying config allocates nothing
            network = CodeFusionModel(config)
        check_shapes(weight_shapes(files), module_shapes(network), directory / CONFIG)
        network.load_state_dict(read_tensors(files), strict=True, assign=True)  # only what the files hold
    network = network.half() if device.startswith("cuda") else network.float()
    return network.to(device).eval(), tokenizer


def weight_files(directory: Path) -> list[Path]:
    """The weights files to read: the shards that model.safetensors.index.json names (each one must be there),
    else model.safetensors."""
    index_path = directory / SHARD_INDEX
    if not index_path.is_file():
        files = sorted(directory.glob(WEIGHTS_PATTERN))
        if not files:
            raise ModelNotAvailableError(f"{directory} has no model.safetensors")
        return files
    index = read_json(index_path)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(name, str) and inside(name) for name in weight_map.values()
    ):
        raise CorruptModelError(f"{index_path} must map tensor names to shard files inside the model folder")
    shards = [directory / name for name in sorted(set(weight_map.values()))]
    missing = [path for path in shards if not path.is_file()]
    if missing:
        raise ModelNotAvailableError(f"{missing[0]} is missing ({SHARD_INDEX} names it): copy or download it again")
    return shards


# -- saving ---------------------------------------------------------------------------------------


def is_cfgen_folder(directory: Path) -> bool:
    directory = Path(directory)
    return (
        ((directory / CONFIG).is_file() and (directory / CHECKSUMS).is_file())
        or (directory / CHECKPOINTS).is_dir()
        or (directory / RUN_LOCK).is_file()
    )


def refuse_foreign_folder(directory: Path) -> bool:
    """Refuse a folder holding anything but a cfgen model or run (checked before a lock file is put there);
    whether it holds one."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    if not directory.is_dir() or not any(p.name != RUN_LOCK for p in directory.iterdir()):
        return False
    if not is_cfgen_folder(directory):
        raise UsageError(f"{directory} is not empty and holds no cfgen model; choose a new or empty folder")
    return True


def check_output_folder(directory: Path, overwrite: bool) -> None:
    """Refuse to write a model into a folder holding anything but an earlier cfgen model (that one only with
    `overwrite`)."""
    if refuse_foreign_folder(directory) and not overwrite:
        raise UsageError(
            f"{directory} already holds a cfgen model; pass --overwrite to replace it, or choose another folder"
        )


def save_model(
    network,
    tokenizer,
    directory: Path,
    max_shard_size: str | int = "16MB",
    half: bool = False,
    index=None,
    strengths: dict[str, float] | None = None,
) -> None:
    """Write a model directory beside `directory`, then publish it there (files.publish).

    The caller holds the folder's RunLock and has checked it may write there.
    Of what is already there, only the files listed in its checksums.json and
    the model card are replaced or removed.
    """
    import copy

    from cfgen.model_files.card import model_card

    directory = Path(directory)
    staging = staging_folder(directory)
    try:
        target = network
        if half:
            target = copy.deepcopy(target).half()
        target.save_weights(staging, max_shard_size)  # model.safetensors, or shards and their index
        target.config_to(staging / CONFIG)
        tokenizer.save(staging / TOKENIZER)
        (staging / CARD).write_text(model_card(target, index), encoding="utf-8")
        if index is not None:
            index.save(index_files(staging))
        if strengths:
            (staging / GENERATION_CONFIG).write_text(
                json.dumps({"strength": strengths}, indent=1) + "\n", encoding="utf-8"
            )
        write_checksums(staging)
        publish(staging, directory, {CARD, CHECKSUMS} | _written_earlier(directory), last=CHECKSUMS)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _written_earlier(directory: Path) -> set[str]:
    """The files an earlier save listed in its checksums (none if it has no readable ones)."""
    from cfgen.errors import CfgenError

    try:
        return set(read_checksums(directory)) if (directory / CHECKSUMS).is_file() else set()
    except CfgenError:
        return set()


def model_size_mb(directory: Path) -> float:
    """What loading the model reads: weights, tokenizer, retrieval index (not a run's checkpoints)."""
    files = [p for p in Path(directory).rglob("*") if p.is_file() and CHECKPOINTS not in p.relative_to(directory).parts]
    return sum(p.stat().st_size for p in files) / 1e6
