"""Batch input: one request per line of stdin, plain text or a JSON object.

Contract: every input line yields exactly one `Request` or one `Rejected`
(with its line number and why), so output line k answers input line k; no
line, however malformed, stops the others. Lines are read and answered a
window at a time, so answers stream out as they are ready.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from cfgen.answering.query_text import has_visible_text
from cfgen.answering.answer import Request, within_query_limit
from cfgen.languages import check_language

WINDOW = 32  # lines answered together (one batch per language within a window)
MAX_LINE_BYTES = 4_000_000  # a longer line is rejected unread (a table of a few thousand rows fits)


@dataclass
class Rejected:
    line: int
    error: str
    blank: bool = False  # a blank line: answered with a blank line, not reported as an error

    def to_json(self) -> dict:
        return {"line": self.line, "error": self.error}


def _shown(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _table(value: object) -> list:
    if not (isinstance(value, list) and value and all(isinstance(row, list) for row in value)):
        raise ValueError("table must be a list of rows, header first")
    for row in value:
        if not all(cell is None or isinstance(cell, (str, int, float)) for cell in row):
            raise ValueError("table cells must be text, numbers or null")
    return value


def parse_line(
    raw: bytes | None, number: int, default_lang: str | None, default_table: list | None
) -> Request | Rejected:
    """One stdin line (without its newline; None for one too long to read) as a request, or why it is rejected."""
    if raw is None or len(raw) > MAX_LINE_BYTES:
        return Rejected(number, f"line longer than {MAX_LINE_BYTES:,} bytes")
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Rejected(number, "not valid UTF-8")
    if not has_visible_text(line):  # blank, or only invisible characters
        return Rejected(number, "blank line", blank=True)
    query, lang, table = line, default_lang, default_table
    if line.startswith("{"):
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else error.msg
            return Rejected(number, f"malformed JSON request ({reason})")
        if not isinstance(item, dict):
            return Rejected(number, "a JSON request must be an object with 'query'")
        query, lang = item.get("query"), item.get("lang")
        lang = default_lang if lang is None else lang  # absent or null: --lang's, or guessed
        if not isinstance(query, str):
            return Rejected(number, f"'query' must be text, got {_shown(query)}")
        if lang is not None and not isinstance(lang, str):
            return Rejected(number, f"'lang' must be text, got {_shown(lang)}")
        if item.get("table") is not None:
            try:
                table = _table(item["table"])
            except ValueError as error:
                return Rejected(number, str(error))
    try:
        lang = None if lang is None else check_language(lang)  # None: guessed from the request
    except ValueError as error:
        return Rejected(number, str(error))
    query = query.strip()
    if not has_visible_text(query):
        return Rejected(number, "empty request")
    return Request(within_query_limit(query, number), lang, table, number)


def read_windows(
    stream: BinaryIO, default_lang: str | None, default_table: list | None, window: int = WINDOW
) -> Iterator[list[Request | Rejected]]:
    """Windows of parsed lines, in input order; a final line without a newline counts, a trailing newline does not."""
    parsed: list[Request | Rejected] = []
    for number, raw in enumerate(_lines(stream), start=1):
        parsed.append(parse_line(raw, number, default_lang, default_table))
        if len(parsed) == window:
            yield parsed
            parsed = []
    if parsed:
        yield parsed


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """Each line without its line end; None for a line over MAX_LINE_BYTES (the rest of it is skipped)."""
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of an over-long line unread
                raw = stream.readline(1 << 20)
            yield None
            continue
        yield raw.rstrip(b"\r\n")
