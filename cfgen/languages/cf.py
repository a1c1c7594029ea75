"""Excel conditional-formatting rules (../shared/docs/cf-rules.md): parse,
check, normalise, execute on a table, and ground in a table's columns.

Both dialects: implicit value column (`TextEquals(Asian)`, `top(10%)`) and
explicit columns (`TextContains(c[1], 'M type')`). The parser is a bounded
recursive descent (length and nesting capped), so hostile text is rejected
promptly; the executor only compares cell values.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from cfgen.languages import MAX_CODE_CHARS, as_text

name = "cf"
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
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"}
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
    elif fn in TEXT_FUNCTIONS:
        if len(rest) != 1 or not isinstance(rest[0], (Text, Number)):
            raise CFError(f"{fn} takes one text")


def parse(rule: str) -> Call:
    rule = as_text(rule).strip()
    if not rule:
        raise CFError("empty rule")
    if len(rule) > MAX_CODE_CHARS:
        raise CFError(f"rule longer than {MAX_CODE_CHARS} characters")
    try:
        call, end = _parse_call(rule, 0, 0, top_level=True)
    except RecursionError:
        raise CFError("rule nested too deeply") from None
    if rule[end:].strip():
        raise CFError("unexpected text after the rule")
    _validate(call)
    return call


def check(code: str) -> tuple[bool, str]:
    try:
        parse(code)
    except CFError as error:
        return False, str(error)
    return True, "ok"


# -- rendering and normal form --------------------------------------------------------------


def _format_number(number: Number) -> str:
    value = int(number.value) if number.value.is_integer() and abs(number.value) < 1e15 else number.value
    return f"{value}{'%' if number.percent else ''}"


def render(node: Argument, explicit_quotes: bool = True) -> str:
    if isinstance(node, Call):
        return f"{node.name}({', '.join(render(a, explicit_quotes) for a in node.args)})"
    if isinstance(node, Column):
        return f"c[{node.index}]"
    if isinstance(node, Number):
        return _format_number(node)
    return "'" + node.value.replace("'", "\\'") + "'" if explicit_quotes else node.value


def normalise(code: str) -> str:
    """Canonical names, aliases merged, no whitespace, one quote style; unparsable text case-folded."""
    try:
        return re.sub(r"\s+", "", render(parse(code)).casefold())
    except CFError:
        return re.sub(r"\s+", "", as_text(code).casefold())


# -- execution -----------------------------------------------------------------------


def _number(cell: Any) -> float | None:
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, (int, float)):
        return float(cell) if math.isfinite(cell) else None
    text = str(cell).strip().replace(",", "")
    if not NUMBER.fullmatch(text):
        return None
    return float(text)


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def value_column(header: list) -> int:
    """The implicit dialect's column: the one named Value, else the second, else the first."""
    names = [str(h).strip().casefold() for h in header]
    if "value" in names:
        return names.index("value")
    return 1 if len(header) > 1 else 0


class _Table:
    def __init__(self, rows: list) -> None:
        if not rows or not isinstance(rows, list):
            raise CFError("table has no header row")
        self.header = list(rows[0]) if isinstance(rows[0], (list, tuple)) else [rows[0]]
        self.rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in rows[1:]]
        self.default = value_column(self.header)

    def column(self, index: int) -> list:
        if index >= max(len(self.header), max((len(r) for r in self.rows), default=0)):
            raise CFError(f"column c[{index}] is not in the table")
        return [row[index] if index < len(row) else "" for row in self.rows]


def _operand(table: _Table, node: Argument, default: list) -> list:
    """Per-row values of an argument: a column, LEN(column) or a constant."""
    if isinstance(node, Column):
        return table.column(node.index)
    if isinstance(node, Call) and node.name == "LEN":
        return [len(_text(v)) for v in table.column(node.args[0].index)]
    if isinstance(node, Number):
        return [node.value] * len(default)
    return [node.value] * len(default)


def _compare(op: str, left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if a is None or b is None:
        if op in ("Equals", "NotEquals") and isinstance(right, str):
            same = _text(left).strip().casefold() == right.strip().casefold()
            return same if op == "Equals" else not same
        return False
    return {
        "GreaterThan": a > b, "LessThan": a < b, "GreaterThanEqual": a >= b,
        "LessThanEqual": a <= b, "Equals": a == b, "NotEquals": a != b,
    }[op]


def _rank(fn: str, values: list, k_arg: Number | None) -> list[bool]:
    numbers = [_number(v) for v in values]
    present = sorted((n for n in numbers if n is not None), reverse=fn.startswith("Top"))
    if not present:
        return [False] * len(values)
    k_value = k_arg.value if k_arg else 10
    percent = fn.endswith("Percent") or (k_arg is not None and k_arg.percent)
    k = max(1, math.floor(len(present) * k_value / 100)) if percent else max(1, int(k_value))
    threshold = present[min(k, len(present)) - 1]
    if fn.startswith("Top"):
        return [n is not None and n >= threshold for n in numbers]
    return [n is not None and n <= threshold for n in numbers]


def _evaluate(table: _Table, call: Call) -> list[bool]:
    fn, args = call.name, call.args
    if fn == "AND":
        return [all(r) for r in zip(*(_evaluate(table, a) for a in args))]
    if fn == "OR":
        return [any(r) for r in zip(*(_evaluate(table, a) for a in args))]
    if fn == "NOT":
        return [not v for v in _evaluate(table, args[0])]
    target = args[0] if args and isinstance(args[0], (Column,)) else Column(table.default)
    rest = args[1:] if args and isinstance(args[0], Column) else args
    if fn in COMPARISONS and args and isinstance(args[0], Call):  # LEN(c[i]) > n
        target, rest = args[0], args[1:]
    values = _operand(table, target, table.rows)
    if fn in COMPARISONS:
        right = _operand(table, rest[0], values)
        return [_compare(fn, a, b) for a, b in zip(values, right)]
    if fn == "Between":
        low, high = (_operand(table, r, values) for r in rest)
        out = []
        for v, a, b in zip(values, low, high):
            n, a, b = _number(v), _number(a), _number(b)
            out.append(None not in (n, a, b) and min(a, b) <= n <= max(a, b))
        return out
    if fn in RANKS:
        return _rank(fn, values, rest[0] if rest else None)
    if fn in ("AboveAverage", "BelowAverage"):
        numbers = [_number(v) for v in values]
        present = [n for n in numbers if n is not None]
        mean = sum(present) / len(present) if present else 0.0
        above = fn == "AboveAverage"
        return [n is not None and (n > mean if above else n < mean) for n in numbers]
    if fn == "Duplicate":
        keys = [_duplicate_key(v) for v in values]
        counts: dict = {}
        for key in keys:
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
        return [key is not None and counts[key] > 1 for key in keys]
    if fn == "Blanks":
        return [not _text(v).strip() for v in values]
    if fn == "Errors":
        return [_text(v).strip().upper() in EXCEL_ERRORS for v in values]
    if fn in ("ColorScale", "DataBar", "IconSet"):
        return [_number(v) is not None for v in values]
    if fn in TEXT_FUNCTIONS:
        needle = _text(rest[0].value if isinstance(rest[0], Text) else _format_number(rest[0])).casefold()
        texts = [_text(v).casefold() for v in values]
        test = {
            "TextEquals": lambda s: s.strip() == needle.strip(), "TextContains": lambda s: needle in s,
            "StartsWith": lambda s: s.startswith(needle), "EndsWith": lambda s: s.endswith(needle),
        }[fn]
        return [test(s) for s in texts]
    raise CFError(f"{fn} cannot be run on its own")


def _duplicate_key(value: Any):
    number = _number(value)
    if number is not None:
        return ("n", number)
    text = _text(value).strip().casefold()
    return ("t", text) if text else None


def execute(rule: str | Call, rows: list) -> list[bool]:
    """Which data rows (header excluded) the rule formats."""
    call = parse(rule) if isinstance(rule, str) else rule
    return _evaluate(_Table(rows), call)


def matches(prediction: str, gold: str, context: Any = None) -> bool:
    """Execution match on `context` (rows, header first); normalised exact match without data rows."""
    table = context
    if not table or len(table) < 2:
        return check(prediction)[0] and normalise(prediction) == normalise(gold)
    try:
        predicted = execute(prediction, table)
    except CFError:
        return False
    try:
        return predicted == execute(gold, table)
    except CFError:
        return normalise(prediction) == normalise(gold)


def risks(code: str) -> list[str]:
    return []


# -- tables and column grounding ---------------------------------------------------------


def read_table(path: Path) -> list[list[str]]:
    """A CSV file as rows, header first."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle)]
    except csv.Error as error:  # e.g. a field over csv's field size limit (128 KB)
        raise CFError(f"{path} is not a readable CSV table ({error})") from None
    if not rows:
        raise CFError(f"{path} is empty")
    return rows


def find_column(header: list, request: str) -> int | None:
    """The column whose header the request names (longest name first), if any."""
    request = f" {as_text(request).casefold()} "
    named = sorted(((str(h).strip(), i) for i, h in enumerate(header) if str(h).strip()), key=lambda x: -len(x[0]))
    for title, index in named:
        if re.search(rf"(?<![\w]){re.escape(title.casefold())}(?![\w])", request):
            return index
    return None


def _with_column(call: Call, column: int) -> Call:
    if call.name in LOGIC:
        return Call(call.name, tuple(_with_column(a, column) for a in call.args))
    if call.args and isinstance(call.args[0], (Column, Call)):
        return call  # already explicit (or LEN(c[i]))
    return Call(call.name, (Column(column), *call.args))


def ground(rule: str, header: list, request: str) -> str:
    """Write an implicit-column rule for the column the request names (else the value column)."""
    column = find_column(header, request)
    if column is None:
        column = value_column(header)
    return render(_with_column(parse(rule), column))
