"""CF rules in a spreadsheet's terms: the formula to paste into "use a formula to determine which cells to format"
(Excel, LibreOffice Calc, Google Sheets), relative to the first data cell of the column the rule reads, with the
range it applies to; or, for what no formula says as well (colour scales, data bars, icon sets; top/bottom k
and percent, above/below average, duplicates), the spreadsheet's own rule type and its parameters.

    excel_rule("AND(GreaterThan(10), LessThan(50))", ["Item", "Price"], 3)
      == ExcelRule("=AND(ISNUMBER($B2),$B2>10,ISNUMBER($B2),$B2<50)", "B2:B4", "expression")

Columns come from the table's header (letters from their position); without a table the rule reads column A,
and the rule says so in its note. Text is quoted the spreadsheet way (`""` inside strings), numbers in the C
locale; comparisons of text are case-insensitive, as the spreadsheet's `=` and SEARCH are, and as cfgen's own
executor (cf_engine.py) is. A numeric comparison holds only for numbers (`ISNUMBER` first: a spreadsheet
orders any text above every number and reads a blank cell as 0), as in the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cfgen.languages.cf_engine import value_column
from cfgen.languages.cf_rules import (
    COMPARISONS,
    RANKS,
    Call,
    CFError,
    Column,
    Number,
    Text,
    format_number,
    parse,
)

DEFAULT_ROWS = 100  # data rows a rule applies to when no table says how many
_OPERATORS = {"GreaterThan": ">", "LessThan": "<", "GreaterThanEqual": ">=", "LessThanEqual": "<=", "Equals": "=",
              "NotEquals": "<>"}
# Built-in rule types (openpyxl's names, as in the file format) for rules no formula says as well.
_BUILT_IN = {"ColorScale": "colorScale", "DataBar": "dataBar", "IconSet": "iconSet", "Top": "top10",
             "Bottom": "top10", "TopPercent": "top10", "BottomPercent": "top10", "AboveAverage": "aboveAverage",
             "BelowAverage": "aboveAverage", "Duplicate": "duplicateValues"}


@dataclass(frozen=True)
class ExcelRule:
    formula: str | None  # "=$B2>10": the formula to paste (None: only the built-in type says the rule)
    applies_to: str  # "B2:B101": the cells the rule formats
    kind: str  # "expression" (a formula rule), or the built-in type (colorScale, top10, …)
    parameters: dict = field(default_factory=dict)  # a built-in type's parameters (rank, percent, bottom, …)
    note: str = ""  # what the user should know (no table: column A assumed)

    def to_json(self) -> dict:
        return {"formula": self.formula, "applies_to": self.applies_to, "type": self.kind,
                **({"parameters": self.parameters} if self.parameters else {}),
                **({"note": self.note} if self.note else {})}


def excel_rule(rule: str | Call, header: list | None = None, data_rows: int | None = None) -> ExcelRule | None:
    """The rule in a spreadsheet's terms, over the table with this header and number of data rows (no table:
    column A, DEFAULT_ROWS rows, and a note); None for a rule that does not parse or cannot be said there."""
    try:
        call = parse(rule) if isinstance(rule, str) else rule
    except CFError:
        return None
    rows = data_rows if data_rows else DEFAULT_ROWS
    sheet = _Sheet(value_column(header) if header else 0, rows, header is None)
    try:
        formula = sheet.formula(call)
    except _NotSaid:
        formula = None
    built_in = _built_in(call)
    if formula is None and built_in is None:
        return None
    # top/bottom k, average, duplicates: the spreadsheet's own type says it best (the formula says it too)
    kind, parameters = built_in if built_in is not None else ("expression", {})
    note = "no table given: the rule reads column A; give --table to name the column" if header is None else ""
    return ExcelRule(formula and "=" + formula, sheet.range(_column_of(call, sheet.default)), kind, parameters,
                     note)


def column_letter(index: int) -> str:
    """A 0-based column's letters: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


class _NotSaid(Exception):
    """A part of the rule that no formula says (a colour scale inside AND)."""


class _Sheet:
    """Formulas over one table: data from row 2 to row 1 + `rows`, `default` the column a rule reads unless it
    names one."""

    def __init__(self, default: int, rows: int, assumed: bool) -> None:
        self.default, self.rows, self.assumed = default, rows, assumed

    def cell(self, index: int) -> str:
        return f"${column_letter(index)}2"

    def range(self, index: int, absolute: bool = False) -> str:
        letter, end = column_letter(index), self.rows + 1
        return f"${letter}$2:${letter}${end}" if absolute else f"{letter}2:{letter}{end}"

    def formula(self, call: Call) -> str:
        name, args = call.name, call.args
        if name in ("AND", "OR"):  # nested ones of the same kind flattened, repeated parts said once
            parts = [part for arg in args for part in _joined_parts(name, self.formula(arg))]
            return f"{name}({','.join(dict.fromkeys(parts))})"
        if name == "NOT":
            return f"NOT({self.formula(args[0])})"
        target, rest = (args[0], args[1:]) if args and isinstance(args[0], (Column, Call)) else (None, args)
        column = target.index if isinstance(target, Column) else self.default
        cell, whole = self.cell(column), self.range(column, absolute=True)
        if name in COMPARISONS:
            left = f"LEN({self.cell(target.args[0].index)})" if isinstance(target, Call) else cell
            return self._comparison(name, left, rest[0], numeric_left=not isinstance(target, Call))
        if name == "Between":
            low, high = (self._operand(value) for value in rest)
            return f"AND(ISNUMBER({cell}),{cell}>=MIN({low},{high}),{cell}<=MAX({low},{high}))"
        if name in RANKS:
            return self._rank(name, cell, whole, rest[0] if rest else None)
        if name in ("AboveAverage", "BelowAverage"):
            return f"AND(ISNUMBER({cell}),{cell}{'>' if name == 'AboveAverage' else '<'}AVERAGE({whole}))"
        if name == "Duplicate":
            return f'AND(LEN(TRIM({cell}))>0,COUNTIF({whole},{cell})>1)'
        if name == "Blanks":
            return f"LEN(TRIM({cell}))=0"
        if name == "Errors":
            return f"ISERROR({cell})"
        if name in ("TextEquals", "TextContains", "StartsWith", "EndsWith"):
            return self._text_test(name, cell, rest[0])
        raise _NotSaid(name)

    def _operand(self, value) -> str:
        if isinstance(value, Column):
            return self.cell(value.index)
        if isinstance(value, Number):
            return format_number(value)
        raise _NotSaid("operand")

    def _comparison(self, name: str, left: str, right, numeric_left: bool) -> str:
        operator = _OPERATORS[name]
        if isinstance(right, Text) and name in ("Equals", "NotEquals"):
            return f"TRIM({left}){operator}{_quoted(right.value.strip())}"
        if isinstance(right, Text):
            raise _NotSaid("an order comparison of text")
        value = self._operand(right)
        guards = [f"ISNUMBER({left})"] if numeric_left else []
        guards += [f"ISNUMBER({value})"] if isinstance(right, Column) else []
        return f"AND({','.join(guards)},{left}{operator}{value})" if guards else f"{left}{operator}{value}"

    def _rank(self, name: str, cell: str, whole: str, k: Number | None) -> str:
        amount = k.value if k is not None else 10
        if name.endswith("Percent") or (k is not None and k.percent):
            count = f"MAX(1,INT(COUNT({whole})*{format_number(Number(amount))}/100))"
        else:  # the k-th largest of fewer than k numbers is the smallest of them, as the built-in rule has it
            k_text = str(max(1, int(amount)))
            count = k_text if k_text == "1" else f"MIN({k_text},COUNT({whole}))"
        top = name.startswith("Top")
        return f"AND(ISNUMBER({cell}),{cell}{'>=' if top else '<='}{'LARGE' if top else 'SMALL'}({whole},{count}))"

    def _text_test(self, name: str, cell: str, needle) -> str:
        text = needle.value if isinstance(needle, Text) else format_number(needle)
        quoted = _quoted(text)
        if name == "TextEquals":
            return f"TRIM({cell})={_quoted(text.strip())}"
        if name == "TextContains" and not any(char in text for char in "*?~"):
            return f"ISNUMBER(SEARCH({quoted},{cell}))"
        if name == "TextContains":  # SEARCH reads * ? ~ as wildcards (Excel) or not (Sheets): FIND reads none
            return f"ISNUMBER(FIND(LOWER({quoted}),LOWER({cell})))"
        side = "LEFT" if name == "StartsWith" else "RIGHT"
        return f"{side}({cell},LEN({quoted}))={quoted}"


def _joined_parts(name: str, formula: str) -> list[str]:
    """The parts of `formula` if it is one `name(…)` call (AND of ANDs is one AND), else [formula]."""
    if not formula.startswith(name + "("):
        return [formula]
    depth, parts, start = 0, [], len(name) + 1
    for position in range(len(name), len(formula)):
        char = formula[position]
        if char == '"':
            depth += 1000 if depth < 1000 else -1000  # inside a string: no structure
        elif depth < 1000 and char == "(":
            depth += 1
        elif depth < 1000 and char == ")":
            depth -= 1
            if depth == 0 and position != len(formula) - 1:
                return [formula]  # `AND(…)>1`: not one call
        elif depth == 1 and char == ",":
            parts.append(formula[start:position])
            start = position + 1
    return parts + [formula[start:-1]]


def _column_of(call: Call, default: int) -> int:
    """The column the rule's cells are in: the first it names, else the default one."""
    for arg in call.args:
        if isinstance(arg, Column):
            return arg.index
        if isinstance(arg, Call):
            found = _column_of(arg, -1)
            if found >= 0:
                return found
    return default


def _built_in(call: Call) -> tuple[str, dict] | None:
    """The spreadsheet's own rule type for a rule of one function (top 3, above average, …) and its parameters."""
    kind = _BUILT_IN.get(call.name)
    if kind is None:
        return None
    numbers = [arg for arg in call.args if isinstance(arg, Number)]
    if kind == "top10":
        k = numbers[0] if numbers else Number(10)
        return kind, {"rank": max(1, int(k.value)), "percent": call.name.endswith("Percent") or k.percent,
                      "bottom": call.name.startswith("Bottom")}
    if kind == "aboveAverage":
        return kind, {"aboveAverage": call.name == "AboveAverage"}
    return kind, {}


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
