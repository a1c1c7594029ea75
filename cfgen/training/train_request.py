"""What one `cfgen train` run is asked to do: the request that train.py runs and prepare.py prepares. Its fields
are the one declaration of the run's options: the command builds it by name from its parameters, and --resume
checks the model options (MODEL_OPTIONS) against the run's own model."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from cfgen.config import TrainConfig
from cfgen.training.corpus import DataSources


def _model_option(default=None):
    """A field that shapes the model: given with --resume, it must be what the run's model already has."""
    return field(default=default, metadata={"model_option": True})


@dataclass
class TrainRequest:
    output_dir: Path
    train: TrainConfig
    sources: DataSources
    size: str | None = None  # model preset when starting from scratch (None: small)
    vocab_size: int | None = _model_option()  # code BPE vocabulary when starting from scratch (None: 4096)
    init: Path | None = None  # an existing model directory to continue from (keeps its tokenizer)
    resume: bool = False
    device: str = "auto"
    max_shard_size: str = "16MB"
    overwrite: bool = False  # replace an earlier cfgen model or run in output_dir (never other files)
    process: str | None = _model_option()  # forward process of a new model (default: the preset's, or --init's)
    neighbours: int | None = _model_option()  # retrieved programs a new model reads (default: the preset's/--init's)
    copy: bool | None = _model_option()  # whether a new model reading neighbours may copy their tokens
    aligned: bool | None = _model_option()  # whether it also reads the nearest program position by position
    slots: bool | None = _model_option()  # whether it writes the request's values as placeholders
    templates: bool | None = _model_option()  # whether it writes Bash as templates (a new model only)
    request_dropout: float | None = _model_option()  # share of examples trained without their request
    keep_best: bool = False  # also keep the model of the lowest dev loss so far in output_dir/BEST


# Options of `cfgen train` that shape the model (None: the preset's or --init's).
MODEL_OPTIONS = tuple(f.name for f in fields(TrainRequest) if f.metadata.get("model_option"))
