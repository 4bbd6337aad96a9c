"""Losses: plain and failure-weighted MSE, cross-entropy, and AMNL (book chapters 13-16).

AMNL in one sentence: errors on windows close to failure count up to twice as
much as errors on healthy windows, because a late maintenance call near the end
of life is what costs an airline an engine.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

NORMALISATIONS = ("weights", "batch")


def amnl_weights(
    y_true: torch.Tensor, rul_cap: float = 125.0, w_min: float = 1.0, w_max: float = 2.0
) -> torch.Tensor:
    """Per-sample weight, w_max at RUL 0 falling linearly to w_min at the cap."""
    return w_max - (w_max - w_min) * y_true.clamp(max=rul_cap) / rul_cap


def weighted_mse(
    pred: torch.Tensor,
    target: torch.Tensor,
    weights: torch.Tensor | None = None,
    normalise: str = "weights",
) -> torch.Tensor:
    """Mean of weights * squared error.

    ``normalise='weights'`` divides by the sum of the weights (the book's
    chapter-14 formula, so a constant error e gives exactly e**2);
    ``'batch'`` divides by the batch size (the book's later code).
    """
    squared = (pred - target) ** 2
    if weights is None:
        return squared.mean()
    if normalise == "weights":
        return (weights * squared).sum() / weights.sum()
    if normalise == "batch":
        return (weights * squared).mean()
    raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")


def rul_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    amnl: bool = False,
    normalise: str = "weights",
    rul_cap: float = 125.0,
) -> torch.Tensor:
    """The RUL task loss: plain MSE, or AMNL's failure-weighted MSE."""
    weights = amnl_weights(target, rul_cap) if amnl else None
    return weighted_mse(pred, target, weights, normalise)


def task_losses(
    rul_pred: torch.Tensor,
    rul_true: torch.Tensor,
    health_logits: torch.Tensor,
    health_true: torch.Tensor,
    amnl: bool = False,
    normalise: str = "weights",
    rul_cap: float = 125.0,
) -> torch.Tensor:
    """Both task losses stacked as a tensor [L_rul, L_health]."""
    return torch.stack(
        [
            rul_loss(rul_pred, rul_true, amnl, normalise, rul_cap),
            F.cross_entropy(health_logits, health_true),
        ]
    )


def amnl_loss(
    rul_pred: torch.Tensor,
    rul_true: torch.Tensor,
    health_logits: torch.Tensor,
    health_true: torch.Tensor,
    lam_hs: float = 0.5,
    normalise: str = "weights",
    rul_cap: float = 125.0,
) -> torch.Tensor:
    """AMNL: (1 - lam_hs) * weighted MSE + lam_hs * cross-entropy."""
    losses = task_losses(rul_pred, rul_true, health_logits, health_true, True, normalise, rul_cap)
    return (1 - lam_hs) * losses[0] + lam_hs * losses[1]


def worked_example_inputs_torch(batch: int = 32):
    """The worked example's inputs drawn with PyTorch: (rul_pred, rul_true, logits, y_hs)."""
    torch.manual_seed(0)
    rul_true = torch.randint(0, 126, (batch,)).float()
    rul_pred = rul_true - 5
    logits = torch.randn(batch, 3)
    y_hs = torch.randint(0, 3, (batch,))
    return rul_pred, rul_true, logits, y_hs


def worked_example_torch(normalise: str = "weights", batch: int = 32) -> dict[str, float]:
    """Book section 13.4 in PyTorch: same recipe as :func:`rulkit.reference.worked_example`,
    inputs drawn with ``torch.manual_seed(0)`` (so they differ from NumPy's draw)."""
    from .balancing import inverse_norm_weights
    from .reference import WORKED_EXAMPLE_NORMS, WORKED_EXAMPLE_SCALAR_LOSSES

    rul_pred, rul_true, logits, y_hs = worked_example_inputs_torch(batch)
    losses = task_losses(rul_pred, rul_true, logits, y_hs, amnl=True, normalise=normalise)
    lam = inverse_norm_weights(torch.tensor(WORKED_EXAMPLE_NORMS, dtype=torch.float64), total=2.0)
    scalar = torch.tensor(WORKED_EXAMPLE_SCALAR_LOSSES, dtype=torch.float64)
    return {
        "amnl": float(amnl_loss(rul_pred, rul_true, logits, y_hs, normalise=normalise)),
        "gaba": float((lam * scalar).sum()),
        "grace": float((lam * losses.double()).sum()),
        "wmse": float(losses[0]),
        "cross_entropy": float(losses[1]),
        "lam_rul": float(lam[0]),
        "lam_hs": float(lam[1]),
    }
