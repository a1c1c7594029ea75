"""Nearest-neighbour retrieval: the code of the most similar training utterances.

The floor any generator must clear (design.md §6), using the same frozen
encoder (mean-pooled, cosine similarity).
"""

from __future__ import annotations

import torch

from cfgen.data import Pair
from cfgen.ranking import RankedCandidate, rank
from cfgen.generate import Candidate


def sentence_vectors(encodings: list[torch.Tensor]) -> torch.Tensor:
    """Mean-pooled, unit-length sentence vectors from per-token states: (N, D)."""
    pooled = torch.stack([e.float().mean(dim=0) for e in encodings])
    return torch.nn.functional.normalize(pooled, dim=-1)


class RetrievalPredictor:
    def __init__(self, train: list[Pair], encoder, lang: str) -> None:
        from cfgen.encodings import cached_encodings

        self.train, self.encoder, self.lang = train, encoder, lang
        self.index = sentence_vectors(cached_encodings([p.nl for p in train], lambda: encoder))

    def __call__(self, queries: list[str], k: int = 5) -> list[list[RankedCandidate]]:
        similarity = sentence_vectors(self.encoder.encode(queries)) @ self.index.T  # (Q, N)
        scores, neighbours = similarity.topk(min(4 * k, len(self.train)), dim=-1)
        out = []
        for row_scores, row in zip(scores.tolist(), neighbours.tolist()):
            candidates = [Candidate(self.train[i].code, s) for i, s in zip(row, row_scores)]
            out.append(rank(candidates, self.lang)[:k])
        return out
