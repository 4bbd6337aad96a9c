"""Training: one run of one method on one subset, from config to result file
(book chapters 15, 18 and 22).

Model selection uses the VALIDATION engines only (held out from training):
the LR plateau, early stopping and the best checkpoint all look at validation
RMSE. The test engines are scored once, at the end, with the chosen weights.
"""

from __future__ import annotations

import copy
import math
import os
import random
import time
from dataclasses import dataclass, field, fields

import numpy as np
import torch

from . import metrics
from .balancing import combine_gradients, global_norm, shared_grad_norms, task_gradients
from .data import Prepared, prepare
from .losses import task_losses
from .methods import get_method
from .model import DualTaskModel
from .provenance import provenance
from .results import RunResult, write_result

PROFILES = ("smoke", "full", "auto")


@dataclass
class TrainConfig:
    """Every knob of a run; the defaults are the book's full recipe (SPEC section 6)."""

    subset: str = "FD002"
    method: str = "grace"
    seed: int = 0
    profile: str = "full"
    # data (chapter 7)
    window: int = 30
    rul_cap: float = 125.0
    use_settings: bool = True  # False -> 14 sensors only
    val_fraction: float = 0.2
    max_train_engines: int | None = None
    data_dir: str | None = None
    # optimisation
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 256
    max_epochs: int = 500
    warmup_epochs: int = 10
    warmup_start: float = 0.1  # LR starts at 0.1 x lr
    plateau_factor: float = 0.5
    plateau_patience: int = 30
    min_lr: float = 5e-6
    early_stop_patience: int = 60
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    # losses and balancing
    lam_hs: float = 0.5
    wmse_normalise: str = "weights"  # or "batch" (the book's later code)
    gaba_beta: float = 0.99
    gaba_floor: float = 0.05
    gaba_warmup_steps: int = 100
    gradnorm_alpha: float = 1.5
    dwa_temperature: float = 2.0
    model: dict = field(default_factory=dict)  # DualTaskModel overrides (tests use a tiny one)
    # engineering (none of these change the method)
    device: str = "auto"
    amp: bool = False  # bf16 autocast, CUDA only
    tf32: bool = True  # TF32 matrix products, CUDA only (within seed noise)
    compile: bool = False
    eval_batch_size: int = 4096
    record_every: int = 10  # steps between task-weight / gradient-norm records
    grad_norm_every: int = 1  # GABA/GRACE/GradNorm: measure task gradients every k steps
    threads: int | None = None

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


# Smoke: the full pipeline on a few engines, sized to well under a minute on a 2-core CPU.
SMOKE = dict(
    max_train_engines=8,  # 8 training + 2 validation engines
    batch_size=64,
    max_epochs=5,
    warmup_epochs=1,
    plateau_patience=2,
    early_stop_patience=5,
    gaba_warmup_steps=10,
    gaba_beta=0.9,  # EMA time constant ~10 steps, so a ~110-step run shows GABA balancing
    ema_decay=0.99,
)


def profile_config(profile: str = "auto", **overrides) -> TrainConfig:
    """A config for ``profile``: ``smoke`` (a minute on a laptop CPU), ``full`` (the
    book's recipe) or ``auto`` (full on a GPU, smoke otherwise)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    if profile == "auto":
        device = overrides.get("device", "auto")
        on_gpu = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
        profile = "full" if on_gpu else "smoke"
    base = SMOKE if profile == "smoke" else {}
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown config field(s): {', '.join(sorted(unknown))}")
    return TrainConfig(**{**base, **overrides, "profile": profile})


class NonFiniteError(RuntimeError):
    """A loss or gradient became NaN or infinite."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, make cuDNN deterministic; return a batch-order RNG."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


class EMA:
    """Exponential moving average of the weights, used for evaluation.

    The decay ramps up as (1 + t) / (10 + t) until it reaches ``decay`` so that
    short runs are not evaluated with weights dominated by the initialisation.
    """

    def __init__(self, model: torch.nn.Module, decay: float):
        self.model = copy.deepcopy(model).eval()
        self.decay = decay
        self.updates = 0
        self._params = list(self.model.parameters())
        self._buffers = list(self.model.buffers())

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self._params, list(model.parameters()), 1 - d)
        for mine, theirs in zip(self._buffers, model.buffers()):
            mine.copy_(theirs)


class TrainingStep:
    """The model, its balancer and optimiser, and one update on one batch.

    For methods that need per-task gradient norms (GABA, GRACE, GradNorm) both
    task gradients are taken once: their norms on the shared backbone feed the
    balancer and their weighted sum is the update, so there is no third backward
    pass. Other methods backpropagate the balancer's loss once, and measure the
    norms only on the steps that are recorded. ``grad_norm_every=k`` measures the
    task gradients on every k-th step only (one backward pass on the others, with
    the weights of the last measurement); the default k = 1 is the book's rule.
    """

    def __init__(self, config: TrainConfig, n_features: int, device: torch.device):
        self.config = config
        self.method = get_method(config.method)
        self.model = DualTaskModel(n_features=n_features, **config.model).to(device)
        self.balancer = self.method.make_balancer(config).to(device)
        self.shared = list(self.model.shared_parameters())
        self.params = self.shared + list(self.model.head_parameters())
        balancer_params = [p for p in self.balancer.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": self.params, "weight_decay": config.weight_decay},
                {"params": balancer_params, "weight_decay": 0.0},
            ],
            lr=config.lr,
            **({"fused": True} if device.type == "cuda" else {}),
        )
        self.ema = EMA(self.model, config.ema_decay)
        self.forward = torch.compile(self.model) if config.compile else self.model
        self.amp = config.amp and device.type == "cuda"
        self.steps = 0

    def set_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def __call__(self, x, y_rul, y_health, record: bool = False, poison: bool = False):
        """One update; returns (task losses, task weights, shared grad norms or None,
        total grad norm before clipping), all detached device tensors."""
        cfg = self.config
        with torch.autocast(x.device.type, torch.bfloat16, enabled=self.amp):
            rul_pred, logits = self.forward(x)
        losses = task_losses(rul_pred.float(), y_rul, logits.float(), y_health,
                             self.method.amnl, cfg.wmse_normalise, cfg.rul_cap)  # fmt: skip
        if poison:  # test hook for the non-finite guard
            losses = losses * torch.tensor(float("nan"), device=losses.device)
        self.optimizer.zero_grad(set_to_none=True)
        norms = None
        self.steps += 1
        every = max(1, cfg.grad_norm_every)
        measure = self.balancer.needs_grad_norms and (self.steps - 1) % every == 0
        if measure:
            per_task = task_gradients(losses, self.params)
            norms = torch.stack([global_norm(g[: len(self.shared)]) for g in per_task])
            self.balancer.observe(norms, losses, steps=every)
            weights = self.balancer.weights()
            for p, g in zip(self.params, combine_gradients(per_task, weights)):
                p.grad = g
        else:  # one backward pass of the balanced loss (weights of the last measurement)
            if record:
                norms = shared_grad_norms(self.model, losses)
            weights = self.balancer.weights()
            self.balancer.loss(losses).backward()
        total_norm = torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
        self.optimizer.step()
        self.ema.update(self.model)
        return losses.detach(), weights.detach(), norms, total_norm


@torch.no_grad()
def predict(model: torch.nn.Module, X: torch.Tensor, batch_size: int = 4096, amp: bool = False):
    """RUL predictions and health logits for all windows in ``X`` (eval mode)."""
    was_training = model.training
    model.eval()
    rul, logits = [], []
    for i in range(0, len(X), batch_size):
        with torch.autocast(X.device.type, torch.bfloat16, enabled=amp):
            r, h = model(X[i : i + batch_size])
        rul.append(r.float())
        logits.append(h.float())
    model.train(was_training)
    return torch.cat(rul), torch.cat(logits)


@dataclass
class _Lr:
    """Linear warm-up from ``start`` x lr, then a ReduceLROnPlateau-style scale on val RMSE."""

    base: float
    warmup_steps: int
    start: float
    factor: float
    patience: int
    min_lr: float
    scale: float = 1.0
    best: float = math.inf
    bad_epochs: int = 0

    def at(self, step: int) -> float:
        ramp = self.start + (1 - self.start) * min(1.0, step / max(1, self.warmup_steps))
        return max(self.base * ramp * self.scale, self.min_lr if ramp >= 1 else 0.0)

    def epoch_end(self, val_rmse: float) -> None:
        if val_rmse < self.best * (1 - 1e-4):
            self.best, self.bad_epochs = val_rmse, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.patience:
                self.scale = max(self.scale * self.factor, self.min_lr / self.base)
                self.bad_epochs = 0


@dataclass
class _History:
    """Step records kept as device tensors, synchronised once per epoch."""

    steps: list[int] = field(default_factory=list)
    weights: list[torch.Tensor] = field(default_factory=list)
    norms: list[torch.Tensor] = field(default_factory=list)

    def add(self, step: int, weights: torch.Tensor, norms: torch.Tensor) -> None:
        self.steps.append(step)
        self.weights.append(weights.detach().float().clone())
        self.norms.append(norms.detach().float().clone())

    def as_dict(self) -> dict:
        if not self.steps:
            return {
                "step": [],
                "weight_rul": [],
                "weight_health": [],
                "grad_norm_rul": [],
                "grad_norm_health": [],
            }
        w = torch.stack(self.weights).cpu().numpy()
        g = torch.stack(self.norms).cpu().numpy()
        return {
            "step": self.steps,
            "weight_rul": w[:, 0].tolist(),
            "weight_health": w[:, 1].tolist(),
            "grad_norm_rul": g[:, 0].tolist(),
            "grad_norm_health": g[:, 1].tolist(),
        }


def _to_device(data: Prepared, device: torch.device) -> dict[str, dict[str, torch.Tensor]]:
    out = {}
    for name in ("train", "val", "test"):
        split = getattr(data, name)
        out[name] = {
            "X": torch.as_tensor(split.X, device=device),
            "y_rul": torch.as_tensor(split.y_rul, device=device),
            "y_health": torch.as_tensor(split.y_health, device=device),
        }
    return out


def prepare_for(config: TrainConfig) -> Prepared:
    """The prepared data a config asks for (validation split seeded by the run's seed)."""
    return prepare(
        config.subset,
        config.data_dir,
        window=config.window,
        rul_cap=config.rul_cap,
        use_settings=config.use_settings,
        val_fraction=config.val_fraction,
        seed=config.seed,
        max_train_engines=config.max_train_engines,
    )


def train(
    config: TrainConfig,
    data: Prepared | None = None,
    progress: bool = True,
    out_dir: str | os.PathLike | None = None,
    fault_injection: dict | None = None,
) -> RunResult:
    """Train one run and return its :class:`RunResult` (also written to ``out_dir``).

    A run that fails (non-finite loss, for instance) returns a result with
    ``status='failed'`` and the error message, and writes that file too, so a
    sweep never loses track of it. ``fault_injection={'nan_at_step': k}`` makes
    step k's loss NaN; it exists for the test of that guard.
    """
    started = time.time()
    t0 = time.perf_counter()
    result = RunResult.start(config, provenance(config.resolved_device()))
    try:
        _train(config, data, progress, result, fault_injection or {})
        result.status = "ok"
    except (NonFiniteError, torch.cuda.OutOfMemoryError) as err:
        result.status, result.error = "failed", f"{type(err).__name__}: {err}"
    result.provenance["started"] = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started))
    result.provenance["wall_time_s"] = round(time.perf_counter() - t0, 3)
    if out_dir is not None:
        write_result(result, out_dir)
    return result


def _train(
    config: TrainConfig, data: Prepared | None, progress: bool, result: RunResult, faults: dict
):
    from tqdm.auto import tqdm

    device = config.resolved_device()
    if config.threads:
        torch.set_num_threads(config.threads)
    gen = seed_everything(config.seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = config.tf32
        torch.backends.cudnn.allow_tf32 = config.tf32
    data = data if data is not None else prepare_for(config)
    tensors = _to_device(data, device)
    X, y_rul, y_health = (tensors["train"][k] for k in ("X", "y_rul", "y_health"))
    n = len(X)
    if n < 2:
        raise ValueError(f"{config.subset}: only {n} training windows; use more engines")

    stepper = TrainingStep(config, data.n_features, device)
    model, ema = stepper.model, stepper.ema
    steps_per_epoch = max(1, n // config.batch_size)  # last partial batch dropped
    lr = _Lr(
        config.lr,
        config.warmup_epochs * steps_per_epoch,
        config.warmup_start,
        config.plateau_factor,
        config.plateau_patience,
        config.min_lr,
    )
    history = _History()
    curves: dict[str, list] = {
        k: []
        for k in (
            "epoch",
            "train_loss_rul",
            "train_loss_health",
            "val_rmse",
            "lr",
            "weight_rul",
            "weight_health",
        )
    }
    best = {"val_rmse": math.inf, "epoch": 0, "state": None}
    step = 0
    nan_at = faults.get("nan_at_step")

    bar = tqdm(
        range(1, config.max_epochs + 1),
        disable=not progress,
        leave=False,
        desc=f"{config.subset} {config.method} s{config.seed}",
        unit="ep",
    )
    for epoch in bar:
        model.train()
        order = torch.randperm(n, generator=gen).to(device)
        loss_sum = torch.zeros(2, device=device)
        weight_sum = torch.zeros(2, device=device)
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            step += 1
            stepper.set_lr(lr.at(step))
            record = step % config.record_every == 0 or step == 1
            losses, weights, norms, total_norm = stepper(
                X[idx], y_rul[idx], y_health[idx], record=record, poison=nan_at == step
            )
            if record:
                history.add(step, weights, norms)
            loss_sum += losses.detach() + 0 * total_norm  # NaN in the gradient shows up here too
            weight_sum += weights.detach()

        epoch_losses = loss_sum / steps_per_epoch  # one host sync per epoch, below
        if not torch.isfinite(epoch_losses).all():
            raise NonFiniteError(
                f"non-finite loss or gradient in epoch {epoch} (steps {step - steps_per_epoch + 1}"
                f"-{step}); task losses {epoch_losses.tolist()}"
            )
        stepper.balancer.end_epoch(epoch_losses)
        val_pred, _ = predict(ema.model, tensors["val"]["X"], config.eval_batch_size, stepper.amp)
        val_rmse = float(torch.sqrt(torch.mean((val_pred - tensors["val"]["y_rul"]) ** 2)))
        lr.epoch_end(val_rmse)
        mean_w = (weight_sum / steps_per_epoch).tolist()
        for key, value in zip(
            curves, (epoch, *epoch_losses.tolist(), val_rmse, lr.at(step), *mean_w)
        ):
            curves[key].append(value)
        if val_rmse < best["val_rmse"]:
            best = {
                "val_rmse": val_rmse,
                "epoch": epoch,
                "state": {k: v.detach().clone() for k, v in ema.model.state_dict().items()},
            }
        bar.set_postfix(
            val_rmse=f"{val_rmse:.2f}", w_rul=f"{mean_w[0]:.3f}", w_hs=f"{mean_w[1]:.3f}"
        )
        if epoch - best["epoch"] >= config.early_stop_patience:
            break
    bar.close()

    # Test once, with the EMA weights of the best validation epoch.
    ema.model.load_state_dict(best["state"])
    test_pred, test_logits = predict(
        ema.model, tensors["test"]["X"], config.eval_batch_size, stepper.amp
    )
    pred = test_pred.cpu().numpy().astype(np.float64)
    test = data.test
    result.test = {
        **metrics.rul_metrics(pred, test.y_rul, test.y_rul_uncapped),
        **metrics.health_metrics(test_logits.argmax(1).cpu().numpy(), test.y_health),
    }
    result.val = {"rmse": best["val_rmse"]}
    result.per_engine = {
        "unit": test.unit.tolist(),
        "true": test.y_rul.tolist(),
        "true_uncapped": test.y_rul_uncapped.tolist(),
        "pred": pred.round(4).tolist(),
    }
    result.best_epoch = best["epoch"]
    result.epochs_run = curves["epoch"][-1]
    result.steps = step
    result.curves = curves
    result.task_history = history.as_dict()
    result.data = {
        "n_train_windows": len(data.train),
        "n_val_windows": len(data.val),
        "n_test_engines": len(data.test),
        "train_units": len(data.state.train_units),
        "val_units": len(data.state.val_units),
        "n_features": data.n_features,
    }
