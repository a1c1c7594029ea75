"""The networks of CodeFusion: embedding L, denoiser N, decoder D, head H.

Shapes: B batch, T code positions, S utterance tokens, C latent dim,
W transformer width, V vocabulary. The NL encoder E lives in encoder.py; this
module only sees its output E_s (B, S, encoder_dim) and a mask (B, S).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cfgen.conditioning import Conditioning
from cfgen.config import ModelConfig
from cfgen.errors import CheckpointError
from cfgen.processes import process_module


def sinusoidal_embedding(values: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer sin/cos features of integer positions or timesteps: (...,) -> (..., dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half, device=values.device) / half)
    angles = values.float()[..., None] * frequencies  # (..., half)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class CrossAttentionStack(nn.Module):
    """Blocks of full self-attention over the sequence plus cross-attention to E_s."""

    def __init__(self, config: ModelConfig, layers: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.TransformerDecoderLayer(
                d_model=config.width,
                nhead=config.heads,
                dim_feedforward=config.width * config.ffn_multiplier,
                dropout=config.dropout,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(layers)
        )
        self.norm = nn.LayerNorm(config.width)
        self.heads = config.heads

    def forward(self, h: torch.Tensor, condition: Conditioning) -> torch.Tensor:
        # The memory's padding as a per-head attention mask (B*heads, T, S) rather than a key padding mask: the
        # same attention, but torch checks a key padding mask with symbolic-shape code whose first use imports
        # sympy (about a second of a cold start).
        (batch, length), memory_length = h.shape[:2], condition.padding.shape[1]
        blocked = condition.padding[:, None, None, :].expand(batch, self.heads, length, memory_length)
        blocked = blocked.reshape(batch * self.heads, length, memory_length)  # True: may not attend
        for block in self.blocks:
            h = block(h, condition.memory, memory_mask=blocked)  # (B, T, W)
        return self.norm(h)


class CodeFusionModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        C, W = config.latent_dim, config.width
        self.token_embedding = nn.Embedding(config.vocab_size, C)  # L; N(0, 1), the noise's scale
        self.condition_projection = nn.Sequential(nn.LayerNorm(config.encoder_dim), nn.Linear(config.encoder_dim, W))
        self.time_mlp = nn.Sequential(nn.Linear(W, W), nn.SiLU(), nn.Linear(W, W))
        denoiser_inputs = 2 * C if config.self_condition else C
        self.denoiser_input = nn.Sequential(nn.Linear(denoiser_inputs, W), nn.LayerNorm(W))
        self.denoiser = CrossAttentionStack(config, config.denoiser_layers)
        self.denoiser_output = nn.Linear(W, C)
        self.decoder_input = nn.Sequential(nn.Linear(C, W), nn.LayerNorm(W))
        self.decoder = CrossAttentionStack(config, config.decoder_layers)
        self.decoder_output = nn.Linear(W, C)
        self.head_bias = nn.Parameter(torch.zeros(config.vocab_size))  # H shares its matrix with L
        if config.neighbours:  # retrieved programs, embedded by L, join E_s in the memory N and D attend to
            self.neighbour_input = nn.Sequential(nn.Linear(C, W), nn.LayerNorm(W))
            self.neighbour_rank = nn.Embedding(config.neighbours, W)
            if config.copy:  # H may also copy a token of those programs (a pointer, as in CopyNet)
                self.copy_query = nn.Linear(C, W)
                self.copy_gate = nn.Linear(C, 1)
            if config.aligned:  # the nearest program's token at each position, added to N's and D's inputs
                self.aligned_input = nn.Linear(C, W)
        for name, parameter in process_module(config.process).network_parameters(config).items():
            self.register_parameter(name, parameter)  # what the forward process adds (processes/)

    # -- the pieces the diffusion process calls ---------------------------------
    def embedding_matrix(self) -> torch.Tensor:
        """L's vectors at a fixed norm sqrt(C) (unit scale per dim, like the noise): (V, C).

        A free norm lets training shrink the embeddings until the noise swamps them.
        """
        weight = self.token_embedding.weight
        return F.normalize(weight, dim=-1) * math.sqrt(weight.shape[-1])

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """L: (B, T) token ids -> (B, T, C)."""
        return F.embedding(tokens, self.embedding_matrix())

    def condition(self, encoded: torch.Tensor, mask: torch.Tensor, neighbours: torch.Tensor | None = None,
                  neighbour_mask: torch.Tensor | None = None) -> Conditioning:
        """E_s (B, S, encoder_dim) and its validity mask -> memory (B, S, W) and padding mask.

        With `neighbours` (B, k, N) token ids and their validity mask, the k
        programs (embedded by L, nearest first) follow E_s in the memory: (B, S + k*N, W).
        """
        memory, padding = self.condition_projection(encoded), ~mask
        if not self.config.neighbours or neighbours is None:
            return Conditioning(memory, padding)
        batch, k, length = neighbours.shape
        positions = sinusoidal_embedding(torch.arange(length, device=neighbours.device), self.config.width)
        h = self.neighbour_input(self.embed(neighbours)) + positions.to(memory.dtype)  # (B, k, N, W)
        h = h + self.neighbour_rank(torch.arange(k, device=h.device))[None, :, None, :]
        memory = torch.cat([memory, h.reshape(batch, k * length, -1).to(memory.dtype)], dim=1)
        return Conditioning(memory, torch.cat([padding, ~neighbour_mask.reshape(batch, k * length)], dim=1),
                            neighbours)

    def _positions(self, x: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device)
        return sinusoidal_embedding(positions, self.config.width).to(x.dtype)  # (T, W), same scale as LayerNorm'd h

    def _aligned(self, x: torch.Tensor, condition: Conditioning) -> torch.Tensor | float:
        """The aligned program's embedded token at each of x's T positions (zero past its end): (B, T, W).

        Which program: condition.aligned_rank's, or the nearest where that one is missing.
        """
        if not self.config.aligned or condition.programs is None:
            return 0.0
        rows, program_valid = torch.arange(x.shape[0], device=x.device), condition.program_valid
        rank = condition.aligned_rank if condition.aligned_rank is not None else torch.zeros_like(rows)
        rank = torch.where(program_valid[rows, rank].any(dim=-1), rank, 0)
        tokens, valid = condition.programs[rows, rank, : x.shape[1]], program_valid[rows, rank, : x.shape[1]]
        missing = x.shape[1] - tokens.shape[1]
        tokens, valid = F.pad(tokens, (0, missing)), F.pad(valid, (0, missing))  # padding is then masked out
        return (self.aligned_input(self.embed(tokens)) * valid[..., None]).to(x.dtype)

    def denoise(self, x_t, t, self_condition, condition: Conditioning) -> torch.Tensor:
        """N: predict x_0 from x_t (B, T, C) at timesteps t (B,)."""
        if self.config.self_condition:
            if self_condition is None:
                self_condition = torch.zeros_like(x_t)
            x_t = torch.cat([x_t, self_condition], dim=-1)  # (B, T, 2C)
        h = self.denoiser_input(x_t) + self._positions(x_t) + self._aligned(x_t, condition)
        time = self.time_mlp(sinusoidal_embedding(t, self.config.width).to(h.dtype))  # (B, W)
        h = self.denoiser(h + time[:, None, :], condition)
        return self.denoiser_output(h)  # (B, T, C)

    def decode(self, x_start, condition: Conditioning) -> torch.Tensor:
        """D: x_0-hat (B, T, C) -> refined latents (B, T, C), trained towards L(y)."""
        h = self.decoder_input(x_start) + self._positions(x_start) + self._aligned(x_start, condition)
        return self.decoder_output(self.decoder(h, condition))

    def logits(self, hidden: torch.Tensor, condition: Conditioning | None = None) -> torch.Tensor:
        """H: (B, T, C) -> (B, T, V) scores whose log-softmax is the token distribution.

        With a copy head and retrieved programs in `condition`, the scores are
        log-probabilities: a gate mixes H's softmax with a pointer over the
        programs' tokens (query: the position's latent and its position; keys:
        the programs' memory states, which carry token, position and rank).
        """
        scores = F.linear(hidden, self.embedding_matrix(), self.head_bias)
        if not self.config.copy or condition is None or condition.neighbour_tokens is None:
            return scores
        tokens = condition.neighbour_tokens  # (B, M)
        keys, blocked = condition.memory[:, -tokens.shape[1]:], condition.padding[:, -tokens.shape[1]:]
        query = self.copy_query(hidden) + self._positions(hidden)  # (B, T, W)
        attention = (query @ keys.transpose(1, 2)) / math.sqrt(query.shape[-1])  # (B, T, M)
        attention = attention.float().masked_fill(blocked[:, None, :], -1e4).softmax(dim=-1)
        copied = torch.zeros(scores.shape, dtype=attention.dtype, device=scores.device)
        copied.scatter_add_(2, tokens[:, None, :].expand(-1, hidden.shape[1], -1), attention)
        gate = torch.sigmoid(self.copy_gate(hidden).float())  # (B, T, 1): how much to copy
        mixed = (1 - gate) * scores.float().softmax(dim=-1) + gate * copied
        return torch.log(mixed + 1e-9).to(scores.dtype)

    # -- model directory files (bundle.py owns the directory) ---------------------
    def save_weights(self, directory: Path, max_shard_size: str | int) -> None:
        """model.safetensors, or shards of at most `max_shard_size` plus their index."""
        from huggingface_hub import save_torch_state_dict

        state = {name: tensor.detach() for name, tensor in self.state_dict().items()}
        save_torch_state_dict(state, directory, max_shard_size=max_shard_size)

    def config_to(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self.config), indent=2, sort_keys=True), encoding="utf-8")

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


# Parameters a model gains with neighbours (copying, aligned): they start fresh when a model is initialised from
# one without them, as do those its forward process adds.
NEIGHBOUR_PARTS = ("neighbour_input.", "neighbour_rank.", "copy_query.", "copy_gate.", "aligned_input.")


def load_initial_weights(network: nn.Module, state: dict) -> None:
    """An earlier model's weights into `network`; only the parts its options add may be missing."""
    added = tuple(process_module(network.config.process).network_parameters(network.config))
    missing, unexpected = network.load_state_dict(state, strict=False)
    left = [name for name in missing if not name.startswith(NEIGHBOUR_PARTS + added)]
    if left or unexpected:
        raise CheckpointError(f"--init's weights do not fit this model: {', '.join((left + unexpected)[:3])}")
