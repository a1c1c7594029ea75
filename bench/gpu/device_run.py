"""The GPU run: on the lent machine, check what arrived, train the best recipe, and send back its model and log.

    python bench/gpu/device_run.py stage N            # part N of the encoder arrived whole
    python bench/gpu/device_run.py train [--minutes 6] [--size base] [--device cuda]

`bench/gpu/pack.py` (run first, here) fills .gpu/ and prints the device calls
to make, one right after the other. `train`, with everything carried:
1. checks each encoder part against the manifest, joins them, and lets cfgen
   verify the float16 weights' pinned SHA-256 (CFGEN_ENCODER_DIR);
2. encodes the reference requests and compares them with this machine's
   float32 encodings (cosine of every token state > 0.999, else it stops);
3. trains from scratch, masked process reading 3 neighbours position by
   position, values as slots, a tenth of requests dropped (so that classifier-
   free guidance can be measured on it here), on the CodeFusion benchmarks and
   tldr pages, CF's batches lifted (`--language-temperature 0.5`; `cfgen train`,
   bf16 autocast on CUDA); at the deadline it sends Ctrl-C, which cfgen
   answers by saving a checkpoint, so a run cut short still ships;
4. writes the model's float16 weights, config and tokenizer (no retrieval
   index: rebuild it here with `cfgen export --index-from`) to $OUT as a tar
   in parts of 15 MB, with the training log;
5. answers a handful of requests with the trained model on `--device` (float16
   on CUDA) and on the CPU (float32), and records both and their timings.
Everything lands in $OUT (or --out): model.tar.part-*, train.log, summary.json.
Rebuild here: cat model.tar.part-* | tar x, then `cfgen export model ... --index-from`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK_REQUESTS = {"bash": ["list files older than 3 days", "count the lines in notes.txt",
                           "show which process listens on port 8080"],
                  "python": ["reverse the list x"], "cf": ["highlight cells greater than 100"]}


def stage(packed: Path, number: int) -> None:
    part = packed / f"part-{number}" / f"encoder.part-{number}"
    digest = hashlib.sha256(part.read_bytes()).hexdigest()
    print(f"part {number}: {part.stat().st_size:,} bytes, sha256 {digest[:16]}; kept for the train call")


def joined_encoder(packed: Path) -> Path:
    """The encoder folder, its weights joined from the parts (each checked against the manifest)."""
    last = packed / "last"
    manifest = json.loads((last / "manifest.json").read_text())
    folder = packed / "encoder"
    folder.mkdir(exist_ok=True)
    for path in (last / "encoder").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    with open(folder / "model.safetensors", "wb") as joined:
        for part in manifest["parts"]:
            data = (packed / part["file"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != part["sha256"]:
                sys.exit(f"{part['file']} is damaged or missing: make the stage calls again")
            joined.write(data)
    return folder


def check_encoder(packed: Path, device: str) -> float:
    """The smallest token-state cosine between this machine's encodings of the reference requests and ours."""
    import torch
    from safetensors.torch import load_file

    from cfgen.encoding.encoder import TextEncoder

    requests = json.loads((packed / "last" / "reference.json").read_text())
    reference = load_file(str(packed / "last" / "reference.safetensors"))
    ours = TextEncoder(device=device).encode(requests)
    cosines = [torch.nn.functional.cosine_similarity(mine.float(), reference[f"request{i}"], dim=-1).min().item()
               for i, mine in enumerate(ours)]
    return min(cosines)


def train(args, packed: Path, out: Path, env: dict) -> dict:
    data = packed / "data"
    with tarfile.open(packed / "last" / "data.tar.gz") as archive:
        archive.extractall(data, filter="data")
    run = packed / "run"
    command = [sys.executable, "-m", "cfgen", "train", str(run), "--overwrite", "--size", args.size,
               "--process", "masked", "--neighbours", "3", "--aligned", "--slots", "--device", args.device,
               "--request-dropout", str(args.request_dropout), "--language-temperature", str(args.language_temperature),
               "--data", str(data / "codefusion"), "--data", str(data / "tldr" / "pages"),
               "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
               "--warmup", str(args.warmup), "--checkpoint-every", str(args.checkpoint_every),
               "--eval-every", str(args.checkpoint_every), "--keep-best"]
    started = time.monotonic()
    with open(out / "train.log", "w") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        try:
            code = process.wait(timeout=args.minutes * 60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)  # cfgen saves a checkpoint of the last whole step, then exits 130
            code = process.wait()
    return {"train_exit": code, "train_seconds": round(time.monotonic() - started, 1), "run": str(run)}


def export(run: Path, packed: Path, out: Path) -> Path:
    """The run's model (its lowest dev loss, if kept) as float16 files, without index, tarred into 15 MB parts."""
    from cfgen.model_files.bundle import load_model, save_model

    source = run / "best" if (run / "best" / "config.json").is_file() else run
    network, tokenizer = load_model(source)
    model = packed / "model"
    save_model(network, tokenizer, model, max_shard_size="15MB", half=True)
    with tarfile.open(packed / "model.tar", "w") as archive:
        archive.add(model, arcname="model")
    blob = (packed / "model.tar").read_bytes()
    for number, start in enumerate(range(0, len(blob), 15 << 20)):
        (out / f"model.tar.part-{number:02d}").write_bytes(blob[start:start + (15 << 20)])
    return source


def answers(model: Path, device: str) -> dict:
    """The trained model's best candidate and time per request, on one device."""
    from cfgen.pipeline import Pipeline

    pipeline = Pipeline.from_directory(model, device)
    found = {}
    for lang, requests in CHECK_REQUESTS.items():
        pipeline(requests[:1], lang, 5)  # warm-up
        started = time.perf_counter()
        rows = pipeline(requests, lang, 5)
        found[lang] = {"seconds_per_request": round((time.perf_counter() - started) / len(requests), 3),
                       "best": [row[0].code if row else None for row in rows]}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["stage", "train"])
    parser.add_argument("number", nargs="?", type=int)
    parser.add_argument("--packed", type=Path, default=ROOT / ".gpu")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ROOT / ".gpu" / "out")))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", default="base")
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--request-dropout", type=float, default=0.1, help="share of requests dropped in training")
    parser.add_argument("--language-temperature", type=float, default=0.5,
                        help="each language's share of batches ~ its examples**T (0.5 lifts CF's 644 pairs)")
    args = parser.parse_args()
    packed = args.packed.resolve()
    if args.what == "stage":
        return stage(packed, args.number)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    wheels = [str(path) for path in sorted((packed / "last" / "wheels").glob("*.whl"))]
    sys.path[:0] = [str(ROOT), *wheels]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *wheels, os.environ.get("PYTHONPATH", "")]),
           "CFGEN_ENCODER_DIR": str(joined_encoder(packed))}
    os.environ.update(env)
    summary = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "device": args.device, "size": args.size}
    if args.device.startswith("cuda"):
        import torch

        summary["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device"
    summary["encoder_min_cosine"] = cosine = check_encoder(packed, args.device)
    if cosine < 0.999:
        (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        sys.exit(f"the encoder's states differ from this machine's (cosine {cosine:.4f}): not training on them")
    summary.update(train(args, packed, out, env))
    exported = export(Path(summary["run"]), packed, out)
    summary["exported"] = str(exported)
    summary["answers"] = {device: answers(Path(summary["run"]), device) for device in dict.fromkeys([args.device, "cpu"])}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
