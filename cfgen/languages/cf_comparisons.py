"""Whether a CF rule compares as its request says: "below 20" is LessThan, not Equals(20).

Contract: `unsaid_comparisons(rule, request)` lists the rule's comparisons (GreaterThan, LessThan, ...,
Equals, NotEquals) that no comparison word of the request allows, or [] when the request names no comparison
(a request without "greater", "below", "at least", "equal", "between", ... leaves every rule as it is). Longer
phrases are read first, so "greater than or equal to" allows GreaterThanEqual (and GreaterThan), not Equals.
Text tests, ranks and the rest are never judged here: "contains X" is TextEquals in much of the data.
"""

from __future__ import annotations

import re

from cfgen.languages.cf_rules import COMPARISONS, Call, CFError, parse

_GREATER, _LESS = {"GreaterThan", "GreaterThanEqual"}, {"LessThan", "LessThanEqual"}
# (words, the comparisons they allow), longest phrases first; `\s*` also reads camelCase (greaterThanOrEqual).
_PHRASES = [
    (r"greater\s*than\s*or\s*equal|greater\s*(?:than\s*)?equal|at\s+least|or\s+(?:more|greater|above|higher)|"
     r"no\s+less\s+than|not\s+less\s+than|>=", _GREATER),
    (r"less\s*than\s*or\s*equal|less\s*(?:than\s*)?equal|at\s+most|or\s+(?:less|fewer|below|lower)|no\s+more\s+than|"
     r"not\s+more\s+than|up\s+to|<=", _LESS),
    (r"not\s+equal|other\s+than|different\s+from|!=|<>", {"NotEquals", "Equals"}),
    (r"\bbetween\b", _GREATER | _LESS),
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
    if not allowed:
        return []
    try:
        tree = parse(rule)
    except CFError:
        return []
    return [name for name in _comparisons(tree) if name not in allowed]


def _comparisons(node) -> list[str]:
    if not isinstance(node, Call):
        return []
    own = [node.name] if node.name in COMPARISONS else []
    return own + [name for argument in node.args for name in _comparisons(argument)]
