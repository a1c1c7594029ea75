"""The retrieval head: trained to put requests for the same program together."""

import pytest
import torch

from cfgen.model_files.bundle import index_files
from cfgen.training.data import Pair
from cfgen.retrieval.index import RetrievalIndex
from cfgen.retrieval.head import RetrievalHead, fit_retrieval_head

# Two programs that differ in how, not what: the request says so in one adverb amid a
# long description of the task, which is all plain MiniLM pooling looks at.
TASKS = ["copy the quarterly sales report from the shared drive to my laptop",
         "back up the photos folder of the family archive onto the external disk",
         "rename every log file of the web server so that it carries today's date",
         "move the downloaded installers out of the home directory into the trash",
         "archive the old project sources and the build outputs into one tarball",
         "delete the temporary files that the test suite left in the cache folder",
         "sync the music library with the copy kept on the network storage box",
         "compress the database dumps from last month before they are uploaded"]
FAST = ["quickly {}", "{} as fast as possible", "hastily {}"]
SAFE = ["carefully {}", "{} without overwriting anything", "cautiously {}"]


def _split():
    """Held out, for each task, one request of each program; its twin of the other program
    (the same words but the adverb) stays in training, where it is plain pooling's nearest."""
    train, held_out = [], []
    for n, task in enumerate(TASKS):
        for offset, (templates, program) in enumerate(((FAST, "cp -f _ _"), (SAFE, "cp -n _ _"))):
            for k, template in enumerate(templates):
                (held_out if k == (n + offset) % 3 else train).append((template.format(task), program))
    return train, held_out


def _nearest_program_accuracy(train_vectors, train_labels, query_vectors, query_labels) -> float:
    nearest = (query_vectors @ train_vectors.T).argmax(dim=-1)
    return sum(train_labels[j] == label for j, label in zip(nearest.tolist(), query_labels)) / len(query_labels)


@pytest.fixture(scope="module")
def split(encoder):
    train, held_out = _split()
    return ([encoder.encode([t for t, _ in train]), [p for _, p in train]],
            [encoder.encode([t for t, _ in held_out]), [p for _, p in held_out]])


def test_a_trained_head_finds_the_program_that_plain_pooling_misses(split):
    from cfgen.retrieval.index import sentence_vectors

    (train_enc, train_labels), (test_enc, test_labels) = split
    plain = _nearest_program_accuracy(sentence_vectors(train_enc), train_labels, sentence_vectors(test_enc), test_labels)
    head = fit_retrieval_head(train_enc, train_labels, frozenset({"bash"}), steps=30, batch_size=16, lr=1e-3)
    tuned = _nearest_program_accuracy(head.vectors(train_enc), train_labels, head.vectors(test_enc), test_labels)
    assert plain < 0.9
    assert tuned == 1.0
    # The index compares a query with both vectors, the mean of the two cosines: right here as well.
    index = RetrievalIndex.build([Pair(f"r{n}", label, "bash") for n, label in enumerate(train_labels)], train_enc, head=head)
    assert [row[0][0] for row in index.neighbours(test_enc, "bash", 1)] == test_labels


def test_an_index_with_a_head_saves_loads_and_serves_only_its_languages(split, tmp_path):
    (train_enc, train_labels), (test_enc, test_labels) = split
    head = fit_retrieval_head(train_enc, train_labels, frozenset({"bash"}), steps=20, batch_size=16, lr=1e-3)
    pairs = [Pair(f"request {n}", label, "bash") for n, label in enumerate(train_labels)]
    pairs.append(Pair("request", "x = 1", "python"))
    index = RetrievalIndex.build(pairs, train_enc + train_enc[:1], head=head)
    assert torch.allclose(index.tuned_vectors[0], head.vectors(train_enc[:1])[0])  # bash rows: also the head's vectors
    assert len(index.tuned_vectors) == len(train_labels)  # the python row: plain pooling only
    found = index.neighbours(test_enc, "bash", 1)
    plain = RetrievalIndex.build(pairs, train_enc + train_enc[:1]).neighbours(test_enc, "bash", 1)
    assert [row[0][1] for row in found] != [row[0][1] for row in plain]  # the head moved the similarities
    index.save(index_files(tmp_path))
    loaded = RetrievalIndex.load(index_files(tmp_path))
    assert loaded.head is not None and loaded.head.languages == {"bash"}
    found, again = (i.neighbours(test_enc, "bash", 3) for i in (index, loaded))
    assert [[code for code, *_ in row] for row in found] == [[code for code, *_ in row] for row in again]
    assert max(abs(a - b) for x, y in zip(found, again) for (_, a, _), (_, b, _) in zip(x, y)) < 1e-2  # int8 on disk


def test_index_vectors_are_stored_as_int8_with_row_scales_and_a_missing_scale_is_refused(split, tmp_path):
    from safetensors.torch import load_file, save_file

    from cfgen.errors import CorruptModelError

    (train_enc, train_labels), (test_enc, _) = split
    index = RetrievalIndex.build([Pair(f"r{n}", label, "bash") for n, label in enumerate(train_labels)], train_enc)
    files = index_files(tmp_path)
    index.save(files)
    stored = load_file(str(files.vectors))
    assert stored["vectors"].dtype == torch.int8 and stored["vectors.scale"].shape == (len(train_labels),)
    assert "vectors.basis" not in stored  # a small matrix keeps all its dimensions
    loaded = RetrievalIndex.load(files)
    assert (loaded.vectors - index.vectors).abs().max() < 0.01
    assert [r[0][0] for r in loaded.neighbours(test_enc, "bash", 1)] == [r[0][0] for r in index.neighbours(test_enc, "bash", 1)]
    del stored["vectors.scale"]
    save_file(stored, str(files.vectors))
    with pytest.raises(CorruptModelError, match="without a scale per row"):
        RetrievalIndex.load(files)


def test_a_large_matrix_is_stored_in_its_principal_directions_and_rankings_hold(tmp_path):
    from safetensors.torch import load_file, save_file

    from cfgen.errors import CorruptModelError
    from cfgen.model_files.index_files import KEPT_DIMS

    generator = torch.Generator().manual_seed(0)
    topics = torch.nn.functional.normalize(torch.randn(40, 384, generator=generator), dim=-1)
    # 2,000 requests about 40 topics: unit vectors near their topic's, as sentence vectors cluster
    rows = torch.nn.functional.normalize(topics.repeat(50, 1) + 0.01 * torch.randn(2000, 384, generator=generator), dim=-1)
    index = RetrievalIndex(rows, [f"echo {n % 40}" for n in range(2000)], ["bash"] * 2000)
    files = index_files(tmp_path)
    index.save(files)
    stored = load_file(str(files.vectors))
    assert stored["vectors"].shape == (2000, KEPT_DIMS) and stored["vectors.basis"].shape == (384, KEPT_DIMS)
    loaded = RetrievalIndex.load(files)
    assert loaded.vectors.shape == (2000, KEPT_DIMS)  # held as stored: a query is projected onto the basis
    assert ((loaded.vectors @ loaded.bases["vectors"].T) @ rows.T).diagonal().min() > 0.95
    queries = [topic[None, :] for topic in topics]  # one-token "encodings" pool to the topic vector itself
    assert [r[0][0] for r in loaded.neighbours(queries, "bash", 1)] == [f"echo {n}" for n in range(40)]
    stored["vectors.basis"] = stored["vectors.basis"][:, :10].contiguous()
    save_file(stored, str(files.vectors))
    with pytest.raises(CorruptModelError, match="basis"):
        RetrievalIndex.load(files)
    loaded.save(index_files(tmp_path / "again"))  # saved again: the same basis, not a second reduction
    assert torch.equal(load_file(str(index_files(tmp_path / "again").vectors))["vectors.basis"],
                       loaded.bases["vectors"].half())


def test_a_head_cannot_serve_a_language_retrieved_by_masked_request(split):
    (train_enc, _), _ = split
    head = RetrievalHead(train_enc[0].shape[-1], frozenset({"python"}))
    with pytest.raises(ValueError, match="masked"):
        RetrievalIndex.build([Pair("a", "x = 1", "python")], train_enc[:1], frozenset({"python"}), train_enc[:1], head)
