"""Write each answer as soon as it is ready.

Contract: in batch mode output line k (piped or --json) belongs to input line
k — an answer, or for a rejected line an error object (--json) or an empty
line (piped) with the reason on stderr — and everything written before a
Ctrl-C stays written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from cfgen.answering import render
from cfgen.answering.stdin_requests import Rejected

if TYPE_CHECKING:
    from cfgen.answering.answer import Answer


class Output:
    """Writes answers and rejected lines (batch.Rejected) as they come: to a terminal, a pipe, or as JSON."""

    def __init__(self, as_json: bool, shown: int | None, allow_invalid: bool, batch: bool, null: bool = False,
                 verbose: bool = False, form: str = "code") -> None:
        """`shown`: -n, the candidates written per request (None: all on a terminal and in JSON, one piped);
        `form`: piped candidates as code, or (excel) as the spreadsheet formula of each CF rule that has one."""
        self.as_json, self.shown, self.allow_invalid, self.batch = as_json, shown, allow_invalid, batch
        self.form = form
        self.verbose = verbose
        self.terminal = not as_json and Console().is_terminal
        self.records = render.Records(shown or 1, null, batch)

    def write(self, item: Answer | Rejected) -> None:
        if isinstance(item, Rejected):
            self._reject(item)
        else:
            self._answer(item)

    def _reject(self, rejected: Rejected) -> None:
        if rejected.blank:  # not an error (the exit code stays 0), but a line without an answer says why
            render.note(f"line {rejected.line}: {rejected.error}: no request to answer")
        else:
            render.error(f"line {rejected.line}: {rejected.error}")
        if self.as_json:
            render.json_line(rejected.to_json())
        elif not self.terminal:
            render.piped_blank(self.records)

    def _answer(self, answer: Answer) -> None:
        if self.as_json:
            payload = answer.to_json(self.shown)
            render.json_line({"line": answer.request.line, **payload} if self.batch else payload)
        elif self.terminal:
            render.terminal([answer], self.shown, self.verbose)
        else:
            render.piped(_as_formulas(answer) if self.form == "excel" else answer, self.records, self.allow_invalid)


def _as_formulas(answer: Answer) -> Answer:
    """The answer with each candidate's code its spreadsheet formula; a rule no formula says is left out."""
    from dataclasses import replace

    from cfgen.languages import get_language

    spreadsheet = get_language(answer.request.lang).spreadsheet
    made = [(c, spreadsheet(c.code, answer.request.table)) for c in answer.candidates]
    return replace(answer, candidates=[replace(c, code=m["formula"]) for c, m in made if m and m["formula"]], rows=[])
