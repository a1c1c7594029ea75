"""Answer a batch of requests: group by language, sample, rank, ground CF rules.

Requests come back in input order whatever their languages; each language's
requests are sampled together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from cfgen.data import MAX_NL_CHARS as MAX_QUERY_CHARS
from cfgen.errors import UsageError
from cfgen.ranking import RankedCandidate

logger = logging.getLogger(__name__)


@dataclass
class Request:
    query: str
    lang: str
    table: list | None = None  # CF: rows, header first
    line: int = 0  # its stdin line in a batch (0: a single query), for messages and --json


@dataclass
class Answer:
    request: Request
    candidates: list[RankedCandidate]
    rows: list[list[int] | None] = field(default_factory=list)  # CF + table: selected data rows per candidate

    def to_json(self, shown: int | None = None) -> dict:
        """The request and its best `shown` candidates (all if None)."""
        out = {
            "query": self.request.query,
            "lang": self.request.lang,
            "candidates": [
                {"code": c.code, "score": round(c.score, 4), "valid": c.valid, "check": c.check, "risks": c.risks,
                 "source": c.source, "seen": c.seen, "placeholders": c.unfilled,
                 **({"request": c.request} if c.request is not None else {})}
                for c in self.candidates[:shown]
            ],
        }
        if self.request.table is not None:
            for candidate, rows in zip(out["candidates"], self.rows):
                candidate["rows"] = rows
        return out


def checked_query(query: str) -> str:
    """A single query as answered: UsageError if empty or not UTF-8; over MAX_QUERY_CHARS, cut (with a warning)."""
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the query is not valid UTF-8") from None
    if not query.strip():
        raise UsageError('the query is empty; say what the code should do, e.g. cfgen "list files older than 3 days"')
    if len(query) > MAX_QUERY_CHARS:
        logger.warning("query truncated to %d characters", MAX_QUERY_CHARS)
    return query[:MAX_QUERY_CHARS].strip()


def load_table(path: Path) -> list:
    """A --table CSV file as rows, header first; UsageError (exit 2) saying why it cannot be read."""
    from cfgen.languages.cf import CFError, read_table

    try:
        if not path.is_file():
            raise UsageError(f"table file not found: {path}")
        return read_table(path)
    except (CFError, OSError, UnicodeDecodeError) as failure:
        raise UsageError(f"cannot read the table {path}: {failure}"[:400]) from None


def _ground(candidates: list[RankedCandidate], request: Request) -> tuple[list[RankedCandidate], list]:
    """Rewrite CF candidates for the table's columns and list the rows each selects."""
    from cfgen.languages import cf

    grounded, selections = [], []
    for candidate in candidates:
        code, rows = candidate.code, None
        if candidate.valid:
            try:
                code = cf.ground(candidate.code, request.table[0], request.query)
                rows = [i + 1 for i, hit in enumerate(cf.execute(code, request.table)) if hit]
            except cf.CFError:
                rows = None
        grounded.append(replace(candidate, code=code))
        selections.append(rows)
    return grounded, selections


def answer_all(pipeline, requests: list[Request], num_candidates: int, steps: int, seed: int,
               strength: float | None = None) -> list[Answer]:
    """Answers in input order; each language's requests go to the pipeline together (it batches them)."""
    answers: list[Answer | None] = [None] * len(requests)
    by_language: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        by_language.setdefault(request.lang, []).append(index)
    for lang, indices in by_language.items():
        answered = pipeline([requests[i].query for i in indices], lang, num_candidates, steps, seed, strength=strength)
        for index, ranked in zip(indices, answered):
            selections: list = []
            if lang == "cf" and requests[index].table:
                ranked, selections = _ground(ranked, requests[index])
            answers[index] = Answer(requests[index], ranked, selections)
    return answers
