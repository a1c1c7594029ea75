"""Pre-training and fine-tuning: data -> examples -> optimisation -> model directory.

Reproducible by construction: batch order, noise and dropout are all seeded
from (seed, step, rank), so a run resumed from a checkpoint takes exactly the
same steps as one that never stopped. Runs under torchrun with
DistributedDataParallel (gloo on CPU, nccl on CUDA).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from cfgen import LANGUAGES
from cfgen.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from cfgen.config import ModelConfig, TrainConfig, from_dict, preset
from cfgen.data import (
    BENCHMARK_FILES,
    SNIPPET_FILES,
    Pair,
    BatchPlan,
    load_benchmark,
    load_pairs_jsonl,
    load_snippets,
    mask_identifiers,
    python_stdlib_snippets,
)
from cfgen.diffusion import GaussianDiffusion
from cfgen.errors import CheckpointError, DataError, Interrupted, UsageError
from cfgen.tokenizer import CodeTokenizer

logger = logging.getLogger(__name__)

NOISE_CONDITION = -1  # Example.text for unsupervised pre-training: E_s is Gaussian noise
NOISE_CONDITION_TOKENS = 8


class TrainingInterrupted(Interrupted):
    """Ctrl-C during training; the last whole step was checkpointed."""


@dataclass
class DataSources:
    data_dir: Path | None = None  # the CodeFusion folder (benchmarks and snippet files)
    pair_files: list[Path] = field(default_factory=list)  # JSON Lines {"nl", "code", "lang"}
    languages: tuple[str, ...] = LANGUAGES
    max_snippets: int = 0  # per language, for pre-training (0: all)


@dataclass
class Example:
    tokens: list[int]
    text: int  # index into the encoded texts, or NOISE_CONDITION
    lang: str


@dataclass
class Corpus:
    """Code to learn, with the text each piece is conditioned on (None: noise)."""

    items: list[tuple[str, str, str | None]]  # (code, lang, conditioning text)
    dev: list[tuple[str, str, str | None]]


def _benchmark_path(sources: DataSources, lang: str) -> Path:
    if sources.data_dir is None:
        raise DataError("no data directory given (--data)")
    return Path(sources.data_dir) / BENCHMARK_FILES[lang]


def _pairs_to_items(pairs: list[Pair]) -> list[tuple[str, str, str | None]]:
    return [(pair.code, pair.lang, pair.nl) for pair in pairs]


def _snippets(sources: DataSources, lang: str) -> list[str]:
    if lang == "python":
        snippets = python_stdlib_snippets()
    else:
        snippets = load_snippets(Path(sources.data_dir) / SNIPPET_FILES[lang])
    return snippets[: sources.max_snippets] if sources.max_snippets else snippets


def gather_corpus(stage: str, sources: DataSources) -> Corpus:
    items: list[tuple[str, str, str | None]] = []
    dev: list[tuple[str, str, str | None]] = []
    if stage == "pretrain":
        if sources.data_dir is None:
            raise DataError("pre-training needs the data directory with the snippet files (--data)")
        for lang in sources.languages:
            for code in _snippets(sources, lang):
                items.append((code, lang, None))  # unsupervised generation
                items.append((code, lang, mask_identifiers(code)))  # CPD
    else:
        if sources.data_dir is not None:
            for lang in sources.languages:
                items += _pairs_to_items(load_benchmark(_benchmark_path(sources, lang), "train", lang))
        for path in sources.pair_files:
            items += _pairs_to_items([p for p in load_pairs_jsonl(path) if p.lang in sources.languages])
    if sources.data_dir is not None:
        for lang in sources.languages:  # dev pairs, where the data folder has them, for the dev loss
            if _benchmark_path(sources, lang).is_file():
                dev += _pairs_to_items(load_benchmark(_benchmark_path(sources, lang), "dev", lang))
    if not items:
        raise DataError("no training data: give --data and/or --pairs")
    return Corpus(items, dev)


def sample_lengths(lengths_by_language: dict[str, list[int]], max_length: int) -> dict[str, int]:
    """Per language, the 99th-percentile sequence length rounded up to 4: what the sampler denoises."""
    result = {}
    for lang, lengths in lengths_by_language.items():
        if lengths:
            ordered = sorted(lengths)
            p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
            result[lang] = min(max_length, max(4, 4 * math.ceil(p99 / 4)))
    return result


def build_examples(items, tokenizer: CodeTokenizer, max_length: int, lengths: dict[str, int] | None = None):
    """Tokenise, fix each language's padded length (given, or the data's 99th percentile),
    and skip (and count) code longer than its language's length."""
    encoded = [(tokenizer.encode(code, lang, max_length), lang, text) for code, lang, text in items]
    if lengths is None:
        observed = {lang: [] for lang in LANGUAGES}
        for tokens, lang, _ in encoded:
            if not tokens.truncated:
                observed[lang].append(len(tokens.ids))
        lengths = sample_lengths(observed, max_length)
    examples, texts, skipped = [], {}, 0
    for tokens, lang, text in encoded:
        if tokens.truncated or len(tokens.ids) > lengths.get(lang, max_length):
            skipped += 1
            continue
        index = NOISE_CONDITION if text is None else texts.setdefault(text, len(texts))
        examples.append(Example(tokens.ids, index, lang))
    return examples, list(texts), lengths, skipped


def collate(examples: list[Example], encodings, pad_id: int, length: int, generator: torch.Generator):
    """Tokens padded to `length` (the batch's language length), E_s padded to the batch's longest."""
    tokens = torch.full((len(examples), length), pad_id, dtype=torch.long)
    conditions = []
    for row, example in enumerate(examples):
        tokens[row, : len(example.tokens)] = torch.tensor(example.tokens[:length])
        if example.text == NOISE_CONDITION:
            dim = encodings[0].shape[-1] if encodings else 384
            conditions.append(torch.randn((NOISE_CONDITION_TOKENS, dim), generator=generator))
        else:
            conditions.append(encodings[example.text].float())
    width = max(c.shape[0] for c in conditions)
    encoded = torch.zeros((len(examples), width, conditions[0].shape[-1]))
    mask = torch.zeros((len(examples), width), dtype=torch.bool)
    for row, condition in enumerate(conditions):
        encoded[row, : condition.shape[0]] = condition
        mask[row, : condition.shape[0]] = True
    return tokens, encoded, mask


class TrainingObjective(nn.Module):
    """network + diffusion behind one forward(), which DistributedDataParallel needs."""

    def __init__(self, network: nn.Module, diffusion: GaussianDiffusion) -> None:
        super().__init__()
        self.network = network
        self.diffusion = diffusion

    def forward(self, tokens, encoded, mask, generator):
        memory, padding = self.network.condition(encoded, mask)
        return self.diffusion.training_losses(self.network, tokens, memory, padding, generator)


def select_device(requested: str) -> str:
    if requested not in ("auto", "cpu", "cuda"):
        raise UsageError(f"unknown device {requested[:40]!r}; choose auto, cpu or cuda")
    if requested == "cuda" and not torch.cuda.is_available():
        logger.warning("CUDA was asked for but is not available; using the CPU")
        return "cpu"
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def learning_rate_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step) * 131 + rank


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str) -> Distributed:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    return Distributed(dist.get_rank(), dist.get_world_size(), local_rank)


def barrier(dist_info: Distributed) -> None:
    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.barrier()


@dataclass
class TrainRequest:
    output_dir: Path
    train: TrainConfig
    sources: DataSources
    size: str = "small"  # model preset when starting from scratch
    vocab_size: int = 4096
    init: Path | None = None  # an existing model directory to continue from (keeps its tokenizer)
    resume: bool = False
    device: str = "auto"
    max_shard_size: str = "16MB"
    overwrite: bool = False  # replace an earlier cfgen model or run in output_dir (never other files)


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


def _prepare_tokenizer(request: TrainRequest, corpus: Corpus) -> tuple[CodeTokenizer, ModelConfig]:
    if request.init is not None:
        from cfgen.bundle import load_model

        network, tokenizer = load_model(request.init)
        return tokenizer, network.config
    tokenizer = CodeTokenizer.train((code for code, _, _ in corpus.items), request.vocab_size)
    return tokenizer, preset(request.size, vocab_size=tokenizer.vocab_size)


def _load_run_state(request: TrainRequest):
    """The last checkpoint of the output directory, checked against this request."""
    checkpoints = list_checkpoints(request.output_dir)
    model_state, optimizer_state, info = load_checkpoint(checkpoints[-1])
    saved_train = from_dict(TrainConfig, info["train_config"])
    if replace(saved_train, steps=request.train.steps) != request.train:
        raise CheckpointError("the checkpoint was made with other training settings; resume with the same ones")
    return model_state, optimizer_state, info


def _check_output(request: TrainRequest) -> None:
    """A fresh run needs a new or empty folder, or an earlier cfgen run/model with --overwrite; --resume a run."""
    from cfgen.bundle import check_output_folder

    if request.resume:
        if not list_checkpoints(request.output_dir):
            raise CheckpointError(f"nothing to resume in {request.output_dir}: no checkpoint there")
    elif list_checkpoints(request.output_dir) and not request.overwrite:
        raise CheckpointError(f"{request.output_dir} already holds a training run; use --resume, --overwrite "
                              "or another directory")
    else:
        check_output_folder(request.output_dir, request.overwrite)


def run_training(request: TrainRequest, on_step: Callable[[StepReport], None] | None = None) -> TrainResult:
    """Train as `request` says. Rank 0 holds the output folder's RunLock throughout."""
    import contextlib

    from cfgen.bundle import RunLock

    device = select_device(request.device)
    dist_info = setup_distributed(device)
    if device == "cuda":
        torch.cuda.set_device(dist_info.local_rank)
        device = f"cuda:{dist_info.local_rank}"
    _check_output(request)
    corpus = gather_corpus(request.train.stage, request.sources)
    with RunLock(request.output_dir) if dist_info.is_main else contextlib.nullcontext():
        return _train_locked(request, corpus, device, dist_info, on_step)


def _train_locked(request: TrainRequest, corpus: Corpus, device: str, dist_info: Distributed, on_step) -> TrainResult:
    output = Path(request.output_dir)
    resumed = None
    if request.resume:
        resumed = _load_run_state(request)
        tokenizer = CodeTokenizer.load(output)
        model_config = from_dict(ModelConfig, resumed[2]["model_config"])
    else:
        if dist_info.is_main and request.overwrite:
            shutil.rmtree(output / "checkpoints", ignore_errors=True)  # the earlier run's, written by cfgen
        tokenizer, model_config = _prepare_tokenizer(request, corpus)

    known_lengths = model_config.sample_lengths if resumed else None
    examples, texts, lengths, skipped = build_examples(corpus.items, tokenizer, model_config.max_length, known_lengths)
    if not examples:
        raise DataError("every training example is longer than the model's maximum length")
    if skipped:
        logger.warning("skipped %d examples longer than their language's length %s", skipped, lengths)
    model_config = replace(model_config, sample_lengths={**model_config.sample_lengths, **lengths})
    dev_examples, dev_texts, _, _ = build_examples(corpus.dev, tokenizer, model_config.max_length, model_config.sample_lengths)

    encodings = _encode_texts(texts, dist_info, device)
    dev_encodings = _encode_texts(dev_texts, dist_info, device) if dev_examples else []

    from cfgen.model import CodeFusionModel

    torch.manual_seed(request.train.seed)
    network = CodeFusionModel(model_config)
    if request.init is not None and not resumed:
        from cfgen.bundle import load_model

        network.load_state_dict(load_model(request.init)[0].state_dict())
    diffusion = GaussianDiffusion(model_config.diffusion_steps, model_config.schedule)
    objective = TrainingObjective(network, diffusion).to(device)
    optimizer = torch.optim.AdamW(
        objective.parameters(), lr=request.train.learning_rate, weight_decay=request.train.weight_decay
    )
    start_step = 0
    if resumed:
        model_state, optimizer_state, info = resumed
        try:
            network.load_state_dict(model_state)
            optimizer.load_state_dict(optimizer_state)
        except (RuntimeError, ValueError, KeyError) as error:
            raise CheckpointError(f"the checkpoint does not match this model: {str(error).splitlines()[0]}") from None
        start_step = info["step"]
    elif dist_info.is_main:
        output.mkdir(parents=True, exist_ok=True)
        tokenizer.save(output)
    trained = objective
    if dist_info.world_size > 1:
        trained = nn.parallel.DistributedDataParallel(objective, device_ids=[dist_info.local_rank] if device.startswith("cuda") else None)

    loop = _Loop(request, network, tokenizer, trained, optimizer, examples, encodings, dev_examples, dev_encodings, device, dist_info)
    if request.train.stage == "finetune":
        loop.index = _index_of(corpus.items, texts, encodings)
    return loop.run(start_step, on_step, skipped)


def _index_of(items, texts: list[str], encodings, tuned: frozenset[str] = frozenset(), tune_steps: int = 0):
    """The retrieval index of the fine-tuning pairs (their E_s are already computed).

    `tuned` languages get a retrieval head trained for `tune_steps` on these pairs.
    """
    from cfgen.retrieval import RetrievalIndex
    from cfgen.slots import MASKED_LANGUAGES, mask

    position = {text: i for i, text in enumerate(texts)}
    pairs = [Pair(text, code, lang) for code, lang, text in items if text in position]
    pair_encodings = [encodings[position[p.nl]] for p in pairs]
    # Languages retrieved by masked request: their requests encoded once more, masked.
    masked_texts = [mask(p.nl) for p in pairs if p.lang in MASKED_LANGUAGES]
    head = _retrieval_head(pairs, pair_encodings, tuned, tune_steps) if tuned else None
    return RetrievalIndex.build(pairs, pair_encodings, MASKED_LANGUAGES, _encode_texts(masked_texts, Distributed(), "cpu"),
                                head)


def _retrieval_head(pairs: list[Pair], encodings, languages: frozenset[str], steps: int):
    """A retrieval head trained on the pairs of `languages`, programs grouped by normal form."""
    from cfgen.languages import get_language
    from cfgen.retrieval_head import fit_retrieval_head

    rows = [i for i, p in enumerate(pairs) if p.lang in languages]
    labels = [f"{pairs[i].lang}\0{get_language(pairs[i].lang).normalise(pairs[i].code)}" for i in rows]
    logger.info("training the retrieval head for %s on %d requests, %d steps", ", ".join(sorted(languages)), len(rows), steps)
    return fit_retrieval_head([encodings[i] for i in rows], labels, languages, steps)


def build_index(sources: DataSources, tuned: frozenset[str] = frozenset(), tune_steps: int = 0):
    """A retrieval index of the benchmark train splits (and pair files), for an existing model."""
    corpus = gather_corpus("finetune", sources)
    texts = list(dict.fromkeys(text for _, _, text in corpus.items))
    return _index_of(corpus.items, texts, _encode_texts(texts, Distributed(), "cpu"), tuned, tune_steps)


def _encode_texts(texts: list[str], dist_info: Distributed, device: str):
    from cfgen.encodings import cached_encodings
    from cfgen.encoder import TextEncoder

    make_encoder = lambda: TextEncoder(device=device.split(":")[0] if device.startswith("cuda") else "cpu")  # noqa: E731
    if dist_info.is_main:
        encodings = cached_encodings(texts, make_encoder)
    barrier(dist_info)  # rank 0 filled the cache; the others read it
    if not dist_info.is_main:
        encodings = cached_encodings(texts, make_encoder)
    return encodings


class _Loop:
    def __init__(self, request, network, tokenizer, trained, optimizer, examples, encodings, dev_examples, dev_encodings, device, dist_info):
        self.request, self.config = request, request.train
        self.network, self.tokenizer, self.trained, self.optimizer = network, tokenizer, trained, optimizer
        self.examples, self.encodings = examples, encodings
        self.dev_examples, self.dev_encodings = dev_examples, dev_encodings
        self.device, self.dist = device, dist_info
        self.index = None  # a RetrievalIndex saved beside fine-tuned models
        self.plan = BatchPlan([e.lang for e in examples], request.train.batch_size, request.train.seed)

    def _length(self, lang: str) -> int:
        return self.config.fixed_padding or self.network.config.sample_lengths[lang]

    def _local_batch(self, step: int, generator: torch.Generator):
        indices = self.plan.batch(step)
        mine = indices[self.dist.rank :: self.dist.world_size] or indices[:1]
        batch = [self.examples[i] for i in mine]
        length = self._length(batch[0].lang)
        tokens, encoded, mask = collate(batch, self.encodings, self.tokenizer.pad_id, length, generator)
        real_tokens = sum(len(e.tokens) for e in batch)
        return tokens.to(self.device), encoded.to(self.device), mask.to(self.device), real_tokens

    def _train_step(self, step: int) -> tuple[dict, int]:
        torch.manual_seed(step_seed(self.config.seed, step, self.dist.rank))  # dropout
        generator = torch.Generator().manual_seed(step_seed(self.config.seed, step, self.dist.rank))
        tokens, encoded, mask, real_tokens = self._local_batch(step, generator)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate * learning_rate_factor(step, self.config)
        self.trained.train()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.startswith("cuda")):
            terms = self.trained(tokens, encoded, mask, generator)
        self.optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        if self.config.grad_clip:
            nn.utils.clip_grad_norm_(self.trained.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return {k: v.item() for k, v in terms.items()}, real_tokens

    @torch.no_grad()
    def dev_loss(self) -> float | None:
        if not self.dev_examples:
            return None
        self.trained.eval()
        generator = torch.Generator().manual_seed(12345)
        objective = self.trained.module if hasattr(self.trained, "module") else self.trained
        total, count = 0.0, 0
        for lang in LANGUAGES:
            subset = [e for e in self.dev_examples if e.lang == lang][:128]
            for start in range(0, len(subset), 64):
                chunk = subset[start : start + 64]
                tokens, encoded, mask = collate(chunk, self.dev_encodings, self.tokenizer.pad_id, self._length(lang), generator)
                terms = objective(tokens.to(self.device), encoded.to(self.device), mask.to(self.device), generator)
                total, count = total + terms["loss"].item() * len(chunk), count + len(chunk)
        return total / count if count else None

    def save(self, step: int) -> None:
        if not self.dist.is_main:
            return
        from cfgen.bundle import save_model

        info = {"train_config": asdict(self.config), "model_config": asdict(self.network.config)}
        save_checkpoint(self.request.output_dir, step, self.network.state_dict(), self.optimizer.state_dict(), info)
        save_model(self.network, self.tokenizer, self.request.output_dir, self.request.max_shard_size,
                   index=self.index)

    def run(self, start_step: int, on_step, skipped: int) -> TrainResult:
        """Steps until done or Ctrl-C; Ctrl-C takes effect between steps, so a checkpoint never holds half a step."""
        step, loss, dev = start_step, float("nan"), None
        started, tokens_seen, saved = time.perf_counter(), 0, start_step
        with _StopOnInterrupt() as stop:
            while step < self.config.steps and not self._stopping(stop):
                terms, real_tokens = self._train_step(step)
                step += 1
                loss, tokens_seen = terms["loss"], tokens_seen + real_tokens
                dev = self.dev_loss() if self.config.eval_every and step % self.config.eval_every == 0 else None
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
        return TrainResult(self.request.output_dir, step, len(self.examples), skipped, loss, dev)

    def _stopping(self, stop: "_StopOnInterrupt") -> bool:
        """Whether any rank was interrupted (all ranks stop at the same step)."""
        if self.dist.world_size == 1:
            return stop.requested
        import torch.distributed as dist

        flag = torch.tensor([1.0 if stop.requested else 0.0], device=self.device)
        dist.all_reduce(flag)
        return bool(flag.item())


class _StopOnInterrupt:
    """While active, SIGINT asks the loop to stop after the current step instead of raising mid-step.

    A second Ctrl-C while the checkpoint is written is logged, not raised, so
    it can neither leave a traceback nor a half-written checkpoint. Outside the
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
