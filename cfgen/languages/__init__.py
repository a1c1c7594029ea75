"""Per-language checks, normal forms and metrics, one small module each.

Every module provides the `Language` protocol as plain functions; nothing
here ever executes generated code (the CF executor evaluates rules on a
table, in Python, with no access to anything else).
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from cfgen import LANGUAGES

MAX_CODE_CHARS = 4096  # longer candidates are rejected unread: no checker gets unbounded input


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


def as_text(code: str | bytes) -> str:
    """Any input as text: bytes that are not UTF-8 are replaced, never raised on."""
    if isinstance(code, bytes):
        return code.decode("utf-8", errors="replace")
    return code if isinstance(code, str) else str(code)
