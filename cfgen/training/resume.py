"""--resume: a run's last checkpoint, checked against the request that continues it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn

from cfgen.training.checkpoint import list_checkpoints, load_checkpoint
from cfgen.config import MODEL_PRESETS, ModelConfig, TrainConfig, from_dict
from cfgen.errors import CheckpointError, UsageError
from cfgen.model_files.files import first_line
from cfgen.training.train_request import MODEL_OPTIONS


@dataclass
class RunState:
    model_state: dict
    optimizer_state: dict
    info: dict

    @property
    def model_config(self) -> ModelConfig:
        return from_dict(ModelConfig, self.info["model_config"])

    def restore(self, network: nn.Module, optimizer) -> int:
        """Load the saved weights and optimizer; the step to continue from."""
        try:
            network.load_state_dict(self.model_state)
            optimizer.load_state_dict(self.optimizer_state)
        except (RuntimeError, ValueError, KeyError) as error:
            raise CheckpointError(f"the checkpoint does not match this model: {first_line(error)}") from None
        return self.info["step"]


def load_run_state(request) -> RunState:
    """The last checkpoint of the output directory, checked against this request (training settings, and the
    model options given: --resume never silently ignores one)."""
    state = RunState(*load_checkpoint(list_checkpoints(request.output_dir)[-1]))
    if replace(from_dict(TrainConfig, state.info["train_config"]), steps=request.train.steps) != request.train:
        raise CheckpointError("the checkpoint was made with other training settings; resume with the same ones")
    saved = state.model_config
    asked = {name: getattr(request, name) for name in MODEL_OPTIONS}
    differing = [f"--{name.replace('_', '-')} {value}" for name, value in asked.items()
                 if value is not None and getattr(saved, name) != value]
    if request.size is not None and any(getattr(saved, k) != v for k, v in MODEL_PRESETS[request.size].items()):
        differing.append(f"--size {request.size}")
    if differing:
        raise UsageError(f"--resume continues the run's own model; {', '.join(differing)} differs from it "
                         "(leave the option out, or start a new run)")
    return state
