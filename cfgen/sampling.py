"""Sampling a batch of queries' candidates from a denoising network, each scored by its mean log-probability."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cfgen.conditioning import Conditioning
from cfgen.processes import DenoisingNetwork, Process


@dataclass
class SampledSequence:
    tokens: list[int]  # argmax token per position, language tag first
    score: float  # mean log-probability of the tokens up to and including the end token


def sample(network: DenoisingNetwork, process: Process, condition: Conditioning, tag_id: int, end_id: int, length: int,
           num_candidates: int, steps: int, seed: int = 0, start_tokens: torch.Tensor | None = None,
           strength: float = 1.0, unconditional: Conditioning | None = None,
           guidance: float = 1.0) -> list[list[SampledSequence]]:
    """`num_candidates` sequences for each of Q queries (`condition` holds Q rows), all in one batch.

    With `start_tokens` (Q*n, L), the process edits those programs (how far: `strength`). An aligned model's
    j-th candidate reads its request's (j mod k)-th program position by position (the first the nearest), so
    that candidates start from different programs, as retrieval's do. `unconditional` (Q rows, the requests
    dropped) and `guidance`: classifier-free guidance (Process.generate).
    """
    queries = condition.memory.shape[0]
    candidates = condition.repeat(num_candidates, rotate_aligned=True)
    dropped = None if unconditional is None else unconditional.repeat(num_candidates, rotate_aligned=True)
    tokens, log_probs = process.generate(network, candidates, tag_id=tag_id, length=length,
                                         num_candidates=num_candidates, steps=steps, seed=seed,
                                         start_tokens=start_tokens, strength=strength, unconditional=dropped,
                                         guidance=guidance)
    sequences = [_score(tokens[i].tolist(), log_probs[i].tolist(), end_id) for i in range(tokens.shape[0])]
    return [sequences[q * num_candidates : (q + 1) * num_candidates] for q in range(queries)]


def _score(tokens: list[int], log_probs: list[float], end_id: int) -> SampledSequence:
    stop = tokens.index(end_id, 1) + 1 if end_id in tokens[1:] else len(tokens)
    kept = log_probs[1:stop] or [0.0]
    return SampledSequence(tokens=tokens, score=sum(kept) / len(kept))
