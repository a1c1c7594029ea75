import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_two_process_torchrun_training_keeps_ranks_identical(tmp_path, pairs_file):
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    if not Path(torchrun).exists():
        pytest.fail("torchrun is not installed beside this Python")
    output = tmp_path / "run"
    worker = Path(__file__).parent / "ddp_worker.py"
    result = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", str(worker), str(output), str(pairs_file)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    digests = [(output / f"rank{rank}.sha256").read_text() for rank in (0, 1)]
    assert digests[0] == digests[1]
    assert (output / "model.safetensors").is_file()
