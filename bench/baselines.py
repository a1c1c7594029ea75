"""Baselines that bench scripts print beside cfgen (not part of the installed tool)."""

from __future__ import annotations

from cfgen.training.data import Pair
from cfgen.ranking import RankedCandidate
from cfgen.retrieval.index import RetrievalIndex


class RetrievalPredictor:
    """The floor: the code of the nearest training utterances under plain MiniLM pooling, ranked like model output."""

    def __init__(self, train: list[Pair], encoder, lang: str) -> None:
        from cfgen.encoding.encodings import cached_encodings

        self.encoder, self.lang = encoder, lang
        self.index = RetrievalIndex.build(train, cached_encodings([p.nl for p in train], lambda: encoder))

    def __call__(self, queries: list[str], k: int = 5) -> list[list[RankedCandidate]]:
        return self.index.nearest_programs(self.encoder.encode(queries), self.lang, k)
