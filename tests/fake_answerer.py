"""A stand-in for `cfgen serve` on the default model's socket, for tests of its clients (the shell widgets,
`cfgen "…"`): `python tests/fake_answerer.py answer|die CANDIDATES.json`.

answer: each request gets the candidates in CANDIDATES.json (a list of RankedCandidate fields).
die: reads a request and closes the connection without a reply, as an answerer killed mid-request does.
It prints `ready` once listening and serves until killed.
"""

import json
import os
import socket
import sys


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
            answers = [{"request": request, "candidates": candidates, "rows": []} for request in message["requests"]]
            send(connection, {"ok": True, "answers": answers, "warnings": [], "how": {"bash": "bash: fake"}})


if __name__ == "__main__":
    main()
