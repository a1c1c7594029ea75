"""Training checkpoints: written atomically, loaded without pickle.

A checkpoint is a directory `checkpoints/step-NNNNNNNN/` holding the model and
optimizer tensors as safetensors plus `state.json` (step, configs, optimizer
scalars). It is written under a temporary name and renamed into place, so a
crash leaves either the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cfgen.model_files.bundle import CHECKPOINTS as DIRECTORY
from cfgen.errors import CheckpointError
from cfgen.model_files.files import first_line

KEEP = 2


def _checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def list_checkpoints(run_directory: Path) -> list[Path]:
    root = Path(run_directory) / DIRECTORY
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.name.startswith("step-") and (path / "state.json").is_file())


def remove_partial_checkpoints(run_directory: Path) -> None:
    """Temporary checkpoint folders that a killed run left behind (call with the run's lock held)."""
    for partial in (Path(run_directory) / DIRECTORY).glob(".tmp-*"):
        shutil.rmtree(partial, ignore_errors=True)


def _flatten_optimizer(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for param_id, param_state in state_dict["state"].items():
        for key, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"{param_id}.{key}"] = value.detach().contiguous().cpu()
            else:
                scalars[f"{param_id}.{key}"] = value
    return tensors, {"scalars": scalars, "param_groups": state_dict["param_groups"]}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for flat_key, value in [*tensors.items(), *meta["scalars"].items()]:
        param_id, key = flat_key.split(".", 1)
        state.setdefault(int(param_id), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(run_directory: Path, step: int, model_state: dict, optimizer_state: dict, info: dict) -> Path:
    """Write checkpoint `step` under a temporary name, then rename it into place; CheckpointError if it cannot be
    written (disk full, say), with nothing left behind."""
    root = Path(run_directory) / DIRECTORY
    final = root / _checkpoint_name(step)
    temporary = root / f".tmp-{_checkpoint_name(step)}-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
        save_file(
            {k: v.detach().contiguous().cpu() for k, v in model_state.items()}, str(temporary / "model.safetensors")
        )
        optimizer_tensors, optimizer_meta = _flatten_optimizer(optimizer_state)
        save_file(optimizer_tensors, str(temporary / "optimizer.safetensors"))
        state = {"step": step, "optimizer": optimizer_meta, **info}
        (temporary / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(temporary, final)
    except (OSError, SafetensorError) as error:
        shutil.rmtree(temporary, ignore_errors=True)
        reason = first_line(error)
        # --resume needs a checkpoint to resume from; without one the run starts again over its own files
        then = (
            "continue with --resume"
            if list_checkpoints(run_directory)
            else "run the same command again with --overwrite"
        )
        raise CheckpointError(
            f"cannot write the checkpoint of step {step} in {root} ({reason}); free some space and {then}"
        ) from None
    for old in list_checkpoints(run_directory)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path) -> tuple[dict, dict, dict]:
    """(model state, optimizer state, info) of one checkpoint directory."""
    try:
        info = json.loads((path / "state.json").read_text(encoding="utf-8"))
        model_state = load_file(str(path / "model.safetensors"))
        optimizer_state = _unflatten_optimizer(load_file(str(path / "optimizer.safetensors")), info.pop("optimizer"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, SafetensorError) as error:
        raise CheckpointError(
            f"checkpoint {path} is corrupt ({error}); delete it to resume from an older one"
        ) from None
    return model_state, optimizer_state, info
