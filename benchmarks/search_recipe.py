"""Optuna search around the `lean` recipe on FD001 (issue 15): validation RMSE only.

Each trial trains the DualTaskModel (baseline method, one thread, seed 0) with a few fields
of the `lean` profile drawn by Optuna's TPE sampler, and reports after every epoch the lowest
validation RMSE so far (the windows of the held-out engines that end at cycle 50 or later,
whatever the window length: see COMMON_FROM). From epoch 20 on, the median pruner stops
trials that are worse than the median of earlier trials at the same epoch (from epoch 8 it
pruned `lean` itself, whose minimum comes at epoch ~22). The objective never scores the
test set: no test RMSE is computed.

Several workers may share one study (one core each):

    python benchmarks/search_recipe.py run  study.db 60    # trials until 60 minutes are up
    python benchmarks/search_recipe.py run  ages.db 50 lean_fd001_test_ages  # 2nd score
    python benchmarks/search_recipe.py run  bands.db 45 lean_fd001_rul_bands  # 3rd score
    python benchmarks/search_recipe.py dump study.db > trials.jsonl
    python benchmarks/search_recipe.py dump first.db lean_fd001_seed0 > first.jsonl  # 1st study
    python benchmarks/search_recipe.py best trials.jsonl      # its best trial as --set flags
    python benchmarks/search_recipe.py --table trials.jsonl   # a Markdown table, best first
"""

import json
import math
import sys
import time
from pathlib import Path

import optuna
import torch

from rulkit.config import LEAN, profile_config
from rulkit.train import Trainer, prepare_for

STUDY = "lean_fd001_seed0_from50"
# Validation windows exist from cycle `window` on, so a longer window drops early (mostly
# healthy) cycles from the validation score and looks better for that alone: every trial
# is scored on the windows that end at cycle 50 or later (the longest window searched).
COMMON_FROM = 50
# The validation score of each study. The second one cuts the held-out engines at the ages
# the test engines were cut at (val_scoring="test_ages"), which scores every window length
# on the same (engine, age) pairs; it was made after the first study's best trial chose
# epochs inside the warm-up and its validation gain did not carry to the test set.
# The third weighs five RUL bands below the cap and the cap itself equally
# (val_scoring="rul_bands"): both earlier winners lost on the test engines with RUL 90-124,
# a band that is a fifth of the validation windows from cycle 50.
SCORING = {
    STUDY: {"val_from_cycle": COMMON_FROM},
    "lean_fd001_test_ages": {"val_scoring": "test_ages"},
    "lean_fd001_rul_bands": {"val_scoring": "rul_bands", "val_from_cycle": COMMON_FROM},
}
MAX_EPOCHS = 45
PATIENCE = 10  # epochs without a new validation minimum before a trial ends


def suggest(trial: optuna.Trial) -> dict:
    """The fields a trial changes in `lean`: optimisation, regularisation, look-back, width."""
    width = trial.suggest_categorical("width", [16, 32, 64])
    model = {
        **LEAN["model"],
        "conv_channels": [width] * 3,
        "lstm_hidden": trial.suggest_categorical("lstm_hidden", [16, 32, 64]),
        "conv_dropout": trial.suggest_float("conv_dropout", 0.0, 0.4),
        "funnel_dropout": trial.suggest_float("funnel_dropout", 0.0, 0.5),
    }
    return {
        "lr": trial.suggest_float("lr", 1e-4, 2e-3, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-1, log=True),
        "input_noise": trial.suggest_float("input_noise", 0.0, 1.0, step=0.1),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256, 512]),
        "window": trial.suggest_categorical("window", [30, 40, 50]),
        "model": model,
    }


def objective(trial: optuna.Trial) -> float:
    """Lowest validation RMSE of a trial's run; pruned early when it trails the median."""
    scoring = SCORING[trial.study.study_name]
    cfg = profile_config(
        "lean",
        subset="FD001",
        method="baseline",
        seed=0,
        device="cpu",
        max_epochs=MAX_EPOCHS,
        early_stop_patience=PATIENCE,
        **scoring,
        **suggest(trial),
    )
    trainer = Trainer(cfg, prepare_for(cfg))
    best, t0 = math.inf, time.time()
    while not trainer.finished():
        trainer.train_epoch()
        best = min(best, trainer.end_epoch())
        trial.report(best, trainer.epoch)
        trial.set_user_attr("epochs", trainer.epoch)
        trial.set_user_attr("best_epoch", trainer.best["epoch"])
        trial.set_user_attr("seconds", round(time.time() - t0, 1))
        if trial.should_prune():
            raise optuna.TrialPruned()
    return best


# `lean` as it is: the first trial, so the study measures its starting point too
LEAN_POINT = {
    "width": 32,
    "lstm_hidden": 32,
    "conv_dropout": 0.15,
    "funnel_dropout": 0.2,
    "lr": 3e-4,
    "weight_decay": 1e-4,
    "input_noise": 0.5,
    "batch_size": 256,
    "window": 40,
}


# the earlier studies' best trials, scored again by the later ones (fields from the dumps)
MEASURED = Path(__file__).parent / "measurements"
EARLIER = {
    "lean_fd001_test_ages": ["search_2026-12-05.jsonl"],
    "lean_fd001_rul_bands": ["search_2026-12-05.jsonl", "search_2026-12-06_test_ages.jsonl"],
}


def also_first(name: str) -> list[dict]:
    points = []
    for dump_file in EARLIER.get(name, []):
        rows = [json.loads(x) for x in (MEASURED / dump_file).read_text().splitlines()]
        best = min((r for r in rows if r["state"] == "COMPLETE"), key=lambda r: r["val"])
        points.append({k: best[k] for k in LEAN_POINT})
    return points


def study(storage: str, name: str = STUDY) -> optuna.Study:
    return optuna.create_study(
        study_name=name,
        storage=f"sqlite:///{storage}",
        direction="minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=8),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=20),
    )


# the space of suggest(), for trials carried over from an earlier study
D = optuna.distributions
SPACE = {
    "width": D.CategoricalDistribution([16, 32, 64]),
    "lstm_hidden": D.CategoricalDistribution([16, 32, 64]),
    "conv_dropout": D.FloatDistribution(0.0, 0.4),
    "funnel_dropout": D.FloatDistribution(0.0, 0.5),
    "lr": D.FloatDistribution(1e-4, 2e-3, log=True),
    "weight_decay": D.FloatDistribution(1e-5, 1e-1, log=True),
    "input_noise": D.FloatDistribution(0.0, 1.0, step=0.1),
    "batch_size": D.CategoricalDistribution([64, 128, 256, 512]),
    "window": D.CategoricalDistribution([30, 40, 50]),
}


def carry_over(old: str, old_name: str, storage: str) -> int:
    """Copy the trials of an earlier study whose score is also this study's: those with the
    longest window, whose windows all end at cycle COMMON_FROM or later. `old` is a study
    database or its `dump` (a .jsonl file, which keeps each trial's last report only)."""
    if old.endswith(".jsonl"):
        rows = [json.loads(line) for line in Path(old).read_text().splitlines()]
        trials = [
            (
                r["trial"],
                optuna.trial.TrialState[r["state"]],
                {k: r[k] for k in SPACE},
                {"epochs": r["epochs"], "best_epoch": r["best_epoch"], "seconds": r["seconds"]},
                {r["epochs"]: r["val"]},
            )
            for r in rows
        ]
    else:
        trials = [
            (t.number, t.state, t.params, t.user_attrs, t.intermediate_values)
            for t in optuna.load_study(study_name=old_name, storage=f"sqlite:///{old}").trials
            if t.state.name in ("COMPLETE", "PRUNED")
        ]
    new, kept = study(storage), 0
    for number, state, params, attrs, reports in trials:
        if params["window"] == COMMON_FROM:
            copy = optuna.trial.create_trial(
                state=state,
                value=min(reports.values()) if state.name == "COMPLETE" else None,
                params=params,
                distributions=SPACE,
                user_attrs={**attrs, "carried_from": number},
                intermediate_values=reports,
            )
            new.add_trial(copy)
            kept += 1
    return kept


def dump(storage: str, name: str = STUDY) -> None:
    """One JSON line per finished or pruned trial: its fields, state and best validation."""
    for t in optuna.load_study(study_name=name, storage=f"sqlite:///{storage}").trials:
        if t.state.name in ("COMPLETE", "PRUNED"):
            best = t.value if t.value is not None else min(t.intermediate_values.values())
            line = {"trial": t.number, "state": t.state.name, "val": round(best, 3)}
            print(json.dumps({**line, **t.params, **t.user_attrs}))


def table(path: str) -> str:
    """Markdown, best validation first."""
    trials = [json.loads(x) for x in Path(path).read_text().splitlines()]
    trials.sort(key=lambda d: d["val"])
    keys = ["lr", "weight_decay", "input_noise", "batch_size", "window", "width"]
    keys += ["lstm_hidden", "conv_dropout", "funnel_dropout"]
    rows = [
        "| trial | state | val RMSE | best epoch | epochs | " + " | ".join(keys) + " |",
        "|---" * (5 + len(keys)) + "|",
    ]
    for d in trials:
        cells = [f"{d[k]:.3g}" if isinstance(d[k], float) else str(d[k]) for k in keys]
        rows.append(
            f"| {d['trial']} | {d['state'].lower()} | {d['val']:.2f} | {d['best_epoch']} "
            f"| {d['epochs']} | " + " | ".join(cells) + " |"
        )
    return "\n".join(rows)


def best_flags(path: str) -> str:
    """The best finished trial of a dump as ``--set`` flags on top of `lean`, for
    ``rulkit train`` or ``rulkit sweep --profile lean``."""
    trials = [json.loads(x) for x in Path(path).read_text().splitlines()]
    best = min((d for d in trials if d["state"] == "COMPLETE"), key=lambda d: d["val"])
    fields = suggest(optuna.trial.FixedTrial({k: best[k] for k in LEAN_POINT}))
    lean = profile_config("lean")
    flags = []
    for key, value in fields.items():
        if value != getattr(lean, key):
            text = json.dumps(value, separators=(",", ":"))
            flags.append(
                f"--set '{key}={text}'" if isinstance(value, dict) else f"--set {key}={text}"
            )
    return " ".join(flags)


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    if command == "--table":
        print(table(target))
    elif command == "carry":  # carry OLD.db|OLD.jsonl OLD_STUDY NEW.db
        print(carry_over(target, sys.argv[3], sys.argv[4]), "trials carried over")
    elif command == "best":
        print(best_flags(target))
    elif command == "dump":  # dump STUDY.db [STUDY_NAME]
        dump(target, *sys.argv[3:4])
    else:
        torch.set_num_threads(1)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        minutes = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
        s = study(target, *sys.argv[4:5])  # run STUDY.db MINUTES [STUDY_NAME]
        for point in [LEAN_POINT, *also_first(s.study_name)]:
            if not any(t.params == point and t.state.name != "FAIL" for t in s.trials):
                s.enqueue_trial(point)
        s.optimize(objective, timeout=60 * minutes)
