"""Which language a request asks for, when `--lang` is not given: the language of its most similar training
request in the model's retrieval index (per language, the best cosine), with a confidence.

Measured on the dev requests of the three benchmarks (bench/language_guess.py); below GUESS_CONFIDENCE the
caller answers in Bash, as cfgen always did without `--lang`, and says what the guess was.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

DEFAULT_LANGUAGE = "bash"
GUESS_CONFIDENCE = 0.6
# Softmax temperature over the languages' best cosines: a 0.02 lead is worth e to one.
TEMPERATURE = 0.02


@dataclass(frozen=True)
class Guess:
    lang: str  # the most likely language
    confidence: float  # its share (0-1)

    @property
    def sure(self) -> bool:
        return self.confidence >= GUESS_CONFIDENCE

    @property
    def answered_in(self) -> str:
        """The language the request is answered in: the guess when sure, else DEFAULT_LANGUAGE."""
        return self.lang if self.sure else DEFAULT_LANGUAGE


def guess_languages(index, query_encodings: list[torch.Tensor]) -> list[Guess]:
    """A guess per request from its encoding (E_s); without an index, nothing to compare with: Bash, unsure."""
    if index is None:
        return [Guess(DEFAULT_LANGUAGE, 0.0) for _ in query_encodings]
    languages, best = index.best_similarity_by_language(query_encodings)
    shares = torch.softmax(best / TEMPERATURE, dim=1)
    return [Guess(languages[int(row.argmax())], float(row.max())) for row in shares]
