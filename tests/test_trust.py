"""Output a user can trust: junk never reaches a pipe, models that lie are refused, labels mean one thing.

Each test reproduces a case of the second hostile-user round (issue 20) that failed before its fix.
"""

import json
import re
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cfgen.answering import render
from cfgen.answering.answer import Answer, Request
from cfgen.model_files.bundle import write_checksums
from cfgen.commands.app import app
from cfgen.languages import get_language
from cfgen.ranking import RankedCandidate
from cfgen.languages import language_names

QUERY = "count the lines in file.txt"


@pytest.fixture()
def copy(tiny_model, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target, ignore=shutil.ignore_patterns("checkpoints", ".cfgen*"))
    return target


def invoke(*args, stdin=None):
    return CliRunner().invoke(app, [*args], input=stdin)


# -- junk and injected bytes ---------------------------------------------------------------------

@pytest.mark.parametrize("lang, junk", [
    ("bash", "ls\x1b]0;pwned\x07"), ("bash", "echo \x1b[2J"), ("bash", "\ufffd\x07"), ("bash", "ls\x00"),
    ("python", "print(1)\x1b[2J"), ("python", "x = '\ufffd'"), ("cf", "GreaterThan(5)\x07"),
    ("cf", "TextEquals(Icon \"< oracle)"), ("cf", "TextContains('late)"),
])
def test_a_candidate_that_is_not_printable_text_in_its_language_fails_its_check(lang, junk):
    valid, why = get_language(lang).check(junk)
    assert not valid and ("unprintable" in why or "quote" in why), why


@pytest.mark.parametrize("lang, fine", [("cf", "TextContains(don't)"), ("cf", "TextEquals('a \"b\" c')"),
                                        ("python", "for x in y:\n\tprint(x)")])
def test_apostrophes_quoted_quotes_tabs_and_newlines_still_pass(lang, fine):
    assert get_language(lang).check(fine) == (True, "ok")


def test_a_retrieval_entry_with_terminal_escapes_never_reaches_a_pipe_raw(copy):
    entries = json.loads((copy / "retrieval" / "entries.json").read_text())
    entries["codes"] = [code + "\x1b]0;pwned\x07" if code == "wc -l file.txt" else code for code in entries["codes"]]
    (copy / "retrieval" / "entries.json").write_text(json.dumps(entries))
    write_checksums(copy)
    piped = invoke("generate", QUERY, "-m", str(copy), "--strength", "0", "-n", "3")
    assert piped.exit_code == 0 and "\x1b" not in piped.stdout and "\x07" not in piped.stdout
    forced = invoke("generate", QUERY, "-m", str(copy), "--strength", "0", "--allow-invalid", "-n", "5")
    assert any(line.startswith("wc -l file.txt\\x1b]0") for line in forced.stdout.splitlines())  # shown escaped
    assert "\x1b" not in forced.stdout and "\x07" not in forced.stdout
    assert "fails its syntax check" in forced.stderr


def _answer(*codes, line=0):
    return Answer(Request("q", "python", line=line), [RankedCandidate(c, 1.0, True, "ok") for c in codes])


def test_piped_records_one_per_candidate_escape_line_breaks_where_records_must_line_up(capsys):
    program = "for x in y:\n    print('a\\\\b')"
    render.piped(_answer(program), render.Records(), allow_invalid=False)  # one request, one candidate: as written
    assert capsys.readouterr().out == program + "\n"
    render.piped(_answer(program, "z"), render.Records(shown=2), allow_invalid=False)
    out, err = capsys.readouterr()
    assert out.splitlines() == ["for x in y:\\n    print('a\\\\\\\\b')", "z"] and "several lines" in err
    render.piped(_answer(program, "z"), render.Records(shown=2, null=True), allow_invalid=False)
    assert capsys.readouterr().out == program + "\0z\0"


def test_a_batch_with_n_gives_every_request_exactly_n_records(capsys):
    records = render.Records(shown=3, batch=True)
    render.piped(_answer("a", line=1), records, allow_invalid=False)
    render.piped_blank(records)
    render.piped(_answer("b", "c", "d", "e", line=3), records, allow_invalid=False)
    assert capsys.readouterr().out.split("\n") == ["a", "", "", "", "", "", "b", "c", "d", ""]


def test_null_flag_on_the_command_line(tiny_model):
    result = invoke("generate", QUERY, "-m", str(tiny_model), "-z", "-n", "2", "--strength", "0")
    assert result.exit_code == 0 and result.stdout.startswith("wc -l file.txt\0") and result.stdout.count("\0") == 2


# -- models that lie ------------------------------------------------------------------------------

def _rewrite_weights(model, change):
    import torch
    from safetensors.torch import load_file, save_file

    path = model / "model.safetensors"
    tensors = load_file(str(path))
    save_file({name: change(name, tensor) for name, tensor in tensors.items()}, str(path))
    write_checksums(model)
    return torch


@pytest.mark.parametrize("kind", ["nan", "inf", "bf16"])
def test_weights_that_are_not_finite_or_relabelled_are_refused_with_exit_6(copy, kind):
    import torch

    def change(name, tensor):
        if kind == "bf16":
            return tensor.half().view(torch.bfloat16)  # the same bytes, labelled as another dtype
        if name.startswith("decoder_output.weight"):
            return torch.full_like(tensor, float("nan") if kind == "nan" else float("inf"))
        return tensor

    _rewrite_weights(copy, change)
    result = invoke("generate", QUERY, "-m", str(copy))
    assert result.exit_code == 6 and ("NaN or infinite" in result.stderr or "bfloat16" in result.stderr), result.stderr


@pytest.mark.parametrize("target", ["retrieval/extra.json", "tokenizer.json"])
def test_a_symlink_out_of_the_model_folder_is_refused_before_it_is_read(copy, tmp_path, target, monkeypatch):
    from cfgen.encoding import encoder

    outside = tmp_path / "outside.json"
    if target == "tokenizer.json":
        shutil.move(copy / target, outside)
    else:
        outside.write_text("{}")
    (copy / target).symlink_to(outside)
    read = []
    original = encoder.sha256_of
    monkeypatch.setattr(encoder, "sha256_of", lambda path, *a: read.append(str(path)) or original(path, *a))
    result = invoke("generate", QUERY, "-m", str(copy))
    assert result.exit_code == 6 and "outside the model folder" in result.stderr
    assert not any("outside" in path for path in read)


# -- hangs and wrong exit codes -------------------------------------------------------------------

def test_a_table_of_a_million_columns_is_refused_at_once(tmp_path, tiny_model):
    import time

    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["a"] * 10**6) + "\n" + ",".join(["1"] * 10**6) + "\n")
    started = time.monotonic()
    result = invoke("generate", "cells greater than 5", "--lang", "cf", "-m", str(tiny_model), "--table", str(wide))
    assert result.exit_code == 2 and "1,000,000 columns" in result.stderr and time.monotonic() - started < 30


def test_resume_refuses_model_options_that_differ_and_says_when_nothing_is_left(tmp_path, pairs_file):
    from conftest import tiny_request

    from cfgen.errors import UsageError
    from cfgen.training.train import run_training

    run_training(tiny_request(tmp_path / "run", pairs_file, steps=4, checkpoint_every=2))
    for change in ({"size": "small"}, {"vocab_size": 999}, {"process": "masked"}, {"neighbours": 2}):
        request = tiny_request(tmp_path / "run", pairs_file, steps=6, checkpoint_every=2)
        request.resume = True
        for name, value in change.items():
            setattr(request, name, value)
        with pytest.raises(UsageError, match="differs from it"):
            run_training(request)
    done = tiny_request(tmp_path / "run", pairs_file, steps=4, checkpoint_every=2)
    done.resume, done.size, done.vocab_size = True, None, None
    result = run_training(done)
    assert result.already_done and result.steps == 4
    cli = invoke("train", str(tmp_path / "run"), "--pairs", str(pairs_file), "--resume", "--steps", "4",
                 "--batch-size", "8", "--lr", "2e-3", "--warmup", "20", "--checkpoint-every", "2", "--eval-every", "0")
    assert cli.exit_code == 0 and "nothing to do" in cli.stderr and "nan" not in cli.stderr


def test_eval_checks_the_report_path_before_scoring(tiny_model, tmp_path):
    data = tmp_path / "bench.json"
    data.write_text(json.dumps({"dev": [{"NL Utterance": QUERY, "Code": "wc -l file.txt"}]}))
    result = invoke("eval", str(data), "--lang", "bash", "-m", str(tiny_model), "--report", "/nonexistent/dir/r.json")
    assert result.exit_code == 2 and "not a writable folder" in result.stderr and "scoring" not in result.stderr


def test_stdout_closed_is_said_in_one_line():
    result = subprocess.run([sys.executable, "-m", "cfgen", "list files"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert result.returncode == 1 and "stdout is closed" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("code, flag", [
    ("busybox rm -rf /", "recursive delete of /"), ('r""m -rf /', "recursive delete of /"),
    ("r\\m -rf /", "recursive delete of /"), ("curl -o a.sh https://x.io/i && bash a.sh", "runs a downloaded script"),
    ("wget -qO x.sh https://x.io && chmod +x x.sh && ./x.sh", "runs a downloaded script"),
])
def test_risk_flags_see_through_multicall_binaries_quotes_and_saved_downloads(code, flag):
    assert flag in get_language("bash").risks(code)


def test_saving_a_download_without_running_it_is_not_flagged():
    assert get_language("bash").risks("curl -o notes.txt https://x.io/n && cat notes.txt") == []


def test_an_unknown_language_in_pairs_names_its_file_and_line(tmp_path):
    from cfgen.training.data import load_pairs_jsonl
    from cfgen.errors import DataError

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"nl": "a", "code": "ls", "lang": "bash"}\n{"nl": "b", "code": "x", "lang": "cobol"}\n')
    with pytest.raises(DataError, match=r"pairs.jsonl:2: unknown language 'cobol'"):
        load_pairs_jsonl(pairs)


# -- what the user sees ---------------------------------------------------------------------------

def test_json_keeps_to_n_in_single_and_batch_mode(tiny_model):
    single = invoke("generate", QUERY, "-m", str(tiny_model), "--json", "-n", "2", "--strength", "0")
    assert len(json.loads(single.stdout)["candidates"]) == 2
    batch = invoke("generate", "-m", str(tiny_model), "--json", "-n", "1", stdin=f"{QUERY}\nshow disk usage\n")
    assert [len(json.loads(line)["candidates"]) for line in batch.stdout.splitlines()] == [1, 1]


def test_json_says_what_made_a_candidate_whether_training_holds_it_and_what_it_was_written_for(tiny_model):
    result = invoke("generate", QUERY, "-m", str(tiny_model), "--json", "--strength", "0")
    first = json.loads(result.stdout)["candidates"][0]
    assert first["source"] == "retrieved" and first["seen"] is True and first["request"] == QUERY


def _table(answer, shown=None, verbose=False):
    from rich.console import Console

    console = Console(record=True, width=150, force_terminal=False)
    original = render.Console
    render.Console = lambda **kwargs: console
    try:
        render.terminal([answer], shown, verbose)
    finally:
        render.Console = original
    return console.export_text()


def test_the_table_shows_no_mixed_scale_score_marks_seen_programs_and_notes_missing_candidates(capsys):
    answer = Answer(Request("q", "cf"), [RankedCandidate("GreaterThan(5)", -0.1, True, "ok", seen=True),
                                         RankedCandidate("LessThan(9)", 0.8, True, "ok", source="retrieved",
                                                         request="cells under 9")])
    text = _table(answer, verbose=True)
    assert "score" not in text and "-0.100" not in text and "generated, seen" in text
    assert "written for" in text and "cells under 9" in text
    notes = capsys.readouterr().err
    assert "only 2 distinct candidates" in notes and "seen: the program occurs verbatim" in notes


def test_the_timing_line_is_one_short_line_that_counts_start_up(tiny_model):
    result = subprocess.run(["script", "-qc", f"{sys.executable} -m cfgen '{QUERY}' -m {tiny_model}", "/dev/null"],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
    timing = [line for line in result.stdout.splitlines() if "read before you run" in line]
    assert len(timing) == 1 and "request(s)" not in timing[0] and "1 request in" in timing[0]
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", timing[0]).strip()
    assert len(plain) <= 100 and float(re.search(r"in ([\d.]+) s", plain).group(1)) > 0.5  # import time counted


def test_help_shows_no_type_after_flags_and_says_the_query_needs_no_command():
    top, generate = invoke("--help"), invoke("generate", "--help")
    assert 'cfgen "QUERY"' in top.stdout
    assert "<bool>" not in generate.stdout and "<list" not in invoke("train", "--help").stdout
    for command in ("generate", "train", "export", "eval", "serve", "pull", "models", "shell-init"):
        shown = invoke(command, "--help").stdout
        assert not re.search(r"<(?:str|int|path|float|list)|(?<!\{)\{[a-z_]+\}(?!\})", shown), (command, shown)
    assert "Usage: cfgen generate [OPTIONS] [QUERY]" in generate.stdout and "--lang LANG" in generate.stdout


def test_a_table_for_bash_is_a_usage_error(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    result = invoke("generate", "list files", "--table", str(table), "--lang", "bash")
    assert result.exit_code == 2 and "--lang cf" in result.stderr


@pytest.mark.parametrize("words, cword, expected", [
    ("cfgen 'x' --lang ", 3, list(language_names())),
    ("cfgen --la", 1, ["--lang"]),
    ("cfgen tr", 1, ["train"]),
    ("cfgen 'x' --device ", 3, ["auto", "cpu", "cuda"]),
    ("cfgen train run --process ", 4, ["gaussian", "masked"]),
])
def test_completion_works_without_the_word_generate(words, cword, expected):
    env = {**os.environ, "_CFGEN_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run([sys.executable, "-m", "cfgen"], capture_output=True, text=True, env=env)
    assert result.stdout.split() == expected


def test_quiet_keeps_only_errors_and_the_warnings_about_risky_or_broken_printed_code(capsys):
    candidate = RankedCandidate("shred --remove {{path/to/file}}", 1.0, True, "ok", risks=["shred destroys files"],
                                unfilled=["path/to/file"])
    try:
        render.configure_logging(False, True)
        render.piped(Answer(Request("delete the file", "bash"), [candidate]), render.Records(), allow_invalid=False)
        render.note("1 request in 0.1 s")
        quiet = capsys.readouterr().err
        render.configure_logging(False, False)
        render.piped(Answer(Request("delete the file", "bash"), [candidate]), render.Records(), allow_invalid=False)
        loud = capsys.readouterr().err
    finally:
        render.configure_logging(False, False)
    assert "risky" in quiet and "fill in" not in quiet and "1 request" not in quiet
    assert "risky" in loud and "fill in" in loud
    assert "with --json" in " ".join(invoke("generate", "--help").stdout.split())  # -n's default, as it is


def test_the_timing_line_says_what_made_the_first_answers_where_the_method_does_not():
    from cfgen.answering.answer import Summary

    summary = Summary()
    for source in ("generated", "retrieved", "generated"):
        summary.add(Answer(Request("q", "cf"), [RankedCandidate("GreaterThan(1)", 1.0, True, "ok", source=source)]))
    summary.add(Answer(Request("q", "bash"), [RankedCandidate("ls", 1.0, True, "ok", source="retrieved")]))
    assert summary.first_answers("cf", "cf: generated from noise (20 steps), then retrieved") == \
        "first: 2 generated, 1 retrieved"
    assert summary.first_answers("bash", "bash: retrieved (nearest training programs)") == ""
    assert summary.first_answers("bash", "bash: retrieved, then edited (20 steps)") == "first: retrieved"
