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

_GREATER, _LESS = {"GreaterThan", "GreaterThanEqual"}, {"LessThan", "LessThanEqual"}
_JUDGED = COMPARISONS | RANKS | {"Between"}
_ORDERS = _GREATER | _LESS
# (words, the comparisons they allow), longest phrases first; `\s*` also reads camelCase (greaterThanOrEqual).
_PHRASES = [
    (r"greater\s*than\s*or\s*equal|greater\s*(?:than\s*)?equal|at\s+least|or\s+(?:more|greater|above|higher)|"
     r"no\s+less\s+than|not\s+less\s+than|>=", _GREATER),
    (r"less\s*than\s*or\s*equal|less\s*(?:than\s*)?equal|at\s+most|or\s+(?:less|fewer|below|lower)|no\s+more\s+than|"
     r"not\s+more\s+than|up\s+to|<=", _LESS),
    (r"not\s+equal|other\s+than|different\s+from|!=|<>", {"NotEquals", "Equals"}),
    (r"\bbetween\b|\bfrom\s+-?\d\S*\s+to\s+-?\d", {"Between"} | _GREATER | _LESS),
    (r"\b(?:top|highest|largest|biggest|maximum|max|best)\b|topPercent|topItems", {"Top", "TopPercent"}),
    (r"\b(?:bottom|lowest|smallest|minimum|min|worst)\b|bottomPercent|bottomItems", {"Bottom", "BottomPercent"}),
    (r"greater|more\s+than|\babove\b|\bover\b|exceed|higher\s+than|bigger|larger\s+than|>", _GREATER),
    (r"less\s*than|lesser|fewer|\bbelow\b|\bunder\b|lower\s+than|smaller|<", _LESS),
    (r"equal|=", {"Equals"}),
]
_COMPILED = [(re.compile(words, re.IGNORECASE), allowed) for words, allowed in _PHRASES]


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
    allowed = allowed_comparisons(request)
    try:
        tree = parse(rule)
    except CFError:
        return []
    return [call.name for call in _judged(tree)
            if (allowed and call.name not in allowed) or (call.name in _ORDERS and _holds_text(call))]


def _judged(node) -> list[Call]:
    if not isinstance(node, Call):
        return []
    own = [node] if node.name in _JUDGED else []
    return own + [call for argument in node.args for call in _judged(argument)]


def _holds_text(call: Call) -> bool:
    return any(isinstance(argument, Text) for argument in call.args)
