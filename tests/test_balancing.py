"""GABA and the reference task-balancing methods (book chapters 12, 17-21)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rulkit import reference as ref
from rulkit.balancing import (
    DWA,
    GABA,
    FixedWeights,
    GradNorm,
    UncertaintyWeighting,
    combine_gradients,
    global_norm,
    inverse_norm_weights,
    project_to_floor,
    shared_grad_norms,
    simplified_gaba,
    task_gradients,
)
from rulkit.losses import task_losses
from rulkit.model import DualTaskModel


def norms(*values):
    return torch.tensor(values, dtype=torch.float32)


# --------------------------------------------------------------------------- GABA


def test_gaba_is_uniform_during_warmup_then_follows_the_ema():
    gaba = GABA(warmup_steps=100)
    torch.testing.assert_close(gaba.weights(), norms(0.5, 0.5))  # before the first step
    rng = np.random.default_rng(0)
    ema = np.array([0.5, 0.5])
    for step in range(1, 121):
        g = rng.uniform([2.0, 0.2], [4.0, 0.5])  # the RUL gradient is the larger one
        gaba.observe(torch.tensor(g))
        ema = 0.99 * ema + 0.01 * np.array([g[1], g[0]]) / g.sum()  # lam_t ~ 1/g_t, by hand
        if step <= 100:
            assert gaba.weights().tolist() == [0.5, 0.5], f"step {step}"
        else:
            np.testing.assert_allclose(gaba.weights().numpy(), ema, rtol=1e-5)
    assert int(gaba.step) == 120
    assert 0.1 < ema[0] < 0.3  # the EMA has moved well away from 0.5 but not to the floor


def test_gaba_ema_update_matches_hand_recursion():
    gaba = GABA(beta=0.9, floor=0.0, warmup_steps=0, total=1.0)
    ema = np.array([0.5, 0.5])
    for g in ([1.0, 3.0], [2.0, 0.5], [0.1, 0.4]):
        gaba.observe(torch.tensor(g))
        inv = 1 / np.array(g)
        ema = 0.9 * ema + 0.1 * inv / inv.sum()
        np.testing.assert_allclose(gaba.ema.numpy(), ema, rtol=1e-6)
        np.testing.assert_allclose(gaba.weights().numpy(), ema, rtol=1e-6)


def test_gaba_closed_form_for_two_tasks():
    gaba = GABA(beta=0.0, floor=0.0, warmup_steps=0)
    g_rul, g_hs = 4.81, 0.0096
    gaba.observe(norms(g_rul, g_hs))
    lam = gaba.weights()
    assert float(lam[0]) == pytest.approx(g_hs / (g_rul + g_hs), rel=1e-5)
    assert float(lam.sum()) == pytest.approx(1.0, abs=1e-6)


def test_gaba_equalises_the_pull_of_both_tasks():
    gaba = GABA(beta=0.0, floor=0.0, warmup_steps=0)
    g = norms(7.3, 0.21)
    gaba.observe(g)
    pull = gaba.weights() * g
    assert float(pull[0]) == pytest.approx(float(pull[1]), rel=1e-5)


def test_gaba_floor_holds_for_extreme_norms():
    gaba = GABA(beta=0.0, floor=0.05, warmup_steps=0)
    gaba.observe(norms(1000.0, 0.001))
    torch.testing.assert_close(gaba.weights(), norms(0.05, 0.95))


def test_gaba_floor_with_three_tasks():
    gaba = GABA(n_tasks=3, beta=0.0, floor=0.1, warmup_steps=0)
    gaba.observe(norms(1 / 0.101, 1 / 0.898, 1 / 0.001))  # raw weights 0.101, 0.898, 0.001
    w = gaba.weights()
    assert (w >= 0.1 - 1e-7).all() and float(w.sum()) == pytest.approx(1.0, abs=1e-6)


def test_gaba_rejects_bad_settings():
    with pytest.raises(ValueError):
        GABA(beta=1.0)
    with pytest.raises(ValueError):
        GABA(n_tasks=3, floor=0.4)


def test_simplified_gaba_sums_to_two_and_matches_oracle():
    gaba = simplified_gaba()
    gaba.observe(torch.tensor(ref.WORKED_EXAMPLE_NORMS, dtype=torch.float64))
    lam = gaba.weights()
    assert float(lam.sum()) == pytest.approx(2.0, rel=1e-6)
    np.testing.assert_allclose(lam.numpy(), ref.gaba_weights(*ref.WORKED_EXAMPLE_NORMS), rtol=1e-6)


def test_gaba_state_dict_round_trip():
    a = GABA()
    for g in torch.rand(150, 2) + 0.1:
        a.observe(g)
    b = GABA()
    b.load_state_dict(a.state_dict())
    assert int(b.step) == 150
    torch.testing.assert_close(b.ema, a.ema)
    torch.testing.assert_close(b.weights(), a.weights())


def test_inverse_norm_weights_sum_to_total():
    lam = inverse_norm_weights(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64), total=3.0)
    torch.testing.assert_close(lam, torch.tensor([12 / 7, 6 / 7, 3 / 7], dtype=torch.float64))


# --------------------------------------------------------------------------- floor projection


def naive_floor(w, floor):
    """Clamp then renormalise once: the shortcut that can dip back under the floor."""
    w = np.maximum(w, floor)
    return w / w.sum()


@pytest.mark.parametrize(
    "weights, floor, expected",
    [
        ([0.001, 0.999], 0.05, [0.05, 0.95]),
        ([0.101, 0.898, 0.001], 0.1, [0.1, 0.8, 0.1]),
        ([0.001, 0.052, 0.947], 0.05, [0.05, 0.05, 0.9]),
    ],
)
def test_floor_projection_on_adversarial_inputs(weights, floor, expected):
    if len(weights) == 3:  # these are the cases where the naive shortcut fails
        assert naive_floor(np.array(weights), floor).min() < floor
    out = project_to_floor(torch.tensor(weights, dtype=torch.float64), floor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_floor_projection_never_goes_below_the_floor():
    gen = torch.Generator().manual_seed(0)
    for k in (2, 3, 4, 5):
        for floor in (0.05, 0.1, 1 / k):
            for total in (1.0, 2.0):
                w = torch.rand(150, k, generator=gen, dtype=torch.float64) ** 6
                w = total * w / w.sum(dim=1, keepdim=True)
                for row in w:
                    out = project_to_floor(row, floor, total)
                    assert float(out.min()) >= floor * total - 1e-12, (row, floor)
                    assert float(out.sum()) == pytest.approx(total, abs=1e-12)


def test_floor_projection_leaves_feasible_weights_alone():
    w = torch.tensor([0.3, 0.7], dtype=torch.float64)
    torch.testing.assert_close(project_to_floor(w, 0.05), w)


# --------------------------------------------------------------------------- gradient norms


def test_shared_grad_norms_match_separate_backward_passes():
    torch.manual_seed(0)
    model = DualTaskModel(
        n_features=5,
        conv_channels=(4, 4, 4),
        lstm_hidden=4,
        attention_heads=2,
        funnel=(8, 4),
        rul_head=(4,),
        health_head=(4,),
    )
    x, y = torch.randn(6, 30, 5), torch.rand(6) * 125
    rul, logits = model(x)
    losses = task_losses(rul, y, logits, torch.randint(0, 3, (6,)), amnl=True)
    got = shared_grad_norms(model, list(losses))
    expected = []
    for loss in losses:
        model.zero_grad(set_to_none=True)
        loss.backward(retain_graph=True)
        squares = [p.grad.pow(2).sum() for p in model.shared_parameters() if p.grad is not None]
        expected.append(math.sqrt(sum(float(s) for s in squares)))
    assert not got.requires_grad
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    assert got[0] != got[1]


def test_task_gradients_fill_unused_parameters_with_zeros():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0], requires_grad=True)
    (ga, gb), (ha, hb) = task_gradients([(a**2).sum(), (b * 4).sum()], [a, b])
    torch.testing.assert_close(ga, torch.tensor([2.0, 4.0]))
    torch.testing.assert_close(gb, torch.zeros(1))
    torch.testing.assert_close(ha, torch.zeros(2))
    torch.testing.assert_close(hb, torch.tensor([4.0]))
    assert float(global_norm([ga, hb])) == pytest.approx(6.0)  # sqrt(4 + 16 + 16)


def test_combine_gradients_is_the_weighted_sum():
    g1 = [torch.tensor([1.0, 2.0]), torch.tensor([[3.0]])]
    g2 = [torch.tensor([-1.0, 4.0]), torch.tensor([[0.5]])]
    out = combine_gradients([g1, g2], torch.tensor([0.25, 0.75]))
    torch.testing.assert_close(out[0], torch.tensor([-0.5, 3.5]))
    torch.testing.assert_close(out[1], torch.tensor([[1.125]]))


# --------------------------------------------------------------------------- reference methods


def test_fixed_weights():
    fixed = FixedWeights()
    torch.testing.assert_close(fixed.loss(norms(4.0, 2.0)), torch.tensor(3.0))


def test_uncertainty_weighting_follows_kendall_et_al():
    """L = L_rul / (2 sigma_1^2) + L_hs / sigma_2^2 + log sigma_1 + log sigma_2, s = log sigma^2."""
    uw = UncertaintyWeighting()
    losses = norms(3.0, 0.8)
    torch.testing.assert_close(uw.weights(), norms(0.5, 1.0))  # the multipliers applied
    torch.testing.assert_close(uw.loss(losses), 0.5 * 3.0 + 0.8 * torch.ones(()))
    sigma2 = (math.exp(1.0), math.exp(-0.5))
    with torch.no_grad():
        uw.log_vars.copy_(norms(math.log(sigma2[0]), math.log(sigma2[1])))
    w = uw.weights()
    assert float(w[0]) == pytest.approx(1 / (2 * sigma2[0]), rel=1e-6)
    assert float(w[1]) == pytest.approx(1 / sigma2[1], rel=1e-6)
    log_sigma = [0.5 * math.log(v) for v in sigma2]
    expected = 3.0 / (2 * sigma2[0]) + 0.8 / sigma2[1] + sum(log_sigma)
    loss = uw.loss(losses)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-6)
    loss.backward()
    # d/ds_1 of exp(-s_1) L_1 / 2 + s_1 / 2 = -w_1 L_1 + 1/2
    assert float(uw.log_vars.grad[0]) == pytest.approx(-float(w[0]) * 3.0 + 0.5, rel=1e-5)


def test_dwa_is_uniform_for_two_epochs_then_softmax_of_rates():
    dwa = DWA(temperature=2.0)
    history = [norms(10.0, 1.0), norms(8.0, 0.9), norms(4.0, 0.85)]
    torch.testing.assert_close(dwa.weights(), norms(0.5, 0.5))  # epoch 1
    dwa.end_epoch(history[0])
    torch.testing.assert_close(dwa.weights(), norms(0.5, 0.5))  # epoch 2
    for prev, last in zip(history[:-1], history[1:]):
        dwa.end_epoch(last)
        r = (last / prev).numpy()
        e = np.exp(r / 2.0)
        np.testing.assert_allclose(dwa.weights().numpy(), e / e.sum(), rtol=1e-6)
    assert float(dwa.weights()[1]) > 0.5  # the task whose loss fell less gets more weight


def test_gradnorm_favours_the_task_with_the_smaller_gradient():
    gn = GradNorm()
    for k in range(60):
        losses = norms(50.0, 1.2) * 0.98**k  # both losses fall at the same rate
        gn.observe(norms(10.0, 1.0), losses)
        w = gn.weights()
        assert (w > 0).all() and float(w.sum()) == pytest.approx(1.0, abs=1e-6)
    assert float(gn.weights()[1]) > 0.6


def test_gradnorm_with_equal_norms_and_rates_stays_balanced():
    gn = GradNorm()
    for k in range(20):
        gn.observe(norms(2.0, 2.0), norms(5.0, 5.0) * 0.9**k)
    torch.testing.assert_close(gn.weights(), norms(0.5, 0.5))


def test_gaba_observation_standing_for_k_steps_equals_k_identical_ones():
    one_at_a_time, batched = GABA(warmup_steps=3), GABA(warmup_steps=3)
    g = torch.tensor([4.0, 0.01])
    for _ in range(4):
        one_at_a_time.observe(g)
    batched.observe(g, steps=2)
    batched.observe(g, steps=2)
    torch.testing.assert_close(batched.ema, one_at_a_time.ema)
    assert int(batched.step) == int(one_at_a_time.step) == 4
    torch.testing.assert_close(batched.weights(), one_at_a_time.weights())
