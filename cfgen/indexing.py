"""The retrieval index of a model's training pairs (and its optional retrieval head), for `train` and `export`."""

from __future__ import annotations

import logging

from cfgen.corpus import DataSources, encode_texts, gather_corpus
from cfgen.data import Pair
from cfgen.runtime import Distributed

logger = logging.getLogger(__name__)


def index_of(pairs: list[Pair], texts: list[str], encodings, tuned: frozenset[str] = frozenset(), tune_steps: int = 0):
    """The retrieval index of the pairs that have a request; `encodings[i]` is the E_s of `texts[i]`.

    `tuned` languages get a retrieval head trained for `tune_steps` on these pairs.
    """
    from cfgen.retrieval import RetrievalIndex
    from cfgen.slots import MASKED_LANGUAGES, mask

    position = {text: i for i, text in enumerate(texts)}
    pairs = [pair for pair in pairs if pair.nl in position]
    pair_encodings = [encodings[position[p.nl]] for p in pairs]
    # Languages retrieved by masked request: their requests encoded once more, masked.
    masked_texts = [mask(p.nl) for p in pairs if p.lang in MASKED_LANGUAGES]
    head = _retrieval_head(pairs, pair_encodings, tuned, tune_steps) if tuned else None
    return RetrievalIndex.build(pairs, pair_encodings, MASKED_LANGUAGES, encode_texts(masked_texts, Distributed(), "cpu"),
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
    texts = list(dict.fromkeys(pair.nl for pair in corpus.pairs))
    return index_of(corpus.pairs, texts, encode_texts(texts, Distributed(), "cpu"), tuned, tune_steps)
