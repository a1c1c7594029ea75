import json
import os
import tempfile
from pathlib import Path

import pytest

# Keep tests off the user's caches and off the network, before anything reads them.
_SANDBOX = Path(tempfile.mkdtemp(prefix="cfgen-tests-"))
os.environ["XDG_CACHE_HOME"] = str(_SANDBOX / "cache")
os.environ["CFGEN_HOME"] = str(_SANDBOX / "home")
os.environ["HF_HOME"] = str(_SANDBOX / "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["XDG_RUNTIME_DIR"] = str(_SANDBOX / "run")  # where answerers (cfgen serve) put their sockets
(_SANDBOX / "run").mkdir(mode=0o700)
# One intra-op thread per test process (and per CLI it starts): on a busy machine torch's spinning threads would
# multiply CPU time; a tiny model gains nothing from more. The same arithmetic on every machine, too.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "codefusion"


def benchmark_items(lang: str, split: str = "dev") -> list:
    """A split of the CodeFusion benchmark; the test is skipped where that data is not beside the repository."""
    from cfgen.training.data import benchmark_path, load_benchmark

    if not DATA_DIR.is_dir():
        pytest.skip(f"needs the CodeFusion data in {DATA_DIR}")
    return load_benchmark(benchmark_path(DATA_DIR, lang), split, lang)

EIGHT_PAIRS = [
    ("list all files in the current directory with details", "ls -la", "bash"),
    ("show the disk usage of my home folder", "du -sh ~", "bash"),
    ("count the lines in file.txt", "wc -l file.txt", "bash"),
    ("find every python file below here", "find . -name '*.py'", "bash"),
    ("reverse the list x", "x[::-1]", "python"),
    ("add up all the values", "sum(values)", "python"),
    ("format cells greater than 10", "GreaterThan(10)", "cf"),
    ("highlight duplicate values", "Duplicate()", "cf"),
]
TINY_STEPS = 700
PAGE = "# wc\n\n> Count lines.\n\n- Count the lines of a file:\n\n`wc --lines {{path/to/file}}`\n"


def write_pairs(path: Path, pairs=EIGHT_PAIRS) -> Path:
    path.write_text("\n".join(json.dumps({"nl": nl, "code": code, "lang": lang}) for nl, code, lang in pairs) + "\n")
    return path


def tiny_data(folder: Path) -> Path:
    """A data folder laid out as ../shared/data is: codefusion/ benchmarks and tldr/ pages, a few items each."""
    (folder / "codefusion").mkdir(parents=True)
    from cfgen.languages import get_language, language_names

    for lang in language_names():
        name = get_language(lang).benchmark_file
        items = [{"NL Utterance": nl, "Code": code} for nl, code, pair_lang in EIGHT_PAIRS if pair_lang == lang]
        (folder / "codefusion" / name).write_text(json.dumps({"train": items, "dev": items[:1]}))
        if get_language(lang).snippet_file:  # pre-training's code alone
            (folder / "codefusion" / get_language(lang).snippet_file).write_text("".join(f"{i['Code']}\n" for i in items))
    (folder / "codefusion" / "LICENSE").write_text("test data\n")
    (folder / "tldr" / "pages" / "common").mkdir(parents=True)
    (folder / "tldr" / "pages" / "common" / "wc.md").write_text(PAGE)
    (folder / "tldr" / "LICENSE.md").write_text("test pages\n")
    return folder


def tiny_request(output: Path, pairs_file: Path, steps: int = TINY_STEPS, **train_overrides):
    from cfgen.config import TrainConfig
    from cfgen.training.corpus import DataSources
    from cfgen.training.train import TrainRequest

    settings = dict(steps=steps, batch_size=8, learning_rate=2e-3, warmup_steps=20, checkpoint_every=100, eval_every=0)
    settings.update(train_overrides)
    return TrainRequest(
        output_dir=output, train=TrainConfig(**settings), sources=DataSources(pair_files=[pairs_file]),
        size="tiny", vocab_size=300, device="cpu",
    )


@pytest.fixture(scope="session")
def pairs_file(tmp_path_factory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("data") / "pairs.jsonl")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, pairs_file) -> Path:
    """A tiny model trained on EIGHT_PAIRS (shared by the tests that need a trained model)."""
    from cfgen.training.train import run_training

    output = tmp_path_factory.mktemp("tiny-model")
    run_training(tiny_request(output, pairs_file))
    return output


@pytest.fixture(scope="session")
def encoder():
    from cfgen.encoding.encoder import TextEncoder

    return TextEncoder()


# Fixtures that train a model first: the tests that use them cost tens of seconds each on two cores (the first
# one pays for the training), so they carry the `trains` marker: `-m "not trains"` is the quick run.
TRAINING_FIXTURES = {"tiny_model", "masked_model", "generator", "cf_text_model"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if TRAINING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.trains)
