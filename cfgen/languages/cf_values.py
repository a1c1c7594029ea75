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

from cfgen.languages.cf_words import NOT_A_VALUE, NUMBER_WORDS, VALUE_CUE, VALUE_ENDS
from cfgen.languages.cf_rules import COMPARISONS, Call, CFError, Number, Text, format_number, parse, render

_QUOTED = re.compile(r"\"([^\"]+)\"|(?<!\w)'([^']+)'(?!\w)|“([^”]+)”")
# A number as a request writes one: signed, with decimals, thousands grouped by commas (60,000), a unit or
# currency glued after it (500rs, 10%); not part of a cell name (B14) or a longer word.
_NUMBER = re.compile(r"(?<![\w.,])(?<!\w-)[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d.,]\d)")
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
    for match in VALUE_CUE.finditer(unquoted):
        words = []
        for word in match.group(1).split():
            if word in VALUE_ENDS or _NUMBER.fullmatch(word):  # a capitalised one is a value's: "On Hold"
                break
            words.append(word.rstrip("."))
        if words and words[0] not in NOT_A_VALUE and words[0].casefold() not in NOT_A_VALUE - VALUE_ENDS:
            found.append(" ".join(words))
    return tuple(dict.fromkeys(value for value in found if value.strip()))


@functools.lru_cache(maxsize=64)
def _number_values(request: str) -> tuple[float, ...]:
    """The request's numbers in its order, in digits or in words ("below zero")."""
    unquoted = _QUOTED.sub(" ", request[:_MAX_SCANNED])
    found = [(match.start(), float(match.group().replace(",", ""))) for match in _NUMBER.finditer(unquoted)]
    found += [(match.start(), float(NUMBER_WORDS[match.group().lower()])) for match in _NUMBER_WORD.finditer(unquoted)]
    return tuple(value for _, value in sorted(found))


_NUMBER_WORD = re.compile(r"\b(?:%s)\b" % "|".join(NUMBER_WORDS), re.I)


def carry_values(rule: str, request: str) -> str:
    """`rule` with each text and number the request does not say replaced by the next one it names that the rule
    does not already hold (texts for texts, numbers for numbers); as it is when nothing changes or it does not
    parse."""
    try:
        tree = parse(rule)
    except CFError:
        return rule
    changed = carried(tree, request)
    return rule if changed == tree else render(changed, explicit_quotes="'" in rule or '"' in rule)


def carried(tree: Call, request: str) -> Call:
    """`carry_values` on a parsed rule: the tree with the request's values in (the same tree if none change)."""
    held_texts = _texts_of(tree)
    held_numbers = [leaf.value for leaf, _ in _leaves(tree) if isinstance(leaf, Number)]
    texts = [value for value in _text_values(request) if value.casefold() not in held_texts]
    numbers = [value for value in _number_values(request) if value not in held_numbers]
    return _with_values(tree, request.casefold(), texts, numbers, set(_number_values(request)))


def unasked_values(rule: str, request: str, table: list | None = None) -> list[str]:
    """The rule's values that nobody asked for: its texts that neither the request nor the table's cells say
    (case ignored), and the numbers it compares with that the request does not name (a rank's count, `top(10)`,
    is not one the request must name)."""
    try:
        return unasked_in(parse(rule), request, table)
    except CFError:
        return []


def unasked_in(tree: Call, request: str, table: list | None = None) -> list[str]:
    """`unasked_values` of a parsed rule."""
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


def unasked_texts_in(tree: Call, request: str) -> list[str]:
    """`unasked_texts` of a parsed rule, without a table."""
    return _unasked_texts(tree, request, None)


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
