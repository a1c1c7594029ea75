"""Excel conditional-formatting rules as a cfgen language: check, normal form, execution match, risks.

The rule language lives in cf_rules.py (parse, render), running rules on
tables in cf_engine.py (execute, read_table, ground); both are re-exported
here, so callers need only `cfgen.languages.cf`.
"""

from __future__ import annotations

from typing import Any

from cfgen.languages.cf_engine import execute, find_column, ground, read_table, value_column  # noqa: F401
from cfgen.languages.cf_rules import Call, CFError, check, normalise, parse, render  # noqa: F401

name = "cf"


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
