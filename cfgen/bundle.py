"""The model directory: its files, their checksums, loading, and publishing it safely.

A model directory is the Hugging Face layout: `config.json`,
`model.safetensors` (or shards plus `model.safetensors.index.json`),
`tokenizer.json`, `checksums.json`, optionally `generation_config.json` and
`retrieval/`. Contracts:
- nothing is loaded before `checksums.json` has vouched for every file that
  will be read (unless the caller explicitly allows an unverified model), and
  its entries may only name files inside the directory;
- `config.json` is checked against the weights' safetensors headers before
  any tensor is allocated;
- a directory is published under an exclusive lock (`.cfgen.lock`) that
  readers hold shared, so a reader never sees half of a save; files cfgen did
  not write are never replaced or deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Iterator

from cfgen.errors import CorruptModelError, ModelNotAvailableError, RunInUseError, UsageError

CONFIG, TOKENIZER, CHECKSUMS = "config.json", "tokenizer.json", "checksums.json"
GENERATION_CONFIG = "generation_config.json"  # default edit strengths per language, chosen on dev
CARD = "README.md"
LOADED = ("*.safetensors", "model.safetensors.index.json", CONFIG, TOKENIZER, GENERATION_CONFIG, "retrieval/*")
PUBLISH_LOCK, RUN_LOCK = ".cfgen.lock", ".cfgen-run.lock"
CHECKPOINTS = "checkpoints"
SHA256 = re.compile(r"[0-9a-f]{64}")


# -- reading files ------------------------------------------------------------------------

def read_json(path: Path) -> object:
    """A model file's JSON; any failure (missing, binary, malformed, nested too deep) names the file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelNotAvailableError(f"{path} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error).splitlines()[0]
        raise CorruptModelError(f"{path} is not valid JSON ({reason})") from None


def loaded_files(directory: Path) -> list[Path]:
    """Every file of the directory that loading the model reads."""
    directory = Path(directory)
    return sorted({path for pattern in LOADED for path in directory.glob(pattern) if path.is_file()})


def _inside(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and "\\" not in name and not path.is_absolute() and ".." not in path.parts and "." != name


def write_checksums(directory: Path) -> None:
    """SHA-256 of every file a model loads, so a bundled or copied model can be verified offline."""
    from cfgen.encoder import sha256_of

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


def verify_checksums(directory: Path, required: bool = True) -> None:
    """Every file the model loads is listed in checksums.json and matches its SHA-256.

    Without checksums.json the model is refused unless `required` is False
    (the user's explicit --allow-unverified).
    """
    from cfgen.encoder import sha256_of

    directory = Path(directory)
    if not (directory / CHECKSUMS).is_file():
        if required:
            raise CorruptModelError(f"{directory} has no {CHECKSUMS}, so its files cannot be verified; "
                                    "re-export it with cfgen export, or pass --allow-unverified if you trust it")
        return
    sums = read_checksums(directory)
    for path in loaded_files(directory):
        if path.relative_to(directory).as_posix() not in sums:
            raise CorruptModelError(f"{path} is not covered by {CHECKSUMS}; refused")
    for name, expected in sums.items():
        path = directory / name
        if not path.is_file():
            raise ModelNotAvailableError(f"{path} is missing")
        if sha256_of(path) != expected:
            raise CorruptModelError(f"{path} does not match its SHA-256 in {CHECKSUMS}: the file is corrupt")


# -- locks -----------------------------------------------------------------------------------

@contextlib.contextmanager
def reading(directory: Path) -> Iterator[None]:
    """Hold the directory's publish lock shared while its files are read (no lock file: nothing publishes there)."""
    lock = Path(directory) / PUBLISH_LOCK
    try:
        handle = open(lock, "rb")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield


@contextlib.contextmanager
def _publishing(directory: Path) -> Iterator[None]:
    with open(Path(directory) / PUBLISH_LOCK, "ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class RunLock:
    """An exclusive, non-blocking lock on a run or output folder for one writer process.

    The kernel drops it when the process ends, however it ends, so a crash never leaves the folder locked.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._handle = None

    def __enter__(self) -> "RunLock":
        self.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.directory / RUN_LOCK, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunInUseError(f"{self.directory} is in use by another cfgen process ({holder}); "
                                "wait for it to finish or choose another folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle
        _remove_stale_staging(self.directory)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


# -- what may be written where --------------------------------------------------------------

def is_cfgen_folder(directory: Path) -> bool:
    directory = Path(directory)
    return ((directory / CONFIG).is_file() and (directory / CHECKSUMS).is_file()) or (directory / CHECKPOINTS).is_dir() \
        or (directory / RUN_LOCK).is_file()


def check_output_folder(directory: Path, overwrite: bool) -> None:
    """Refuse to write a model into a folder holding anything but an earlier cfgen model (that one only with overwrite)."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} exists and is not a folder")
    if not directory.is_dir() or not any(p.name != RUN_LOCK for p in directory.iterdir()):
        return
    if not is_cfgen_folder(directory):
        raise UsageError(f"{directory} is not empty and holds no cfgen model; choose a new or empty folder")
    if not overwrite:
        raise UsageError(f"{directory} already holds a cfgen model; pass --overwrite to replace it, or choose another folder")


def _staging_prefix(directory: Path) -> str:
    return f".{directory.name}.staging-"


def staging_folder(directory: Path) -> Path:
    """A fresh folder beside `directory` (same file system) to write a model into before publishing it."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.parent / f"{_staging_prefix(directory)}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _remove_stale_staging(directory: Path) -> None:
    """Staging folders and temporary checkpoints that an earlier, killed writer of `directory` left behind."""
    for stale in directory.parent.glob(_staging_prefix(directory) + "*"):
        if not stale.name.endswith(f"-{os.getpid()}"):
            shutil.rmtree(stale, ignore_errors=True)
    for stale in (directory / CHECKPOINTS).glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def publish(staging: Path, directory: Path) -> None:
    """Move a staged model into `directory`: one rename into a new folder, else file by file under the publish lock.

    Of the files already there, only those cfgen wrote (listed in the old
    checksums.json, and the model card) are replaced or removed.
    """
    staging, directory = Path(staging), Path(directory)
    for path in staging.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # temp files are private; a model is for all users
    staging.chmod(0o755)
    if not directory.exists():
        os.rename(staging, directory)
        return
    with _publishing(directory):
        old = set(read_checksums(directory)) if (directory / CHECKSUMS).is_file() else set()
        fresh = {path.relative_to(staging).as_posix() for path in staging.rglob("*") if path.is_file()}
        for name in sorted(fresh - {CHECKSUMS}) + [CHECKSUMS]:  # checksums last: they vouch for the rest
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, directory / name)
        for name in old - fresh:
            (directory / name).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


# -- the model itself --------------------------------------------------------------------------

def load_config(directory: Path):
    from cfgen.config import ModelConfig, from_dict

    path = Path(directory) / CONFIG
    try:
        return from_dict(ModelConfig, read_json(path))
    except (TypeError, ValueError) as error:
        raise CorruptModelError(f"{path} is not a valid model config: {error}") from None


def load_tokenizer(directory: Path):
    from cfgen.tokenizer import CodeTokenizer

    path = Path(directory) / TOKENIZER
    if not path.is_file():
        raise ModelNotAvailableError(f"{path} is missing")
    try:
        return CodeTokenizer.load(directory)
    except Exception as error:  # the tokenizers library raises plain Exception for malformed files
        reason = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise CorruptModelError(f"{path} is not a valid tokenizer ({reason})") from None


def weight_shapes(paths: list[Path]) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, read from safetensors headers only (no tensor is loaded)."""
    from safetensors import SafetensorError, safe_open

    shapes = {}
    for path in paths:
        try:
            with safe_open(str(path), framework="pt") as handle:
                for name in handle.keys():
                    shapes[name] = tuple(handle.get_slice(name).get_shape())
        except (SafetensorError, OSError, ValueError) as error:
            raise CorruptModelError(f"{path} is not a valid safetensors file ({str(error).splitlines()[0][:200]}); "
                                    "it may be truncated") from None
    return shapes


def expected_shapes(module_factory) -> dict[str, tuple[int, ...]]:
    """The state dict shapes of a module built on the meta device: nothing is allocated."""
    import torch

    with torch.device("meta"):
        module = module_factory()
    return {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}


def check_shapes(found: dict, expected: dict, where: Path) -> None:
    for name in sorted(set(found) | set(expected)):
        if found.get(name) != expected.get(name):
            raise CorruptModelError(f"{where} does not match its weights: {name} is {found.get(name)} in the weights "
                                    f"but {expected.get(name)} by the config")


def _read_tensors(paths: list[Path]) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    tensors = {}
    for path in paths:
        try:
            tensors.update(load_file(str(path)))
        except (SafetensorError, OSError, ValueError) as error:
            raise CorruptModelError(f"{path} cannot be read ({str(error).splitlines()[0][:200]}); "
                                    "it may be truncated") from None
    return tensors


def _weight_files(directory: Path) -> list[Path]:
    files = sorted(Path(directory).glob("model*.safetensors"))
    if not files:
        raise ModelNotAvailableError(f"{directory} has no model.safetensors")
    return files


def load_model(directory: Path, device: str = "cpu", verify: bool = True):
    """(network, tokenizer) from a model directory; float16 on CUDA, float32 on CPU."""
    from cfgen.model import CodeFusionModel

    directory = Path(directory)
    if not (directory / CONFIG).is_file():
        raise ModelNotAvailableError(f"{directory} is not a model directory (no config.json)")
    with reading(directory):
        verify_checksums(directory, required=verify)
        config = load_config(directory)
        tokenizer = load_tokenizer(directory)
        if tokenizer.vocab_size != config.vocab_size:
            raise CorruptModelError(f"{directory}: tokenizer.json does not match config.json (vocabulary size)")
        files = _weight_files(directory)
        check_shapes(weight_shapes(files), expected_shapes(lambda: CodeFusionModel(config)), directory / CONFIG)
        network = CodeFusionModel(config)
        network.load_state_dict(_read_tensors(files), strict=True)
    if device.startswith("cuda"):
        network = network.half()
    return network.to(device).eval(), tokenizer


def save_model(network, tokenizer, directory: Path, max_shard_size: str | int = "16MB", half: bool = False,
               index=None, strengths: dict[str, float] | None = None) -> None:
    """Write a model directory (with its retrieval index and generation strengths) beside it, then publish it.

    The caller holds the folder's RunLock and has checked it may write there.
    """
    import copy

    directory = Path(directory)
    staging = staging_folder(directory)
    try:
        target = network.module if hasattr(network, "module") else network
        if half:
            target = copy.deepcopy(target).half()
        target.save_weights(staging, max_shard_size)
        target.config_to(staging / CONFIG)
        tokenizer.save(staging)
        (staging / CARD).write_text(model_card(target), encoding="utf-8")
        if index is not None:
            index.save(staging)
        if strengths:
            (staging / GENERATION_CONFIG).write_text(json.dumps({"strength": strengths}, indent=1) + "\n",
                                                     encoding="utf-8")
        write_checksums(staging)
        publish(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def model_size_mb(directory: Path) -> float:
    """What loading the model reads: weights, tokenizer, retrieval index (not a run's checkpoints)."""
    files = [p for p in Path(directory).rglob("*") if p.is_file() and CHECKPOINTS not in p.relative_to(directory).parts]
    return sum(p.stat().st_size for p in files) / 1e6


def model_card(network) -> str:
    config = network.config
    return f"""---
library_name: cfgen
license: mit
tags:
- code-generation
- diffusion
---

# cfgen model

A CodeFusion-style diffusion model (Singh et al., EMNLP 2023) for
[cfgen](https://pypi.org/project/cfgen-diffusion/): a plain-English request to
Bash, Python or Excel conditional-formatting rules. {network.parameter_count() / 1e6:.1f}M parameters
(denoiser {config.denoiser_layers}x{config.width}, decoder {config.decoder_layers}x{config.width},
{config.latent_dim}-dim latent, vocabulary {config.vocab_size}); the NL encoder is
all-MiniLM-L6-v2, loaded separately. `retrieval/` holds the training utterances'
sentence vectors, the values they name and their programs, which
retrieve-and-edit generation starts from (with the request's values put in),
and, where present, `head.safetensors`: a retrieval head trained to bring
together requests for the same kind of program. Trained on the CodeFusion benchmarks' train splits (microsoft/prose-benchmarks;
NL2Bash MIT, CoNaLa CC BY-SA 4.0). `checksums.json`: SHA-256 of every file.
"""
