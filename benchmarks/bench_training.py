"""Training speed on whatever device is present (CPU here, a GPU in the GPU session).

Prints, from one run of this script:
1. time per training step (batch 256, F = 17) for each method, and its ratio to the
   baseline's step time measured in the same run (methods interleaved round by round,
   so a noisy machine slows them alike);
2. the time of one epoch: the smoke profile's on a CPU, FD002's full-recipe epoch on a GPU;
3. with --checkpoint, the cost of writing a checkpoint against one full-recipe FD001
   epoch (the resumable trainer writes one at every epoch end);
4. with --jobs, the steady-state throughput of K concurrent trainers (training steps per
   second summed over them; start-up and warm-up not counted, TF32 on as in real runs,
   CPU cores split between them), and the K with the highest.

    python benchmarks/bench_training.py                  # steps + epoch
    python benchmarks/bench_training.py --checkpoint     # + checkpoint overhead
    python benchmarks/bench_training.py --jobs 1 2 4 8   # + concurrency (GPU session)

The smoke-epoch and concurrency parts read the C-MAPSS files (RULKIT_DATA_DIR).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from rulkit.train import TrainingStep, profile_config, seed_everything, set_tf32

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


def _worker(device: str, threads: int, seconds: float, warmup: int = 3) -> None:
    """One of K concurrent trainers: warm up, say 'ready', wait for 'go' on stdin, then
    count full-size training steps (FD002 shape, GRACE, batch 256) for ``seconds``."""
    torch.set_num_threads(threads)
    dev = torch.device(device)
    if dev.type == "cuda":
        set_tf32(True)  # as in real runs
    seed_everything(0)
    stepper = TrainingStep(profile_config("full", method="grace", device=device), 17, dev)
    x = torch.randn(256, 30, 17, device=dev)
    y_rul, y_health = torch.rand(256, device=dev) * 125, torch.randint(0, 3, (256,), device=dev)
    for _ in range(warmup):
        stepper(x, y_rul, y_health)
    sync(dev)
    print("ready", flush=True)
    sys.stdin.readline()
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        stepper(x, y_rul, y_health)
        steps += 1
    sync(dev)
    print(f"steps {steps} {time.perf_counter() - t0:.3f}", flush=True)


def concurrency(jobs_list, device: str, seconds: float = 20.0):
    """Steady-state throughput of K simultaneous trainers (steps/s summed over them), for
    each K: process start-up, data loading and warm-up are outside the timed window, and
    on a CPU the cores are split between the K processes as the sweep splits them."""
    rows = []
    for k in jobs_list:
        threads = max(1, (os.cpu_count() or 1) // k) if not device.startswith("cuda") else 1
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--device",
            device,
            "--threads",
            str(threads),
            "--seconds",
            str(seconds),
        ]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        procs = [
            subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(k)
        ]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # all start together
            p.stdin.write("go\n")
            p.stdin.flush()
        rates = []
        for p in procs:
            _, steps, took = p.stdout.readline().split()
            rates.append(int(steps) / float(took))
            p.wait()
        rows.append(
            {
                "jobs": k,
                "threads": threads,
                "steps_per_s": sum(rates),
                "per_run_steps_per_s": statistics.mean(rates),
            }
        )
    return rows


def checkpoint_cost(device: torch.device, subset: str = "FD001", method: str = "grace"):
    """(epoch seconds, median checkpoint-write seconds, checkpoint MB) for one full-recipe
    epoch of ``subset``: what writing the whole training state at every epoch end costs."""
    from rulkit.checkpoint import save_checkpoint
    from rulkit.train import Trainer

    trainer = Trainer(profile_config("full", subset=subset, method=method, device=str(device)))
    t0 = time.perf_counter()
    trainer.train_epoch()
    trainer.end_epoch()
    sync(device)
    epoch = time.perf_counter() - t0
    saves = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.pt")
        for _ in range(3):
            t0 = time.perf_counter()
            save_checkpoint(trainer.state_dict(), path)
            saves.append(time.perf_counter() - t0)
        size = os.path.getsize(path) / 2**20
    return epoch, statistics.median(saves), size


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
    parser.add_argument("--seconds", type=float, default=20.0, help="timed window for --jobs")
    parser.add_argument(
        "--checkpoint", action="store_true", help="cost of a checkpoint vs an FD001 full epoch"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA only)")
    parser.add_argument("--best-jobs-file", help="write the K with the highest throughput here")
    args = parser.parse_args()
    if args.worker:
        return _worker(args.device, args.threads, args.seconds)
    device = torch.device(args.device)
    if device.type == "cuda":
        set_tf32(True)  # as in real runs
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

    if args.checkpoint:
        epoch, save, size = checkpoint_cost(device)
        print(
            f"\ncheckpoint: {size:.0f} MB written in {save:.2f} s (median of 3); one FD001 "
            f"full-recipe epoch {epoch:.1f} s; overhead {save / epoch:.2%} of an epoch"
        )

    if args.jobs:
        print(f"\nconcurrent trainers, steady state over {args.seconds:.0f} s (GRACE, batch 256)")
        print(f"{'K':>3}{'threads':>9}{'steps/s':>10}{'per run':>10}")
        rows = concurrency(args.jobs, args.device, args.seconds)
        for row in rows:
            print(
                f"{row['jobs']:>3}{row['threads']:>9}{row['steps_per_s']:>10.2f}"
                f"{row['per_run_steps_per_s']:>10.2f}"
            )
        best = max(rows, key=lambda r: r["steps_per_s"])
        print(f"highest throughput at K = {best['jobs']}")
        if args.best_jobs_file:
            with open(args.best_jobs_file, "w") as handle:
                handle.write(f"{best['jobs']}\n")


if __name__ == "__main__":
    main()
