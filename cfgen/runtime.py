"""Where computation runs: device choice (generation and training) and torchrun helpers."""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass

from cfgen.errors import UsageError

logger = logging.getLogger(__name__)
DEVICES = ("auto", "cpu", "cuda")


def select_device(requested: str) -> str:
    """"auto" is CUDA where present; "cuda" asked for but absent falls back to the CPU with a warning."""
    import torch

    if requested not in DEVICES:
        raise UsageError(f"unknown device {requested[:40]!r}; choose one of {', '.join(DEVICES)}")
    if requested == "cuda" and not torch.cuda.is_available():
        logger.warning("CUDA was asked for but is not available; using the CPU")
        return "cpu"
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Distributed:
    """The process group torchrun describes in the environment (gloo on CPU, nccl on CUDA); one process otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    return Distributed(dist.get_rank(), dist.get_world_size(), local_rank)


def barrier(dist_info: Distributed) -> None:
    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.barrier()


def any_rank(flag: bool, dist_info: Distributed, device: str) -> bool:
    """Whether `flag` is set on any rank (all ranks get the same answer)."""
    if dist_info.world_size == 1:
        return flag
    import torch
    import torch.distributed as dist

    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value)
    return bool(value.item())


class StopOnInterrupt:
    """While active, SIGINT (Ctrl-C) and SIGTERM (`kill`, a scheduler's stop) ask the loop to stop after the
    current step instead of raising mid-step; `signal_number` says which came first.

    A second signal while the checkpoint is written is logged, not raised, so
    it can leave neither a traceback nor a half-written checkpoint. Outside the
    main thread (where signals cannot be caught) both keep their defaults.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.signal_number: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            logger.warning("finishing the current step and saving a checkpoint; please wait")
        self.requested = True
        self.signal_number = self.signal_number or signum

    def __enter__(self) -> "StopOnInterrupt":
        try:
            self._previous = {number: signal.signal(number, self._handle) for number in self.SIGNALS}
        except ValueError:  # not the main thread
            self._previous = {}
        return self

    def __exit__(self, *exc) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, previous)
