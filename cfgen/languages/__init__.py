"""Per-language checks, normal forms and metrics, one small module each.

Every module provides the `Language` protocol as plain functions; nothing
here ever executes generated code (the CF executor evaluates rules on a
table, in Python, with no access to anything else).
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any, Protocol

MAX_CODE_CHARS = 4096  # longer candidates are rejected unread: no checker gets unbounded input
# Characters no candidate may hold: C0/C1 controls but tab and newline (terminal escapes, NUL, BEL), line and
# paragraph separators, bidirectional overrides (text that reads differently than it runs), and U+FFFD (bytes
# that were not text). A terminal shows them only as escapes (render.py); a check fails on them.
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]")


class Language(Protocol):
    """A language is a module with these names: one module (or subpackage) of this package per language, found
    by `_discovered`, or a module an installed package declares in the ENTRY_POINT_GROUP entry points."""

    name: str
    position: int  # where it comes in lists of languages (help, errors, a new tokenizer's tags)
    examples: tuple[str, str]  # a working program and a broken one: what the contract test runs it on
    metric: str  # the benchmark metric's name (`matches`)
    lexer: str  # how a terminal colours its code (a pygments lexer name)
    benchmark_file: str  # its benchmark in the CodeFusion data folder
    snippet_file: str | None  # its pre-training snippets there (None: made elsewhere)
    masked_retrieval: bool  # a request naming values is compared with training requests with values masked
    sample_length: int  # positions denoised (tag, code, end) unless the training data sets another
    value_slots: bool  # a slots model writes the request's values as placeholders (slots.py)
    tables: bool  # a request may carry a table, in whose columns its candidates are grounded (`ground_rows`)

    def check(self, code: str) -> tuple[bool, str]: ...  # (valid, message)

    def normalise(self, code: str) -> str: ...

    def matches(self, prediction: str, gold: str, context: Any = None) -> bool: ...  # the benchmark metric

    def risks(self, code: str) -> list[str]: ...

    # Optional members, looked up with `optional(language, name)`:
    # extra_metrics(prediction, gold) -> dict[str, float]: figures `cfgen eval` adds to the metric (Python's BLEU);
    # metric_note: a line `cfgen eval` prints under the figures;
    # write_values(code, edits) -> str: put request values into code safely (Bash quotes them by their context);
    #   without it a value goes in as it is;
    # ground_rows(code, table, request) -> (code, rows): a rule grounded in a table's columns (when `tables`);
    # spreadsheet(code, table) -> dict | None: the code in a spreadsheet's terms (CF: formula, range, type);
    # fills_values: True where `settle` fills the request's values into every candidate itself: the index then
    #   offers its programs as written, not with `slots.transfer`'s guess of which of their values to swap (the
    #   programs a network reads keep the transfer it was trained with);
    # candidate_pool: programs retrieved per candidate shown (1 without it), for `settle` to choose among;
    # distinct(code) -> str: what makes two candidates one when ranking (default `normalise`; Bash keeps the
    #   subcommands apart: `git status` is not `git summary`);
    # plain_request(request) -> str: the request with its values said as plain words (Bash: `app.log` is
    #   `file.log`); where it differs, retrieval also offers the nearest programs of that text, each ranked
    #   PLAIN_REQUEST_COST below its similarity (what the request's own words find comes first among equals);
    # niche(code, request) -> bool: a program offered only where too few others are (Bash: a utility neither
    #   installed here nor everyday, nor named by the request): retrieval then looks POOL_WIDENING times further
    #   for the others;
    # settle(rows, requests, answer_parts, last_group) -> rows: the made candidates settled before ranking (CF
    #   carries the request's values in, moves unasked rules to `last_group`, and answers a request that joins
    #   conditions part by part through `answer_parts(requests)`: cf_composition.py).

def optional(language: Language, member: str):
    """A language's optional protocol member, or None where the language has none."""
    return getattr(language, member, None)


ENTRY_POINT_GROUP = "cfgen.languages"  # an installed package adds a language as `name = "package.module"` here


def _is_language(module) -> bool:
    """A language module names itself and checks code; its helpers (`bash_quoting`, `cf_rules`) do neither."""
    return isinstance(getattr(module, "name", None), str) and callable(getattr(module, "check", None))


def _discovered() -> dict[str, Language]:
    """Every language: the modules and subpackages of this package that are languages (`_is_language`), then
    those installed packages declare in ENTRY_POINT_GROUP; in `position` order (ties by name). A module whose
    name holds an underscore is a helper of the language its name starts with and is not looked at."""
    import pkgutil
    from importlib.metadata import entry_points

    found: list[Language] = []
    for info in pkgutil.iter_modules(__path__):
        if "_" not in info.name:
            module = importlib.import_module(f"{__name__}.{info.name}")
            if _is_language(module):
                found.append(module)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        module = point.load()
        if _is_language(module) and module.name not in {m.name for m in found}:
            found.append(module)
    found.sort(key=lambda module: (getattr(module, "position", 100), module.name))
    return {module.name: module for module in found}


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, Language]:
    """The language registry, the one list of languages cfgen knows, found on first use. `register` adds or
    replaces one (a plug-in, a test's toy language): every caller sees it, and existing models load unchanged
    (a model's tokenizer says which languages it writes)."""
    return _discovered()


def language_names() -> tuple[str, ...]:
    """Every language cfgen knows, in the registry's order."""
    return tuple(_registry())


def register(module: Language) -> None:
    """Add a language module (or replace the one of its name)."""
    _registry()[module.name] = module


def check_language(name: object, error: type[Exception] = ValueError) -> str:
    """The language `name` names, in any case (`Python` is python); else `error` saying which do (the one check
    of a language name)."""
    registry = _registry()
    if isinstance(name, str) and name.lower() in registry:
        return name.lower()
    if name not in registry:
        shown = repr(name) if len(repr(name)) <= 40 else repr(name)[:37] + "..."
        raise error(f"unknown language {shown}; choose one of {', '.join(registry)}")
    return name  # type: ignore[return-value]


def get_language(name: str) -> Language:
    return _registry()[check_language(name)]


def masked_languages() -> frozenset[str]:
    """The languages whose requests retrieve by their masked text (`Language.masked_retrieval`)."""
    return frozenset(name for name in language_names() if get_language(name).masked_retrieval)


def default_sample_lengths() -> dict[str, int]:
    return {name: get_language(name).sample_length for name in language_names()}


def checked_code(check):
    """A language's `check` behind the checks every language's starts with, written once: any input as text,
    then refused when empty, longer than MAX_CODE_CHARS (no parser sees unbounded input) or unprintable."""

    @functools.wraps(check)
    def checked(code) -> tuple[bool, str]:
        code = as_text(code)
        if not code.strip():
            return False, "empty"
        if len(code) > MAX_CODE_CHARS:
            return False, f"longer than {MAX_CODE_CHARS} characters"
        if why := unprintable(code):
            return False, why
        return check(code)

    return checked


def unprintable(code: str) -> str | None:
    """Why `code` is not printable text (its first such character, as an escape), or None if it is."""
    found = UNPRINTABLE.search(code)
    return None if found is None else f"holds the unprintable character U+{ord(found.group()):04X}"


def as_text(code: str | bytes) -> str:
    """Any input as text: bytes that are not UTF-8 are replaced, never raised on."""
    if isinstance(code, bytes):
        return code.decode("utf-8", errors="replace")
    return code if isinstance(code, str) else str(code)
