"""Many runs: a grid of subsets x methods x seeds, resumable and time-boxed.

Each run is its own ``rulkit train`` process that writes its result file
atomically at the end, so the sweep can be killed at any moment: rerunning it
skips every run whose file exists and finishes the rest. Runs are started
seed-major (all subsets and methods of seed 0, then seed 1, ...) so a grid cut
short by its time budget is still balanced across methods.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .data.cmapss import check_subset
from .methods import get_method
from .results import result_path, run_name


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


def _is_done(path: Path, retry_failed: bool) -> bool:
    if not path.is_file():
        return False
    if not retry_failed:
        return True
    try:
        return json.loads(path.read_text()).get("status") == "ok"
    except (OSError, json.JSONDecodeError):
        return False


def _command(run: Run, out: Path, profile: str, device: str, overrides: dict) -> list[str]:
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
    for key, value in overrides.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def sweep(
    subsets: list[str],
    methods: list[str],
    seeds: list[int],
    out: str | os.PathLike = "results",
    profile: str = "auto",
    device: str = "auto",
    jobs: int = 1,
    budget_minutes: float | None = None,
    overrides: dict | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> dict:
    """Run the grid, ``jobs`` processes at a time; returns counts and the log of runs.

    With a budget, no run is started once the elapsed time plus the longest run
    seen so far (times ``jobs`` waves in flight) would pass it.
    """
    from tqdm.auto import tqdm

    from .train import profile_config

    profile = profile_config(profile, device=device).profile  # resolve 'auto' once
    out = Path(out)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    overrides = overrides or {}
    runs = grid(subsets, methods, seeds)
    todo = [r for r in runs if not _is_done(result_path(out, *_key(r, profile)), retry_failed)]
    summary = {
        "planned": len(runs),
        "skipped": len(runs) - len(todo),
        "ok": 0,
        "failed": 0,
        "not_started": 0,
        "log": [],
    }
    env = dict(os.environ)
    if device == "cpu" or (device == "auto" and not _has_cuda()):
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, jobs))))
    start = time.perf_counter()
    longest = _longest_known_run(out, profile)  # so a resumed sweep respects its budget at once
    running: list[tuple[Run, subprocess.Popen, float]] = []
    queue = list(todo)
    bar = tqdm(total=len(todo), disable=not progress, desc="sweep", unit="run")
    try:
        while queue or running:
            while queue and len(running) < max(1, jobs):
                elapsed = time.perf_counter() - start
                if budget_minutes is not None and elapsed + longest > budget_minutes * 60:
                    summary["not_started"] = len(queue)
                    queue.clear()
                    break
                run = queue.pop(0)
                log = logs / f"{run_name(*_key(run, profile))}.log"
                with open(log, "w") as handle:  # a file, not a pipe: a chatty child never blocks
                    proc = subprocess.Popen(
                        _command(run, out, profile, device, overrides),
                        env=env,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    )
                running.append((run, proc, time.perf_counter()))
            time.sleep(0.2)
            for item in list(running):
                run, proc, t0 = item
                if proc.poll() is None:
                    continue
                running.remove(item)
                took = time.perf_counter() - t0
                longest = max(longest, took)
                status = _status(result_path(out, *_key(run, profile)))
                summary["ok" if status == "ok" else "failed"] += 1
                summary["log"].append(
                    {
                        "run": run_name(*_key(run, profile)),
                        "status": status,
                        "seconds": round(took, 1),
                        "exit_code": proc.returncode,
                    }
                )
                bar.update(1)
                bar.set_postfix(ok=summary["ok"], failed=summary["failed"])
    finally:
        for _, proc, _ in running:  # interrupted: stop the children too
            proc.terminate()
        bar.close()
    summary["minutes"] = round((time.perf_counter() - start) / 60, 2)
    return summary


def _key(run: Run, profile: str) -> tuple[str, str, int, str]:
    return run.subset, run.method, run.seed, profile


def _status(path: Path) -> str:
    try:
        return json.loads(path.read_text()).get("status", "unknown")
    except (OSError, json.JSONDecodeError):
        return "no result file"


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _longest_known_run(out: Path, profile: str) -> float:
    """Longest wall time among the finished runs of ``profile`` already in ``out``."""
    longest = 0.0
    for path in out.glob(f"*_{profile}.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        longest = max(longest, float(record.get("provenance", {}).get("wall_time_s") or 0.0))
    return longest
