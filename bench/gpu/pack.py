"""Pack what a GPU run needs and cannot download into .gpu/ (git-ignored), in loads that fit one device call.

    python bench/gpu/pack.py [--data ../shared/data] [--limit-mib 64]

A device call takes the repository's tracked files plus what it carries, at
most 64 MiB in all. The run needs three things the repository does not hold:
the NL encoder's weights (91 MB float32, so they travel as their 45 MB float16
copy, `encoder.half_weights`, whose SHA-256 cfgen pins), the training data (the
CodeFusion benchmarks and tldr pages, 4 MB compressed) and the pure-Python
wheels of packages the device may lack (platformdirs). The float16 file is cut
into as many parts as the room left beside the tracked files needs; every
part but the last is carried by its own `stage` call, the last with the rest
by the `train` call (bench/gpu/device_run.py says how). Also written: the
encodings of a few requests by this machine's float32 encoder, which the
device's must match, and manifest.json (each part's SHA-256, the calls to make).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cfgen.encoding.encoder import half_weights, resolve_encoder_directory  # noqa: E402

ENCODER_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]
REFERENCE_REQUESTS = ["list files older than 3 days", "highlight cells greater than 100", "reverse the list x",
                      "count the lines in notes.txt", "show which process listens on port 8080"]
DATA_FILES = ["codefusion/BashBenchmarks.json", "codefusion/PythonBenchmarks.json",
              "codefusion/CFRuleBenchmarks.json", "codefusion/LICENSE", "tldr/pages", "tldr/LICENSE.md"]
MARGIN = 2 << 20  # bytes kept free in every call, for files that change before the run


def tracked_bytes() -> int:
    """Bytes of what every call takes: tracked files and untracked ones git does not ignore."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    return sum((ROOT / name.decode()).stat().st_size for name in names if name and (ROOT / name.decode()).is_file())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_last(packed: Path, data: Path, wheels: list[Path]) -> Path:
    """The train call's load, less its encoder part: encoder files, data, wheels, reference encodings."""
    from safetensors.torch import save_file

    from cfgen.encoding.encoder import TextEncoder

    last = packed / "last"
    (last / "encoder").mkdir(parents=True)
    for name in ENCODER_FILES:
        shutil.copy(resolve_encoder_directory() / name, last / "encoder" / name)
    with tarfile.open(last / "data.tar.gz", "w:gz") as archive:
        for name in DATA_FILES:
            if not (data / name).exists():
                sys.exit(f"{data / name} is missing: give --data the folder holding codefusion/ and tldr/")
            archive.add(data / name, arcname=name)
    (last / "wheels").mkdir()
    for wheel in wheels:
        shutil.copy(wheel, last / "wheels" / wheel.name)
    encoded = TextEncoder().encode(REFERENCE_REQUESTS)
    save_file({f"request{i}": states.float().contiguous() for i, states in enumerate(encoded)},
              str(last / "reference.safetensors"))
    (last / "reference.json").write_text(json.dumps(REFERENCE_REQUESTS) + "\n")
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--wheel", type=Path, action="append", default=[],
                        help="a pure-Python wheel the device may lack (repeatable; e.g. platformdirs)")
    parser.add_argument("--limit-mib", type=float, default=64)
    parser.add_argument("--output", type=Path, default=ROOT / ".gpu", help="where to pack (git-ignored .gpu/)")
    args = parser.parse_args()
    packed = args.output
    if not args.wheel:
        print("no --wheel: the device must have platformdirs (else: pip download platformdirs --no-deps -d /tmp/w)")
    shutil.rmtree(packed, ignore_errors=True)
    packed.mkdir(parents=True)
    last = write_last(packed, args.data, args.wheel)
    weights = packed / "encoder-half.safetensors"
    half_weights(resolve_encoder_directory(), weights)
    room = int(args.limit_mib * 2**20) - tracked_bytes() - MARGIN
    last_load = sum(path.stat().st_size for path in last.rglob("*") if path.is_file())
    if room - last_load < 1 << 20:
        sys.exit(f"the tracked files leave {room / 2**20:.1f} MiB a call: too little to carry the run's data")
    blob = weights.read_bytes()
    with_data = room - last_load  # what the train call has left for the encoder's last part
    head, tail = blob[:max(0, len(blob) - with_data)], blob[max(0, len(blob) - with_data):]
    chunks = [head[i:i + room] for i in range(0, len(head), room)] + [tail]
    manifest = {"encoder_sha256": sha256(weights), "parts": []}
    for number, chunk in enumerate(chunks, 1):
        folder = last if number == len(chunks) else packed / f"part-{number}"
        folder.mkdir(exist_ok=True)
        (folder / f"encoder.part-{number}").write_bytes(chunk)
        manifest["parts"].append({"file": f"{folder.name}/encoder.part-{number}",
                                  "sha256": hashlib.sha256(chunk).hexdigest(), "bytes": len(chunk)})
    (last / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    weights.unlink()
    calls = [f"run(command='bash bench/gpu/run.sh stage {n}', carry=['.gpu/part-{n}'])" for n in range(1, len(chunks))]
    calls.append("run(command='bash bench/gpu/run.sh train', carry=['.gpu/last'], timeout_s=570)")
    print(f"tracked files {tracked_bytes() / 2**20:.1f} MiB; room per call {room / 2**20:.1f} MiB; "
          f"encoder in {len(chunks)} part(s); the last call carries {(len(chunks[-1]) + last_load) / 2**20:.1f} MiB")
    print("device calls, one right after the other (a machine idle for 30 s is handed back):")
    print("\n".join(f"  {call}" for call in calls))


if __name__ == "__main__":
    main()
