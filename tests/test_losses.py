"""PyTorch losses against the NumPy oracle of rulkit.reference (same random inputs), and the
drop-in loss modules against the functional forms and the controller of rulkit.balancing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _support import TINY_ARCH

from rulkit import reference as ref
from rulkit.balancing import GABA, inverse_norm_weights, shared_grad_norms
from rulkit.losses import (
    AMNLLoss,
    GABALoss,
    GRACELoss,
    amnl_loss,
    amnl_weights,
    rul_loss,
    task_losses,
    weighted_mse,
    worked_example_inputs_torch,
    worked_example_torch,
)
from rulkit.model import DualTaskModel


@pytest.fixture
def batch():
    """A batch in float64 (so the comparison is tight) with targets above the cap too."""
    rng = np.random.default_rng(42)
    y_true = rng.uniform(0, 160, 64)
    y_pred = y_true + rng.normal(0, 15, 64)
    logits = rng.normal(0, 2, (64, 3))
    labels = rng.integers(0, 3, 64)
    return y_pred, y_true, logits, labels


def t(a):
    return torch.as_tensor(a)


def test_amnl_weights_match_oracle(batch):
    _, y_true, _, _ = batch
    np.testing.assert_allclose(amnl_weights(t(y_true)).numpy(), ref.amnl_weights(y_true))


def test_amnl_weights_endpoints():
    w = amnl_weights(torch.tensor([0.0, 62.5, 125.0, 300.0]))
    torch.testing.assert_close(w, torch.tensor([2.0, 1.5, 1.0, 1.0]))


@pytest.mark.parametrize("normalise", ["weights", "batch"])
def test_weighted_mse_matches_oracle(batch, normalise):
    y_pred, y_true, _, _ = batch
    w = ref.amnl_weights(y_true)
    got = weighted_mse(t(y_pred), t(y_true), t(w), normalise)
    assert float(got) == pytest.approx(ref.weighted_mse(y_pred, y_true, w, normalise), rel=1e-12)


def test_normalisations_differ_by_mean_weight(batch):
    y_pred, y_true, _, _ = batch
    w = t(ref.amnl_weights(y_true))
    by_weights = weighted_mse(t(y_pred), t(y_true), w, "weights")
    by_batch = weighted_mse(t(y_pred), t(y_true), w, "batch")
    torch.testing.assert_close(by_batch, by_weights * w.mean())


def test_cross_entropy_matches_oracle(batch):
    _, _, logits, labels = batch
    got = F.cross_entropy(t(logits), t(labels))
    assert float(got) == pytest.approx(ref.cross_entropy(logits, labels), rel=1e-12)


@pytest.mark.parametrize("normalise", ["weights", "batch"])
@pytest.mark.parametrize("lam_hs", [0.5, 0.2])
def test_amnl_total_matches_oracle(batch, normalise, lam_hs):
    y_pred, y_true, logits, labels = batch
    got = amnl_loss(t(y_pred), t(y_true), t(logits), t(labels), lam_hs, normalise)
    expected = ref.loss_amnl(y_pred, y_true, logits, labels, lam_hs, normalise)
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_amnl_on_float32_inputs_matches_oracle(batch):
    y_pred, y_true, logits = (np.asarray(a, np.float32) for a in batch[:3])
    labels = batch[3]
    got = amnl_loss(t(y_pred), t(y_true), t(logits), t(labels))
    assert float(got) == pytest.approx(ref.loss_amnl(y_pred, y_true, logits, labels), rel=1e-5)


@pytest.mark.parametrize("e", [-5.0, 3.0, 0.25])
def test_constant_error_gives_its_square(e):
    y_true = torch.linspace(0, 140, 33, dtype=torch.float64)
    loss = weighted_mse(y_true + e, y_true, amnl_weights(y_true), "weights")
    assert float(loss) == pytest.approx(e**2, rel=1e-14)


def test_bad_normalisation_raises():
    y = torch.ones(4)
    with pytest.raises(ValueError, match="normalise"):
        weighted_mse(y, y, torch.ones(4), "sum")
    with pytest.raises(ValueError, match="normalise"):
        ref.weighted_mse(y.numpy(), y.numpy(), np.ones(4), "sum")


def test_plain_mse_without_weights(batch):
    y_pred, y_true, _, _ = batch
    assert float(rul_loss(t(y_pred), t(y_true))) == pytest.approx(np.mean((y_pred - y_true) ** 2))


def test_task_losses_stacks_rul_and_health(batch):
    y_pred, y_true, logits, labels = batch
    losses = task_losses(t(y_pred), t(y_true), t(logits), t(labels), amnl=True)
    w = ref.amnl_weights(y_true)
    assert losses.shape == (2,)
    assert float(losses[0]) == pytest.approx(ref.weighted_mse(y_pred, y_true, w), rel=1e-12)
    assert float(losses[1]) == pytest.approx(ref.cross_entropy(logits, labels), rel=1e-12)


# --------------------------------------------------------------------------- drop-in modules


@pytest.fixture
def tiny_batch():
    """A tiny DualTaskModel (training mode off) and one batch of random windows."""
    torch.manual_seed(0)
    model = DualTaskModel(n_features=5, **TINY_ARCH).eval()
    x = torch.randn(16, 30, 5)
    y_rul = torch.rand(16) * 140
    y_hs = torch.randint(0, 3, (16,))
    return model, x, y_rul, y_hs


@pytest.mark.parametrize("normalise", ["weights", "batch"])
@pytest.mark.parametrize("lam_hs", [0.5, 0.2])
def test_amnl_module_matches_functional_form_and_oracle(batch, normalise, lam_hs):
    y_pred, y_true, logits, labels = batch
    module = AMNLLoss(lam_hs=lam_hs, normalise=normalise)
    got = module(t(y_pred), t(y_true), t(logits), t(labels))
    functional = amnl_loss(t(y_pred), t(y_true), t(logits), t(labels), lam_hs, normalise)
    assert float(got) == pytest.approx(float(functional), rel=1e-12)
    oracle = ref.loss_amnl(y_pred, y_true, logits, labels, lam_hs, normalise)
    assert float(got) == pytest.approx(oracle, rel=1e-12)


def test_modules_reproduce_the_worked_example():
    """Book section 13.4 with the seed's call signatures, NumPy and PyTorch inputs."""
    p, y, z, h = (torch.as_tensor(a) for a in ref.worked_example_inputs())
    numpy_run = ref.worked_example()
    assert float(AMNLLoss()(p, y, z, h)) == pytest.approx(numpy_run["amnl"], rel=1e-6)
    gaba = GABALoss.simplified()(25.0, 1.10, grad_norms=ref.WORKED_EXAMPLE_NORMS)
    assert float(gaba) == pytest.approx(numpy_run["gaba"], rel=1e-6)
    grace = GRACELoss.simplified()(p, y, z, h, norms=ref.WORKED_EXAMPLE_NORMS)
    assert float(grace) == pytest.approx(numpy_run["grace"], rel=1e-6)
    torch_run = worked_example_torch()
    p, y, z, h = worked_example_inputs_torch()
    grace_pt = GRACELoss.simplified()(p, y, z, h, norms=ref.WORKED_EXAMPLE_NORMS)
    assert float(grace_pt) == pytest.approx(torch_run["grace"], rel=1e-6)


@pytest.mark.parametrize("normalise", ["weights", "batch"])
def test_grace_module_matches_oracle_with_given_norms(batch, normalise):
    y_pred, y_true, logits, labels = batch
    norms = (3.0, 0.25)
    module = GRACELoss.simplified(normalise=normalise)
    got = module(t(y_pred), t(y_true), t(logits), t(labels), norms=norms)
    oracle = ref.loss_grace(y_pred, y_true, logits, labels, norms, normalise=normalise)
    assert float(got) == pytest.approx(oracle, rel=1e-6)


def test_gaba_module_keeps_the_controller_state_of_balancing_gaba():
    """Full form: same EMA, warm-up and floor as rulkit.balancing.GABA fed the same norms."""
    rng = np.random.default_rng(3)
    norms = rng.lognormal(0.0, 1.0, size=(150, 2)) * [20.0, 0.2]
    module, controller = GABALoss(), GABA()
    assert isinstance(module.balancer, GABA)
    for k, g in enumerate(norms):
        module(torch.tensor(2.0), torch.tensor(1.0), grad_norms=g)
        controller.observe(torch.tensor(g, dtype=torch.float32))
        torch.testing.assert_close(module.last_weights, controller.weights())
        if k < 100:
            torch.testing.assert_close(module.last_weights, torch.tensor([0.5, 0.5]))
    assert float(module.last_weights.min()) >= 0.05 - 1e-7
    state = module.state_dict()
    assert {"balancer.ema", "balancer.step"} <= set(state) and int(state["balancer.step"]) == 150


def test_gaba_module_measures_the_shared_norms_and_gives_the_weighted_gradient(tiny_batch):
    model, x, y_rul, y_hs = tiny_batch
    rul, logits = model(x)
    losses = task_losses(rul, y_rul, logits, y_hs)
    expected_norms = shared_grad_norms(model, losses)
    module = GABALoss.simplified(model.shared_parameters())
    loss = module(losses[0], losses[1])
    torch.testing.assert_close(module.last_grad_norms, expected_norms)
    lam = inverse_norm_weights(expected_norms, total=2.0)
    torch.testing.assert_close(module.last_weights, lam)
    params = list(model.parameters())
    got = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    want = torch.autograd.grad((lam.detach() * losses).sum(), params, allow_unused=True)
    for a, b in zip(got, want):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b)


def test_gaba_module_in_a_training_loop_never_backpropagates_into_its_weights(tiny_batch):
    """Several steps with backward(): no graph survives in the controller (no second
    backward through freed buffers), and the weights never require gradient."""
    model, x, y_rul, y_hs = tiny_batch
    model.train()
    criterion = GRACELoss(model.shared_parameters(), warmup_steps=1, beta=0.5)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(3):
        rul, logits = model(x)
        loss = criterion(rul, y_rul, logits, y_hs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert not criterion.last_weights.requires_grad
        assert not criterion.balancer.ema.requires_grad
    assert int(criterion.balancer.step) == 3
    assert criterion.last_weights[0] < 0.5  # the larger RUL gradient got the smaller weight


def test_gaba_module_without_parameters_or_norms_says_what_to_pass():
    with pytest.raises(ValueError, match="shared_parameters"):
        GABALoss()(torch.tensor(1.0, requires_grad=True), torch.tensor(1.0, requires_grad=True))


def test_bad_normalisation_in_modules_raises():
    with pytest.raises(ValueError, match="normalise"):
        AMNLLoss(normalise="sum")
    with pytest.raises(ValueError, match="normalise"):
        GRACELoss(normalise="sum")
