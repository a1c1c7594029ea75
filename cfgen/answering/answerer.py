"""The warm answerer (`cfgen serve`): one loaded model answering this user's requests over a Unix socket.

Contract: at most one answerer per socket key (an exclusive lock held for the answerer's life; a second one
exits 0 at once); the socket appears only once the model is loaded, mode 0600, and is removed when the
answerer ends (idle for `idle_minutes`, SIGTERM, SIGINT, a `stop` request), within a second whatever it is doing.
Every connection's peer must run as this user. Connections are read concurrently, each request whole within
CONNECTION_TIMEOUT_S; requests are answered one at a time with `answer.answer_all`, exactly as in-process, with
`working` lines to the client meanwhile; the reply carries the answers, the warnings logged while answering and
how each language was answered. Malformed requests (wrong types, nesting past the parser) get exit 2.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from cfgen import __version__
from cfgen.answering.answer import PipelineLoader, answer_all, within_query_limit
from cfgen.answering.query_text import has_visible_text
from cfgen.answering.wire import ANSWER, PING, STOP, answer_to_wire, request_from_wire, settings_from_wire
from cfgen.answering.answerer_socket import (HEARTBEAT_S, WORKING, AnswererGone, NotAMessage, folder, peer_uid,
                                             receive, send, socket_path)
from cfgen.errors import describe, exit_code_of

logger = logging.getLogger(__name__)
CONNECTION_TIMEOUT_S = 10.0  # a client that has not sent its whole request this long after connecting is dropped
MAX_CONNECTIONS = 16  # connections open at once; one more is told the answerer is busy
POLL_S = 0.5  # how often the accepting thread looks at `stop` and the idle time


class _Stop(BaseException):
    """SIGTERM. Not an Exception: no `except Exception` on the way (a request's failure reply) may swallow it."""


@contextmanager
def _exclusive(key: str) -> Iterator[bool]:
    """Whether this process holds the answerer lock of `key` (held until the block ends)."""
    with open(folder() / f"answerer-{key}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _listen(path: Path) -> socket.socket:
    """A socket listening at `path`, made under a temporary name with mode 0600 and renamed into place, so that a
    client never finds it half made (a stale file there is replaced: the lock says no answerer owns it)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(str(temporary))
    finally:
        os.umask(old_mask)
    os.chmod(temporary, 0o600)
    listener.listen(16)
    os.replace(temporary, path)
    return listener


class _CapturedWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _answer(loader: PipelineLoader, requests: list, settings) -> dict:
    captured, cfgen_logger = _CapturedWarnings(), logging.getLogger("cfgen")
    cfgen_logger.addHandler(captured)
    try:
        requests = [replace(r, query=within_query_limit(r.query, r.line)) for r in requests]
        answers = answer_all(loader(), requests, settings)
    finally:
        cfgen_logger.removeHandler(captured)
    languages = dict.fromkeys(answer.request.lang for answer in answers)
    how = {lang: loader().how(lang, settings.steps, settings.strength, settings.guidance) for lang in languages}
    return {"ok": True, "answers": [answer_to_wire(a) for a in answers], "warnings": captured.messages, "how": how}


def _reply(loader: PipelineLoader, message: dict) -> dict:
    """The reply to one request; a failure is a reply too (its one line and exit code), never the end."""
    operation = message.get("op")
    if operation == PING:
        return {"ok": True, "pid": os.getpid(), "version": __version__}
    if operation == STOP:
        return {"ok": True, "pid": os.getpid()}
    if operation != ANSWER:
        return {"ok": False, "error": f"unknown request {str(operation)[:40]!r}", "exit": 2}
    try:
        requests = [request_from_wire(value) for value in message["requests"]]
        settings = settings_from_wire(message["settings"])
        if not all(has_visible_text(request.query) for request in requests):
            raise TypeError("every request needs a query")
    except (KeyError, TypeError, ValueError) as failure:
        return {"ok": False, "error": f"malformed request ({type(failure).__name__}: {str(failure)[:100]})",
                "exit": 2}
    try:
        return _answer(loader, requests, settings)
    except Exception as failure:
        return {"ok": False, "error": describe(failure), "exit": exit_code_of(failure)}


def _serve_connection(connection: socket.socket, loader: PipelineLoader, state: "_State") -> None:
    """Read one request (whole within CONNECTION_TIMEOUT_S), answer it when no other is being answered, saying
    `working` every HEARTBEAT_S meanwhile, and reply; a `stop` request ends the answerer once answered."""
    try:
        with connection:
            connection.settimeout(CONNECTION_TIMEOUT_S)
            try:
                if peer_uid(connection) not in (None, os.getuid()):
                    logger.warning("refused a connection from another user")
                    return
                try:
                    message = receive(connection, within_s=CONNECTION_TIMEOUT_S)
                except NotAMessage:
                    send(connection, {"ok": False, "error": "malformed request (not a JSON object)", "exit": 2})
                    return
                with _working(connection), state.answering:
                    reply = _reply(loader, message)
                send(connection, reply)
            except (AnswererGone, OSError):
                return  # the client went away, or never sent a whole request: nothing to answer
            if message.get("op") == STOP:
                state.stop.set()
    finally:
        state.ended()


@contextmanager
def _working(connection: socket.socket) -> Iterator[None]:
    """While the block runs, a `working` line to the client every HEARTBEAT_S (its sign that this answerer is
    alive: a stopped one falls silent, and the client gives up on it)."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            try:
                send(connection, {WORKING: True})
            except OSError:
                return

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    try:
        yield
    finally:
        done.set()
        beating.join()


class _State:
    """What the connections share: one request answered at a time, how many are open, when the last one ended,
    and whether a `stop` request came."""

    def __init__(self) -> None:
        self.answering, self.stop = threading.Lock(), threading.Event()
        self._count_lock, self.open, self.last_ended = threading.Lock(), 0, time.monotonic()

    def started(self) -> bool:
        with self._count_lock:
            if self.open >= MAX_CONNECTIONS:
                return False
            self.open += 1
            return True

    def ended(self) -> None:
        with self._count_lock:
            self.open -= 1
            self.last_ended = time.monotonic()

    def idle_for(self) -> float:
        with self._count_lock:
            return 0.0 if self.open else time.monotonic() - self.last_ended


def _raise_stop(signum, frame) -> None:
    raise _Stop


def answer_until_idle(loader: PipelineLoader, key: str, idle_minutes: float, on_ready=lambda path: None) -> bool:
    """Answer requests on this user's socket for `key` until idle for `idle_minutes`, SIGTERM or a `stop`
    request. False (at once) when another answerer holds the key's lock. `on_ready(path)` once listening.
    Each connection is read in a thread of its own (a slow client holds only its own), requests are answered one
    at a time; the accepting thread wakes every POLL_S, so SIGTERM and `stop` end the answerer within a second,
    whatever a request is doing."""
    with _exclusive(key) as held:
        if not held:
            return False
        loader()  # load the model before the socket appears: a client that finds the socket is answered warm
        path = socket_path(key)
        listener = _listen(path)
        inode = os.stat(path).st_ino
        previous = signal.signal(signal.SIGTERM, _raise_stop)
        state = _State()
        try:
            on_ready(path)
            listener.settimeout(POLL_S)
            while not state.stop.is_set() and state.idle_for() < idle_minutes * 60:
                try:
                    connection, _ = listener.accept()
                except socket.timeout:
                    continue
                if not state.started():
                    _refuse_busy(connection)
                    continue
                threading.Thread(target=_serve_connection, args=(connection, loader, state), daemon=True).start()
            return True
        except (_Stop, KeyboardInterrupt):
            return True
        finally:
            signal.signal(signal.SIGTERM, previous)
            listener.close()
            _remove_if_ours(path, inode)
            # the lock's holder ends: its lock and log files go too (a client that starts the next answerer
            # makes them again; one that meanwhile opened the old lock finds it free and takes it)
            for name in (f"answerer-{key}.lock", f"answerer-{key}.log"):
                (folder() / name).unlink(missing_ok=True)


def _refuse_busy(connection: socket.socket) -> None:
    with connection:
        try:
            connection.settimeout(1.0)
            send(connection, {"ok": False, "error": f"the answerer has {MAX_CONNECTIONS} requests open", "exit": 1})
        except OSError:
            pass


def _remove_if_ours(path: Path, inode: int) -> None:
    try:
        if os.stat(path).st_ino == inode:
            path.unlink()
    except OSError:
        pass
