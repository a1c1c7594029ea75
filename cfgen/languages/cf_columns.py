"""Which column each condition of a CF rule reads on a table: from the request's words, the condition's type and
the table's cells.

Contract: `ground(rule, table, request)` (table: rows, header first; a header alone will do) gives every condition
that names no column (`GreaterThan(10)`, not `GreaterThan(c[2], 10)` or `GreaterThan(LEN(c[0]), 3)`) one c[i],
each condition of an AND/OR/NOT on its own, and leaves the rest of the rule as it was. A condition's column:
1. a text condition (one with a text value: TextEquals, TextContains, StartsWith, EndsWith, Equals(..., 'x')): a
   column whose cells hold its text as the condition tests it, the request's own column first ("Delivery is
   Worldwide": the column holding Worldwide);
2. a numeric one (comparisons with a number, Between, Top/Bottom, averages, scales): a numeric column the request
   names, the one named last before the condition's number ("Q1 above 90 and Q2 above 100"); else the value
   column if it is numeric, else the first numeric column;
3. else (Duplicate, Blanks, ...) a column the request names that no other condition took, else one it names;
4. else the value column (cf_engine.value_column). A header is named by its words in order, plurals allowed
   ("Item Names" names "Item Name"); a table without data rows has no types and holds no text. Types and held
   texts are read from the first SAMPLE_ROWS data rows, so that grounding costs the same on a table of any length.
"""

from __future__ import annotations

import re

from cfgen.languages.cf_engine import execute, value_column
from cfgen.languages.cf_rules import (
    COMPARISONS,
    LOGIC,
    NUMBER,
    RANKS,
    Call,
    CFError,
    Column,
    Number,
    Text,
    format_number,
    parse,
    render,
)

NUMERIC_CONDITIONS = COMPARISONS | RANKS | {"Between", "AboveAverage", "BelowAverage", "ColorScale", "DataBar",
                                            "IconSet"}
_WORD = re.compile(r"\w+")
SAMPLE_ROWS = 200  # data rows read for a column's type and the texts it holds


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def named_columns(header: list, request: str) -> dict[int, int]:
    """Column index -> the character offset where the request names it (its header's words in order, plurals
    allowed; a longer header first, so that "Item Name" is not taken for "Name")."""
    words = [(match.start(), _stem(match.group())) for match in _WORD.finditer(request.casefold())]
    stems = [stem for _, stem in words]
    titles = {i: [_stem(w) for w in _WORD.findall(str(title).casefold())] for i, title in enumerate(header)}
    found: dict[int, int] = {}
    used: set[int] = set()
    for column in sorted((i for i in titles if titles[i]), key=lambda i: -len(titles[i])):
        title = titles[column]
        for start in range(len(stems) - len(title) + 1):
            span = set(range(start, start + len(title)))
            if stems[start : start + len(title)] == title and not span & used:
                found[column] = words[start][0]
                used |= span
                break
    return found


def _numeric(table: list, column: int) -> bool | None:
    """Whether most of a column's non-empty cells are numbers (None: no cells to tell)."""
    cells = [row[column] for row in table[1:] if column < len(row) and str(row[column]).strip()]
    if not cells:
        return None
    return sum(map(_is_number, cells)) * 2 >= len(cells)


def _is_number(cell) -> bool:
    return isinstance(cell, (int, float)) and not isinstance(cell, bool) or \
        NUMBER.fullmatch(str(cell).replace(",", "").strip()) is not None


def _holds(table: list, column: int, condition: Call) -> bool:
    try:
        return any(execute(Call(condition.name, (Column(column), *condition.args)), table))
    except CFError:
        return False


def _names_a_column(condition: Call) -> bool:
    return bool(condition.args) and isinstance(condition.args[0], (Column, Call))


class _Grounding:
    """One rule's conditions grounded in turn (a column taken by one is the last choice of the next)."""

    def __init__(self, table: list, request: str) -> None:
        self.table, self.request = table[: SAMPLE_ROWS + 1], request.casefold()
        self.header = list(table[0]) if table else []
        self.types: dict[int, bool | None] = {}
        self.named = named_columns(self.header, request)
        self.width = max((len(row) for row in table), default=0)
        self.taken: list[int] = []
        self.cursor = 0  # where in the request the last condition's number was found

    def rule(self, call: Call) -> Call:
        if call.name in LOGIC:
            return Call(call.name, tuple(self.rule(a) if isinstance(a, Call) else a for a in call.args))
        if _names_a_column(call):
            return call
        column = self.column(call)
        self.taken.append(column)
        return Call(call.name, (Column(column), *call.args))

    def column(self, condition: Call) -> int:
        by_mention = sorted(self.named, key=self.named.get)
        text = next((a for a in condition.args if isinstance(a, Text)), None)
        if text is not None:  # Equals(..., 'Open') tests text as much as TextEquals does
            chosen = [i for i in by_mention if _holds(self.table, i, condition)] or \
                [i for i in range(self.width) if _holds(self.table, i, condition)]
            chosen = chosen or [i for i in by_mention if not self.numeric(i)]
            return self._first_free(chosen) if chosen else value_column(self.header)
        if condition.name in NUMERIC_CONDITIONS:
            numeric = [i for i in by_mention if self.numeric(i) is not False]
            before = self._named_before(numeric, condition)
            if before is not None:
                return before
            if numeric:
                return self._first_free(numeric)
            default = value_column(self.header)
            if self.numeric(default) is not False:
                return default
            return next((i for i in range(self.width) if self.numeric(i)), default)
        return self._first_free(by_mention) if by_mention else value_column(self.header)

    def numeric(self, column: int) -> bool | None:
        if column not in self.types:
            self.types[column] = _numeric(self.table, column)
        return self.types[column]

    def _named_before(self, columns: list[int], condition: Call) -> int | None:
        """The column named last before the condition's number in the request (None: no number, or none before)."""
        number = next((a for a in condition.args if isinstance(a, Number)), None)
        if number is None or not columns:
            return None
        pattern = rf"(?<![\w.]){re.escape(format_number(number).casefold())}(?![\w])"
        found = re.compile(pattern).search(self.request, self.cursor) or re.search(pattern, self.request)
        if found is None:
            return None
        self.cursor = found.end()
        earlier = [i for i in columns if self.named[i] < found.start()]
        return max(earlier, key=self.named.get) if earlier else None

    def _first_free(self, columns: list[int]) -> int:
        return next((i for i in columns if i not in self.taken), columns[0])


def ground(rule: str, table: list, request: str) -> str:
    """The rule with a column for each condition that names none (see the module's contract)."""
    return render(_Grounding(table, request).rule(parse(rule)))
