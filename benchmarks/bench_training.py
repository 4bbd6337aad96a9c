"""Training speed on whatever device is present (CPU here, a GPU in the GPU session).

Prints, from one run of this script:
1. time per training step (batch 256, F = 17) for each method, and its ratio to the
   baseline's step time measured in the same run (methods interleaved round by round,
   so a noisy machine slows them alike);
2. the time of one epoch: the smoke profile's on a CPU, FD002's full-recipe epoch on a GPU;
3. with --jobs, aggregate throughput of K concurrent ``rulkit train`` processes
   (epochs per minute over all processes) for each K.

    python benchmarks/bench_training.py                  # steps + epoch
    python benchmarks/bench_training.py --jobs 1 2 4 8   # + concurrency (GPU session)

The smoke-epoch and concurrency parts read the C-MAPSS files (RULKIT_DATA_DIR).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from rulkit.train import TrainingStep, profile_config, seed_everything

CORE_METHODS = ["baseline", "amnl", "gaba", "grace"]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_times(methods, device, batch=256, rounds=5, steps_per_round=3, warmup=2, **cfg_extra):
    """Median seconds per step of each method, methods interleaved round by round."""
    seed_everything(0)
    x = torch.randn(batch, 30, 17, device=device)
    y_rul = torch.rand(batch, device=device) * 125
    y_health = torch.randint(0, 3, (batch,), device=device)
    steppers = {}
    for spec in methods:  # "grace:2" = grace measuring task gradients every 2nd step
        name, _, every = spec.partition(":")
        cfg = profile_config(
            "full", method=name, device=str(device), **cfg_extra, grad_norm_every=int(every or 1)
        )
        steppers[spec] = TrainingStep(cfg, 17, device)
    for stepper in steppers.values():
        for _ in range(warmup):
            stepper(x, y_rul, y_health)
    times: dict[str, list[float]] = {m: [] for m in methods}
    for _ in range(rounds):
        for m, stepper in steppers.items():
            sync(device)
            t0 = time.perf_counter()
            for _ in range(steps_per_round):
                stepper(x, y_rul, y_health)
            sync(device)
            times[m].append((time.perf_counter() - t0) / steps_per_round)
    return {m: statistics.median(t) for m, t in times.items()}


def epoch_time(device: torch.device, method: str = "grace") -> tuple[str, float, int]:
    """Seconds for one training epoch: smoke profile on a CPU, full FD002 on a GPU."""
    from rulkit.train import prepare_for

    profile = "full" if device.type == "cuda" else "smoke"
    subset = "FD002" if profile == "full" else "FD001"
    cfg = profile_config(profile, subset=subset, method=method, device=str(device))
    data = prepare_for(cfg)
    stepper = TrainingStep(cfg, data.n_features, device)
    X = torch.as_tensor(data.train.X, device=device)
    y_rul = torch.as_tensor(data.train.y_rul, device=device)
    y_health = torch.as_tensor(data.train.y_health, device=device)
    n_steps = len(X) // cfg.batch_size
    order = torch.randperm(len(X), device=device)
    first = order[: cfg.batch_size]
    stepper(X[first], y_rul[first], y_health[first])  # warm-up (allocations, kernel choice)
    sync(device)
    t0 = time.perf_counter()
    for b in range(n_steps):
        idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
        stepper(X[idx], y_rul[idx], y_health[idx])
    sync(device)
    return (
        f"{subset} {profile} ({n_steps} steps of {cfg.batch_size})",
        time.perf_counter() - t0,
        n_steps,
    )


def concurrency(jobs_list, device: str, epochs: int, subset: str = "FD002", method: str = "grace"):
    """Aggregate epochs per minute of K simultaneous training processes, for each K."""
    profile = "full" if device.startswith("cuda") else "smoke"
    rows = []
    for k in jobs_list:
        with tempfile.TemporaryDirectory() as out:
            cmd = lambda seed: [
                sys.executable,
                "-m",
                "rulkit",
                "train",
                "--subset",
                subset,
                "--method",
                method,
                "--seed",
                str(seed),
                "--profile",
                profile,
                "--device",
                device,
                "--out",
                out,
                "--quiet",
                "--set",
                f"max_epochs={epochs}",
                "--set",
                f"early_stop_patience={epochs + 1}",
            ]
            env = dict(os.environ)
            if not device.startswith("cuda"):
                env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // k))
            t0 = time.perf_counter()
            procs = [subprocess.Popen(cmd(s), env=env, stdout=subprocess.DEVNULL) for s in range(k)]
            codes = [p.wait() for p in procs]
            wall = time.perf_counter() - t0
            walls = []
            for name in os.listdir(out):
                if name.endswith(".json"):
                    with open(os.path.join(out, name)) as handle:
                        walls.append(json.load(handle)["provenance"]["wall_time_s"])
        rows.append(
            {
                "jobs": k,
                "ok": codes.count(0),
                "wall_s": wall,
                "epochs_per_min": k * epochs / wall * 60,
                "mean_run_s": statistics.mean(walls) if walls else float("nan"),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=CORE_METHODS,
        help="method names; 'grace:2' measures task gradients every 2nd step",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-epoch", action="store_true", help="skip the epoch timing")
    parser.add_argument("--jobs", nargs="*", type=int, default=[], help="K values to try")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run for --jobs")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA only)")
    parser.add_argument("--best-jobs-file", help="write the K with the highest throughput here")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name}; torch {torch.__version__}; threads {torch.get_num_threads()}")

    times = step_times(args.methods, device, rounds=args.rounds, amp=args.amp)
    base = times.get("baseline")
    print("\nstep time, batch 256, F = 17 (median over rounds)")
    print(f"{'method':<12}{'ms/step':>10}{'x baseline':>12}")
    for m, t in times.items():
        ratio = f"{t / base:.2f}" if base else "-"
        print(f"{m:<12}{t * 1e3:>10.1f}{ratio:>12}")

    if not args.no_epoch:
        label, seconds, n_steps = epoch_time(device)
        print(
            f"\nepoch time, grace, {label}: {seconds:.2f} s ({seconds / n_steps * 1e3:.1f} ms/step)"
        )

    if args.jobs:
        print(f"\nconcurrent runs ({args.epochs} epochs each)")
        print(f"{'K':>3}{'ok':>4}{'wall s':>9}{'epochs/min':>12}{'mean run s':>12}")
        rows = concurrency(args.jobs, args.device, args.epochs)
        for row in rows:
            print(
                f"{row['jobs']:>3}{row['ok']:>4}{row['wall_s']:>9.1f}"
                f"{row['epochs_per_min']:>12.1f}{row['mean_run_s']:>12.1f}"
            )
        complete = [r for r in rows if r["ok"] == r["jobs"]]
        if not complete:
            raise SystemExit("no K completed all its runs")
        best = max(complete, key=lambda r: r["epochs_per_min"])
        print(f"highest throughput at K = {best['jobs']}")
        if args.best_jobs_file:
            with open(args.best_jobs_file, "w") as handle:
                handle.write(f"{best['jobs']}\n")


if __name__ == "__main__":
    main()
