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

        self.device = device
        self.network, self.tokenizer = load_model(model_directory, device)
        self.diffusion = GaussianDiffusion(self.network.config.diffusion_steps, self.network.config.schedule)
        self.encoder = encoder or shared_encoder(device)

    def generate(
        self,
        queries: list[str],
        lang: str,
        num_candidates: int = 5,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        batch_size: int = 32,
    ) -> list[list[Candidate]]:
        """`num_candidates` candidates per query, in noise-draw order."""
        check_language(lang)
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
            sampled = sample(
                self.network, self.diffusion, memory, padding,
                tag_id=self.tokenizer.tag_ids[lang], end_id=self.tokenizer.end_id,
                length=length, num_candidates=num_candidates, steps=steps, seed=seed,
            )
            for sequences in sampled:
                results.append([Candidate(self.tokenizer.decode(s.tokens), s.score) for s in sequences])
        return results
