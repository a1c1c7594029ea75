"""bench/: every script imports and runs for one tiny step (outputs to a temporary folder), so that a change that
breaks a benchmark fails here rather than on its next run: those that read only the bundled model and small data
on the real data, those that encode a training corpus or train on a tiny data folder with the tiny model."""

import importlib.util
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tiny_data

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA = ROOT.parent / "shared" / "data"
SCRIPTS = sorted(path for path in BENCH.rglob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(BENCH)))
def test_every_bench_script_imports(script, monkeypatch):
    monkeypatch.syspath_prepend(str(script.parent))
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the __main__ guard keeps main() from running
    assert module.__doc__, f"{script.name} says what it measures and how to run it"


TINY_RUNS = {
    "bash_corpora.py": ["--limit", "2"],
    "bash_users.py": [],
    "conditioning.py": ["--items", "1", "--timesteps", "1", "--langs", "cf", "--guidance", "2"],
    "latency.py": ["--subset", "1", "--steps-list", "1", "--repeats", "1", "--batch", "2"],
    "bash_templates.py": [],
}


@pytest.mark.bundled
@pytest.mark.skipif(not (DATA / "codefusion").is_dir() or not (DATA / "tldr").is_dir(),
                    reason="needs the CodeFusion data and tldr pages beside the repository")
@pytest.mark.parametrize("script", sorted(TINY_RUNS))
def test_bench_scripts_run_at_a_tiny_size(script, tmp_path, monkeypatch):
    output = tmp_path / "result.json"
    run_as_script(monkeypatch, [str(BENCH / script), *TINY_RUNS[script], "--output", str(output)])
    assert output.is_file() and output.stat().st_size > 2


def run_as_script(monkeypatch, command: list[str]) -> None:
    """`python COMMAND…` in this process (no new interpreter, torch or encoder to load: the smoke test's cost)."""
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setattr(sys, "argv", command)
    runpy.run_path(command[0], run_name="__main__")


def _tiny_model_runs(model: Path, data: Path, out: Path) -> dict[str, list[list]]:
    """Each script's command lines (several where one's output feeds the next) against the tiny model and data."""
    codefusion = data / "codefusion"
    return {
        "quality.py": [["--data", codefusion, "--model", model, "--limit", "1", "--steps", "1"]],
        "retrieval_baseline.py": [["--data", codefusion, "--limit", "1"]],
        "values.py": [["--data", codefusion, "--model", model, "--limit", "1"]],
        "train_throughput.py": [["--data", codefusion, "--steps", "1", "--batch-size", "2", "--size", "tiny"]],
        "cf_users.py": [["--model", model, "-n", "1", "--steps", "1"]],
        "cli_startup.py": [["--runs", "1", "--model", model]],
        "prompt.py": [["--runs", "2", "--cold-runs", "1", "--model", model]],
        "add_pages.py": [["--model", model, "--pages", data / "tldr" / "pages" / "common", "--sizes", "1"]],
        "language_guess.py": [["--model", model, "--data", codefusion]],
        "learning_curve.py": [["--run", model, "--checkpoints", model / "checkpoints", "--data", codefusion,
                               "--limit", "1", "--steps", "1"]],
        "pretraining.py": [[out / "runs", "--data", codefusion, "--size", "tiny", "--pretrain-steps", "2",
                            "--finetune-steps", "2", "--batch-size", "2", "--limit", "1", "--steps", "1"]],
        "ar_peer.py": [["train", out / "peer", "--steps", "2", "--batch-size", "2", "--data", codefusion,
                        "--model", model],
                       ["eval", out / "peer", "--limit", "1", "--data", codefusion, "--model", model]],
    }


TINY_MODEL_SCRIPTS = sorted(_tiny_model_runs(Path(), Path(), Path()))


@pytest.mark.parametrize("script", TINY_MODEL_SCRIPTS)
def test_bench_scripts_run_for_one_tiny_step_on_the_tiny_model(script, tiny_model, tmp_path, monkeypatch):
    """In this process (`run_as_script`), except the scripts that time fresh processes."""
    output = tmp_path / "result.json"
    for arguments in _tiny_model_runs(tiny_model, tiny_data(tmp_path / "data"), tmp_path)[script]:
        command = [str(BENCH / script), *map(str, arguments), "--output", str(output)]
        if script in ("cli_startup.py", "add_pages.py", "prompt.py"):
            ran = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=600)
            assert ran.returncode == 0, ran.stderr[-2000:]
        else:
            run_as_script(monkeypatch, command)
    assert output.is_file() and output.stat().st_size > 2


def test_the_learning_curve_plots_guided_rows_beside_the_network(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    from learning_curve import plot

    found = {lang: {"top1": 0.1, "top5": 0.2} for lang in ("bash", "python", "cf")}
    rows = [{"examples": 0, "network": found}, {"examples": 8000, "network": found, "guided": found}]
    peer = {"steps": 10, "batch_size": 4, "rows": [{"lang": "bash", "top1": 0.1, "top5": 0.2}]}
    plot(rows, found, peer, tmp_path / "curve.png", ["bash", "python", "cf"])
    assert (tmp_path / "curve.png").stat().st_size > 1000
    by_epoch = [{**row, "epochs": row["examples"] / 4000} for row in rows]
    plot(by_epoch, found, peer, tmp_path / "bash.png", ["bash"])  # one language, epochs on the x axis
    assert (tmp_path / "bash.png").stat().st_size > 1000
