"""A careless or hostile user at the command line: nothing lost, nothing injected, nothing hangs."""

import io
import json
import subprocess
import sys
import threading

import pytest
from typer.testing import CliRunner

from cfgen.commands.app import app
from conftest import write_pairs
from cfgen.languages import language_names


def invoke(args, stdin=None):
    return CliRunner().invoke(app, args, input=stdin)


# -- data loss ------------------------------------------------------------------------------

def test_train_and_export_refuse_a_folder_that_is_not_theirs_and_touch_nothing(tmp_path, tiny_model, pairs_file):
    project = tmp_path / "proj"
    (project / "retrieval").mkdir(parents=True)
    mine = {"README.md": "my notes", "weights.safetensors": "x", "retrieval/keep.txt": "keep"}
    for name, text in mine.items():
        (project / name).write_text(text)
    for args in (["train", str(project), "--pairs", str(pairs_file), "--size", "tiny", "--steps", "3"],
                 ["export", str(tiny_model), str(project)]):
        for extra in ([], ["--overwrite"]):
            result = invoke(args + extra)
            assert result.exit_code == 2 and "holds no cfgen model" in result.stderr, result.stderr
    assert {name: (project / name).read_text() for name in mine} == mine
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == ["README.md", "retrieval",
                                                                                     "retrieval/keep.txt",
                                                                                     "weights.safetensors"]


def test_overwriting_a_cfgen_model_needs_the_flag_and_keeps_files_cfgen_did_not_write(tmp_path, tiny_model):
    output = tmp_path / "out"
    assert invoke(["export", str(tiny_model), str(output)]).exit_code == 0
    (output / "notes.txt").write_text("mine")
    (output / "model-00001-of-00009.safetensors").write_text("not listed in checksums: not cfgen's")
    again = invoke(["export", str(tiny_model), str(output)])
    assert again.exit_code == 2 and "--overwrite" in again.stderr
    replaced = invoke(["export", str(tiny_model), str(output), "--overwrite", "--max-shard-size", "20KB"])
    assert replaced.exit_code == 0, replaced.stderr
    assert (output / "notes.txt").read_text() == "mine"
    assert (output / "model-00001-of-00009.safetensors").exists()
    assert not (output / "model.safetensors").exists()  # the earlier save's file, listed in its checksums, is gone
    shards = json.loads((output / "checksums.json").read_text())
    assert any(name.startswith("model-0") for name in shards)


def test_a_second_training_run_on_the_same_folder_is_refused_while_the_first_holds_it(tmp_path, pairs_file):
    from cfgen.errors import RunInUseError
    from cfgen.model_files.files import RunLock
    from cfgen.training.train import run_training

    from conftest import tiny_request

    with RunLock(tmp_path / "run"):  # as a first `cfgen train run` would, in another process
        with pytest.raises(RunInUseError, match="in use by another cfgen process"):
            run_training(tiny_request(tmp_path / "run", pairs_file, steps=2))
    assert run_training(tiny_request(tmp_path / "run", pairs_file, steps=2)).steps == 2  # released: it runs


def test_readers_never_see_half_of_a_model_being_published(tmp_path, tiny_model, encoder):
    from cfgen.model_files.bundle import load_model, save_model
    from cfgen.model_files.files import RunLock
    from cfgen.pipeline import Pipeline

    network, tokenizer = load_model(tiny_model)
    target = tmp_path / "published"
    with RunLock(target):
        save_model(network, tokenizer, target)
    failures, stop = [], threading.Event()

    def publish_again_and_again():
        with RunLock(target):
            for k in range(12):
                save_model(network, tokenizer, target, half=bool(k % 2), max_shard_size="20KB" if k % 3 else "16MB")
        stop.set()

    writer = threading.Thread(target=publish_again_and_again)
    writer.start()
    reads = 0
    while not stop.is_set():
        try:
            Pipeline.from_directory(target, encoder=encoder)
            reads += 1
        except Exception as failure:  # noqa: BLE001 - any failure is the bug
            failures.append(repr(failure))
    writer.join()
    assert failures == [] and reads > 0


# -- batch input ------------------------------------------------------------------------------

BATCH = [
    "count the lines in file.txt",
    json.dumps({"query": None}),
    json.dumps({"query": 42}),
    json.dumps({"query": ["a"]}),
    json.dumps({"query": "x", "lang": "[/x]"}),
    "",
    '{"query": ' + "[" * 100_000,
    json.dumps({"query": "show the disk usage of my home folder", "table": "no"}),
    "show the disk usage of my home folder",
]


def test_every_batch_line_gets_exactly_one_output_line_in_order(tiny_model):
    stdin = "\n".join(BATCH) + "\n"
    piped = invoke(["generate", "-", "-m", str(tiny_model)], stdin)
    assert piped.exit_code == 5
    assert piped.stdout.split("\n")[:-1] == ["wc -l file.txt", "", "", "", "", "", "", "", "du -sh ~"]
    as_json = [json.loads(line) for line in invoke(["generate", "-", "-m", str(tiny_model), "--json"], stdin).stdout.splitlines()]
    assert [item["line"] for item in as_json] == list(range(1, len(BATCH) + 1))
    errors = {item["line"]: item["error"] for item in as_json if "error" in item}
    assert set(errors) == {2, 3, 4, 5, 6, 7, 8}
    assert "'query' must be text" in errors[2] and "'query' must be text" in errors[3]
    assert "unknown language '[/x]'" in errors[5] and "nested too deeply" in errors[7] and "table" in errors[8]
    assert "Traceback" not in piped.stderr


def test_answers_stream_out_and_survive_an_interrupt(tiny_model, encoder, capsys):
    from cfgen.answering.answer import LocalAnswerer, Request, Settings, answers
    from cfgen.answering.output import Output
    from cfgen.pipeline import Pipeline

    generator = Pipeline.from_directory(tiny_model, encoder=encoder)

    def windows():
        yield [Request("count the lines in file.txt", "bash", None, 1)]
        raise KeyboardInterrupt  # Ctrl-C while the next window is read or answered

    output = Output(as_json=False, shown=None, allow_invalid=False, batch=True)
    with pytest.raises(KeyboardInterrupt):
        for item in answers(windows(), LocalAnswerer(lambda: generator), Settings()):
            output.write(item)
    assert capsys.readouterr().out == "wc -l file.txt\n"


def test_a_reader_that_stops_reading_ends_cfgen_quietly(tiny_model):
    """`cfgen … | head -c 20`: the reader went away; no error line, exit 141 (as SIGPIPE's)."""
    script = (f"set -o pipefail; yes 'count the lines in file.txt' | head -n 400 | "
              f"{sys.executable} -m cfgen -m {tiny_model} --json | head -c 20 > /dev/null")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 141 and result.stderr == ""


@pytest.mark.parametrize("stdin, message", [("", "it was empty"), ("\n  \n\n", "every line was blank")])
def test_empty_stdin_says_why(tiny_model, stdin, message):
    result = subprocess.run([sys.executable, "-m", "cfgen", "-m", str(tiny_model)], input=stdin, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr


def test_batch_reader_property_any_bytes_any_json_one_result_per_line():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cfgen.answering.stdin_requests import Rejected, read_windows

    json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(), lambda inner: st.lists(inner) |
                               st.dictionaries(st.sampled_from(["query", "lang", "table", "x"]), inner), max_leaves=10)
    line = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")) | json_values.map(
        lambda v: json.dumps(v).encode()) | st.text(alphabet="[]/bold\x1b\\ ").map(str.encode)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(line, min_size=1, max_size=12))
    def check(lines):
        data = b"\n".join(lines) + b"\n"
        results = [item for window in read_windows(io.BytesIO(data), "bash", None, window=5) for item in window]
        assert [item.line for item in results] == list(range(1, len(lines) + 1))
        for item in results:
            assert isinstance(item, Rejected) or (isinstance(item.query, str) and item.query and item.lang in language_names())

    check()


# -- what reaches the terminal ---------------------------------------------------------------

def _rendered(query, code, risks=()):
    from rich.console import Console

    from cfgen.answering import render
    from cfgen.answering.answer import Answer, Request
    from cfgen.ranking import RankedCandidate

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200, color_system="truecolor")
    original = render.Console
    render.Console = lambda **kwargs: console
    try:
        answer = Answer(Request(query, "bash"), [RankedCandidate(code, 0.5, True, "ok", list(risks))])
        render.terminal([answer], None)
    finally:
        render.Console = original
    return buffer.getvalue()


def test_markup_and_escape_sequences_in_user_text_are_shown_not_obeyed():
    shown = _rendered("[/bold] list d[key] \x1b[2J\x1b]0;pwned\x07", "echo d[key] \x1b[31m", ["[red]x"])
    assert "d[key]" in shown and "[/bold]" in shown and "[red]x" in shown
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\\x1b[2J" in shown


def test_terminal_renderer_property_never_raises():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80) | st.text(alphabet="[]/=#bold\\", max_size=40)

    @settings(max_examples=200, deadline=None)
    @given(text, text, st.lists(text, max_size=3))
    def check(query, code, risks):
        shown = _rendered(query, code, risks)
        assert "\x1b]" not in shown

    check()


def test_piped_output_flags_risky_and_withholds_invalid_candidates(capsys):
    from cfgen.answering import render
    from cfgen.answering.answer import Answer, Request
    from cfgen.ranking import RankedCandidate

    risky = Answer(Request("wipe the disk", "bash"), [RankedCandidate("dd if=/dev/zero of=/dev/sdb", 1.0, True, "ok",
                                                                      ["dd writes to a block device"])])
    render.piped(risky, render.Records(), allow_invalid=False)
    out, err = capsys.readouterr()
    assert out == "dd if=/dev/zero of=/dev/sdb\n" and "risky (dd writes to a block device)" in err
    broken = Answer(Request("x", "bash"), [RankedCandidate("echo $(date", 1.0, False, "syntax error")])
    render.piped(broken, render.Records(), allow_invalid=False)
    out, err = capsys.readouterr()
    assert out == "\n" and "no candidate passed its syntax check" in err
    render.piped(broken, render.Records(), allow_invalid=True)
    out, err = capsys.readouterr()
    assert out == "echo $(date\n" and "fails its syntax check" in err


# -- input that used to hang or crash ------------------------------------------------------------

def test_an_over_long_pair_is_skipped_before_the_tokenizer_sees_it(tmp_path):
    import time

    from cfgen.training.train import run_training

    from conftest import EIGHT_PAIRS, tiny_request

    pairs = write_pairs(tmp_path / "p.jsonl", EIGHT_PAIRS[:4] + [("x" * 400_000, "ls", "bash"), ("y", "ls " * 200_000, "bash")])
    started = time.monotonic()
    result = run_training(tiny_request(tmp_path / "run", pairs, steps=2))
    assert result.examples == 4 and time.monotonic() - started < 60


def test_a_pairs_line_nested_too_deeply_is_one_line(tmp_path):
    pairs = tmp_path / "p.jsonl"
    pairs.write_text('{"nl": ' + "[" * 100_000 + "\n")
    result = invoke(["train", str(tmp_path / "run"), "--pairs", str(pairs), "--size", "tiny", "--steps", "1"])
    assert result.exit_code == 1 and "expected a JSON object" in result.stderr


def test_a_csv_field_over_the_csv_limit_is_one_line(tmp_path, tiny_model):
    table = tmp_path / "t.csv"
    table.write_text("Name,Price\n" + "a" * 200_000 + ",5\n")
    result = invoke(["generate", "format cells greater than 10", "-l", "cf", "--table", str(table), "-m", str(tiny_model)])
    assert result.exit_code == 2 and "cannot read the table" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_in_a_command_is_one_line_and_exit_130(tiny_model, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("cfgen.answering.answer.answer_all", interrupted)
    result = invoke(["generate", "count the lines in file.txt", "-m", str(tiny_model)])
    assert result.exit_code == 130 and result.stderr.strip() == "error: interrupted"


def test_help_lists_the_exit_codes_the_code_uses():
    from cfgen.errors import EXIT_CODES, CorruptModelError, OfflineCacheMissError, UnknownModelError

    shown = " ".join(invoke(["generate", "--help"]).stdout.split())
    for code in (CorruptModelError.exit_code, UnknownModelError.exit_code, OfflineCacheMissError.exit_code):
        assert f"{code} {EXIT_CODES[code].split()[0]}" in shown


def test_readme_exit_code_table_matches_the_code():
    from pathlib import Path

    from cfgen.errors import EXIT_CODES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = dict(line.split("|")[1:3] for line in readme.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit())
    assert {int(code): meaning.strip() for code, meaning in rows.items()} == EXIT_CODES


@pytest.mark.parametrize("columns", ["0", "3"])
def test_a_terminal_that_reports_almost_no_width_still_shows_the_answers(monkeypatch, columns):
    """A terminal (or COLUMNS) claiming 0 columns made rich render every table as nothing: the answer was lost."""
    monkeypatch.setenv("COLUMNS", columns)
    from cfgen.answering import render

    assert render.console(file=io.StringIO(), force_terminal=True).width == render.FALLBACK_WIDTH
    shown = _rendered_at_detected_width("list files", "ls -l")
    assert "ls -l" in shown and "list files" in shown


def _rendered_at_detected_width(query, code):
    from cfgen.answering import render
    from cfgen.answering.answer import Answer, Request
    from cfgen.ranking import RankedCandidate

    buffer = io.StringIO()
    original = render.Console
    render.Console = lambda **kwargs: original(**kwargs, file=buffer, force_terminal=True, color_system=None)
    try:
        render.terminal([Answer(Request(query, "bash"), [RankedCandidate(code, 0.5, True, "ok", [])])], shown=None)
    finally:
        render.Console = original
    return buffer.getvalue()


def test_a_closed_stdin_is_not_a_crash(tiny_model):
    """`cfgen "…" <&-` answers (stdin is not needed); `cfgen <&-` has no request: one line, exit 2."""
    command = [sys.executable, "-m", "cfgen", "-m", str(tiny_model)]
    answered = subprocess.run(command + ["count the lines in file.txt"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=120, preexec_fn=lambda: __import__("os").close(0))
    assert answered.returncode == 0 and answered.stdout.strip() and "internal error" not in answered.stderr
    nothing = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             preexec_fn=lambda: __import__("os").close(0))
    assert nothing.returncode == 2 and nothing.stderr.count("\n") == 1 and "stdin is closed" in nothing.stderr


@pytest.mark.parametrize("variable, value, named", [
    ("HF_HUB_DOWNLOAD_TIMEOUT", "abc", "HF_HUB_DOWNLOAD_TIMEOUT"),
    ("HF_HOME", "FILE", "HF_HOME"),
])
def test_a_bad_environment_value_is_one_line_exit_2_and_nothing_on_stdout(tmp_path, variable, value, named):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    env = {**__import__("os").environ, variable: str(a_file) if value == "FILE" else value}
    result = subprocess.run([sys.executable, "-m", "cfgen", "count the lines in file.txt", "--lang", "bash"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and named in result.stderr


def test_a_narrow_terminal_gets_the_compact_form_with_every_word_of_the_code_whole(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    code = "find /var/log/some/deeply/nested/folder -name '*.log' -mtime +30 -exec gzip --best {} \\;"
    shown = _rendered_at_detected_width("compress old logs", code)
    assert "┃" not in shown and "│" not in shown  # no table
    assert all(word in shown for word in code.split()) and "retrieved" not in shown and "generated" in shown
    assert max(len(line) for line in shown.splitlines()) <= 60


def test_a_bare_cfgen_with_stdin_closed_says_one_line():
    result = subprocess.run(["bash", "-c", f"{sys.executable} -m cfgen <&-"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "stdin is closed" in result.stderr


@pytest.mark.parametrize("query", ["\u200b", "\u202e", "\u200d \u2060", "\u0301"])
def test_a_query_of_invisible_characters_is_refused_as_a_blank_one(tiny_model, query):
    result = invoke(["generate", query, "-m", str(tiny_model)])
    assert result.exit_code == 2 and "the query is empty" in result.stderr
    piped = subprocess.run([sys.executable, "-m", "cfgen", "-m", str(tiny_model)], input=query + "\n",
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 2 and "every line was blank" in piped.stderr


def test_an_export_onto_a_full_disk_says_so_in_one_line_and_leaves_nothing(tmp_path, tiny_model):
    import os
    import shutil

    small = tmp_path / "small"
    small.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True).returncode != 0:
        pytest.skip("needs a 64 kB tmpfs (root and mount) to fill a disk")
    try:
        result = subprocess.run([sys.executable, "-m", "cfgen", "export", str(tiny_model), str(small / "out")],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 1 and "No space left on device" in result.stderr, result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0 and not (small / "out").exists()
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)
