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
import shutil
import tempfile
from pathlib import Path

from cfgen.errors import (
    CorruptModelError,
    ModelNotAvailableError,
    NetworkError,
    OfflineCacheMissError,
    UnknownModelError,
)

logger = logging.getLogger(__name__)

GENERATION_CONFIG = "generation_config.json"  # default edit strengths per language, chosen on dev
MODEL_FILES = ["config.json", "*.safetensors", "model.safetensors.index.json", "tokenizer.json", "checksums.json",
               "generation_config.json", "retrieval/*"]


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
    return pull(repo_id, revision or None)


def pull(repo_id: str, revision: str | None = None, progress: bool = False) -> Path:
    """Download (or find in the HF cache) a model snapshot, then verify its weights' hashes."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_id}@{revision}" if revision else repo_id
    enable_progress_bars() if progress else disable_progress_bars()
    try:
        directory = Path(snapshot_download(repo_id, revision=revision, allow_patterns=MODEL_FILES))
    except RevisionNotFoundError:
        raise UnknownModelError(f"{repo_id} has no revision {revision!r} on the Hub") from None
    except RepositoryNotFoundError:
        raise UnknownModelError(f"no model repository {repo_id} on the Hub (or it is private: set HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        if _offline():
            raise OfflineCacheMissError(f"{where} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; "
                                        "unset it and run cfgen pull first") from None
        raise NetworkError(f"cannot reach the Hub for {where}, and it is not cached; check the network or HF_ENDPOINT") from None
    except HfHubHTTPError as error:
        raise NetworkError(f"the Hub answered {where} with an error: {str(error).splitlines()[0]}") from None
    except (OSError, ValueError) as error:  # broken-off transfers, size mismatches, connection resets
        raise NetworkError(f"downloading {where} failed ({str(error).splitlines()[0]}); run again to resume") from None
    if not (directory / "config.json").is_file():
        raise ModelNotAvailableError(f"{where} has no config.json: not a cfgen model")
    verify_cached_snapshot(directory)
    return directory


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def verify_cached_snapshot(directory: Path) -> None:
    """Weights in the HF cache are blobs named by their SHA-256 (the LFS etag): check content against name.

    huggingface_hub checks sizes, not contents; a corrupt blob is removed so the next pull fetches it again.
    """
    from cfgen.encoder import sha256_of

    for link in directory.rglob("*.safetensors"):
        blob = link.resolve()
        expected = blob.name
        if len(expected) == 64 and all(c in "0123456789abcdef" for c in expected):
            if sha256_of(blob) != expected:
                blob.unlink(missing_ok=True)
                link.unlink(missing_ok=True)
                raise CorruptModelError(f"{link.name} of {directory.parent.parent.name} failed its SHA-256 check and was "
                                        "removed; run cfgen pull again")


def load_model(directory: Path, device: str = "cpu"):
    """(network, tokenizer) from a model directory; float16 on CUDA, float32 on CPU."""
    from safetensors import SafetensorError

    from cfgen.model import CodeFusionModel
    from cfgen.tokenizer import CodeTokenizer

    directory = Path(directory)
    if not (directory / "config.json").is_file():
        raise ModelNotAvailableError(f"{directory} is not a model directory (no config.json)")
    verify_checksums(directory)
    try:
        json.loads((directory / "config.json").read_text(encoding="utf-8"))
        tokenizer = CodeTokenizer.load(directory)
        network = CodeFusionModel.from_pretrained(str(directory))
    except (SafetensorError, json.JSONDecodeError) as error:
        raise CorruptModelError(f"model files in {directory} are corrupt ({error})") from None
    except (OSError, RuntimeError, ValueError, TypeError, KeyError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelNotAvailableError(f"cannot load the model in {directory}: {message}") from None
    if tokenizer.vocab_size != network.config.vocab_size:
        raise ModelNotAvailableError(f"{directory}: tokenizer.json does not match config.json (vocabulary size)")
    if device.startswith("cuda"):
        network = network.half()
    return network.to(device).eval(), tokenizer


def save_model(network, tokenizer, directory: Path, max_shard_size: str | int = "16MB", half: bool = False,
               index=None, strengths: dict[str, float] | None = None) -> None:
    """Write a model directory (its retrieval index, its generation strengths), each file replaced atomically."""
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
        (staging_path / "README.md").write_text(model_card(target), encoding="utf-8")
        if index is not None:
            index.save(staging_path)
        if strengths:
            (staging_path / GENERATION_CONFIG).write_text(json.dumps({"strength": strengths}, indent=1) + "\n", encoding="utf-8")
        write_checksums(staging_path)
        fresh = {path.name for path in staging_path.iterdir()}
        for path in staging_path.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)  # temp files are private; a model is for all users
        for name in fresh:
            if (directory / name).is_dir():
                shutil.rmtree(directory / name)
            os.replace(staging_path / name, directory / name)
        for stale in directory.glob("model*.safetensors*"):
            if stale.name not in fresh:  # shards of an earlier, differently sharded save
                stale.unlink()


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


CHECKSUMS = "checksums.json"
VERIFIED = ("*.safetensors", "config.json", "tokenizer.json", "generation_config.json", "retrieval/*")


def write_checksums(directory: Path) -> None:
    """SHA-256 of every file a model loads, so a bundled or copied model can be verified offline."""
    from cfgen.encoder import sha256_of

    directory = Path(directory)
    paths = sorted({path for pattern in VERIFIED for path in directory.glob(pattern) if path.is_file()})
    sums = {path.relative_to(directory).as_posix(): sha256_of(path) for path in paths}
    (Path(directory) / CHECKSUMS).write_text(json.dumps(sums, indent=1) + "\n", encoding="utf-8")


def verify_checksums(directory: Path) -> None:
    from cfgen.encoder import sha256_of

    path = Path(directory) / CHECKSUMS
    if not path.is_file():
        return
    try:
        sums = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise CorruptModelError(f"{path} is corrupt") from None
    for name, expected in sums.items():
        weights = Path(directory) / name
        if not weights.is_file():
            raise ModelNotAvailableError(f"{weights} is missing")
        if sha256_of(weights) != expected:
            raise CorruptModelError(f"{weights} does not match its SHA-256 in {CHECKSUMS}: the file is corrupt")


def model_size_mb(directory: Path) -> float:
    """What loading the model reads: weights, tokenizer, retrieval index (not a run's checkpoints)."""
    files = [p for p in Path(directory).rglob("*") if p.is_file() and "checkpoints" not in p.relative_to(directory).parts]
    return sum(p.stat().st_size for p in files) / 1e6


def list_models() -> list[dict]:
    """Bundled, cached (HF cache, cfgen layout only) and locally trained models."""
    from cfgen.paths import runs_directory

    found = []
    if (bundled_directory() / "config.json").is_file():
        found.append(dict(name="default", source="bundled", revision="-", size_mb=model_size_mb(bundled_directory()),
                          path=str(bundled_directory())))
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir()
        repos = sorted(cache.repos, key=lambda r: r.repo_id)
    except Exception:  # no cache yet, or unreadable: nothing cached to list
        repos = []
    for repo in repos:
        if repo.repo_type != "model":
            continue
        for revision in sorted(repo.revisions, key=lambda r: r.commit_hash):
            names = {f.file_name for f in revision.files}
            if {"config.json", "tokenizer.json"} <= names:
                refs = ",".join(sorted(revision.refs)) or "-"
                found.append(dict(name=repo.repo_id, source="hub cache", revision=f"{revision.commit_hash[:12]} ({refs})",
                                  size_mb=revision.size_on_disk / 1e6, path=str(revision.snapshot_path)))
    runs = runs_directory()
    for run in sorted(runs.iterdir()) if runs.is_dir() else []:
        if (run / "config.json").is_file():
            found.append(dict(name=run.name, source="trained", revision="-", size_mb=model_size_mb(run), path=str(run)))
    return found
