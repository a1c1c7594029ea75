"""The warm answerer (`cfgen serve`) and its clients: same answers as in-process, a socket only its user can use,
one answerer however many start it, clean exits, and a client that survives an answerer dying mid-request."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from cfgen.answering.answerer_socket import ask, connect, folder, key_of, socket_path
from cfgen.answering.wire import answer_message, operation_message, wire_request

REPOSITORY = Path(__file__).resolve().parents[1]
FAKE_ANSWERER = Path(__file__).with_name("fake_answerer.py")


def cfgen(*arguments: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cfgen", *arguments], input=stdin, capture_output=True, text=True,
                          timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_answers_cross_the_wire_exactly():
    from cfgen.answering.answer import Answer, Request
    from cfgen.answering.wire import answer_from_wire, answer_to_wire
    from cfgen.ranking import RankedCandidate

    candidate = RankedCandidate("rm -r {{path}}", 0.5, True, "ok", ["deletes files"], "retrieved", "delete it",
                                True, ["{{path}}"], "osx")
    answer = Answer(Request("delete the folder", "bash", [["a"], ["1"]], 3), [candidate], [[1, 2]])
    assert answer_from_wire(json.loads(json.dumps(answer_to_wire(answer)))) == answer


def test_a_socket_is_used_only_when_it_is_the_users_and_someone_listens(tmp_path):
    key = "testkey"
    path = socket_path(key)
    assert connect(key) is None  # nothing there
    path.write_text("not a socket")
    assert connect(key) is None
    path.unlink()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # bound, never listening: what a killed answerer leaves
    stale.close()
    assert connect(key) is None
    path.unlink()
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(path))
    live.listen(1)
    try:
        connection = connect(key)
        assert connection is not None
        connection.close()
        if os.getuid() == 0:  # only root can hand a file to another user
            os.chown(path, 4242, -1)
            assert connect(key) is None
    finally:
        live.close()
        path.unlink()


def test_the_socket_folder_is_private(monkeypatch):
    shared = Path(tempfile.mkdtemp(prefix="rt"))  # short: a socket path holds about 100 bytes
    (shared / "cfgen").mkdir(parents=True)
    os.chmod(shared / "cfgen", 0o777)  # others may enter: never used
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))
    assert folder() != shared / "cfgen"
    assert stat.S_IMODE(os.stat(folder()).st_mode) == 0o700
    os.chmod(shared / "cfgen", 0o700)
    assert folder() == shared / "cfgen"


@pytest.fixture(scope="module")
def tiny_answerer(tiny_model):
    """Two `cfgen serve` for the tiny model started at once: one answers, the other says so and exits 0."""
    command = [sys.executable, "-m", "cfgen", "serve", "--model", str(tiny_model), "--idle-minutes", "10"]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    key = key_of(str(tiny_model))
    wait_for(lambda: connect(key) is not None or any(r.poll() not in (None, 0) for r in racers))
    wait_for(lambda: any(r.poll() is not None for r in racers), timeout=30)
    loser = next(r for r in racers if r.poll() is not None)
    assert loser.returncode == 0 and "runs already" in loser.communicate()[1]
    winner = next(r for r in racers if r is not loser)
    yield winner, key
    winner.send_signal(signal.SIGTERM)
    assert winner.wait(timeout=30) == 0
    assert not socket_path(key).exists()  # cleaned up on SIGTERM


def test_cfgen_answers_the_same_with_and_without_the_answerer(tiny_model, tiny_answerer):
    requests = "count the lines in file.txt\nshow the disk usage of my home folder\nadd up all the values\n"
    arguments = ["--model", str(tiny_model), "--json", "-n", "3"]
    server, key = tiny_answerer
    server.send_signal(signal.SIGSTOP)  # a stopped answerer cannot answer: measure in-process first, then warm
    os.rename(socket_path(key), socket_path(key).with_suffix(".away"))
    try:
        alone = cfgen(*arguments, stdin=requests)
    finally:
        os.rename(socket_path(key).with_suffix(".away"), socket_path(key))
        server.send_signal(signal.SIGCONT)
    warm = cfgen(*arguments, stdin=requests)
    assert alone.returncode == warm.returncode == 0, alone.stderr + warm.stderr
    assert warm.stdout == alone.stdout
    assert [json.loads(line)["candidates"][0]["code"] for line in warm.stdout.splitlines()][0] == "wc -l file.txt"
    assert stat.S_IMODE(os.stat(socket_path(key)).st_mode) == 0o600


def test_the_answerer_refuses_malformed_requests_and_answers_on(tiny_answerer):
    _, key = tiny_answerer
    assert ask(connect(key), operation_message("dance"))["exit"] == 2
    empty = ask(connect(key), answer_message([wire_request(" ", "bash")], {}))
    assert empty["ok"] is False and empty["exit"] == 2
    unknown = ask(connect(key), answer_message([wire_request("x", "cobol")], {}))
    assert unknown["ok"] is False and unknown["exit"] == 2 and "cobol" in unknown["error"]
    garbage = connect(key)
    garbage.sendall(b"\xff\xfe not json\n")
    garbage.close()
    answered = ask(connect(key), answer_message([wire_request("count the lines in file.txt", "bash")], {}))
    assert answered["answers"][0]["candidates"][0]["code"] == "wc -l file.txt"


def test_an_idle_answerer_exits_and_stop_says_when_none_runs(tiny_model):
    model = ["--model", str(tiny_model), "--device", "cpu"]  # not the settings of the module's answerer
    started = subprocess.Popen([sys.executable, "-m", "cfgen", "serve", *model, "--idle-minutes", "0.05"],
                               stderr=subprocess.PIPE, text=True)
    assert started.wait(timeout=120) == 0  # 3 s after it began listening
    assert "exits after 0.05 idle minutes" in started.communicate()[1]
    key = key_of(str(tiny_model), "cpu")
    assert not socket_path(key).exists()
    assert not (folder() / f"answerer-{key}.lock").exists() and not (folder() / f"answerer-{key}.log").exists()
    assert cfgen("serve", *model, "--status").returncode == 1
    stopped = cfgen("serve", *model, "--stop")
    assert stopped.returncode == 0 and "no answerer" in stopped.stderr


@pytest.fixture
def fake_answerer(tmp_path):
    """Start tests/fake_answerer.py on the bundled model's socket: fake_answerer(mode, candidates)."""
    started = []

    def start(mode: str, candidates: list[dict]) -> None:
        (tmp_path / "candidates.json").write_text(json.dumps(candidates))
        process = subprocess.Popen([sys.executable, str(FAKE_ANSWERER), mode, str(tmp_path / "candidates.json")],
                                   stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
        started.append(process)
        assert process.stdout.readline().strip() == "ready"

    yield start
    for process in started:
        process.kill()
        process.wait()
    socket_path(key_of(None)).unlink(missing_ok=True)


def test_an_answerer_dying_mid_request_costs_time_not_answers(fake_answerer):
    fake_answerer("die", [])
    result = cfgen("count the lines in file.txt", "--lang", "bash")
    assert result.returncode == 0 and "wc -l" in result.stdout, result.stderr
    assert "the answerer stopped before it answered; answering here instead" in result.stderr
    widget = subprocess.run([sys.executable, "-m", "cfgen.answering.widget", "--", "count lines"], capture_output=True,
                            timeout=60)
    assert widget.returncode == 1
    assert widget.stdout == b"\0cfgen: the answerer stopped before it answered\0"  # state: warm, then why


def test_the_widget_client_says_why_no_answerer_could_start(tmp_path):
    started = time.monotonic()
    widget = subprocess.run([sys.executable, "-m", "cfgen.answering.widget", "--model", str(tmp_path / "none"), "--", "hi"],
                            capture_output=True, timeout=120)
    assert widget.returncode == 1 and time.monotonic() - started < 60
    state, status = widget.stdout.decode().rstrip("\0").split("\0")
    assert state == "cfgen: starting... (the first answer takes a few seconds)"
    assert status.startswith("cfgen: the answerer did not start:") and "none" in status, status
    assert "\n" not in status


def test_a_stopped_answerer_costs_seconds_and_ends_at_sigterm_once_continued(tiny_model, tmp_path):
    """A SIGSTOPped answerer takes connections into its backlog and never answers: the client hears no
    `working` line for SILENCE_S and answers in process (the widget's client says so); continued, the answerer
    ends within a second or two of SIGTERM (a request's failure reply cannot swallow it)."""
    import shutil

    from cfgen.answering.answerer_socket import SILENCE_S

    copy = shutil.copytree(tiny_model, tmp_path / "model")  # its own answerer, not the module's
    server = subprocess.Popen([sys.executable, "-m", "cfgen", "serve", "--model", str(copy), "--idle-minutes", "5"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key = key_of(str(copy))
    try:
        wait_for(lambda: connect(key) is not None or server.poll() is not None)
        server.send_signal(signal.SIGSTOP)
        result = cfgen("count the lines in file.txt", "--model", str(copy), "--lang", "bash")
        assert result.returncode == 0 and "wc -l file.txt" in result.stdout, result.stderr
        assert "answering here instead" in result.stderr
        started = time.monotonic()
        widget = subprocess.run([sys.executable, "-m", "cfgen.answering.widget", "--model", str(copy), "--",
                                 "count lines"], capture_output=True, timeout=60)
        assert widget.returncode == 1 and widget.stdout.startswith(b"\0cfgen: the answerer stopped answering")
        assert time.monotonic() - started < SILENCE_S + 10
        server.send_signal(signal.SIGCONT)
        time.sleep(0.5)  # it takes the requests its backlog holds, whose clients have gone
        server.send_signal(signal.SIGTERM)
        ended = time.monotonic()
        assert server.wait(timeout=10) == 0 and time.monotonic() - ended < 3
        assert not socket_path(key).exists()
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait()


def test_one_client_cannot_stall_or_kill_the_answerer(tiny_answerer):
    """A client trickling its request holds only its own connection; nesting past the parser, wrong types and
    bytes that are no JSON get exit 2; the answerer answers on."""
    _, key = tiny_answerer
    trickler = connect(key)
    trickler.sendall(b'{"op": ')  # and nothing more for now
    started = time.monotonic()
    answered = ask(connect(key), answer_message([wire_request("count the lines in file.txt", "bash")], {}))
    assert answered["answers"][0]["candidates"][0]["code"] == "wc -l file.txt" and time.monotonic() - started < 30
    trickler.close()
    deep = connect(key)
    deep.sendall(b"[" * 200_000 + b"]" * 200_000 + b"\n")
    from cfgen.answering.answerer_socket import receive

    assert receive(deep)["exit"] == 2
    deep.close()
    for settings in ({"shown": "five"}, {"seed": True}, {"strength": [1]}):
        reply = ask(connect(key), answer_message([wire_request("count the lines in file.txt", "bash")], settings))
        assert reply["ok"] is False and reply["exit"] == 2 and "must be" in reply["error"], reply
    for query in ("\u200b", "\u202e", " \u200d\u2060 "):
        reply = ask(connect(key), answer_message([wire_request(query, "bash")], {}))
        assert reply["ok"] is False and reply["exit"] == 2
    assert ask(connect(key), operation_message("ping"))["ok"] is True


def test_the_widget_client_says_one_line_for_a_request_that_is_no_text():
    for request, said in ((b"\xff\xfe files", b"\0cfgen: the request is not valid UTF-8 text\0"),
                          ("\u200b".encode(), b"\0cfgen: type a request first, e.g. list files older than 3 days\0")):
        widget = subprocess.run([sys.executable.encode(), b"-m", b"cfgen.answering.widget", b"--", request],
                                capture_output=True, timeout=60)
        assert widget.returncode == 1 and widget.stdout == said, widget.stdout + widget.stderr
