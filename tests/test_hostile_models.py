"""Tampered, malformed and hostile model folders: each refused in one line with its exit code, nothing allocated
for what the weights cannot back, nothing read outside the folder."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from cfgen.model_files.bundle import write_checksums
from cfgen.commands.app import app


@pytest.fixture()
def copy(tiny_model, tmp_path):
    """A copy of the tiny model with only the files a model directory holds (no checkpoints, no locks)."""
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target, ignore=shutil.ignore_patterns("checkpoints", ".cfgen*"))
    return target


def generate(model, *extra):
    result = CliRunner().invoke(app, ["generate", "count the lines in file.txt", "-m", str(model), *extra])
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result


def test_without_checksums_a_model_is_refused_unless_allowed(copy):
    (copy / "checksums.json").unlink()
    refused = generate(copy)
    assert refused.exit_code == 6 and "no checksums.json" in refused.stderr and "--allow-unverified" in refused.stderr
    allowed = CliRunner().invoke(app, ["generate", "count the lines in file.txt", "-m", str(copy), "--allow-unverified"])
    assert allowed.exit_code == 0 and allowed.stdout == "wc -l file.txt\n"


def test_a_flipped_weight_byte_is_caught_however_the_checksums_are_tampered(copy):
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    assert generate(copy).exit_code == 6
    (copy / "checksums.json").write_text("{}")
    empty = generate(copy)
    assert empty.exit_code == 6 and "not covered by checksums.json" in empty.stderr


@pytest.mark.parametrize("entry", ["/etc/hostname", "../outside.txt", "retrieval/../../outside.txt"])
def test_checksum_entries_outside_the_folder_are_refused_unread(copy, entry, monkeypatch):
    from cfgen.model_files import files

    sums = json.loads((copy / "checksums.json").read_text())
    sums[entry] = "0" * 64
    (copy / "checksums.json").write_text(json.dumps(sums))
    read = []
    original = files.sha256_of
    monkeypatch.setattr(files, "sha256_of", lambda path, *a: read.append(str(path)) or original(path, *a))
    result = generate(copy)
    assert result.exit_code == 6 and "outside the model folder" in result.stderr
    assert not any("outside" in path or "hostname" in path for path in read)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", b"[1, 2]", b'{"config.json": 5}', b"[" * 100_000])
def test_malformed_checksums_are_refused_naming_the_file(copy, content):
    (copy / "checksums.json").write_bytes(content)
    result = generate(copy)
    assert result.exit_code == 6 and "checksums.json" in result.stderr


def _rewrite(copy, name, content) -> None:
    """Replace a file and re-vouch for it, as someone who tampers with the whole folder would."""
    path = copy / name
    if content is None:
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    else:
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    write_checksums(copy)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("tokenizer.json", b"{not json", "tokenizer.json is not a valid tokenizer"),
        ("tokenizer.json", b"", "tokenizer.json is not a valid tokenizer"),
        ("config.json", [1, 2], "config.json is not a valid model config"),
        ("config.json", b"\x00\xff", "config.json is not valid JSON"),
        ("model.safetensors", None, "model.safetensors is not a valid safetensors file"),
        ("retrieval/vectors.safetensors", None, "vectors.safetensors is not a valid safetensors file"),
        ("retrieval/entries.json", {"codes": ["ls"], "langs": ["bash"]}, "entries.json does not match"),
        ("retrieval/entries.json", b"{", "entries.json is not valid JSON"),
        ("generation_config.json", b"\xff", "generation_config.json is not valid JSON"),
    ],
)
def test_each_broken_model_file_is_one_line_naming_it(copy, name, content, message):
    _rewrite(copy, name, content)
    result = generate(copy)
    assert result.exit_code == 6 and message in result.stderr, result.stderr


def test_a_config_the_weights_cannot_back_is_refused_before_allocating(copy):
    import resource

    config = json.loads((copy / "config.json").read_text())
    for change, message in (({"width": 4096}, "does not match its weights"),
                            ({"width": 2**20}, "width must be from 1 to 8192"),
                            ({"width": "256"}, "width must be int"),
                            ({"vocab_size": 10**9}, "vocab_size must be from")):
        _rewrite(copy, "config.json", {**config, **change})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = generate(copy)
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert result.exit_code == 6 and message in result.stderr, result.stderr
        assert grown_mb < 500  # a width of 4096 used to allocate 6.7 GB first


def test_a_retrieval_head_of_the_wrong_dimension_is_refused_unbuilt(copy, encoder):
    import torch

    from cfgen.retrieval.head import RetrievalHead

    head = RetrievalHead(384, frozenset({"bash"}))
    head.save(copy / "retrieval" / "head.safetensors")
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(copy / "retrieval" / "head.safetensors"))
    save_file(tensors, str(copy / "retrieval" / "head.safetensors"), metadata={"languages": '["bash"]', "dim": "200000"})
    vectors = load_file(str(copy / "retrieval" / "vectors.safetensors"))
    bash_rows = sum(lang == "bash" for lang in json.loads((copy / "retrieval" / "entries.json").read_text())["langs"])
    vectors["tuned_vectors"] = torch.zeros(bash_rows, 384, dtype=torch.float16)
    save_file(vectors, str(copy / "retrieval" / "vectors.safetensors"))
    write_checksums(copy)
    result = generate(copy)
    assert result.exit_code == 6 and "head.safetensors is not a valid retrieval head" in result.stderr


def test_truncated_weights_without_checksums_exit_6_and_never_suggest_unsafe_loading(copy):
    (copy / "checksums.json").unlink()
    data = (copy / "model.safetensors").read_bytes()
    (copy / "model.safetensors").write_bytes(data[: len(data) - 1000])
    result = generate(copy, "--allow-unverified")
    assert result.exit_code == 6 and "safe=False" not in result.stderr and "arbitrary code" not in result.stderr


@pytest.mark.parametrize("checked", [True, False])
def test_a_missing_shard_is_named_whether_or_not_checksums_vouch_for_it(copy, tmp_path, checked):
    """A sharded model with one shard gone: exit 3 naming that shard (without checksums it used to read as a config
    that does not match its weights)."""
    from cfgen.model_files.bundle import load_model, save_model

    network, tokenizer = load_model(copy)
    sharded = tmp_path / "sharded"
    save_model(network, tokenizer, sharded, max_shard_size=40_000)
    shards = sorted(sharded.glob("model-*.safetensors"))
    assert len(shards) > 1
    shards[-1].unlink()
    if not checked:
        (sharded / "checksums.json").unlink()
    result = generate(sharded, *(() if checked else ("--allow-unverified",)))
    assert result.exit_code == 3 and shards[-1].name in result.stderr and "missing" in result.stderr
