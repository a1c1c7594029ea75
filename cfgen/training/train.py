"""Pre-training and fine-tuning: a request -> a prepared run -> the loop -> a model directory.

Reproducible by construction: batch order, noise and dropout are all seeded
from (seed, step, rank), so a run resumed from a checkpoint takes exactly the
same steps as one that never stopped, and Ctrl-C takes effect only between
steps. Runs under torchrun with DistributedDataParallel (gloo on CPU, nccl on
CUDA); rank 0 holds the output folder's lock and writes everything.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from cfgen.model_files.bundle import BEST, check_output_folder, refuse_foreign_folder, save_model
from cfgen.training.checkpoint import list_checkpoints, remove_partial_checkpoints, save_checkpoint
from cfgen.config import TrainConfig
from cfgen.training.corpus import BatchPlan, collate, gather_corpus
from cfgen.errors import CheckpointError, Interrupted
from cfgen.model_files.files import RunLock, remove_if_empty
from cfgen.languages import language_names
from cfgen.training.prepare import PreparedRun, prepare_run
from cfgen.training.resume import load_run_state
from cfgen.runtime import Distributed, StopOnInterrupt, any_rank, barrier, select_device, setup_distributed
from cfgen.training.train_request import TrainRequest

logger = logging.getLogger(__name__)


class TrainingInterrupted(Interrupted):
    """Ctrl-C or SIGTERM during training; the last whole step was checkpointed. Exit 130 after Ctrl-C, 143 after
    SIGTERM (128 + the signal, as a shell reports a command a signal ended)."""

    def __init__(self, message: str, signal_number: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = 128 + (signal_number or signal.SIGINT)


def _signal_name(signal_number: int | None) -> str:
    return "stopped by SIGTERM" if signal_number == signal.SIGTERM else "interrupted"


@dataclass
class StepReport:
    step: int
    total: int
    loss: float
    tokens_per_second: float
    dev_loss: float | None = None


@dataclass
class TrainResult:
    output_dir: Path
    steps: int
    examples: int
    skipped: int
    final_loss: float
    dev_loss: float | None
    already_done: bool = False  # --resume of a run that had trained all its steps: nothing was done


def learning_rate_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step) * 131 + rank


def run_training(request: TrainRequest, on_step: Callable[[StepReport], None] | None = None) -> TrainResult:
    device = select_device(request.device)
    dist_info = setup_distributed(device)
    if device == "cuda":
        torch.cuda.set_device(dist_info.local_rank)
        device = f"cuda:{dist_info.local_rank}"
    refuse_foreign_folder(request.output_dir)  # before the lock file goes in: a folder not ours gets nothing
    # The folder is locked before it is read, so that two runs on it can never mix a checkpoint of one with the
    # tokenizer of the other, nor one overwrite the model the other just finished: the second says "in use".
    created = not Path(request.output_dir).exists()
    try:
        with RunLock(request.output_dir) if dist_info.is_main else contextlib.nullcontext():
            return _train_locked(request, device, dist_info, on_step)
    except BaseException:
        if created and dist_info.is_main:  # bad data, a full disk before the first checkpoint: no empty folder
            remove_if_empty(request.output_dir)
        raise


def _train_locked(request: TrainRequest, device: str, dist_info: Distributed,
                  on_step: Callable[[StepReport], None] | None) -> TrainResult:
    """The run itself, its folder locked: checked, resumed or prepared, then trained."""
    _check_output(request)
    resumed = load_run_state(request) if request.resume else None  # its settings checked against the request
    if resumed and resumed.info["step"] >= request.train.steps:
        return TrainResult(request.output_dir, resumed.info["step"], 0, 0, math.nan, None, already_done=True)
    corpus = gather_corpus(request.train.stage, request.sources)
    if dist_info.is_main:
        remove_partial_checkpoints(request.output_dir)
    prepared = prepare_run(request, corpus, device, dist_info, resumed)
    return TrainingLoop(request, prepared, device, dist_info).run(on_step)


def _check_output(request: TrainRequest) -> None:
    """A fresh run needs a new or empty folder, or an earlier cfgen run/model with --overwrite; --resume a run."""
    if request.resume:
        if not list_checkpoints(request.output_dir):
            raise CheckpointError(f"nothing to resume in {request.output_dir}: no checkpoint there")
    elif list_checkpoints(request.output_dir) and not request.overwrite:
        raise CheckpointError(f"{request.output_dir} already holds a training run; use --resume, --overwrite "
                              "or another directory")
    else:
        check_output_folder(request.output_dir, request.overwrite)


class TrainingLoop:
    """The steps of a prepared run: train, report the dev loss, checkpoint."""

    def __init__(self, request: TrainRequest, prepared: PreparedRun, device: str, dist_info: Distributed) -> None:
        self.request, self.config, self.device, self.dist = request, request.train, device, dist_info
        self.tokenizer, self.network, self.objective = prepared.tokenizer, prepared.network, prepared.objective
        self.optimizer, self.index, self.skipped = prepared.optimizer, prepared.index, prepared.skipped
        self.examples, self.encodings = prepared.examples, prepared.encodings
        self.dev_examples, self.dev_encodings = prepared.dev_examples, prepared.dev_encodings
        self.empty_request = prepared.empty_request
        self.start_step, self.best_dev = prepared.start_step, prepared.best_dev
        self.trained = self.objective
        if dist_info.world_size > 1:
            ids = [dist_info.local_rank] if device.startswith("cuda") else None
            self.trained = nn.parallel.DistributedDataParallel(self.objective, device_ids=ids)
        self.plan = BatchPlan([e.lang for e in self.examples], self.config.batch_size, self.config.seed,
                              self.config.language_temperature)

    def run(self, on_step: Callable[[StepReport], None] | None = None) -> TrainResult:
        """Steps until done or Ctrl-C; Ctrl-C takes effect between steps, so a checkpoint never holds half a step."""
        step, loss, dev = self.start_step, float("nan"), None
        started, tokens_seen, saved = time.perf_counter(), 0, self.start_step
        with StopOnInterrupt() as stop:
            while step < self.config.steps and not any_rank(stop.requested, self.dist, self.device):
                loss, real_tokens = self.train_step(step)
                step += 1
                tokens_seen += real_tokens
                dev = self.dev_loss() if self.config.eval_every and step % self.config.eval_every == 0 else None
                if dev is not None and dev < self.best_dev:
                    self._record_dev_loss(step, dev)
                if step % self.config.checkpoint_every == 0 or step == self.config.steps:
                    self.save(step)
                    saved = step
                if on_step and self.dist.is_main:
                    rate = tokens_seen * self.dist.world_size / max(1e-9, time.perf_counter() - started)
                    on_step(StepReport(step, self.config.steps, loss, rate, dev))
            if step < self.config.steps:
                if saved != step:
                    self.save(step)
                raise TrainingInterrupted(f"{_signal_name(stop.signal_number)} at step {step}; checkpoint saved, "
                                          "continue with --resume", stop.signal_number)
        barrier(self.dist)
        return TrainResult(self.request.output_dir, step, len(self.examples), self.skipped, loss, dev)

    def _record_dev_loss(self, step: int, dev: float) -> None:
        """With --keep-best, the model of this lowest dev loss so far becomes output_dir/BEST (published whole)."""
        self.best_dev = dev
        if self.request.keep_best and self.dist.is_main:
            save_model(self.network, self.tokenizer, Path(self.request.output_dir) / BEST,
                       self.request.max_shard_size, index=self.index)
            logger.info("step %d: dev loss %.4f, the lowest so far; model kept in %s", step, dev,
                        Path(self.request.output_dir) / BEST)

    def train_step(self, step: int) -> tuple[float, int]:
        torch.manual_seed(step_seed(self.config.seed, step, self.dist.rank))  # dropout
        generator = torch.Generator().manual_seed(step_seed(self.config.seed, step, self.dist.rank))
        indices = self.plan.batch(step)
        batch = [self.examples[i] for i in indices[self.dist.rank :: self.dist.world_size] or indices[:1]]
        tensors = collate(batch, self.encodings, self.tokenizer.pad_id, self._length(batch[0].lang), generator,
                          self._neighbours, self.network.config.request_dropout, self.empty_request)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate * learning_rate_factor(step, self.config)
        self.trained.train()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            terms = self.trained(*_to(tensors, self.device), generator)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        if self.config.grad_clip:
            nn.utils.clip_grad_norm_(self.trained.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return terms["loss"].item(), sum(len(e.tokens) for e in batch)

    def _length(self, lang: str) -> int:
        return self.network.config.sample_lengths[lang]

    @property
    def _neighbours(self) -> int:
        """k for batches: the model's, once fine-tuning attached retrieved programs (pre-training has none)."""
        return self.network.config.neighbours if self.index is not None else 0

    @torch.no_grad()
    def dev_loss(self) -> float | None:
        if not self.dev_examples:
            return None
        self.objective.eval()
        generator = torch.Generator().manual_seed(12345)
        total, count = 0.0, 0
        for lang in language_names():
            subset = [e for e in self.dev_examples if e.lang == lang][:128]
            for start in range(0, len(subset), 64):
                chunk = subset[start : start + 64]
                tensors = collate(chunk, self.dev_encodings, self.tokenizer.pad_id, self._length(lang), generator,
                                  self._neighbours)
                terms = self.objective(*_to(tensors, self.device), generator)
                total, count = total + terms["loss"].item() * len(chunk), count + len(chunk)
        return total / count if count else None

    def save(self, step: int) -> None:
        if not self.dist.is_main:
            return
        info = {"train_config": asdict(self.config), "model_config": asdict(self.network.config)}
        if math.isfinite(self.best_dev):
            info["best_dev_loss"] = self.best_dev
        save_checkpoint(self.request.output_dir, step, self.network.state_dict(), self.optimizer.state_dict(), info)
        save_model(self.network, self.tokenizer, self.request.output_dir, self.request.max_shard_size, index=self.index)


def _to(tensors: tuple, device: str) -> list:
    return [None if tensor is None else tensor.to(device) for tensor in tensors]
