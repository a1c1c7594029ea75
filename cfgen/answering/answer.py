"""Answer requests: group by language, sample, rank, ground CF rules; stream answers window by window.

Requests come back in input order whatever their languages; each language's
requests are sampled together. `answers` yields each window's items as soon
as the window is answered, so that what was written before a Ctrl-C stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Protocol

from cfgen.answering.query_text import has_visible_text
from cfgen.training.data import MAX_NL_CHARS as MAX_QUERY_CHARS
from cfgen.errors import UsageError
from cfgen.languages import get_language, optional
from cfgen.ranking import RankedCandidate

if TYPE_CHECKING:
    from cfgen.answering.model_choice import ModelChoice
    from cfgen.pipeline import Pipeline

logger = logging.getLogger(__name__)
FEWEST_MADE = 5  # candidates made per request however few are shown: a piped answer is the best of five


@dataclass(frozen=True)
class Settings:
    """How requests are answered: -n, --steps, --seed, --strength as given (None: the defaults)."""

    shown: int | None = None
    steps: int | None = None
    seed: int = 0
    strength: float | None = None
    guidance: float = 1.0

    @property
    def made(self) -> int:
        """Candidates made per request: those shown, and never fewer than FEWEST_MADE."""
        return max(self.shown or FEWEST_MADE, FEWEST_MADE)


@dataclass
class Request:
    query: str
    lang: str | None  # None: guessed from the query (language_guess.py) when it is answered
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
                 **({"platform": c.platform} if c.platform is not None else {}),
                 **({"request": c.request} if c.request is not None else {})}
                for c in self.candidates[:shown]
            ],
        }
        if self.request.table is not None:
            for candidate, rows in zip(out["candidates"], self.rows):
                candidate["rows"] = rows
        spreadsheet = optional(get_language(self.request.lang), "spreadsheet") if self.request.lang else None
        if spreadsheet is not None:  # CF: the rule as a spreadsheet takes it (formula, range, type), or null
            for candidate in out["candidates"]:
                candidate["excel"] = spreadsheet(candidate["code"], self.request.table)
        return out


def checked_query(query: str) -> str:
    """A single query as answered: UsageError if empty or not UTF-8; over MAX_QUERY_CHARS, cut (with a warning)."""
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the query is not valid UTF-8") from None
    if not has_visible_text(query):  # blank, or only invisible characters (query_text.py)
        raise UsageError('the query is empty; say what the code should do, e.g. cfgen "list files older than 3 days"')
    return within_query_limit(query)


def within_query_limit(query: str, line: int = 0) -> str:
    """`query` cut to MAX_QUERY_CHARS, with a warning (naming its batch line, if any) when it was longer."""
    if len(query) > MAX_QUERY_CHARS:
        where = f"line {line}: " if line else ""
        logger.warning("%squery truncated to %d characters (the model reads no more)", where, MAX_QUERY_CHARS)
    return query[:MAX_QUERY_CHARS].strip()


def load_table(path: Path, sheet: str | None = None) -> list:
    """A --table CSV file, or a sheet of an .xlsx workbook, as rows, header first; UsageError (exit 2) saying why
    it cannot be read."""
    from cfgen.languages.cf import CFError, read_table
    from cfgen.languages.cf_workbook import read_sheet

    try:
        if not path.is_file():
            raise UsageError(f"table file not found: {path}")
        if sheet is not None and path.suffix.lower() != ".xlsx":
            raise UsageError(f"--sheet names a sheet of an .xlsx table; {path} is no workbook")
        return read_sheet(path, sheet) if path.suffix.lower() == ".xlsx" else read_table(path)
    except (CFError, OSError, UnicodeDecodeError) as failure:
        raise UsageError(f"cannot read the table {path}: {failure}"[:400]) from None


def _grounded(candidates: list[RankedCandidate], request: Request) -> tuple[list[RankedCandidate], list]:
    """Candidates rewritten for the request's table and the rows each selects (valid ones; None for others)."""
    ground_rows = get_language(request.lang).ground_rows
    grounded, selections = [], []
    for candidate in candidates:
        code, rows = (
            ground_rows(candidate.code, request.table, request.query) if candidate.valid else (candidate.code, None)
        )
        grounded.append(replace(candidate, code=code))
        selections.append(rows)
    return grounded, selections


class PipelineLoader:
    """The pipeline a command answers with, loaded on first call (a batch of only rejected lines loads none) and
    kept."""

    def __init__(self, choice: ModelChoice) -> None:
        self.choice = choice
        self._loaded: Pipeline | None = None

    def __call__(self) -> Pipeline:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _load(self) -> Pipeline:
        from cfgen.model_files.hub import default_model_directory, resolve_model_directory
        from cfgen.pipeline import Pipeline
        from cfgen.runtime import select_device

        choice = self.choice
        directory = resolve_model_directory(choice.model) if choice.model else default_model_directory()
        pipeline = Pipeline.from_directory(directory, select_device(choice.device), verify=choice.verify)
        if choice.platform is not None and pipeline.index is not None:
            pipeline.index.platform = choice.platform  # commands for other platforms rank after this one's
        return pipeline


class Answerer(Protocol):
    """What answers a window of requests: this process's pipeline (LocalAnswerer) or the warm answerer's
    (remote_answerer.RemoteAnswerer); both give the same answers."""

    def answer(self, requests: list[Request], settings: Settings) -> list[Answer]: ...

    def how(self, lang: str, settings: Settings) -> str:
        """How `lang`'s candidates were made, in a few words (Pipeline.how)."""
        ...


class LocalAnswerer:
    """Answers with the pipeline `loader` loads in this process (on the first request that needs it)."""

    def __init__(self, loader: PipelineLoader) -> None:
        self.loader = loader

    def answer(self, requests: list[Request], settings: Settings) -> list[Answer]:
        return answer_all(self.loader(), requests, settings)

    def how(self, lang: str, settings: Settings) -> str:
        return self.loader().how(lang, settings.steps, settings.strength, settings.guidance)


def answer_all(pipeline: Pipeline, requests: list[Request], settings: Settings) -> list[Answer]:
    """Answers in input order; each language's requests go to the pipeline together (it batches them)."""
    requests = _with_languages(pipeline, requests)
    answers: list[Answer | None] = [None] * len(requests)
    by_language: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        by_language.setdefault(request.lang, []).append(index)
    for lang, indices in by_language.items():
        answered = pipeline(
            [requests[i].query for i in indices],
            lang,
            settings.made,
            settings.steps,
            settings.seed,
            strength=settings.strength,
            guidance=settings.guidance,
        )
        for index, ranked in zip(indices, answered):
            selections: list = []
            if requests[index].table and get_language(lang).tables:
                ranked, selections = _grounded(ranked, requests[index])
            answers[index] = Answer(requests[index], ranked, selections)
    return answers


def _with_languages(pipeline: Pipeline, requests: list[Request]) -> list[Request]:
    """Requests without a language (no --lang) with the one guessed from their words; an unsure guess is answered
    in Bash, and said on stderr."""
    unknown = [i for i, request in enumerate(requests) if request.lang is None]
    if not unknown:
        return requests
    requests = list(requests)
    for i, guess in zip(unknown, pipeline.guess_languages([requests[i].query for i in unknown])):
        if not guess.sure:  # say so, with the languages it weighed, and how to choose
            where = f"line {requests[i].line}: " if requests[i].line else ""
            others = [lang for lang in dict.fromkeys([guess.lang, guess.runner_up]) if lang and
                      lang != guess.answered_in]
            logger.warning("%sanswered as %s, unsure (%s %.0f %%%s); --lang %s to choose", where,
                           guess.answered_in, guess.lang, 100 * guess.confidence,
                           f", else {guess.runner_up}" if guess.runner_up else "",
                           " or --lang ".join(others) if others else guess.answered_in)
        requests[i] = replace(requests[i], lang=guess.answered_in)
    return requests


@dataclass
class Summary:
    """What a stream of answers held."""

    lines: int = 0
    requests: int = 0
    rejected: int = 0  # lines rejected for a reason (blank lines are not counted)
    languages: dict = field(default_factory=dict)  # languages answered, in first-seen order
    firsts: dict = field(default_factory=dict)  # per language, how many first answers each source made

    def add(self, item) -> None:
        """Count an Answer or a rejected line (batch.Rejected)."""
        self.lines += 1
        if isinstance(item, Answer):
            self.requests += 1
            self.languages.setdefault(item.request.lang)
            if item.candidates:
                made = self.firsts.setdefault(item.request.lang, {})
                made[item.candidates[0].source] = made.get(item.candidates[0].source, 0) + 1
        else:
            self.rejected += not item.blank

    def first_answers(self, lang: str, how: str) -> str:
        """What made the first answers in `lang`, where it is not what `how` (the method, in words) says: "first:
        retrieved", "first: 3 generated, 1 retrieved"; "" where the method says it already."""
        made = self.firsts.get(lang, {})
        method = how.split(": ", 1)[-1]
        own = "edited" if "then edited" in method else method.split()[0].rstrip(",") if method else ""
        if not made or set(made) == {own}:
            return ""
        if len(made) == 1:
            return f"first: {next(iter(made))}"
        return "first: " + ", ".join(f"{count} {source}" for source, count in made.items())


def answers(windows: Iterable[list], answerer: Answerer, settings: Settings) -> Iterator:
    """Each window's items in input order: an Answer for each Request, a rejected line (batch.Rejected) as it
    is. `answerer` is asked once for each window that holds a request."""
    for window in windows:
        requests = [item for item in window if isinstance(item, Request)]
        answered = iter(answerer.answer(requests, settings) if requests else ())
        for item in window:
            yield next(answered) if isinstance(item, Request) else item
