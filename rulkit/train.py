"""Training: one run of one method on one subset, from config to result
(book chapters 15, 18 and 22).

Model selection uses the VALIDATION engines only (held out from training):
the LR plateau, early stopping and the best checkpoint all look at validation
RMSE. The test engines are scored once, at the end, with the chosen weights.

This module is the loop the chapters teach: :class:`TrainingStep` (one update),
:class:`Trainer` (epochs, validation, early stopping, the one test evaluation)
and :func:`train` (a Trainer until it is finished). :meth:`Trainer.state_dict`
holds a run's whole state; saving it, locks, signals, time limits and resuming
are :mod:`rulkit.runs`' job (the book's "Running" page), which this module never
imports (``tests/test_import_contract.py``), apart from one deprecation shim.
"""

from __future__ import annotations

import copy
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from . import metrics
from .balancing import combine_gradients, global_norm, shared_grad_norms, task_gradients
from .config import (  # noqa: F401  (re-exported: rulkit.train is where readers look)
    PROFILES,
    RECORD_FIELDS,
    RUNTIME_FIELDS,
    SMOKE,
    TrainConfig,
    profile_config,
)
from .data import Prepared, prepare
from .losses import task_losses
from .methods import get_method
from .model import build_model
from .provenance import provenance
from .results import RunResult


class NonFiniteError(RuntimeError):
    """A loss, gradient or validation score became NaN or infinite."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, make cuDNN deterministic; return a batch-order RNG."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def rng_state() -> dict:
    """Every global random state a training run draws from (plain tensors and numbers)."""
    np_state = np.random.get_state(legacy=False)
    return {
        "python": random.getstate(),
        "numpy": {
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` saved."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": "MT19937",
            "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def set_tf32(enabled: bool) -> None:
    """TF32 for float32 matrix products and convolutions on CUDA (current torch API)."""
    mode = "tf32" if enabled else "ieee"
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # torch >= 2.9
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode
        torch.backends.cudnn.rnn.fp32_precision = mode
    else:
        torch.backends.cuda.matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled


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
        self.model = build_model(
            config.arch, n_features, config.window, config.rul_scale, **config.model
        ).to(device)
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

    def __call__(self, x, y_rul, y_health, record: bool = False):
        """One update; returns (task losses, task weights, shared grad norms or None,
        total grad norm before clipping), all detached device tensors."""
        cfg = self.config
        if cfg.input_noise > 0:  # an engine's exact sensor trace is harder to memorise
            x = x + cfg.input_noise * torch.randn_like(x)
        with torch.autocast(x.device.type, torch.bfloat16, enabled=self.amp):
            rul_pred, logits = self.forward(x)
        scale = cfg.rul_scale  # the loss is in units of rul_scale cycles (1: the book's)
        losses = task_losses(
            rul_pred.float() / scale if scale != 1 else rul_pred.float(),
            y_rul / scale if scale != 1 else y_rul,
            logits.float(),
            y_health,
            self.method.amnl,
            cfg.wmse_normalise,
            cfg.rul_cap / scale,
        )
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
        clip = cfg.grad_clip if cfg.grad_clip > 0 else math.inf
        total_norm = torch.nn.utils.clip_grad_norm_(self.params, clip)
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


def rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    return float(torch.sqrt(torch.mean((pred - target) ** 2)))


@dataclass
class _Lr:
    """Linear warm-up from ``start`` x lr, then a ReduceLROnPlateau-style scale on val RMSE."""

    base: float
    warmup_steps: int
    start: float
    factor: float
    patience: int
    min_lr: float
    drop_step: int = 0  # > 0: multiply by drop_factor after this step
    drop_factor: float = 1.0
    scale: float = 1.0
    best: float = math.inf
    bad_epochs: int = 0

    def at(self, step: int) -> float:
        ramp = self.start + (1 - self.start) * min(1.0, step / max(1, self.warmup_steps))
        lr = self.base * ramp * self.scale
        if self.drop_step and step > self.drop_step:
            lr *= self.drop_factor
        return max(lr, self.min_lr if ramp >= 1 else 0.0)

    def epoch_end(self, val_rmse: float) -> None:
        if val_rmse < self.best * (1 - 1e-4):
            self.best, self.bad_epochs = val_rmse, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.patience:
                self.scale = max(self.scale * self.factor, self.min_lr / self.base)
                self.bad_epochs = 0


def lr_schedule(config: TrainConfig, steps_per_epoch: int) -> _Lr:
    """The learning-rate schedule of ``config``: ``.at(step)`` gives the LR of a step,
    ``.epoch_end(val_rmse)`` feeds the plateau rule (chapter "Training it well")."""
    return _Lr(
        config.lr,
        config.warmup_epochs * steps_per_epoch,
        config.warmup_start,
        config.plateau_factor,
        config.plateau_patience,
        config.min_lr,
        config.lr_drop_epoch * steps_per_epoch,
        config.lr_drop_factor,
    )


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

    def state_dict(self) -> dict:
        stack = lambda xs: torch.stack(xs).cpu() if xs else torch.zeros(0, 2)
        return {
            "steps": list(self.steps),
            "weights": stack(self.weights),
            "norms": stack(self.norms),
        }

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.steps = list(state["steps"])
        self.weights = list(state["weights"].to(device).unbind())
        self.norms = list(state["norms"].to(device).unbind())

    def as_dict(self) -> dict:
        keys = ("step", "weight_rul", "weight_health", "grad_norm_rul", "grad_norm_health")
        if not self.steps:
            return {k: [] for k in keys}
        w = torch.stack(self.weights).cpu().numpy()
        g = torch.stack(self.norms).cpu().numpy()
        return dict(
            zip(
                keys,
                (
                    self.steps,
                    w[:, 0].tolist(),
                    w[:, 1].tolist(),
                    g[:, 0].tolist(),
                    g[:, 1].tolist(),
                ),
            )
        )


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


def window_end_cycles(units: np.ndarray, window: int) -> np.ndarray:
    """The cycle at which each window ends: windows of one engine are consecutive, from
    the one ending at cycle ``window`` on (stride 1)."""
    units = np.asarray(units)
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(units)]))
    return np.arange(len(units)) - first + window


def test_age_weights(units: np.ndarray, window: int, test_ages: np.ndarray) -> np.ndarray:
    """Weight of each validation window under ``val_scoring="test_ages"``.

    A test engine observed for ``a`` cycles is scored once, on the window that ends at its
    last cycle. Cutting every held-out engine at every test age ``a`` it survives to gives
    the validation windows ending at cycle ``a``: a window's weight is the number of test
    ages equal to its end cycle. Ages shorter than the window: :func:`short_age_windows`.
    """
    ages = np.asarray(test_ages, np.int64)
    ends = window_end_cycles(units, window)
    return np.bincount(ages[ages >= window], minlength=int(ends.max(initial=0)) + 1)[ends]


def short_age_windows(val, window: int, rul_cap: float, test_ages: np.ndarray):
    """The held-out engines cut at the test ages shorter than the window, padded at the
    front by repeating the first row as the test's short engines are: windows, RUL
    targets and weights (how many test engines have that age)."""
    ages = np.asarray(test_ages)
    ages, counts = np.unique(ages[ages < window], return_counts=True)
    first = np.flatnonzero(np.r_[True, val.unit[1:] != val.unit[:-1]])  # each engine's first window
    X, y, w = [], [], []
    for age, count in zip(ages, counts):
        rows = np.maximum(np.arange(window) + age - window, 0)  # padded like last_windows
        X.append(val.X[first][:, rows])
        # RUL at the cut = RUL at the first window + the cycles between them (then capped)
        y.append(np.minimum(val.y_rul[first] + window - age, rul_cap))
        w.append(np.full(len(first), count))
    if not X:
        return None
    return np.concatenate(X), np.concatenate(y).astype(np.float32), np.concatenate(w)


def rul_band_weights(y_rul: np.ndarray, rul_cap: float, bands: int = 5) -> np.ndarray:
    """Weight of each validation window under ``val_scoring="rul_bands"``: the RUL range
    below the cap cut into ``bands`` equal bands, plus the windows at the cap as one more;
    each window weighs 1 / (windows in its band), so every band weighs the same."""
    y = np.asarray(y_rul, np.float64)
    band = np.where(y >= rul_cap, bands, np.floor(y / rul_cap * bands)).astype(np.int64)
    return 1.0 / np.bincount(band, minlength=bands + 1)[band]


def weighted_rmse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> float:
    return float(torch.sqrt(torch.sum(weight * (pred - target) ** 2) / torch.sum(weight)))


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
        engine_baseline=config.engine_baseline,
    )


CURVES = (
    "epoch",
    "train_loss_rul",
    "train_loss_health",
    "val_rmse",
    "lr",
    "weight_rul",
    "weight_health",
    "val_rmse_below_cap",
    "val_rmse_at_cap",
)


class Trainer:
    """One run's whole state, in one object: model, optimiser, balancer, weight EMA,
    LR schedule, random generators, records, the best epoch so far, and the position
    inside the current epoch. :meth:`state_dict` / :meth:`load_state_dict` save and
    restore all of it, so a run can stop anywhere and continue exactly.

    The loop itself is three methods: :meth:`train_epoch` (the updates),
    :meth:`end_epoch` (validation, schedule, early stopping) and :meth:`finish`
    (the one test evaluation and the result).
    """

    def __init__(self, config: TrainConfig, data: Prepared | None = None):
        self.config = cfg = config
        self.device = device = config.resolved_device()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
        self.gen = seed_everything(cfg.seed)
        if device.type == "cuda":
            set_tf32(cfg.tf32)
        self.data = data if data is not None else prepare_for(cfg)
        self.tensors = _to_device(self.data, device)
        self.n = len(self.tensors["train"]["X"])
        if self.n < 2:
            raise ValueError(f"{cfg.subset}: only {self.n} training windows; use more engines")
        self.stepper = TrainingStep(cfg, self.data.n_features, device)
        self.steps_per_epoch = max(1, self.n // cfg.batch_size)  # last partial batch dropped
        self.lr = lr_schedule(cfg, self.steps_per_epoch)
        # which validation windows the choices look at (all of them in the book)
        self.below_cap = self.tensors["val"]["y_rul"] < cfg.rul_cap
        self.val_mask = self.below_cap if cfg.val_scoring == "below_cap" else None
        if cfg.val_from_cycle > cfg.window:
            late = torch.as_tensor(window_end_cycles(self.data.val.unit, cfg.window), device=device)
            late = late >= cfg.val_from_cycle
            self.val_mask = late if self.val_mask is None else self.val_mask & late
        self.val_weight = self.val_short = None
        if cfg.val_scoring == "test_ages":
            ages = self.data.test.n_cycles
            w = test_age_weights(self.data.val.unit, cfg.window, ages)
            self.val_weight = torch.as_tensor(w, dtype=torch.float32, device=device)
            if self.val_mask is not None:
                self.val_weight = self.val_weight * self.val_mask
            short = short_age_windows(self.data.val, cfg.window, cfg.rul_cap, ages)
            if short is not None:
                self.val_short = [torch.as_tensor(a, device=device) for a in short]
        if cfg.val_scoring == "rul_bands":
            y = self.data.val.y_rul
            keep = np.ones(len(y), bool) if self.val_mask is None else self.val_mask.cpu().numpy()
            w = np.zeros(len(y))
            w[keep] = rul_band_weights(y[keep], cfg.rul_cap)
            self.val_weight = torch.as_tensor(w, dtype=torch.float32, device=device)
        self.history = _History()
        self.curves: dict[str, list] = {k: [] for k in CURVES}
        if cfg.record_test_rmse:
            self.curves["test_rmse"] = []  # for the record: never looked at by any choice
        self.best = {"val_rmse": math.inf, "epoch": 0, "state": None}
        self.epoch = 0  # epochs completed
        self.step = 0
        self.partial: dict | None = None  # position inside an epoch that was interrupted

    # ------------------------------------------------------------------ the loop
    def finished(self) -> bool:
        cfg = self.config
        stale = self.epoch > 0 and self.epoch - self.best["epoch"] >= cfg.early_stop_patience
        return self.epoch >= cfg.max_epochs or stale

    def train_epoch(self, should_stop=lambda: None) -> bool:
        """Updates of one epoch (or of what is left of it); False if ``should_stop()``
        said so inside it (:mod:`rulkit.runs` passes its signal and lock checks)."""
        cfg, stepper, train = self.config, self.stepper, self.tensors["train"]
        if self.partial is None:
            order = torch.randperm(self.n, generator=self.gen).to(self.device)
            self.partial = {
                "order": order,
                "batch": 0,
                "loss_sum": torch.zeros(2, device=self.device),
                "weight_sum": torch.zeros(2, device=self.device),
                "lr": 0.0,
            }
        p = self.partial
        self.stepper.model.train()
        while p["batch"] < self.steps_per_epoch:
            b = p["batch"]
            idx = p["order"][b * cfg.batch_size : (b + 1) * cfg.batch_size]
            self.step += 1
            p["lr"] = self.lr.at(self.step)
            stepper.set_lr(p["lr"])
            record = self.step % cfg.record_every == 0 or self.step == 1
            losses, weights, norms, total_norm = stepper(
                train["X"][idx],
                train["y_rul"][idx],
                train["y_health"][idx],
                record=record,
            )
            if record:
                self.history.add(self.step, weights, norms)
            p["loss_sum"] += losses + 0 * total_norm  # NaN in the gradient shows up here too
            p["weight_sum"] += weights
            p["batch"] = b + 1
            if p["batch"] < self.steps_per_epoch and should_stop():
                return False
        return True

    def end_epoch(self) -> float:
        """Validation, LR plateau, records and the best checkpoint; returns val RMSE."""
        cfg, p, epoch = self.config, self.partial, self.epoch + 1
        epoch_losses = p["loss_sum"] / self.steps_per_epoch  # one host sync per epoch, below
        if not torch.isfinite(epoch_losses).all():
            raise NonFiniteError(
                f"non-finite loss or gradient in epoch {epoch} (steps "
                f"{self.step - self.steps_per_epoch + 1}-{self.step}); task losses "
                f"{epoch_losses.tolist()}"
            )
        self.stepper.balancer.end_epoch(epoch_losses)
        ema = self.stepper.ema.model
        val_pred, val_true = self._predict(ema, "val"), self.tensors["val"]["y_rul"]
        # the two regions of life, recorded for every run: below the cap (degradation
        # visible) and at the cap (healthy windows); the choice uses config.val_scoring
        region = lambda m: rmse(val_pred[m], val_true[m]) if bool(m.any()) else None
        regions = (region(self.below_cap), region(~self.below_cap))
        if self.val_weight is not None:
            val_rmse = self._weighted_val_rmse(ema, val_pred, val_true)
        else:
            if self.val_mask is not None:
                val_pred, val_true = val_pred[self.val_mask], val_true[self.val_mask]
            val_rmse = rmse(val_pred, val_true)
        if not math.isfinite(val_rmse):
            raise NonFiniteError(f"validation RMSE is {val_rmse} in epoch {epoch}")
        self.lr.epoch_end(val_rmse)
        mean_w = (p["weight_sum"] / self.steps_per_epoch).tolist()
        row = (epoch, *epoch_losses.tolist(), val_rmse, p["lr"], *mean_w)
        for key, value in zip(CURVES, (*row, *regions)):
            self.curves.setdefault(key, []).append(value)  # setdefault: older checkpoints
        if cfg.record_test_rmse:
            test_rmse = rmse(self._predict(ema, "test"), self.tensors["test"]["y_rul"])
            self.curves["test_rmse"].append(test_rmse)
        if val_rmse < self.best["val_rmse"]:
            state = {k: v.detach().clone() for k, v in ema.state_dict().items()}
            self.best = {"val_rmse": val_rmse, "epoch": epoch, "state": state}
        self.epoch, self.partial = epoch, None
        return val_rmse

    def _weighted_val_rmse(self, model, val_pred, val_true) -> float:
        """Weighted validation RMSE (test_ages: full windows plus padded short ones)."""
        pred, true, weight = val_pred, val_true, self.val_weight
        if self.val_short is not None:
            X, y, w = self.val_short
            short_pred = predict(model, X, self.config.eval_batch_size, self.stepper.amp)[0]
            pred, true = torch.cat([pred, short_pred]), torch.cat([true, y])
            weight = torch.cat([weight, w.to(weight.dtype)])
        return weighted_rmse(pred, true, weight)

    def _predict(self, model, split: str) -> torch.Tensor:
        X = self.tensors[split]["X"]
        return predict(model, X, self.config.eval_batch_size, self.stepper.amp)[0]

    def finish(self, result: RunResult) -> None:
        """Test once, with the EMA weights of the best validation epoch; fill ``result``."""
        cfg, data, ema = self.config, self.data, self.stepper.ema.model
        ema.load_state_dict(self.best["state"])
        X_test = self.tensors["test"]["X"]
        test_pred, test_logits = predict(ema, X_test, cfg.eval_batch_size, self.stepper.amp)
        pred = test_pred.cpu().numpy().astype(np.float64)
        test = data.test
        result.test = metrics.rul_metrics(pred, test.y_rul, test.y_rul_uncapped)
        if getattr(ema, "has_health_head", True):  # the DCNN predicts RUL only
            health = test_logits.argmax(1).cpu().numpy()
            result.test.update(metrics.health_metrics(health, test.y_health))
        result.val = {"rmse": self.best["val_rmse"], "scoring": cfg.val_scoring}
        if self.best["epoch"] and "val_rmse_below_cap" in self.curves:
            i = self.best["epoch"] - 1
            for key in ("val_rmse", "val_rmse_below_cap", "val_rmse_at_cap"):
                if len(self.curves.get(key, [])) > i:
                    result.val[key.replace("val_", "")] = self.curves[key][i]
        result.per_engine = {
            "unit": test.unit.tolist(),
            "true": test.y_rul.tolist(),
            "true_uncapped": test.y_rul_uncapped.tolist(),
            "pred": pred.round(4).tolist(),
        }
        result.best_epoch = self.best["epoch"]
        result.epochs_run = self.epoch
        result.steps = self.step
        result.curves = self.curves
        result.task_history = self.history.as_dict()
        result.data = {
            "n_train_windows": len(data.train),
            "n_val_windows": len(data.val),
            "n_test_engines": len(data.test),
            "train_units": len(data.state.train_units),
            "val_units": len(data.state.val_units),
            "n_features": data.n_features,
        }

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Everything needed to continue exactly: tensors and plain containers only."""
        s = self.stepper
        cpu = lambda t: t.detach().cpu() if torch.is_tensor(t) else t
        partial = None if self.partial is None else {k: cpu(v) for k, v in self.partial.items()}
        return {
            "format": 1,
            "config": asdict(self.config),
            "epoch": self.epoch,
            "step": self.step,
            "partial": partial,
            "model": s.model.state_dict(),
            "ema": {"model": s.ema.model.state_dict(), "updates": s.ema.updates},
            "optimizer": s.optimizer.state_dict(),
            "balancer": s.balancer.state_dict(),
            "lr": asdict(self.lr),
            "rng": {**rng_state(), "batch_order": self.gen.get_state()},
            "history": self.history.state_dict(),
            "curves": copy.deepcopy(self.curves),
            "best": dict(self.best),
        }

    def load_state_dict(self, state: dict) -> None:
        s, device = self.stepper, self.device
        s.model.load_state_dict(state["model"])
        s.ema.model.load_state_dict(state["ema"]["model"])
        s.ema.updates = state["ema"]["updates"]
        s.optimizer.load_state_dict(state["optimizer"])
        s.balancer.load_state_dict(state["balancer"])
        s.steps = self.step = state["step"]
        self.epoch = state["epoch"]
        self.lr = _Lr(**state["lr"])
        set_rng_state(state["rng"])
        self.gen.set_state(state["rng"]["batch_order"])
        self.history.load_state_dict(state["history"], device)
        self.curves = state["curves"]
        best = state["best"]
        if best["state"] is not None:
            best = {**best, "state": {k: v.to(device) for k, v in best["state"].items()}}
        self.best = best
        partial = state["partial"]
        to_dev = lambda v: v.to(device) if torch.is_tensor(v) else v
        self.partial = None if partial is None else {k: to_dev(v) for k, v in partial.items()}


# What fails a run (its result says status 'failed') rather than crashing the caller.
FAILURES = (NonFiniteError, torch.cuda.OutOfMemoryError)


def progress_bar(trainer: Trainer, progress: bool = True):
    """A bar of epochs (off with ``progress=False``), starting where ``trainer`` stands."""
    from tqdm.auto import tqdm

    cfg = trainer.config
    desc = f"{cfg.subset} {cfg.method} s{cfg.seed}"
    return tqdm(
        total=cfg.max_epochs,
        initial=trainer.epoch,
        disable=not progress,
        leave=False,
        unit="ep",
        desc=desc,
    )


def show_epoch(bar, trainer: Trainer, val_rmse: float) -> None:
    bar.update(1)
    bar.set_postfix(val_rmse=f"{val_rmse:.2f}", best=trainer.best["epoch"])


def train(
    config: TrainConfig,
    data: Prepared | None = None,
    progress: bool = True,
    out_dir: str | os.PathLike | None = None,
) -> RunResult:
    """Train one run in memory and return its :class:`RunResult`.

    A run that fails (non-finite loss, for instance) returns a result with
    ``status='failed'`` and the error message instead of raising.

    ``out_dir`` is deprecated and kept for one release (chapter 12 still passes it):
    it hands the run to :func:`rulkit.runs.train_run`, which writes the result file
    there, checkpoints and resumes. Call that directly instead.
    """
    if out_dir is not None:
        return _runs().train_run(config, data, progress, out_dir=out_dir)
    t0 = time.perf_counter()
    result = RunResult.start(config, provenance(config.resolved_device()))
    result.provenance["started"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")  # local time, as runs
    trainer = None
    try:
        trainer = Trainer(config, data)
        with progress_bar(trainer, progress) as bar:
            while not trainer.finished():
                trainer.train_epoch()
                show_epoch(bar, trainer, trainer.end_epoch())
        trainer.finish(result)
        result.status = "ok"
    except FAILURES as err:
        result.status, result.error = "failed", f"{type(err).__name__}: {err}"
    if trainer is not None:
        result.epochs_run = trainer.epoch
    result.provenance["wall_time_s"] = round(time.perf_counter() - t0, 3)  # with data prep
    return result


# ------------------------------------------------------------------ deprecated
# Moved to rulkit.runs; these paths are kept for one release (the book's "Running" page
# imports RunStopped from here). _runs holds the core's only import of rulkit.runs.
_MOVED = ("RunStopped", "checkpoint_path", "lock_path", "completed_result")


def _runs():
    from . import runs

    return runs


def __getattr__(name: str):
    if name in _MOVED:
        return getattr(_runs(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
