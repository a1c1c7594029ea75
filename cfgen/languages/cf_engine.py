"""Running CF rules: which rows of a table a rule formats, reading a CSV table, the column a rule reads by
default (value_column). The executor only compares cell values; it never runs anything else.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from cfgen.languages.cf_rules import (
    COMPARISONS,
    EXCEL_ERRORS,
    NUMBER,
    RANKS,
    TEXT_FUNCTIONS,
    Argument,
    Call,
    CFError,
    Column,
    Number,
    Text,
    format_number,
    parse,
)


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
        needle = _text(rest[0].value if isinstance(rest[0], Text) else format_number(rest[0])).casefold()
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


# -- tables and column grounding ---------------------------------------------------------


# Bounds on a --table: a spreadsheet's conditional format reads one table, not a data dump; past them the
# column matching (a pattern per header) and rule execution would take minutes.
MAX_TABLE_COLUMNS, MAX_TABLE_ROWS = 1_000, 100_000


def read_table(path: Path) -> list[list[str]]:
    """A CSV file as rows, header first; CFError past MAX_TABLE_COLUMNS columns or MAX_TABLE_ROWS rows."""
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                if len(row) > MAX_TABLE_COLUMNS:
                    raise CFError(f"{path} has a row of {len(row):,} columns; at most {MAX_TABLE_COLUMNS:,} are read")
                rows.append(row)
                if len(rows) > MAX_TABLE_ROWS + 1:
                    raise CFError(f"{path} has more than {MAX_TABLE_ROWS:,} rows; give cfgen a smaller table")
    except csv.Error as error:  # e.g. a field over csv's field size limit (128 KB)
        raise CFError(f"{path} is not a readable CSV table ({error})") from None
    if not rows:
        raise CFError(f"{path} is empty")
    return rows
