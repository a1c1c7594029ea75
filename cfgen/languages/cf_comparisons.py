"""Whether a CF rule compares as its request says: "below 20" is LessThan, not Equals(20) nor Bottom(20).

Contract: `unsaid_comparisons(rule, request)` lists the rule's comparisons (GreaterThan, LessThan, ...,
Equals, NotEquals, Between) and ranks (Top, Bottom, ...) that no comparison or rank word of the request allows,
or [] when the request names none (a request without "greater", "below", "at least", "equal", "between",
"highest", "top", ... leaves every rule as it is). `as_said(tree, request)` rewrites a rule of one comparison, rank
or text test to the one the request's words say, where they say exactly one. Longer phrases are read first, so
"greater than or equal to" allows GreaterThanEqual (and GreaterThan), not Equals. An order comparison of a text
(`LessThan(B7)`, a cell) is always named. Text tests and the rest are never judged here: "contains X" is
TextEquals in much of the data.
"""

from __future__ import annotations

import re

from cfgen.languages.cf_rules import COMPARISONS, RANKS, TEXT_FUNCTIONS, Call, CFError, Number, Text, parse
from cfgen.languages.cf_words import (COMPARISON_PHRASES, GREATER, LESS, SAID_COMPARISONS, TEXT_TEST_PHRASES,
                                      VISUAL_WORDS)

_JUDGED = COMPARISONS | RANKS | {"Between"}
_ORDERS = GREATER | LESS
_COMPILED = [(re.compile(words, re.IGNORECASE), allowed) for words, allowed in COMPARISON_PHRASES]
_TEXT_TESTS = [(re.compile(words, re.IGNORECASE), test) for words, test in TEXT_TEST_PHRASES]
_SINGULAR = re.compile(r"\b(?:the|a) (?:\w+ )?(?:biggest|highest|largest|maximum|max|best|lowest|smallest|minimum|"
                       r"min|worst)\b(?! \d)|\b(?:maximum|minimum|max|min)\b(?! \d)", re.IGNORECASE)


def allowed_comparisons(request: str) -> set[str]:
    """The comparisons the request's words allow (empty: it names none)."""
    allowed: set[str] = set()
    for words, kinds in _COMPILED:
        if words.search(request):
            allowed |= kinds
            request = words.sub(" ", request)  # "greater than or equal" is read once, not again as "equal"
    return allowed


def unsaid_comparisons(rule: str, request: str) -> list[str]:
    """The rule's comparisons the request's words do not allow (see the module's contract)."""
    try:
        return unsaid_in(parse(rule), request)
    except CFError:
        return []


def unsaid_in(tree: Call, request: str) -> list[str]:
    """`unsaid_comparisons` of a parsed rule."""
    allowed = allowed_comparisons(request)
    return [call.name for call in _judged(tree)
            if (allowed and call.name not in allowed) or (call.name in _ORDERS and _holds_text(call))]


def _judged(node) -> list[Call]:
    if not isinstance(node, Call):
        return []
    own = [node] if node.name in _JUDGED else []
    return own + [call for argument in node.args for call in _judged(argument)]


def _holds_text(call: Call) -> bool:
    return any(isinstance(argument, Text) for argument in call.args)


_VISUAL = re.compile(VISUAL_WORDS, re.IGNORECASE)


def misses_the_said_rank(tree: Call, request: str) -> bool:
    """The request picks its highest or lowest cells and the rule holds no rank ("mark the maximum" is no
    ColorScale); a request for a visual rule ("a colour scale from lowest to highest") picks none."""
    if said_comparison(request) not in ("Top", "Bottom") or _VISUAL.search(request):
        return False
    return not any(call.name in RANKS for call in _judged(tree))


def said_comparison(request: str) -> str | None:
    """The one comparison or rank the request's words say ("below" → LessThan, "at least" → GreaterThanEqual,
    "the highest" → Top), or None where they say none or several."""
    said = []
    for (words, _), name in zip(_COMPILED, SAID_COMPARISONS):
        if words.search(request):
            said.append(name)
            request = words.sub(" ", request)
    return said[0] if len(said) == 1 else None


def said_text_test(request: str) -> str | None:
    """The one text test the request's words say ("contains" → TextContains), or None."""
    said = [test for words, test in _TEXT_TESTS if words.search(request)]
    return said[0] if len(said) == 1 else None


def as_said(tree: Call, request: str) -> Call:
    """A rule of one comparison, rank or text test, rewritten to the one the request's words say where it says
    another of the same kind: "below zero" is LessThan(0), not the network's Equals(0); "contains late" is
    TextContains(late), not TextEquals(late); "the biggest value" is Top(1), not Top(10). The network writes
    values and the rule's shape well and these words badly; a rule of another kind, or joined, stays as it is."""
    said = said_comparison(request)
    if tree.name in COMPARISONS and said in COMPARISONS and tree.name != said and not _holds_text(tree):
        return Call(said, tree.args)
    if tree.name in ("Top", "Bottom") and said in ("Top", "Bottom"):
        args = tree.args
        if _SINGULAR.search(request) and not any(isinstance(a, Number) and a.value == 1 for a in args):
            args = tuple(a for a in args if not isinstance(a, Number)) + (Number(1.0),)
        return Call(said, args)
    test = said_text_test(request)
    if tree.name in TEXT_FUNCTIONS and test is not None and tree.name != test:
        return Call(test, tree.args)
    return tree


def tests_a_compared_number(tree: Call, request: str) -> bool:
    """A text test of a number the request compares ("over 500" is no TextContains(500))."""
    allowed = allowed_comparisons(request)
    if not allowed & (GREATER | LESS) or tree.name not in TEXT_FUNCTIONS:
        return False
    texts = [a.value for a in tree.args if isinstance(a, Text)] + [a for a in tree.args if isinstance(a, Number)]
    return any(isinstance(t, Number) or re.fullmatch(r"-?\d+(?:\.\d+)?", str(t).strip()) for t in texts)
