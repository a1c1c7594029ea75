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

    def forward(self, h: torch.Tensor, condition: Conditioning) -> torch.Tensor:
        for block in self.blocks:
            h = block(h, condition.memory, memory_key_padding_mask=condition.padding)  # (B, T, W)
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

    def condition(self, encoded: torch.Tensor, mask: torch.Tensor) -> Conditioning:
        """E_s (B, S, encoder_dim) and its validity mask -> memory (B, S, W) and padding mask."""
        return Conditioning(self.condition_projection(encoded), ~mask)

    def _positions(self, x: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device)
        return sinusoidal_embedding(positions, self.config.width).to(x.dtype)  # (T, W), same scale as LayerNorm'd h

    def denoise(self, x_t, t, self_condition, condition: Conditioning) -> torch.Tensor:
        """N: predict x_0 from x_t (B, T, C) at timesteps t (B,)."""
        if self.config.self_condition:
            if self_condition is None:
                self_condition = torch.zeros_like(x_t)
            x_t = torch.cat([x_t, self_condition], dim=-1)  # (B, T, 2C)
        h = self.denoiser_input(x_t) + self._positions(x_t)
        time = self.time_mlp(sinusoidal_embedding(t, self.config.width).to(h.dtype))  # (B, W)
        h = self.denoiser(h + time[:, None, :], condition)
        return self.denoiser_output(h)  # (B, T, C)

    def decode(self, x_start, condition: Conditioning) -> torch.Tensor:
        """D: x_0-hat (B, T, C) -> refined latents (B, T, C), trained towards L(y)."""
        h = self.decoder_input(x_start) + self._positions(x_start)
        return self.decoder_output(self.decoder(h, condition))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """H: (B, T, C) -> (B, T, V)."""
        return F.linear(hidden, self.embedding_matrix(), self.head_bias)

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

