"""A retrieval head: sentence vectors tuned so that requests for the same program sit together.

MiniLM's mean-pooled vectors put "delete files older than 3 days" and "list
files older than 3 days" side by side, though they want different programs.
The head reads the frozen encoder's token states (E_s, as the denoiser does)
through one transformer layer and a residual linear map on the pooled vector,
and is trained contrastively (supervised contrastive loss, Khosla et al. 2020)
on the training pairs: two requests are a positive pair when their programs
share a normal form (for bash, NL2Bash's template). The linear map starts at
zero, so that an untrained head is MiniLM's own pooling plus a small random layer.
Its weights ship with the model's retrieval index (a safetensors file, see
`bundle.index_files`), with the languages it serves in the file's metadata.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from cfgen.languages import language_names

logger = logging.getLogger(__name__)

MAX_TOKENS = 48  # longer requests are pooled over their first 48 tokens (99% of training requests are shorter)


class RetrievalHead(nn.Module):
    def __init__(self, dim: int, languages: frozenset[str], heads: int = 6) -> None:
        super().__init__()
        self.languages = frozenset(languages)
        self.layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.1, batch_first=True, norm_first=True)
        self.linear = nn.Linear(dim, dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, S, D) token states and (B, S) mask -> (B, D) unit vectors."""
        states = self.layer(states, src_key_padding_mask=~mask)
        pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        pooled = nn.functional.normalize(pooled, dim=-1)
        return nn.functional.normalize(pooled + self.linear(pooled), dim=-1)

    @torch.inference_mode()
    def vectors(self, encodings: list[torch.Tensor], batch_size: int = 256) -> torch.Tensor:
        """Unit sentence vectors (N, D) of per-token encodings, in eval mode."""
        was_training = self.training
        self.eval()
        try:
            parts = [
                self(*_padded(encodings[start : start + batch_size])) for start in range(0, len(encodings), batch_size)
            ]
        finally:
            self.train(was_training)
        return torch.cat(parts) if parts else torch.zeros(0, self.linear.in_features)

    def save(self, path: Path) -> None:
        tensors = {name: value.detach().half().contiguous() for name, value in self.state_dict().items()}
        metadata = {"languages": json.dumps(sorted(self.languages)), "dim": str(self.linear.in_features)}
        save_file(tensors, str(path), metadata=metadata)

    @classmethod
    def load(cls, path: Path, dim: int) -> "RetrievalHead":
        """A saved head for sentence vectors of width `dim`; CorruptModelError if the file says otherwise."""
        from safetensors import SafetensorError, safe_open

        from cfgen.errors import CorruptModelError
        from cfgen.model_files.files import check_shapes, check_tensor, first_line, module_shapes, uninitialised

        try:
            with safe_open(str(path), framework="pt") as handle:  # one read: metadata and tensors
                metadata = handle.metadata() or {}
                languages = frozenset(json.loads(metadata["languages"]))
                if int(metadata["dim"]) != dim or not languages <= set(language_names()):
                    raise ValueError(
                        f"dim {metadata['dim'][:20]} for vectors of width {dim}, languages {sorted(languages)}"
                    )
                shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
                with uninitialised():
                    head = cls(dim, languages)
                check_shapes(shapes, module_shapes(head), path)
                state = {name: handle.get_tensor(name) for name in handle.keys()}
                for name, tensor in state.items():
                    check_tensor(path, name, tensor)
                state = {name: tensor.float() for name, tensor in state.items()}
        except (SafetensorError, OSError, ValueError, KeyError, TypeError, RecursionError) as error:
            raise CorruptModelError(f"{path} is not a valid retrieval head ({first_line(error, 160)})") from None
        head.load_state_dict(state, strict=True, assign=True)
        return head.eval()


def _padded(encodings: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    from cfgen.encoding.encodings import pad_states

    return pad_states(encodings, MAX_TOKENS)


def fit_retrieval_head(
    encodings: list[torch.Tensor],
    labels: list[str],
    languages: frozenset[str],
    steps: int,
    batch_size: int = 256,
    lr: float = 3e-4,
    temperature: float = 0.05,
    seed: int = 0,
) -> RetrievalHead:
    """Train a head on requests (`encodings`) whose programs have normal forms `labels`.

    Each step draws `batch_size` requests that share their label with another
    request, and one such partner each; every other request in the batch with
    the same label is a positive too, the rest are negatives.
    """
    torch.manual_seed(seed)
    draw = random.Random(seed)
    head = RetrievalHead(encodings[0].shape[-1], languages)
    groups: dict[str, list[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(label, []).append(row)
    anchors = [row for row, label in enumerate(labels) if len(groups[label]) > 1]
    if not anchors:
        logger.warning("no two training requests share a program: the retrieval head stays untrained")
        return head.eval()
    label_ids = {label: n for n, label in enumerate(groups)}
    optimizer = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01)
    head.train()
    for step in range(steps):
        chosen = draw.sample(anchors, min(batch_size, len(anchors)))
        partners = [draw.choice([other for other in groups[labels[row]] if other != row]) for row in chosen]
        rows = chosen + partners
        vectors = head(*_padded([encodings[row] for row in rows]))
        loss = _supervised_contrastive(vectors, torch.tensor([label_ids[labels[row]] for row in rows]), temperature)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            logger.info("retrieval head step %d/%d: loss %.3f", step, steps, loss.item())
    return head.eval()


def _supervised_contrastive(vectors: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean over rows of -log p(positive) averaged over each row's positives (itself excluded)."""
    itself = torch.eye(len(labels), dtype=torch.bool)
    similarity = (vectors @ vectors.T / temperature).masked_fill(itself, -1e4)
    positives = (labels[:, None] == labels[None, :]) & ~itself
    log_p = similarity.log_softmax(dim=-1)
    return (-(log_p * positives).sum(-1) / positives.sum(-1).clamp(min=1)).mean()
