"""The answerer's wire format, the one place it is spelled: the messages a client sends (`answer_message`,
PING, STOP) and requests, settings and answers as plain JSON values, exactly.

Contract: `answer_from_wire(answer_to_wire(a)) == a` for every Answer (a test checks it), so that an answer
from the warm answerer prints the same as one made in this process. The message builders import nothing
else of cfgen: the shell widget's client sends them on every key press.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfgen.answering.answer import Answer, Request, Settings

ANSWER, PING, STOP = "answer", "ping", "stop"  # the operations a message names in "op"


def answer_message(requests: list[dict], settings: dict) -> dict:
    """Answer these requests (`wire_request`s or `request_to_wire`s) with these settings (`settings_to_wire`;
    a name left out keeps its default)."""
    return {"op": ANSWER, "requests": requests, "settings": settings}


def operation_message(operation: str) -> dict:
    """PING (is it there, which version) or STOP (end once this is answered)."""
    return {"op": operation}


def wire_request(query: str, lang: str, table: list | None = None, line: int = 0) -> dict:
    """A request as `request_to_wire` writes one, built without the Request class."""
    return {"query": query, "lang": lang, "table": table, "line": line}


def request_to_wire(request: Request) -> dict:
    return asdict(request)


def request_from_wire(value: dict) -> Request:
    from cfgen.answering.answer import Request

    return Request(**_known(Request, value))


def settings_to_wire(settings: Settings) -> dict:
    return asdict(settings)


def settings_from_wire(value: dict) -> Settings:
    from cfgen.answering.answer import Settings

    return Settings(**_known(Settings, value))


def answer_to_wire(answer: Answer) -> dict:
    return {"request": request_to_wire(answer.request), "candidates": [asdict(c) for c in answer.candidates],
            "rows": answer.rows}


def answer_from_wire(value: dict) -> Answer:
    from cfgen.answering.answer import Answer
    from cfgen.ranking import RankedCandidate

    candidates = [RankedCandidate(**_known(RankedCandidate, c)) for c in value["candidates"]]
    return Answer(request_from_wire(value["request"]), candidates, value.get("rows") or [])


def _known(kind: type, value: dict) -> dict:
    """The fields of `kind` in `value` (TypeError if `value` is no JSON object)."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object for {kind.__name__}")
    names = {f.name for f in fields(kind)}
    return {name: item for name, item in value.items() if name in names}
