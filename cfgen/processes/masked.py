"""Absorbing-state (masked) diffusion over tokens, and its Mask-Predict reverse process.

Forward: at timestep t each code position (never the tag at 0) is replaced by
the network's mask vector with probability ratio(t); the network sees the
other tokens as they are and is trained with cross-entropy at the masked
positions (MDLM / LLaDA's objective without the 1/t weight, as in
Mask-Predict). Padding after the end token is a target like any other: the
network chooses the program's length.

Reverse (Mask-Predict, Ghazvininejad et al. 2019): from all positions masked,
predict every masked position, then mask again the least confident positions
(of all positions, so a later step can correct an early guess), fewer each
step, none after the last. Candidate 0 of each request takes the most likely
token; the others draw tokens at TEMPERATURE from per-candidate uniforms of
`Generator(seed)`, so a request's candidates do not depend on its batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cfgen.conditioning import Conditioning
from cfgen.processes import DenoisingNetwork, guided

# Time fraction u in (0, 1] -> fraction of positions masked.
SCHEDULES: dict[str, Callable[[float], float]] = {
    "linear": lambda u: u,
    "cosine": lambda u: math.sin(math.pi / 2 * u),  # MaskGIT's: few positions revealed in the first steps
}
DEFAULT_SCHEDULE = "cosine"
TEMPERATURE = 0.8  # of the sampled (not the first) candidates


def network_parameters(config) -> dict[str, nn.Parameter]:
    """What this process adds to a network: the mask vector, x_t's value at a masked position (a latent vector,
    not a token)."""
    return {"mask_vector": nn.Parameter(nn.init.normal_(torch.empty(config.latent_dim)))}


def embed_masked(network: DenoisingNetwork, tokens: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """L(tokens) with the network's mask vector (at L's norm, sqrt(C)) where `masked` (B, T) is True: (B, T, C)."""
    embedded = network.embed(tokens)
    mask_vector = F.normalize(network.mask_vector, dim=-1) * math.sqrt(network.mask_vector.shape[-1])
    return torch.where(masked[..., None], mask_vector.to(embedded.dtype), embedded)


class Process:
    def __init__(self, num_steps: int = 1200, schedule: str = DEFAULT_SCHEDULE) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {schedule!r} for the masked process; "
                             f"choose one of {', '.join(SCHEDULES)}")
        self.num_steps, self.ratio = num_steps, SCHEDULES[schedule]

    def timestep(self, u: float) -> int:
        """The integer timestep the network is told for time fraction u."""
        return min(self.num_steps - 1, max(0, round(u * self.num_steps) - 1))

    def training_losses(self, network: DenoisingNetwork, tokens: torch.Tensor, condition: Conditioning,
                        generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Cross-entropy at the masked positions; at least one code position is masked per row."""
        batch, length = tokens.shape
        t = torch.randint(0, self.num_steps, (batch,), generator=generator)
        masked = self.masked_positions(tokens, t, generator).to(tokens.device)
        logits = self._logits(network, tokens, masked, t.to(tokens.device), condition)
        losses = F.cross_entropy(logits.flatten(0, 1).float(), tokens.flatten(), reduction="none").view(batch, length)
        cross_entropy = (losses * masked).sum() / masked.sum()
        return {"cross_entropy": cross_entropy, "loss": cross_entropy}

    def masked_positions(self, tokens: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None):
        """Each code position masked with probability ratio(t), at least one per row, never the tag: (B, T) bool."""
        batch, length = tokens.shape
        ratio = torch.tensor([self.ratio((step + 1) / self.num_steps) for step in t.tolist()])
        masked = torch.rand((batch, length), generator=generator) < ratio[:, None]
        masked[torch.arange(batch), torch.randint(1, length, (batch,), generator=generator)] = True
        masked[:, 0] = False  # the language tag is given
        return masked

    def noised(self, network: DenoisingNetwork, tokens: torch.Tensor, t: torch.Tensor,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """x_t (B, T, C): tokens embedded, a ratio(t) share of their code positions masked."""
        return embed_masked(network, tokens, self.masked_positions(tokens, t.cpu(), generator).to(tokens.device))

    @staticmethod
    def _logits(network: DenoisingNetwork, tokens, masked, t, condition) -> torch.Tensor:
        x_start_hat = network.denoise(embed_masked(network, tokens, masked), t, None, condition)
        return network.logits(network.decode(x_start_hat, condition), condition)

    def _log_probs(self, network: DenoisingNetwork, tokens, masked, t, condition) -> torch.Tensor:
        return self._logits(network, tokens, masked, t, condition).float().log_softmax(dim=-1)

    @torch.inference_mode()
    def generate(self, network: DenoisingNetwork, condition: Conditioning, *, tag_id: int, length: int,
                 num_candidates: int, steps: int, seed: int = 0, start_tokens: torch.Tensor | None = None,
                 strength: float = 1.0, unconditional: Conditioning | None = None,
                 guidance: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens (B, L) and their log-probabilities for B = Q*num_candidates rows of `condition`.

        With `start_tokens` (B, L), only a `strength` share of their positions
        starts masked (chosen at random per candidate) and the rest is kept
        unless the network is unsure of it: an edit of those programs.
        """
        rows, device = condition.memory.shape[0], condition.memory.device
        draws = torch.rand((num_candidates, steps + 1, length), generator=torch.Generator().manual_seed(seed))
        draws = draws.repeat(rows // num_candidates, 1, 1).to(device)  # (B, steps+1, L)
        sampled_rows = (torch.arange(rows, device=device) % num_candidates != 0)[:, None]  # candidate 0 is greedy
        start = 1.0 if start_tokens is None else strength
        if start_tokens is None:
            tokens = torch.full((rows, length), tag_id, dtype=torch.long, device=device)
            masked = torch.ones((rows, length), dtype=torch.bool, device=device)
        else:
            tokens = start_tokens.to(device).clone()
            masked = draws[:, 0] < self.ratio(start)
        masked[:, 0] = False
        tokens[:, 0] = tag_id
        log_probs = torch.zeros((rows, length), device=device)
        for i in range(steps):
            u = start * (steps - i) / steps
            t = torch.full((rows,), self.timestep(u), dtype=torch.long, device=device)
            scores = self._log_probs(network, tokens, masked, t, condition)
            if unconditional is not None and guidance != 1.0:
                scores = guided(scores, self._log_probs(network, tokens, masked, t, unconditional), guidance)
                scores = scores.log_softmax(dim=-1)
            chosen = torch.where(sampled_rows, _draw(scores, draws[:, i + 1]), scores.argmax(dim=-1))
            tokens = torch.where(masked, chosen, tokens)
            log_probs = torch.where(masked, scores.gather(-1, chosen[..., None]).squeeze(-1), log_probs)
            masked = _least_confident(log_probs, math.floor(self.ratio(start * (steps - i - 1) / steps) * (length - 1)))
        return tokens, log_probs


def _draw(log_probs: torch.Tensor, uniforms: torch.Tensor) -> torch.Tensor:
    """A token per position drawn at TEMPERATURE by inverting the CDF at `uniforms` (B, L)."""
    probabilities = (log_probs / TEMPERATURE).softmax(dim=-1)
    cumulative = probabilities.cumsum(dim=-1)
    drawn = torch.searchsorted(cumulative, (uniforms * cumulative[..., -1]).unsqueeze(-1).contiguous())
    return drawn.squeeze(-1).clamp(max=log_probs.shape[-1] - 1)


def _least_confident(log_probs: torch.Tensor, count: int) -> torch.Tensor:
    """A mask of the `count` lowest-probability code positions per row (position 0 is never masked)."""
    masked = torch.zeros_like(log_probs, dtype=torch.bool)
    if count <= 0:
        return masked
    confidence = log_probs.clone()
    confidence[:, 0] = math.inf
    masked.scatter_(1, confidence.topk(count, dim=-1, largest=False).indices, True)
    return masked
