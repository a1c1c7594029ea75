"""The CF rule language: its functions, a bounded parser, validation, rendering and normal form.

Both dialects: implicit value column (`TextEquals(Asian)`, `top(10%)`) and
explicit columns (`TextContains(c[1], 'M type')`). The parser is a bounded
recursive descent (length and nesting capped), so hostile text is rejected
promptly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from cfgen.languages import MAX_CODE_CHARS, as_text, checked_code, unprintable

MAX_NESTING = 32

FUNCTIONS = [
    "ColorScale", "DataBar", "IconSet", "Top", "Bottom", "TopPercent", "BottomPercent", "AboveAverage",
    "BelowAverage", "Duplicate", "GreaterThan", "LessThan", "GreaterThanEqual", "LessThanEqual", "Equals",
    "NotEquals", "Between", "TextEquals", "TextContains", "StartsWith", "EndsWith", "Blanks", "Errors",
    "AND", "OR", "NOT", "LEN",
]
ALIASES = {
    "duplicates": "Duplicate", "greaterthanequals": "GreaterThanEqual", "lessthanequals": "LessThanEqual",
    "textstartswith": "StartsWith", "textendswith": "EndsWith", "notequal": "NotEquals", "equal": "Equals",
}
CANONICAL = {**{f.lower(): f for f in FUNCTIONS}, **ALIASES}
TEXT_FUNCTIONS = {"TextEquals", "TextContains", "StartsWith", "EndsWith"}
COMPARISONS = {"GreaterThan", "LessThan", "GreaterThanEqual", "LessThanEqual", "Equals", "NotEquals"}
RANKS = {"Top", "Bottom", "TopPercent", "BottomPercent"}
COLUMN_ONLY = {"ColorScale", "DataBar", "IconSet", "AboveAverage", "BelowAverage", "Duplicate", "Blanks", "Errors"}
LOGIC = {"AND", "OR", "NOT"}
EXCEL_ERRORS = {
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#UNKNOWN!",
    "#CONNECT!",
    "#BUSY!",
}
NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
COLUMN = re.compile(r"c\[\s*(\d+)\s*\]$")


class CFError(ValueError):
    """A rule that does not parse, or cannot run on the given table."""


@dataclass(frozen=True)
class Column:
    index: int


@dataclass(frozen=True)
class Number:
    value: float
    percent: bool = False


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


Argument = Union[Call, Column, Number, Text]


# -- parsing -------------------------------------------------------------------------


def _matching_paren(text: str, open_at: int, quote_aware: bool) -> int:
    depth, quote = 0, ""
    for position in range(open_at, len(text)):
        char = text[position]
        if quote:
            if char == quote:
                quote = ""
        elif quote_aware and char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position
    raise CFError("unbalanced parentheses" if not quote else "unterminated quote")


def _split_arguments(text: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for position, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def _unquote(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return None


CELL = re.compile(r"\$?[A-Za-z]{1,3}\$?[0-9]{1,7}")  # a spreadsheet cell a comparison may name: $E$13


def _unterminated_quote(raw: str) -> bool:
    """Whether bare text holds a quote that is never closed: an odd number of double quotes, or of single
    quotes that are not apostrophes (a single quote between two letters, as in "don't", is one)."""
    single = re.findall(r"(?<![^\W\d_])'|'(?![^\W\d_])", raw)
    return raw.count('"') % 2 == 1 or len(single) % 2 == 1


def _parse_argument(text: str, depth: int) -> Argument:
    if NAME.match(text):
        call, end = _parse_call(text, 0, depth + 1, top_level=False)
        if text[end:].strip():
            raise CFError(f"unexpected text after {call.name}(…)")
        return call
    column = COLUMN.match(text)
    if column:
        return Column(int(column.group(1)))
    quoted = _unquote(text)
    if quoted is not None:
        return Text(quoted)
    number = NUMBER.match(text)
    if number:  # units after a number are ignored: GreaterThan(13 Days)
        rest = text[number.end() :].strip()
        return Number(float(number.group(0)), percent=rest.startswith("%"))
    if not text:
        raise CFError("empty argument")
    return Text(text)


def _parse_call(text: str, position: int, depth: int, top_level: bool) -> tuple[Call, int]:
    if depth > MAX_NESTING:
        raise CFError("rule nested too deeply")
    match = NAME.match(text, position)
    if not match:
        raise CFError("expected a function call such as GreaterThan(10)")
    function = CANONICAL.get(match.group(1).lower())
    if function is None:
        raise CFError(f"unknown function {match.group(1)!r}")
    open_at = match.end() - 1
    inner_start = open_at + 1
    explicit = text[inner_start:].lstrip().startswith("c[")
    if function in TEXT_FUNCTIONS and not explicit:
        # raw text: verbatim up to the rule's final ")" (or the matching one when nested)
        close = len(text.rstrip()) - 1 if top_level else _matching_paren(text, open_at, quote_aware=False)
        if close < inner_start or text[close] != ")":
            raise CFError("unbalanced parentheses")
        raw = text[inner_start:close]
        quoted = _unquote(raw)
        if quoted is None and _unterminated_quote(raw):
            raise CFError("unterminated quote in the text")
        return Call(function, (Text(quoted if quoted is not None else raw.strip()),)), close + 1
    close = _matching_paren(text, open_at, quote_aware=True)
    inner = text[inner_start:close]
    args = () if not inner.strip() else tuple(_parse_argument(a, depth) for a in _split_arguments(inner))
    return Call(function, args), close + 1


def _validate(call: Call, inside_comparison: bool = False) -> None:
    args, fn = call.args, call.name
    kinds = [type(a).__name__ for a in args]
    first_is_column = bool(args) and isinstance(args[0], Column)
    rest = args[1:] if first_is_column else args
    if fn in LOGIC:
        low, high = (1, 1) if fn == "NOT" else (2, 5)
        if not low <= len(args) <= high or not all(isinstance(a, Call) for a in args):
            raise CFError(f"{fn} takes {low}–{high} rules" if high > 1 else "NOT takes one rule")
        for arg in args:
            _validate(arg)
    elif fn == "LEN":
        if not inside_comparison or kinds != ["Column"]:
            raise CFError("LEN(c[i]) is only allowed inside a comparison")
    elif fn in COLUMN_ONLY:
        if rest:
            raise CFError(f"{fn} takes no argument besides a column")
    elif fn in RANKS:
        if len(rest) > 1 or (rest and not isinstance(rest[0], Number)):
            raise CFError(f"{fn} takes a count or a percentage")
    elif fn == "Between":
        if len(rest) != 2 or not all(isinstance(a, (Number, Column)) for a in rest):
            raise CFError("Between takes two bounds")
    elif fn in COMPARISONS:
        if isinstance(args[0] if args else None, Call):
            _validate(args[0], inside_comparison=True)
            rest = args[1:]
        if len(rest) != 1 or isinstance(rest[0], Call):
            raise CFError(f"{fn} takes one value (after an optional column)")
        if isinstance(rest[0], Text) and fn not in ("Equals", "NotEquals") and not CELL.fullmatch(rest[0].value):
            raise CFError(f"{fn} compares with a number, a column or a cell, not text")  # text is equal or not
    elif fn in TEXT_FUNCTIONS:
        if len(rest) != 1 or not isinstance(rest[0], (Text, Number)):
            raise CFError(f"{fn} takes one text")


def parse(rule: str) -> Call:
    rule = as_text(rule).strip()
    if not rule:
        raise CFError("empty rule")
    if len(rule) > MAX_CODE_CHARS:
        raise CFError(f"rule longer than {MAX_CODE_CHARS} characters")
    if why := unprintable(rule):
        raise CFError(f"rule {why}")
    try:
        call, end = _parse_call(rule, 0, 0, top_level=True)
    except RecursionError:
        raise CFError("rule nested too deeply") from None
    if rule[end:].strip():
        raise CFError("unexpected text after the rule")
    _validate(call)
    return call


@checked_code
def check(code: str) -> tuple[bool, str]:
    try:
        parse(code)
    except CFError as error:
        return False, str(error)
    return True, "ok"


# -- rendering and normal form --------------------------------------------------------------


def format_number(number: Number) -> str:
    value = int(number.value) if number.value.is_integer() and abs(number.value) < 1e15 else number.value
    return f"{value}{'%' if number.percent else ''}"


def render(node: Argument, explicit_quotes: bool = True) -> str:
    if isinstance(node, Call):
        return f"{node.name}({', '.join(render(a, explicit_quotes) for a in node.args)})"
    if isinstance(node, Column):
        return f"c[{node.index}]"
    if isinstance(node, Number):
        return format_number(node)
    return "'" + node.value.replace("'", "\\'") + "'" if explicit_quotes else node.value


def normalise(code: str) -> str:
    """Canonical names, aliases merged, no whitespace, one quote style; unparsable text case-folded."""
    try:
        return re.sub(r"\s+", "", render(parse(code)).casefold())
    except CFError:
        return re.sub(r"\s+", "", as_text(code).casefold())
