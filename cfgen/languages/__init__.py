"""Per-language checks, normal forms and metrics, one small module each.

Every module provides the `Language` protocol as plain functions; nothing
here ever executes generated code (the CF executor evaluates rules on a
table, in Python, with no access to anything else).
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Protocol

from cfgen import LANGUAGES

MAX_CODE_CHARS = 4096  # longer candidates are rejected unread: no checker gets unbounded input
# Characters no candidate may hold: C0/C1 controls but tab and newline (terminal escapes, NUL, BEL), line and
# paragraph separators, bidirectional overrides (text that reads differently than it runs), and U+FFFD (bytes
# that were not text). A terminal shows them only as escapes (render.py); a check fails on them.
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd]")


class Language(Protocol):
    name: str

    def check(self, code: str) -> tuple[bool, str]: ...  # (valid, message)

    def normalise(self, code: str) -> str: ...

    def matches(self, prediction: str, gold: str, context: Any = None) -> bool: ...  # the benchmark metric

    def risks(self, code: str) -> list[str]: ...


# The language registry: each name's module, imported on first use. Replacing an entry (a plug-in, a
# test's stricter checker) changes what every caller gets.
REGISTRY: dict[str, Language] = {}


def get_language(name: str) -> Language:
    if name not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}; choose one of {', '.join(LANGUAGES)}")
    if name not in REGISTRY:
        REGISTRY[name] = importlib.import_module(f"cfgen.languages.{name}")  # type: ignore[assignment]
    return REGISTRY[name]


def unprintable(code: str) -> str | None:
    """Why `code` is not printable text (its first such character, as an escape), or None if it is."""
    found = UNPRINTABLE.search(code)
    return None if found is None else f"holds the unprintable character U+{ord(found.group()):04X}"


def as_text(code: str | bytes) -> str:
    """Any input as text: bytes that are not UTF-8 are replaced, never raised on."""
    if isinstance(code, bytes):
        return code.decode("utf-8", errors="replace")
    return code if isinstance(code, str) else str(code)
