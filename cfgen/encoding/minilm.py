"""all-MiniLM-L6-v2 (a 6-layer BERT) assembled from torch's own transformer layers.

Why not `transformers.AutoModel`: importing transformers costs ~3.5 s of a
cold `cfgen "…"` on two cores, more than everything else together; the
encoder is six stock post-norm layers, which `nn.TransformerEncoderLayer`
already is. `tests/test_engine_parts.py` checks the two agree to 1e-4.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from cfgen.model_files.files import uninitialised


class Embeddings(nn.Module):
    def __init__(self, config: dict) -> None:
        super().__init__()
        width = config["hidden_size"]
        self.word_embeddings = nn.Embedding(config["vocab_size"], width)
        self.position_embeddings = nn.Embedding(config["max_position_embeddings"], width)
        self.token_type_embeddings = nn.Embedding(config["type_vocab_size"], width)
        self.LayerNorm = nn.LayerNorm(width, eps=config["layer_norm_eps"])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        summed = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
        return self.LayerNorm(summed)


class MiniLM(nn.Module):
    def __init__(self, config: dict) -> None:
        super().__init__()
        if (
            config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
        ):
            raise ValueError("only BERT encoders with GELU and absolute positions are supported")
        self.config = config
        self.embeddings = Embeddings(config)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model=config["hidden_size"],
                nhead=config["num_attention_heads"],
                dim_feedforward=config["intermediate_size"],
                dropout=0.0,
                activation="gelu",
                layer_norm_eps=config["layer_norm_eps"],
                batch_first=True,
                norm_first=False,  # BERT is post-norm
            )
            for _ in range(config["num_hidden_layers"])
        )

    @classmethod
    def from_directory(cls, directory: Path) -> "MiniLM":
        config = json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))
        with uninitialised():
            model = cls(config)
        weights = load_file(str(Path(directory) / "model.safetensors"))  # float32, or its float16 copy
        model.load_state_dict(
            _from_bert_names({name: tensor.float() for name, tensor in weights.items()}), strict=True, assign=True
        )
        return model.eval().requires_grad_(False)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, S) token ids and validity mask -> last hidden states (B, S, D)."""
        h = self.embeddings(ids)
        for layer in self.layers:
            h = layer(h, src_key_padding_mask=~mask)
        return h


def _from_bert_names(bert: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a BertModel state dict to this module's (q, k, v fused as nn.MultiheadAttention wants)."""
    state = {k: v for k, v in bert.items() if k.startswith("embeddings.") and not k.endswith("position_ids")}
    layer_count = 1 + max(int(k.split(".")[2]) for k in bert if k.startswith("encoder.layer."))
    for i in range(layer_count):
        bert_layer, mine = f"encoder.layer.{i}.", f"layers.{i}."
        attention = bert_layer + "attention."
        for kind in ("weight", "bias"):
            state[mine + f"self_attn.in_proj_{kind}"] = torch.cat(
                [bert[attention + f"self.{part}.{kind}"] for part in ("query", "key", "value")]
            )
            state[mine + f"self_attn.out_proj.{kind}"] = bert[attention + f"output.dense.{kind}"]
            state[mine + f"norm1.{kind}"] = bert[attention + f"output.LayerNorm.{kind}"]
            state[mine + f"linear1.{kind}"] = bert[bert_layer + f"intermediate.dense.{kind}"]
            state[mine + f"linear2.{kind}"] = bert[bert_layer + f"output.dense.{kind}"]
            state[mine + f"norm2.{kind}"] = bert[bert_layer + f"output.LayerNorm.{kind}"]
    return state
