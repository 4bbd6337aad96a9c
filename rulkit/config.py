"""The configuration of a run: every knob, the two profiles, and the run's identity
(book chapters 15, 18 and 22; SPEC section 6 gives the defaults).

A run's name says what was trained: ``FD002_grace_seed0_full`` for the book's recipe
as it is, ``FD002_grace_seed0_custom-<hash>`` when any field that changes the training
was overridden. Fields that say only where and how fast a run goes, or what is
recorded, stay out of the name, and may change between the slices of one run.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from .balancing import GABA_BETA, GABA_FLOOR, GABA_WARMUP_STEPS
from .data.prepare import RUL_CAP
from .results import run_label, run_name  # noqa: F401  (run_label: re-exported)

PROFILES = ("smoke", "full", "tuned", "lean", "dcnn", "auto")
VAL_SCORINGS = ("all", "below_cap", "test_ages", "rul_bands")
# Fields that say where and how fast a run goes, not what it trains: they may change
# between the segments of one run and stay out of its name.
RUNTIME_FIELDS = frozenset(
    {"device", "threads", "data_dir", "eval_batch_size", "compile", "max_minutes", "deterministic"}
)
# Fields that change only what is recorded: out of the name, but a resumed run keeps them.
RECORD_FIELDS = frozenset({"record_every", "record_test_rmse"})
NAME_FIELDS = ("subset", "method", "seed", "profile")


@dataclass
class TrainConfig:
    """Every knob of a run; the defaults are the book's full recipe (SPEC section 6)."""

    subset: str = "FD002"
    method: str = "grace"
    seed: int = 0
    profile: str = "full"
    arch: str = "dual"  # "dual": the DualTaskModel; "dcnn": the single-task reference CNN
    # data (chapter 7)
    window: int = 30
    rul_cap: float = RUL_CAP
    use_settings: bool = True  # False -> 14 sensors only
    val_fraction: float = 0.2
    max_train_engines: int | None = None
    # > 0: subtract from each engine its mean over its own first k cycles (0 in the book)
    engine_baseline: int = 0
    data_dir: str | None = None
    # "all" validation windows (the book), or "below_cap": only those whose RUL is under
    # the cap (the part of life where a prediction can be wrong in an interesting way), or
    # "test_ages": each held-out engine scored at the ages the test engines were cut at,
    # the way the test scores them (train.test_age_weights; no test label is read), or
    # "rul_bands": five equal RUL bands below the cap and the cap itself weigh the same
    # (train.rul_band_weights), whatever the share of windows in each
    val_scoring: str = "all"
    # > 0: score only the validation windows that end at or after this cycle, so that runs
    # with different window lengths are scored on the same cycles (0: all windows, the book)
    val_from_cycle: int = 0
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
    lr_drop_epoch: int = 0  # > 0: multiply the LR by lr_drop_factor after this epoch
    lr_drop_factor: float = 0.1
    early_stop_patience: int = 60
    grad_clip: float = 1.0  # <= 0: no clipping
    ema_decay: float = 0.999  # 0: evaluate the current weights (no average)
    # RUL unit of the loss and of the head's output: 1 = raw cycles (the book),
    # 125 = targets scaled to [0, 1] as in public recipes (losses are then ~1/125**2 as large)
    rul_scale: float = 1.0
    # > 0: Gaussian noise of this standard deviation (z-score units) added to every training
    # window, a new draw each step (0 in the book: no draw, the random stream is unchanged)
    input_noise: float = 0.0
    # losses and balancing
    lam_hs: float = 0.5
    wmse_normalise: str = "weights"  # or "batch" (the book's later code)
    gaba_beta: float = GABA_BETA
    gaba_floor: float = GABA_FLOOR
    gaba_warmup_steps: int = GABA_WARMUP_STEPS
    gradnorm_alpha: float = 1.5
    gradnorm_lr: float = 0.025  # GradNorm's own optimiser for its task weights
    dwa_temperature: float = 2.0
    model: dict = field(default_factory=dict)  # DualTaskModel overrides (tests use a tiny one)
    # engineering (none of these change the method)
    device: str = "auto"
    amp: bool = False  # bf16 autocast, CUDA only (the two heads stay float32)
    tf32: bool = True  # TF32 matrix products, CUDA only (within seed noise)
    compile: bool = False
    deterministic: bool = False  # deterministic CUDA kernels (slower); CPU runs are anyway
    eval_batch_size: int = 4096
    threads: int | None = None
    max_minutes: float | None = None  # stop at the first epoch end after this (resumable)
    # records (what is kept, never what is trained or chosen)
    record_every: int = 10  # steps between task-weight / gradient-norm records
    record_test_rmse: bool = False  # test RMSE of every epoch, for the record only
    grad_norm_every: int = 1  # GABA/GRACE/GradNorm: measure task gradients every k steps

    def __post_init__(self):
        for f in fields(self):  # 1 and 1.0 are the same config (and the same name)
            value = getattr(self, f.name)
            is_int = isinstance(value, int) and not isinstance(value, bool)
            if isinstance(f.default, float) and is_int:
                setattr(self, f.name, float(value))
        checks = [
            (
                "val_fraction",
                0 < self.val_fraction < 1,
                "must be in (0, 1): model selection needs held-out validation engines",
            ),
            ("batch_size", self.batch_size >= 1, "must be >= 1"),
            ("max_epochs", self.max_epochs >= 1, "must be >= 1"),
            ("record_every", self.record_every >= 1, "must be >= 1"),
            ("grad_norm_every", self.grad_norm_every >= 1, "must be >= 1"),
            ("max_minutes", self.max_minutes is None or self.max_minutes >= 0, "must be >= 0"),
            ("rul_scale", self.rul_scale > 0, "must be > 0"),
            ("val_from_cycle", self.val_from_cycle >= 0, "must be >= 0"),
            ("val_scoring", self.val_scoring in VAL_SCORINGS, f"must be one of {VAL_SCORINGS}"),
            # a --set model=... whose JSON did not parse (shell quoting) arrives as a string
            ("model", isinstance(self.model, dict), 'must be a mapping, e.g. {"lstm_hidden": 32}'),
            ("arch", self.arch in ("dual", "dcnn"), "must be 'dual' or 'dcnn'"),
            (
                "method",
                self.arch != "dcnn" or self.method == "rul_only",
                "must be 'rul_only' for the single-task DCNN",
            ),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ValueError(f"{name} {message}; got {name}={getattr(self, name)!r}")

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def overrides(self) -> dict:
        """The fields that define what is trained and differ from the profile's defaults."""
        base = _canonical(asdict(profile_config(self.profile)))
        skip = RUNTIME_FIELDS | RECORD_FIELDS | set(NAME_FIELDS)
        mine = _canonical(asdict(self))
        return {k: v for k, v in mine.items() if k not in skip and v != base[k]}

    def config_hash(self) -> str | None:
        """Short hash of :meth:`overrides`; None when the profile is used as it is."""
        changed = self.overrides()
        if not changed:
            return None
        return hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:8]

    def label(self) -> str:
        """``full`` or ``smoke`` for the profile as it is; ``custom-<hash>`` otherwise."""
        return run_label(self.profile, self.config_hash())

    def run_name(self) -> str:
        return run_name(self.subset, self.method, self.seed, self.label())

    def differences(self, other: dict) -> list[str]:
        """Fields (other than where it runs) in which the config dict ``other`` differs."""
        mine, theirs = _canonical(asdict(self)), _canonical(other)
        # A field that a file lacks was added later, with a default that keeps the old
        # behaviour: the file was made with that default.
        defaults = _canonical(asdict(TrainConfig()))
        theirs = {k: theirs.get(k, defaults[k]) for k in mine}
        return sorted(k for k in mine if k not in RUNTIME_FIELDS and theirs[k] != mine[k])


def _canonical(config: dict) -> dict:
    """JSON round trip: tuples become lists, so a config compares equal to its file."""
    return json.loads(json.dumps(config, sort_keys=True))


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


# The reference CNN of Li, Ding & Sun (2018) with the paper's recipe: 14 sensors, Adam 1e-3,
# batch 512, 250 epochs, LR / 10 for the last 20%. Nothing of the book's recipe (no warm-up,
# plateau, clipping, weight decay or weight average); the epoch is still chosen on validation.
DCNN = dict(
    arch="dcnn",
    method="rul_only",
    use_settings=False,
    batch_size=512,
    max_epochs=250,
    lr_drop_epoch=200,
    weight_decay=0.0,
    warmup_epochs=0,
    plateau_patience=10**6,
    early_stop_patience=250,
    grad_clip=0.0,
    ema_decay=0.0,
)

# A recipe that trains (chapter "Training it well"): the DualTaskModel's structure with the
# departures from the book that the FD001 ablation (validation engines only) supports.
# Each entry says why; notebooks/11_training_it_well gives the measurements.
TUNED = dict(
    # the three operating settings are white noise on FD001 (one condition); as inputs they
    # only add noise (validation RMSE 12.60 -> 11.70 in the ablation, seed 0)
    use_settings=False,
    # a longer look back: 12.60 -> 11.54 (seed 0); test engines shorter than 40 cycles are
    # padded as before
    window=40,
    # a BiLSTM of 64 per direction instead of 256: 12.60 -> 12.14 (seed 0) at ~1/10 of its
    # parameters, which is what makes a run cheap enough for a CPU
    model={"lstm_hidden": 64},
    # every ablation run chose an epoch <= 13: stop 30 epochs after the best one (not 60)
    # and halve the LR after 10 flat epochs (not 30), so a run ends in ~40 epochs, not 65+
    plateau_patience=10,
    early_stop_patience=30,
)

# A lean DualTaskModel (chapter "Training it well", section 6): `tuned` still chose its
# checkpoint at epochs 5-10, after which the validation error of the windows at the cap
# (healthy engines) climbs. CPU probes on FD001 (benchmarks/probe_recipes.py; validation
# engines only) found what delays that; the measurements are in
# benchmarks/measurements/probes_2026-12-05.md.
LEAN = dict(
    TUNED,
    # 78k parameters instead of 342k: same blocks, narrower (conv 32, BiLSTM 32, funnel 64-32-16)
    # and no BatchNorm in the CNN, whose removal gave the largest single gain in the probes
    model={
        "conv_channels": [32, 32, 32],
        "lstm_hidden": 32,
        "attention_heads": 4,
        "funnel": [64, 32, 16],
        "conv_batchnorm": False,
    },
    # Gaussian noise of 0.5 z-units on every training window and a third of the learning
    # rate: the model cannot key on the small level differences between engines as early,
    # and the validation minimum moves from epoch ~10 to ~20
    input_noise=0.5,
    lr=3e-4,
    # the validation error rises steadily after its minimum: stop 15 epochs later
    early_stop_patience=15,
    max_epochs=100,
)

PROFILE_DEFAULTS = {"smoke": SMOKE, "full": {}, "tuned": TUNED, "dcnn": DCNN, "lean": LEAN}


def profile_config(profile: str = "auto", **overrides) -> TrainConfig:
    """A config for ``profile``: ``smoke`` (minutes on a laptop CPU), ``full`` (the
    book's recipe), ``tuned`` (a recipe that trains, see :data:`TUNED`), ``lean`` (a
    smaller, noise-trained model, see :data:`LEAN`), ``dcnn`` (the reference CNN) or
    ``auto`` (full on a GPU, smoke otherwise)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(PROFILES)}")
    if profile == "auto":
        device = overrides.get("device", "auto")
        on_gpu = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
        profile = "full" if on_gpu else "smoke"
    base = PROFILE_DEFAULTS[profile]
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown config field(s): {', '.join(sorted(unknown))}")
    return TrainConfig(**{**base, **overrides, "profile": profile})


PROFILE_ENV = "RULKIT_PROFILE"


def notebook_profile(default: str = "smoke") -> str:
    """The profile a chapter notebook trains with: ``$RULKIT_PROFILE`` if set, else
    ``default``. Notebooks never pick the full recipe by themselves, even on a GPU."""
    profile = os.environ.get(PROFILE_ENV, default).strip().lower()
    if profile not in ("smoke", "full"):
        raise ValueError(f"{PROFILE_ENV} must be 'smoke' or 'full', not {profile!r}")
    return profile


TIMES = Path(__file__).with_name("times.json")


def measured_times() -> dict:
    """Every time quoted to a reader, with its load and source (``rulkit/times.json``)."""
    return json.loads(TIMES.read_text())


def expected_cost(profile: str, runs: int = 1) -> str:
    """One sentence on what ``runs`` runs of ``profile`` will cost, to print before they start."""
    times = measured_times()
    if profile == "full":
        hours = times["full_run_cpu_hours"]
        return (
            f"{runs} run(s) of the full recipe: up to 500 epochs each (early stopping after 60 "
            "without improvement), about 30 minutes per run on one A100 GPU by the book's "
            f"account, {hours['low']} to {hours['high']} hours per FD001 run on a 2-core CPU."
        )
    if profile == "tuned":
        ratio = times["tuned_vs_full_cpu"]
        return (
            f"{runs} run(s) of the tuned recipe: about 40 epochs each, {ratio['low']} to "
            f"{ratio['high']} of a full-recipe run on a CPU (benchmarks/bench_recipes.py)."
        )
    if profile == "lean":
        lean = times["lean_run_cpu_minutes"]
        return (
            f"{runs} run(s) of the lean recipe: 30 to 50 epochs each, {lean['low']} to "
            f"{lean['high']} minutes per FD001 run on one core of a 2-core CPU ({lean['load']})."
        )
    smoke = times["smoke_run"]
    return (
        f"{runs} smoke run(s): 8 training engines, at most 5 epochs; "
        f"{smoke['low_s']} s to {round(smoke['high_s'] / 60)} minutes each on a 2-core CPU, "
        "the lower end when nothing else runs (book/running.md)."
    )
