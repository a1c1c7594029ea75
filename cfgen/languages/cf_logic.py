"""A CF request that joins conditions ("Stock below 10 or Price above 80") or negates one ("Status is not Done"),
read as its parts, so that the network writes each condition as a request of its own and the rule is joined here.

Contract: `split_request(request)` gives a `Logic` tree whose leaves are requests the network can answer alone, or
None for a request of one plain condition (most requests; then nothing changes) or of more than MAX_PARTS. A split
needs a condition on each side: a comparison, a text test, blanks, duplicates or ranks ("greater", "contains",
"blank", "top", "is X", ...); "between 5 and 10", "greater than or equal to" and "Apply conditional formatting and
color ..." never split. A second condition without a verb takes the first's ("highlight Stock below 10 or Price
above 80": "highlight Price above 80"); "p or ul" after a condition repeats the condition for the second value. A
negation ("not", "does not", "isn't") before a condition becomes NOT of the request without it. `join_rules(logic,
rules)` writes the rule of a tree from one rule per leaf, in leaf order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cfgen.languages.cf_words import CONDITION_CUES, COPULAS, NEGATION, NOT_VERBS

CUE = re.compile(rf"\b(?:{CONDITION_CUES})\b|[<>=]", re.IGNORECASE)
_NOT_JOINS = re.compile(r"\b(?:than|to)\s*$|\bbetween(?:\s+\S+){1,3}\s*$|\beither\s*$|\b(?:and|or)\s*/\s*$",
                        re.IGNORECASE)
_JOIN = re.compile(r"\s+(and|or)\s+(?!equal|/)", re.IGNORECASE)
# A second value with no condition of its own ("p or ul", "1 or 2 in column B"): a word or number, then a place.
_BARE_VALUE = re.compile(r"""^\s*(?:(['"])(?P<quoted>[^'"]+)\1|(?P<word>[\w.+\-%]+))\s*"""
                         r"(?P<place>\b(?:in|on|of|from|for|at)\b.*)?$", re.IGNORECASE)
_LAST_VALUE = re.compile(r"""(?:(['"])[^'"]+\1|[\w.+\-%]+)\s*$""")


@dataclass(frozen=True)
class Logic:
    """NOT of one part, or AND/OR of two; a part is a request (a leaf) or another Logic."""

    op: str
    parts: tuple[Logic | str, ...]

    def leaves(self) -> list[str]:
        return [leaf for part in self.parts for leaf in (part.leaves() if isinstance(part, Logic) else [part])]


MAX_PARTS = 4  # a request naming more conditions is answered whole: each part costs a sampling of its own


def split_request(request: str) -> Logic | None:
    """The request's conditions as a tree (None: one plain condition, or more than MAX_PARTS); see the module's
    contract."""
    found = _split(request, MAX_PARTS)
    return found if found is not None and len(found.leaves()) <= MAX_PARTS else None


def _split(request: str, budget: int) -> Logic | None:
    """The tree, or None; `budget` bounds the splits (and the recursion) for a request of many "and"s."""
    if budget <= 0:
        return None
    joined = _split_join(request, budget)
    return joined if joined is not None else _negated(request)


def join_rules(logic: Logic, rules: list[str]) -> str:
    """The rule of `logic` with `rules[i]` for its i-th leaf (a NOT over a rule that is already a NOT adds none)."""
    remaining = iter(rules)

    def write(node: Logic | str) -> str:
        if not isinstance(node, Logic):
            return next(remaining)
        parts = [write(part) for part in node.parts]
        if node.op == "NOT":  # a part already negated stays so: the request says "not"
            return parts[0] if parts[0].startswith("NOT(") else f"NOT({parts[0]})"
        return f"{node.op}({', '.join(parts)})"

    return write(logic)


def _split_join(request: str, budget: int) -> Logic | None:
    for match in _JOIN.finditer(request):
        left, right = request[: match.start()], request[match.end() :]
        if _NOT_JOINS.search(left) or not CUE.search(left):
            continue
        op = match.group(1).upper()
        second = _second_part(left, right)
        if second is None:
            continue
        return Logic(op, (_split(left, budget - 1) or left, _split(second, budget - 1) or second))
    return None


def _second_part(left: str, right: str) -> str | None:
    """The request the second condition stands for: `right` itself if it states a condition (with the left's verb
    and "cells" when it starts at its cue: "less than 50"), else the left's condition with right's value ("p or
    ul"); None when right is no condition."""
    first_cue, bare = CUE.search(right), _BARE_VALUE.match(right)
    if first_cue is not None and not bare:
        first = left.split()[0]
        lead = "" if first.casefold() in NOT_VERBS else f"{first} "  # "cells above 1 and …" has no verb to lend
        if first_cue.start() == 0 or not right[: first_cue.start()].strip():
            return f"{lead}cells {right.strip()}"
        return right.strip() if right.split()[0].casefold() == first.casefold() else f"{lead}{right.strip()}"
    last = _LAST_VALUE.search(left)
    cues = list(CUE.finditer(left[: last.start()])) if last is not None else []
    if bare is None or not cues or len(left[cues[-1].end() : last.start()].split()) > 2:
        return None  # the left's last value must be its condition's ("equal to p or ul", not "in sheet X and Y")
    value = bare.group("quoted") or bare.group("word")
    quote = '"' if bare.group("quoted") else ""
    return f"{left[: last.start()]}{quote}{value}{quote}" + (f" {bare.group('place')}" if bare.group("place") else "")


def _negated(request: str) -> Logic | None:
    """NOT of the request without its negation, when a negation comes before a condition or a value."""
    match = NEGATION.search(request)
    if match is None:
        return None
    after = request[match.end() :]
    if not after.strip():
        return None
    words = match.group(0).casefold().split()
    verb = words[0].split("n'")[0] if len(words) > 1 or "'" in words[0] else ""  # "is not", "isn't" -> "is"
    kept = f"{verb} " if verb in COPULAS else ""
    positive = f"{request[: match.start()]}{kept}{after}"
    return Logic("NOT", (positive,))
