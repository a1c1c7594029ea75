"""A training run prepared from top to bottom before its first step (nanoGPT's init block): tokenizer and model
config, examples and their E_s, network and optimizer (restored on --resume), retrieval index and the
neighbours each example reads."""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from cfgen.model_files.bundle import BEST, CHECKPOINTS, TOKENIZER, load_model
from cfgen.config import ModelConfig, preset
from cfgen.training.corpus import Corpus, build_examples, encode_requests, encode_texts, target
from cfgen.errors import DataError, UsageError
from cfgen.languages.bash_template import closed_class
from cfgen.processes import make_process, process_module
from cfgen.training.resume import RunState
from cfgen.runtime import Distributed
from cfgen.tokenizer import CodeTokenizer
from cfgen.training.train_request import MODEL_OPTIONS, TrainRequest
from cfgen.values.written_form import WrittenForm

logger = logging.getLogger(__name__)


class TrainingObjective(nn.Module):
    """network + forward process behind one forward(), which DistributedDataParallel needs."""

    def __init__(self, network: nn.Module, process) -> None:
        super().__init__()
        self.network, self.process = network, process

    def forward(self, tokens, encoded, mask, neighbours, neighbour_mask, generator):
        condition = self.network.condition(encoded, mask, neighbours, neighbour_mask)
        return self.process.training_losses(self.network, tokens, condition, generator)


@dataclass
class PreparedRun:
    """Everything the loop needs, made by `prepare_run`."""

    tokenizer: CodeTokenizer
    network: nn.Module
    objective: TrainingObjective
    optimizer: torch.optim.Optimizer
    examples: list
    encodings: list
    dev_examples: list
    dev_encodings: list
    skipped: int
    index: object | None  # the retrieval index saved beside a fine-tuned model (None when pre-training)
    empty_request: torch.Tensor | None = None  # E_s of "", for a model trained with request dropout
    start_step: int = 0
    best_dev: float = math.inf


def prepare_run(request: TrainRequest, corpus: Corpus, device: str, dist_info: Distributed,
                resumed: RunState | None = None) -> PreparedRun:
    """A run from top to bottom: tokenizer and model config, examples, E_s, network and optimizer (restored on
    --resume), retrieval index and the neighbours each example reads."""
    output = Path(request.output_dir)
    if resumed:
        tokenizer, model_config, initial = CodeTokenizer.load(output / TOKENIZER), resumed.model_config, None
    else:
        if dist_info.is_main and request.overwrite:  # the earlier run's, written by cfgen
            shutil.rmtree(output / CHECKPOINTS, ignore_errors=True)
            shutil.rmtree(output / BEST, ignore_errors=True)
        tokenizer, model_config, initial = _tokenizer_config_and_weights(request, corpus)

    known = model_config.sample_lengths if resumed else None
    form = WrittenForm.of(model_config)
    examples, texts, lengths, skipped = build_examples(corpus.pairs, tokenizer, model_config.max_length, known, form)
    if not examples:
        raise DataError("every training example is longer than the model's maximum length")
    if skipped:
        logger.warning("skipped %d examples longer than their language's length %s", skipped, lengths)
    model_config = replace(model_config, sample_lengths={**model_config.sample_lengths, **lengths})
    dev_examples, dev_texts, _, _ = build_examples(corpus.dev, tokenizer, model_config.max_length,
                                                   model_config.sample_lengths, form)
    encodings = encode_requests(texts, corpus.pairs, dist_info, device)
    dev_encodings = encode_requests(dev_texts, corpus.dev, dist_info, device) if dev_examples else []
    if request.keep_best and not dev_examples:
        logger.warning("--keep-best keeps nothing: the training data has no dev split")

    from cfgen.model import CodeFusionModel, load_initial_weights

    torch.manual_seed(request.train.seed)
    network = CodeFusionModel(model_config)
    if initial is not None:
        load_initial_weights(network, initial)
    process = make_process(model_config.process, model_config.diffusion_steps, model_config.schedule)
    objective = TrainingObjective(network, process).to(device)
    optimizer = torch.optim.AdamW(objective.parameters(), lr=request.train.learning_rate,
                                  weight_decay=request.train.weight_decay)
    run = PreparedRun(tokenizer, network, objective, optimizer, examples, encodings, dev_examples, dev_encodings,
                      skipped, index=None)
    if model_config.request_dropout:
        run.empty_request = encode_texts([""], dist_info, device)[0]
    if resumed:
        run.start_step = resumed.restore(network, optimizer)
        run.best_dev = resumed.info.get("best_dev_loss", math.inf)
    elif dist_info.is_main:
        output.mkdir(parents=True, exist_ok=True)
        tokenizer.save(output / TOKENIZER)  # what --resume reads back

    if request.train.stage == "finetune":
        from cfgen.training.indexing import attach_neighbours, index_of

        run.index = index_of(corpus.indexed(), texts, encodings)
        if model_config.neighbours:
            encoded = set(texts)
            rows = [i for i, pair in enumerate(corpus.pairs)  # the index's rows
                    if pair.nl in encoded and i not in corpus.unindexed]
            row_of_pair = {pair: row for row, pair in enumerate(rows)}
            attach_neighbours(run.index, tokenizer, model_config, examples, texts, encodings,
                              lambda e: row_of_pair.get(e.pair))
            attach_neighbours(run.index, tokenizer, model_config, dev_examples, dev_texts, dev_encodings,
                              lambda e: None)
    return run



DEFAULT_SIZE, DEFAULT_VOCAB = "small", 4096
_SET_WHEN_MADE = ("vocab_size", "templates", "process")  # model options read when the model is made, not changed
TEMPLATE_WORD_MIN_COUNT = 2  # a template token seen this often in training is one token of the tokenizer


def _new_form(request: TrainRequest, corpus: Corpus) -> WrittenForm:
    """The written form of a model trained from scratch: its literal arguments are the training data's own."""
    if not request.templates:
        return WrittenForm(slots=bool(request.slots))
    literals = closed_class([pair.code for pair in corpus.pairs if pair.lang == "bash"])
    return WrittenForm(slots=bool(request.slots), templates=True, template_literals=literals)


def template_vocabulary(texts) -> list[str]:
    """The template tokens (with their leading space) that recur in `texts`, most frequent first."""
    counts: dict[str, int] = {}
    for text in texts:
        for token in text.split(" ")[1:]:
            counts[" " + token] = counts.get(" " + token, 0) + 1
    return sorted((word for word, count in counts.items() if count >= TEMPLATE_WORD_MIN_COUNT),
                  key=lambda word: (-counts[word], word))


def _tokenizer_config_and_weights(
    request: TrainRequest, corpus: Corpus
) -> tuple[CodeTokenizer, ModelConfig, dict | None]:
    """The tokenizer and model config of a new run, and --init's weights (None from scratch)."""
    initial = None
    if request.init is not None:
        network, tokenizer = load_model(request.init)
        config, initial = network.config, network.state_dict()
        if request.templates is not None and request.templates != config.templates:
            raise UsageError("--templates changes what the tokenizer must hold: train a new model (no --init) for it")
    else:
        form = _new_form(request, corpus)
        texts = [target(pair, form) for pair in corpus.pairs]
        whole_words = (
            template_vocabulary(texts[i] for i, pair in enumerate(corpus.pairs) if pair.lang == "bash")
            if form.templates
            else []
        )
        tokenizer = CodeTokenizer.train(
            texts, request.vocab_size or DEFAULT_VOCAB, form.slots, whole_words, languages=request.sources.languages
        )
        config = preset(
            request.size or DEFAULT_SIZE,
            vocab_size=tokenizer.vocab_size,
            templates=form.templates,
            template_literals=tuple(sorted(form.template_literals)),
        )
    changes = {
        name: getattr(request, name)
        for name in MODEL_OPTIONS
        if name not in _SET_WHEN_MADE and getattr(request, name) is not None
    }
    if request.process is not None and request.process != config.process:
        changes.update(process=request.process, schedule=process_module(request.process).DEFAULT_SCHEDULE)
    try:
        return tokenizer, replace(config, **changes), initial
    except ValueError as error:  # e.g. --copy without neighbours
        raise UsageError(str(error)) from None
