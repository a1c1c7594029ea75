"""What the denoiser and decoder attend to: one object instead of (memory, padding) threaded positionally."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Conditioning:
    memory: torch.Tensor  # (B, S, W): the request's encoder states E_s, projected, then any retrieved programs'
    padding: torch.Tensor  # (B, S): True where a position is padding
    # The retrieved programs by rank (B, k, N), whose states are memory[:, -k*N:], and which one each row reads
    # position by position (an `aligned` model): rank aligned_rank[b] (B,), the nearest where None or that one is empty.
    programs: torch.Tensor | None = None
    aligned_rank: torch.Tensor | None = None

    @property
    def neighbour_tokens(self) -> torch.Tensor | None:
        """The programs' token ids flattened (B, k*N), in memory order: what a copy head copies."""
        return None if self.programs is None else self.programs.flatten(1)

    @property
    def program_valid(self) -> torch.Tensor | None:
        """(B, k, N): True at the programs' real tokens (the memory's padding mask, read back)."""
        if self.programs is None:
            return None
        return ~self.padding[:, -self.programs[0].numel():].view_as(self.programs)

    def repeat(self, times: int, rotate_aligned: bool = False) -> "Conditioning":
        """Each row `times` times in a row: (B, ...) -> (B*times, ...), for several candidates per request.

        With `rotate_aligned`, the j-th copy of a row reads its (j mod k)-th program position by position,
        so that candidates start from different programs.
        """
        def rows(tensor):
            return None if tensor is None else tensor.repeat_interleave(times, dim=0)

        aligned_rank = rows(self.aligned_rank)
        if rotate_aligned and self.programs is not None:
            k = self.programs.shape[1]
            aligned_rank = (torch.arange(times, device=self.programs.device) % k).repeat(self.programs.shape[0])
        return Conditioning(rows(self.memory), rows(self.padding), rows(self.programs), aligned_rank)
