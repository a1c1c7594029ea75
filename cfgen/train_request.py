"""What one `cfgen train` run is asked to do: the request that train.py runs and prepare.py prepares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cfgen.config import TrainConfig
from cfgen.corpus import DataSources


@dataclass
class TrainRequest:
    output_dir: Path
    train: TrainConfig
    sources: DataSources
    size: str | None = None  # model preset when starting from scratch (None: small)
    vocab_size: int | None = None  # code BPE vocabulary when starting from scratch (None: 4096)
    init: Path | None = None  # an existing model directory to continue from (keeps its tokenizer)
    resume: bool = False
    device: str = "auto"
    max_shard_size: str = "16MB"
    overwrite: bool = False  # replace an earlier cfgen model or run in output_dir (never other files)
    process: str | None = None  # forward process of a new model (default: the preset's, or --init's)
    neighbours: int | None = None  # retrieved programs a new model reads (default: the preset's, or --init's)
    copy: bool | None = None  # whether a new model reading neighbours may copy their tokens (default: --init's)
    aligned: bool | None = None  # whether it also reads the nearest program position by position (default: --init's)
    slots: bool | None = None  # whether it writes the request's values as placeholders (default: --init's)
    templates: bool | None = None  # whether it writes Bash as templates (a new model only; default: --init's)
    request_dropout: float | None = None  # share of examples trained without their request (default: --init's)
    keep_best: bool = False  # also keep the model of the lowest dev loss so far in output_dir/BEST
