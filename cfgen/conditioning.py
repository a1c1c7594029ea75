"""What the denoiser and decoder attend to: one object instead of (memory, padding) threaded positionally."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Conditioning:
    memory: torch.Tensor  # (B, S, W): the request's encoder states E_s, projected, then any retrieved programs'
    padding: torch.Tensor  # (B, S): True where a position is padding
    # The retrieved programs' token ids, flattened (B, M), whose states are memory[:, -M:]: what a copy head copies.
    neighbour_tokens: torch.Tensor | None = None

    def repeat(self, times: int) -> "Conditioning":
        """Each row `times` times in a row: (B, ...) -> (B*times, ...), for several candidates per request."""
        tokens = self.neighbour_tokens
        return Conditioning(self.memory.repeat_interleave(times, dim=0), self.padding.repeat_interleave(times, dim=0),
                            None if tokens is None else tokens.repeat_interleave(times, dim=0))
