"""The shell widget's client: `python -m cfgen.answering.widget [--model M] [-n N] -- REQUEST` asks the warm answerer
(starting it on first use) for Bash candidates and prints them for the shell function to put on the line.

Standard library only (with answerer_socket), so that a key press pays Python's start and the answer, not
torch's import. Nothing it prints is ever run by it or by the widget: the shell puts it on the command line.

Output, each field ended by NUL and written as soon as it is known: first the state (STARTING when no answerer
is warm and one is being started, so that the shell can say why this press takes seconds; else ''), then a
status ('' when answered, else one short line saying what went wrong), then for each valid candidate, best
first, its code and its note ('' or what to look at before running it: risk flags, placeholders to fill).
Exit 0 when answered, 1 when not (the status says why).
"""

from __future__ import annotations

import argparse
import socket
import sys

from cfgen.answering.answerer_socket import AnswererGone, ask, connect, connect_or_start, key_of
from cfgen.answering.query_text import has_visible_text
from cfgen.answering.wire import answer_message, wire_request

MAX_REQUEST_CHARS = 2000  # the answerer cuts longer requests too (answer.within_query_limit)
STARTING = "cfgen: starting... (the first answer takes a few seconds)"


def _note(candidate: dict) -> str:
    parts = []
    if candidate.get("risks"):
        parts.append("risk: " + "; ".join(candidate["risks"]))
    if candidate.get("unfilled"):
        parts.append("fill " + " ".join(candidate["unfilled"]))
    return " · ".join(parts)


def _candidates(request: str, model: str | None, count: int, connection: socket.socket | None) -> list[dict]:
    """The valid Bash candidates for `request`, best first, from the warm answerer on `connection` (None: one is
    started first); OSError or AnswererGone saying why there are none."""
    if connection is None:
        connection = connect_or_start(key_of(model), ["--model", model] if model else [])
    reply = ask(connection, answer_message([wire_request(request, "bash")], {"shown": count}))
    if not reply.get("ok"):
        raise OSError(str(reply.get("error", "the answerer failed")))
    return [c for c in reply["answers"][0]["candidates"][:count] if c.get("valid")]


def _write(fields: list[str]) -> None:
    """The fields as UTF-8 whatever the locale says (the shell puts them on a line the terminal shows)."""
    text = "".join(field.replace("\0", "") + "\0" for field in fields)
    sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cfgen.answering.widget", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("-n", type=int, default=5, choices=range(1, 21), metavar="N")
    parser.add_argument("request", nargs="*")
    arguments = parser.parse_args(argv)
    request = " ".join(arguments.request).strip()[:MAX_REQUEST_CHARS]
    if not has_visible_text(request):
        _write(["", "cfgen: type a request first, e.g. list files older than 3 days"])
        return 1
    try:
        request.encode("utf-8")  # bytes that are no UTF-8 come in as lone surrogates
    except UnicodeEncodeError:
        _write(["", "cfgen: the request is not valid UTF-8 text"])
        return 1
    connection = connect(key_of(arguments.model))
    _write(["" if connection is not None else STARTING])
    try:
        candidates = _candidates(request, arguments.model, arguments.n, connection)
    except (OSError, AnswererGone) as failure:
        _write([f"cfgen: {str(failure)[:300]}"])
        return 1
    if not candidates:
        _write(["cfgen: no valid Bash command for this request"])
        return 1
    _write([""] + [field for c in candidates for field in (c["code"], _note(c))])
    return 0


if __name__ == "__main__":
    sys.exit(main())
