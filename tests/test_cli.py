"""The command line with a tiny trained model: output modes, batches, exit codes, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from cfgen.model_files.bundle import index_files
from cfgen.__main__ import _with_default_command
from cfgen.commands.app import app
from cfgen.languages import language_names

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def invoke(runner, args, stdin=None):
    return runner.invoke(app, args, input=stdin)


def test_piped_output_is_the_top_code_alone(runner, tiny_model):
    result = invoke(runner, ["generate", "count the lines in file.txt", "-m", str(tiny_model)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "wc -l file.txt\n"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_n_prints_that_many_codes_one_per_line(runner, tiny_model, n):
    result = invoke(runner, ["generate", "count the lines in file.txt", "-m", str(tiny_model), "-n", str(n),
                             "--strength", "0"])  # the index holds four distinct valid bash programs
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == n and lines[0] == "wc -l file.txt"


def test_more_steps_than_the_model_has_is_bad_usage(runner, tiny_model):
    result = invoke(runner, ["generate", "x", "-m", str(tiny_model), "--steps", "5000"])
    assert result.exit_code == 2 and "--steps must be between 1 and 1200 for this model" in result.stderr


def test_json_schema(runner, tiny_model):
    result = invoke(runner, ["generate", "reverse the list x", "-l", "python", "-m", str(tiny_model), "--json"])
    answer = json.loads(result.stdout)
    assert set(answer) == {"query", "lang", "candidates"} and answer["lang"] == "python"
    best = answer["candidates"][0]
    assert set(best) == {"code", "score", "valid", "check", "risks", "source", "seen", "placeholders"} | (
        {"request"} & set(best))
    assert best["code"] == "x[::-1]" and best["valid"] is True and best["check"] == "ok"
    scores = [c["score"] for c in answer["candidates"] if c["valid"]]
    assert scores == sorted(scores, reverse=True)


def test_batch_keeps_input_order_across_languages_and_reports_bad_lines(runner, tiny_model):
    lines = [
        "count the lines in file.txt",
        json.dumps({"query": "format cells greater than 10", "lang": "cf"}),
        "{not json",
        json.dumps({"query": "reverse the list x", "lang": "python"}),
        json.dumps({"query": "x", "lang": "cobol"}),
        "show the disk usage of my home folder",
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b"\xff\xfe bad bytes\n"
    result = invoke(runner, ["generate", "-", "-m", str(tiny_model), "--json"], stdin=stdin)
    assert result.exit_code == 5
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["line"] for a in answers] == [1, 2, 3, 4, 5, 6, 7]  # one output line per input line, in order
    assert [a["candidates"][0]["code"] for a in answers if "candidates" in a] == [
        "wc -l file.txt", "GreaterThan(10)", "x[::-1]", "du -sh ~"]
    assert [a["line"] for a in answers if "error" in a] == [3, 5, 7]
    assert "line 3: malformed JSON" in result.stderr
    assert "line 5: unknown language 'cobol'" in result.stderr
    assert "line 7: not valid UTF-8" in result.stderr


def test_table_grounds_cf_rules_and_lists_rows(runner, tiny_model, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("Index,Product Name,Price\n0,Apple,5\n1,Pear,12\n2,Fig,30\n")
    result = invoke(runner, ["generate", "format cells greater than 10 in Price", "-l", "cf", "-m", str(tiny_model),
                             "--table", str(table), "--json"])
    best = json.loads(result.stdout)["candidates"][0]
    assert best["code"] == "GreaterThan(c[2], 10)" and best["rows"] == [2, 3]


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["generate", ""], 2, "empty"),
        (["generate", "   "], 2, "empty"),
        (["generate", "x", "--lang", "cobol"], 2, "unknown language 'cobol'"),
        (["generate", "x", "--steps", "0"], 2, "--steps must be at least 1"),
        (["generate", "x", "-n", "0"], 2, "-n must be from 1 to 100"),
        (["generate", "x", "-l", "cf", "-n", "100000"], 2, "-n must be from 1 to 100"),
        (["generate", "x", "-l", "cf", "--seed", "99999999999999999999999"], 2, "--seed must be from 0"),
        (["generate", "x", "--seed", "-1"], 2, "--seed must be from 0"),
        (["generate", "x", "--device", "tpu"], 2, "unknown device 'tpu'"),
        (["eval", "f.json", "--lang", "cobol"], 2, "unknown language 'cobol'"),
        (["eval", "f.json", "--lang", "bash", "--device", "tpu"], 2, "unknown device 'tpu'"),
        (["generate", "x", "-m", "a b/c"], 2, "not a Hub model id"),
        (["generate", "x", "-m", "owner/"], 2, "not a Hub model id"),
        (["generate", "x", "-m", "a/.."], 2, "not a Hub model id"),
        (["generate", "x", "-m", "o" * 300 + "/name"], 2, "not a Hub model id"),
        (["generate", "x", "-m", "[/bold]x"], 2, "'[/bold]x' is not a Hub model id"),
        (["generate", "x", "-m", "[bold]x"], 3, "no model named '[bold]x'"),
        (["generate", "x", "-l", "[/x]"], 2, "unknown language '[/x]'"),
        (["generate", "x", "-l", "cf", "--table", "t" * 5000 + ".csv"], 2, "cannot read the table"),
        (["pull", "../x"], 2, "not a Hub model id"),
        (["pull", "[/bold]x"], 2, "not a Hub model id"),
        (["pull", "a b/c"], 2, "not a Hub model id"),
        (["train", "n" * 300, "--pairs", "p.jsonl"], 2, "longer than 255"),
        (["train", "out", "--pairs", "p.jsonl", "--process", "uniform"], 2, "unknown process 'uniform'"),
        (["train", "out", "--pairs", "p.jsonl", "--neighbours", "17"], 2, "--neighbours must be from 0 to 16"),
        (["train", "out", "--pairs", "p.jsonl", "--keep-best", "--eval-every", "0"], 2, "--keep-best needs dev-loss"),
        (["train", "out", "--pairs", "p.jsonl", "--language-temperature", "1.5"], 2, "--language-temperature"),
        (["train", "out", "--pairs", "p.jsonl", "--steps", "0"], 2, "Invalid value for '--steps'"),
        (["eval", "f.json", "--lang", "bash", "--strength", "2"], 2, "Invalid value for '--strength'"),
        (["generate", "x", "--bogus"], 2, "No such option: --bogus"),
        (["generate", "x", "-l", "cf", "--table", "/no/such.csv"], 2, "table file not found"),
        (["generate", "x", "-m", "/no/such/dir"], 3, "neither a directory nor a Hub repo"),
        (["generate", "x", "-m", "never-trained"], 3, "no model named 'never-trained'"),
        (["generate", "x"], 3, "no bundled model"),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(runner, args, code, message, monkeypatch, tmp_path):
    from cfgen.model_files import hub

    monkeypatch.setattr(hub, "bundled_directory", lambda: tmp_path / "nothing-bundled")
    result = invoke(runner, args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_version_prints_the_installed_packages_version_and_exits_0(runner):
    import importlib.metadata

    result = invoke(runner, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"cfgen {importlib.metadata.version('cfgen-diffusion')}"


def test_huge_query_is_truncated_with_a_warning(runner, tiny_model):
    result = invoke(runner, ["generate", "count the lines " * 7000, "-m", str(tiny_model)])
    assert result.exit_code == 0 and "truncated" in result.stderr and result.stdout.strip()


def test_corrupt_weights_exit_with_their_code(runner, tiny_model, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    data = bytearray((broken / "model.safetensors").read_bytes())
    data[-10:] = b"\x00" * 10
    (broken / "model.safetensors").write_bytes(bytes(data))
    result = invoke(runner, ["generate", "x", "-m", str(broken)])
    assert result.exit_code == 6 and "SHA-256" in result.stderr


def test_cuda_asked_for_but_absent_falls_back_with_a_warning(runner, tiny_model):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = invoke(runner, ["generate", "count the lines in file.txt", "-m", str(tiny_model), "--device", "cuda"])
    assert result.exit_code == 0 and "CUDA" in result.stderr and result.stdout == "wc -l file.txt\n"


def test_trained_run_names_work_as_models(runner, tiny_model, monkeypatch, tmp_path):
    import shutil

    monkeypatch.setenv("CFGEN_HOME", str(tmp_path))
    shutil.copytree(tiny_model, tmp_path / "runs" / "mine")
    result = invoke(runner, ["generate", "count the lines in file.txt", "-m", "mine"])
    assert result.stdout == "wc -l file.txt\n"
    listed = invoke(runner, ["models"])
    assert "mine\ttrained" in listed.stdout


def test_query_may_be_a_subcommand_name_through_generate():
    assert _with_default_command(["list files"]) == ["generate", "list files"]
    assert _with_default_command(["--debug", "list files", "-l", "cf"]) == ["--debug", "generate", "list files", "-l", "cf"]
    assert _with_default_command(["generate", "train"]) == ["generate", "train"]
    assert _with_default_command(["train", "x"]) == ["train", "x"]
    assert _with_default_command(["--help"]) == ["--help"]
    assert _with_default_command(["--install-completion", "bash"]) == ["--install-completion", "bash"]


def test_quiet_and_debug_are_accepted_anywhere_on_the_line():
    assert _with_default_command(["list files", "-q"]) == ["-q", "generate", "list files"]
    assert _with_default_command(["train", "x", "--debug", "--steps", "3"]) == ["--debug", "train", "x", "--steps", "3"]
    assert _with_default_command(["list", "--", "-q"]) == ["generate", "list", "--", "-q"]  # after --, a word


def run(args, env_extra=None, stdin=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "cfgen", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_terminal_output_is_a_table_and_default_command_works(tiny_model):
    result = run(["count the lines in file.txt", "-m", str(tiny_model)],
                 {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    assert "wc" in result.stdout and "check" in result.stdout and "score" not in result.stdout
    assert "made" in result.stdout and ", seen" in result.stdout  # a training program verbatim says so
    assert "read before you run" in result.stderr


def test_stdin_without_query_is_a_batch(tiny_model):
    result = run(["-m", str(tiny_model)], stdin="count the lines in file.txt\nshow the disk usage of my home folder\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["wc -l file.txt", "du -sh ~"]


def test_train_command_reports_bad_data_in_one_line(tmp_path):
    result = run(["train", str(tmp_path / "out"), "--pairs", str(tmp_path / "missing.jsonl"), "--size", "tiny"])
    assert result.returncode == 1 and result.stderr.strip().startswith("error: data file not found")
    assert len(result.stderr.strip().splitlines()) == 1


def test_completion_scripts_are_current():
    sys.path.insert(0, str(ROOT / "completions"))
    from generate import scripts

    for name, text in scripts().items():
        assert (ROOT / "completions" / name).read_text() == text, f"completions/{name} is stale: run python completions/generate.py"


def test_completion_answers_without_importing_torch():
    env = {**os.environ, "_CFGEN_COMPLETE": "complete_bash", "COMP_WORDS": "cfgen generate --lang ", "COMP_CWORD": "3",
           "PYTHONPROFILEIMPORTTIME": "1"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "cfgen"], capture_output=True, text=True, env=env)
    assert result.stdout.split() == list(language_names())
    assert " torch" not in result.stderr


def test_export_writes_a_half_precision_model_that_answers_the_same(runner, tiny_model, tmp_path):
    from safetensors.torch import load_file

    result = invoke(runner, ["export", str(tiny_model), str(tmp_path / "half")])
    assert result.exit_code == 0, result.output
    weights = load_file(str(tmp_path / "half" / "model.safetensors"))
    assert {str(t.dtype) for t in weights.values()} == {"torch.float16"}
    assert not (tmp_path / "half" / "checkpoints").exists()
    answer = invoke(runner, ["generate", "count the lines in file.txt", "-m", str(tmp_path / "half")])
    assert answer.stdout == "wc -l file.txt\n"


def test_export_records_the_strengths_chosen_on_dev(runner, tiny_model, tmp_path):
    from cfgen.model_files.bundle import FALLBACK_STRENGTH, load_strengths
    from cfgen.pipeline import Pipeline

    assert load_strengths(tiny_model) == {"bash": FALLBACK_STRENGTH, "python": FALLBACK_STRENGTH, "cf": FALLBACK_STRENGTH}
    result = invoke(runner, ["export", str(tiny_model), str(tmp_path / "tuned"), "--strength", "cf=0.25", "--strength", "bash=0"])
    assert result.exit_code == 0, result.output
    tuned = Pipeline.from_directory(tmp_path / "tuned")
    assert tuned.bundle.strengths == {"bash": 0.0, "python": FALLBACK_STRENGTH, "cf": 0.25}
    assert tuned.effective_strength(None, "cf") == 0.25 and tuned.effective_strength(0.5, "cf") == 0.5
    again = invoke(runner, ["export", str(tmp_path / "tuned"), str(tmp_path / "copy")])  # carried over
    assert again.exit_code == 0 and load_strengths(tmp_path / "copy") == tuned.bundle.strengths
    for bad in ("cf=1.5", "perl=0.1", "cf"):
        refused = invoke(runner, ["export", str(tiny_model), str(tmp_path / "bad"), "--strength", bad])
        assert refused.exit_code == 2 and "LANG=S" in refused.stderr


def test_a_tampered_generation_config_is_refused(runner, tiny_model, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    (copy / "generation_config.json").write_text('{"strength": {"cf": "lots"}}')
    result = invoke(runner, ["generate", "x", "-m", str(copy)])  # not covered by checksums.json: refused unread
    assert result.exit_code == 6 and "generation_config.json is not covered by checksums.json" in result.stderr
    (copy / "checksums.json").unlink()
    result = invoke(runner, ["generate", "x", "-m", str(copy), "--allow-unverified"])  # read, and refused
    assert result.exit_code == 6 and "generation config" in result.stderr


def test_a_query_that_is_not_utf8_is_refused_in_one_line():
    result = subprocess.run([sys.executable, "-m", "cfgen", b"\xff\xfe list files"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and result.stderr.strip() == "error: the query is not valid UTF-8"


def test_install_completion_writes_the_bash_script(tmp_path):
    # Name the shell: detection reads the parent processes, which a CI runner may not make a shell.
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash", "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = subprocess.run([str(Path(sys.executable).parent / "cfgen"), "--install-completion", "bash"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "cfgen.sh"
    assert "_CFGEN_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


def test_the_timing_line_names_the_method_of_models_without_a_retrieval_index(tiny_model, encoder):
    from cfgen.model_files.bundle import load_bundle
    from cfgen.pipeline import Pipeline

    without_index = load_bundle(tiny_model)
    without_index.index = None
    pipeline = Pipeline(without_index, encoder=encoder)
    assert pipeline.how("bash", 20, None) == "bash: generated from noise (20 steps)"
    assert pipeline.how("bash", 20, 0.0) == "bash: generated from noise (20 steps)"  # no index: nothing to retrieve


def test_export_trains_a_retrieval_head_on_the_data_folders_train_split(runner, tiny_model, tmp_path):
    import json

    from cfgen.model_files.bundle import verify_checksums
    from cfgen.retrieval.index import RetrievalIndex

    data = tmp_path / "data"
    data.mkdir()
    bash = [("count the lines in file.txt", "wc -l file.txt"), ("how many lines does notes.md have", "wc -l notes.md"),
            ("list the files here", "ls"), ("show what is in this folder", "ls")]
    other = {"python": ("reverse the list x", "x.reverse()"), "cf": ("highlight cells above 5", "GreaterThan(5)")}
    item = lambda nl, code: {"NL Utterance": nl, "Code": code}
    (data / "BashBenchmarks.json").write_text(json.dumps({"train": [item(*p) for p in bash], "dev": [item(*bash[0])]}))
    for lang, name in (("python", "PythonBenchmarks.json"), ("cf", "CFRuleBenchmarks.json")):
        (data / name).write_text(json.dumps({"train": [item(*other[lang])], "dev": [item(*other[lang])]}))
    output = tmp_path / "headed"
    result = invoke(runner, ["export", str(tiny_model), str(output), "--index-from", str(data),
                             "--tune-retrieval", "bash", "--tune-steps", "3"])
    assert result.exit_code == 0, result.output
    verify_checksums(output)  # the head is covered like every other file
    index = RetrievalIndex.load(index_files(output))
    assert index.head is not None and index.head.languages == {"bash"} and len(index.codes) == 6
    answer = invoke(runner, ["generate", "count the lines in file.txt", "-m", str(output), "--strength", "0"])
    assert answer.exit_code == 0 and answer.stdout == "wc -l file.txt\n"
    from cfgen.pipeline import Pipeline

    pipeline = Pipeline.from_directory(output)
    assert pipeline.index.tuned("bash") and not pipeline.index.tuned("python")
    # re-indexed with more data (a folder of pages) and no --tune-retrieval: the same head serves the new rows
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "wc.md").write_text("# wc\n\n> Count.\n\n- Count the words of a file:\n\n`wc --words {{path/to/file}}`\n")
    again = invoke(runner, ["export", str(output), str(tmp_path / "reindexed"), "--index-from", str(data),
                            "--index-from", str(pages)])
    assert again.exit_code == 0, again.output
    reindexed = RetrievalIndex.load(index_files(tmp_path / "reindexed"))
    assert len(reindexed.codes) == 7 and len(reindexed.pages) == 1 and len(reindexed.tuned_vectors) == 5
    assert all(torch.equal(a, b) for a, b in zip(reindexed.head.state_dict().values(), index.head.state_dict().values()))
    for args, message in ((["--tune-retrieval", "python", "--index-from", str(data)], "masked"),
                          (["--tune-retrieval", "perl", "--index-from", str(data)], "one of"),
                          (["--tune-retrieval", "bash"], "needs --index-from")):
        refused = invoke(runner, ["export", str(tiny_model), str(tmp_path / "bad"), *args])
        assert refused.exit_code == 2 and message in refused.stderr, refused.output


def test_a_huge_batch_line_is_truncated_with_a_warning_that_names_its_line(tiny_model):
    import subprocess
    import sys

    lines = "count the lines in file.txt\n" + "count the lines " * 700 + "\n"
    result = subprocess.run([sys.executable, "-m", "cfgen", "-m", str(tiny_model)], input=lines, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    assert "line 2: query truncated" in result.stderr and "line 1: query truncated" not in result.stderr


def test_every_name_models_lists_is_accepted_by_model_and_export(runner, tmp_path):
    """`cfgen models` lists the bundled model as `default`: --model default and export default work, and no run
    may take that name."""
    listed = invoke(runner, ["models"])
    assert listed.exit_code == 0 and "default" in listed.stdout
    from cfgen.model_files.hub import default_model_directory, resolve_model_directory

    assert resolve_model_directory("default") == default_model_directory()
    refused = invoke(runner, ["train", "default", "--steps", "1"])
    assert refused.exit_code == 2 and "bundled model" in refused.stderr


def test_a_blank_batch_line_gets_empty_records_and_its_reason_on_stderr(tiny_model):
    result = run(["-m", str(tiny_model), "--lang", "bash"], stdin="count the lines in file.txt\n\ncount the lines in file.txt\n")
    assert result.returncode == 0 and result.stdout == "wc -l file.txt\n\nwc -l file.txt\n"
    assert "line 2: blank line" in result.stderr


@pytest.mark.parametrize("rate", ["nan", "-1e-3", "0", "5", "inf"])
def test_a_learning_rate_that_cannot_train_is_exit_2_before_anything_is_prepared(runner, tmp_path, rate):
    result = invoke(runner, ["train", str(tmp_path / "run"), "--data", str(tmp_path / "nowhere"), "--lr", rate])
    assert result.exit_code == 2 and "--lr" in result.stderr and not (tmp_path / "run").exists()


def test_export_of_a_checkpoint_is_a_model_with_that_steps_weights(runner, tiny_model, tmp_path):
    from safetensors.torch import load_file

    import shutil

    from cfgen.training.checkpoint import list_checkpoints

    shutil.copytree(tiny_model, tmp_path / "run")  # a copy: the shared model's checkpoint is corrupted below
    checkpoint = list_checkpoints(tmp_path / "run")[0]
    result = invoke(runner, ["export", str(checkpoint), str(tmp_path / "early"), "--no-half"])
    assert result.exit_code == 0, result.output
    exported, saved = load_file(str(tmp_path / "early" / "model.safetensors")), load_file(str(checkpoint / "model.safetensors"))
    assert exported.keys() == saved.keys() and all((exported[k] == saved[k]).all() for k in saved)
    (checkpoint / "model.safetensors").write_bytes(b"not weights")
    broken = invoke(runner, ["export", str(checkpoint), str(tmp_path / "broken")])
    assert broken.exit_code == 1 and "cannot be read" in broken.stderr


def test_export_length_sets_a_languages_sample_length_within_the_models_bound(runner, tiny_model, tmp_path):
    import json

    result = invoke(runner, ["export", str(tiny_model), str(tmp_path / "short"), "--length", "cf=9"])
    assert result.exit_code == 0, result.output
    lengths = json.loads((tmp_path / "short" / "config.json").read_text())["sample_lengths"]
    assert lengths["cf"] == 9 and lengths["bash"] == json.loads((tiny_model / "config.json").read_text())["sample_lengths"]["bash"]
    for bad in ("cf=1", "cf=100000", "perl=9", "cf=x"):
        refused = invoke(runner, ["export", str(tiny_model), str(tmp_path / "bad"), "--length", bad])
        assert refused.exit_code == 2 and "--length" in refused.stderr and not (tmp_path / "bad").exists(), bad
