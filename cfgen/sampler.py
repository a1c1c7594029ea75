"""Reverse process: Gaussian noise -> x_0 estimate -> tokens, in any number of steps.

The network predicts x_0, so the sampler can jump between any two timesteps
(DDIM with eta = 0): from x_t and x_0-hat it recovers the implied noise and
re-noises x_0-hat to the next, lower timestep. The scheduler follows the
diffusers contract (`set_timesteps(n)`, then `step(...)`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cfgen.diffusion import DenoisingNetwork, GaussianDiffusion


class SkipStepScheduler:
    def __init__(self, diffusion: GaussianDiffusion) -> None:
        self.diffusion = diffusion
        self.timesteps: list[int] = []

    def set_timesteps(self, num_steps: int, start: int | None = None) -> None:
        """Evenly spaced timesteps from `start` (default T-1) down to 0, at most num_steps of them."""
        total = self.diffusion.num_steps
        start = total - 1 if start is None else start
        if not 1 <= num_steps <= total:
            raise ValueError(f"steps must be between 1 and {total}, got {num_steps}")
        if not 0 <= start < total:
            raise ValueError(f"start must be between 0 and {total - 1}, got {start}")
        if num_steps == 1:
            self.timesteps = [start]
            return
        spaced = torch.linspace(start, 0, min(num_steps, start + 1)).round().long().tolist()
        self.timesteps = sorted(set(spaced), reverse=True)

    def step(self, x_start_hat: torch.Tensor, t: int, t_next: int | None, x_t: torch.Tensor) -> torch.Tensor:
        """x_{t_next} from x_t and the x_0 estimate; the estimate itself when no step is left."""
        if t_next is None:
            return x_start_hat
        batch = x_t.shape[0]
        t_now = torch.full((batch,), t, dtype=torch.long, device=x_t.device)
        noise = self.diffusion.predict_noise(x_t, t_now, x_start_hat)
        t_after = torch.full((batch,), t_next, dtype=torch.long, device=x_t.device)
        return self.diffusion.q_sample(x_start_hat, t_after, noise)


@dataclass
class SampledSequence:
    tokens: list[int]  # argmax token per position, language tag first
    score: float  # mean log-probability of the tokens up to and including the end token


def initial_noise(num_queries: int, num_candidates: int, length: int, dim: int, seed: int) -> torch.Tensor:
    """Each query's candidates draw from Generator(seed): a query's result does not depend on its batch."""
    generator = torch.Generator().manual_seed(seed)
    one_query = torch.randn((num_candidates, length, dim), generator=generator)
    return one_query.repeat(num_queries, 1, 1)  # (Q*n, L, C)


@torch.inference_mode()
def sample(
    network: DenoisingNetwork,
    diffusion: GaussianDiffusion,
    memory: torch.Tensor,  # (Q, S, W)
    memory_padding: torch.Tensor,  # (Q, S)
    tag_id: int,
    end_id: int,
    length: int,
    num_candidates: int,
    steps: int,
    seed: int = 0,
    start_tokens: torch.Tensor | None = None,  # (Q*n, L): programs to start from instead of pure noise
    strength: float = 1.0,  # with start_tokens: how far into the noise to push them (1.0 = all the way)
    clamp: str = "none",  # round x_0-hat to token embeddings each step: none, nearest (L) or decoder (H(D(.)))
) -> list[list[SampledSequence]]:
    """`num_candidates` sequences for each of Q queries, all denoised in one batch.

    With `start_tokens`, the reverse process starts from those programs noised
    to timestep strength*(T-1) (SDEdit): the network edits rather than invents.
    """
    queries = memory.shape[0]
    memory = memory.repeat_interleave(num_candidates, dim=0)  # (Q*n, S, W)
    memory_padding = memory_padding.repeat_interleave(num_candidates, dim=0)
    tag = network.embed(torch.full((1, 1), tag_id, device=memory.device))  # (1, 1, C)
    x_t = initial_noise(queries, num_candidates, length, tag.shape[-1], seed).to(memory.device, memory.dtype)

    scheduler = SkipStepScheduler(diffusion)
    start = None
    if start_tokens is not None:
        start = round(strength * (diffusion.num_steps - 1))
        at_start = torch.full((x_t.shape[0],), start, dtype=torch.long, device=x_t.device)
        x_t = diffusion.q_sample(network.embed(start_tokens.to(memory.device)), at_start, x_t)
    scheduler.set_timesteps(steps, start)
    self_condition = None
    for index, t in enumerate(scheduler.timesteps):
        x_t = torch.cat([tag.expand(x_t.shape[0], 1, -1), x_t[:, 1:]], dim=1)  # the tag is known
        t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long, device=x_t.device)
        x_start_hat = network.denoise(x_t, t_batch, self_condition, memory, memory_padding)
        if clamp != "none":  # Diffusion-LM's clamping trick: commit to the nearest tokens
            hidden = network.decode(x_start_hat, memory, memory_padding) if clamp == "decoder" else x_start_hat
            x_start_hat = network.embed(network.logits(hidden).argmax(dim=-1))
        self_condition = x_start_hat
        t_next = scheduler.timesteps[index + 1] if index + 1 < len(scheduler.timesteps) else None
        x_t = scheduler.step(x_start_hat, t, t_next, x_t)

    log_probs = network.logits(network.decode(x_t, memory, memory_padding)).float().log_softmax(dim=-1)
    best, tokens = log_probs.max(dim=-1)  # (Q*n, L)
    tokens[:, 0] = tag_id  # position 0 is given, never predicted
    sequences = [_score(tokens[i].tolist(), best[i].tolist(), end_id) for i in range(tokens.shape[0])]
    return [sequences[q * num_candidates : (q + 1) * num_candidates] for q in range(queries)]


def _score(tokens: list[int], log_probs: list[float], end_id: int) -> SampledSequence:
    stop = tokens.index(end_id, 1) + 1 if end_id in tokens[1:] else len(tokens)
    kept = log_probs[1:stop] or [0.0]
    return SampledSequence(tokens=tokens, score=sum(kept) / len(kept))
