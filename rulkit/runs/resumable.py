"""One run that survives interruption (the book's "Running" page; the loop it drives
is the one of chapters 15, 18 and 22, :class:`rulkit.train.Trainer`).

:func:`train_run` holds a lock in ``<out>/checkpoints/`` (so two workers never train
one run at once), writes the trainer's whole state there at every epoch end and when a
signal or the time limit stops it, and continues from that checkpoint when called
again with the same config; on the CPU the finished result is the same as that of an
uninterrupted run. Each stretch of training is recorded as a *segment* of the result's
provenance (host, device, epochs, wall time, how it ended).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from ..config import RECORD_FIELDS, TrainConfig
from ..data import Prepared
from ..provenance import provenance
from ..results import RunResult, result_path, write_result
from ..train import FAILURES, Trainer, progress_bar, show_epoch
from .checkpoint import (
    RunLock,
    StopRequest,
    load_checkpoint,
    remove_stale_temporaries,
    save_checkpoint,
)


class RunStopped(Exception):
    """Training stopped before the end (time limit or signal); its checkpoint is kept and
    the same call continues it."""

    def __init__(self, config: TrainConfig, trainer: Trainer, reason: str, checkpoint):
        self.config, self.reason, self.checkpoint = config, reason, checkpoint
        self.epoch, self.step = trainer.epoch, trainer.step
        where = f"epoch {trainer.epoch}"
        if trainer.partial is not None:
            where = f"in epoch {trainer.epoch + 1} (step {trainer.step})"
        why = "stopped for time" if reason == "time limit" else f"stopped by {reason}"
        more = "; run the same command to continue" if checkpoint else " (no checkpoint kept)"
        run = f"{config.subset} {config.method} s{config.seed}"
        super().__init__(f"{run}: {where}, {why}{more}")


def checkpoint_path(out_dir: str | os.PathLike, config: TrainConfig) -> Path:
    return Path(out_dir) / "checkpoints" / f"{config.run_name()}.pt"


def lock_path(out_dir: str | os.PathLike, config: TrainConfig) -> Path:
    return Path(out_dir) / "checkpoints" / f"{config.run_name()}.lock"


def train_run(
    config: TrainConfig,
    data: Prepared | None = None,
    progress: bool = True,
    out_dir: str | os.PathLike = "results",
    keep_checkpoint: bool = False,
) -> RunResult:
    """Train one run in ``out_dir``, continuing its checkpoint if there is one; write and
    return its :class:`RunResult`.

    A checkpoint of another config is refused. SIGTERM/SIGINT or ``config.max_minutes``
    stop the run with :class:`RunStopped`, checkpoint kept; the finished run deletes its
    checkpoint unless ``keep_checkpoint``. A failed run (non-finite loss, for instance)
    writes its result file with ``status='failed'`` too, so a sweep never loses track.
    """
    ckpt = checkpoint_path(out_dir, config)
    # StopRequest outside the lock: a SIGTERM that comes while the lock is taken or given
    # back must not kill the process with the default action and leave the lock behind.
    with StopRequest() as stop, RunLock(lock_path(out_dir, config)) as lock:
        result = _run(config, data, progress, ckpt, stop, lock)
        write_result(result, out_dir)
        if not keep_checkpoint:
            ckpt.unlink(missing_ok=True)
        return result


def _run(config, data, progress, ckpt: Path, stop: StopRequest, lock: RunLock) -> RunResult:
    t0, started = time.perf_counter(), time.time()
    device = config.resolved_device()
    result = RunResult.start(config, provenance(device))
    segment = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "device": str(device),
        "device_name": result.provenance["device_name"],
        "git_commit": result.provenance["git_commit"],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "start_epoch": 0,
        "end_epoch": 0,
        "wall_s": 0.0,
        "ended": "running",
    }
    trainer, earlier = None, []  # earlier: the segments of the checkpoint continued

    def save(ended: str) -> None:
        segment.update(
            end_epoch=trainer.epoch, ended=ended, wall_s=round(time.perf_counter() - t0, 3)
        )
        save_checkpoint({**trainer.state_dict(), "segments": [*earlier, segment]}, ckpt)

    try:
        trainer = Trainer(config, data)
        remove_stale_temporaries(ckpt.parent)
        if ckpt.is_file():
            earlier = _resume(trainer, ckpt)
        segment["start_epoch"] = segment["end_epoch"] = trainer.epoch
        deadline = None if config.max_minutes is None else t0 + 60 * config.max_minutes
        should_stop = lambda: stop.reason or ("lock lost" if lock.lost else None)
        with progress_bar(trainer, progress) as bar:
            while not trainer.finished():
                if trainer.train_epoch(should_stop):
                    show_epoch(bar, trainer, trainer.end_epoch())
                    late = deadline is not None and time.perf_counter() > deadline
                    reason = should_stop() or ("time limit" if late else None)
                else:  # stopped inside the epoch
                    reason = should_stop()
                if reason is None or trainer.finished():
                    save("running")  # every epoch end
                    continue
                if reason == "lock lost":  # never write over the new holder's checkpoint
                    raise RunStopped(config, trainer, reason, None)
                save(reason)
                raise RunStopped(config, trainer, reason, ckpt)
        trainer.finish(result)
        result.status = "ok"
    except FAILURES as err:
        result.status, result.error = "failed", f"{type(err).__name__}: {err}"
    if trainer is not None:
        result.epochs_run = trainer.epoch
    segment.update(
        ended="finished",
        wall_s=round(time.perf_counter() - t0, 3),
        end_epoch=trainer.epoch if trainer else 0,
    )
    segments = [*earlier, segment]
    result.provenance["segments"] = segments
    result.provenance["started"] = segments[0]["started"]
    result.provenance["wall_time_s"] = round(sum(s["wall_s"] for s in segments), 3)
    return result


def _resume(trainer: Trainer, ckpt: Path) -> list[dict]:
    """Load ``ckpt`` into ``trainer``; return the segments that made it."""
    state = load_checkpoint(ckpt, map_location=trainer.device)
    differ = trainer.config.differences(state["config"])
    if differ:
        theirs = state["config"]
        detail = ", ".join(
            f"{k}: checkpoint {theirs.get(k)!r} vs requested {getattr(trainer.config, k)!r}"
            for k in differ
        )
        raise ValueError(
            f"the checkpoint {ckpt} was made with another config ({detail}); "
            "delete it to start over, or request the same config"
        )
    trainer.load_state_dict(state)
    segments = state.get("segments", [])
    for earlier in segments:  # a segment still "running" ended without saving
        if earlier["ended"] == "running":
            earlier["ended"] = "killed (work after its last checkpoint was redone)"
    return segments


def completed_result(out_dir: str | os.PathLike, config: TrainConfig) -> dict | None:
    """The finished result file of this config in ``out_dir``, if there is one. What a run
    records besides its result (e.g. ``record_test_rmse``) does not count: a finished run
    is never trained again, and its file overwritten, for a record alone."""
    path = result_path(out_dir, config.run_name())
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    differ = set(config.differences(record["config"])) - RECORD_FIELDS
    if record.get("status") not in ("ok", "failed") or differ:
        return None
    return record
