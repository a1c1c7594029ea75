"""The model directory: every file name in it, verifying it, loading it as one `Bundle`, saving it.

Layout (the Hugging Face one): `config.json`, `model.safetensors` (or shards
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
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cfgen import LANGUAGES
from cfgen.errors import CorruptModelError, ModelNotAvailableError, UsageError
from cfgen.files import (RUN_LOCK, check_shapes, first_line, module_shapes, publish, read_json,
                         read_tensors, reading, staging_folder, uninitialised, weight_shapes)

CONFIG, TOKENIZER, CHECKSUMS, CARD = "config.json", "tokenizer.json", "checksums.json", "README.md"
GENERATION_CONFIG = "generation_config.json"
WEIGHTS_PATTERN = "model*.safetensors"
CHECKPOINTS = "checkpoints"  # a training run's, beside the model files
BEST = "best"  # a run's model of the lowest dev loss (cfgen train --keep-best)


def index_files(directory: Path):
    """The retrieval index's files in a model directory (an index_files.IndexFiles)."""
    from cfgen.index_files import IndexFiles

    folder = Path(directory) / "retrieval"
    return IndexFiles(folder / "vectors.safetensors", folder / "entries.json", folder / "head.safetensors")


LOADED = ("*.safetensors", "model.safetensors.index.json", CONFIG, TOKENIZER, GENERATION_CONFIG, "retrieval/*")
FALLBACK_STRENGTH = 0.1  # edit strength for a language a model's generation_config.json does not name
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Bundle:
    """A loaded model directory: what generation needs, read as one consistent whole."""

    directory: Path
    network: object  # CodeFusionModel
    tokenizer: object  # CodeTokenizer
    index: object | None  # RetrievalIndex, if the model ships one
    strengths: dict[str, float]  # default edit strength per language (generation_config.json)


def load_bundle(directory: Path, device: str = "cpu", verify: bool = True) -> Bundle:
    from cfgen.retrieval import RetrievalIndex

    directory = Path(directory)
    with reading(directory):
        network, tokenizer = load_model(directory, device, verify)
        index = RetrievalIndex.load(index_files(directory))
        strengths = load_strengths(directory)
    if network.config.neighbours and index is None:
        raise CorruptModelError(f"{directory} holds a model that reads retrieved programs but no retrieval index")
    return Bundle(directory, network, tokenizer, index, strengths)


# -- checksums ---------------------------------------------------------------------------------

def loaded_files(directory: Path) -> list[Path]:
    """Every file of the directory that loading the model reads."""
    directory = Path(directory)
    return sorted({path for pattern in LOADED for path in directory.glob(pattern) if path.is_file()})


def _confinement(directory: Path) -> Path:
    """The folder a model's files may resolve into: the folder itself, or for a Hugging Face cache snapshot
    (`models--owner--name/snapshots/REV`, whose files link to `../../blobs/`) its repository's cache folder."""
    directory = Path(directory).resolve()
    if directory.parent.name == "snapshots" and directory.parents[1].name.startswith("models--"):
        return directory.parents[1]
    return directory


def check_confined(directory: Path) -> dict[str, str] | None:
    """Refuse a model whose files (or the folders holding them) are links that lead out of its folder, before
    anything is read or hashed: a model folder must not make cfgen open `/etc/passwd`. Returns checksums.json as
    read_checksums gives it (None if there is none), for verify_checksums."""
    directory = Path(directory)
    root = _confinement(directory)

    def check(paths) -> None:
        for path in paths:
            if path.exists() and not path.resolve().is_relative_to(root):
                raise CorruptModelError(f"{path} links to a file outside the model folder; refused")

    check([directory / CHECKSUMS, *loaded_files(directory)])
    if not (directory / CHECKSUMS).is_file():
        return None
    sums = read_checksums(directory)
    check(directory / name for name in sorted(sums))
    return sums


def _inside(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and name != "." and "\\" not in name and not path.is_absolute() and ".." not in path.parts


def write_checksums(directory: Path) -> None:
    """SHA-256 of every file a model loads, so a bundled or copied model can be verified offline."""
    from cfgen.files import sha256_of

    directory = Path(directory)
    sums = {path.relative_to(directory).as_posix(): sha256_of(path) for path in loaded_files(directory)}
    (directory / CHECKSUMS).write_text(json.dumps(sums, indent=1) + "\n", encoding="utf-8")


def read_checksums(directory: Path) -> dict[str, str]:
    """checksums.json as {relative path: SHA-256}, refused if malformed or naming files outside the directory."""
    path = Path(directory) / CHECKSUMS
    sums = read_json(path)
    if not isinstance(sums, dict) or not all(isinstance(v, str) and SHA256.fullmatch(v) for v in sums.values()):
        raise CorruptModelError(f"{path} must map file names to SHA-256 hex digests")
    outside = [name for name in sums if not _inside(name)]
    if outside:
        raise CorruptModelError(f"{path} names a file outside the model folder ({outside[0][:80]!r}); refused")
    return sums


def verify_checksums(directory: Path, required: bool = True, sums: dict[str, str] | None = None) -> None:
    """Every file the model loads is listed in checksums.json and matches its SHA-256.

    Without checksums.json the model is refused unless `required` is False (the user's --allow-unverified).
    `sums`: checksums.json already read (check_confined), else it is read here.
    """
    from cfgen.files import sha256_of

    directory = Path(directory)
    if not (directory / CHECKSUMS).is_file():
        if required:
            raise CorruptModelError(f"{directory} has no {CHECKSUMS}, so its files cannot be verified; "
                                    "re-export it with cfgen export, or pass --allow-unverified if you trust it")
        return
    sums = sums if sums is not None else read_checksums(directory)
    for path in loaded_files(directory):
        if path.relative_to(directory).as_posix() not in sums:
            raise CorruptModelError(f"{path} is not covered by {CHECKSUMS}; refused")
    for name, expected in sums.items():
        path = directory / name
        if not path.is_file():
            raise ModelNotAvailableError(f"{path} is missing")
        if sha256_of(path) != expected:
            raise CorruptModelError(f"{path} does not match its SHA-256 in {CHECKSUMS}: the file is corrupt")


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
            if not all(lang in LANGUAGES and type(v) in (int, float) and 0.0 <= v <= 1.0 for lang, v in chosen.items()):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CorruptModelError(f"{path} is not a valid generation config") from None
    return {lang: float(chosen.get(lang, FALLBACK_STRENGTH)) for lang in LANGUAGES}


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
        files = sorted(directory.glob(WEIGHTS_PATTERN))
        if not files:
            raise ModelNotAvailableError(f"{directory} has no model.safetensors")
        with uninitialised():  # on the meta device: a lying config allocates nothing
            network = CodeFusionModel(config)
        check_shapes(weight_shapes(files), module_shapes(network), directory / CONFIG)
        network.load_state_dict(read_tensors(files), strict=True, assign=True)  # only what the files hold
    network = network.half() if device.startswith("cuda") else network.float()
    return network.to(device).eval(), tokenizer


# -- saving ---------------------------------------------------------------------------------------

def is_cfgen_folder(directory: Path) -> bool:
    directory = Path(directory)
    return ((directory / CONFIG).is_file() and (directory / CHECKSUMS).is_file()) or (directory / CHECKPOINTS).is_dir() \
        or (directory / RUN_LOCK).is_file()


def check_output_folder(directory: Path, overwrite: bool) -> None:
    """Refuse to write a model into a folder holding anything but an earlier cfgen model (that one only with
    `overwrite`)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    if not directory.is_dir() or not any(p.name != RUN_LOCK for p in directory.iterdir()):
        return
    if not is_cfgen_folder(directory):
        raise UsageError(f"{directory} is not empty and holds no cfgen model; choose a new or empty folder")
    if not overwrite:
        raise UsageError(f"{directory} already holds a cfgen model; pass --overwrite to replace it, or choose another folder")


def save_model(network, tokenizer, directory: Path, max_shard_size: str | int = "16MB", half: bool = False,
               index=None, strengths: dict[str, float] | None = None) -> None:
    """Write a model directory beside `directory`, then publish it there (files.publish).

    The caller holds the folder's RunLock and has checked it may write there.
    Of what is already there, only the files listed in its checksums.json and
    the model card are replaced or removed.
    """
    import copy

    from cfgen.card import model_card

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
            (staging / GENERATION_CONFIG).write_text(json.dumps({"strength": strengths}, indent=1) + "\n",
                                                     encoding="utf-8")
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
