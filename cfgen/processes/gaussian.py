"""CodeFusion's process: Gaussian diffusion over code embeddings, and its skip-step (DDIM) scheduler.

The network predicts x_0 directly; position 0 holds the language tag and is
never noised. Because x_0 is predicted, the scheduler can jump between any two
timesteps (DDIM with eta = 0): from x_t and x_0-hat it recovers the implied
noise and re-noises x_0-hat to the next, lower timestep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from cfgen.conditioning import Conditioning
from cfgen.processes import DenoisingNetwork, guided


def network_parameters(config) -> dict:
    """What this process adds to a network: nothing (x_t lives in L's space)."""
    return {}


def sqrt_alpha_bar(t: float) -> float:
    """Diffusion-LM's square-root schedule: alpha_bar(t) = 1 - sqrt(t + s), t in [0, 1]."""
    return 1.0 - math.sqrt(t + 1e-4)


def cosine_alpha_bar(t: float) -> float:
    """Nichol & Dhariwal's cosine schedule."""
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


SCHEDULES: dict[str, Callable[[float], float]] = {"sqrt": sqrt_alpha_bar, "cosine": cosine_alpha_bar}
DEFAULT_SCHEDULE = "sqrt"


def initial_noise(num_queries: int, num_candidates: int, length: int, dim: int, seed: int) -> torch.Tensor:
    """Each query's candidates draw from Generator(seed): a query's result does not depend on its batch."""
    generator = torch.Generator().manual_seed(seed)
    one_query = torch.randn((num_candidates, length, dim), generator=generator)
    return one_query.repeat(num_queries, 1, 1)  # (Q*n, L, C)


def betas_for_alpha_bar(num_steps: int, alpha_bar: Callable[[float], float], max_beta: float = 0.999) -> torch.Tensor:
    """Discretise a continuous alpha_bar into per-step betas (improved-diffusion)."""
    betas = [
        min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)
    ]
    return torch.tensor(betas, dtype=torch.float64)


class Process:
    def __init__(self, num_steps: int = 1200, schedule: str = DEFAULT_SCHEDULE) -> None:
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

    def noised(self, network: DenoisingNetwork, tokens: torch.Tensor, t: torch.Tensor,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """x_t (B, T, C): L(tokens) noised to timesteps t (B,), the tag left clean."""
        return self._noised(network.embed(tokens), t, generator)

    def _noised(self, x_start: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        noise = torch.randn(x_start.shape, generator=generator, device="cpu").to(x_start.device, x_start.dtype)
        x_t = self.q_sample(x_start, t, noise)
        return torch.cat([x_start[:, :1], x_t[:, 1:]], dim=1)

    def scheduler(self) -> "SkipStepScheduler":
        return SkipStepScheduler(self)

    @torch.inference_mode()
    def generate(self, network: DenoisingNetwork, condition: Conditioning, *, tag_id: int, length: int,
                 num_candidates: int, steps: int, seed: int = 0, start_tokens: torch.Tensor | None = None,
                 strength: float = 1.0, unconditional: Conditioning | None = None,
                 guidance: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens (B, L) and their log-probabilities for B = Q*num_candidates rows of `condition`.

        With `start_tokens` (B, L), the reverse process starts from those
        programs noised to timestep strength*(T-1) (SDEdit): the network edits
        rather than invents; the scheduler spaces its steps from there.
        """
        rows, device, dtype = condition.memory.shape[0], condition.memory.device, condition.memory.dtype
        tag = network.embed(torch.full((1, 1), tag_id, device=device))  # (1, 1, C)
        x_t = initial_noise(rows // num_candidates, num_candidates, length, tag.shape[-1], seed).to(device, dtype)
        scheduler = self.scheduler()
        start = None
        if start_tokens is not None:
            start = round(strength * (self.num_steps - 1))
            x_t = scheduler.add_noise(network.embed(start_tokens.to(device)), x_t, start)
        scheduler.set_timesteps(steps, start)
        self_condition = None
        for t in scheduler.timesteps:
            x_t = torch.cat([tag.expand(x_t.shape[0], 1, -1), x_t[:, 1:]], dim=1)  # the tag is known
            t_batch = torch.full((x_t.shape[0],), t, dtype=torch.long, device=device)
            x_start_hat = network.denoise(x_t, t_batch, self_condition, condition)
            if unconditional is not None and guidance != 1.0:
                unguided = network.denoise(x_t, t_batch, self_condition, unconditional)
                x_start_hat = guided(x_start_hat, unguided, guidance)
            self_condition = x_start_hat
            x_t = scheduler.step(x_start_hat, t, x_t).prev_sample
        logits = network.logits(network.decode(x_t, condition), condition)
        log_probs, tokens = logits.float().log_softmax(dim=-1).max(dim=-1)
        tokens[:, 0] = tag_id  # position 0 is given, never predicted
        return tokens, log_probs

    def training_losses(
        self,
        network: DenoisingNetwork,
        tokens: torch.Tensor,  # (B, T); position 0 is the language tag
        condition: Conditioning,
        generator: torch.Generator | None = None,
        self_condition_rate: float = 0.5,
    ) -> dict[str, torch.Tensor]:
        """CodeFusion's loss: x_0 error + decoder error + head cross-entropy."""
        batch = tokens.shape[0]
        t = torch.randint(0, self.num_steps, (batch,), generator=generator, device="cpu").to(tokens.device)
        x_start = network.embed(tokens)  # (B, T, C)
        x_t = self._noised(x_start, t, generator)

        self_condition = None
        use_self_condition = torch.rand((), generator=generator).item() < self_condition_rate
        if use_self_condition:
            with torch.no_grad():
                self_condition = network.denoise(x_t, t, None, condition).detach()

        x_start_hat = network.denoise(x_t, t, self_condition, condition)
        decoded = network.decode(x_start_hat, condition)
        logits = network.logits(decoded, condition)  # (B, T, V)
        target = x_start  # L trains through these terms too, as in the paper
        terms = {
            "x_start_mse": (x_start_hat - target)[:, 1:].pow(2).mean(),
            "decoder_mse": (decoded - target)[:, 1:].pow(2).mean(),
            "cross_entropy": F.cross_entropy(logits[:, 1:].flatten(0, 1).float(), tokens[:, 1:].flatten()),
        }
        terms["loss"] = terms["x_start_mse"] + terms["decoder_mse"] + terms["cross_entropy"]
        return terms


@dataclass
class StepOutput:
    prev_sample: torch.Tensor  # x at the next (lower) timestep; the estimate itself after the last step
    pred_original_sample: torch.Tensor  # the x_0 estimate this step used


class SkipStepScheduler:
    """diffusers' contract: `set_timesteps`, then `step` at each of `timesteps` in order."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.timesteps: list[int] = []

    def set_timesteps(self, num_steps: int, start: int | None = None) -> None:
        """Evenly spaced timesteps from `start` (default T-1: pure noise) down to 0, at most num_steps of them."""
        total = self.process.num_steps
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

    def add_noise(self, original: torch.Tensor, noise: torch.Tensor, t: int) -> torch.Tensor:
        """`original` noised to timestep t (SDEdit's start)."""
        at = torch.full((original.shape[0],), t, dtype=torch.long, device=original.device)
        return self.process.q_sample(original, at, noise)

    def step(self, model_output: torch.Tensor, t: int, x_t: torch.Tensor) -> StepOutput:
        """x at the timestep after t (in `timesteps`) from x_t and the network's x_0 estimate `model_output`."""
        position = self.timesteps.index(t)
        if position + 1 == len(self.timesteps):
            return StepOutput(model_output, model_output)
        batch = x_t.shape[0]
        t_now = torch.full((batch,), t, dtype=torch.long, device=x_t.device)
        noise = self.process.predict_noise(x_t, t_now, model_output)
        t_next = torch.full((batch,), self.timesteps[position + 1], dtype=torch.long, device=x_t.device)
        return StepOutput(self.process.q_sample(model_output, t_next, noise), model_output)
