"""A stand-in for `cfgen serve` on the default model's socket, for tests of its clients (the shell widgets,
`cfgen "…"`): `python tests/fake_answerer.py answer|die|hold CANDIDATES.json`.

answer: each request gets the candidates in CANDIDATES.json (a list of RankedCandidate fields).
die: reads a request and closes the connection without a reply, as an answerer killed mid-request does.
hold: as answer, once a file `go` is beside CANDIDATES.json; meanwhile it sends `working` lines, as an
answerer on a busy machine does, and it writes `received` there when a request has come in.
It prints `ready` once listening and serves until killed.
"""

import json
import os
import socket
import sys
import time
from pathlib import Path


def hold(connection: socket.socket, folder: Path) -> None:
    from cfgen.answering.answerer_socket import send

    (folder / "received").touch()
    while not (folder / "go").exists():
        send(connection, {"working": True})
        time.sleep(0.2)
    (folder / "go").unlink()
    (folder / "received").unlink()


def main() -> None:
    from cfgen.answering.answerer_socket import key_of, receive, send, socket_path

    mode, candidates = sys.argv[1], json.loads(open(sys.argv[2]).read())
    path = socket_path(key_of(None))
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(4)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        with connection:
            message = receive(connection)
            if mode == "die":
                continue
            if mode == "hold":
                hold(connection, Path(sys.argv[2]).parent)
            answers = [{"request": request, "candidates": candidates, "rows": []} for request in message["requests"]]
            send(connection, {"ok": True, "answers": answers, "warnings": [], "how": {"bash": "bash: fake"}})


if __name__ == "__main__":
    main()
