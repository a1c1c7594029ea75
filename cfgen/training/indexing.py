"""The retrieval index of a model's training pairs (and its optional retrieval head), for `train` and `export`."""

from __future__ import annotations

import logging
from typing import Callable

from cfgen.training.corpus import DataSources, encode_texts, gather_corpus
from cfgen.training.data import Pair
from cfgen.runtime import Distributed

logger = logging.getLogger(__name__)


def index_of(pairs: list[Pair], texts: list[str], encodings, tuned: frozenset[str] = frozenset(), tune_steps: int = 0,
             head=None):
    """The retrieval index of the pairs that have a request; `encodings[i]` is the E_s of `texts[i]`.

    `tuned` languages get a retrieval head trained for `tune_steps` on these pairs; else `head`, a trained
    one, serves its languages (None: no head).
    """
    from cfgen.languages import masked_languages
    from cfgen.retrieval.index import RetrievalIndex
    from cfgen.values.slots import mask

    position = {text: i for i, text in enumerate(texts)}
    pairs = [pair for pair in pairs if pair.nl in position]
    pair_encodings = [encodings[position[p.nl]] for p in pairs]
    # Languages retrieved by masked request: their requests encoded once more, masked.
    masked = masked_languages()
    masked_texts = [mask(p.nl) for p in pairs if p.lang in masked]
    head = _retrieval_head(pairs, pair_encodings, tuned, tune_steps) if tuned else head
    return RetrievalIndex.build(pairs, pair_encodings, masked, encode_texts(masked_texts, Distributed(), "cpu"),
                                head)


def _retrieval_head(pairs: list[Pair], encodings, languages: frozenset[str], steps: int):
    """A retrieval head trained on the pairs of `languages`, programs grouped by normal form."""
    from cfgen.languages import get_language
    from cfgen.retrieval.head import fit_retrieval_head

    rows = [i for i, p in enumerate(pairs) if p.lang in languages]
    labels = [f"{pairs[i].lang}\0{get_language(pairs[i].lang).normalise(pairs[i].code)}" for i in rows]
    logger.info(
        "training the retrieval head for %s on %d requests, %d steps", ", ".join(sorted(languages)), len(rows), steps
    )
    return fit_retrieval_head([encodings[i] for i in rows], labels, languages, steps)


def build_index(sources: DataSources, tuned: frozenset[str] = frozenset(), tune_steps: int = 0, head=None):
    """A retrieval index of the benchmark train splits, pair files and pages, for an existing model (a head:
    index_of)."""
    corpus = gather_corpus("finetune", sources)
    texts = list(dict.fromkeys(pair.nl for pair in corpus.pairs))
    return index_of(corpus.pairs, texts, encode_texts(texts, Distributed(), "cpu"), tuned, tune_steps, head)


ENCODED_AT_ONCE = 64  # requests encoded per progress step when pages are added


def with_pairs(index, pairs: list[Pair], on_progress: Callable[[int], None] = lambda done: None):
    """`index` and more `pairs` (a folder's pages, tldr.page_pairs, or a pairs file's): only their requests are
    encoded, so the time is that of the pairs added, not of the whole index. `on_progress(k)`: k more distinct
    requests encoded."""
    from cfgen.encoding.encoder import TextEncoder
    from cfgen.errors import UsageError
    from cfgen.values.slots import mask

    if index is None:
        raise UsageError("this model has no retrieval index to add to: build one with --index-from")
    texts = list(dict.fromkeys(pair.nl for pair in pairs))
    encoder, encoded = TextEncoder(), {}
    for start in range(0, len(texts), ENCODED_AT_ONCE):
        chunk = texts[start : start + ENCODED_AT_ONCE]
        encoded.update(zip(chunk, encoder.encode(chunk)))
        on_progress(len(chunk))
    masked = [mask(pair.nl) for pair in pairs if pair.lang in index.masked]
    logger.info("added %d examples to the index", len(pairs))
    return index.extended(pairs, [encoded[pair.nl] for pair in pairs], encoder.encode(masked) if masked else [])


def attach_neighbours(index, tokenizer, config, examples: list, texts: list[str], encodings, own_row: Callable) -> None:
    """Each example's `config.neighbours` nearest training programs, but its own pair's (`own_row(example)`:
    leave-one-out), tokenised as neighbours.py gives them to the network, in `example.neighbours`."""
    from cfgen.languages import language_names
    from cfgen.retrieval.neighbours import neighbour_ids, retrieval_encodings
    from cfgen.values.written_form import WrittenForm

    encode = lambda batch: encode_texts(batch, Distributed(), "cpu")  # noqa: E731 - cached: index_of encoded them
    k = config.neighbours
    for lang in language_names():
        group = [e for e in examples if e.lang == lang and e.text >= 0]
        for start in range(0, len(group), 512):
            chunk = group[start : start + 512]
            requests = [texts[e.text] for e in chunk]
            query = retrieval_encodings(index, encode, requests, [encodings[e.text] for e in chunk], lang)
            found = neighbour_ids(
                index,
                tokenizer,
                requests,
                query,
                lang,
                k,
                config.sample_lengths[lang],
                exclude=[own_row(e) for e in chunk],
                form=WrittenForm.of(config),
            )
            for example, programs in zip(chunk, found):
                example.neighbours = programs
    logger.info("attached %d retrieved programs to each of %d examples", k, len(examples))
