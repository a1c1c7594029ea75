"""A Hugging Face Hub look-alike on 127.0.0.1: the endpoints that
snapshot_download and hf_hub_download call (revision info, tree listing,
resolve with HEAD/GET/Range), plus switches to corrupt or cut off a file."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass
class Repo:
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit sha -> files
    refs: dict[str, str] = field(default_factory=dict)  # branch/tag -> commit sha


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers (a hung Hub)."""

    def __init__(self) -> None:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.accepted: list = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)  # held open, never read or answered

    def stop(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.corrupt: set[str] = set()  # filenames served with flipped bytes (same size)
        self.corrupt_once: set[str] = set()  # the same, for the next GET of each only
        self.cut_off: dict[str, int] = {}  # filename -> GETs still to cut off halfway
        self.slow: dict[str, float] = {}  # filename -> seconds to spend sending it (a piece at least every second)
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, repo_id: str, directory: Path, revision: str, branch: str | None = "main",
            commit: str | None = None) -> str:
        files = {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(Path(directory).rglob("*")) if p.is_file()}
        commit = commit or hashlib.sha1(f"{repo_id}{revision}".encode()).hexdigest()
        repo = self.repos.setdefault(repo_id, Repo())
        repo.commits[commit] = files
        repo.refs[revision] = commit
        if branch:
            repo.refs[branch] = commit
        return commit

    def start(self) -> "FakeHub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _resolve(self, repo_id: str, revision: str):
        repo = self.repos.get(repo_id)
        if repo is None:
            return None, "RepoNotFound"
        commit = repo.refs.get(revision, revision if revision in repo.commits else None)
        if commit is None:
            return None, "RevisionNotFound"
        return commit, None

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _json(self, payload, status=200, error_code=None):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if error_code:
                    self.send_header("X-Error-Code", error_code)
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self):
                self._serve(head=True)

            def do_GET(self):
                self._serve(head=False)

            def _serve(self, head: bool):
                path = unquote(urlparse(self.path).path)
                hub.requests.append(f"{self.command} {path}")
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
                    repo_id, kind, revision = f"{parts[2]}/{parts[3]}", parts[4], parts[5]
                    commit, error = hub._resolve(repo_id, revision)
                    if error:
                        return self._json({"error": error}, 404, error)
                    files = hub.repos[repo_id].commits[commit]
                    if kind == "revision":
                        return self._json({"id": repo_id, "sha": commit, "siblings": [{"rfilename": n} for n in files]})
                    return self._json([_tree_entry(name, data) for name, data in files.items()])
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo_id, revision, filename = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
                    commit, error = hub._resolve(repo_id, revision)
                    if error or filename not in hub.repos[repo_id].commits[commit]:
                        return self._json({"error": "not found"}, 404, error or "EntryNotFound")
                    return self._file(commit, filename, hub.repos[repo_id].commits[commit][filename], head)
                return self._json({"error": "unknown endpoint"}, 404)

            def _file(self, commit: str, filename: str, data: bytes, head: bool):
                etag = _etag(filename, data)
                start = 0
                ranged = self.headers.get("Range")
                if ranged and ranged.startswith("bytes="):
                    start = int(ranged[6:].split("-")[0] or 0)
                payload = data[start:]
                if filename in hub.corrupt or (not head and filename in hub.corrupt_once):
                    hub.corrupt_once.discard(filename) if not head else None
                    payload = bytes(b ^ 0xFF for b in payload)
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("ETag", f'"{etag}"')
                if filename.endswith(".safetensors"):
                    self.send_header("X-Linked-Etag", f'"{etag}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Content-Length", str(len(payload)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if head:
                    return
                if hub.cut_off.get(filename, 0) > 0:
                    hub.cut_off[filename] -= 1
                    self.wfile.write(payload[: len(payload) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if filename in hub.slow:
                    import time

                    # a piece at least every second: slow, never silent for a client's read timeout, so that only
                    # what the test does (a Ctrl-C) can end the download, however busy the machine
                    pieces = max(20, int(hub.slow[filename]))
                    piece = max(1, len(payload) // pieces)
                    for start in range(0, len(payload), piece):
                        self.wfile.write(payload[start : start + piece])
                        self.wfile.flush()
                        time.sleep(min(1.0, hub.slow[filename] / pieces))
                    return
                self.wfile.write(payload)

        return Handler


def _etag(filename: str, data: bytes) -> str:
    if filename.endswith(".safetensors"):  # LFS files: the etag is the SHA-256
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _tree_entry(name: str, data: bytes) -> dict:
    entry = {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
    if name.endswith(".safetensors"):
        entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
    return entry
