"""bench/gpu/: the GPU run packed here, carried in loads that fit a device call, and run end to end on the CPU."""

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import tiny_data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "gpu"))
from pack import tracked_bytes  # noqa: E402 - what every device call carries, as pack.py counts it


def bench(*args, **kwargs):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True, **kwargs)


@pytest.mark.trains
def test_the_gpu_run_packs_checks_trains_and_sends_back_a_model_that_loads(tmp_path):
    packed, out = tmp_path / "packed", tmp_path / "out"
    made = bench("bench/gpu/pack.py", "--data", tiny_data(tmp_path / "data"), "--output", packed)
    assert made.returncode == 0, made.stderr
    # beside the repository's tracked files (the bundled model among them) the encoder cannot travel in one call
    parts = sorted(packed.glob("part-*"))
    assert parts and "run.sh stage 1" in made.stdout and "run.sh train" in made.stdout
    for load in [*parts, packed / "last"]:
        assert sum(f.stat().st_size for f in load.rglob("*")) < 64 * 2**20 - tracked_bytes()
    for number in range(1, len(parts) + 1):
        staged = bench("bench/gpu/device_run.py", "stage", number, "--packed", packed)
        assert staged.returncode == 0 and f"part {number}:" in staged.stdout
    ran = bench("bench/gpu/device_run.py", "train", "--packed", packed, "--out", out, "--device", "cpu",
                "--size", "tiny", "--steps", "12", "--batch-size", "4", "--warmup", "2", "--checkpoint-every", "6")
    assert ran.returncode == 0, ran.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["encoder_min_cosine"] > 0.999 and summary["train_exit"] == 0
    assert set(summary["answers"]["cpu"]) == {"bash", "python", "cf"}
    assert "step 12/12" in (out / "train.log").read_text()
    with open(tmp_path / "model.tar", "wb") as joined:
        for part in sorted(out.glob("model.tar.part-*")):
            joined.write(part.read_bytes())
    with tarfile.open(tmp_path / "model.tar") as archive:
        archive.extractall(tmp_path / "back", filter="data")
    from cfgen.model_files.bundle import load_model

    network, _ = load_model(tmp_path / "back" / "model")
    assert network.config.slots and network.config.process == "masked" and network.config.neighbours == 3
    assert all(p.dtype.is_floating_point for p in network.parameters())


def test_a_damaged_encoder_part_stops_the_run_before_training(tmp_path):
    packed = tmp_path / "packed"
    made = bench("bench/gpu/pack.py", "--data", tiny_data(tmp_path / "data"), "--output", packed)
    assert made.returncode == 0, made.stderr
    part = next(packed.rglob("encoder.part-*"))
    part.write_bytes(part.read_bytes()[:-1] + b"\0")
    ran = bench("bench/gpu/device_run.py", "train", "--packed", packed, "--out", tmp_path / "out", "--device", "cpu")
    assert ran.returncode != 0 and "is damaged or missing" in ran.stderr
    assert not (tmp_path / "out" / "train.log").exists()
