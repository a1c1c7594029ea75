"""bench/: every script imports, and those that need no encoding of a whole training corpus run at a tiny size
(outputs to a temporary folder), so that a change that breaks a benchmark fails here rather than on its next run."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

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
    "conditioning.py": ["--items", "1", "--timesteps", "1", "--langs", "cf"],
    "latency.py": ["--subset", "1", "--steps-list", "1", "--repeats", "1"],
}


@pytest.mark.bundled
@pytest.mark.skipif(not (DATA / "codefusion").is_dir() or not (DATA / "tldr").is_dir(),
                    reason="needs the CodeFusion data and tldr pages beside the repository")
@pytest.mark.parametrize("script", sorted(TINY_RUNS))
def test_bench_scripts_run_at_a_tiny_size(script, tmp_path):
    output = tmp_path / "result.json"
    ran = subprocess.run([sys.executable, str(BENCH / script), *TINY_RUNS[script], "--output", str(output)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert output.is_file() and output.stat().st_size > 2
