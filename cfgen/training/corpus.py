"""Training data by data flow: sources -> pairs -> examples -> batches, and the E_s of their texts.

One record type throughout: `Pair(nl, code, lang)`, where `nl` is the text a
program is conditioned on (a request, or for pre-training the masked code of
CPD) and None for unsupervised pre-training (E_s is then Gaussian noise).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cfgen.training.data import (
    Pair,
    benchmark_path,
    load_benchmark,
    load_pairs_jsonl,
    load_snippets,
    mask_identifiers,
    python_stdlib_snippets,
)
from cfgen.encoding.encodings import pad_states
from cfgen.errors import DataError
from cfgen.languages import get_language, language_names
from cfgen.retrieval.neighbours import neighbour_tensors
from cfgen.runtime import Distributed, barrier
from cfgen.training.tldr import is_pages_folder, page_pairs
from cfgen.tokenizer import CodeTokenizer
from cfgen.values.written_form import WrittenForm, written_form

NOISE_CONDITION = -1  # Example.text for unsupervised pre-training: E_s is Gaussian noise
NOISE_CONDITION_TOKENS = 8


@dataclass
class DataSources:
    data_dir: Path | None = None  # the CodeFusion folder (benchmarks and snippet files)
    pair_files: list[Path] = field(default_factory=list)  # JSON Lines {"nl", "code", "lang"}
    # Pairs learnt from but never retrieved: neither another example's neighbour nor in the model's index (made-up
    # pairs that the network must learn to write from the request, not copy from a neighbour).
    unindexed_pair_files: list[Path] = field(default_factory=list)
    languages: tuple[str, ...] = field(default_factory=language_names)
    max_snippets: int = 0  # per language, for pre-training (0: all)
    page_dirs: list[Path] = field(default_factory=list)  # folders of tldr-style pages: Bash pairs (tldr.py)
    # Hold about one page example in ten out as a dev split (for measuring); by default every example trains and
    # is indexed, so that a user's own pages are all answered.
    page_dev: bool = False

    @classmethod
    def from_folders(cls, folders: list[Path], **fields) -> "DataSources":
        """`--data` folders sorted by what they hold: at most one CodeFusion folder, any number of page folders."""
        pages = [Path(folder) for folder in folders if is_pages_folder(folder)]
        codefusion = [Path(folder) for folder in folders if not is_pages_folder(folder)]
        if len(codefusion) > 1:
            named = ", ".join(map(str, codefusion))
            raise DataError(f"give one CodeFusion data folder, not {len(codefusion)} ({named})")
        return cls(data_dir=codefusion[0] if codefusion else None, page_dirs=pages, **fields)


@dataclass
class Corpus:
    pairs: list[Pair]  # what to learn
    dev: list[Pair]  # the benchmarks' dev pairs, where the data folder has them, for the dev loss
    unindexed: frozenset[int] = frozenset()  # positions in `pairs` of those never retrieved

    def indexed(self) -> list[Pair]:
        """The pairs a retrieval index may hold."""
        return [pair for i, pair in enumerate(self.pairs) if i not in self.unindexed]


@dataclass
class Example:
    tokens: list[int]
    text: int  # index into the encoded texts, or NOISE_CONDITION
    lang: str
    pair: int = 0  # index of the pair it came from
    neighbours: list[list[int]] = field(default_factory=list)  # retrieved programs it reads (neighbours.py)


def _benchmark_path(sources: DataSources, lang: str) -> Path:
    if sources.data_dir is None:
        raise DataError("no data directory given (--data)")
    return benchmark_path(sources.data_dir, lang)


def _snippets(sources: DataSources, lang: str) -> list[str]:
    snippet_file = get_language(lang).snippet_file
    if snippet_file is None:  # Python's: the standard library's own code
        snippets = python_stdlib_snippets()
    else:
        snippets = load_snippets(Path(sources.data_dir) / snippet_file)
    return snippets[: sources.max_snippets] if sources.max_snippets else snippets


def gather_corpus(stage: str, sources: DataSources) -> Corpus:
    pairs: list[Pair] = []
    dev: list[Pair] = []
    if stage == "pretrain":
        if sources.data_dir is None and not sources.page_dirs:
            raise DataError("pre-training needs the data directory with the snippet files (--data)")
        for lang in sources.languages if sources.data_dir is not None else ():
            for code in _snippets(sources, lang):
                pairs.append(Pair(None, code, lang))  # unsupervised generation
                pairs.append(Pair(mask_identifiers(code), code, lang))  # CPD
    else:
        if sources.data_dir is not None:
            for lang in sources.languages:
                pairs += load_benchmark(_benchmark_path(sources, lang), "train", lang)
        for path in sources.pair_files:
            pairs += [p for p in load_pairs_jsonl(path) if p.lang in sources.languages]
        first_unindexed = len(pairs)
        for path in sources.unindexed_pair_files:
            pairs += [p for p in load_pairs_jsonl(path) if p.lang in sources.languages]
        unindexed = frozenset(range(first_unindexed, len(pairs)))
    for folder in sources.page_dirs if "bash" in sources.languages else ():
        train, held_out = page_pairs(folder, sources.page_dev)
        pairs += [Pair(None, p.code, "bash") for p in train] if stage == "pretrain" else train
        dev += held_out
    if sources.data_dir is not None:
        for lang in sources.languages:
            if _benchmark_path(sources, lang).is_file():
                dev += load_benchmark(_benchmark_path(sources, lang), "dev", lang)
    if not pairs:
        raise DataError("no training data: give --data and/or --pairs")
    return Corpus(pairs, dev, unindexed if stage != "pretrain" else frozenset())


def sample_lengths(lengths_by_language: dict[str, list[int]], max_length: int) -> dict[str, int]:
    """Per language, the 99th-percentile sequence length rounded up to 4: what the sampler denoises."""
    result = {}
    for lang, lengths in lengths_by_language.items():
        if lengths:
            ordered = sorted(lengths)
            p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
            result[lang] = min(max_length, max(4, 4 * math.ceil(p99 / 4)))
    return result


def build_examples(pairs: list[Pair], tokenizer: CodeTokenizer, max_length: int, lengths: dict[str, int] | None = None,
                   form: WrittenForm = WrittenForm()):
    """Tokenise, fix each language's padded length (given, or the data's 99th percentile),
    and skip (and count) code longer than its language's length. Programs are in the model's written `form`
    (slots.written_form: typed placeholders for the request's values, Bash templates).

    Returns (examples, the distinct texts they index, lengths, skipped count).
    """
    encoded = [(tokenizer.encode(target(pair, form), pair.lang, max_length), pair) for pair in pairs]
    if lengths is None:
        observed = {lang: [] for lang in language_names()}
        for tokens, pair in encoded:
            if not tokens.truncated:
                observed[pair.lang].append(len(tokens.ids))
        lengths = sample_lengths(observed, max_length)
    examples, texts, skipped = [], {}, 0
    for number, (tokens, pair) in enumerate(encoded):
        if tokens.truncated or len(tokens.ids) > lengths.get(pair.lang, max_length):
            skipped += 1
            continue
        index = NOISE_CONDITION if pair.nl is None else texts.setdefault(pair.nl, len(texts))
        examples.append(Example(tokens.ids, index, pair.lang, number))
    return examples, list(texts), lengths, skipped


def target(pair: Pair, form: WrittenForm) -> str:
    """The program the network learns to write for a pair."""
    return written_form(pair.code, pair.nl, pair.lang, form)


def collate(examples: list[Example], encodings, pad_id: int, length: int, generator: torch.Generator,
            neighbours: int = 0, request_dropout: float = 0.0, empty_request: torch.Tensor | None = None):
    """Tokens padded to `length` (the batch's language length), E_s padded to the batch's longest, and
    (with `neighbours` k > 0) each example's k retrieved programs (B, k, length) with their mask, else None.
    With `request_dropout` p > 0, each example's E_s is `empty_request` (the empty request's) with
    probability p, drawn from `generator` (classifier-free guidance's training)."""
    tokens = torch.full((len(examples), length), pad_id, dtype=torch.long)
    conditions = []
    dropped = (torch.rand(len(examples), generator=generator) < request_dropout if request_dropout
               else [False] * len(examples))
    for row, example in enumerate(examples):
        tokens[row, : len(example.tokens)] = torch.tensor(example.tokens[:length])
        if dropped[row] and example.text != NOISE_CONDITION:
            conditions.append(empty_request)
        elif example.text == NOISE_CONDITION:
            dim = encodings[0].shape[-1] if encodings else 384
            conditions.append(torch.randn((NOISE_CONDITION_TOKENS, dim), generator=generator))
        else:
            conditions.append(encodings[example.text])
    encoded, mask = pad_states(conditions)
    if not neighbours:
        return tokens, encoded, mask, None, None
    return (tokens, encoded, mask, *neighbour_tensors([e.neighbours for e in examples], neighbours, length, pad_id))


class BatchPlan:
    """Global batches drawn from one group (language) each, as a pure function of (seed, step).

    Each epoch shuffles every group, cuts it into batches and shuffles the batch
    order; a batch of one language pads to that language's length, and a
    resumed run sees exactly the batches an uninterrupted one would.

    `temperature` T sets each group's share of an epoch's batches, proportional
    to (its size)^T: 1 draws every example once (shares follow the data), 0
    gives every group as many batches as the largest has, in between (0.5, as
    in multilingual translation) lifts a small group without repeating it as
    often. Every group is drawn once per epoch, then a smaller one again,
    reshuffled and in full batches, as often as its share asks, so that its
    examples repeat evenly.
    """

    def __init__(self, groups: list[str], batch_size: int, seed: int, temperature: float = 1.0) -> None:
        if not 0.0 <= temperature <= 1.0:
            raise ValueError("the language temperature must lie between 0 and 1")
        self.members: dict[str, list[int]] = {}
        for index, group in enumerate(groups):
            self.members.setdefault(group, []).append(index)
        self.batch_size, self.seed = batch_size, seed
        self.batch_counts = _batches_per_group({g: len(m) for g, m in self.members.items()}, batch_size, temperature)
        self.batches_per_epoch = sum(self.batch_counts.values())

    @functools.lru_cache(maxsize=2)
    def _epoch(self, epoch: int) -> list[list[int]]:
        rng = random.Random(self.seed * 1_000_003 + epoch)
        batches = []
        for group in sorted(self.members):
            order = list(self.members[group])
            rng.shuffle(order)
            one_pass = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            extra = self.batch_counts[group] - len(one_pass)  # 0 at temperature 1: no further draws
            batches += one_pass + _repeated_batches(self.members[group], extra, self.batch_size, rng)
        rng.shuffle(batches)
        return batches

    def batch(self, step: int) -> list[int]:
        epoch, position = divmod(step, self.batches_per_epoch)
        return self._epoch(epoch)[position]


def _batches_per_group(sizes: dict[str, int], batch_size: int, temperature: float) -> dict[str, int]:
    """Each group's batches per epoch: one pass's count at temperature 1; otherwise the largest group's count
    times (size / largest size)^temperature, rounded, and never less than one pass."""
    own = {group: -(-size // batch_size) for group, size in sizes.items()}
    if temperature == 1.0 or not sizes:
        return own  # exactly one pass each (the formula's rounding could differ)
    largest = max(sizes, key=sizes.get)
    return {group: max(own[group], round(own[largest] * (size / sizes[largest]) ** temperature))
            for group, size in sizes.items()}


def _repeated_batches(members: list[int], wanted: int, batch_size: int, rng: random.Random) -> list[list[int]]:
    """`wanted` more batches of a group, beyond its one pass: further shuffled passes cut into full batches
    (a group smaller than a batch gives its whole self, shuffled, each time)."""
    size = min(batch_size, len(members))
    stream: list[int] = []
    while len(stream) < wanted * size:
        order = list(members)
        rng.shuffle(order)
        stream += order
    return [stream[i * size : (i + 1) * size] for i in range(wanted)]


def encode_requests(texts: list[str], pairs: list[Pair], dist_info: Distributed, device: str):
    """E_s of `texts`, requests of `pairs`, cached under all of the pairs' requests: runs on the same data share
    one cache entry whichever examples their tokenizer and lengths kept."""
    everything = list(dict.fromkeys(pair.nl for pair in pairs if pair.nl is not None))
    found = dict(zip(everything, encode_texts(everything, dist_info, device)))
    return [found[text] for text in texts]


def encode_texts(texts: list[str], dist_info: Distributed, device: str):
    """E_s of each text, from the on-disk cache (rank 0 fills it; the other ranks then read it)."""
    from cfgen.encoding.encoder import TextEncoder
    from cfgen.encoding.encodings import cached_encodings

    encoder_device = device.split(":")[0] if device.startswith("cuda") else "cpu"
    make_encoder = lambda: TextEncoder(device=encoder_device)  # noqa: E731
    if dist_info.is_main:
        encodings = cached_encodings(texts, make_encoder)
    barrier(dist_info)
    if not dist_info.is_main:
        encodings = cached_encodings(texts, make_encoder)
    return encodings
