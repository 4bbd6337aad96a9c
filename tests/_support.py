"""What several test files share: the tiny models and training config, the command lines
that run ``python -m rulkit``, and :func:`need`, the one way to skip for the environment.

Imported as ``from _support import ...``: tests/conftest.py puts this folder on sys.path
(pytest's default import mode does so too), so it works from any working directory.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import pytest

#: RULKIT_STRICT=1 (CI sets it in .ci/run): a missing environment fails instead of skipping.
STRICT = os.environ.get("RULKIT_STRICT") == "1"


def need(condition, why: str) -> None:
    """Skip the test (or the module, or every test of a fixture) when ``condition`` is false,
    because something outside the project is missing: data, Slurm, Chromium, nbgrader, a
    built book. Under RULKIT_STRICT=1 the missing piece is a failure, so that a green run
    cannot hide a whole area that did not run. Skips that are not about the environment
    (a Linux-only test on another system, say) stay plain ``pytest.skip``."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"RULKIT_STRICT=1, and the environment lacks what this needs: {why}")
    pytest.skip(why, allow_module_level=True)


def need_module(name: str, why: str | None = None):
    """``pytest.importorskip`` through :func:`need`: the module, or a skip (a failure under
    RULKIT_STRICT=1) that says what is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        need(False, why or f"{name} is not installed ({err})")


# --------------------------------------------------------------------------- tiny models

#: The tiny model of the in-process training tests (test_train, test_resume): seconds per run.
TINY_MODEL = {
    "conv_channels": [8, 8, 8],
    "lstm_hidden": 16,
    "attention_heads": 2,
    "funnel": [32, 16, 8],
    "rul_head": [8],
    "health_head": [8],
}

#: A smaller one for the tests that start many processes (command line, sweeps, the GPU
#: session script, Slurm): half the LSTM and funnel widths of TINY_MODEL.
TINIER_MODEL = {
    "conv_channels": [8, 8, 8],
    "lstm_hidden": 8,
    "attention_heads": 2,
    "funnel": [16, 8, 8],
    "rul_head": [8],
    "health_head": [8],
}

#: DualTaskModel keyword arguments of the same architecture, for the tests of shapes and
#: losses where size does not matter (test_model, test_losses).
TINY_ARCH = dict(
    conv_channels=(8, 8, 8),
    lstm_hidden=8,
    attention_heads=4,
    funnel=(16, 8),
    rul_head=(8,),
    health_head=(8,),
)


def tiny_config(method: str = "grace", **overrides):
    """The smoke profile with :data:`TINY_MODEL`, a high learning rate and every step
    recorded: five epochs of about seven steps on the synthetic ``fleet`` (conftest)."""
    from rulkit.train import profile_config

    base = dict(
        subset="FD001",
        method=method,
        seed=0,
        model=TINY_MODEL,
        batch_size=64,
        max_epochs=5,
        lr=1e-2,
        warmup_epochs=1,
        gaba_warmup_steps=5,
        device="cpu",
        threads=1,
        record_every=1,
    )
    return profile_config("smoke", **{**base, **overrides})


# --------------------------------------------------------------------------- faults
# The training loop has no test hooks: these patch it, for one test (monkeypatch undoes it).


def _after_step(monkeypatch, step: int, action) -> None:
    """Call ``action()`` just after the update that is training step ``step`` (the
    trainer's count, which a resumed run continues)."""
    from rulkit.train import TrainingStep

    update = TrainingStep.__call__

    def patched(self, *args, **kwargs):
        out = update(self, *args, **kwargs)
        if self.steps == step:
            action()
        return out

    monkeypatch.setattr(TrainingStep, "__call__", patched)


def stop_after_step(monkeypatch, step: int) -> None:
    """SIGTERM this process during step ``step``, as Slurm or a cloud would: a run of
    :func:`rulkit.runs.train_run` saves its checkpoint after that step and stops."""
    import signal

    _after_step(monkeypatch, step, lambda: signal.raise_signal(signal.SIGTERM))


def nan_loss_at_step(monkeypatch, step: int) -> None:
    """Make the task losses of step ``step`` NaN (so its gradient too), as a bad batch
    would: what the non-finite guard must catch."""
    from rulkit import train

    update, task_losses, taking = train.TrainingStep.__call__, train.task_losses, [0]

    def counted(self, *args, **kwargs):
        taking[0] = self.steps + 1  # the step this update is
        return update(self, *args, **kwargs)

    def poisoned(*args, **kwargs):
        losses = task_losses(*args, **kwargs)
        return losses * float("nan") if taking[0] == step else losses

    monkeypatch.setattr(train.TrainingStep, "__call__", counted)
    monkeypatch.setattr(train, "task_losses", poisoned)


# --------------------------------------------------------------------------- command lines


def set_values(settings: dict) -> list[str]:
    """``key=value`` with each value as compact JSON (no spaces: safe in a shell word list),
    the form ``rulkit --set`` and the scripts' EXTRA_SET / SWEEP_ARGS read."""
    return [f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in settings.items()]


def set_options(settings: dict) -> list[str]:
    """``--set key=value`` for each setting, for a rulkit command line."""
    return [arg for value in set_values(settings) for arg in ("--set", value)]


def rulkit_argv(*args, settings: dict | None = None) -> list[str]:
    """``python -m rulkit ARGS --set ...`` with this interpreter, for subprocess."""
    return [sys.executable, "-m", "rulkit", *map(str, args), *set_options(settings or {})]


# --------------------------------------------------------------------------- the strict switch


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """The safety net of RULKIT_STRICT=1 for skips that bypass :func:`need`: a test skipped
    by ``pytest.importorskip`` (a package is missing) fails instead. tests/conftest.py
    registers this hook by importing it."""
    report = yield
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        if "could not import" in reason:
            report.outcome = "failed"
            report.longrepr = f"RULKIT_STRICT=1, and a package is missing: {reason}"
    return report
