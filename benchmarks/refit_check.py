"""Refit check (issue 15): train again on all training engines for the epochs validation chose.

A finished run held 20 of FD001's 100 training engines out to choose its epoch. Its refit
starts afresh (same config and seed) on all 100 engines, trains exactly that many epochs,
replays the run's learning-rate plateau decisions (it feeds the run's recorded validation
curve to the schedule, since its own validation engines are now training data) and keeps
the weight average (EMA) of the last epoch. The test set is read once, at the end, and
chooses nothing. Normalisation stays fitted on the run's 80 training engines.

    python benchmarks/refit_check.py run RESULT_FILE ... >> refits.jsonl
    python benchmarks/refit_check.py --table refits.jsonl
    python benchmarks/refit_check.py control RESULT_FILE   # no engines added

The control replays the run on its own 80 engines: it must give the run's own test RMSE
(on the CPU model that trained it), which checks that the replay is faithful.

The pre-registration and results are in benchmarks/measurements/refit_check_2026-12-06.md.
"""

import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from rulkit import metrics
from rulkit.config import TrainConfig
from rulkit.data.prepare import Split
from rulkit.provenance import provenance
from rulkit.train import Trainer, predict, prepare_for


def merged(data):
    """The prepared data with the validation engines' windows added to the training split."""
    train, val = data.train, data.val
    both = Split(
        X=np.concatenate([train.X, val.X]),
        y_rul=np.concatenate([train.y_rul, val.y_rul]),
        y_health=np.concatenate([train.y_health, val.y_health]),
        unit=np.concatenate([train.unit, val.unit]),
    )
    return dataclasses.replace(data, train=both)


def refit(path: str, add_val: bool = True) -> dict:
    """Refit the run of one result file; a JSON-ready record. With ``add_val=False`` this
    replays the run itself (the control: same windows, same epochs, same schedule)."""
    run = json.loads(Path(path).read_text())
    if run.get("status") != "ok" or not run.get("best_epoch"):
        raise ValueError(f"{path}: not a finished run with a chosen epoch")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    config = {k: v for k, v in run["config"].items() if k in fields}
    config.update(data_dir=None, max_minutes=None, record_test_rmse=False, threads=1)
    cfg = TrainConfig(**config)
    t0 = time.perf_counter()
    data = prepare_for(cfg)
    trainer = Trainer(cfg, merged(data) if add_val else data)
    val_curve = run["curves"]["val_rmse"]
    for epoch in range(run["best_epoch"]):
        trainer.train_epoch()
        losses = trainer.partial["loss_sum"] / trainer.steps_per_epoch
        if not bool(losses.isfinite().all()):
            raise FloatingPointError(f"{path}: non-finite loss in refit epoch {epoch + 1}")
        trainer.stepper.balancer.end_epoch(losses)
        trainer.lr.epoch_end(val_curve[epoch])  # the run's plateau decisions, replayed
        trainer.epoch, trainer.partial = epoch + 1, None
    ema = trainer.stepper.ema.model
    pred = predict(ema, trainer.tensors["test"]["X"], cfg.eval_batch_size)[0]
    pred = pred.cpu().numpy().astype(np.float64)
    test = data.test
    return {
        "file": path,
        "seed": cfg.seed,
        "label": cfg.label(),
        "epochs": run["best_epoch"],
        "control": not add_val,
        "train_windows": trainer.n,
        "run_train_windows": len(data.train),
        "run_test_rmse": run["test"]["rmse"],
        "refit_test": metrics.rul_metrics(pred, test.y_rul, test.y_rul_uncapped),
        "run_nasa": run["test"]["nasa"],
        "pred": pred.round(4).tolist(),
        "true": test.y_rul.tolist(),
        "wall_s": round(time.perf_counter() - t0, 1),
        "run_wall_s": run["provenance"].get("wall_time_s"),
        "provenance": provenance(cfg.resolved_device()),
    }


def table(path: str) -> str:
    """One row per refit, then the mean of each column over the refits."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not r.get("control")]
    rows.sort(key=lambda r: (r["label"], r["seed"]))
    out = [
        "| label | seed | epochs | run test RMSE | refit test RMSE | change | refit / run time |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a, b = r["run_test_rmse"], r["refit_test"]["rmse"]
        ratio = r["wall_s"] / r["run_wall_s"] if r["run_wall_s"] else math.nan
        out.append(
            f"| {r['label']} | {r['seed']} | {r['epochs']} | {a:.2f} | {b:.2f} | {b - a:+.2f} "
            f"| {ratio:.2f} |"
        )
    for label in sorted({r["label"] for r in rows}):
        group = [r for r in rows if r["label"] == label]
        a = np.array([r["run_test_rmse"] for r in group])
        b = np.array([r["refit_test"]["rmse"] for r in group])
        d = b - a
        out.append(
            f"\n{label}: {len(group)} seeds; runs {a.mean():.2f} ± {a.std(ddof=1):.2f}, "
            f"refits {b.mean():.2f} ± {b.std(ddof=1):.2f}; paired change {d.mean():+.2f} "
            f"± {d.std(ddof=1):.2f}, {int((d < 0).sum())} of {len(d)} lower"
        )
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--table"]:
        print(table(sys.argv[2]))
    elif sys.argv[1:2] in (["run"], ["control"]):
        for path in sys.argv[2:]:
            print(json.dumps(refit(path, add_val=sys.argv[1] == "run")), flush=True)
    else:
        sys.exit(__doc__)
