"""CPU cost of a run of the tuned recipe against the book's, from ratios measured in one run.

A run's cost is (seconds per step) x (steps per epoch) x (epochs it runs). The first
factor is timed here, the two recipes interleaved round by round on one thread so that a
noisy machine slows both alike; the other two come from the FD001 shapes and from the
result files (mean epochs run per recipe). Prints the ratio tuned / book per method.

    python benchmarks/bench_recipes.py [--rounds 5] [--results results]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from rulkit.results import load_results
from rulkit.train import TrainingStep, profile_config, seed_everything

METHODS = ["baseline", "amnl", "gaba", "grace"]
FD001_TRAIN_WINDOWS = {30: 14042, 40: 13242}  # 80 training engines, seed 0 split


def step_seconds(profile: str, method: str, rounds: int, steps: int = 3) -> list[float]:
    """Seconds per training step of one recipe, one value per round (after a warm-up)."""
    cfg = profile_config(profile, subset="FD001", method=method, device="cpu")
    n_features = 17 if cfg.use_settings else 14
    seed_everything(0)
    stepper = TrainingStep(cfg, n_features, torch.device("cpu"))
    x = torch.randn(cfg.batch_size, cfg.window, n_features)
    y = torch.rand(cfg.batch_size) * 125
    h = torch.randint(0, 3, (cfg.batch_size,))
    stepper(x, y, h)
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            stepper(x, y, h)
        out.append((time.perf_counter() - t0) / steps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--results", default="results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    runs = load_results(args.results)
    print(
        f"{'method':<10}{'step ratio':>12}{'steps/epoch ratio':>19}{'epochs book':>13}"
        f"{'epochs tuned':>14}{'cost ratio':>12}"
    )
    for method in METHODS:
        book, tuned = [], []
        for _ in range(args.rounds):  # interleaved: both recipes see the same load
            book += step_seconds("full", method, 1)
            tuned += step_seconds("tuned", method, 1)
        step_ratio = statistics.median(tuned) / statistics.median(book)
        spe = {}
        epochs = {}
        for profile in ("full", "tuned"):
            cfg = profile_config(profile, subset="FD001", method=method)
            spe[profile] = FD001_TRAIN_WINDOWS[cfg.window] // cfg.batch_size
            done = [
                r["epochs_run"]
                for r in runs
                if r["subset"] == "FD001"
                and r["method"] == method
                and r["profile"] == profile
                and not r.get("config_hash")
            ]
            epochs[profile] = float(np.mean(done)) if done else float("nan")
        spe_ratio = spe["tuned"] / spe["full"]
        cost = step_ratio * spe_ratio * epochs["tuned"] / epochs["full"]
        print(
            f"{method:<10}{step_ratio:>12.3f}{spe_ratio:>19.3f}{epochs['full']:>13.1f}"
            f"{epochs['tuned']:>14.1f}{cost:>12.3f}"
        )


if __name__ == "__main__":
    main()
