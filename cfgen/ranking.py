"""Rank sampled candidates: deduplicate by normal form, valid first, then by group, then by score."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cfgen.languages import get_language, optional
from cfgen.training.tldr import placeholders


class Scored(Protocol):
    code: str
    score: float
    source: str
    group: int
    request: str | None
    stand_ins: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """A program before ranking. Higher score is better: from noise, the mean token log-probability
    under the model; retrieved or edited, the similarity of the training request it came from."""

    code: str
    score: float
    source: str = "generated"  # the path that made it: generated (from noise), edited or retrieved
    # Lower groups rank first, whatever their score: an aligned model's candidates written from a nearer program.
    group: int = 0
    request: str | None = None  # retrieved or edited: the training request its program was written for
    stand_ins: tuple[str, ...] = ()  # retrieved: values its program names that the new request did not (slots.py)
    platform: str | None = None  # retrieved from a page for another platform than this one (tldr.PLATFORMS)
    page: bool = False  # retrieved from a tldr-style page: its words are syntax, its {{placeholders}} the values


@dataclass(frozen=True)
class RankedCandidate:
    code: str
    score: float
    valid: bool
    check: str  # the checker's message ("ok" or what is wrong)
    risks: list[str] = field(default_factory=list)
    source: str = "generated"  # generated, edited or retrieved (Candidate.source)
    request: str | None = None  # Candidate.request
    seen: bool = False  # the program occurs verbatim in the training data (whatever made it)
    unfilled: list[str] = field(default_factory=list)  # placeholders no value of the request filled (tldr.py)
    platform: str | None = None  # Candidate.platform


def select(candidates: Iterable[Scored], lang: str, limit: int | None = None) -> list[tuple[Scored, bool, str]]:
    """The candidates a ranking keeps, in its order, each with its check (valid, message): distinct by the
    language's `distinct` form, else its normal form (the better of equals kept), valid first, then by group and
    score. With `limit`, candidates are checked in order until `limit` valid ones are found (checking is what
    costs), so the first `limit` are those a full ranking would give."""
    language = get_language(lang)
    distinct = optional(language, "distinct") or language.normalise

    def order(candidate: Scored) -> tuple[int, float]:
        return candidate.group, -candidate.score

    best: dict[str, Scored] = {}
    for candidate in candidates:
        key = distinct(candidate.code)
        if key not in best or order(candidate) < order(best[key]):
            best[key] = candidate
    selected, valid_count = [], 0
    for candidate in sorted(best.values(), key=order):
        if limit is not None and valid_count >= limit:
            break
        valid, message = language.check(candidate.code)
        valid_count += valid
        selected.append((candidate, valid, message))
    selected.sort(key=lambda chosen: not chosen[1])  # stable: valid first, each part in `order`
    return selected


def rank(candidates: Iterable[Scored], lang: str, limit: int | None = None,
         seen_in: Collection[str] = frozenset()) -> list[RankedCandidate]:
    """`select`'s candidates as ranked ones: with their risks, placeholders left unfilled, and `seen` marking those
    whose program is in `seen_in` (the training programs)."""
    language = get_language(lang)
    return [RankedCandidate(candidate.code, candidate.score, valid, message, language.risks(candidate.code),
                            candidate.source, candidate.request, seen=candidate.code in seen_in,
                            unfilled=list(dict.fromkeys(placeholders(candidate.code) + list(candidate.stand_ins))),
                            platform=getattr(candidate, "platform", None))
            for candidate, valid, message in select(candidates, lang, limit)]
