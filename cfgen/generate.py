"""Requests -> code candidates: encoder, sampler and tokenizer put together."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from cfgen.data import check_language
from cfgen.diffusion import GaussianDiffusion
from cfgen.sampler import sample

DEFAULT_STEPS = 20
# Retrieval-guided start for models that ship a retrieval index. Chosen on dev
# (README, "Retrieval guidance"): 0.1 was best on CF; from pure noise (1.0)
# the 2,500-step CPU model wrote no valid rule.
DEFAULT_STRENGTH = 0.1


@dataclass(frozen=True)
class Candidate:
    code: str
    score: float  # mean token log-probability under the model (higher is better)


@functools.lru_cache(maxsize=2)
def shared_encoder(device: str):
    """One NL encoder per device per process (loading it costs more than a query)."""
    from cfgen.encoder import TextEncoder

    return TextEncoder(device=device)


class CodeGenerator:
    def __init__(self, model_directory: Path, device: str = "cpu", encoder=None) -> None:
        from cfgen.hub import load_model

        from cfgen.retrieval import RetrievalIndex

        self.device = device
        self.network, self.tokenizer = load_model(model_directory, device)
        self.diffusion = GaussianDiffusion(self.network.config.diffusion_steps, self.network.config.schedule)
        self.encoder = encoder or shared_encoder(device)
        self.index = RetrievalIndex.load(model_directory)  # None: no retrieval guidance available

    def generate(
        self,
        queries: list[str],
        lang: str,
        num_candidates: int = 5,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        batch_size: int = 32,
        strength: float | None = None,
    ) -> list[list[Candidate]]:
        """`num_candidates` candidates per query, in noise-draw order.

        strength < 1 (and a retrieval index in the model directory): candidate i
        starts from the i-th nearest training program noised to that strength.
        """
        check_language(lang)
        strength = self.effective_strength(strength)
        config = self.network.config
        length = config.sample_lengths.get(lang, config.max_length)
        dtype = next(self.network.parameters()).dtype
        results: list[list[Candidate]] = []
        for start in range(0, len(queries), batch_size):
            chunk = queries[start : start + batch_size]
            encoded = self.encoder.encode(chunk)
            width = max(e.shape[0] for e in encoded)
            states = torch.zeros((len(chunk), width, encoded[0].shape[-1]))
            mask = torch.zeros((len(chunk), width), dtype=torch.bool)
            for row, e in enumerate(encoded):
                states[row, : e.shape[0]], mask[row, : e.shape[0]] = e.float(), True
            with torch.inference_mode():
                memory, padding = self.network.condition(states.to(self.device, dtype), mask.to(self.device))
            start_tokens = None
            if strength < 1.0 and self.index is not None:
                start_tokens = self._start_tokens(encoded, lang, num_candidates, length)
            sampled = sample(
                self.network, self.diffusion, memory, padding,
                tag_id=self.tokenizer.tag_ids[lang], end_id=self.tokenizer.end_id,
                length=length, num_candidates=num_candidates, steps=steps, seed=seed,
                start_tokens=start_tokens, strength=strength,
            )
            for sequences in sampled:
                results.append([Candidate(self.tokenizer.decode(s.tokens), s.score) for s in sequences])
        return results

    def effective_strength(self, strength: float | None) -> float:
        """1.0 (pure noise) without an index; the default guidance with one, unless told otherwise."""
        if self.index is None:
            return 1.0
        return DEFAULT_STRENGTH if strength is None else strength

    def _start_tokens(self, encoded, lang: str, num_candidates: int, length: int) -> torch.Tensor:
        """(Q*n, length): each query's nearest training programs, padded, cycling if there are fewer than n."""
        rows = []
        for found in self.index.neighbours(encoded, lang, num_candidates):
            codes = [code for code, _ in found] or [""]
            for i in range(num_candidates):
                ids = self.tokenizer.encode(codes[i % len(codes)], lang, length).ids
                rows.append(ids + [self.tokenizer.pad_id] * (length - len(ids)))
        return torch.tensor(rows, dtype=torch.long)
