"""E_s, the frozen encoder's per-token output: padding ragged ones into a batch, and their cache on disk.

The encoder is frozen, so each utterance is encoded once per machine; later
runs (and resumed runs) read the cache. The key covers the encoder's weights
hash and the exact texts, so a change in either re-encodes.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cfgen.encoding.encoder import WEIGHTS_SHA256

logger = logging.getLogger(__name__)


def pad_states(encodings: list[torch.Tensor], max_tokens: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged E_s (S_i, D) -> float32 states (B, S, D) padded to the longest (at most `max_tokens`) and a (B, S)
    mask, True on real tokens."""
    width = max(e.shape[0] for e in encodings)
    width = min(width, max_tokens) if max_tokens else width
    states = torch.zeros((len(encodings), width, encodings[0].shape[-1]))
    mask = torch.zeros((len(encodings), width), dtype=torch.bool)
    for row, encoding in enumerate(encodings):
        n = min(width, encoding.shape[0])
        states[row, :n], mask[row, :n] = encoding[:n].float(), True
    return states, mask


def cache_directory() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("cfgen")) / "encodings"


def _cache_key(texts: list[str]) -> str:
    digest = hashlib.sha256(WEIGHTS_SHA256.encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:32]


def _pack(encodings: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    lengths = torch.tensor([e.shape[0] for e in encodings], dtype=torch.int64)
    return {"hidden": torch.cat(encodings).contiguous(), "lengths": lengths}


def _unpack(packed: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.split(packed["hidden"], packed["lengths"].tolist()))


def cached_encodings(texts: list[str], make_encoder, directory: Path | None = None) -> list[torch.Tensor]:
    """E_s (S_i, D) float16 per text; `make_encoder()` is called only on a cache miss."""
    if not texts:
        return []
    path = (directory or cache_directory()) / f"{_cache_key(texts)}.safetensors"
    if path.is_file():
        try:
            encodings = _unpack(load_file(str(path)))
            if len(encodings) == len(texts):
                return encodings
        except (SafetensorError, OSError, RuntimeError, KeyError):
            logger.warning("encoding cache %s is unreadable; encoding again", path)
    logger.info("encoding %d texts with the NL encoder", len(texts))
    encodings = make_encoder().encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    save_file(_pack(encodings), str(temporary))
    os.replace(temporary, path)
    return encodings
