"""Forward processes behind one contract (`Process`), chosen per model by `config.json`'s "process".

A process is a plain object (improved-diffusion style) built from its number
of steps and a schedule: it owns the schedule, takes the network as an
argument, returns a dict of loss terms from `training_losses`, and runs its
reverse process in `generate` (from noise or, with start tokens, as an edit
of them). Its module defines `Process`, SCHEDULES, DEFAULT_SCHEDULE and
`network_parameters(config)`, the parameters the process adds to a network
(the masked process's mask vector), so that the network knows no process. A new
process is one module here plus one line in PROCESSES, and passes
tests/test_processes.py, the contract's executable form; the pipeline and
the training loop speak only this contract. Processes see the network
through `DenoisingNetwork`, so they can be tested with a fake one, and never
import `cfgen.model`. Importing this package costs no torch (the CLI lists
PROCESSES).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch

    from cfgen.conditioning import Conditioning

# name in config.json -> module defining Process
PROCESSES = {"gaussian": "cfgen.processes.gaussian", "masked": "cfgen.processes.masked"}


class DenoisingNetwork(Protocol):
    def embed(self, tokens: torch.Tensor) -> torch.Tensor: ...
    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, self_condition: torch.Tensor | None,
                condition: Conditioning) -> torch.Tensor: ...
    def decode(self, x_start: torch.Tensor, condition: Conditioning) -> torch.Tensor: ...
    def logits(self, hidden: torch.Tensor, condition: Conditioning | None = None) -> torch.Tensor: ...


class Process(Protocol):
    """What the pipeline and the training loop ask of a forward process."""

    num_steps: int  # T: timesteps 0 .. T-1

    def training_losses(self, network: DenoisingNetwork, tokens: torch.Tensor, condition: Conditioning,
                        generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Loss terms for a batch of token rows (B, T), tag at position 0; "loss" is the one to minimise."""

    def generate(self, network: DenoisingNetwork, condition: Conditioning, *, tag_id: int, length: int,
                 num_candidates: int, steps: int, seed: int = 0, start_tokens: torch.Tensor | None = None,
                 strength: float = 1.0, unconditional: Conditioning | None = None,
                 guidance: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens (B, length), `tag_id` first, and their log-probabilities, for the B = Q*num_candidates rows of
        `condition` (query q's candidates are rows q*n .. q*n+n-1), in `steps` network calls at most (twice
        that when guided). The candidates of a query depend on `seed` and that query only, never on the rest
        of the batch. With `start_tokens` (B, length): an edit of those programs, the further from them the
        higher `strength`. With `unconditional` (the same rows, the request dropped) and `guidance` w != 1:
        classifier-free guidance, each prediction the unconditional one plus w times the conditional's
        difference from it (`guided`); w = 1 is the conditional prediction alone."""


def guided(conditional: torch.Tensor, unconditional: torch.Tensor | None, guidance: float) -> torch.Tensor:
    """Classifier-free guidance: u + w (c - u); the conditional prediction itself where there is no u or w is 1."""
    if unconditional is None or guidance == 1.0:
        return conditional
    return unconditional + guidance * (conditional - unconditional)


def process_module(name: str):
    """The module defining process `name`; ValueError listing the choices for an unknown name."""
    if name not in PROCESSES:
        raise ValueError(f"unknown process {name!r}; choose one of {', '.join(PROCESSES)}")
    return importlib.import_module(PROCESSES[name])


def make_process(name: str, num_steps: int, schedule: str):
    """The process a model was trained with; ValueError for an unknown name or a schedule it lacks."""
    return process_module(name).Process(num_steps, schedule)
