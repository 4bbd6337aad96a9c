"""NumPy reference of AMNL, GABA and GRACE, and the worked example of book section 13.4.

This is the independent oracle: plain NumPy, no autograd, no shared code with
:mod:`rulkit.losses`. Tests check the PyTorch losses against it, and chapter 13's
notebook runs the book's worked example through both.
"""

from __future__ import annotations

import numpy as np

RUL_CAP = 125.0
WORKED_EXAMPLE_NORMS = (4.81, 0.0096)  # g_rul, g_hs from the book's example
WORKED_EXAMPLE_SCALAR_LOSSES = (25.0, 1.10)  # L_rul, L_hs given to GABA in the book
BOOK_PRINTS = {"amnl": 13.0524, "gaba": 2.2954, "grace": 2.2954}  # as printed in the book


def amnl_weights(y_true, rul_cap: float = RUL_CAP, w_min: float = 1.0, w_max: float = 2.0):
    y = np.minimum(np.asarray(y_true, np.float64), rul_cap)
    return w_max - (w_max - w_min) * y / rul_cap


def weighted_mse(pred, true, weights, normalise: str = "weights") -> float:
    sq = (np.asarray(pred, np.float64) - np.asarray(true, np.float64)) ** 2
    if normalise == "weights":
        return float(np.sum(weights * sq) / np.sum(weights))
    if normalise == "batch":
        return float(np.mean(weights * sq))
    raise ValueError(f"normalise must be 'weights' or 'batch', got {normalise!r}")


def cross_entropy(logits, labels) -> float:
    """Mean negative log-softmax of the true class (max-shifted for stability)."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(z)), np.asarray(labels)].mean())


def loss_amnl(
    rul_pred, rul_true, logits, y_hs, lam_hs: float = 0.5, normalise: str = "weights"
) -> float:
    """(1 - lam_hs) * failure-weighted MSE + lam_hs * cross-entropy."""
    wmse = weighted_mse(rul_pred, rul_true, amnl_weights(rul_true), normalise)
    return (1 - lam_hs) * wmse + lam_hs * cross_entropy(logits, y_hs)


def gaba_weights(g_rul: float, g_hs: float, eps: float = 1e-8, total: float = 2.0):
    """Simplified GABA: lam_t proportional to 1/g_t, summing to ``total`` (2 in the book)."""
    inv = np.array([1.0 / (g_rul + eps), 1.0 / (g_hs + eps)])
    return total * inv / inv.sum()


def loss_gaba(L_rul: float, L_hs: float, g_rul: float, g_hs: float, eps: float = 1e-8) -> float:
    """Simplified GABA on two scalar losses: lam_rul * L_rul + lam_hs * L_hs."""
    lam = gaba_weights(g_rul, g_hs, eps)
    return float(lam[0] * L_rul + lam[1] * L_hs)


def loss_grace(
    rul_pred, rul_true, logits, y_hs, norms, eps: float = 1e-8, normalise: str = "weights"
) -> float:
    """GRACE: GABA's task weights on AMNL's weighted MSE and the cross-entropy."""
    wmse = weighted_mse(rul_pred, rul_true, amnl_weights(rul_true), normalise)
    return loss_gaba(wmse, cross_entropy(logits, y_hs), *norms, eps=eps)


def worked_example_inputs(batch: int = 32):
    """The inputs of book section 13.4, drawn exactly as the book draws them."""
    np.random.seed(0)
    rul_true = np.random.randint(0, 126, batch).astype(np.float32)
    rul_pred = rul_true - 5
    logits = np.random.randn(batch, 3).astype(np.float32)
    y_hs = np.random.randint(0, 3, batch)
    return rul_pred, rul_true, logits, y_hs


def worked_example(normalise: str = "weights") -> dict[str, float]:
    """Run the worked example; returns the three losses and the intermediates behind them."""
    rul_pred, rul_true, logits, y_hs = worked_example_inputs()
    norms = WORKED_EXAMPLE_NORMS
    lam = gaba_weights(*norms)
    return {
        "amnl": loss_amnl(rul_pred, rul_true, logits, y_hs, normalise=normalise),
        "gaba": loss_gaba(*WORKED_EXAMPLE_SCALAR_LOSSES, *norms),
        "grace": loss_grace(rul_pred, rul_true, logits, y_hs, norms, normalise=normalise),
        "wmse": weighted_mse(rul_pred, rul_true, amnl_weights(rul_true), normalise),
        "cross_entropy": cross_entropy(logits, y_hs),
        "lam_rul": float(lam[0]),
        "lam_hs": float(lam[1]),
    }
