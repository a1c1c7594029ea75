"""The Gaussian diffusion process over code embeddings, and its training loss.

A plain object in the style of improved-diffusion: it holds the schedule and
its methods take the network as an argument (any object with the
`DenoisingNetwork` methods), so it can be tested with a fake denoiser.
The network predicts x_0 directly; position 0 holds the language tag and is
never noised.
"""

from __future__ import annotations

import math
from typing import Callable, Protocol

import torch
import torch.nn.functional as F


class DenoisingNetwork(Protocol):
    def embed(self, tokens: torch.Tensor) -> torch.Tensor: ...
    def denoise(self, x_t, t, self_condition, memory, memory_padding) -> torch.Tensor: ...
    def decode(self, x_start, memory, memory_padding) -> torch.Tensor: ...
    def logits(self, hidden: torch.Tensor) -> torch.Tensor: ...


def sqrt_alpha_bar(t: float) -> float:
    """Diffusion-LM's square-root schedule: alpha_bar(t) = 1 - sqrt(t + s), t in [0, 1]."""
    return 1.0 - math.sqrt(t + 1e-4)


def cosine_alpha_bar(t: float) -> float:
    """Nichol & Dhariwal's cosine schedule."""
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


SCHEDULES: dict[str, Callable[[float], float]] = {"sqrt": sqrt_alpha_bar, "cosine": cosine_alpha_bar}


def betas_for_alpha_bar(num_steps: int, alpha_bar: Callable[[float], float], max_beta: float = 0.999) -> torch.Tensor:
    """Discretise a continuous alpha_bar into per-step betas (improved-diffusion)."""
    betas = [
        min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)
    ]
    return torch.tensor(betas, dtype=torch.float64)


class GaussianDiffusion:
    def __init__(self, num_steps: int = 1200, schedule: str = "sqrt") -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
        self.num_steps = num_steps
        betas = betas_for_alpha_bar(num_steps, SCHEDULES[schedule])
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)  # (T,) float64, decreasing

    def _coefficients(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        alpha_bar = self.alphas_cumprod.to(like.device)[t].to(like.dtype)  # (B,)
        return alpha_bar.sqrt()[:, None, None], (1 - alpha_bar).sqrt()[:, None, None]

    def q_sample(self, x_start: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise."""
        signal, sigma = self._coefficients(t, x_start)
        return signal * x_start + sigma * noise

    def predict_noise(self, x_t: torch.Tensor, t: torch.Tensor, x_start: torch.Tensor) -> torch.Tensor:
        """The noise implied by x_t and an x_0 estimate (inverts q_sample)."""
        signal, sigma = self._coefficients(t, x_t)
        return (x_t - signal * x_start) / sigma

    def training_losses(
        self,
        network: DenoisingNetwork,
        tokens: torch.Tensor,  # (B, T); position 0 is the language tag
        memory: torch.Tensor,  # (B, S, W)
        memory_padding: torch.Tensor,  # (B, S) True where padded
        generator: torch.Generator | None = None,
        self_condition_rate: float = 0.5,
    ) -> dict[str, torch.Tensor]:
        """CodeFusion's loss: x_0 error + decoder error + head cross-entropy."""
        batch = tokens.shape[0]
        device = tokens.device
        x_start = network.embed(tokens)  # (B, T, C)
        t = torch.randint(0, self.num_steps, (batch,), generator=generator, device="cpu").to(device)
        noise = torch.randn(x_start.shape, generator=generator, device="cpu").to(device, x_start.dtype)
        x_t = self.q_sample(x_start, t, noise)
        x_t = torch.cat([x_start[:, :1], x_t[:, 1:]], dim=1)  # the tag stays clean

        self_condition = None
        use_self_condition = torch.rand((), generator=generator).item() < self_condition_rate
        if use_self_condition:
            with torch.no_grad():
                self_condition = network.denoise(x_t, t, None, memory, memory_padding).detach()

        x_start_hat = network.denoise(x_t, t, self_condition, memory, memory_padding)
        decoded = network.decode(x_start_hat, memory, memory_padding)
        logits = network.logits(decoded)  # (B, T, V)
        target = x_start  # L trains through these terms too, as in the paper
        terms = {
            "x_start_mse": (x_start_hat - target)[:, 1:].pow(2).mean(),
            "decoder_mse": (decoded - target)[:, 1:].pow(2).mean(),
            "cross_entropy": F.cross_entropy(logits[:, 1:].flatten(0, 1).float(), tokens[:, 1:].flatten()),
        }
        terms["loss"] = terms["x_start_mse"] + terms["decoder_mse"] + terms["cross_entropy"]
        return terms
