"""Requests, settings and answers as plain JSON values, exactly: what goes over the answerer's socket.

Contract: `answer_from_wire(answer_to_wire(a)) == a` for every Answer (a test checks it), so that an answer
from the warm answerer prints the same as one made in this process.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from cfgen.answer import Answer, Request, Settings
from cfgen.ranking import RankedCandidate


def request_to_wire(request: Request) -> dict:
    return asdict(request)


def request_from_wire(value: dict) -> Request:
    return Request(**_known(Request, value))


def settings_to_wire(settings: Settings) -> dict:
    return asdict(settings)


def settings_from_wire(value: dict) -> Settings:
    return Settings(**_known(Settings, value))


def answer_to_wire(answer: Answer) -> dict:
    return {"request": request_to_wire(answer.request), "candidates": [asdict(c) for c in answer.candidates],
            "rows": answer.rows}


def answer_from_wire(value: dict) -> Answer:
    candidates = [RankedCandidate(**_known(RankedCandidate, c)) for c in value["candidates"]]
    return Answer(request_from_wire(value["request"]), candidates, value.get("rows") or [])


def _known(kind: type, value: dict) -> dict:
    """The fields of `kind` in `value` (TypeError if `value` is no JSON object)."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object for {kind.__name__}")
    names = {f.name for f in fields(kind)}
    return {name: item for name, item in value.items() if name in names}
