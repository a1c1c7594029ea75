"""A batch of one language's requests, and what the networks read for it: the requests' encoder states, projected,
and, for a model that reads them, their nearest training programs (found once per batch). With classifier-free
guidance the conditioning comes as a pair: the same rows with the requests dropped as in training."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from cfgen.conditioning import Conditioning
from cfgen.encoding.encodings import pad_states
from cfgen.retrieval.neighbours import neighbour_ids, neighbour_tensors, retrieval_encodings
from cfgen.values.written_form import WrittenForm


@dataclass
class Batch:
    """One batch of one language's requests: what every candidate maker reads."""

    queries: list[str]
    lang: str
    encoded: list[torch.Tensor]  # E_s per request
    num_candidates: int
    steps: int
    seed: int
    guidance: float = 1.0  # classifier-free guidance scale (1: none)
    query_encodings: list[torch.Tensor] | None = None  # the requests as the index compares them, once found

    def subset(self, rows: list[int]) -> Batch:
        """The batch's requests `rows` (what is known of them kept)."""
        def pick(values):
            return None if values is None else [values[row] for row in rows]

        return Batch(pick(self.queries), self.lang, pick(self.encoded), self.num_candidates, self.steps, self.seed,
                     self.guidance, pick(self.query_encodings))


class Conditioner:
    """Builds the networks' view of a batch for one model (its network, tokenizer, index and NL encoder)."""

    def __init__(self, network, tokenizer, index, encoder, device: str) -> None:
        self.network, self.tokenizer, self.index, self.encoder, self.device = network, tokenizer, index, encoder, device

    def of(self, batch: Batch) -> tuple[Conditioning, Conditioning | None]:
        """The batch's conditioning, and with guidance (scale other than 1) the same rows with the requests
        dropped (the empty request's E_s, the same programs read); else None."""
        neighbours = self._neighbours(batch)
        condition = self._projected(batch.encoded, neighbours)
        if batch.guidance == 1.0:
            return condition, None
        return condition, self._projected([self._empty_request] * len(batch.queries), neighbours)

    def query_encodings(self, batch: Batch) -> list[torch.Tensor]:
        """The requests as the index compares them; found once per batch, kept in it."""
        if batch.query_encodings is None:
            batch.query_encodings = retrieval_encodings(self.index, self.encoder.encode, batch.queries, batch.encoded,
                                                        batch.lang)
        return batch.query_encodings

    def sample_length(self, lang: str) -> int:
        """How many positions (tag, code, end, padding) the sampler denoises for this language."""
        config = self.network.config
        return config.sample_lengths.get(lang, config.max_length)

    def _neighbours(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
        """(B, k, N) token ids of each request's k nearest training programs and their mask; for a model that
        reads none: (None, None)."""
        k = self.network.config.neighbours
        if not k:
            return None, None
        length = self.sample_length(batch.lang)
        rows = neighbour_ids(self.index, self.tokenizer, batch.queries, self.query_encodings(batch), batch.lang, k,
                             length, form=WrittenForm.of(self.network.config))
        neighbours, neighbour_mask = neighbour_tensors(rows, k, length, self.tokenizer.pad_id)
        return neighbours.to(self.device), neighbour_mask.to(self.device)

    def _projected(self, encoded: list[torch.Tensor], neighbours: tuple) -> Conditioning:
        states, mask = pad_states(encoded)
        dtype = next(self.network.parameters()).dtype
        with torch.inference_mode():
            return self.network.condition(states.to(self.device, dtype), mask.to(self.device), *neighbours)

    @functools.cached_property
    def _empty_request(self) -> torch.Tensor:
        """E_s of "": what a model trained with request dropout saw in place of a request."""
        return self.encoder.encode([""])[0]
