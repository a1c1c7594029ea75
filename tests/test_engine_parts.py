"""Tokenizer, encoder resolution and data helpers."""

import os

import pytest

from cfgen.training.corpus import BatchPlan
from cfgen.training.data import mask_identifiers
from cfgen.errors import EncoderError
from cfgen.tokenizer import CodeTokenizer
from cfgen.languages import language_names


@pytest.fixture(scope="module")
def tokenizer():
    corpus = ["ls -la", "find . -name '*.py' | xargs grep -n TODO", "x[::-1]", "GreaterThan(10)"] * 20
    return CodeTokenizer.train(iter(corpus), vocab_size=320)


def test_tokenizer_round_trips_code_with_tags_and_end(tokenizer):
    code = "find . -name '*.txt' -mtime +3 | xargs rm  # ünïcode"
    encoded = tokenizer.encode(code, "bash", max_length=128)
    assert encoded.ids[0] == tokenizer.tag_ids["bash"] and encoded.ids[-1] == tokenizer.end_id
    assert not encoded.truncated
    assert tokenizer.decode(encoded.ids + [tokenizer.pad_id] * 5) == code


def test_tokenizer_marks_truncation_and_stops_at_end(tokenizer):
    encoded = tokenizer.encode("echo " + "a b c " * 40, "bash", max_length=16)
    assert encoded.truncated and len(encoded.ids) == 16 and encoded.ids[-1] == tokenizer.end_id
    ids = tokenizer.encode("ls -la", "bash", 16).ids + tokenizer.encode("rm -rf /", "bash", 16).ids
    assert tokenizer.decode(ids) == "ls -la"


def test_tokenizer_save_load(tokenizer, tmp_path):
    tokenizer.save(tmp_path / "tokenizer.json")
    again = CodeTokenizer.load(tmp_path / "tokenizer.json")
    assert again.encode("x[::-1]", "python", 32) == tokenizer.encode("x[::-1]", "python", 32)
    assert set(again.tag_ids) == set(language_names())


def test_a_tokenizer_holds_the_tags_it_was_trained_with_and_no_others():
    """The tags come from the tokenizer's own special tokens, not from the languages cfgen knows now."""
    corpus = ["ls -la", "GreaterThan(10)", "<b>x</b> <p>"] * 20
    narrow = CodeTokenizer.train(iter(corpus), vocab_size=300, languages=("bash", "toy"))
    assert set(narrow.tag_ids) == {"bash", "toy"}  # code tokens such as `<b>` or `<p>` are not tags
    assert narrow.encode("ls", "toy", 8).ids[0] == narrow.tag_ids["toy"]


def test_encoder_with_the_wrong_hash_is_refused(tmp_path):
    from cfgen.encoding.encoder import resolve_encoder_directory

    source = resolve_encoder_directory()
    for item in source.iterdir():
        if item.name != "model.safetensors":
            os.symlink(item, tmp_path / item.name)
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(EncoderError, match="SHA-256"):
        resolve_encoder_directory(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(EncoderError, match="missing"):
        resolve_encoder_directory(tmp_path)
    assert resolve_encoder_directory(source) == source


def test_encoder_gives_per_text_states(encoder):
    states = encoder.encode(["list files", "show me every file older than three days please"])
    assert states[0].shape[1] == 384 and states[0].shape[0] < states[1].shape[0]


def test_cpd_masks_identifiers_deterministically():
    masked = mask_identifiers("grep -r TODO src | wc -l", rate=0.5)
    assert masked == mask_identifiers("grep -r TODO src | wc -l", rate=0.5)
    assert "[MASK]" in masked and "|" in masked
    assert mask_identifiers("ls", rate=0.0) == "ls" and mask_identifiers("ls", rate=1.0) == "[MASK]"


def test_batches_hold_one_language_and_cover_each_epoch_once():
    groups = ["bash"] * 7 + ["cf"] * 3
    plan = BatchPlan(groups, batch_size=4, seed=1)
    assert plan.batches_per_epoch == 3  # bash 4 + 3, cf 3
    epoch = [plan.batch(step) for step in range(3)]
    assert sorted(i for batch in epoch for i in batch) == list(range(10))
    assert all(len({groups[i] for i in batch}) == 1 for batch in epoch)
    assert BatchPlan(groups, 4, seed=1).batch(4) == plan.batch(4)
    assert [BatchPlan(groups, 4, seed=2).batch(s) for s in range(3)] != epoch


def test_a_language_temperature_lifts_the_small_language_and_keeps_every_example_each_epoch():
    groups = ["bash"] * 64 + ["cf"] * 4
    counts = {t: BatchPlan(groups, batch_size=4, seed=1, temperature=t).batch_counts for t in (1.0, 0.5, 0.0)}
    assert counts[1.0] == {"bash": 16, "cf": 1}  # as in the data
    assert counts[0.5] == {"bash": 16, "cf": 4}  # 16 * (4 / 64) ** 0.5
    assert counts[0.0] == {"bash": 16, "cf": 16}
    plan = BatchPlan(groups, batch_size=4, seed=1, temperature=0.5)
    epoch = [plan.batch(step) for step in range(plan.batches_per_epoch)]
    assert all(len({groups[i] for i in batch}) == 1 and len(batch) == 4 for batch in epoch)
    assert set(i for batch in epoch for i in batch) == set(range(68))  # every example, the small ones 4 times
    assert sum(groups[i] == "cf" for batch in epoch for i in batch) == 16
    assert [BatchPlan(groups, 4, seed=1, temperature=0.5).batch(s) for s in range(20)] == epoch[:20]  # resumable
    with pytest.raises(ValueError):
        BatchPlan(groups, 4, seed=1, temperature=1.5)


def test_torch_native_minilm_matches_transformers_bert(encoder):
    """cfgen/encoding/minilm.py is BertModel rebuilt from torch layers: same tokens, same hidden states."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from cfgen.encoding.encoder import resolve_encoder_directory

    directory = str(resolve_encoder_directory())
    texts = ["list files older than 3 days", "Highlight cells in column B that say 'ok'", "", "naïve café 日本 " * 40]
    reference_tokenizer = AutoTokenizer.from_pretrained(directory)
    batch = reference_tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    mask = batch["attention_mask"].bool()
    mine_ids = [[i for i, keep in zip(e.ids, e.attention_mask) if keep] for e in encoder.tokenizer.encode_batch(texts)]
    assert mine_ids == [row[m].tolist() for row, m in zip(batch["input_ids"], mask)]
    with torch.no_grad():
        expected = AutoModel.from_pretrained(directory).eval()(**batch).last_hidden_state
        mine = encoder.model(batch["input_ids"], mask)
    assert (mine - expected)[mask].abs().max() < 1e-4
    encoded = encoder.encode(texts)
    assert [e.shape[0] for e in encoded] == mask.sum(dim=1).tolist()
