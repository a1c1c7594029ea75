"""The forward-process contract (cfgen.processes.Process), checked for every registered process: the spec a new
process implements."""

import hashlib
import json
import shutil

import pytest
import torch

from cfgen.conditioning import Conditioning
from cfgen.config import preset
from cfgen.processes import PROCESSES, make_process, process_module

TAG, LENGTH = 3, 8


def _network(name: str):
    from cfgen.model import CodeFusionModel

    torch.manual_seed(0)
    module = process_module(name)
    return CodeFusionModel(preset("tiny", vocab_size=40, process=name, schedule=module.DEFAULT_SCHEDULE)).eval()


def _condition(network, queries: int, seed: int = 0) -> Conditioning:
    encoded = torch.randn(queries, 4, 384, generator=torch.Generator().manual_seed(seed))
    return network.condition(encoded, torch.ones(queries, 4, dtype=torch.bool))


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_schedule_a_process_names_builds_and_others_are_refused(name):
    module = process_module(name)
    assert module.DEFAULT_SCHEDULE in module.SCHEDULES
    for schedule in module.SCHEDULES:
        assert make_process(name, 100, schedule).num_steps == 100
    with pytest.raises(ValueError, match="schedule"):
        make_process(name, 100, "no-such-schedule")


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_training_losses_give_a_finite_loss_that_reaches_every_trained_weight(name):
    network = _network(name).train()
    process = make_process(name, 100, process_module(name).DEFAULT_SCHEDULE)
    tokens = torch.randint(4, 40, (6, LENGTH), generator=torch.Generator().manual_seed(1))
    tokens[:, 0] = TAG
    terms = process.training_losses(network, tokens, _condition(network, 6), torch.Generator().manual_seed(2))
    assert torch.isfinite(terms["loss"]) and terms["loss"].dim() == 0
    terms["loss"].backward()
    assert network.token_embedding.weight.grad is not None and network.token_embedding.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_generate_is_keyword_only_shaped_seeded_and_blind_to_the_rest_of_the_batch(name):
    network = _network(name)
    process = make_process(name, 100, process_module(name).DEFAULT_SCHEDULE)
    alone, together = _condition(network, 1), _condition(network, 3)
    together = Conditioning(torch.cat([alone.memory, together.memory[1:]]), torch.cat([alone.padding, together.padding[1:]]))
    settings = dict(tag_id=TAG, length=LENGTH, num_candidates=2, steps=5, seed=7)
    with pytest.raises(TypeError):
        process.generate(network, alone.repeat(2), TAG, LENGTH, 2, 5)  # positional settings are refused
    tokens, log_probs = process.generate(network, alone.repeat(2), **settings)
    assert tokens.shape == log_probs.shape == (2, LENGTH) and tokens.dtype == torch.long
    assert (tokens[:, 0] == TAG).all() and torch.isfinite(log_probs).all()
    again, _ = process.generate(network, alone.repeat(2), **settings)
    batched, _ = process.generate(network, together.repeat(2), **settings)
    assert torch.equal(tokens, again) and torch.equal(tokens, batched[:2])
    start = tokens.clone()
    edited, _ = process.generate(network, alone.repeat(2), start_tokens=start, strength=0.0, **settings)
    assert edited.shape == (2, LENGTH) and (edited[:, 0] == TAG).all()


@pytest.mark.parametrize("field, value", [("process", "uniform"), ("schedule", "no-such-schedule")])
def test_a_config_naming_an_unknown_process_or_schedule_is_refused_at_load_exit_6(field, value, tmp_path):
    from typer.testing import CliRunner

    from cfgen.commands.app import app
    from cfgen.model_files.hub import default_model_directory

    model = tmp_path / "model"
    shutil.copytree(default_model_directory(), model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, field: value}))
    sums = json.loads((model / "checksums.json").read_text())  # published so: the checksums agree with it
    sums["config.json"] = hashlib.sha256((model / "config.json").read_bytes()).hexdigest()
    (model / "checksums.json").write_text(json.dumps(sums))
    result = CliRunner().invoke(app, ["generate", "list files", "-m", str(model)])
    assert result.exit_code == 6 and value in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_guidance_mixes_the_conditional_prediction_with_the_unconditional_one(name):
    network = _network(name)
    process = make_process(name, 100, process_module(name).DEFAULT_SCHEDULE)
    condition, other = _condition(network, 1).repeat(2), _condition(network, 1, seed=5).repeat(2)
    settings = dict(tag_id=TAG, length=LENGTH, num_candidates=2, steps=5, seed=7)
    plain = process.generate(network, condition, **settings)
    # u + w (c - u) is c whatever w when the unconditional prediction is the conditional one, and w = 1 is c
    for unconditional, guidance in ((condition, 3.0), (other, 1.0)):
        tokens, log_probs = process.generate(network, condition, unconditional=unconditional, guidance=guidance,
                                             **settings)
        assert torch.equal(tokens, plain[0]) and torch.allclose(log_probs, plain[1], atol=1e-5)
    _, pushed = process.generate(network, condition, unconditional=other, guidance=3.0, **settings)
    assert not torch.allclose(pushed, plain[1])


def test_request_dropout_swaps_in_the_empty_request_and_draws_nothing_without_it():
    from cfgen.training.corpus import Example, collate

    examples = [Example([TAG, 5, 6], text, "bash", 0) for text in (0, 1, 0, 1)]
    encodings, empty = [torch.ones(3, 384), torch.full((2, 384), 2.0)], torch.zeros(1, 384)
    generator = torch.Generator().manual_seed(0)
    _, encoded, mask, _, _ = collate(examples, encodings, 0, LENGTH, generator, request_dropout=0.0,
                                     empty_request=empty)
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(0).get_state())  # resumes stay exact
    assert encoded[:, 0].abs().sum() > 0
    _, dropped, dropped_mask, _, _ = collate(examples, encodings, 0, LENGTH, generator, request_dropout=0.9 - 1e-9,
                                             empty_request=empty)
    rows_dropped = [bool(row.abs().sum() == 0) for row in dropped]
    assert any(rows_dropped) and all(mask.sum() == 1 for mask, was in zip(dropped_mask, rows_dropped) if was)
