"""The prompt widgets in real shells (bash, zsh, fish) driven through tmux: type a request, press Ctrl-G, read the
line. The answers come from tests/fake_answerer.py (scripted candidates) except in the last test, where the
widget starts a real answerer on first use. A shell that is not installed is skipped (.ci/run installs them)."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cfgen.answering.answerer_socket import connect, key_of

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
SHELLS = [pytest.param(shell, marks=pytest.mark.skipif(shutil.which(shell) is None, reason=f"needs {shell}"))
          for shell in ("bash", "zsh", "fish")]
PASSED_ON = ("PATH", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME", "CFGEN_HOME", "HF_HOME", "HF_HUB_OFFLINE",
             "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def candidate(code: str, risks=(), unfilled=()) -> dict:
    return {"code": code, "score": 0.5, "valid": True, "check": "ok", "risks": list(risks), "source": "generated",
            "request": None, "seen": False, "unfilled": list(unfilled), "platform": None}


class Terminal:
    """One shell in a tmux pane of its own tmux server, prompt `$ `, the widget loaded."""

    def __init__(self, shell: str, folder: Path, model: str | None = None, width: int = 150) -> None:
        from cfgen.commands.shell_init import widget_script

        self.server = f"cfgen-{os.getpid()}-{shell}"
        self.width = width
        script = folder / f"widget.{shell}"
        script.write_text(widget_script(shell, model=model))
        home = folder / "home"
        home.mkdir(exist_ok=True)
        environment = {"HOME": str(home), "TERM": "xterm-256color",
                       **{name: os.environ[name] for name in PASSED_ON if name in os.environ}}
        if shell == "bash":
            (home / "rc").write_text(f"PS1='$ '\nsource {script}\n")
            command = ["bash", "--noprofile", "--rcfile", str(home / "rc"), "-i"]
        elif shell == "zsh":
            (home / ".zshrc").write_text(f"PS1='$ '\nsource {script}\n")
            environment["ZDOTDIR"] = str(home)
            command = ["zsh", "-i"]
        else:
            init = f"set -g fish_greeting ''; function fish_prompt; printf '$ '; end; source {script}"
            command = ["fish", "--no-config", "--init-command", init]
        self.tmux("new-session", "-d", "-x", str(width), "-y", "30", "env", "-i",
                  *(f"{name}={value}" for name, value in environment.items()), *command)
        self.wait(lambda: self.line() == "")

    def tmux(self, *arguments: str) -> str:
        return subprocess.run(["tmux", "-L", self.server, *arguments], check=True, capture_output=True, text=True,
                              timeout=30).stdout

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)

    def press(self, key: str) -> None:
        self.tmux("send-keys", key)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def prompts(self) -> list[str]:
        """The rows that start with the prompt `$ `."""
        return [row for row in self.screen().splitlines() if row.startswith("$")]

    def line(self) -> str | None:
        """The command line: the text after the last `$ ` prompt (None before the first prompt)."""
        prompts = self.prompts()
        return prompts[-1][2:].rstrip() if prompts else None

    def text(self) -> str:
        """The screen as one string, its rows joined (a line that wraps reads whole)."""
        return "".join(row.ljust(self.width) for row in self.screen().splitlines())

    def cursor(self) -> int:
        """The cursor's column on the command line (after the prompt)."""
        return int(self.tmux("display-message", "-p", "#{cursor_x}")) - 2

    def wait(self, condition, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; the screen:\n{self.screen()}"
            time.sleep(0.05)

    def wait_line(self, expected: str, timeout: float = 30.0) -> None:
        self.wait(lambda: self.line() == expected, timeout)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path):
    opened = []

    def open_terminal(shell: str, model: str | None = None, width: int = 150) -> Terminal:
        opened.append(Terminal(shell, tmp_path, model, width))
        return opened[-1]

    yield open_terminal
    for each in opened:
        each.close()


@pytest.fixture
def answerer(tmp_path):
    """fake_answerer(mode, candidates): tests/fake_answerer.py on the bundled model's socket."""
    started = []

    def start(mode: str, candidates: list[dict]) -> Path:
        (tmp_path / "candidates.json").write_text(json.dumps(candidates))
        fake = Path(__file__).with_name("fake_answerer.py")
        process = subprocess.Popen([sys.executable, str(fake), mode, str(tmp_path / "candidates.json")],
                                   stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout.readline().strip() == "ready"
        return tmp_path  # where `hold` looks for `go`

    yield start
    for process in started:
        process.kill()
        process.wait()


@pytest.mark.parametrize("shell", SHELLS)
def test_the_key_puts_the_best_command_on_the_line_and_again_the_next(shell, terminal, answerer, tmp_path):
    made = tmp_path / "made-by-the-answer"
    answerer("answer", [candidate(f"touch {made}", risks=["writes files"]),
                        candidate("scp {{path/to/file}} host:", unfilled=["path/to/file"])])
    term = terminal(shell)
    term.type("create the file")
    term.press("C-g")
    term.wait_line(f"touch {made}")
    term.wait(lambda: "cfgen: risk: writes files" in term.screen())
    term.press("C-g")
    term.wait_line("scp {{path/to/file}} host:")
    assert term.cursor() == len("scp ")  # on the placeholder
    term.wait(lambda: "cfgen: fill path/to/file" in term.screen())
    term.press("C-g")
    term.wait_line("create the file")  # after the last candidate, the request again
    term.press("C-g")
    term.wait_line(f"touch {made}")
    time.sleep(0.5)
    assert not made.exists()  # the widget never runs what it writes


@pytest.mark.parametrize("shell", SHELLS)
def test_the_request_stays_on_the_line_until_its_answer_replaces_it(shell, terminal, answerer):
    """bash blanks the line while a bound command runs (the widget draws it again); the answer takes the
    request's place, with no second prompt."""
    folder = answerer("hold", [candidate("ls -la", risks=["reads the folder"])])
    term = terminal(shell)
    term.type("list the files")
    term.press("C-g")
    term.wait(lambda: (folder / "received").exists())  # the answerer has it and is at work
    term.wait_line("list the files")
    assert term.prompts() == ["$ list the files"]
    (folder / "go").touch()
    term.wait_line("ls -la")
    assert term.prompts() == ["$ ls -la"] and "list the files" not in term.screen()


@pytest.mark.parametrize("width", [150, 40])
@pytest.mark.parametrize("shell", SHELLS)
def test_each_press_clears_the_last_note_and_keeps_what_was_on_screen(shell, width, terminal, answerer):
    request = "make an empty file called a.txt in this folder, please"  # two rows at 40 columns
    answerer("answer", [candidate("touch a.txt", risks=["writes files in the folder it is given"]),
                        candidate("ls"), candidate("cp {{path/to/file}} b", unfilled=["path/to/file"])])
    term = terminal(shell, width=width)
    term.type("echo kept")
    term.press("Enter")
    term.wait(lambda: "kept" in term.screen().splitlines()[1:2])
    term.type(request)

    def shows(line: str, note: str | None) -> bool:
        text = term.text()
        return (term.prompts()[-1:] == [f"$ {line}"[:width]] and text.count("cfgen:") == (note is not None)
                and (note is None or note in text) and "kept" in term.screen().splitlines()[1:2])

    for line, note in (("touch a.txt", "cfgen: risk: writes files in the folder it is given"), ("ls", None),
                       ("cp {{path/to/file}} b", "cfgen: fill path/to/file"), (request, None),
                       ("touch a.txt", "cfgen: risk: writes files in the folder it is given")):
        term.press("C-g")
        term.wait(lambda: shows(line, note))
        assert request not in term.text() or line == request


@pytest.mark.parametrize("shell", [s for s in SHELLS if s.values[0] != "fish"])  # fish keeps only lines it ran
def test_the_request_stays_in_history(shell, terminal, answerer):
    answerer("answer", [candidate("true")])
    term = terminal(shell)
    term.type("do nothing, successfully")
    term.press("C-g")
    term.wait_line("true")
    term.press("Enter")  # run it (it is `true`): history holds the request, then the command
    term.wait_line("")
    term.press("C-p")
    term.wait_line("true")
    term.press("C-p")
    term.wait_line("do nothing, successfully")


@pytest.mark.parametrize("shell", SHELLS)
def test_an_empty_line_stays_as_it_was_and_says_why(shell, terminal, answerer):
    answerer("answer", [candidate("ls -la")])
    term = terminal(shell)
    term.press("C-g")
    term.wait(lambda: "cfgen: type a request first" in term.screen())
    assert term.line() == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_an_answerer_killed_mid_request_leaves_the_line(shell, terminal, answerer):
    answerer("die", [])
    term = terminal(shell)
    term.type("count the lines")
    term.press("C-g")
    term.wait(lambda: "the answerer stopped before it answered" in term.screen())
    assert term.line() == "count the lines"


@pytest.fixture
def stop_tiny_answerer(tiny_model):
    yield
    subprocess.run([sys.executable, "-m", "cfgen", "serve", "--model", str(tiny_model), "--stop"],
                   capture_output=True, timeout=60)


@pytest.mark.parametrize("shell", SHELLS)
def test_the_first_key_press_starts_the_answerer_and_says_so(shell, terminal, tiny_model, stop_tiny_answerer):
    key = key_of(str(tiny_model))
    assert connect(key) is None
    term = terminal(shell, model=str(tiny_model))
    term.type("count the lines in file.txt")
    term.press("C-g")
    # loading the model takes seconds: meanwhile the request stays on its line and the press says why it waits
    term.wait(lambda: "cfgen: starting... (the first answer takes a few seconds)" in term.screen())
    assert term.prompts() == ["$ count the lines in file.txt"]
    term.wait_line("wc -l file.txt", timeout=120)
    assert "starting" not in term.screen() and term.prompts() == ["$ wc -l file.txt"]
    assert connect(key) is not None
    stopped = subprocess.run([sys.executable, "-m", "cfgen", "serve", "--model", str(tiny_model), "--stop"],
                             capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0 and "stopped" in stopped.stderr


def test_shell_init_refuses_unknown_shells_and_keys():
    def shell_init(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cfgen", "shell-init", *arguments], capture_output=True,
                              text=True, timeout=60)

    assert shell_init("tcsh").returncode == 2
    bad_key = shell_init("bash", "--key", "\\C-g'; rm -rf ~; '")
    assert bad_key.returncode == 2 and bad_key.stdout == "" and "no key notation" in bad_key.stderr
    script = shell_init("zsh", "--key", "^X^G", "--model", "it's mine")
    assert script.returncode == 0 and "bindkey -M emacs '^X^G' __cfgen_widget" in script.stdout
    assert "--model 'it'\"'\"'s mine'" in script.stdout
