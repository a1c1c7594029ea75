"""The answerer's wire format, the one place it is spelled: the messages a client sends (`answer_message`,
PING, STOP) and requests, settings and answers as plain JSON values, exactly.

Contract: `answer_from_wire(answer_to_wire(a)) == a` for every Answer (a test checks it), so that an answer
from the warm answerer prints the same as one made in this process. The message builders import nothing
else of cfgen: the shell widget's client sends them on every key press.
"""

from __future__ import annotations

import functools
import types
import typing
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
    """The fields of `kind` in `value`; TypeError if `value` is no JSON object or a field's value is not of the
    field's type (`"shown": "x"`), so that a wrong type is a malformed request, not a failure deep inside."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object for {kind.__name__}")
    hints = _hints(kind)
    known = {f.name: value[f.name] for f in fields(kind) if f.name in value}
    for name, item in known.items():
        if not _of_type(item, hints[name]):
            raise TypeError(f"{kind.__name__}.{name} must be {_type_name(hints[name])}, not {type(item).__name__}")
    return known


def _of_type(value, hint) -> bool:
    """Whether a JSON value is of a field's type (int, float, str, bool, None, list, their unions)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_of_type(value, option) for option in typing.get_args(hint))
    origin = typing.get_origin(hint) or hint
    if origin is type(None):
        return value is None
    if origin is bool:
        return isinstance(value, bool)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, origin) if isinstance(origin, type) else True


@functools.lru_cache(maxsize=None)
def _hints(kind: type) -> dict:
    return typing.get_type_hints(kind)


def _type_name(hint) -> str:
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    return " or ".join("null" if option is type(None) else getattr(option, "__name__", str(option))
                       for option in options)
