"""What the denoiser and decoder attend to: one object instead of (memory, padding) threaded positionally."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Conditioning:
    memory: torch.Tensor  # (B, S, W): the request's encoder states E_s, projected to the network's width
    padding: torch.Tensor  # (B, S): True where a position is padding

    def repeat(self, times: int) -> "Conditioning":
        """Each row `times` times in a row: (B, ...) -> (B*times, ...), for several candidates per request."""
        return Conditioning(self.memory.repeat_interleave(times, dim=0), self.padding.repeat_interleave(times, dim=0))
