"""The engine end to end on a tiny model: memorise, save/load, resume, bad input."""

import json
import shutil
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from conftest import EIGHT_PAIRS, tiny_request, write_pairs
from cfgen.errors import CheckpointError, DataError, ModelNotAvailableError
from cfgen.training.train import run_training


def test_model_directory_has_the_hub_layout(tiny_model):
    names = {path.name for path in tiny_model.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["width"] == 64 and config["sample_lengths"]["cf"] <= 12


def test_a_resumed_run_matches_an_uninterrupted_one(tmp_path, pairs_file):
    straight = tmp_path / "straight"
    run_training(tiny_request(straight, pairs_file, steps=40, checkpoint_every=20))
    resumed = tmp_path / "resumed"
    run_training(tiny_request(resumed, pairs_file, steps=20, checkpoint_every=20))  # "stopped" at 20
    run_training(replace(tiny_request(resumed, pairs_file, steps=40, checkpoint_every=20), resume=True))
    a, b = load_file(str(straight / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_keep_best_keeps_the_model_of_the_lowest_dev_loss_across_a_resume(tmp_path, pairs_file, monkeypatch):
    from cfgen.model_files.bundle import BEST, load_model
    from cfgen.training.train import TrainingLoop

    scripted = iter([3.0, 2.0, 2.5, 1.0, 1.5, 1.2])  # dev losses at steps 5, 10, 15, 20, then (resumed) 25, 30
    monkeypatch.setattr(TrainingLoop, "dev_loss", lambda self: next(scripted))
    run, kept = tmp_path / "run", {}

    def note_best(report):
        if report.dev_loss is not None:
            kept[report.step] = (run / BEST / "checksums.json").read_text()

    settings = dict(checkpoint_every=10, eval_every=5)
    run_training(replace(tiny_request(run, pairs_file, steps=20, **settings), keep_best=True), note_best)
    assert kept[5] != kept[10] == kept[15] != kept[20]  # rewritten only when the dev loss is a new low
    final, best = load_file(str(run / "model.safetensors")), load_file(str(run / BEST / "model.safetensors"))
    assert all(torch.equal(final[name], best[name]) for name in final)  # step 20 is both the last and the best
    run_training(replace(tiny_request(run, pairs_file, steps=30, **settings), keep_best=True, resume=True), note_best)
    assert kept[20] == kept[25] == kept[30]  # 1.5 and 1.2 lose to step 20's 1.0, remembered by the checkpoint
    assert load_model(run / BEST)[0].config == load_model(run)[0].config


def _interrupting_at(monkeypatch, step_to_interrupt: int, times: int = 1) -> None:
    """Ctrl-C (a real SIGINT), `times` times, in the middle of the optimiser step of one training step."""
    import os
    import signal

    original, calls = torch.optim.AdamW.step, []

    def step_with_interrupt(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == step_to_interrupt + 1:
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step_with_interrupt)


@pytest.mark.parametrize("times", [1, 2])
def test_ctrl_c_mid_step_saves_only_whole_steps_and_resume_is_bit_identical(tmp_path, pairs_file, monkeypatch, times):
    from cfgen.training import train
    from cfgen.training.checkpoint import list_checkpoints

    straight = tmp_path / "straight"
    run_training(tiny_request(straight, pairs_file, steps=30, checkpoint_every=10))
    interrupted = tmp_path / "interrupted"
    with monkeypatch.context() as patched:
        _interrupting_at(patched, 13, times)
        with pytest.raises(train.TrainingInterrupted, match="--resume"):
            run_training(tiny_request(interrupted, pairs_file, steps=30, checkpoint_every=10))
    assert list_checkpoints(interrupted)[-1].name == "step-00000014"  # step 13 finished, then saved
    request = tiny_request(interrupted, pairs_file, steps=30, checkpoint_every=10)
    request.resume = True
    assert run_training(request).steps == 30
    a, b = load_file(str(straight / "model.safetensors")), load_file(str(interrupted / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_checkpoint_the_disk_cannot_take_is_one_line_and_leaves_nothing_behind(tmp_path, pairs_file):
    """A real write failure: the file-size limit (RLIMIT_FSIZE) lets the weights through but not the optimizer."""
    import resource
    import signal
    import subprocess
    import sys

    from cfgen.training.checkpoint import list_checkpoints

    run = tmp_path / "run"
    run_training(tiny_request(run, pairs_file, steps=5, checkpoint_every=5))
    (run / "checkpoints" / ".tmp-step-00000010-99999").mkdir()  # left by a killed earlier run

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so that the write fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_500_000, 1_500_000))

    args = ["train", str(run), "--pairs", str(pairs_file), "--size", "tiny", "--vocab-size", "300", "--steps", "10",
            "--batch-size", "8", "--lr", "2e-3", "--warmup", "20", "--checkpoint-every", "5", "--eval-every", "0",
            "--device", "cpu", "--resume"]
    result = subprocess.run([sys.executable, "-m", "cfgen", *args], capture_output=True, text=True, timeout=300,
                            preexec_fn=small_files_only)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write the checkpoint of step 10" in lines[0] and "--resume" in lines[0]
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-00000005"]
    assert not list(tmp_path.glob(".run.staging-*")) and list_checkpoints(run)[-1].name == "step-00000005"


def test_a_first_checkpoint_the_disk_cannot_take_gives_advice_that_works(tmp_path, pairs_file, monkeypatch):
    from cfgen.training import checkpoint

    original, calls = checkpoint.save_file, []

    def full_disk(*args, **kwargs):
        calls.append(1)
        raise OSError(28, "No space left on device")

    run = tmp_path / "run"
    with monkeypatch.context() as patched:
        patched.setattr(checkpoint, "save_file", full_disk)
        with pytest.raises(CheckpointError, match="run the same command again with --overwrite") as raised:
            run_training(tiny_request(run, pairs_file, steps=5, checkpoint_every=5))
    assert calls and "--resume" not in str(raised.value)
    request = tiny_request(run, pairs_file, steps=5, checkpoint_every=5)
    request.overwrite = True  # the advice, followed
    assert run_training(request).steps == 5


def test_sigterm_is_handled_as_ctrl_c_a_checkpoint_then_exit_143(tmp_path, pairs_file):
    import signal
    import subprocess
    import sys
    import time

    from cfgen.training.checkpoint import list_checkpoints

    run = tmp_path / "run"
    args = ["train", str(run), "--pairs", str(pairs_file), "--size", "tiny", "--vocab-size", "300", "--steps", "100000",
            "--batch-size", "8", "--checkpoint-every", "100000", "--eval-every", "0", "--device", "cpu"]
    process = subprocess.Popen([sys.executable, "-m", "cfgen", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 240
    while not (run / "tokenizer.json").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(3)  # some steps
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 143, stderr
    assert "SIGTERM" in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert list_checkpoints(run)


def test_the_folder_is_locked_before_it_is_read_so_a_second_run_says_in_use(tmp_path, pairs_file):
    from cfgen.errors import RunInUseError
    from cfgen.model_files.files import RunLock

    run = tmp_path / "run"
    run_training(tiny_request(run, pairs_file, steps=2, checkpoint_every=2))  # a finished model
    with RunLock(run):  # another run holds it
        for resume, overwrite in ((False, True), (True, False), (False, False)):
            request = tiny_request(run, pairs_file, steps=4, checkpoint_every=2)
            request.resume, request.overwrite = resume, overwrite
            with pytest.raises(RunInUseError, match="in use"):
                run_training(request)


def test_resume_rejects_a_corrupt_checkpoint(tmp_path, pairs_file):
    from cfgen.training.checkpoint import list_checkpoints

    run_training(tiny_request(tmp_path, pairs_file, steps=10, checkpoint_every=10))
    (list_checkpoints(tmp_path)[-1] / "model.safetensors").write_bytes(b"\x00garbage")
    request = tiny_request(tmp_path, pairs_file, steps=20, checkpoint_every=10)
    request.resume = True
    with pytest.raises(CheckpointError, match="corrupt"):
        run_training(request)


def test_resume_rejects_other_settings_and_fresh_runs_refuse_to_overwrite(tmp_path, pairs_file):
    run_training(tiny_request(tmp_path, pairs_file, steps=10, checkpoint_every=10))
    request = tiny_request(tmp_path, pairs_file, steps=20, checkpoint_every=10, learning_rate=1e-2)
    request.resume = True
    with pytest.raises(CheckpointError, match="other training settings"):
        run_training(request)
    with pytest.raises(CheckpointError, match="already holds"):
        run_training(tiny_request(tmp_path, pairs_file, steps=10))


def test_init_fine_tunes_an_existing_model_keeping_its_tokenizer(tmp_path, tiny_model, pairs_file):
    request = tiny_request(tmp_path / "tuned", pairs_file, steps=5)
    request.init = tiny_model
    run_training(request)
    assert (tmp_path / "tuned" / "tokenizer.json").read_text() == (tiny_model / "tokenizer.json").read_text()


def test_too_long_code_is_skipped_and_counted(tmp_path):
    pairs = write_pairs(tmp_path / "p.jsonl", EIGHT_PAIRS[:4] + [("a very long one", "echo " + "x " * 500, "bash")])
    result = run_training(tiny_request(tmp_path / "run", pairs, steps=2))
    assert result.skipped == 1 and result.examples == 4


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "not found"),
        ("{not json\n", ":1: expected a JSON object"),
        ('{"nl": "x", "code": "y", "lang": "cobol"}\n', "unknown language 'cobol'"),
        ("\n\n", "holds no pairs"),
    ],
)
def test_bad_pair_files_fail_clearly(tmp_path, content, message):
    path = tmp_path / "pairs.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        run_training(tiny_request(tmp_path / "run", path, steps=2))
    assert not (tmp_path / "run").exists()


def test_bad_benchmark_files_fail_clearly(tmp_path):
    from cfgen.training.data import load_benchmark

    (tmp_path / "broken.json").write_text('{"train": [')
    with pytest.raises(DataError, match="not valid JSON"):
        load_benchmark(tmp_path / "broken.json", "train", "bash")
    (tmp_path / "empty.json").write_text('{"train": [], "dev": []}')
    with pytest.raises(DataError, match="empty"):
        load_benchmark(tmp_path / "empty.json", "dev", "bash")
    with pytest.raises(DataError, match="no 'test' split"):
        load_benchmark(tmp_path / "empty.json", "test", "bash")


def test_corrupt_or_mismatched_model_directories_are_refused(tmp_path, tiny_model):
    from cfgen.model_files.bundle import load_model

    broken = tmp_path / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").write_bytes((tiny_model / "model.safetensors").read_bytes()[:200])
    with pytest.raises(ModelNotAvailableError, match="corrupt|cannot load"):
        load_model(broken)
    mismatched = tmp_path / "mismatched"
    shutil.copytree(tiny_model, mismatched)
    config = json.loads((mismatched / "config.json").read_text())
    config["width"] = 32
    (mismatched / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotAvailableError, match="SHA-256"):
        load_model(mismatched)
    (mismatched / "checksums.json").unlink()  # a hand-edited directory without sums: refused, or if allowed, mismatched
    with pytest.raises(ModelNotAvailableError, match="no checksums.json"):
        load_model(mismatched)
    with pytest.raises(ModelNotAvailableError, match="does not match its weights"):
        load_model(mismatched, verify=False)
    with pytest.raises(ModelNotAvailableError, match="no config.json"):
        load_model(tmp_path)


def _codefusion_folder(root, pairs):
    """A miniature of the CodeFusion data folder: benchmarks (train/dev) and snippet files."""
    root.mkdir()
    by_lang = {}
    for nl, code, lang in pairs:
        by_lang.setdefault(lang, []).append({"NL Utterance": nl + "\n", "Code": code + "\n"})
    for lang, name in (("bash", "BashBenchmarks.json"), ("cf", "CFRuleBenchmarks.json")):
        (root / name).write_text(json.dumps({"train": by_lang[lang], "dev": by_lang[lang][:2]}))
    (root / "BashSnippets.txt").write_text("ls -la\nfind . -type f\nls -la\n\ngrep -r foo .\n")
    (root / "ConditionalFormattingSnippets.txt").write_text("Duplicate()\nGreaterThan(0)\ntop(10%)\n")
    return root


def test_pretraining_then_fine_tuning_with_dev_loss(tmp_path):
    from cfgen.config import TrainConfig
    from cfgen.training.corpus import DataSources, gather_corpus
    from cfgen.training.train import TrainRequest

    folder = _codefusion_folder(tmp_path / "data", EIGHT_PAIRS)
    sources = DataSources(data_dir=folder, languages=("bash", "cf"))
    corpus = gather_corpus("pretrain", sources)
    conditions = [pair.nl for pair in corpus.pairs if pair.code == "grep -r foo ."]
    assert len(corpus.pairs) == 2 * 6  # 3 distinct bash + 3 cf snippets, each unsupervised and CPD
    assert conditions[0] is None and "[MASK]" in conditions[1]  # E_s is noise, or the masked code
    settings = dict(steps=20, batch_size=4, learning_rate=2e-3, warmup_steps=5, checkpoint_every=10, eval_every=10)
    pretrained = run_training(TrainRequest(tmp_path / "pre", TrainConfig(stage="pretrain", **settings), sources,
                                           size="tiny", vocab_size=300))
    assert pretrained.examples == 12 and pretrained.dev_loss is not None
    tuned = run_training(TrainRequest(tmp_path / "tuned", TrainConfig(**settings), sources, size="tiny",
                                      init=tmp_path / "pre"))
    assert tuned.examples == 6 and tuned.dev_loss is not None  # the bash and cf pairs
    assert (tmp_path / "tuned" / "tokenizer.json").read_text() == (tmp_path / "pre" / "tokenizer.json").read_text()


def test_python_snippet_corpus_comes_from_the_standard_library():
    from cfgen.training.data import python_stdlib_snippets
    from cfgen.languages import python

    snippets = python_stdlib_snippets(limit=300)
    assert len(snippets) == 300 and len(set(snippets)) == 300
    assert all(python.check(s)[0] and "\n" not in s and len(s) <= 120 for s in snippets)
    assert python_stdlib_snippets(limit=300) == snippets  # reproducible


def test_runs_on_the_same_pairs_share_one_encoding_whichever_examples_they_keep(tmp_path, monkeypatch):
    from cfgen.encoding import encoder, encodings
    from cfgen.training.corpus import encode_requests
    from cfgen.training.data import Pair
    from cfgen.runtime import Distributed

    encoded = []

    class CountingEncoder:
        def __init__(self, device="cpu"):
            pass

        def encode(self, texts):
            encoded.extend(texts)
            return [torch.full((2, 4), float(len(text))) for text in texts]

    monkeypatch.setattr(encoder, "TextEncoder", CountingEncoder)
    monkeypatch.setattr(encodings, "cache_directory", lambda: tmp_path / "cache")
    pairs = [Pair("count lines", "wc -l", "bash"), Pair("a long one", "echo x", "bash"), Pair(None, "ls", "bash")]
    kept_by_one_run = encode_requests(["count lines"], pairs, Distributed(), "cpu")
    kept_by_another = encode_requests(["a long one", "count lines"], pairs, Distributed(), "cpu")
    assert encoded == ["count lines", "a long one"]  # each request encoded once, the unconditioned pair not at all
    assert kept_by_one_run[0][0, 0] == len("count lines") and kept_by_another[0][0, 0] == len("a long one")


def test_an_export_the_disk_cannot_take_is_one_line_and_leaves_no_folder(tmp_path, tiny_model):
    """A real write failure (RLIMIT_FSIZE below the weights' size): exit 1, one line, no empty folder left."""
    import resource
    import signal
    import subprocess
    import sys

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    output = tmp_path / "exported"
    result = subprocess.run([sys.executable, "-m", "cfgen", "export", str(tiny_model), str(output)],
                            capture_output=True, text=True, timeout=300, preexec_fn=small_files_only)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not output.exists() and [p.name for p in tmp_path.iterdir()] == []
