"""The values a CF request names, and rules that carry them.

The network writes a rule's function well and its text values badly: a word it never saw as a training value
comes out as BPE soup ("is Asian" -> `TextEquals(選必)`). So a generated rule's values are checked against the
request: a text the request does not say is replaced by the next text value the request names, and a number it
does not say by the next number it names, in order. A text neither the request nor the rule's table holds, or a
number compared with that the request does not name, is "unasked" and ranks the rule down (`unasked_values`).

Request values: quoted text ("FB", 'Asian'), numbers with sign and decimals (-0.5, 10%), and unquoted words after
a cue (`is Asian`, `contain FB`, `starts with SA`, `equal to On Hold`), up to four words, case kept.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from cfgen.languages.cf_rules import COMPARISONS, Call, CFError, Number, Text, format_number, parse, render

_QUOTED = re.compile(r"\"([^\"]+)\"|(?<!\w)'([^']+)'(?!\w)|“([^”]+)”")
# A number as a request writes one: signed, with decimals, thousands grouped by commas (60,000), a unit or
# currency glued after it (500rs, 10%); not part of a cell name (B14) or a longer word.
_NUMBER = re.compile(r"(?<![\w.,])(?<!\w-)[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d.,]\d)")
# A cue phrase, then the value: matched at every position (a lookahead), so that "have value equal to Complete"
# tries "have", "value" and "equal to" and keeps the one whose value is not a word of the phrase.
_CUE = re.compile(r"(?=\b(?:equal\s+to|equals|is\s+not|are\s+not|is|are|contains|containing|contain|has|have|"
                  r"starts?\s+with|starting\s+with|begins?\s+with|beginning\s+with|ends?\s+with|ending\s+with|"
                  r"named|called|says|reads|text|word|value|values)\s+([^\s,;:!?\"'“”()]+"
                  r"(?:\s+[^\s,;:!?\"'“”()]+){0,3}))", re.IGNORECASE)
# Words that end a value (the request goes on about where or how) or that cannot start one.
_STOP = {"in", "on", "of", "from", "for", "to", "at", "and", "or", "but", "with", "the", "a", "an", "column",
         "columns", "cell", "cells", "range", "sheet", "row", "rows", "value", "values", "text", "than", "then",
         "where", "which", "that", "as", "by", "using", "if", "is", "are", "be", "it", "them", "their", "its"}
_NOT_A_VALUE = _STOP | {"greater", "less", "more", "fewer", "higher", "lower", "not", "empty", "blank", "blanks",
                        "between", "equal", "equals", "above", "below", "over", "under", "duplicate", "duplicates",
                        "duplicated", "repeated", "unique", "top", "bottom", "highest", "lowest", "maximum",
                        "minimum", "max", "min", "average", "positive", "negative", "zero", "red", "green",
                        "yellow", "blue", "orange", "color", "colour", "bold", "highlighted", "highlight",
                        "formatting", "conditional", "contain", "contains", "containing", "equal", "any", "all",
                        "some", "no", "none", "this", "these", "those", "there", "true", "false"}
_MAX_SCANNED = 4096


def text_values(request: str) -> list[str]:
    """The text values `request` names, in order, case kept: quoted ones, then those after a cue."""
    return list(_text_values(request))


def number_values(request: str) -> list[float]:
    return list(_number_values(request))


@functools.lru_cache(maxsize=64)  # a request's values are read once per candidate: found once per request
def _text_values(request: str) -> tuple[str, ...]:
    request = request[:_MAX_SCANNED]
    found = [next(group for group in match.groups() if group) for match in _QUOTED.finditer(request)]
    unquoted = _QUOTED.sub(" ", request)
    for match in _CUE.finditer(unquoted):
        words = []
        for word in match.group(1).split():
            if word in _STOP or _NUMBER.fullmatch(word):  # a capitalised one is a value's: "On Hold"
                break
            words.append(word.rstrip("."))
        if words and words[0] not in _NOT_A_VALUE and words[0].casefold() not in _NOT_A_VALUE - _STOP:
            found.append(" ".join(words))
    return tuple(dict.fromkeys(value for value in found if value.strip()))


@functools.lru_cache(maxsize=64)
def _number_values(request: str) -> tuple[float, ...]:
    unquoted = _QUOTED.sub(" ", request[:_MAX_SCANNED])
    return tuple(float(match.group().replace(",", "")) for match in _NUMBER.finditer(unquoted))


def carry_values(rule: str, request: str) -> str:
    """`rule` with each text and number the request does not say replaced by the next one it names that the rule
    does not already hold (texts for texts, numbers for numbers); as it is when nothing changes or it does not
    parse."""
    try:
        tree = parse(rule)
    except CFError:
        return rule
    held_texts = _texts_of(tree)
    held_numbers = [leaf.value for leaf, _ in _leaves(tree) if isinstance(leaf, Number)]
    texts = [value for value in _text_values(request) if value.casefold() not in held_texts]
    numbers = [value for value in _number_values(request) if value not in held_numbers]
    changed = _with_values(tree, request.casefold(), texts, numbers, set(_number_values(request)))
    if changed == tree:
        return rule
    return render(changed, explicit_quotes="'" in rule or '"' in rule)


def unasked_values(rule: str, request: str, table: list | None = None) -> list[str]:
    """The rule's values that nobody asked for: its texts that neither the request nor the table's cells say
    (case ignored), and the numbers it compares with that the request does not name (a rank's count, `top(10)`,
    is not one the request must name)."""
    try:
        tree = parse(rule)
    except CFError:
        return []
    named = set(_number_values(request))
    compared = [leaf.value for leaf, inside in _leaves(tree) if isinstance(leaf, Number) and inside]
    return _unasked_texts(tree, request, table) + [format_number(Number(value)) for value in compared
                                                   if value not in named]


def unasked_texts(rule: str, request: str, table: list | None = None) -> list[str]:
    """The rule's texts that neither the request nor the table's cells say (case ignored)."""
    try:
        return _unasked_texts(parse(rule), request, table)
    except CFError:
        return []


def _unasked_texts(tree: Call, request: str, table: list | None) -> list[str]:
    said = request.casefold()
    cells = {str(cell).casefold() for row in (table or [])[1:] for cell in row}
    return [value for value in _texts_of(tree) if not _said(value, said) and value not in cells]


def _compares(call: Call) -> bool:
    """Whether the call compares a cell with numbers the request names (not a rank's count, not an icon set's)."""
    return call.name in COMPARISONS or call.name == "Between"


def _leaves(node, compared: bool = False):
    """Each value of the rule, depth first, with whether it is inside a comparison (`_compares`)."""
    if isinstance(node, Call):
        for arg in node.args:
            yield from _leaves(arg, _compares(node))
    else:
        yield node, compared


def _said(value: str, said: str) -> bool:
    """Whether the (case-folded) request says the (case-folded) value: as a whole word where it starts and ends
    with one (`u` is not said by "value"), anywhere otherwise; an empty value is never said."""
    if not value.strip():
        return False
    return re.search(r"(?<!\w)" * value[0].isalnum() + re.escape(value) + r"(?!\w)" * value[-1].isalnum(),
                     said) is not None


def _with_values(node, said: str, texts: list[str], numbers: list[float], named_numbers: set[float],
                 compared: bool = False):
    """`compared`: inside a comparison, whose numbers are the request's; a rank's count (`bottom(1)` for "the
    bottom value") or an icon set's are not values a request names."""
    if isinstance(node, Call):
        return replace(node, args=tuple(_with_values(arg, said, texts, numbers, named_numbers, _compares(node))
                                        for arg in node.args))
    if isinstance(node, Text) and not _said(node.value.casefold(), said) and texts:
        return Text(texts.pop(0))
    if isinstance(node, Number) and compared and named_numbers and node.value not in named_numbers and numbers:
        return Number(numbers.pop(0), node.percent)
    return node


def _texts_of(tree) -> list[str]:
    return [leaf.value.casefold() for leaf, _ in _leaves(tree) if isinstance(leaf, Text)]
