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
import shutil
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from cfgen import LANGUAGES
from cfgen.bundle import BEST, CHECKPOINTS, TOKENIZER, check_output_folder, load_model, save_model
from cfgen.checkpoint import list_checkpoints, load_checkpoint, remove_partial_checkpoints, save_checkpoint
from cfgen.config import MODEL_PRESETS, ModelConfig, TrainConfig, from_dict, preset
from cfgen.corpus import BatchPlan, Corpus, DataSources, build_examples, collate, encode_texts, gather_corpus
from cfgen.errors import CheckpointError, DataError, Interrupted, UsageError
from cfgen.files import RunLock, first_line
from cfgen.processes import make_process, process_module
from cfgen.runtime import Distributed, any_rank, barrier, select_device, setup_distributed
from cfgen.tokenizer import CodeTokenizer

logger = logging.getLogger(__name__)


class TrainingInterrupted(Interrupted):
    """Ctrl-C during training; the last whole step was checkpointed."""


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
    keep_best: bool = False  # also keep the model of the lowest dev loss so far in output_dir/BEST


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


class TrainingObjective(nn.Module):
    """network + forward process behind one forward(), which DistributedDataParallel needs."""

    def __init__(self, network: nn.Module, process) -> None:
        super().__init__()
        self.network, self.process = network, process

    def forward(self, tokens, encoded, mask, neighbours, neighbour_mask, generator):
        condition = self.network.condition(encoded, mask, neighbours, neighbour_mask)
        return self.process.training_losses(self.network, tokens, condition, generator)


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
    _check_output(request)
    resumed = _load_run_state(request) if request.resume else None  # its settings checked against the request
    if resumed and resumed.info["step"] >= request.train.steps:
        return TrainResult(request.output_dir, resumed.info["step"], 0, 0, math.nan, None, already_done=True)
    corpus = gather_corpus(request.train.stage, request.sources)
    with RunLock(request.output_dir) if dist_info.is_main else contextlib.nullcontext():
        if dist_info.is_main:
            remove_partial_checkpoints(request.output_dir)
        return TrainingLoop(request, corpus, device, dist_info, resumed).run(on_step)


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
    """Everything a run needs, prepared at construction (tokenizer, examples, E_s, network, optimizer, index)."""

    def __init__(self, request: TrainRequest, corpus: Corpus, device: str, dist_info: Distributed,
                 resumed: "_RunState | None" = None) -> None:
        self.request, self.config, self.device, self.dist = request, request.train, device, dist_info
        output = Path(request.output_dir)
        if resumed:
            tokenizer, model_config = CodeTokenizer.load(output / TOKENIZER), resumed.model_config
        else:
            if dist_info.is_main and request.overwrite:  # the earlier run's, written by cfgen
                shutil.rmtree(output / CHECKPOINTS, ignore_errors=True)
                shutil.rmtree(output / BEST, ignore_errors=True)
            tokenizer, model_config = _tokenizer_and_config(request, corpus)
        self.tokenizer = tokenizer

        known = model_config.sample_lengths if resumed else None
        self.examples, texts, lengths, self.skipped = build_examples(corpus.pairs, tokenizer, model_config.max_length, known,
                                                                            model_config.slots)
        if not self.examples:
            raise DataError("every training example is longer than the model's maximum length")
        if self.skipped:
            logger.warning("skipped %d examples longer than their language's length %s", self.skipped, lengths)
        model_config = replace(model_config, sample_lengths={**model_config.sample_lengths, **lengths})
        self.dev_examples, dev_texts, _, _ = build_examples(corpus.dev, tokenizer, model_config.max_length,
                                                            model_config.sample_lengths, model_config.slots)
        self.encodings = encode_texts(texts, dist_info, device)
        self.dev_encodings = encode_texts(dev_texts, dist_info, device) if self.dev_examples else []
        if request.keep_best and not self.dev_examples:
            logger.warning("--keep-best keeps nothing: the training data has no dev split")

        from cfgen.model import CodeFusionModel

        torch.manual_seed(self.config.seed)
        self.network = CodeFusionModel(model_config)
        if request.init is not None and not resumed:
            _load_matching(self.network, load_model(request.init)[0].state_dict())
        process = make_process(model_config.process, model_config.diffusion_steps, model_config.schedule)
        self.objective = TrainingObjective(self.network, process).to(device)
        self.optimizer = torch.optim.AdamW(self.objective.parameters(), lr=self.config.learning_rate,
                                           weight_decay=self.config.weight_decay)
        self.start_step = resumed.restore(self.network, self.optimizer) if resumed else 0
        self.best_dev = resumed.info.get("best_dev_loss", math.inf) if resumed else math.inf
        if not resumed and dist_info.is_main:
            output.mkdir(parents=True, exist_ok=True)
            tokenizer.save(output / TOKENIZER)  # what --resume reads back
        self.trained = self.objective
        if dist_info.world_size > 1:
            ids = [dist_info.local_rank] if device.startswith("cuda") else None
            self.trained = nn.parallel.DistributedDataParallel(self.objective, device_ids=ids)
        self.plan = BatchPlan([e.lang for e in self.examples], self.config.batch_size, self.config.seed)
        self.index = None  # a retrieval index is saved beside fine-tuned models
        if self.config.stage == "finetune":
            from cfgen.indexing import index_of

            self.index = index_of(corpus.pairs, texts, self.encodings)
            if model_config.neighbours:
                indexed = set(texts)
                rows = [i for i, pair in enumerate(corpus.pairs) if pair.nl in indexed]  # the index's rows
                row_of_pair = {pair: row for row, pair in enumerate(rows)}
                self._attach_neighbours(self.examples, texts, self.encodings, lambda e: row_of_pair.get(e.pair))
                self._attach_neighbours(self.dev_examples, dev_texts, self.dev_encodings, lambda e: None)

    def _attach_neighbours(self, examples, texts: list[str], encodings, own_row: Callable) -> None:
        """Each example's nearest training programs but its own pair's (leave-one-out), as neighbours.py tokenises them."""
        from cfgen.neighbours import neighbour_ids, retrieval_encodings

        encode = lambda batch: encode_texts(batch, Distributed(), "cpu")  # cached: index_of encoded them
        k = self.network.config.neighbours
        for lang in LANGUAGES:
            group = [e for e in examples if e.lang == lang and e.text >= 0]
            for start in range(0, len(group), 512):
                chunk = group[start : start + 512]
                requests = [texts[e.text] for e in chunk]
                query = retrieval_encodings(self.index, encode, requests, [encodings[e.text] for e in chunk], lang)
                found = neighbour_ids(self.index, self.tokenizer, requests, query, lang, k, self._length(lang),
                                      exclude=[own_row(e) for e in chunk])
                for example, programs in zip(chunk, found):
                    example.neighbours = programs
        logger.info("attached %d retrieved programs to each of %d examples", k, len(examples))

    def run(self, on_step: Callable[[StepReport], None] | None = None) -> TrainResult:
        """Steps until done or Ctrl-C; Ctrl-C takes effect between steps, so a checkpoint never holds half a step."""
        step, loss, dev = self.start_step, float("nan"), None
        started, tokens_seen, saved = time.perf_counter(), 0, self.start_step
        with _StopOnInterrupt() as stop:
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
                raise TrainingInterrupted(f"interrupted at step {step}; checkpoint saved, continue with --resume")
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
                          self._neighbours)
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
        for lang in LANGUAGES:
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


DEFAULT_SIZE, DEFAULT_VOCAB = "small", 4096


def _tokenizer_and_config(request: TrainRequest, corpus: Corpus) -> tuple[CodeTokenizer, ModelConfig]:
    if request.init is not None:
        network, tokenizer = load_model(request.init)
        config = network.config
    else:
        tokenizer = CodeTokenizer.train((pair.code for pair in corpus.pairs), request.vocab_size or DEFAULT_VOCAB)
        config = preset(request.size or DEFAULT_SIZE, vocab_size=tokenizer.vocab_size)
    changes = {name: getattr(request, name) for name in ("neighbours", "copy", "aligned", "slots")
               if getattr(request, name) is not None}
    if request.process is not None and request.process != config.process:
        changes.update(process=request.process, schedule=process_module(request.process).DEFAULT_SCHEDULE)
    try:
        return tokenizer, replace(config, **changes)
    except ValueError as error:  # e.g. --copy without neighbours
        raise UsageError(str(error)) from None


# Parameters a model gains with --process masked or --neighbours: new when starting from a model without them.
_NEW_PARTS = ("neighbour_input.", "neighbour_rank.", "mask_vector", "copy_query.", "copy_gate.", "aligned_input.")


def _load_matching(network: nn.Module, state: dict) -> None:
    """--init's weights into `network`; only the parts a changed process or neighbour count adds may be missing."""
    missing, unexpected = network.load_state_dict(state, strict=False)
    left = [name for name in missing if not name.startswith(_NEW_PARTS)]
    if left or unexpected:
        raise CheckpointError(f"--init's weights do not fit this model: {', '.join((left + unexpected)[:3])}")


@dataclass
class _RunState:
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


def _load_run_state(request: TrainRequest) -> _RunState:
    """The last checkpoint of the output directory, checked against this request (training settings, and the
    model options given: --resume never silently ignores one)."""
    state = _RunState(*load_checkpoint(list_checkpoints(request.output_dir)[-1]))
    if replace(from_dict(TrainConfig, state.info["train_config"]), steps=request.train.steps) != request.train:
        raise CheckpointError("the checkpoint was made with other training settings; resume with the same ones")
    saved = state.model_config
    asked = {name: getattr(request, name) for name in ("vocab_size", "process", "neighbours", "copy", "aligned", "slots")}
    differing = [f"--{name.replace('_', '-')} {value}" for name, value in asked.items()
                 if value is not None and getattr(saved, name) != value]
    if request.size is not None and any(getattr(saved, k) != v for k, v in MODEL_PRESETS[request.size].items()):
        differing.append(f"--size {request.size}")
    if differing:
        raise UsageError(f"--resume continues the run's own model; {', '.join(differing)} differs from it "
                         "(leave the option out, or start a new run)")
    return state


class _StopOnInterrupt:
    """While active, SIGINT asks the loop to stop after the current step instead of raising mid-step.

    A second Ctrl-C while the checkpoint is written is logged, not raised, so
    it can leave neither a traceback nor a half-written checkpoint. Outside the
    main thread (where signals cannot be caught) Ctrl-C keeps its default.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if self.requested:
            logger.warning("finishing the current step and saving a checkpoint; please wait")
        self.requested = True

    def __enter__(self) -> "_StopOnInterrupt":
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
