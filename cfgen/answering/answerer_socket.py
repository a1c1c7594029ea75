"""Where the warm answerer (`cfgen serve`) listens, and how a client reaches it safely. Standard library only:
the shell widget's client imports this and nothing heavier, so a key press pays Python's start and no more.

Contract: one answerer per user and per model setting (`key`): its Unix socket, lock and log live in a folder
only the user can enter (mode 0700, owned by the user: `$XDG_RUNTIME_DIR/cfgen`, else cfgen's cache folder);
the socket file is mode 0600. A client uses a socket only when the file is a socket owned by the user and the
process at the other end runs as the user (SO_PEERCRED); anything else (a stale file, a foreign owner, no
answer) is treated as no answerer. One request per connection: a JSON line each way, the answerer's reply
preceded by `working` lines while it works (a client that hears nothing for SILENCE_S gives up on it).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cfgen import __version__

if TYPE_CHECKING:
    import subprocess

IDLE_MINUTES_DEFAULT = 30.0  # an answerer with no request for this long exits (cfgen serve --idle-minutes)
IDLE_MINUTES_VARIABLE = "CFGEN_SERVE_IDLE_MINUTES"  # what an answerer started on first use is given
START_WAIT_S = 90.0  # how long a client waits for an answerer it started to load its model
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a reply larger than this is no answerer's
HEARTBEAT_S = 0.5  # an answerer at work on a request sends a `working` line this often
SILENCE_S = 5.0  # a client hears nothing for this long: the answerer is stopped or hung, and is given up on
ANSWER_WAIT_S = 120.0  # the longest a client waits for a whole answer
WORKING = "working"  # {"working": true}: the answerer's line while it works on a request, a transport matter
SOCKET_PATH_LIMIT = 100  # AF_UNIX paths hold 107 bytes on Linux, 103 on macOS


class AnswererGone(Exception):
    """The answerer closed the connection, or sent something that is no answer, before replying."""


class NotAMessage(AnswererGone):
    """A line that is no JSON object (broken, or nested deeper than the parser goes)."""


def key_of(model: str | None, device: str = "auto", verify: bool = True, platform: str | None = None) -> str:
    """Which answerer serves these settings: a short digest of them and of cfgen's version (an answerer of
    another version is never asked)."""
    setting = json.dumps([__version__, model, device, verify, platform])
    return hashlib.sha256(setting.encode()).hexdigest()[:12]


def _private_folder(path: Path) -> Path | None:
    """`path`, created 0700 if missing, when it is a folder owned by this user that no one else can enter."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return path


def folder() -> Path:
    """The folder for answerers' sockets: $XDG_RUNTIME_DIR/cfgen, else cfgen's cache folder, else (a path too
    long for a socket, or a folder others can enter) a private folder in the temporary folder."""
    import tempfile

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        candidates = [Path(runtime) / "cfgen"]
    else:
        import platformdirs

        candidates = [Path(platformdirs.user_cache_dir("cfgen")) / "answerer"]
    candidates.append(Path(tempfile.gettempdir()) / f"cfgen-{os.getuid()}")
    for candidate in candidates:
        if len(str(candidate)) + 30 <= SOCKET_PATH_LIMIT and _private_folder(candidate) is not None:
            return candidate
    raise OSError(f"no private folder for cfgen's answerer socket (tried {', '.join(map(str, candidates))})")


def socket_path(key: str) -> Path:
    return folder() / f"answerer-{key}.sock"


def peer_uid(connection: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (None where the system cannot say)."""
    if hasattr(socket, "SO_PEERCRED"):
        import struct

        credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", credentials)[1]
    if hasattr(os, "getpeereid"):  # pragma: no cover - BSD and macOS
        return os.getpeereid(connection.fileno())[1]
    return None  # pragma: no cover


def connect(key: str, timeout: float = 5.0) -> socket.socket | None:
    """A connection to this user's answerer for `key`, or None when there is none to trust: no socket file, a
    file that is not a socket or not the user's, a stale socket (nobody listening), a peer of another user."""
    try:
        path = socket_path(key)
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        connection.connect(str(path))
        if peer_uid(connection) not in (None, os.getuid()):
            raise PermissionError("the answerer's socket is held by another user")
    except OSError:
        connection.close()
        return None
    return connection


def answerer_listening(key: str) -> bool:
    """Whether this user's socket for `key` is there (whether anyone listens is found by connecting)."""
    try:
        info = os.lstat(socket_path(key))
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def send(connection: socket.socket, message: dict) -> None:
    # text that is no UTF-8 (a lone surrogate from undecodable bytes) goes as its escape, never as a failure
    connection.sendall(json.dumps(message, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n")


def receive(connection: socket.socket, within_s: float | None = None) -> dict:
    """One JSON line, past the answerer's `working` lines (WORKING); AnswererGone if the other end closes
    first, sends something else, is silent for the connection's timeout, or (given `within_s`) has not sent
    the whole line that many seconds from now."""
    deadline = None if within_s is None else time.monotonic() + within_s
    silence = connection.gettimeout()
    buffered, size = b"", 0
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AnswererGone("the other end took too long to send its message")
            connection.settimeout(left if silence is None else min(left, silence))
        try:
            chunk = connection.recv(1 << 16)
        except OSError as failure:  # reset by a killed peer, or its timeout
            raise AnswererGone(f"the answerer stopped answering ({failure.strerror or failure})") from None
        if not chunk:
            raise AnswererGone("the answerer stopped before it answered")
        buffered += chunk
        size += len(chunk)
        if size > MAX_MESSAGE_BYTES:
            raise AnswererGone("the answerer's reply is too long")
        *lines, buffered = buffered.split(b"\n")
        for line in lines:
            message = _message(line)
            if message.get(WORKING) is not True:
                return message


def _message(line: bytes) -> dict:
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting past Python's stack
        raise NotAMessage("the answerer's reply is not JSON") from None
    if not isinstance(message, dict):
        raise NotAMessage("the answerer's reply is not a JSON object")
    return message


def ask(connection: socket.socket, message: dict, timeout: float = ANSWER_WAIT_S) -> dict:
    """Send one request on a fresh connection and return the reply; the connection is closed. An answerer at
    work says so every HEARTBEAT_S: one silent for SILENCE_S (stopped, hung) is given up on, as is one that has
    not answered within `timeout`."""
    with connection:
        connection.settimeout(SILENCE_S)
        try:
            send(connection, message)
        except OSError as failure:
            raise AnswererGone(f"the answerer stopped answering ({failure.strerror or failure})") from None
        return receive(connection, within_s=timeout)


def start(key: str, serve_arguments: list[str]) -> subprocess.Popen:
    """Start an answerer in the background (its own session, its output in its log file): `cfgen serve` with
    `serve_arguments`. Two clients starting one at once start one: the second answerer finds the lock held and
    exits (serve.py)."""
    import subprocess

    log = folder() / f"answerer-{key}.log"
    idle = os.environ.get(IDLE_MINUTES_VARIABLE)
    arguments = [sys.executable, "-m", "cfgen", "serve", *serve_arguments]
    if idle:
        arguments += ["--idle-minutes", idle]
    with open(log, "ab") as output:
        return subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                start_new_session=True, close_fds=True)


def last_log_line(key: str) -> str:
    """The last line an answerer of `key` wrote (why it could not start), or ''."""
    try:
        lines = (folder() / f"answerer-{key}.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def connect_or_start(key: str, serve_arguments: list[str], wait_s: float = START_WAIT_S) -> socket.socket:
    """A connection to the answerer of `key`, started first if there is none; OSError saying why when it could
    not be started (its log's last line) or did not listen within `wait_s`."""
    connection = connect(key)
    if connection is not None:
        return connection
    started = start(key, serve_arguments)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        time.sleep(0.05)
        connection = connect(key)
        if connection is not None:
            return connection
        if started.poll() not in (None, 0):  # 0: another client's answerer holds the lock; wait for it
            reason = last_log_line(key) or f"exit {started.returncode}"
            raise OSError(f"the answerer did not start: {reason.removeprefix('error: ')}")
    raise OSError(f"the answerer did not start listening within {wait_s:.0f} s")
