"""Task balancing: how much each task pulls on the shared backbone (book section 12.1;
GABA chapters 17-19, GRACE 20-23).

A *balancer* turns the two task losses into one update. Fixed weights (the
baseline and AMNL), GABA and the three reference methods the book compares
with all share the small interface of :class:`Balancer`, so the trainer treats
them alike. GABA is the class :class:`GABA`; its whole rule is
``lam_t ~ 1 / ||dL_t/d shared||``, smoothed, floored and warmed up.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

TASKS = ("rul", "health")
# GABA's defaults (book chapters 17-19): the EMA's beta, the floor on each task weight and
# the warm-up in steps. TrainConfig and GABALoss take theirs from here.
GABA_BETA = 0.99
GABA_FLOOR = 0.05
GABA_WARMUP_STEPS = 100


def task_gradients(
    losses: Sequence[torch.Tensor], params: Sequence[torch.Tensor]
) -> list[tuple[torch.Tensor, ...]]:
    """Gradient of each loss with respect to ``params`` (unused params get zeros)."""
    grads = []
    for loss in losses:
        g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        grads.append(tuple(torch.zeros_like(p) if gi is None else gi for p, gi in zip(params, g)))
    return grads


def global_norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """L2 norm of all tensors taken together, as one flat vector."""
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(list(tensors))))


def shared_grad_norms(model: nn.Module, losses: Sequence[torch.Tensor]) -> torch.Tensor:
    """||dL_t / d(shared backbone)|| for each task loss, detached (shape (K,))."""
    shared = list(model.shared_parameters())
    return torch.stack([global_norm(g) for g in task_gradients(losses, shared)]).detach()


def inverse_norm_weights(
    grad_norms: torch.Tensor, total: float = 1.0, eps: float = 1e-8
) -> torch.Tensor:
    """lam_t proportional to 1/g_t, summing to ``total``; for K=2, lam_rul = g_hs/(g_rul+g_hs)."""
    inv = 1.0 / (grad_norms + eps)
    return total * inv / inv.sum()


def project_to_floor(weights: torch.Tensor, floor: float, total: float = 1.0) -> torch.Tensor:
    """Raise weights below ``floor * total`` to it and rescale the others so the sum stays
    ``total``; repeated K times because rescaling can push another weight under the floor.
    A weight once pinned to the floor stays pinned (rescaling it again could take it back
    under the floor), so K rounds always suffice. Branch-free, so it never waits on the GPU."""
    lo = floor * total
    w = weights
    low = torch.zeros_like(w, dtype=torch.bool)
    for _ in range(len(weights)):
        low = low | (w < lo)
        rest = torch.where(low, torch.zeros_like(w), w)
        free = total - lo * low.to(w.dtype).sum()  # keep float64 inputs in float64
        w = torch.where(low, torch.full_like(w, lo), rest * free / rest.sum().clamp_min(1e-12))
    return w


class Balancer(nn.Module):
    """Interface: ``weights()`` now, ``loss()`` to backpropagate, hooks to update.

    Methods that need per-task gradient norms on the shared backbone set
    ``needs_grad_norms``; the trainer then measures them once per step, calls
    :meth:`observe`, and reuses the same per-task gradients for the update.
    """

    needs_grad_norms = False

    def __init__(self, n_tasks: int = 2):
        super().__init__()
        self.n_tasks = n_tasks

    def weights(self) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, losses: torch.Tensor) -> torch.Tensor:
        """Scalar to backpropagate for the stacked task losses."""
        return (self.weights() * losses).sum()

    def observe(self, grad_norms: torch.Tensor, losses: torch.Tensor, steps: int = 1) -> None:
        """Update from gradient norms measured now, standing for ``steps`` training steps
        (only for ``needs_grad_norms`` methods)."""

    def end_epoch(self, epoch_losses: torch.Tensor) -> None:
        """Per-epoch update from the mean task losses of the epoch."""


class FixedWeights(Balancer):
    """Constant task weights: 0.5/0.5 for the baseline and AMNL."""

    def __init__(self, weights: Sequence[float] = (0.5, 0.5)):
        super().__init__(len(weights))
        self.register_buffer("fixed", torch.tensor(weights, dtype=torch.float32))

    def weights(self) -> torch.Tensor:
        return self.fixed


class GABA(Balancer):
    """GABA, the Gradient-Aware Balanced Approach: weights inversely proportional to each task's
    gradient norm on the shared backbone, so both tasks pull on it equally hard.

    Each step: raw = inverse_norm_weights(g); ema <- beta * ema + (1 - beta) * raw
    (ema starts at the uniform weights); the weights used are uniform during the
    first ``warmup_steps`` steps, then ``ema`` projected onto the floor.
    ``beta=0, floor=0, warmup_steps=0, total=2`` is the book's simplified form.
    """

    needs_grad_norms = True

    def __init__(
        self,
        n_tasks: int = 2,
        beta: float = GABA_BETA,
        floor: float = GABA_FLOOR,
        warmup_steps: int = GABA_WARMUP_STEPS,
        total: float = 1.0,
        eps: float = 1e-8,
    ):
        super().__init__(n_tasks)
        if not 0 <= beta < 1 or not 0 <= floor * n_tasks <= 1:
            raise ValueError(f"need 0 <= beta < 1 and 0 <= floor <= 1/K, got {beta}, {floor}")
        self.beta, self.floor, self.warmup_steps, self.total, self.eps = (
            beta,
            floor,
            warmup_steps,
            total,
            eps,
        )
        self.register_buffer("ema", torch.full((n_tasks,), total / n_tasks))
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def observe(
        self, grad_norms: torch.Tensor, losses: torch.Tensor | None = None, steps: int = 1
    ) -> None:
        # A measurement that stands for `steps` steps counts as that many identical
        # ones: beta**steps in the EMA, and the warm-up clock advances by `steps`.
        raw = inverse_norm_weights(grad_norms.detach().to(self.ema), self.total, self.eps)
        decay = self.beta**steps
        self.ema.mul_(decay).add_((1 - decay) * raw)
        self.step += steps

    def weights(self) -> torch.Tensor:
        uniform = torch.full_like(self.ema, self.total / self.n_tasks)
        floored = project_to_floor(self.ema, self.floor, self.total) if self.floor else self.ema
        return torch.where(self.step <= self.warmup_steps, uniform, floored)


def simplified_gaba() -> GABA:
    """The form of the book's worked example: raw inverse-norm weights summing to 2."""
    return GABA(beta=0.0, floor=0.0, warmup_steps=0, total=2.0)


class UncertaintyWeighting(Balancer):
    """Kendall, Gal & Cipolla (2018): learnable log-variances s_t = log sigma_t^2,
    loss sum_t c_t * exp(-s_t) * L_t + s_t / 2, trained with the model.

    Their derivation gives c = 1/2 for a Gaussian (regression) likelihood and c = 1
    for a softmax (classification) one, so ``factors=(0.5, 1.0)`` for (RUL, health).
    :meth:`weights` returns the multipliers c_t * exp(-s_t) actually applied.
    """

    def __init__(self, n_tasks: int = 2, factors: Sequence[float] = (0.5, 1.0)):
        super().__init__(n_tasks)
        self.log_vars = nn.Parameter(torch.zeros(n_tasks))
        self.register_buffer("factors", torch.tensor(factors, dtype=torch.float32))

    def weights(self) -> torch.Tensor:
        return self.factors * torch.exp(-self.log_vars.detach())

    def loss(self, losses: torch.Tensor) -> torch.Tensor:
        return (self.factors * torch.exp(-self.log_vars) * losses + 0.5 * self.log_vars).sum()


class GradNorm(Balancer):
    """Chen et al. (2018): learn weights so that each task's weighted gradient norm
    tracks the mean norm times (relative inverse training rate) ** alpha.

    The weighted norm is w_t * g_t with g_t measured on the shared backbone, so
    d|w_t g_t - target_t| / dw_t = sign(.) * g_t needs no second backward pass.
    Weights are renormalised to sum to 1 after every update.
    """

    needs_grad_norms = True

    def __init__(self, n_tasks: int = 2, alpha: float = 1.5, lr: float = 0.025):
        super().__init__(n_tasks)
        self.alpha = alpha
        self.w = nn.Parameter(torch.full((n_tasks,), 1.0 / n_tasks), requires_grad=False)
        self.register_buffer("initial_losses", torch.zeros(n_tasks))
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))
        self._opt = torch.optim.Adam([self.w], lr=lr)

    def get_extra_state(self) -> dict:  # its optimiser travels in the checkpoint too
        return self._opt.state_dict()

    def set_extra_state(self, state: dict) -> None:
        self._opt.load_state_dict(state)

    def weights(self) -> torch.Tensor:
        return self.w.detach()

    def observe(self, grad_norms: torch.Tensor, losses: torch.Tensor, steps: int = 1) -> None:
        losses = losses.detach()
        self.initial_losses.copy_(torch.where(self.started, self.initial_losses, losses))
        self.started.fill_(True)
        ratio = losses / self.initial_losses.clamp_min(1e-12)
        inverse_rate = ratio / ratio.mean()
        weighted = self.w.detach() * grad_norms
        target = weighted.mean() * inverse_rate**self.alpha
        self.w.grad = torch.sign(weighted - target) * grad_norms
        self._opt.step()
        with torch.no_grad():
            self.w.clamp_(min=1e-4)
            self.w.div_(self.w.sum())


class DWA(Balancer):
    """Liu, Johns & Davison (2019) Dynamic Weight Average: w_t = softmax(r_t / T) with
    r_t = L_t(e-1) / L_t(e-2) from the mean losses of the last two epochs."""

    def __init__(self, n_tasks: int = 2, temperature: float = 2.0):
        super().__init__(n_tasks)
        self.temperature = temperature
        self.register_buffer("history", torch.zeros(2, n_tasks))  # [e-2, e-1]
        self.register_buffer("epochs_seen", torch.zeros((), dtype=torch.long))
        self.register_buffer("current", torch.full((n_tasks,), 1.0 / n_tasks))

    def weights(self) -> torch.Tensor:
        return self.current

    def end_epoch(self, epoch_losses: torch.Tensor) -> None:
        self.history.copy_(torch.stack([self.history[1], epoch_losses.detach().to(self.history)]))
        self.epochs_seen += 1
        if int(self.epochs_seen) >= 2:
            rate = self.history[1] / self.history[0].clamp_min(1e-12)
            self.current.copy_(torch.softmax(rate / self.temperature, dim=0))


def combine_gradients(
    per_task: Sequence[Sequence[torch.Tensor]], weights: torch.Tensor
) -> list[torch.Tensor]:
    """sum_t w_t * grad_t, parameter by parameter (foreach kernels, no host sync)."""
    out = torch._foreach_mul(list(per_task[0]), weights[0])
    for t in range(1, len(per_task)):
        torch._foreach_add_(out, torch._foreach_mul(list(per_task[t]), weights[t]))
    return out
