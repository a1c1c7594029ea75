"""Nearest-neighbour retrieval over training utterances.

Two uses: the baseline any generator must clear (design.md §6), and the
starting programs for retrieval-guided sampling (SDEdit: denoise a noised
neighbour's code instead of pure noise). The index ships in the model
directory as `retrieval/vectors.safetensors` (unit sentence vectors, float16)
and `retrieval/entries.json` (their code and language); a folder of its own,
so that the model's weights stay the directory's only top-level safetensors.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from cfgen.data import Pair
from cfgen.generate import Candidate
from cfgen.ranking import RankedCandidate, rank

FOLDER, VECTORS, ENTRIES = "retrieval", "vectors.safetensors", "entries.json"


def sentence_vectors(encodings: list[torch.Tensor]) -> torch.Tensor:
    """Mean-pooled, unit-length sentence vectors from per-token states: (N, D)."""
    pooled = torch.stack([e.float().mean(dim=0) for e in encodings])
    return torch.nn.functional.normalize(pooled, dim=-1)


class RetrievalIndex:
    def __init__(self, vectors: torch.Tensor, codes: list[str], langs: list[str]) -> None:
        self.vectors, self.codes, self.langs = vectors.float(), codes, langs
        self._rows: dict[str, list[int]] = {}  # each language's rows, found once

    @classmethod
    def build(cls, pairs: list[Pair], encodings: list[torch.Tensor]) -> "RetrievalIndex":
        return cls(sentence_vectors(encodings), [p.code for p in pairs], [p.lang for p in pairs])

    def save(self, directory: Path) -> None:
        directory = Path(directory) / FOLDER
        directory.mkdir(parents=True, exist_ok=True)
        save_file({"vectors": self.vectors.half().contiguous()}, str(directory / VECTORS))
        (directory / ENTRIES).write_text(json.dumps({"codes": self.codes, "langs": self.langs}), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "RetrievalIndex | None":
        directory = Path(directory) / FOLDER
        if not (directory / VECTORS).is_file() or not (directory / ENTRIES).is_file():
            return None
        entries = json.loads((directory / ENTRIES).read_text(encoding="utf-8"))
        return cls(load_file(str(directory / VECTORS))["vectors"], entries["codes"], entries["langs"])

    def neighbours(self, query_encodings: list[torch.Tensor], lang: str, k: int) -> list[list[tuple[str, float]]]:
        """Up to k (code, cosine) of the same language per query, most similar first."""
        if lang not in self._rows:
            self._rows[lang] = [i for i, l in enumerate(self.langs) if l == lang]
        mine = self._rows[lang]
        if not mine:
            return [[] for _ in query_encodings]
        similarity = sentence_vectors(query_encodings) @ self.vectors[mine].T  # (Q, N_lang)
        scores, order = similarity.topk(min(k, len(mine)), dim=-1)
        return [[(self.codes[mine[j]], s) for j, s in zip(row, row_scores)]
                for row, row_scores in zip(order.tolist(), scores.tolist())]

    def nearest_programs(self, query_encodings: list[torch.Tensor], lang: str, k: int) -> list[list[RankedCandidate]]:
        """Up to k distinct programs per query (by normal form), valid ones first, then most similar.

        Drawn from the 4k nearest, so that duplicates and broken programs leave k behind.
        """
        found = self.neighbours(query_encodings, lang, 4 * k)
        return [rank([Candidate(code, s) for code, s in row], lang)[:k] for row in found]


class RetrievalPredictor:
    """The baseline: the code of the nearest training utterances, ranked like model output."""

    def __init__(self, train: list[Pair], encoder, lang: str) -> None:
        from cfgen.encodings import cached_encodings

        self.encoder, self.lang = encoder, lang
        self.index = RetrievalIndex.build(train, cached_encodings([p.nl for p in train], lambda: encoder))

    def __call__(self, queries: list[str], k: int = 5) -> list[list[RankedCandidate]]:
        return self.index.nearest_programs(self.encoder.encode(queries), self.lang, k)
