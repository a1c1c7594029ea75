"""Frozen configuration dataclasses, validated on construction, and their JSON round trip (`from_dict`).

`ModelConfig` is everything needed to rebuild a trained network: it is what
`config.json` in a model directory holds. `TrainConfig` describes one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from cfgen.languages import default_sample_lengths

STAGES: tuple[str, ...] = ("pretrain", "finetune")


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 4096  # code BPE vocabulary, special tokens included
    latent_dim: int = 64  # width of the diffusion space (x_0 = L(y)); small latents train faster
    width: int = 256  # transformer width of denoiser and decoder
    heads: int = 4  # attention heads
    denoiser_layers: int = 4  # N: blocks of self-attn over x_t + cross-attn to E_s
    decoder_layers: int = 2  # D: blocks of self-attn over x_0-hat + cross-attn to E_s
    ffn_multiplier: int = 4  # MLP hidden size = width * ffn_multiplier
    dropout: float = 0.0
    max_length: int = 128  # longest code sequence (language tag + tokens + end)
    encoder_dim: int = 384  # width of E_s (all-MiniLM-L6-v2)
    self_condition: bool = True  # feed the previous x_0 estimate back into the denoiser
    diffusion_steps: int = 1200  # T of the forward process
    process: str = "gaussian"  # forward process (see processes.PROCESSES)
    schedule: str = "sqrt"  # its noise schedule (see the process's SCHEDULES)
    # Nearest training programs (of the request, from the model's retrieval
    # index) the denoiser and decoder attend to beside E_s; 0: the request only.
    neighbours: int = 0
    copy: bool = False  # with neighbours: H may copy their tokens (a pointer head) as well as choose from V
    # With neighbours: N and D also read the nearest program position by position
    # (its token at i added to position i's input), so copying it is the identity.
    aligned: bool = False
    # The network writes the values a request names as typed placeholders ({{path}}, {{number}}, ...),
    # filled from the request after sampling (slots.abstract_values, slots.fill_placeholders).
    slots: bool = False
    # Bash programs are written as templates (languages/bash_template.py): utilities, flags, operators and the
    # closed-class arguments in `template_literals` as tokens, every other argument a typed slot filled after
    # sampling from the request.
    templates: bool = False
    template_literals: tuple = ()
    # Share of training examples whose request is replaced by the empty request's E_s, so that the network
    # also learns to write code unconditioned and sampling can use classifier-free guidance (--guidance).
    request_dropout: float = 0.0
    # Sequence length the sampler uses per language (tag + code + end), set
    # from the training data so sampling matches what the network saw.
    sample_lengths: dict = field(default_factory=default_sample_lengths)

    def __post_init__(self) -> None:
        from cfgen.processes import PROCESSES

        _check_types(self, MODEL_LIMITS)
        if self.process not in PROCESSES:
            raise ValueError(f"unknown process {self.process[:40]!r}; cfgen knows {', '.join(PROCESSES)}")
        if not isinstance(self.sample_lengths, dict) or not all(
                isinstance(k, str) and type(v) is int for k, v in self.sample_lengths.items()):
            raise ValueError("sample_lengths must map language names to whole numbers")
        if not isinstance(self.template_literals, (tuple, list)) or len(self.template_literals) > 100_000 or not all(
                isinstance(word, str) and 0 < len(word) <= 200 for word in self.template_literals):
            raise ValueError("template_literals must be a list of at most 100,000 words")
        object.__setattr__(self, "template_literals", tuple(self.template_literals))
        if self.copy and not self.neighbours:
            raise ValueError("copy needs neighbours: a model copies from the retrieved programs it reads")
        if self.aligned and not self.neighbours:
            raise ValueError("aligned needs neighbours: a model aligns to the nearest retrieved program")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        for lang, length in self.sample_lengths.items():
            if not 2 <= length <= self.max_length:
                raise ValueError(f"sample length {length} for {lang} outside [2, {self.max_length}]")


@dataclass(frozen=True)
class TrainConfig:
    stage: str = "finetune"  # pretrain (code only: unsupervised + CPD) or finetune (pairs)
    steps: int = 1000  # optimiser steps
    batch_size: int = 64  # global batch, split across ranks
    learning_rate: float = 5e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 200  # steps between atomic checkpoints
    eval_every: int = 200  # steps between dev-loss reports (0: never)
    # Each language's share of the batches ~ (its examples)^T: 1 as in the data, 0 even (corpus.BatchPlan,
    # which checks it).
    language_temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"unknown stage {self.stage!r}; choose one of {', '.join(STAGES)}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch size must be positive")


# Bounds on a model's shape: a config.json outside them is refused before
# anything is allocated (a width of 2**20 would ask for terabytes).
MODEL_LIMITS: dict[str, tuple[type, float, float]] = {
    "vocab_size": (int, 8, 1_000_000),
    "latent_dim": (int, 1, 4096),
    "width": (int, 1, 8192),
    "heads": (int, 1, 256),
    "denoiser_layers": (int, 0, 128),
    "decoder_layers": (int, 0, 128),
    "ffn_multiplier": (int, 1, 16),
    "dropout": (float, 0.0, 1.0),
    "max_length": (int, 2, 8192),
    "encoder_dim": (int, 1, 8192),
    "self_condition": (bool, 0, 1),
    "diffusion_steps": (int, 1, 100_000),
    "process": (str, 0, 0),
    "schedule": (str, 0, 0),
    "neighbours": (int, 0, 16),
    "copy": (bool, 0, 1),
    "aligned": (bool, 0, 1),
    "slots": (bool, 0, 1),
    "templates": (bool, 0, 1),
    "request_dropout": (float, 0.0, 0.9),
}


def _check_types(config, limits: dict[str, tuple[type, float, float]]) -> None:
    """Each field of the expected type (bool is not a number here) and within its bounds."""
    for name, (kind, low, high) in limits.items():
        value = getattr(config, name)
        if kind is float and type(value) is int:
            value = float(value)
        if type(value) is not kind:
            raise ValueError(f"{name} must be {kind.__name__}, got {value!r:.40}")
        if kind in (int, float) and not low <= value <= high:
            raise ValueError(f"{name} must be from {low:g} to {high:g}, got {value}")


def from_dict(cls, data: dict):
    """Build `cls` from a dict, ignoring keys it does not know (older/newer files); ValueError if it is no dict."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    return cls(**{key: value for key, value in data.items() if key in known})


# Named model sizes for `cfgen train --size`; vocab_size and sample_lengths
# are filled in from the tokenizer and the data.
MODEL_PRESETS: dict[str, dict] = {
    "tiny": dict(latent_dim=16, width=64, heads=2, denoiser_layers=2, decoder_layers=1, max_length=64),
    "small": dict(latent_dim=64, width=256, heads=4, denoiser_layers=4, decoder_layers=2, max_length=96),
    "base": dict(latent_dim=64, width=384, heads=6, denoiser_layers=8, decoder_layers=4, max_length=128),
}


def preset(name: str, **overrides) -> ModelConfig:
    if name not in MODEL_PRESETS:
        raise ValueError(f"unknown model size {name!r}; choose one of {', '.join(MODEL_PRESETS)}")
    return ModelConfig(**{**MODEL_PRESETS[name], **overrides})
