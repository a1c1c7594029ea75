"""Model specs -> local model directories, and loading/saving those directories.

A model directory is the Hugging Face layout: `config.json`,
`model.safetensors` (or shards plus `model.safetensors.index.json`) and
`tokenizer.json`. A spec is a local directory or a Hub repo id with an
optional `@revision`; downloads go through huggingface_hub and its cache.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from cfgen.errors import ModelNotAvailableError

logger = logging.getLogger(__name__)

MODEL_FILES = ["config.json", "*.safetensors", "model.safetensors.index.json", "tokenizer.json"]


def bundled_directory() -> Path:
    return Path(__file__).resolve().parent / "weights" / "default"


def default_model_directory() -> Path:
    """The model shipped inside the package (no network needed)."""
    directory = bundled_directory()
    if not (directory / "config.json").is_file():
        raise ModelNotAvailableError(
            "this install has no bundled model; train one (cfgen train NAME --data DIR) and pass --model NAME, "
            "or download one with cfgen pull OWNER/NAME"
        )
    return directory


def resolve_model_directory(spec: str | os.PathLike) -> Path:
    """A local directory as is; a bare name as a `cfgen train` run; `owner/name[@revision]` through the Hub cache."""
    local = Path(spec).expanduser()
    if local.is_dir():
        return local
    spec = str(spec)
    if "/" not in spec and "@" not in spec:
        from cfgen.paths import runs_directory

        trained = runs_directory() / spec
        if trained.is_dir():
            return trained
        raise ModelNotAvailableError(f"no model named {spec!r}: not a directory, nor a run of `cfgen train`")
    repo_id, _, revision = spec.partition("@")
    if spec.startswith((".", "/", "~")) or repo_id.count("/") != 1:
        raise ModelNotAvailableError(f"model {spec!r} is neither a directory nor a Hub repo id (owner/name[@revision])")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, revision=revision or None, allow_patterns=MODEL_FILES))
    except Exception as error:
        raise ModelNotAvailableError(f"cannot get model {spec} from the Hub ({type(error).__name__}: {error})") from None


def load_model(directory: Path, device: str = "cpu"):
    """(network, tokenizer) from a model directory; float16 on CUDA, float32 on CPU."""
    from safetensors import SafetensorError

    from cfgen.model import CodeFusionModel
    from cfgen.tokenizer import CodeTokenizer

    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise ModelNotAvailableError(f"{directory} is not a model directory (no config.json)")
    try:
        json.loads((directory / "config.json").read_text(encoding="utf-8"))
        tokenizer = CodeTokenizer.load(directory)
        network = CodeFusionModel.from_pretrained(str(directory))
    except (SafetensorError, json.JSONDecodeError) as error:
        raise ModelNotAvailableError(f"model files in {directory} are corrupt ({error})") from None
    except (OSError, RuntimeError, ValueError, TypeError, KeyError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelNotAvailableError(f"cannot load the model in {directory}: {message}") from None
    if tokenizer.vocab_size != network.config.vocab_size:
        raise ModelNotAvailableError(f"{directory}: tokenizer.json does not match config.json (vocabulary size)")
    if device.startswith("cuda"):
        network = network.half()
    return network.to(device).eval(), tokenizer


def save_model(network, tokenizer, directory: Path, max_shard_size: str | int = "16MB", half: bool = False) -> None:
    """Write a model directory, each file replaced atomically (readers never see half a file)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".save-") as staging:
        staging_path = Path(staging)
        target = network.module if hasattr(network, "module") else network
        if half:
            import copy

            target = copy.deepcopy(target).half()
        target._max_shard_size = max_shard_size
        target.save_pretrained(staging_path, config=target.config)
        tokenizer.save(staging_path)
        fresh = {path.name for path in staging_path.iterdir()}
        for name in fresh:
            os.replace(staging_path / name, directory / name)
        for stale in directory.glob("model*.safetensors*"):
            if stale.name not in fresh:  # shards of an earlier, differently sharded save
                stale.unlink()
