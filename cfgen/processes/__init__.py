"""Forward processes behind one contract, chosen per model by `config.json`'s "process".

A process is a plain object (improved-diffusion style): it owns its schedule,
takes the network as an argument and returns a dict of loss terms
(`training_losses(network, tokens, condition, generator)`), and runs its
reverse process (`generate(network, condition, tag_id, length,
num_candidates, steps, seed, start_tokens, strength) -> (tokens, log_probs)`,
from noise or, with start tokens, as an edit of them) and shows what the
network sees at a timestep (`noised(network, tokens, t, generator)`, for
bench/conditioning.py). Its module names its
SCHEDULES and DEFAULT_SCHEDULE. A new process is one module here plus one
line in PROCESSES; the pipeline and the training loop only speak this
contract. Processes see the network through `DenoisingNetwork`,
so they can be tested with a fake one, and never import `cfgen.model`.
"""

from __future__ import annotations

import importlib
from typing import Protocol

import torch

from cfgen.conditioning import Conditioning

PROCESSES = {"gaussian": "cfgen.processes.gaussian", "masked": "cfgen.processes.masked"}  # name in config.json -> module defining Process


class DenoisingNetwork(Protocol):
    def embed(self, tokens: torch.Tensor) -> torch.Tensor: ...
    def embed_masked(self, tokens: torch.Tensor, masked: torch.Tensor) -> torch.Tensor: ...
    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, self_condition: torch.Tensor | None,
                condition: Conditioning) -> torch.Tensor: ...
    def decode(self, x_start: torch.Tensor, condition: Conditioning) -> torch.Tensor: ...
    def logits(self, hidden: torch.Tensor, condition: Conditioning | None = None) -> torch.Tensor: ...


def process_module(name: str):
    """The module defining process `name`; ValueError listing the choices for an unknown name."""
    if name not in PROCESSES:
        raise ValueError(f"unknown process {name!r}; choose one of {', '.join(PROCESSES)}")
    return importlib.import_module(PROCESSES[name])


def make_process(name: str, num_steps: int, schedule: str):
    """The process a model was trained with; ValueError for an unknown name or a schedule it lacks."""
    return process_module(name).Process(num_steps, schedule)
