"""Smoke tests of the model shipped inside the package: it loads, verifies and answers each language.

Marked `bundled`; what it should answer lives in bundled_expectations.py (`pytest -m "not bundled"` skips these).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest
from bundled_expectations import (
    BASH_TOP_ANSWER,
    BASH_PLAIN,
    BASH_VALUES,
    CF_EDIT,
    CF_JOINED,
    MAX_SIZE_BYTES,
    PYTHON_VALUE,
    QUERIES,
    RETRIEVAL_HEAD_LANGUAGES,
)

from cfgen.model_files import bundle, hub, listing as model_listing
from cfgen.languages import get_language

pytestmark = pytest.mark.bundled


@pytest.fixture(scope="module")
def bundled():
    directory = hub.bundled_directory()
    if not (directory / "config.json").is_file():
        pytest.fail(f"no bundled model in {directory}: the package must ship one")
    return directory


@pytest.fixture(scope="module")
def bundled_generator(bundled, encoder):
    from cfgen.pipeline import Pipeline

    return Pipeline.from_directory(bundled, encoder=encoder)


def test_the_bundled_model_is_the_default_and_small(bundled):
    assert hub.default_model_directory() == bundled
    files = [p for p in bundled.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= MAX_SIZE_BYTES
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in files)  # readable by every user of the install
    bundle.verify_checksums(bundled)
    listed = {name for name in __import__("json").loads((bundled / "checksums.json").read_text())}
    assert {p.relative_to(bundled).as_posix() for p in files} - listed == {"checksums.json", "README.md"}
    entry = next(m for m in model_listing.list_models() if m["source"] == "bundled")
    assert abs(entry["size_mb"] - sum(p.stat().st_size for p in files) / 1e6) < 0.01  # the index counts too


def test_the_bundled_weights_are_half_precision_safetensors(bundled):
    from safetensors import safe_open

    shards = sorted(bundled.glob("*.safetensors"))
    assert shards and not list(bundled.glob("*.bin")) and not list(bundled.glob("*.pt"))
    with safe_open(str(shards[0]), "pt") as weights:
        assert weights.get_tensor(next(iter(weights.keys()))).dtype.is_floating_point
        assert {str(weights.get_tensor(k).dtype) for k in weights.keys()} == {"torch.float16"}


@pytest.mark.parametrize("lang", sorted(QUERIES))
def test_the_bundled_model_answers_each_language_with_valid_code(bundled_generator, lang):
    ranked = bundled_generator([QUERIES[lang]], lang, 5)[0]
    assert ranked and ranked[0].valid, ranked
    assert get_language(lang).check(ranked[0].code)[0]


def test_the_bundled_model_writes_cf_rules_retrieval_does_not_give(bundled_generator):
    """CF candidates come from the network (strength > 0): it writes rules retrieval alone does not give."""
    assert bundled_generator.effective_strength(None, "cf") > 0
    query, expected = CF_EDIT
    edited = {c.code for c in bundled_generator([query], "cf", 5)[0]}
    retrieved = {c.code for c in bundled_generator([query], "cf", 5, strength=0.0)[0]}
    assert expected in edited and edited != retrieved, (edited, retrieved)


def test_the_bundled_model_joins_the_rules_it_writes_for_each_condition(bundled_generator):
    query, expected = CF_JOINED
    best = bundled_generator([query], "cf", 5)[0][0]
    assert (best.code, best.source, best.seen) == (expected, "generated", False)


def test_the_bundled_model_uses_the_values_the_request_names(bundled_generator):
    query, value = PYTHON_VALUE
    ranked = bundled_generator([query], "python", 5)[0]
    assert value in ranked[0].code, ranked


def test_a_corrupted_copy_of_the_bundled_model_is_refused(bundled, tmp_path):
    from cfgen.errors import CorruptModelError

    copy = tmp_path / "copy"
    shutil.copytree(bundled, copy)
    vectors = copy / "retrieval" / "vectors.safetensors"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="SHA-256"):
        bundle.verify_checksums(copy)


def test_fresh_cli_run_prints_a_find_command(bundled):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "cfgen", QUERIES["bash"], "--lang", "bash"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(BASH_TOP_ANSWER, result.stdout) and result.stdout.count("\n") == 1, result.stdout


def test_the_bundled_model_retrieves_bash_with_its_retrieval_head(bundled_generator):
    index = bundled_generator.index
    assert index.head is not None and index.head.languages == RETRIEVAL_HEAD_LANGUAGES
    assert len(index.tuned_vectors) == sum(index.langs.count(lang) for lang in RETRIEVAL_HEAD_LANGUAGES)


def test_the_bundled_model_puts_the_requests_paths_where_the_training_program_had_quoted_ones(bundled_generator):
    query, expected = BASH_VALUES
    assert bundled_generator([query], "bash", 5)[0][0].code == expected


def test_the_bundled_model_finds_what_a_request_asks_whatever_its_names_say(bundled_generator):
    requests = [request for request, _ in BASH_PLAIN]
    assert [row[0].code for row in bundled_generator(requests, "bash", 5)] == [answer for _, answer in BASH_PLAIN]
