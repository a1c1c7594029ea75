"""Python: syntax check with `ast`, normal form with `ast.unparse`."""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

from cfgen.languages import as_text, checked_code
from cfgen.languages.python_risks import risks  # noqa: F401 - part of the Language protocol
from cfgen.languages.python_values import write_values  # noqa: F401 - request values written as literals
from cfgen.evaluation.metrics import bleu

name = "python"
position = 1  # in lists of languages
examples = ("sorted(d.items(), key=lambda kv: kv[1])", "sorted(d.items(), key=lambda kv: kv[1]")  # good, broken
# The language's facts (the Language protocol in languages/__init__.py).
metric = "normalised exact match"
lexer = "python"
benchmark_file, snippet_file = "PythonBenchmarks.json", None  # pre-training snippets: the standard library's
masked_retrieval = True
sample_length = 48
value_slots = True
tables = False
metric_note = "CodeBERTScore is not computed: it needs a model that cannot be downloaded here"


def extra_metrics(prediction: str, gold: str) -> dict[str, float]:
    return {"bleu": bleu(prediction, gold)}


def _parse(code: str) -> ast.Module:
    """The module's syntax tree; Python's SyntaxWarnings (e.g. "invalid decimal literal") are not the user's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(code)


@checked_code
def check(code: str) -> tuple[bool, str]:
    try:
        _parse(code)
    except SyntaxError as error:
        return False, f"syntax error: {error.msg} (line {error.lineno})"
    except (RecursionError, MemoryError, ValueError):
        return False, "too deeply nested to parse"
    return True, "ok"


def normalise(code: str) -> str:
    """`ast.unparse` where the code parses (quotes, spacing, parentheses unified); else collapsed whitespace."""
    code = as_text(code).strip()
    if check(code)[0]:
        try:
            return ast.unparse(_parse(code))
        except (RecursionError, ValueError):
            pass
    return re.sub(r"\s+", " ", code)


def matches(prediction: str, gold: str, context: Any = None) -> bool:
    """Exact match of normal forms."""
    return bool(as_text(prediction).strip()) and normalise(prediction) == normalise(gold)

