"""The schedule, the loss terms and the step-skipping sampler, against fake networks."""

import math

import pytest
import torch

from cfgen.conditioning import Conditioning
from cfgen.pipeline import sample
from cfgen.processes.gaussian import initial_noise
from cfgen.processes import make_process
from cfgen.processes.gaussian import Process as GaussianDiffusion
from cfgen.processes.gaussian import SkipStepScheduler, sqrt_alpha_bar

V, C = 6, 6


class OracleNetwork:
    """Knows the answer: denoise() returns the embedding of `target` whatever it is given."""

    def __init__(self, target: torch.Tensor, wrong: bool = False):
        self.table = torch.eye(V, C) * 2.0 + 0.1
        self.target = target  # (T,)
        self.wrong = wrong
        self.seen_t = []

    def embed(self, tokens):
        return self.table[tokens]

    def denoise(self, x_t, t, self_condition, condition):
        self.seen_t.append(t.clone())
        x = self.embed(self.target).expand(x_t.shape[0], -1, -1).clone()
        return x + 1.0 if self.wrong else x

    def decode(self, x_start, condition):
        return x_start

    def logits(self, hidden, condition=None):
        return hidden @ self.table.T * 10


def test_sqrt_schedule_matches_diffusion_lm():
    diffusion = GaussianDiffusion(1200, "sqrt")
    alpha_bar = diffusion.alphas_cumprod
    assert alpha_bar.shape == (1200,)
    assert torch.all(alpha_bar[1:] < alpha_bar[:-1])  # strictly more noise at every step
    assert alpha_bar[0] > 0.95 and alpha_bar[-1] < 1e-3
    # the discretised product tracks the continuous 1 - sqrt(t + s)
    for t in (100, 600, 1100):
        assert alpha_bar[t - 1].item() == pytest.approx(sqrt_alpha_bar(t / 1200), rel=0.02)
    # the sqrt schedule adds noise fast at first: halfway there after ~1/4 of the steps
    assert math.isclose(sqrt_alpha_bar(0.25), 0.5, abs_tol=0.01)


def test_processes_are_chosen_by_name_and_unknown_ones_list_the_choices():
    assert isinstance(make_process("gaussian", 1200, "sqrt"), GaussianDiffusion)
    with pytest.raises(ValueError, match="choose one of gaussian"):
        make_process("absorbing-typo", 1200, "sqrt")


def test_unknown_schedule_lists_the_choices():
    with pytest.raises(ValueError, match="sqrt"):
        GaussianDiffusion(10, "linear-ish")


def test_q_sample_moments_and_noise_inversion():
    diffusion = GaussianDiffusion(1200)
    x_start = torch.ones(4000, 1, 8)
    noise = torch.randn(4000, 1, 8, generator=torch.Generator().manual_seed(0))
    t = torch.full((4000,), 300)
    x_t = diffusion.q_sample(x_start, t, noise)
    alpha_bar = diffusion.alphas_cumprod[300].item()
    assert x_t.mean().item() == pytest.approx(math.sqrt(alpha_bar), abs=0.02)
    assert x_t.var().item() == pytest.approx(1 - alpha_bar, rel=0.05)
    assert torch.allclose(diffusion.predict_noise(x_t, t, x_start), noise, atol=1e-4)


def test_loss_terms_vanish_for_a_perfect_denoiser_and_not_for_a_wrong_one():
    tokens = torch.tensor([[0, 3, 1, 2]])
    condition = Conditioning(torch.zeros(1, 2, 8), torch.zeros(1, 2, dtype=torch.bool))
    diffusion = GaussianDiffusion(1200)
    perfect = diffusion.training_losses(OracleNetwork(tokens[0]), tokens, condition, torch.Generator().manual_seed(0))
    assert perfect["x_start_mse"].item() == pytest.approx(0.0, abs=1e-6)
    assert perfect["decoder_mse"].item() == pytest.approx(0.0, abs=1e-6)
    assert perfect["cross_entropy"].item() < 1e-3
    wrong = diffusion.training_losses(OracleNetwork(tokens[0], wrong=True), tokens, condition, torch.Generator().manual_seed(0))
    assert wrong["x_start_mse"].item() == pytest.approx(1.0, abs=1e-5)  # off by exactly 1 everywhere
    assert wrong["loss"].item() == pytest.approx(sum(wrong[k].item() for k in ("x_start_mse", "decoder_mse", "cross_entropy")))


def test_training_timesteps_cover_the_range():
    net = OracleNetwork(torch.tensor([0, 1, 2]))
    diffusion = GaussianDiffusion(1200)
    tokens = torch.tensor([[0, 1, 2]] * 256)
    condition = Conditioning(torch.zeros(256, 1, 8), torch.zeros(256, 1, dtype=torch.bool))
    diffusion.training_losses(net, tokens, condition, torch.Generator().manual_seed(1), self_condition_rate=0)
    t = net.seen_t[-1]
    assert t.min() < 100 and t.max() > 1100


@pytest.mark.parametrize("steps", [1, 2, 5, 20, 1200])
def test_scheduler_spacing(steps):
    scheduler = SkipStepScheduler(GaussianDiffusion(1200))
    scheduler.set_timesteps(steps)
    assert len(scheduler.timesteps) == steps
    assert scheduler.timesteps[0] == 1199
    assert scheduler.timesteps == sorted(scheduler.timesteps, reverse=True)
    if steps > 1:
        assert scheduler.timesteps[-1] == 0


@pytest.mark.parametrize("steps", [0, 1201])
def test_scheduler_rejects_impossible_step_counts(steps):
    with pytest.raises(ValueError, match="between 1 and 1200"):
        SkipStepScheduler(GaussianDiffusion(1200)).set_timesteps(steps)


def test_step_with_a_perfect_estimate_lands_on_the_forward_marginal():
    diffusion = GaussianDiffusion(1200)
    scheduler = SkipStepScheduler(diffusion)
    x_start = torch.randn(2, 3, C)
    noise = torch.randn(2, 3, C)
    x_t = diffusion.q_sample(x_start, torch.tensor([900, 900]), noise)
    scheduler.timesteps = [900, 400, 0]
    stepped = scheduler.step(x_start, 900, x_t)
    # DDIM with eta=0 keeps the same noise: x_400 = q_sample(x_0, 400, noise)
    assert torch.allclose(stepped.prev_sample, diffusion.q_sample(x_start, torch.tensor([400, 400]), noise), atol=1e-5)
    assert torch.equal(stepped.pred_original_sample, x_start)
    assert torch.equal(scheduler.step(x_start, 0, x_t).prev_sample, x_start)  # the last step returns the estimate


@pytest.mark.parametrize("steps", [1, 3, 50])
def test_sampler_returns_the_oracle_program_at_any_step_count(steps):
    target = torch.tensor([2, 4, 3, 1, 0, 0])  # tag 2, tokens 4 3, end 1, pad 0
    net = OracleNetwork(target)
    condition = Conditioning(torch.zeros(3, 2, 8), torch.zeros(3, 2, dtype=torch.bool))
    result = sample(net, GaussianDiffusion(1200), condition, tag_id=2, end_id=1, length=6,
                    num_candidates=4, steps=steps, seed=7)
    assert len(result) == 3 and all(len(candidates) == 4 for candidates in result)
    for candidates in result:
        for candidate in candidates:
            assert candidate.tokens == target.tolist()
            assert candidate.score > -1e-3  # confident: log-probability near 0
    assert len(net.seen_t) == steps


def test_sampler_noise_is_seeded_and_independent_of_the_batch():
    one = initial_noise(1, 3, 5, C, seed=11)
    many = initial_noise(4, 3, 5, C, seed=11)
    assert torch.equal(many[6:9], one)  # query 2 of 4 draws what a lone query draws
    assert not torch.equal(initial_noise(1, 3, 5, C, seed=12), one)
    assert not torch.equal(one[0], one[1])  # candidates differ


def test_scheduler_can_start_part_way():
    scheduler = SkipStepScheduler(GaussianDiffusion(1200))
    scheduler.set_timesteps(10, start=300)
    assert scheduler.timesteps[0] == 300 and scheduler.timesteps[-1] == 0 and len(scheduler.timesteps) == 10
    scheduler.set_timesteps(50, start=3)
    assert scheduler.timesteps == [3, 2, 1, 0]


class EchoNetwork(OracleNetwork):
    """Denoises by rescaling x_t: keeps whatever program it starts near."""

    def __init__(self, diffusion):
        super().__init__(torch.tensor([0]))
        self.diffusion = diffusion

    def denoise(self, x_t, t, self_condition, condition):
        return x_t / self.diffusion.alphas_cumprod[t].sqrt().float()[:, None, None]


def test_sampler_started_from_a_program_with_low_strength_returns_it():
    diffusion = GaussianDiffusion(1200)
    start = torch.tensor([[2, 5, 3, 1, 0, 0]] * 4)
    condition = Conditioning(torch.zeros(2, 2, 8), torch.zeros(2, 2, dtype=torch.bool))
    near = sample(EchoNetwork(diffusion), diffusion, condition, tag_id=2, end_id=1, length=6,
                  num_candidates=2, steps=5, seed=0, start_tokens=start, strength=0.002)
    assert all(c.tokens == start[0].tolist() for cs in near for c in cs)
    far = sample(EchoNetwork(diffusion), diffusion, condition, tag_id=2, end_id=1, length=6,
                 num_candidates=2, steps=5, seed=0, start_tokens=start, strength=1.0)
    assert any(c.tokens != start[0].tolist() for cs in far for c in cs)  # at full strength the start is forgotten
