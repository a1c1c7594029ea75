"""Whether a CF rule compares as its request says: "below 20" is LessThan, not Equals(20) nor Bottom(20).

Contract: `unsaid_comparisons(rule, request)` lists the rule's comparisons (GreaterThan, LessThan, ...,
Equals, NotEquals, Between) and ranks (Top, Bottom, ...) that no comparison or rank word of the request allows,
or [] when the request names none (a request without "greater", "below", "at least", "equal", "between",
"highest", "top", ... leaves every rule as it is). Longer phrases are read first, so "greater than or equal to"
allows GreaterThanEqual (and GreaterThan), not Equals. An order comparison of a text (`LessThan('Worldwide')`) is
always named. Text tests and the rest are never judged here: "contains X" is TextEquals in much of the data.
"""

from __future__ import annotations

import re

from cfgen.languages.cf_rules import COMPARISONS, RANKS, Call, CFError, Text, parse
from cfgen.languages.cf_words import COMPARISON_PHRASES, GREATER, LESS

_JUDGED = COMPARISONS | RANKS | {"Between"}
_ORDERS = GREATER | LESS
_COMPILED = [(re.compile(words, re.IGNORECASE), allowed) for words, allowed in COMPARISON_PHRASES]


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
