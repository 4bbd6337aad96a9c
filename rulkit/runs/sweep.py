"""Many runs: a grid of subsets x methods x seeds that any number of workers share
(the book's "Running" page).

Each run is its own ``rulkit train`` process. It takes the run's lock (so two
workers never train one run), checkpoints at every epoch end and writes its
result file atomically at the end. So a sweep can be stopped at any moment and
started again, on this machine or another one sharing the folder: finished runs
are skipped, interrupted ones continue from their checkpoints, and runs held by
another live worker are waited for (and taken over if that worker dies). Runs
are started seed-major (all subsets and methods of seed 0, then seed 1, ...) so
a grid cut short is still balanced across methods.

With ``max_minutes`` the sweep starts no run after that time, gives every run
it starts the time that is left (each stops at its first epoch end after it,
checkpoint kept), and sends SIGTERM to any still running a minute later.
"""

from __future__ import annotations

import ctypes
import functools
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..data.cmapss import check_subset
from ..methods import get_method
from ..results import result_path
from .checkpoint import EXIT_LOCKED, EXIT_STOPPED, lock_holder


@dataclass(frozen=True)
class Run:
    subset: str
    method: str
    seed: int


def grid(subsets: list[str], methods: list[str], seeds: list[int]) -> list[Run]:
    """All runs, seed-major, names validated."""
    subsets = [check_subset(s) for s in subsets]
    methods = [get_method(m).name for m in methods]
    return [Run(sub, m, seed) for seed in seeds for sub in subsets for m in methods]


def parse_seeds(text: str | list[str]) -> list[int]:
    """'0-4' -> [0..4]; '0,2,5' -> [0, 2, 5]; a list of such strings is joined."""
    parts = text if isinstance(text, list) else [text]
    seeds: list[int] = []
    for part in ",".join(parts).replace(" ", ",").split(","):
        if not part:
            continue
        if "-" in part.strip("-"):
            lo, hi = part.split("-", 1)
            seeds += range(int(lo), int(hi) + 1)
        else:
            seeds.append(int(part))
    if not seeds:
        raise ValueError(f"no seeds in {text!r}")
    return seeds


def parse_shard(text: str | None) -> tuple[int, int]:
    """'1/4' -> (1, 4): this worker takes runs 1, 5, 9, ... of the grid (0-based)."""
    if not text:
        return 0, 1
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard expects i/n such as 0/4, got {text!r}") from None
    if not 0 <= i < n:
        raise ValueError(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return i, n


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the sweep dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


AUTOGROUP = Path("/proc/self/autogroup")


def autogroup_nice() -> int | None:
    """This process's autogroup niceness (Linux autogroup scheduling), None without it."""
    try:  # the file reads "/autogroup-236 nice 19"
        return int(AUTOGROUP.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def _child_setup(nice: int | None) -> None:
    """In the child before exec: die with the sweep, and keep the sweep's autogroup
    niceness. A child in its own session gets a new autogroup at nice 0; without this,
    a campaign lowered with AUTOGROUP_NICE would train at full priority."""
    _die_with_parent()
    if not nice:
        return
    for _ in range(5):  # the kernel refuses (EAGAIN) writes closer than 0.1 s together
        try:
            AUTOGROUP.write_text(str(nice))
            return
        except BlockingIOError:
            time.sleep(0.1)
        except OSError:  # not Linux, or no autogroup scheduling
            return


def _command(run: Run, out: Path, profile: str, device: str, overrides: dict, minutes) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "rulkit",
        "train",
        "--subset",
        run.subset,
        "--method",
        run.method,
        "--seed",
        str(run.seed),
        "--profile",
        profile,
        "--device",
        device,
        "--out",
        str(out),
        "--quiet",
    ]
    if minutes is not None:
        cmd += ["--max-minutes", f"{minutes:.3f}"]
    for key, value in overrides.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def _status(path: Path) -> str | None:
    record = _read_result(path)
    return None if record is None else record["status"]


def sweep(
    subsets: list[str],
    methods: list[str],
    seeds: list[int],
    out: str | os.PathLike = "results",
    profile: str = "auto",
    device: str = "auto",
    jobs: int = 1,
    max_minutes: float | None = None,
    overrides: dict | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    shard: tuple[int, int] = (0, 1),
    poll_seconds: float = 1.0,
    stale_after: float = 180.0,
) -> dict:
    """Run this worker's part of the grid, ``jobs`` processes at a time.

    Returns counts (``planned``, ``skipped`` already done, ``ok``, ``failed``,
    ``stopped`` for time, ``not_started``, ``elsewhere``: left to other live
    workers when time ran out) and a log of the runs this worker trained.
    """
    from tqdm.auto import tqdm

    from ..config import profile_config
    from .resumable import completed_result

    overrides = dict(overrides or {})
    out = Path(out)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    on_cpu = device == "cpu" or (device == "auto" and not _has_cuda())
    if on_cpu and "threads" not in overrides:  # each child gets its share of the cores
        overrides["threads"] = max(1, (os.cpu_count() or 1) // max(1, jobs))
    if "threads" in overrides:
        env["OMP_NUM_THREADS"] = str(overrides["threads"])

    i, n = shard
    runs = grid(subsets, methods, seeds)[i::n]
    configs = {
        run: profile_config(
            profile, subset=run.subset, method=run.method, seed=run.seed, device=device, **overrides
        )
        for run in runs
    }
    profile = next(iter(configs.values())).profile if configs else profile  # 'auto' resolved

    def done(run: Run) -> bool:
        record = completed_result(out, configs[run])
        return record is not None and (record["status"] == "ok" or not retry_failed)

    pending = [r for r in runs if not done(r)]
    summary = {
        "planned": len(runs),
        "skipped": len(runs) - len(pending),
        "ok": 0,
        "failed": 0,
        "stopped": 0,
        "not_started": 0,
        "elsewhere": 0,
        "interrupted": False,
        "log": [],
    }
    start = time.monotonic()
    deadline = None if max_minutes is None else start + 60 * max_minutes
    running: dict[Run, tuple[subprocess.Popen, float]] = {}
    told_to_stop: set[int] = set()  # pids sent SIGTERM once (a second would skip the save)

    def stop_children() -> None:
        for proc, _ in running.values():
            if proc.pid not in told_to_stop:
                told_to_stop.add(proc.pid)
                proc.send_signal(signal.SIGTERM)

    bar = tqdm(total=len(pending), disable=not progress, desc="sweep", unit="run")
    try:
        while pending or running:
            now = time.monotonic()
            out_of_time = deadline is not None and now >= deadline
            for run in list(pending):
                if out_of_time or len(running) >= max(1, jobs):
                    break
                if done(run):  # another worker finished it
                    pending.remove(run)
                    bar.update(1)
                    continue
                name = configs[run].run_name()
                if lock_holder(out / "checkpoints" / f"{name}.lock", stale_after) is not None:
                    continue  # a live worker trains it; look again later
                pending.remove(run)
                minutes = None if deadline is None else max(0.0, (deadline - now) / 60)
                cmd = _command(run, out, profile, device, overrides, minutes)
                if retry_failed:
                    cmd.append("--force")  # its failed result file is to be replaced
                with open(logs / f"{name}.log", "a") as handle:  # a file: never blocks
                    # Own session: a Ctrl-C reaches the sweep only, which forwards one SIGTERM.
                    proc = subprocess.Popen(
                        cmd,
                        env=env,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=functools.partial(_child_setup, autogroup_nice()),
                    )
                running[run] = (proc, now)
            if out_of_time and not running:
                left = [r for r in pending if not done(r)]
                summary["not_started"] = sum(
                    lock_holder(out / "checkpoints" / f"{configs[r].run_name()}.lock", stale_after)
                    is None
                    for r in left
                )
                summary["elsewhere"] = len(left) - summary["not_started"]
                break
            if deadline is not None and now > deadline + 60:  # runs past their own limit
                stop_children()
            time.sleep(poll_seconds)
            for run, (proc, t0) in list(running.items()):
                code = proc.poll()
                if code is None:
                    continue
                del running[run]
                name = configs[run].run_name()
                if code == EXIT_LOCKED:  # lost the race for the lock: try again later
                    pending.append(run)
                    continue
                kind = _count(summary, name, code, out, t0)
                if kind != "stopped":
                    bar.update(1)
                bar.set_postfix(ok=summary["ok"], failed=summary["failed"])
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through the CLI
        summary["interrupted"] = True
        summary["not_started"] = len(pending)
    finally:
        stop_children()  # the children checkpoint and stop
        for run, (proc, t0) in running.items():
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = EXIT_STOPPED
            # a run that finished while being stopped counts as what it wrote
            _count(summary, configs[run].run_name(), code, out, t0)
        bar.close()
    summary["minutes"] = round((time.monotonic() - start) / 60, 2)
    return summary


def _count(summary: dict, name: str, code: int, out: Path, t0: float) -> str:
    """Count a child that exited with ``code`` as ok, failed or stopped; log it."""
    status = _status(result_path(out, name)) if code in (0, 1) else None
    kind = {"ok": "ok", "failed": "failed"}.get(status or "", "")
    if code == EXIT_STOPPED or (code < 0 and not kind):  # stopped, or killed by a signal
        kind = "stopped"
    elif not kind:  # crashed without a result file (see its log)
        kind, status = "failed", f"exit code {code}, no result file"
    summary[kind] += 1
    summary["log"].append(
        {
            "run": name,
            "status": status or kind,
            "seconds": round(time.monotonic() - t0, 1),
            "exit_code": code,
        }
    )
    return kind


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def progress(out_dir: str | os.PathLike) -> list[dict]:
    """Where every run in ``out_dir`` stands: finished (its result file) or part-way (its
    checkpoint, read without loading the weights), who trains it now, and for a part-way
    run the earliest epoch at which early stopping can end it and the time that takes at
    the pace of its last stretch. One dict per run, sorted by name."""
    from .checkpoint import load_checkpoint

    out = Path(out_dir)
    rows: dict[str, dict] = {}
    for path in sorted(out.glob("*.json")):
        record = _read_result(path)
        if record is None:
            continue
        provenance = record.get("provenance", {})
        rows[path.stem] = {
            "run": path.stem,
            "state": record["status"],
            "epoch": record.get("epochs_run"),
            "best epoch": record.get("best_epoch"),
            "best val RMSE": (record.get("val") or {}).get("rmse"),
            "hours": provenance.get("wall_time_s", 0.0) / 3600,  # the sum of its segments
            "segments": len(provenance.get("segments", [])),
            "earliest end": record.get("epochs_run"),
            "min hours left": 0.0,
        }
    for ckpt in sorted((out / "checkpoints").glob("*.pt")):
        if ckpt.stem in rows:  # a kept checkpoint (--keep-checkpoint) of a finished run
            continue
        try:
            state = load_checkpoint(ckpt, map_location="cpu", mmap=True)
        except Exception as err:  # a torn or foreign file: say so, do not stop
            rows[ckpt.stem] = {"run": ckpt.stem, "state": f"unreadable checkpoint ({err})"}
            continue
        cfg, epoch, best = state["config"], state["epoch"], state["best"]
        # before its first validation a run has no best epoch yet; epoch 1 will be the first
        ends = min(cfg["max_epochs"], max(best["epoch"], 1) + cfg["early_stop_patience"])
        segments = state.get("segments", [])
        trained = [s for s in segments if s["end_epoch"] > s["start_epoch"]]
        last = trained[-1] if trained else None  # the pace of the latest stretch
        pace = last["wall_s"] / (last["end_epoch"] - last["start_epoch"]) if last else None
        holder = lock_holder(ckpt.with_suffix(".lock"))
        rows[ckpt.stem] = {
            "run": ckpt.stem,
            "state": "paused"
            if holder is None
            else f"training (pid {holder['pid']} on {holder['host']})",
            "epoch": epoch,
            "best epoch": best["epoch"],
            "best val RMSE": best["val_rmse"] if math.isfinite(best["val_rmse"]) else None,
            "hours": sum(s["wall_s"] for s in segments) / 3600,
            "segments": len(segments),
            "earliest end": ends,
            "min hours left": max(ends - epoch, 0) * pace / 3600 if pace else None,
        }
    return [rows[k] for k in sorted(rows)]


def _read_result(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and "status" in record else None
