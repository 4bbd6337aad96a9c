"""PyTorch losses against the NumPy oracle of rulkit.reference (same random inputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rulkit import reference as ref
from rulkit.losses import amnl_loss, amnl_weights, rul_loss, task_losses, weighted_mse


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
