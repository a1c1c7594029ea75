"""Excel conditional-formatting rules as a cfgen language: check, normal form, execution match, risks.

The rule language lives in cf_rules.py (parse, render), running rules on
tables in cf_engine.py (execute, read_table, ground); both are re-exported
here, so callers need only `cfgen.languages.cf`.
"""

from __future__ import annotations

from typing import Any

from cfgen.languages.cf_columns import ground  # noqa: F401
from cfgen.languages.cf_engine import execute, read_table, value_column  # noqa: F401
from cfgen.languages.cf_composition import settle  # noqa: F401 - an optional Language member
from cfgen.languages.cf_rules import Call, CFError, check, normalise, parse, render  # noqa: F401

name = "cf"
position = 2  # in lists of languages
examples = ("GreaterThan(100)", "GreaterThan(100")  # good, broken
# The language's facts (the Language protocol in languages/__init__.py).
metric = "execution match"  # the rows a rule selects on the item's table
lexer = "text"
benchmark_file, snippet_file = "CFRuleBenchmarks.json", "ConditionalFormattingSnippets.txt"
masked_retrieval = True
sample_length = 24
value_slots = False  # rules name cells and colours, not the request's paths and numbers
tables = True


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


def spreadsheet(code: str, table: list | None) -> dict | None:
    """The rule in a spreadsheet's terms (cf_excel.py) over `table` (rows, header first; None: column A): its
    formula, the range it applies to, its type; None where a spreadsheet cannot say it."""
    from cfgen.languages.cf_excel import excel_rule

    made = excel_rule(code, table[0] if table else None, len(table) - 1 if table else None)
    return made.to_json() if made is not None else None


def ground_rows(code: str, table: list, request: str) -> tuple[str, list[int] | None]:
    """The rule rewritten for the table's columns (header first) and the data rows it selects (1-based);
    None for the rows where it cannot run on this table."""
    try:
        code = ground(code, table, request)
        return code, [i + 1 for i, hit in enumerate(execute(code, table)) if hit]
    except CFError:
        return code, None
