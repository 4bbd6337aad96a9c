"""Losses: plain and failure-weighted MSE, cross-entropy, and AMNL (book chapters 13-16);
drop-in ``nn.Module`` forms of AMNL, GABA and GRACE for your own training loop.

AMNL in one sentence: each window's squared error is weighted by how close its
*true* RUL is to failure, from 2 at RUL 0 down to 1 at the cap, so errors near the
end of life count up to twice as much as errors on healthy windows; late and early
predictions of the same size cost the same (the weight ignores the sign of the error).

The functions are what rulkit's trainer uses. The modules :class:`AMNLLoss`,
:class:`GABALoss` and :class:`GRACELoss` wrap the same computations behind the
call signatures of the book's listings (``AMNL(rul_pred, rul_true, logits, y_hs)``,
GABA on two task losses and their gradient norms, ``GRACE(rul_pred, rul_true,
logits, y_hs, norms)``), so they can replace a loss in any PyTorch loop. GABA's
state (moving average, warm-up clock, floor) is the one of
:class:`rulkit.balancing.GABA`, kept inside the module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .balancing import (
    GABA,
    GABA_BETA,
    GABA_FLOOR,
    GABA_WARMUP_STEPS,
    global_norm,
    simplified_gaba,
    task_gradients,
)
from .data.prepare import RUL_CAP

NORMALISATIONS = ("weights", "batch")


def amnl_weights(
    y_true: torch.Tensor, rul_cap: float = RUL_CAP, w_min: float = 1.0, w_max: float = 2.0
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
    rul_cap: float = RUL_CAP,
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
    rul_cap: float = RUL_CAP,
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
    rul_cap: float = RUL_CAP,
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


# --------------------------------------------------------------------------- drop-in modules


class AMNLLoss(nn.Module):
    """AMNL as a loss module: ``AMNLLoss()(rul_pred, rul_true, logits, y_hs)``.

    ``(1 - lam_hs) * wMSE + lam_hs * CE`` with AMNL's failure-biased sample weights
    (``w_max`` at RUL 0 down to ``w_min`` at the cap); the same value as
    :func:`amnl_loss`.
    """

    def __init__(
        self,
        lam_hs: float = 0.5,
        normalise: str = "weights",
        rul_cap: float = RUL_CAP,
        w_min: float = 1.0,
        w_max: float = 2.0,
    ):
        super().__init__()
        if normalise not in NORMALISATIONS:
            raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")
        self.lam_hs, self.normalise, self.rul_cap = lam_hs, normalise, rul_cap
        self.w_min, self.w_max = w_min, w_max

    def forward(self, rul_pred, rul_true, logits, y_hs) -> torch.Tensor:
        weights = amnl_weights(rul_true, self.rul_cap, self.w_min, self.w_max)
        wmse = weighted_mse(rul_pred, rul_true, weights, self.normalise)
        return (1 - self.lam_hs) * wmse + self.lam_hs * F.cross_entropy(logits, y_hs)


class GABALoss(nn.Module):
    """GABA as a loss module on two task losses: ``loss = gaba(L_rul, L_hs)``.

    Each call measures the two gradient norms on the shared parameters given at
    construction (or takes them as ``grad_norms``), feeds them to its
    :class:`rulkit.balancing.GABA` controller (``self.balancer``: EMA, floor,
    warm-up) and returns ``lam_rul * L_rul + lam_hs * L_hs`` with the weights as
    constants. Backpropagating the result therefore moves the model only, never the
    weights (the ``.detach()`` that the book's chapter 13 warns about is built in).

    Cost: measuring the norms takes one backward pass per task (``retain_graph``),
    and ``loss.backward()`` one more, so a step costs two backward passes more than
    a fixed-weight loss. rulkit's trainer reuses the per-task gradients for the
    update and needs one extra pass only.

    ``GABALoss.simplified(...)`` is the book's worked-example form: raw weights
    summing to 2, no moving average, floor or warm-up.
    """

    def __init__(
        self,
        shared_parameters: Iterable[torch.Tensor] | None = None,
        *,
        balancer: GABA | None = None,
        beta: float = GABA_BETA,
        floor: float = GABA_FLOOR,
        warmup_steps: int = GABA_WARMUP_STEPS,
        total: float = 1.0,
        eps: float = 1e-8,
    ):
        super().__init__()
        self.shared = list(shared_parameters) if shared_parameters is not None else None
        if balancer is None:
            balancer = GABA(
                2, beta=beta, floor=floor, warmup_steps=warmup_steps, total=total, eps=eps
            )
        self.balancer = balancer
        self.last_weights: torch.Tensor | None = None
        self.last_grad_norms: torch.Tensor | None = None

    @classmethod
    def simplified(cls, shared_parameters: Iterable[torch.Tensor] | None = None, **kwargs):
        """The worked example's form (weights summing to 2, no EMA, floor or warm-up)."""
        return cls(shared_parameters, balancer=simplified_gaba(), **kwargs)

    def grad_norms(self, losses: torch.Tensor) -> torch.Tensor:
        """||dL_t / d shared|| for each task loss, detached (graph kept for backward)."""
        if self.shared is None:
            raise ValueError(
                "pass grad_norms=(g_rul, g_hs), or build the loss with the model's shared "
                "parameters: GABALoss(model.shared_parameters())"
            )
        grads = task_gradients(list(losses), self.shared)
        return torch.stack([global_norm(g) for g in grads]).detach()

    def combine(
        self, losses: torch.Tensor, grad_norms: Sequence[float] | torch.Tensor | None = None
    ) -> torch.Tensor:
        """Observe the norms (measured if not given), return the weighted sum of ``losses``."""
        if grad_norms is None:
            norms = self.grad_norms(losses)
        else:
            norms = torch.as_tensor(grad_norms, dtype=torch.float64).detach()
        self.balancer.observe(norms.to(self.balancer.ema))
        weights = self.balancer.weights().detach()
        self.last_weights, self.last_grad_norms = weights.clone(), norms.clone()
        return (weights.to(losses) * losses).sum()

    def forward(self, L_rul, L_hs, grad_norms=None) -> torch.Tensor:
        losses = torch.stack([torch.as_tensor(L_rul), torch.as_tensor(L_hs)])
        return self.combine(losses, grad_norms)


class GRACELoss(GABALoss):
    """GRACE as a loss module: ``GRACELoss(model.shared_parameters())(rul_pred, rul_true,
    logits, y_hs)``, or with given norms ``(..., norms=(g_rul, g_hs))``.

    GABA's task weights (see :class:`GABALoss`, same arguments and cost) on AMNL's
    failure-weighted MSE and the cross-entropy; AMNL's fixed ``lam_hs`` is not used.
    The norm of the RUL task is the one of the *weighted* MSE.
    """

    def __init__(
        self,
        shared_parameters: Iterable[torch.Tensor] | None = None,
        *,
        normalise: str = "weights",
        rul_cap: float = RUL_CAP,
        **gaba_kwargs,
    ):
        super().__init__(shared_parameters, **gaba_kwargs)
        if normalise not in NORMALISATIONS:
            raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {normalise!r}")
        self.normalise, self.rul_cap = normalise, rul_cap

    def forward(self, rul_pred, rul_true, logits, y_hs, norms=None) -> torch.Tensor:
        losses = task_losses(rul_pred, rul_true, logits, y_hs, True, self.normalise, self.rul_cap)
        return self.combine(losses, norms)
