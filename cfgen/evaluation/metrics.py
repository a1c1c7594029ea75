"""Metrics of a ranked candidate list against gold code (pure functions)."""

from __future__ import annotations

import itertools
from typing import Any

from cfgen.languages import get_language


def top_k_match(candidates: list[str], gold: str, lang: str, k: int, context: Any = None) -> bool:
    language = get_language(lang)
    return any(language.matches(code, gold, context) for code in candidates[:k])


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def normalised_edit_distance(a: str, b: str) -> float:
    return edit_distance(a, b) / max(len(a), len(b), 1)


def pairwise_edit_diversity(candidates: list[str]) -> float:
    """Mean normalised edit distance over candidate pairs (0 when fewer than two)."""
    pairs = list(itertools.combinations(candidates, 2))
    return sum(normalised_edit_distance(a, b) for a, b in pairs) / len(pairs) if pairs else 0.0


def distinct_ngrams(candidates: list[str], n: int) -> float:
    """Distinct whitespace n-grams over all n-grams of the candidates (1.0 = no repetition)."""
    grams = [tuple(words[i : i + n]) for words in (c.split() for c in candidates) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def chrf(hypothesis: str, reference: str) -> float:
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(hypothesis, [reference]).score


def bleu(hypothesis: str, reference: str) -> float:
    from sacrebleu.metrics import BLEU

    return BLEU(effective_order=True).sentence_score(hypothesis, [reference]).score
