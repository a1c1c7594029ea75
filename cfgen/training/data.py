"""Data files: benchmark JSON, JSON Lines pairs, snippet files, and what each holds as `Pair`s.

Plain Python (no torch), so loaders can be tested and used cheaply.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import random
import re
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgen.errors import DataError
from cfgen.languages import MAX_CODE_CHARS, check_language, get_language

logger = logging.getLogger(__name__)

MAX_NL_CHARS = 2000  # the encoder reads 128 tokens; longer text only costs time
MASK = "[MASK]"  # the NL encoder's mask token, written into code for CPD


@dataclass(frozen=True)
class Pair:
    nl: str | None  # the text the code is conditioned on; None: none (unsupervised pre-training)
    code: str
    lang: str
    table: Any = field(default=None, compare=False)  # CF items: the sample table (rows, header first)
    from_pages: bool = field(default=False, compare=False)  # from tldr-style pages (generic requests, placeholders)
    platform: str | None = field(default=None, compare=False)  # a page's platform (tldr.PLATFORMS); None: any


def benchmark_path(data_dir: Path, lang: str) -> Path:
    """A language's benchmark file in a CodeFusion data folder."""
    return Path(data_dir) / get_language(check_language(lang, DataError)).benchmark_file


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except (UnicodeDecodeError, OSError) as error:
        raise DataError(f"cannot read {path}: {error}") from None


def load_benchmark(path: Path, split: str, lang: str) -> list[Pair]:
    """One split of a CodeFusion benchmark file ({"train": [...], "dev": [...]})."""
    check_language(lang, DataError)
    try:
        document = json.loads(_read_text(path))
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON (line {error.lineno}): {error.msg}") from None
    if not isinstance(document, dict) or split not in document:
        raise DataError(f"{path} has no {split!r} split")
    if not isinstance(document[split], list):
        raise DataError(f"{path}: the {split!r} split is not a list of items")
    pairs = []
    for position, item in enumerate(document[split]):
        fields = [item.get(key) for key in ("NL Utterance", "Code")] if isinstance(item, dict) else [0]
        if None in fields:  # CoNaLa leaves some requests null: nothing to score, like an empty one
            continue
        if not all(isinstance(field, str) for field in fields):
            raise DataError(
                f"{path}: item {position} of {split!r} is not an object with 'NL Utterance' and 'Code' text"
            )
        table = parse_table(item.get("Data")) if get_language(lang).tables else None
        pairs.append(Pair(item["NL Utterance"].strip(), item["Code"].strip(), lang, table))
    pairs = [pair for pair in pairs if pair.nl and pair.code]
    if not pairs:
        raise DataError(f"{path}: the {split!r} split is empty")
    return pairs


def parse_table(data: Any) -> list | None:
    """A CF item's `Data`: rows, header first; sometimes stored as a string holding a list literal."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError:
            try:
                data = ast.literal_eval(data)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
    if isinstance(data, list) and data and all(isinstance(row, (list, tuple)) for row in data):
        return [list(row) for row in data]
    return None


def load_pairs_jsonl(path: Path) -> list[Pair]:
    """A user's own data: one {"nl", "code", "lang"} object of strings per line.

    Pairs longer than a request or a program can be (MAX_NL_CHARS, MAX_CODE_CHARS)
    are skipped, with a count, before anything tokenises them.
    """

    pairs, too_long = [], 0
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            nl, code, lang = item["nl"], item["code"], item["lang"]
        except (json.JSONDecodeError, RecursionError, TypeError, KeyError):
            raise DataError(f"{path}:{number}: expected a JSON object with nl, code and lang") from None
        if not all(isinstance(value, str) for value in (nl, code, lang)):
            raise DataError(f"{path}:{number}: nl, code and lang must be text")
        try:
            check_language(lang, DataError)
        except DataError as error:
            raise DataError(f"{path}:{number}: {error}") from None
        if len(nl) > MAX_NL_CHARS or len(code) > MAX_CODE_CHARS:
            too_long += 1
            continue
        if nl.strip() and code.strip():
            pairs.append(Pair(nl.strip(), code.strip(), lang))
    if too_long:
        logger.warning(
            "%s: skipped %d pairs longer than %d characters of text or %d of code",
            path,
            too_long,
            MAX_NL_CHARS,
            MAX_CODE_CHARS,
        )
    if not pairs:
        raise DataError(f"{path} holds no pairs" + (" short enough to train on" if too_long else ""))
    return pairs


def load_snippets(path: Path) -> list[str]:
    """Distinct non-empty lines of a snippet file, in first-seen order."""
    snippets = list(dict.fromkeys(line.strip() for line in _read_text(path).splitlines()))
    snippets = [snippet for snippet in snippets if snippet]
    if not snippets:
        raise DataError(f"{path} holds no snippets")
    return snippets


def python_stdlib_snippets(max_chars: int = 120, limit: int = 200_000) -> list[str]:
    """Short one-line statements from the standard library's own sources, deduplicated.

    CodeFusion pre-trained on public code; every Python install carries some.
    Sorted file order and `ast.unparse` make the corpus reproducible per Python version.
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    seen: dict[str, None] = {}
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.Expr, ast.Return, ast.AugAssign, ast.Import, ast.ImportFrom)):
                text = ast.unparse(node.value if isinstance(node, ast.Return) and node.value else node)
                if "\n" not in text and 8 <= len(text) <= max_chars:
                    seen.setdefault(text)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def mask_identifiers(code: str, rate: float = 0.5) -> str:
    """CPD input: identifiers and built-in names replaced by [MASK], deterministically per code."""
    rng = random.Random(hashlib.sha256(code.encode()).digest())
    return _IDENTIFIER.sub(lambda match: MASK if rng.random() < rate else match.group(0), code)
