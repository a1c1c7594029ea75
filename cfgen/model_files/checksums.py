"""A model folder's file names, and the checksums that vouch for the files a model loads.

Contracts: every file loading reads is listed in `checksums.json` with its SHA-256 (unless the caller allows an
unverified model explicitly); its entries may only name files inside the folder; no file a model loads may be a
link that leads out of it (a Hugging Face cache snapshot may link into its own repository's blobs).
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from cfgen.errors import CorruptModelError, ModelNotAvailableError
from cfgen.model_files.files import read_json

CONFIG, TOKENIZER, CHECKSUMS, CARD = "config.json", "tokenizer.json", "checksums.json", "README.md"
GENERATION_CONFIG = "generation_config.json"
WEIGHTS_PATTERN = "model*.safetensors"
SHARD_INDEX = "model.safetensors.index.json"
CHECKPOINTS = "checkpoints"  # a training run's, beside the model files
BEST = "best"  # a run's model of the lowest dev loss (cfgen train --keep-best)
LOADED = ("*.safetensors", SHARD_INDEX, CONFIG, TOKENIZER, GENERATION_CONFIG, "retrieval/*")
SHA256 = re.compile(r"[0-9a-f]{64}")


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


def inside(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and name != "." and "\\" not in name and not path.is_absolute() and ".." not in path.parts


def write_checksums(directory: Path) -> None:
    """SHA-256 of every file a model loads, so a bundled or copied model can be verified offline."""
    from cfgen.model_files.files import sha256_of

    directory = Path(directory)
    sums = {path.relative_to(directory).as_posix(): sha256_of(path) for path in loaded_files(directory)}
    (directory / CHECKSUMS).write_text(json.dumps(sums, indent=1) + "\n", encoding="utf-8")


def read_checksums(directory: Path) -> dict[str, str]:
    """checksums.json as {relative path: SHA-256}, refused if malformed or naming files outside the directory."""
    path = Path(directory) / CHECKSUMS
    sums = read_json(path)
    if not isinstance(sums, dict) or not all(isinstance(v, str) and SHA256.fullmatch(v) for v in sums.values()):
        raise CorruptModelError(f"{path} must map file names to SHA-256 hex digests")
    outside = [name for name in sums if not inside(name)]
    if outside:
        raise CorruptModelError(f"{path} names a file outside the model folder ({outside[0][:80]!r}); refused")
    return sums


def verify_checksums(directory: Path, required: bool = True, sums: dict[str, str] | None = None) -> None:
    """Every file the model loads is listed in checksums.json and matches its SHA-256.

    Without checksums.json the model is refused unless `required` is False (the user's --allow-unverified).
    `sums`: checksums.json already read (check_confined), else it is read here.
    """
    from cfgen.model_files.files import sha256_of

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
