"""Answer requests window by window and write each answer as soon as it is ready.

Contract: in batch mode output line k (piped or --json) belongs to input line
k — an answer, or for a rejected line an error object (--json) or an empty
line (piped) with the reason on stderr — and everything written before a
Ctrl-C stays written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from rich.console import Console

from cfgen import render
from cfgen.answer import Request, answer_all
from cfgen.batch import Rejected


@dataclass
class Summary:
    lines: int = 0
    requests: int = 0
    rejected: int = 0  # lines rejected for a reason (blank lines are not counted)
    languages: dict = field(default_factory=dict)  # languages answered, in first-seen order


class Output:
    def __init__(self, as_json: bool, shown: int | None, allow_invalid: bool, batch: bool, null: bool = False,
                 verbose: bool = False) -> None:
        """`shown`: -n, the candidates written per request (None: all on a terminal and in JSON, one piped)."""
        self.as_json, self.shown, self.allow_invalid, self.batch = as_json, shown, allow_invalid, batch
        self.verbose = verbose
        self.terminal = not as_json and Console().is_terminal
        self.records = render.Records(shown or 1, null, batch)
        self.pipeline = None  # loaded on the first window that holds a request

    def stream(self, windows: Iterable[list[Request | Rejected]], load_pipeline: Callable, num_candidates: int,
               steps: int, seed: int, strength: float | None) -> Summary:
        summary = Summary()
        for window in windows:
            summary.lines += len(window)
            requests = [item for item in window if isinstance(item, Request)]
            if requests and self.pipeline is None:
                self.pipeline = load_pipeline()
            answers = iter(answer_all(self.pipeline, requests, num_candidates, steps, seed, strength=strength)
                           if requests else ())
            for item in window:
                if isinstance(item, Rejected):
                    summary.rejected += not item.blank
                    self._reject(item)
                else:
                    summary.requests += 1
                    summary.languages.setdefault(item.lang)
                    self._answer(next(answers))
        return summary

    def _reject(self, rejected: Rejected) -> None:
        if not rejected.blank:
            render.error(f"line {rejected.line}: {rejected.error}")
        if self.as_json:
            render.json_line(rejected.to_json())
        elif not self.terminal:
            render.piped_blank(self.records)

    def _answer(self, answer) -> None:
        if self.as_json:
            payload = answer.to_json(self.shown)
            render.json_line({"line": answer.request.line, **payload} if self.batch else payload)
        elif self.terminal:
            render.terminal([answer], self.shown, self.verbose)
        else:
            render.piped(answer, self.records, self.allow_invalid)
