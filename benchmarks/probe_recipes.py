"""Short CPU probes of DualTaskModel recipes on FD001 (issue 15): one JSON line per epoch.

Each probe is the `tuned` profile with a few fields changed, baseline method unless the probe
says otherwise, trained in memory on one thread. Every line holds the validation RMSE (all
windows, and windows below the cap) and, for the record only, the test RMSE: nothing here
chooses on the test set. The lines of 2026-12-04 and 2026-12-05 are in
benchmarks/measurements/, each with a table made by ``--table``.

    python benchmarks/probe_recipes.py small,small_noise5 40 0 > probes.jsonl
    python benchmarks/probe_recipes.py --table probes.jsonl   # one row per probe and seed
"""

import json
import sys
import time
from pathlib import Path

import torch

from rulkit.config import profile_config
from rulkit.train import Trainer, prepare_for

SMALL = {
    "lstm_hidden": 32,
    "conv_channels": [32, 32, 32],
    "funnel": [64, 32, 16],
    "attention_heads": 4,
}  # 78,036 parameters with 14 inputs (the tuned model has 342,468)
# the DCNN profile's optimisation: Adam (no decay), batch 512, no warm-up, clipping or average
DCNN_OPT = {
    "batch_size": 512,
    "weight_decay": 0.0,
    "warmup_epochs": 0,
    "grad_clip": 0.0,
    "ema_decay": 0.0,
    "plateau_patience": 10**6,
}
PROBES = {
    "tuned": {},
    "small": {"model": SMALL},
    "small_noise": {"model": SMALL, "input_noise": 0.1},
    "small_noise5": {"model": SMALL, "input_noise": 0.5},
    "small_w30": {"model": SMALL, "window": 30},
    "tuned_noise": {"input_noise": 0.1},
    "small_drop": {"model": {**SMALL, "conv_dropout": 0.3, "funnel_dropout": 0.5}},
    "small_rulonly": {"model": SMALL, "method": "rul_only"},
    "small_lr3": {"model": SMALL, "lr": 3e-4},
    "small_wd": {"model": SMALL, "weight_decay": 0.5},
    "small_bs": {"model": SMALL, "batch_size": 512},
    "small_lr3_noise5": {"model": SMALL, "lr": 3e-4, "input_noise": 0.5},
    "small_lr1": {"model": SMALL, "lr": 1e-4, "warmup_epochs": 2},
    # which half explains the gap to the DCNN: its architecture or its optimisation?
    "dcnn_tunedopt": {"arch": "dcnn", "method": "rul_only", "window": 30, "model": {}},
    "small_dcnnopt": {"model": SMALL, "window": 30, **DCNN_OPT},
    # the architecture, then: the DCNN's bounded tanh, and a CNN without BatchNorm
    "small_tanh": {"model": {**SMALL, "activation": "tanh"}},
    "small_nobn": {"model": {**SMALL, "conv_batchnorm": False}},
    "small_tanh_nobn": {"model": {**SMALL, "activation": "tanh", "conv_batchnorm": False}},
    # tanh features are bounded: a head on raw cycles (0-125) barely moves, so scale targets
    "small_tanh125": {"model": {**SMALL, "activation": "tanh"}, "rul_scale": 125.0},
    # engines start at different healthy levels: subtract each engine's own first cycles
    "small_base10": {"model": SMALL, "engine_baseline": 10},
    "small_lr3_base10": {"model": SMALL, "lr": 3e-4, "engine_baseline": 10},
    # how far does noise go: twice as much on the small model, and 0.5 on the tuned one
    "small_lr3_noise10": {"model": SMALL, "lr": 3e-4, "input_noise": 1.0},
    "tuned_lr3_noise5": {"lr": 3e-4, "input_noise": 0.5},
    "small_nobn_lr3_noise5": {
        "model": {**SMALL, "conv_batchnorm": False},
        "lr": 3e-4,
        "input_noise": 0.5,
    },
    "small_tanh125_noise5": {
        "model": {**SMALL, "activation": "tanh"},
        "rul_scale": 125.0,
        "input_noise": 0.5,
    },
}


def probe(name: str, epochs: int, seed: int) -> None:
    """Train one probe for ``epochs`` epochs (no early stop) and print a line per epoch."""
    over = dict(PROBES[name])
    method = over.pop("method", "baseline")
    cfg = profile_config(
        "tuned",
        subset="FD001",
        method=method,
        seed=seed,
        device="cpu",
        record_test_rmse=True,
        max_epochs=epochs,
        early_stop_patience=epochs,
        **over,
    )
    t0 = time.time()
    trainer = Trainer(cfg, prepare_for(cfg))
    while not trainer.finished():
        trainer.train_epoch()
        val = trainer.end_epoch()
        c = trainer.curves
        line = {
            "probe": name,
            "seed": seed,
            "epoch": trainer.epoch,
            "val": round(val, 3),
            "vbc": round(c["val_rmse_below_cap"][-1], 3),
            "vac": round(c["val_rmse_at_cap"][-1], 3),
            "test": round(c["test_rmse"][-1], 3),
            "train": round(c["train_loss_rul"][-1], 1),
            "t": round(time.time() - t0, 1),
        }
        print(json.dumps(line), flush=True)


def table(path: str) -> str:
    """Markdown: per probe and seed, the epoch that validation chooses (all windows, the
    protocol's rule, and windows below the cap) and the test RMSE there (for the record)."""
    runs: dict[tuple[str, int], list[dict]] = {}
    for line in Path(path).read_text().splitlines():
        d = json.loads(line)
        runs.setdefault((d["probe"], d["seed"]), []).append(d)
    rows = [
        "| probe | seed | epochs | chosen epoch | val RMSE | at cap | test RMSE at it "
        "| below-cap choice: epoch / test |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (name, seed), lines in runs.items():
        best = min(lines, key=lambda d: d["val"])
        below = min(lines, key=lambda d: d["vbc"])
        rows.append(
            f"| {name} | {seed} | {len(lines)} | {best['epoch']} | {best['val']:.2f} "
            f"| {best.get('vac', float('nan')):.2f} | {best['test']:.2f} "
            f"| {below['epoch']} / {below['test']:.2f} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    if sys.argv[1] == "--table":
        print(table(sys.argv[2]))
        sys.exit()
    torch.set_num_threads(1)
    names = sys.argv[1].split(",")
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    for name in names:
        probe(name, epochs, seed)
