"""Training data: benchmark JSON, JSON Lines pairs, snippet files, batching.

Everything here is plain Python (no torch) except `collate`, so loaders can
be tested and used cheaply.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import random
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from cfgen import LANGUAGES
from cfgen.errors import DataError

BENCHMARK_FILES = {"bash": "BashBenchmarks.json", "python": "PythonBenchmarks.json", "cf": "CFRuleBenchmarks.json"}
SNIPPET_FILES = {"bash": "BashSnippets.txt", "cf": "ConditionalFormattingSnippets.txt"}
MASK = "[MASK]"  # the NL encoder's mask token, written into code for CPD


@dataclass(frozen=True)
class Pair:
    nl: str
    code: str
    lang: str


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise DataError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return lang


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except (UnicodeDecodeError, OSError) as error:
        raise DataError(f"cannot read {path}: {error}") from None


def load_benchmark(path: Path, split: str, lang: str) -> list[Pair]:
    """One split of a CodeFusion benchmark file ({"train": [...], "dev": [...]})."""
    check_language(lang)
    try:
        document = json.loads(_read_text(path))
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON (line {error.lineno}): {error.msg}") from None
    if not isinstance(document, dict) or split not in document:
        raise DataError(f"{path} has no {split!r} split")
    pairs = []
    for position, item in enumerate(document[split]):
        try:
            pairs.append(Pair(str(item["NL Utterance"]).strip(), str(item["Code"]).strip(), lang))
        except (TypeError, KeyError):
            raise DataError(f"{path}: item {position} of {split!r} lacks 'NL Utterance' or 'Code'") from None
    pairs = [pair for pair in pairs if pair.nl and pair.code]
    if not pairs:
        raise DataError(f"{path}: the {split!r} split is empty")
    return pairs


def load_pairs_jsonl(path: Path) -> list[Pair]:
    """A user's own data: one {"nl", "code", "lang"} object per line."""
    pairs = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            pair = Pair(str(item["nl"]).strip(), str(item["code"]).strip(), str(item["lang"]))
        except (json.JSONDecodeError, TypeError, KeyError):
            raise DataError(f"{path}:{number}: expected a JSON object with nl, code and lang") from None
        check_language(pair.lang)
        if pair.nl and pair.code:
            pairs.append(pair)
    if not pairs:
        raise DataError(f"{path} holds no pairs")
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


@functools.lru_cache(maxsize=2)
def _epoch_order(dataset_size: int, seed: int, epoch: int) -> tuple[int, ...]:
    order = list(range(dataset_size))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return tuple(order)


def batch_indices(step: int, dataset_size: int, batch_size: int, seed: int) -> list[int]:
    """Indices of global batch `step`: epochs of seeded permutations, so a resumed run sees the same batches."""
    start = step * batch_size
    indices: list[int] = []
    while len(indices) < batch_size:
        epoch, offset = divmod(start + len(indices), dataset_size)
        order = _epoch_order(dataset_size, seed, epoch)
        indices.extend(order[offset : offset + batch_size - len(indices)])
    return indices
