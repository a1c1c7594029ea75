"""The masked (absorbing-state) process and retrieved-program conditioning, against fake and tiny real networks."""

import pytest
import torch
from conftest import EIGHT_PAIRS, tiny_request, write_pairs

from cfgen.conditioning import Conditioning
from cfgen.pipeline import sample
from cfgen.processes import make_process
from cfgen.processes.masked import Process as MaskedProcess
from cfgen.processes.masked import _draw, _least_confident, embed_masked
from cfgen.languages import language_names
from cfgen.languages.bash import template

V, C = 6, 6
TARGET = torch.tensor([2, 4, 3, 1, 0, 0])  # tag 2, tokens 4 3, end 1, pad 0


class OracleNetwork:
    """Predicts `target` at every position, confidently; records what it was shown."""

    def __init__(self, target: torch.Tensor, wrong: bool = False):
        self.table = torch.eye(V, C) * 2.0
        self.target, self.wrong = target, wrong
        self.seen_masked, self.calls = [], 0
        self.mask_vector = torch.zeros(C)  # a masked position reads as zeros: what denoise records

    def embed(self, tokens):
        return self.table[tokens]

    def denoise(self, x_t, t, self_condition, condition):
        self.seen_masked.append((x_t == 0).all(dim=-1))
        self.calls += 1
        target = (self.target + 1) % V if self.wrong else self.target
        return self.embed(target).expand(x_t.shape[0], -1, -1).clone()

    def decode(self, x_start, condition):
        return x_start

    def logits(self, hidden, condition=None):
        return hidden @ self.table.T * 10


def _condition(rows: int) -> Conditioning:
    return Conditioning(torch.zeros(rows, 2, 8), torch.zeros(rows, 2, dtype=torch.bool))


def test_the_masked_process_is_chosen_by_name_and_refuses_gaussian_schedules():
    assert isinstance(make_process("masked", 1200, "cosine"), MaskedProcess)
    with pytest.raises(ValueError, match="linear, cosine"):
        make_process("masked", 1200, "sqrt")


def test_loss_counts_masked_positions_only_and_never_masks_the_tag():
    tokens = TARGET.repeat(64, 1)
    process = MaskedProcess(1200)
    perfect = process.training_losses(OracleNetwork(TARGET), tokens, _condition(64), torch.Generator().manual_seed(0))
    assert perfect["loss"].item() < 1e-3
    wrong_net = OracleNetwork(TARGET, wrong=True)
    wrong = process.training_losses(wrong_net, tokens, _condition(64), torch.Generator().manual_seed(0))
    assert wrong["loss"].item() > 5
    masked = wrong_net.seen_masked[-1]
    assert not masked[:, 0].any() and masked[:, 1:].any(dim=1).all()  # tag given; something to predict in every row
    shares = masked[:, 1:].float().mean(dim=1)
    assert shares.min() < 0.3 and shares.max() > 0.8  # the mask ratio covers the range


@pytest.mark.parametrize("steps", [1, 3, 10])
def test_mask_predict_returns_the_oracle_program_at_any_step_count(steps):
    net = OracleNetwork(TARGET)
    result = sample(net, MaskedProcess(1200), _condition(3), tag_id=2, end_id=1, length=6, num_candidates=4,
                    steps=steps, seed=7)
    assert [[c.tokens for c in row] for row in result] == [[TARGET.tolist()] * 4] * 3
    assert all(c.score > -1e-3 for row in result for c in row)
    assert net.calls == steps
    assert net.seen_masked[0][:, 1:].all()  # the first step sees every code position masked


def test_fewer_positions_are_masked_at_each_step():
    net = OracleNetwork(TARGET)
    sample(net, MaskedProcess(1200), _condition(1), tag_id=2, end_id=1, length=6, num_candidates=2, steps=4, seed=0)
    counts = [int(m[0].sum()) for m in net.seen_masked]
    assert counts == sorted(counts, reverse=True) and counts[0] == 5 and counts[-1] >= 1


def test_candidates_are_seeded_and_independent_of_the_batch():
    class Unsure(OracleNetwork):
        def logits(self, hidden, condition=None):
            return torch.zeros(*hidden.shape[:2], V)  # every token equally likely: candidates are draws

    def draw(rows, seed):
        return sample(Unsure(TARGET), MaskedProcess(1200), _condition(rows), tag_id=2, end_id=1, length=6,
                      num_candidates=3, steps=2, seed=seed)

    alone, batched = draw(1, seed=5), draw(4, seed=5)
    assert batched[2] == alone[0]
    assert draw(1, seed=6) != alone
    assert len({tuple(c.tokens) for c in alone[0][1:]}) == 2  # the sampled candidates differ


def test_a_low_strength_edit_keeps_the_start_program():
    class Echo(OracleNetwork):
        """Predicts whatever token it is shown (a masked position: token 5, unsure)."""

        def denoise(self, x_t, t, self_condition, condition):
            return x_t

        def logits(self, hidden, condition=None):
            scores = hidden @ self.table.T * 10
            scores[hidden.abs().sum(-1) == 0] = 0.0
            return scores

    start = TARGET.repeat(4, 1)
    near = sample(Echo(TARGET), MaskedProcess(1200), _condition(2), tag_id=2, end_id=1, length=6, num_candidates=2,
                  steps=3, seed=0, start_tokens=start, strength=0.0)
    assert all(c.tokens == TARGET.tolist() for row in near for c in row)


def test_draw_inverts_the_cdf_and_least_confident_skips_the_tag():
    log_probs = torch.log(torch.tensor([[[0.5, 0.25, 0.25]]]))
    picks = [_draw(log_probs, torch.tensor([[u]])).item() for u in (0.01, 0.99)]
    assert picks == [0, 2]
    confidence = torch.tensor([[-9.0, -1.0, -5.0, -0.1]])
    assert _least_confident(confidence, 2).tolist() == [[False, True, True, False]]
    assert not _least_confident(confidence, 0).any()


def test_the_network_reads_its_neighbours():
    from cfgen.config import preset
    from cfgen.model import CodeFusionModel

    torch.manual_seed(0)
    network = CodeFusionModel(preset("tiny", vocab_size=50, neighbours=2, process="masked", schedule="cosine")).eval()
    encoded, mask = torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.bool)
    neighbours = torch.tensor([[[2, 7, 8, 1], [2, 9, 1, 0]]])
    valid = neighbours != 0
    condition = network.condition(encoded, mask, neighbours, valid)
    assert condition.memory.shape == (1, 3 + 2 * 4, 64)
    assert condition.padding[0].tolist() == [False] * 3 + [False] * 4 + [False, False, False, True]
    x = embed_masked(network, torch.tensor([[2, 5, 5]]), torch.tensor([[False, True, True]]))
    t = torch.tensor([1199])
    other = network.condition(encoded, mask, torch.tensor([[[2, 11, 12, 1], [2, 9, 1, 0]]]), valid)
    assert not torch.allclose(network.denoise(x, t, None, condition), network.denoise(x, t, None, other))


def test_an_aligned_network_reads_the_nearest_program_position_by_position(pairs_file, tmp_path):
    from dataclasses import replace

    from cfgen.config import preset
    from cfgen.errors import UsageError
    from cfgen.model import CodeFusionModel
    from cfgen.training.train import run_training

    torch.manual_seed(0)
    config = preset("tiny", vocab_size=50, neighbours=2, process="masked", schedule="cosine", aligned=True)
    network = CodeFusionModel(config).eval()
    encoded, mask = torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.bool)
    nearest = torch.tensor([[[2, 7, 8, 1], [2, 9, 1, 0]]])

    def hint(neighbours, length=6):
        condition = network.condition(encoded, mask, neighbours, neighbours != 0)
        return network._aligned(torch.zeros(1, length, config.latent_dim), condition)[0]

    base = hint(nearest)
    changed = hint(torch.tensor([[[2, 7, 11, 1], [2, 9, 1, 0]]]))  # the nearest program's third token
    assert torch.equal(base[[0, 1, 3]], changed[[0, 1, 3]]) and not torch.allclose(base[2], changed[2])
    assert torch.equal(base, hint(torch.tensor([[[2, 7, 8, 1], [2, 12, 1, 0]]])))  # other programs: not aligned
    assert torch.count_nonzero(base[4:]) == 0 and hint(nearest, length=3).shape == (3, config.width)  # past its end
    candidates = network.condition(encoded, mask, nearest, nearest != 0).repeat(3, rotate_aligned=True)
    hints = network._aligned(torch.zeros(3, 6, config.latent_dim), candidates)
    assert candidates.aligned_rank.tolist() == [0, 1, 0]  # the j-th candidate reads the (j mod k)-th program
    assert torch.equal(hints[0], base) and torch.equal(hints[1], hint(torch.tensor([[[2, 9, 1, 0], [2, 7, 8, 1]]])))
    one_program = torch.tensor([[[2, 7, 8, 1], [0, 0, 0, 0]]])  # too few programs: the nearest again
    candidates = network.condition(encoded, mask, one_program, one_program != 0).repeat(2, rotate_aligned=True)
    assert torch.equal(network._aligned(torch.zeros(2, 6, config.latent_dim), candidates)[1], base)
    with pytest.raises(ValueError, match="aligned needs neighbours"):
        preset("tiny", aligned=True)
    with pytest.raises(UsageError, match="aligned needs neighbours"):  # cfgen train --aligned: one line, exit 2
        run_training(replace(tiny_request(tmp_path / "run", pairs_file), aligned=True))


def test_the_copy_head_mixes_a_pointer_over_the_neighbours_tokens_into_a_distribution():
    from cfgen.config import preset
    from cfgen.model import CodeFusionModel

    torch.manual_seed(0)
    config = preset("tiny", vocab_size=50, neighbours=2, process="masked", schedule="cosine", copy=True)
    network = CodeFusionModel(config).eval()
    neighbours = torch.tensor([[[2, 7, 8, 1], [2, 9, 1, 0]]])
    condition = network.condition(torch.randn(1, 3, 384), torch.ones(1, 3, dtype=torch.bool), neighbours, neighbours != 0)
    hidden = torch.randn(1, 5, config.latent_dim)
    log_probs = network.logits(hidden, condition)
    assert torch.allclose(log_probs.logsumexp(dim=-1), torch.zeros(1, 5), atol=1e-4)  # a distribution already
    with torch.no_grad():
        network.copy_gate.bias.fill_(30.0)  # copy only
    copied = network.logits(hidden, condition).exp()
    assert torch.allclose(copied[..., [1, 2, 7, 8, 9]].sum(-1), torch.ones(1, 5), atol=1e-4)  # only their tokens
    assert copied[..., 0].max() < 1e-3  # the padding after the second program is never copied
    assert torch.equal(network.logits(hidden), network.logits(hidden, None))  # without programs: H alone
    with pytest.raises(ValueError, match="copy needs neighbours"):
        preset("tiny", copy=True)


def test_leave_one_out_neighbours_never_return_the_row_itself(encoder):
    from cfgen.training.data import Pair
    from cfgen.retrieval.index import RetrievalIndex

    pairs = [Pair(nl, code, lang) for nl, code, lang in EIGHT_PAIRS if lang == "bash"]
    encodings = encoder.encode([p.nl for p in pairs])
    index = RetrievalIndex.build(pairs, encodings)
    found = index.neighbours(encodings, "bash", 2, exclude=[0, 1, 2, 3])
    assert [row[0][0] for row in found] != [p.code for p in pairs]
    assert all(code != pair.code for row, pair in zip(found, pairs) for code, *_ in row)
    assert [row[0][0] for row in index.neighbours(encodings, "bash", 1)] == [p.code for p in pairs]


# A second request for each program of EIGHT_PAIRS: with its own pair left out, each request's nearest
# training program is still its program, as for a new request whose program was seen in training.
PARAPHRASES = [
    ("show every file here in long format, hidden ones too", "ls -la", "bash"),
    ("how much space does my home directory take", "du -sh ~", "bash"),
    ("how many lines does file.txt have", "wc -l file.txt", "bash"),
    ("search this folder and below for .py files", "find . -name '*.py'", "bash"),
    ("the list x backwards", "x[::-1]", "python"),
    ("the total of values", "sum(values)", "python"),
    ("highlight values above 10", "GreaterThan(10)", "cf"),
    ("mark values that occur more than once", "Duplicate()", "cf"),
]


@pytest.fixture(scope="module")
def masked_model(tmp_path_factory):
    from dataclasses import replace

    from conftest import write_pairs
    from cfgen.training.train import run_training

    output = tmp_path_factory.mktemp("masked-model")
    pairs = write_pairs(tmp_path_factory.mktemp("paraphrased") / "pairs.jsonl", EIGHT_PAIRS + PARAPHRASES)
    run_training(replace(tiny_request(output, pairs), process="masked", neighbours=2, copy=True, aligned=True))
    return output


def test_a_tiny_masked_model_reading_neighbours_samples_back_its_training_programs(masked_model, encoder,
                                                                                   monkeypatch):
    import json

    from cfgen.pipeline import Pipeline
    from cfgen.processes import masked

    config = json.loads((masked_model / "config.json").read_text())
    assert (config["process"], config["schedule"], config["neighbours"], config["copy"], config["aligned"]) == (
        "masked", "cosine", 2, True, True)
    pipeline = Pipeline.from_directory(masked_model, encoder=encoder)
    for lang in language_names():
        pairs = [(nl, code) for nl, code, pair_lang in EIGHT_PAIRS if pair_lang == lang]
        results = pipeline([nl for nl, _ in pairs], lang, num_candidates=3, steps=8, seed=0, strength=1.0)
        assert [row[0].code for row in results] == [code for _, code in pairs]
        assert all(row[0].seen for row in results)  # the network wrote a training program verbatim: seen
    assert pipeline.how("bash", 8, 1.0) == "bash: generated from noise (8 steps), then retrieved"
    assert pipeline.how("bash", 8, 1.0, guidance=2) == "bash: generated from noise (8 steps, guidance 2), then retrieved"
    assert pipeline.how("bash", 8, 0.0, guidance=2) == "bash: retrieved (nearest training programs)"  # nothing guided
    assert [pipeline._aligned_rank(j) for j in range(5)] == [0, 1, 0, 1, 0]  # candidates read each program in turn
    monkeypatch.setattr(masked, "TEMPERATURE", 1e-3)  # sampled candidates repeat the greedy ones: places left empty
    bash_programs = {code for _, code, lang in EIGHT_PAIRS if lang == "bash"}
    row = pipeline(["count the lines in file.txt"], "bash", num_candidates=5, steps=8, seed=0, strength=1.0)[0]
    assert row[0].code == "wc -l file.txt" and len(row) == 5
    # the retrieved programs fill the places, after the generated ones, each filled from the request
    assert {template(code) for code in bash_programs} <= {template(c.code) for c in row}
    assert "find . -name file.txt" in {c.code for c in row}  # not `'*.py'`: nobody asked for python files
    retrieved = [c.code for c in pipeline(["count the lines in file.txt"], "bash", 5, strength=0.0)[0]]
    assert [c.code for c in row if c.source == "retrieved"] == [code for code in retrieved
                                                                if code in {c.code for c in row[1:]}]


def test_init_from_a_gaussian_model_adds_the_new_parts(tiny_model, pairs_file, tmp_path):
    from dataclasses import replace

    from safetensors.torch import load_file

    from cfgen.training.train import run_training

    output = tmp_path / "switched"
    run_training(replace(tiny_request(output, pairs_file, steps=2), init=tiny_model, process="masked", neighbours=1))
    weights = load_file(str(output / "model.safetensors"))
    assert "mask_vector" in weights and "neighbour_rank.weight" in weights
    assert weights["token_embedding.weight"].shape == load_file(str(tiny_model / "model.safetensors"))[
        "token_embedding.weight"].shape


def test_unindexed_pairs_train_but_are_never_a_neighbour_nor_in_the_index(tmp_path, pairs_file):
    from dataclasses import replace

    from cfgen.training.corpus import DataSources, gather_corpus
    from cfgen.training.prepare import prepare_run
    from cfgen.runtime import Distributed

    made_up = write_pairs(tmp_path / "made_up.jsonl", [
        ("format cells not greater than 10", "NOT(GreaterThan(10))", "cf"),
        ("highlight values that repeat", "Duplicate()", "cf")])
    sources = DataSources(pair_files=[pairs_file], unindexed_pair_files=[made_up])
    request = replace(tiny_request(tmp_path / "run", pairs_file, steps=1), sources=sources, process="masked",
                      neighbours=2)
    corpus = gather_corpus("finetune", sources)
    run = prepare_run(request, corpus, "cpu", Distributed())
    assert len(run.examples) == len(EIGHT_PAIRS) + 2  # both made-up pairs train
    assert "NOT(GreaterThan(10))" not in run.index.codes and len(run.index.codes) == len(EIGHT_PAIRS)
    read = {run.tokenizer.decode(neighbour) for example in run.examples for neighbour in example.neighbours}
    assert "Duplicate()" in read and "NOT(GreaterThan(10))" not in read  # the real Duplicate() pair is read
