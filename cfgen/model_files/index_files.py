"""How a retrieval index is stored: its files (`IndexFiles`, named by the model bundle), its matrices as int8
along their principal directions (`stored`, `restored`), and the checks that entries.json fits the vectors.

Contract: `restored(stored(v))` gives unit vectors whose cosines are within about 0.003 of `v`'s, in the
kept directions' coordinates for a large matrix (a query is projected onto its basis instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from cfgen.errors import CorruptModelError


class IndexFiles(NamedTuple):
    """Where an index is stored; the model bundle chooses the names (`bundle.index_files`)."""

    vectors: Path  # safetensors: vectors, and where present masked_vectors, tuned_vectors
    entries: Path  # JSON: codes, langs, values, masked, requests
    head: Path  # safetensors: the retrieval head, if any


SCALE = ".scale"  # beside an int8 matrix of unit row vectors: each row's float16 scale
BASIS = ".basis"  # beside a matrix stored in fewer dimensions: the directions it keeps, (full dims, kept dims)
# Dimensions a large matrix keeps on disk: its principal directions (measured on bash dev, NL2Bash and tldr pages:
# rankings as with all 384; bench/bash_corpora.py). Small matrices are stored whole.
KEPT_DIMS = 192


def stored(vectors: torch.Tensor, basis: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Unit row vectors as written to disk: over 4*KEPT_DIMS rows, their coordinates along the KEPT_DIMS
    principal directions (renormalised), as int8 with a scale per row (an eighth of float32's bytes; cosines
    move by about 0.003 for int8, rankings hold); smaller matrices in all their dimensions, as int8. Vectors
    already in a basis's coordinates (`basis`: full dims x kept dims) are kept in it."""
    vectors = vectors.float()
    parts = {} if basis is None else {BASIS: basis.half()}
    if basis is None and vectors.shape[0] > 4 * KEPT_DIMS and vectors.shape[1] > KEPT_DIMS:
        basis = torch.linalg.svd(vectors, full_matrices=False).Vh[:KEPT_DIMS].T.contiguous()  # (D, KEPT_DIMS)
        vectors = torch.nn.functional.normalize(vectors @ basis, dim=-1)
        parts[BASIS] = basis.half()
    scale = vectors.abs().amax(dim=1).clamp_min(1e-8) / 127
    parts[""] = (vectors / scale[:, None]).round().to(torch.int8).contiguous()
    parts[SCALE] = scale.half().contiguous()
    return parts


def restored(tensors: dict[str, torch.Tensor], path: Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The index's matrices as float32 unit vectors (int8 ones times their rows' scales; float16 ones, of older
    indexes, as they are), and the bases of those stored in fewer dimensions, which stay in them: a query is
    projected instead (the same cosines, and no reconstruction at load). CorruptModelError if an int8 matrix
    lacks a fitting scale or basis."""
    result, bases = {}, {}
    for name, tensor in tensors.items():
        if name.endswith((SCALE, BASIS)):
            continue
        if tensor.dtype == torch.int8:
            scale, basis = tensors.get(name + SCALE), tensors.get(name + BASIS)
            if scale is None or scale.dtype == torch.int8 or tuple(scale.shape) != (tensor.shape[0],):
                raise CorruptModelError(f"{path} holds the int8 matrix {name} without a scale per row")
            tensor = tensor.float() * scale.float()[:, None]
            if basis is not None:
                if basis.dim() != 2 or basis.shape[1] != tensor.shape[1] or basis.dtype == torch.int8:
                    raise CorruptModelError(f"{path} holds a basis for {name} that does not fit it")
                bases[name] = basis.float()
        result[name] = tensor.float()
    return result, bases


def full_shapes(shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """The stored matrices' shapes in the encoder's dimensions (those stored in fewer: as their basis gives)."""
    full = {}
    for name, shape in shapes.items():
        basis = shapes.get(name + BASIS)
        full[name] = (shape[0], basis[0]) if basis is not None and len(shape) == 2 and len(basis) == 2 else shape
    return full


def check_entries(entries: object, shapes: dict, files: IndexFiles) -> None:
    """entries.json's lists agree with each other and with the vectors' shapes."""
    from cfgen.languages import language_names

    def fail(reason: str):
        raise CorruptModelError(f"{files.entries} does not match {files.vectors.name}: {reason}")

    if (
        not isinstance(entries, dict)
        or not isinstance(entries.get("codes"), list)
        or not isinstance(entries.get("langs"), list)
    ):
        fail("it must be an object with lists 'codes' and 'langs'")
    codes, langs = entries["codes"], entries["langs"]
    if not all(isinstance(c, str) for c in codes) or not all(l in language_names() for l in langs):
        fail("codes must be text and langs known languages")
    vectors = shapes.get("vectors")
    if vectors is None or len(vectors) != 2 or not len(codes) == len(langs) == vectors[0]:
        fail(f"{len(codes)} codes and {len(langs)} languages for vectors of shape {vectors}")
    values = entries.get("values")
    if values is not None and not (
        isinstance(values, list)
        and len(values) == len(codes)
        and all(
            isinstance(row, list)
            and all(isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v) for v in row)
            for row in values
        )
    ):
        fail("values must hold one list of (kind, value) pairs per program")
    pages = entries.get("pages") or []
    if not isinstance(pages, list) or not all(type(row) is int and 0 <= row < len(codes) for row in pages):
        fail("pages must list row numbers")
    requests = entries.get("requests")
    if requests is not None and not (
        isinstance(requests, list) and len(requests) == len(codes) and all(isinstance(r, str) for r in requests)
    ):
        fail("requests must hold one text per program")
    masked = entries.get("masked") or []
    if not isinstance(masked, list) or not all(m in language_names() for m in masked):
        fail("masked must list known languages")
    masked_rows = sum(lang in masked for lang in langs)
    if masked and "masked_vectors" in shapes and shapes["masked_vectors"] != (masked_rows, vectors[1]):
        fail(f"masked_vectors has shape {shapes['masked_vectors']}, not ({masked_rows}, {vectors[1]})")
