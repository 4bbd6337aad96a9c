# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training it well
#
# Chapters 14 to 22 compare ways of training one network. Such a comparison only
# means something if each way trains the network *well*: if every run stops learning
# after a few epochs, the methods are compared on how fast they start, not on where
# they arrive. This chapter checks that first condition on FD001, by measurement:
#
# 1. what each part of the book's training recipe is for;
# 2. what the recipe does on FD001: the epoch it chooses and what happens after;
# 3. whether the data pipeline is sound, with a small reference network from the
#    literature trained on exactly the same windows;
# 4. which parts of the recipe matter (an ablation, one change at a time);
# 5. a second recipe, `tuned`, built from that ablation, and the four methods
#    compared under it with paired statistics;
# 6. why `tuned` still stops early (the error on healthy engines), and a third
#    recipe, `lean`, that trains longer and comes closer to the reference network;
# 7. a search around `lean` on validation engines, and a check of its best trial on
#    five seeds;
# 8. how much of the gap between the book's figures and ours each recipe explains.
#
# Nothing here is chosen on the test set. Every run records its test RMSE at each
# epoch *for the record* (`record_test_rmse`), so that the curves below can show
# what the choices cost; no choice reads those numbers. Every run of this chapter was
# trained elsewhere (commands beside each table); the notebook reads the result files
# (and, in section 7, the C-MAPSS files, to count validation windows).
#
# **Learning goals**
#
# - name the parts of a training recipe (AdamW, warm-up, plateau, clipping, weight
#   average, early stopping) and what each one protects against;
# - read learning curves: spot a checkpoint chosen too early and a network that
#   memorises its training engines;
# - check a pipeline against a published reference before blaming a method;
# - read an ablation table, and say why a one-seed ablation is a hint, not a proof;
# - compare two methods with a *paired* test on the same engines, and with the
#   spread over seeds.

# %%
# On Google Colab, install rulkit from the book's repository; elsewhere this does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "rulkit @ git+https://github.com/rulkit-book/rulkit@main",
        ],
        check=True,
    )

# %%
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import rulkit
from rulkit import published
from rulkit.config import LEAN, TUNED, profile_config
from rulkit.methods import CORE_METHODS
from rulkit.model import DCNN, DualTaskModel, build_model, count_parameters
from rulkit.report import (
    ablation_table,
    config_label,
    ensemble_rmse,
    paired_markdown,
    paired_table,
    recipe_overrides,
    run_set,
    seed_spread,
    selection_gap_table,
    to_markdown,
)
from rulkit.results import load_measured
from rulkit.train import lr_schedule

plt.rcParams["figure.figsize"] = (8, 3.5)
pd.set_option("display.max_colwidth", 120)

# %% [markdown]
# The runs: the result files of the repository's `results/` folder, or, away from
# the repository (Colab), the summary that ships with rulkit. Each run belongs to a
# *recipe*: `full` (the book's), `tuned` and `lean` (this chapter's), `dcnn` (the
# reference network) or an ablation run (`custom-<hash>`: the book's recipe with one
# change).

# %%
records, source = load_measured(Path("..") / "results")
FD001 = [r for r in records if r["subset"] == "FD001"]
by_recipe = {}
for r in FD001:
    by_recipe.setdefault(config_label(r), []).append(r)
book_runs = by_recipe.get("full", [])
tuned_runs = by_recipe.get("tuned", [])
dcnn_runs = by_recipe.get("dcnn", [])
# ablation runs: the book's recipe with one change (section 7's search runs start from lean)
ablation_runs = [
    r for r in FD001 if config_label(r).startswith("custom-") and r["config"]["profile"] == "full"
]
from_lean = [
    r for r in FD001 if config_label(r).startswith("custom-") and r["config"]["profile"] == "lean"
]
# section 7's checks use seeds 0-4; section 8's averaging check adds seeds 5-24 of one recipe
search_all = [r for r in from_lean if r["seed"] < 5]
extra_seeds = [r for r in from_lean if r["seed"] >= 5]
# section 7 compares recipes on the baseline; its last check trains the other methods too
search_runs = [r for r in search_all if r["method"] == "baseline"]
print(f"read from {source}")
print(
    f"FD001 runs: {len(book_runs)} book recipe, {len(tuned_runs)} tuned, "
    f"{len(by_recipe.get('lean', []))} lean, {len(dcnn_runs)} DCNN, {len(ablation_runs)} ablation, "
    f"{len(search_runs)} search check, {len(extra_seeds)} averaging check"
)
print("results read:", run_set(records))  # tests/test_results_current.py checks this line


def table(frame, digits=2):
    """A markdown table with floats rounded to ``digits``."""
    shown = frame.map(lambda v: f"{v:.{digits}f}" if isinstance(v, float) else v)
    return Markdown(to_markdown(shown))


# %% [markdown]
# ## 1. The parts of a recipe
#
# A training recipe is everything around the loss: how the weights move, how fast,
# and which weights are kept. The book's recipe (SPEC section 6, chapter 15):
#
# | part | the book's setting | what it is for |
# |---|---|---|
# | AdamW | lr 1e-3, weight decay 1e-4 | Adam scales each weight's step by its own gradient history; the decay is applied to the weights directly, not through the gradient, so it does not interact with that scaling |
# | linear warm-up | 10 epochs from 0.1 × lr | Adam's first steps rest on a few gradients and can be large; a small LR at first keeps them from throwing the network far from its initialisation |
# | plateau rule | × 0.5 after 30 flat epochs, down to 5e-6 | a smaller step once validation stops improving, to settle into a minimum |
# | gradient clipping | global norm 1.0 | caps one step when a batch gives a huge gradient (a rare, badly predicted window) |
# | weight average (EMA) | decay 0.999 | evaluates an average of recent weights, smoother than the last step's |
# | early stopping | 60 epochs without a better validation RMSE | ends a run that no longer improves, and keeps the best epoch's weights |
#
# Two of these interact with the epoch the run picks. The warm-up sets the LR of
# the first ten epochs; the plateau rule can only act after 30 flat epochs. Here is
# the LR schedule of the book's recipe on FD001 (54 steps per epoch) beside the
# `tuned` recipe's, assuming validation never improves after epoch 5, as happens below.

# %%
fig, ax = plt.subplots()
for profile, style in (("full", "-"), ("tuned", "--")):
    config = profile_config(profile, subset="FD001")
    schedule = lr_schedule(config, steps_per_epoch=54)
    lrs = []
    for epoch in range(1, 81):
        lrs.append(schedule.at(epoch * 54))
        schedule.epoch_end(10.0 if epoch <= 5 else 11.0)  # best at epoch 5, then flat
    ax.semilogy(range(1, 81), lrs, style, label=profile)
ax.axvline(5, color="grey", lw=0.8)
ax.set(xlabel="epoch", ylabel="learning rate", title="LR schedule if the best epoch is 5")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. The book's recipe on FD001
#
# The runs of the book's recipe ran on a 2-core CPU (`make campaign`, hours each).
# For each: the epoch it chose on validation, its validation RMSE there, its test RMSE,
# and the lowest test RMSE over all its epochs (which no honest procedure could pick).


# %%
def chosen_epochs(runs):
    """Chosen epoch, validation and test RMSE there, and the test curve's minimum."""
    rows = []
    for r in sorted(runs, key=lambda r: (r["method"], r["seed"])):
        c, i = r["curves"], r["best_epoch"] - 1
        test_curve = c.get("test_rmse") or [math.nan]
        rows.append(
            {
                "method": r["method"],
                "seed": r["seed"],
                "chosen epoch": r["best_epoch"],
                "epochs run": r["epochs_run"],
                "val RMSE": c["val_rmse"][i],
                "test RMSE": r["test"]["rmse"],
                "lowest test RMSE (any epoch)": min(test_curve),
                "train RMSE at the end": math.sqrt(c["train_loss_rul"][-1]),
            }
        )
    return pd.DataFrame(rows)


book_table = chosen_epochs(book_runs)
display(table(book_table))

# %% [markdown]
# Every run chose an epoch inside the ten-epoch warm-up and then went on for about
# 60 more, by the early-stopping rule. Their curves show why:


# %%
def curves_figure(runs, title, epochs=None):
    """Training RMSE (square root of the RUL loss), validation and recorded test RMSE."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharey=True)
    for r in runs:
        c = r["curves"]
        e = np.array(c["epoch"])
        label = f"{r['method']} s{r['seed']}"
        axes[0].plot(e, np.sqrt(c["train_loss_rul"]), lw=1, label=label)
        axes[1].plot(e, c["val_rmse"], lw=1)
        if "test_rmse" in c:
            axes[2].plot(e, c["test_rmse"], lw=1)
        for ax in axes[1:]:
            ax.axvline(r["best_epoch"], color="grey", lw=0.5)
    names = ("training (RMSE of the batches, dropout on)", "validation", "test (record only)")
    for ax, name in zip(axes, names):
        ax.set(title=name, xlabel="epoch", ylim=(0, 40), xlim=(0, epochs))
    axes[0].set_ylabel("RMSE (cycles)")
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    plt.show()


curves_figure(book_runs, "FD001, the book's recipe: grey lines mark the chosen epochs")

# %% [markdown]
# Read the three panels together. The training error keeps falling for the whole
# run, far below the validation error; the validation and test errors reach their
# lowest point within the first few epochs and then *rise*. The network is learning
# its 80 training engines, not the wear they share: it memorises. The early choice is
# not a mistake of the selection rule: the later weights really are worse.
#
# ## 3. Is the pipeline sound? A reference network
#
# Before blaming the network or the recipe, rule out the data: windows, labels,
# normalisation and the validation split. Li, Ding and Sun (2018) published a small
# CNN for FD001 (RMSE 12.61 under the usual protocol). `rulkit.model.DCNN` rebuilds
# it: convolutions over time applied to each sensor alone, a dense layer of 100, one
# output, about 45 thousand parameters (the DualTaskModel has 3.5 million). The
# profile `dcnn` trains it with the paper's recipe (printed below: Adam, no weight
# decay, warm-up, clipping or weight average, the LR divided by ten for the last fifth of the
# epochs) on the same `prepare()` windows, 14 sensors, and chooses its epoch on the
# same validation engines.

# %%
dcnn_recipe = profile_config("dcnn", subset="FD001")
print(
    f"dcnn recipe: lr {dcnn_recipe.lr}, batch {dcnn_recipe.batch_size}, "
    f"{dcnn_recipe.max_epochs} epochs, LR x {dcnn_recipe.lr_drop_factor} after epoch "
    f"{dcnn_recipe.lr_drop_epoch}, weight decay {dcnn_recipe.weight_decay}, "
    f"{'14 sensors' if not dcnn_recipe.use_settings else '17 inputs'}"
)
print("DCNN parameters:", f"{count_parameters(DCNN(n_features=14, window=30)):,}")
print("DualTaskModel parameters:", f"{count_parameters(DualTaskModel(n_features=17)):,}")
dcnn_table = chosen_epochs(dcnn_runs)
display(table(dcnn_table.drop(columns="method")))
if dcnn_runs:
    dcnn = seed_spread(FD001, "rul_only", "FD001", profile="dcnn")
    li = published.LITERATURE["DCNN (Li, Ding & Sun, 2018)"][0][0]  # FD001 RMSE
    print(
        f"DCNN, {dcnn.n} seeds: test RMSE {dcnn.mean:.2f} ± {dcnn.sd:.2f} "
        f"(published by Li et al. 2018: {li}); difference {dcnn.mean - li:+.2f}"
    )

# %% [markdown]
# The reference network lands on the published figure, and it keeps improving for
# more than a hundred epochs before its validation error levels off:

# %%
curves_figure(dcnn_runs, "FD001, the DCNN reference (its own recipe)", epochs=250)

# %% [markdown]
# So the windows, targets and validation split can carry a test RMSE near 12.6 with
# a choice made on validation only. The DualTaskModel under the book's recipe does
# worse on the same windows; the gap is in the network and its recipe, not in the
# data.
#
# ## 4. Which parts of the recipe matter: an ablation
#
# An ablation changes one thing at a time and keeps everything else. Each row below
# is the book's recipe, 40 epochs, baseline method, with one change; rows are grouped by
# seed and sorted by validation RMSE, the criterion. Rows that change several things at
# once (80 epochs at most) were probes of a cheaper recipe. The validation RMSE is split
# into the windows below the RUL cap (where the wear shows) and those at the cap
# (healthy engines). The test RMSE is there for the record; it decided nothing.

# %%
ablation = ablation_table(ablation_runs)
display(table(ablation.drop(columns="command")))

# %% [markdown]
# Each row is made by its command, for example the first one:

# %%
if len(ablation):
    print(ablation.command.iloc[0])

# %% [markdown]
# How to read it, and how not to:
#
# - **Compare within one seed.** The validation engines are drawn with the run's
#   seed, so seed 1 validates on other engines than seed 0, and its numbers are
#   higher for every change. Only rows of the same seed are comparable.
# - **One seed is a hint.** Over five seeds, the test RMSEs of one method under one
#   recipe have a standard deviation of 0.36 to 0.58 and a range of 0.8 to 1.5
#   (section 5), so a change that moves seed 0 by half an RMSE may be noise.
#   Most single-factor rows have one seed (the second did not finish in the GPU time
#   of the session that made them).
# - **Validation and test do not always agree.** Several changes improve the
#   validation RMSE and not the test RMSE, and the other way round.
#
# On seed 0, three changes lowered the validation RMSE by about half an RMSE or more:
# 40-cycle windows, leaving out the three operating settings (white noise on a
# one-condition subset), and a narrower BiLSTM; others (no warm-up, no weight average,
# more dropout, targets scaled to [0, 1] with the 0.5/0.5 task weights) made it worse.
# Scaling the targets makes the RUL loss about 125² times smaller, so with fixed
# task weights the health task takes over the shared backbone: the balance between
# the two losses is the subject of chapters 12-22, and scaling it silently changes it.
#
# ## 5. A recipe built from the ablation: `tuned`
#
# The `tuned` profile keeps the DualTaskModel's structure (CNN, BiLSTM, attention,
# funnel, two heads) and the book's optimiser, warm-up, clipping and weight average,
# and departs in the fields below, each for the reason written beside it in
# `rulkit/config.py`:

# %%
for key, value in TUNED.items():
    print(f"{key:>20} = {value!r:<24} (book: {getattr(profile_config('full'), key)!r})")
tuned_model = build_model("dual", 14, 40, 1.0, **TUNED["model"])
print(f"parameters: {count_parameters(tuned_model):,}")

# %% [markdown]
# Its runs: FD001, the four methods, five seeds each, on one GPU
# (`PLAN=benchmarks/plans/fd001_tuned.plan benchmarks/gpu_session.sh`). Seed means
# and spreads, beside the book's recipe and the book's published figures:


# %%
def recipe_table(groups, book=True):
    """Seed mean and spread per method and recipe, with the chosen epochs."""
    rows = []
    for method in ("baseline", "amnl", "gaba", "grace"):
        for label, runs in groups.items():
            if not any(r["method"] == method for r in runs):
                continue
            rmse = seed_spread(FD001, method, "FD001", "rmse", profile=label)
            nasa = seed_spread(FD001, method, "FD001", "nasa", profile=label)
            epochs = [r["best_epoch"] for r in runs if r["method"] == method]
            row = {
                "method": method,
                "recipe": label,
                "seeds": rmse.n,
                "test RMSE mean": rmse.mean,
                "sd": rmse.sd,
                "NASA mean": nasa.mean,
                "chosen epochs": ", ".join(map(str, sorted(epochs))),
            }
            if book:
                row["book (published) RMSE"] = published.book_figure("FD001", method)[0]
            rows.append(row)
    return pd.DataFrame(rows)


display(table(recipe_table({"full": book_runs, "tuned": tuned_runs})))

# %% [markdown]
# The test curves of the tuned runs, baseline and GRACE:

# %%
curves_figure(
    [r for r in tuned_runs if r["method"] in ("baseline", "grace")],
    "FD001, the tuned recipe",
    epochs=45,
)

# %% [markdown]
# **Paired comparisons.** Two methods trained with the same seed are scored on the
# same 100 test engines, so the fair question is whether the *difference* on those
# engines is larger than chance: resample the engines, recompute both RMSEs on each
# resample, and look at the spread of the difference (`rulkit.report.paired_table`).
# The rows "mean of 5" average over seeds; their column "sd over seeds" is the
# spread that a sixth seed would have to be judged against.

# %%
if tuned_runs:
    display(Markdown(paired_markdown(paired_table(FD001, "FD001", profile="tuned"))))

# %% [markdown]
# **Where GABA's weight sits when the checkpoint is taken.** GABA sets the RUL task's
# weight from the ratio of the two gradient norms, with a floor of 0.05 (chapter 17).
# With targets in cycles the RUL gradient is hundreds of times larger than the health
# gradient, so the weight falls to the floor as soon as the warm-up of 100 steps and
# the moving average allow. The table gives, for each GABA and GRACE run, the step at
# which the weight first reaches the floor and the step of the chosen checkpoint.


# %%
def floor_at_checkpoint(runs):
    rows = []
    for r in sorted(runs, key=lambda r: (config_label(r), r["method"], r["seed"])):
        if r["method"] not in ("gaba", "grace"):
            continue
        h = r["task_history"]
        steps, w = np.array(h["step"]), np.array(h["weight_rul"])
        on_floor = steps[w <= r["config"]["gaba_floor"] + 1e-6]
        chosen = r["best_epoch"] * r["steps"] // r["epochs_run"]
        rows.append(
            {
                "recipe": config_label(r),
                "method": r["method"],
                "seed": r["seed"],
                "first step on the floor": int(on_floor[0]) if len(on_floor) else None,
                "step of the chosen checkpoint": chosen,
                "RUL weight there": float(w[np.searchsorted(steps, chosen, side="right") - 1]),
            }
        )
    return pd.DataFrame(rows)


display(table(floor_at_checkpoint(book_runs + tuned_runs), digits=3))

# %% [markdown]
# ## 6. Why `tuned` still stops early, and a leaner model
#
# The validation RMSE mixes two kinds of windows. Those *below the cap* come from
# engines that are wearing: there the network must say how far each one has gone.
# Those *at the cap* come from healthy engines, whose target is 125 whatever their
# true remaining life. Every run records both parts at every epoch
# (`val_rmse_below_cap`, `val_rmse_at_cap`). Here they are for the tuned runs, the
# reference network and the `lean` runs introduced below (seeds 0-2 where they
# exist):


# %%
def region_curves(groups):
    """Validation RMSE below the cap and at the cap, one colour per recipe (log epochs)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for colour, (label, runs) in zip(("C0", "C3", "C2"), groups.items()):
        for i, r in enumerate(sorted(runs, key=lambda r: r["seed"])):
            c = r["curves"]
            for ax, key in zip(axes, ("val_rmse_below_cap", "val_rmse_at_cap")):
                ax.plot(c["epoch"], c[key], color=colour, lw=1, label=label if i == 0 else None)
    for ax, name in zip(axes, ("windows below the cap (wearing)", "windows at the cap (healthy)")):
        ax.set(title=name, xlabel="epoch (log scale)", ylim=(0, 40), xscale="log")
    axes[0].set_ylabel("validation RMSE (cycles)")
    axes[0].legend(fontsize=8)
    plt.show()


def baseline_runs(runs, method="baseline", seeds=(0, 1, 2)):
    return [r for r in runs if r["method"] == method and r["seed"] in seeds]


lean_runs = by_recipe.get("lean", [])
region_curves(
    {
        "tuned": baseline_runs(tuned_runs),
        "DCNN": baseline_runs(dcnn_runs, "rul_only"),
        "lean": baseline_runs(lean_runs),
    },
)

# %% [markdown]
# In the tuned runs (blue) the error at the cap is lowest within the first ten epochs
# and then climbs steeply, while the error below the cap stays about where it was.
# The network keeps learning to recognise wear and starts to see it in healthy
# validation engines too; since the validation score counts every window, the
# checkpoint is taken at the bottom of the at-cap curve. The reference network (red)
# needs about a hundred epochs to get there, and its error at the cap then stays low.
# In the lean runs (green) both curves fall later, and the error at the cap climbs
# later and more slowly, but it still climbs.
#
# Short CPU probes (`benchmarks/probe_recipes.py`, one JSON line per epoch; their
# tables are in `benchmarks/measurements/probes_2026-12-04.md` and
# `probes_2026-12-05.md`) asked what delays that climb. A smaller model, no health
# head, strong weight decay, more dropout or a lower learning rate alone did not. Nor
# did the reference network's optimiser (Adam, batch 512, nothing else) on the
# DualTaskModel: the climb is a matter of the model, not of the optimiser. What
# helped, on seeds 0-2: a CNN without BatchNorm, and Gaussian noise of 0.5 z-units
# on every training window with a third of the learning rate. Subtracting from each
# engine the mean of its own first ten cycles, to remove the level differences
# between engines, was much worse. The `lean` profile combines what helped:

# %%
for key, value in LEAN.items():
    if value != TUNED.get(key):
        print(
            f"{key:>20} = {value!r} (tuned: {TUNED.get(key, getattr(profile_config('full'), key))!r})"
        )
lean_model = build_model("dual", 14, 40, 1.0, **LEAN["model"])
print(f"parameters: {count_parameters(lean_model):,} (tuned: {count_parameters(tuned_model):,})")

# %% [markdown]
# Its runs were trained on this project's 2-core CPU, one core each
# (`PROFILE=lean SEEDS=0-4 benchmarks/campaign.sh`). The same table as in section 5,
# for the three recipes:

# %%
display(
    table(recipe_table({"full": book_runs, "tuned": tuned_runs, "lean": lean_runs}, book=False))
)
lean_minutes = [r["provenance"]["wall_time_s"] / 60 for r in lean_runs]
if lean_minutes:
    print(f"wall time per lean run: {min(lean_minutes):.1f} to {max(lean_minutes):.1f} minutes")

# %% [markdown]
# Under `lean`, every method's five-seed mean lies between 12.74 and 12.95, more than
# one RMSE below `tuned`, and the NASA score drops by a third or more. The checkpoints
# come from epochs 14 to 27, after the ten-epoch warm-up. One run took 3.0 to 7.1
# minutes on one core. The baseline's 12.95 ± 0.24 is still above the reference
# network's 12.62 (section 8).
#
# Paired on the same test engines, as in section 5:

# %%
if lean_runs:
    display(Markdown(paired_markdown(paired_table(FD001, "FD001", profile="lean"))))

# %% [markdown]
# AMNL and GRACE are lower than the baseline on all five seeds, by 0.04 to 0.37.
# No single seed's interval excludes zero, however, and the intervals of the means of
# five (−0.18 and −0.20) contain zero as well. GABA's seeds disagree: it is higher on
# seed 0, lower on seed 2, and level on the others. The baseline's own spread over
# seeds (0.24) is as large as any of these differences.
#
# And GABA's weight at the lean runs' checkpoints:

# %%
lean_floor = floor_at_checkpoint(lean_runs)
display(table(lean_floor, digits=3) if len(lean_floor) else "no GABA or GRACE run of lean yet")

# %% [markdown]
# Here the scored models did train on the floor. Every lean GABA and GRACE checkpoint
# comes from step 884 or later, while the weight reached the floor between steps 240
# and 270. The methods differ by little even though the floor binds.

# %% [markdown]
# ## 7. A search on validation
#
# The probes changed one thing at a time, by hand. A search changes several at once
# and lets a sampler decide where to look next. `benchmarks/search_recipe.py` uses
# Optuna's TPE sampler around `lean`: learning rate, weight decay, input noise, batch
# size, window length, CNN and BiLSTM width and two dropouts. Each trial trains the
# baseline on seed 0's training engines and reports after every epoch the lowest
# validation RMSE so far. From epoch 20 on, a median pruner stops a trial that trails
# the earlier ones at the same epoch; it waits that long because `lean` itself is a
# slow starter (its seed-0 minimum comes at epoch 22, the first study's trial 0
# below). The objective reads validation engines only: the test set is not scored at
# all during the search.
#
# A first study scored every trial on all its validation windows, as a run does. It
# went to the longest window on offer (50 cycles) within a dozen trials. Part of that
# was not the model: an engine's first window ends at cycle `window`, so a longer
# window drops the engine's first cycles from the validation set, and those are
# healthy cycles at the cap:

# %%
data_dir = rulkit.fetch_cmapss()
rows = []
for w in (30, 40, 50):
    val = rulkit.prepare("FD001", data_dir, window=w, use_settings=False, seed=0).val
    rows.append(
        {"window": w, "validation windows": len(val), "at the cap": (val.y_rul >= 125).mean()}
    )
display(table(pd.DataFrame(rows), digits=3))

# %% [markdown]
# Each step of ten cycles removes ten windows from each of the 20 validation
# engines, and the share at the cap falls from a third to a quarter. Scores
# made on these three sets are answers to different exams. The second study,
# shown below, scores every trial on the windows that end at cycle 50 or later
# (`val_from_cycle=50`, a field of `TrainConfig`): the same windows whatever the
# look-back. A window-50 trial has no earlier windows, so its score does not change,
# and the first study's 16 trials with window 50 are carried over as they are.
#
# ```
# python benchmarks/search_recipe.py carry benchmarks/measurements/search_2026-12-05_all_windows.jsonl first study.db
# python benchmarks/search_recipe.py run study.db 65      # one worker, 65 minutes
# python benchmarks/search_recipe.py dump study.db > benchmarks/measurements/search_2026-12-05.jsonl
# ```

# %%
SEARCH = Path("..") / "benchmarks" / "measurements" / "search_2026-12-05.jsonl"
trials = (
    pd.read_json(SEARCH, lines=True).sort_values("trial", ignore_index=True)
    if SEARCH.is_file()
    else pd.DataFrame()
)
if len(trials):
    done = trials["state"] == "COMPLETE"
    carried = trials["carried_from"].notna()
    fig, ax = plt.subplots(figsize=(8, 3))
    for mask, marker, label in [
        (done & ~carried, "o", "ran to its early stop"),
        (~done & ~carried, "x", "pruned"),
        (carried, "s", "carried over from the first study"),
    ]:
        ax.scatter(trials["trial"][mask], trials["val"][mask], marker=marker, label=label)
    ax.plot(
        trials["trial"], trials["val"].where(done).cummin().ffill(), "k-", lw=1, label="best so far"
    )
    ax.set(xlabel="trial", ylabel="lowest validation RMSE", ylim=(9.5, 32))
    ax.legend(fontsize=8)
    plt.show()
    shown = ["trial", "state", "val", "best_epoch", "lr", "weight_decay", "input_noise"]
    shown += ["batch_size", "window", "width", "lstm_hidden", "conv_dropout", "funnel_dropout"]
    top = trials[done].sort_values("val")[shown].head(5).copy()
    for col in ("lr", "weight_decay"):
        top[col] = top[col].map("{:.2g}".format)
    display(table(top, digits=2))
    lean_cfg = profile_config("lean")
    fields = ("lr", "weight_decay", "input_noise", "batch_size", "window")
    is_lean = np.logical_and.reduce([np.isclose(trials[k], getattr(lean_cfg, k)) for k in fields])
    for _, t in trials[is_lean].iterrows():
        print(
            f"lean as it is: trial {t.trial}, {t.val:.2f} by epoch {t.epochs} ({t.state.lower()})"
        )
    print(
        f"{len(trials)} trials ({int(carried.sum())} carried over), "
        f"{int(done.sum())} ran to their early stop, the rest pruned"
    )
else:
    print(f"the search's trials are in the repository: {SEARCH.as_posix()}")

# %% [markdown]
# `lean` as it is (trial 16) reaches 12.75 before the pruner stops it at epoch 21.
# The best, trial 31, reaches 10.07 at epoch 9. The five best lie between 10.07 and
# 10.21 and share window 50, a CNN
# and BiLSTM of width 32, batch 64 or 128 and input noise of 0 or 0.1: the search
# undoes most of `lean`'s regularisation. Two of the five choose their epoch inside
# the ten-epoch warm-up (trial 31 epoch 9, trial 29 epoch 4): the early choice that
# section 6 moved away from.
#
# All of this is one seed's 20 validation engines, scored 46 times. The best of
# many close trials is partly the best fit to the noise of those engines, so the
# check below trains trial 31 on five seeds, next to `lean` scored the same way,
# and adopts it only if its mean validation RMSE over the five seeds is lower: a
# rule fixed before the runs. Seeds 1 to 4 hold out other validation engines than
# the ones the search saw.


# %%
def recipe_check(groups):
    """Per recipe: seeds, the mean validation RMSE at the chosen epochs (the decision) and
    the test RMSE there (for the record)."""
    rows = []
    for label, runs in groups.items():
        runs = sorted(runs, key=lambda r: r["seed"])
        val = [r["curves"]["val_rmse"][r["best_epoch"] - 1] for r in runs]
        unseen = [v for r, v in zip(runs, val) if r["seed"]]  # the search scored seed 0
        test = [r["test"]["rmse"] for r in runs]
        rows.append(
            {
                "recipe": label,
                "seeds": ", ".join(str(r["seed"]) for r in runs),
                "val RMSE by seed": ", ".join(f"{v:.2f}" for v in val),
                "val RMSE mean": float(np.mean(val)),
                "val mean, seeds 1-4": float(np.mean(unseen)) if unseen else math.nan,
                "test RMSE mean": float(np.mean(test)),
                "sd": float(np.std(test, ddof=1)) if len(test) > 1 else math.nan,
                "test - val": float(np.mean(test) - np.mean(val)),
                "chosen epochs": ", ".join(str(r["best_epoch"]) for r in runs),
            }
        )
    return pd.DataFrame(rows)


lean_baseline = [r for r in lean_runs if r["method"] == "baseline"]
# the check's runs: lean and the search's best trial, both scored from cycle 50
# (the third study's check, scored by RUL bands, comes after that study below)
bands_runs = [r for r in search_runs if r["config"].get("val_scoring") == "rul_bands"]
first_check = [r for r in search_runs if r not in bands_runs]
lean_from50 = [r for r in first_check if recipe_overrides(r, "lean") == {"val_from_cycle": 50}]
# a searched trial changes the window; its copy with lean's input noise (the one-factor
# check at the end of this section) no longer lists `input_noise` among its changes
best_from50 = [r for r in first_check if "input_noise" in recipe_overrides(r, "lean")]
if best_from50:
    print("the search's best trial, set on top of lean:")
    for key, value in recipe_overrides(best_from50[0], "lean").items():
        print(f"{key:>16} = {value!r}")
    display(
        table(
            recipe_check(
                {
                    "lean (scored from cycle 50)": lean_from50,
                    "search's best (scored from cycle 50)": best_from50,
                    "lean (its result files, scored from cycle 40)": lean_baseline,
                }
            )
        )
    )
else:
    print("no check runs of the search's best trial in results/search/ yet")

# %% [markdown]
# On validation the search's best trial wins on every seed: 11.84 against `lean`'s
# 13.25 over the five seeds, both scored from cycle 50, and 12.28 against 13.39 over
# seeds 1 to 4, whose validation engines the search never saw. By the rule it
# passes. `lean` scored from cycle 50 chooses the same epochs as its own result
# files, so its test RMSE is unchanged.
#
# The rule was a condition, not the whole decision. The chosen epochs column shows
# what the winner does: its checkpoints come from epochs 4 to 9, inside the
# ten-epoch warm-up, the early choice section 6 set out to leave behind and a
# target of this chapter's recipes (a best epoch well after the warm-up) that the
# validation score does not see. So `lean` stays the recipe of the chapters that
# follow. The test RMSE, recorded and not used for the choice, points the same way:
# 13.69 ± 0.37 for the search's best against 12.95 ± 0.24.
#
# The search did what it was asked: it lowered the validation score, by about one
# and a half RMSE, on engines it had not seen too. That the test does not follow
# says the validation score and the test score measure different things. The first
# averages all windows of a held-out engine from cycle 50 to its failure; the second
# takes one window per test engine, its last, cut at a random point of its life.
#
# A second study tested one of those differences. `val_scoring="test_ages"` cuts every
# held-out engine at each age at which a test engine was cut (the lengths of the test
# inputs; no test label is read) and scores the window that ends there, padded like
# the test's short engines where the age is shorter than the window. The same search,
# under this score, gave (`benchmarks/measurements/search_2026-12-06_test_ages.md`):

# %%
for name in ("search_2026-12-05", "search_2026-12-06_test_ages", "search_2026-12-06_rul_bands"):
    trials = pd.read_json(SEARCH.parent / f"{name}.jsonl", lines=True)
    is_lean = np.isclose(trials.input_noise, 0.5) & np.isclose(trials.lr, 3e-4)
    lean_row = trials[(trials.window == 40) & is_lean]
    best_row = trials[trials.state == "COMPLETE"].nsmallest(1, "val")
    print(
        f"{name}: {len(trials)} trials; lean {lean_row.val.iloc[0]:.2f} "
        f"(epoch {lean_row.best_epoch.iloc[0]}), best trial {best_row.trial.iloc[0]} "
        f"{best_row.val.iloc[0]:.2f} (epoch {best_row.best_epoch.iloc[0]}, "
        f"window {best_row.window.iloc[0]}, lr {best_row.lr.iloc[0]:.1e})"
    )

# %% [markdown]
# The age-matched score ranks the recipes as the first did: `lean` near 13, a
# window-50 recipe with a higher learning rate near 10, chosen at epoch 9, inside the
# warm-up. Cutting the held-out engines at the test ages weights the healthy part of
# life more than the windows from cycle 50 do (31% of the pairs at the cap against 26%
# of the windows on seed 0's engines, counted in the study's notes), so this difference
# is not the one that separates validation from test here. The question stays open,
# and `lean` stays the recipe.

# %% [markdown]
# A third study tried a score in which no part of life dominates:
# `val_scoring="rul_bands"` cuts the RUL range below the cap into five bands of 25
# cycles, puts the windows at the cap in a sixth, and weighs the six bands the same
# (windows from cycle 50, as in the first study; no test data is read). Under it
# `lean` scores 12.42 (epoch 22) and the best of 11 trials, trial 7, 10.19 at epoch
# 23: the first winner of the three studies that chooses its checkpoint after the
# warm-up. By the rule fixed before the study ran
# (`benchmarks/measurements/search_2026-12-06_rul_bands.md`) it goes to the same
# five-seed check, next to `lean` scored the same way:

# %%
lean_bands = [r for r in bands_runs if "window" not in recipe_overrides(r, "lean")]
best_bands = [r for r in bands_runs if "input_noise" in recipe_overrides(r, "lean")]
if best_bands:
    print("the third study's best trial, set on top of lean:")
    for key, value in recipe_overrides(best_bands[0], "lean").items():
        print(f"{key:>16} = {value!r}")
    display(
        table(
            recipe_check(
                {
                    "lean (scored by RUL bands)": lean_bands,
                    "third study's best (scored by RUL bands)": best_bands,
                }
            )
        )
    )
else:
    print("no check runs of the third study's best trial in results/search/ yet")

# %% [markdown]
# On validation trial 7 wins on every seed, 11.68 against 13.16 over the five seeds
# and 12.06 against 13.35 over seeds 1 to 4, with checkpoints from epochs 12 to 23,
# after the warm-up. By the rule it is the preferred recipe. The test RMSE, recorded
# and not used: 13.04 ± 0.41 against `lean`'s 12.93 ± 0.22 under the same score. The
# chapters that follow still use `lean`, for now for a practical reason: changing the
# recipe means training every grid of the book again under it, which has not been
# done yet.

# %% [markdown]
# Three scores, three winners that do better on validation than on the test. Each run
# records its validation RMSE at the chosen epoch (under its own score) and, for the
# record, its test RMSE there; per recipe (FD001 baseline, all seeds):


# %%
def val_test_gap(groups):
    """Per recipe: validation and test RMSE at the chosen epoch, their gap, the epochs."""
    rows = []
    for label, runs in groups.items():
        runs = [r for r in runs if r["method"] in ("baseline", "rul_only")]
        if not runs:
            continue
        val = np.array([r["val"]["rmse"] for r in runs])
        test = np.array([r["test"]["rmse"] for r in runs])
        epochs = [r["best_epoch"] for r in runs]
        rows.append(
            {
                "recipe": label,
                "runs": len(runs),
                "val RMSE mean": val.mean(),
                "test RMSE mean": test.mean(),
                "test - val": (test - val).mean(),
                "chosen epochs": f"{min(epochs)}-{max(epochs)}",
            }
        )
    return pd.DataFrame(rows).sort_values("test - val", ascending=False)


gap_groups = {
    "full": book_runs,
    "tuned": tuned_runs,
    "search's best (first study)": best_from50,
    "search's best (third study, RUL bands)": best_bands,
    "lean (scored by RUL bands)": lean_bands,
    "lean": lean_runs,
    "lean (scored from cycle 50)": lean_from50,
    "dcnn": dcnn_runs,
}
display(table(val_test_gap(gap_groups)))

# %% [markdown]
# Two groups stand apart. The recipes trained without input noise (the book's,
# `tuned`, and the best trials of the first and third studies) score 1.2 to 1.9
# lower on validation than on the test; `lean`, trained with noise of 0.5, scores
# slightly *higher* on validation than on the test, under each of its three scores.
# The gap is not a matter of early epochs alone: the third study's winner chooses
# epochs 12 to 23 and keeps a gap of 1.35. The DCNN, without noise but with dropout
# 0.5 on a small network, lies between (0.51). The held-out engines come from the
# same file as the training engines; a search that minimises their score is drawn
# towards what the noise suppresses, and the test engines do not reward it. So far that
# is a pattern in the files of six recipes that differ in many fields at once, not a
# tested cause.

# %% [markdown]
# A one-factor test of that pattern: the two noise-free winners, the first and the
# third study's best, trained again at the same five seeds with a single change,
# `lean`'s input noise of 0.5, and scored as before. The question and the rule were
# written down before the runs (`benchmarks/measurements/noise_check_2026-12-06.md`):
# noise explains the gap if it brings each recipe's test − val below 0.5, and does
# not if the gap stays above 1.0 for both. That question reads the test column and
# chooses nothing; whether a recipe is preferred is still decided on validation, next
# to `lean` under the same score.


# %%
def with_lean_noise(runs, searched):
    """The runs of `searched`'s recipe with `lean`'s input noise (0.5) instead of none."""
    if not searched:
        return []
    changes = recipe_overrides(searched[0], "lean")
    changes.pop("input_noise")
    return [r for r in runs if recipe_overrides(r, "lean") == changes]


noisy_from50 = with_lean_noise(first_check, best_from50)
noisy_bands = with_lean_noise(bands_runs, best_bands)
noise_check = {
    "lean (RUL bands)": lean_bands,
    "third study's best, no noise (RUL bands)": best_bands,
    "third study's best, noise 0.5 (RUL bands)": noisy_bands,
    "lean (from cycle 50)": lean_from50,
    "first study's best, no noise (from cycle 50)": best_from50,
    "first study's best, noise 0.5 (from cycle 50)": noisy_from50,
}
if noisy_from50 or noisy_bands:
    display(table(recipe_check({k: v for k, v in noise_check.items() if v})))
else:
    print("no runs of the one-factor noise check in results/search/ yet")

# %% [markdown]
# Each run as a point, validation RMSE at its chosen epoch against its test RMSE there;
# on the diagonal the two agree:

# %%
fig, ax = plt.subplots(figsize=(5, 4.5))
for label, runs in noise_check.items():
    if not runs:
        continue
    noisy = runs[0]["config"]["input_noise"] > 0
    ax.scatter(
        [r["val"]["rmse"] for r in runs],
        [r["test"]["rmse"] for r in runs],
        marker="o" if "lean" in label else ("s" if "first" in label else "^"),
        facecolors="C0" if noisy else "none",
        edgecolors="C0" if noisy else "C3",
        label=label,
    )
ax.axline((12, 12), slope=1, color="grey", lw=0.8)
ax.set(xlabel="validation RMSE (chosen epoch)", ylabel="test RMSE (same epoch)")
ax.set_title("FD001 baseline: filled = input noise 0.5, open = none", fontsize=10)
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
plt.show()

# %% [markdown]
# Neither, by the criteria fixed in advance: noise halves the gap of both recipes
# (1.35 to 0.63 for the third study's best, 1.85 to 0.81 for the first's) and leaves it
# above `lean`'s. Input noise explains part of the gap, not all of it. On the test,
# recorded only, both noisy variants score lower than their noise-free versions (12.71
# against 13.04, 12.73 against 13.69) and about 0.2 below `lean`, a difference of the
# size of their spread over seeds (0.16 to 0.33). On validation the third study's best moves the other
# way: noise raises its score on four of the five seeds, 12.08 against 11.68 on
# average. That is the trap of this section in one row: the held-out engines reward
# what the noise takes away, so a search that lets the validation score set the noise
# turns it off (both winners chose none).
#
# By the rule, the noisy third-study recipe is preferred over `lean` (12.08 against
# 13.16 on validation, checkpoints from epochs 12 to 24); the noisy first-study recipe
# is not, because its checkpoints still come from epochs 4 to 7, inside the warm-up.
# Ranked by validation alone, the noise-free trial 7 would still come first: keeping
# the noise is a choice made before any score, as `lean` made it, not one the
# validation engines support. The chapters that follow still use `lean`; adopting the
# noisy trial 7 means training their grids again.

# %% [markdown]
# Before a recipe is adopted there is a question this book cares about more than
# the recipe: do the differences between the methods survive the change? Under
# `lean`, AMNL and GRACE were lower than the baseline on all five seeds and GABA was
# level (section 6). The other three methods were trained under the noisy trial 7,
# with the same seeds, score and machine as its baseline runs above. How to read
# the outcome was written down before the runs
# (`benchmarks/measurements/candidate_methods_2026-12-06.md`): for AMNL and GRACE the
# difference "holds" if its mean is negative and at least four of the five seeds are
# lower; for GABA, if its mean lies within ±0.10 or the seeds split.

# %%
candidate = config_label(noisy_bands[0]) if noisy_bands else None
candidate_runs = [r for r in search_all if config_label(r) == candidate]
if len({r["method"] for r in candidate_runs}) > 1:
    print(f"noisy trial 7 = {candidate}: {len(candidate_runs)} runs")
    by_method = {m: [r for r in candidate_runs if r["method"] == m] for m in CORE_METHODS}
    display(table(recipe_check({m: runs for m, runs in by_method.items() if runs})))
    display(Markdown(paired_markdown(paired_table(candidate_runs, "FD001", profile=candidate))))
    nasa = paired_table(candidate_runs, "FD001", profile=candidate, metric="nasa")
    print("NASA score, method - baseline by seed:")
    for method, rows in nasa.groupby("method"):
        seeds, mean = rows[rows.seed != "mean"], rows[rows.seed == "mean"].iloc[0]
        print(
            f"{method:>6}: {', '.join(f'{d:+.1f}' for d in seeds.difference)}; "
            f"mean {mean.value:.1f} against {mean.reference_value:.1f}, "
            f"lower on {(seeds.difference < 0).sum()}"
        )
else:
    print("no runs of the other methods under the noisy trial 7 in results/search/ yet")

# %% [markdown]
# By that reading GABA's non-effect holds (a mean difference of −0.00), while AMNL's
# and GRACE's advantage is gone: +0.04 and +0.05 on average, lower than the baseline
# on two seeds of five, every interval containing zero. On validation, which chose
# the checkpoints, all three methods are lower than the baseline on average (by 0.11
# to 0.27), GABA on all five seeds. One pattern did carry over, outside what was fixed
# in advance: AMNL's and GRACE's NASA scores are below the baseline's on all five
# seeds (252 and 253 against 271), as their means were under `lean` (253 and 250
# against 279, section 6). So the book's loss weights move the NASA score under both
# recipes, and the test RMSE under one of them only: a difference of 0.2 RMSE between
# methods on FD001 depends on the recipe that trained them.

# %% [markdown]
# ## 8. How much of the gap is ours?
#
# The book reports test RMSEs near 10 on FD001. The numbers below put the book's
# figures, our runs of its recipe, our two recipes and the reference network side by
# side (baseline method; the DCNN has no health head).


# %%
def mean_rmse(runs, method):
    values = [r["test"]["rmse"] for r in runs if r["method"] == method]
    return float(np.mean(values)) if values else math.nan


gap = pd.DataFrame(
    [
        {
            "what": "book, published (baseline)",
            "test RMSE": published.book_figure("FD001", "baseline")[0],
        },
        {
            "what": "book's recipe, measured here (baseline)",
            "test RMSE": mean_rmse(book_runs, "baseline"),
        },
        {
            "what": "tuned recipe, measured here (baseline)",
            "test RMSE": mean_rmse(tuned_runs, "baseline"),
        },
        {
            "what": "lean recipe, measured here (baseline)",
            "test RMSE": mean_rmse(lean_runs, "baseline"),
        },
        {"what": "DCNN reference, measured here", "test RMSE": mean_rmse(dcnn_runs, "rul_only")},
        {
            "what": "DCNN, published (Li et al. 2018)",
            "test RMSE": published.LITERATURE["DCNN (Li, Ding & Sun, 2018)"][0][0],
        },
    ]
)
display(table(gap))
book_gap = gap["test RMSE"][1] - gap["test RMSE"][0]
print(f"gap between the book's figure and its recipe run here: {book_gap:.2f} RMSE")
for row, name in ((2, "tuned"), (3, "lean")):
    ours = gap["test RMSE"][1] - gap["test RMSE"][row]
    print(f"the {name} recipe closes {ours:.2f} of it ({ours / book_gap:.0%})")

# %% [markdown]
# No recipe of this chapter brings the mean of its five baseline runs (seeds 0 to 4)
# to 12.5 on FD001. Is that the validation engines' fault (they pick a poor epoch) or
# the recipe's (no epoch is good enough)? The recorded test curves answer it. For
# each run take the lowest test RMSE over all its epochs: a choice no honest protocol
# can make, so it bounds from below what any epoch rule could reach with these runs.
# A second figure asks what averaging buys: the test RMSE of one predictor that
# averages the runs' predictions per test engine. Each run chose its own checkpoint
# on its own validation engines (the seed draws them), so that average reads the test
# set only to be scored. Both are diagnoses; neither chooses anything.

# %%
baseline_of = {
    "book's recipe": book_runs,
    "tuned": tuned_runs,
    "lean": lean_runs,
    "noisy trial 31": noisy_from50,
    "noisy trial 7": noisy_bands,
}
ceiling_groups = {k: [r for r in v if r["method"] == "baseline"] for k, v in baseline_of.items()}
ceiling_groups["DCNN reference"] = dcnn_runs
ceiling = []
for name, runs in ceiling_groups.items():
    if not runs:
        continue
    chosen = [r["test"]["rmse"] for r in runs]
    lowest = selection_gap_table(runs)["lowest test RMSE"]
    ceiling.append(
        {
            "recipe": name,
            "runs": len(runs),
            "test RMSE, chosen on validation": float(np.mean(chosen)),
            "sd": float(np.std(chosen, ddof=1)) if len(runs) > 1 else math.nan,
            "lowest on each run's test curve": float(lowest.mean())
            if len(lowest) == len(runs)
            else math.nan,
            "the runs averaged": ensemble_rmse(runs),
        }
    )
ceiling = pd.DataFrame(ceiling)
chosen_mean = ceiling["test RMSE, chosen on validation"]
ceiling["gain of the test's epoch"] = chosen_mean - ceiling["lowest on each run's test curve"]
ceiling["gain of averaging"] = chosen_mean - ceiling["the runs averaged"]
display(table(ceiling))
TARGET = 12.5  # the project's target for the FD001 baseline, mean of five seeds
for column in ("lowest on each run's test curve", "the runs averaged"):
    below = ceiling.recipe[ceiling[column] <= TARGET].tolist()
    print(f"{column} <= {TARGET}: {', '.join(below) or 'none'}")

# %% [markdown]
# Read the rows of five runs. With the epoch chosen on the test itself, `lean`'s runs
# would average 12.72 and the noisy trial 7's 12.51. The best epoch rule there could
# be is worth 0.17 to 0.23 to the three recipes built on `lean`, and it takes none of
# them below 12.5: the shortfall is in what the runs learn, not in the choice among
# their epochs. Averaging the five runs of a recipe gains each of those three more
# (0.22 to 0.30; 0.83 for `tuned`): 12.64 for `lean`, 12.44 for the noisy trial 7.
# That is the usual gain of an ensemble, paid for with five times the training. Here it
# is one figure per recipe, with no spread beside it; the check below measures that
# spread for one recipe. The DCNN is the exception: its lowest test
# points lie 0.45 below its chosen ones, more than averaging gains it (0.36, to
# 12.26). It is also the one recipe here that evaluates its current weights rather
# than an average of them (`ema_decay=0`); whether that is the reason is not measured
# here.

# %% [markdown]
# The averaged figure of the noisy trial 7 is one draw of five runs. To see how much it
# varies, the same recipe was trained at twenty more seeds (5 to 24), each choosing its
# checkpoint on its own validation engines, and averaged in five disjoint groups of
# five. How to read the outcome was written down before the runs
# (`benchmarks/measurements/ensemble_check_2026-12-06.md`): an average of five runs
# meets the bar of 12.5 if the mean over the groups is at most 12.5 and at least four
# of the five groups are; it misses it if the mean is above and at least four groups
# are above; anything else is unclear.

# %%
if extra_seeds and noisy_bands:
    same_recipe = [r for r in extra_seeds if config_label(r) == config_label(noisy_bands[0])]
    all_seeds = sorted(noisy_bands + same_recipe, key=lambda r: r["seed"])
    by_five = {}
    for r in all_seeds:  # seeds 0-4, 5-9, ...: complete groups only
        by_five.setdefault(r["seed"] // 5, []).append(r)
    groups = [g for g in by_five.values() if len(g) == 5]
    averaged = pd.DataFrame(
        {
            "seeds": f"{g[0]['seed']}-{g[-1]['seed']}",
            "mean of the five runs": float(np.mean([r["test"]["rmse"] for r in g])),
            "the five averaged": ensemble_rmse(g),
            "CPU minutes (one thread a run)": sum(r["provenance"]["wall_time_s"] for r in g) / 60,
        }
        for g in groups
    )
    display(table(averaged))
    single = [r["test"]["rmse"] for r in all_seeds]
    group_rmse = averaged["the five averaged"]
    print(
        f"{len(single)} single runs: test RMSE {np.mean(single):.2f} ± {np.std(single, ddof=1):.2f}; "
        f"{len(groups)} averages of five: {group_rmse.mean():.2f} ± {group_rmse.std(ddof=1):.2f}, "
        f"{(group_rmse <= TARGET).sum()} of {len(groups)} at most {TARGET}"
    )
    cost = averaged["CPU minutes (one thread a run)"]
    book_hours = [r["provenance"]["wall_time_s"] / 3600 for r in book_runs]
    if book_hours:
        print(
            f"one average of five: {cost.min():.0f} to {cost.max():.0f} minutes of one thread "
            f"({all_seeds[0]['provenance']['device_name']}); one run of the book's recipe: "
            f"{min(book_hours):.1f} to {max(book_hours):.1f} hours of one thread "
            f"({book_runs[0]['provenance']['device_name']}, another machine)"
        )
    at_most, above = (group_rmse <= TARGET).sum(), (group_rmse > TARGET).sum()
    if len(groups) < 5:
        print("reading fixed in advance: waits for five groups")
    elif group_rmse.mean() <= TARGET and at_most >= 4:
        print("reading fixed in advance: an average of five runs meets the bar")
    elif group_rmse.mean() > TARGET and above >= 4:
        print("reading fixed in advance: an average of five runs misses the bar")
    else:
        print("reading fixed in advance: unclear")
else:
    print("no runs of the averaging check (seeds 5-24) in results/ yet")

# %% [markdown]
# By the reading fixed in advance, an average of five runs meets the bar: the five
# groups score 12.16 to 12.44, 12.30 ± 0.13 on average, every one at most 12.5. It
# costs five runs, 21 to 29 minutes of one thread per averaged predictor here, while
# one run of the book's recipe took 2.6 to 4.6 hours (on another machine, so the
# ratio is rough). The same 25 runs say what a single run of this recipe scores:
# 12.62 ± 0.35, on the reference network's mean and above 12.5. Their means by group
# of five range from 12.44 to 12.81, so a five-seed mean of single runs can fall on
# either side of the bar by the draw of seeds alone. Nothing is adopted from this
# check: the chapters keep `lean`, and no recipe here reaches 12.5 as a mean of
# single runs.

# %% [markdown]
# A third way to spend more compute on one predictor is common when engines are few:
# let validation choose the number of epochs, then train once more, from scratch, on
# all 100 training engines (the run's 80 and its 20 validation engines) for exactly
# that many epochs, and keep that model. The refit replays the run's learning-rate
# schedule (its warm-up, and its plateau decisions read from the run's validation
# curve) and keeps the weight average of its last epoch. Validation still chooses
# everything; the refit has no held-out engines left, so nothing checks it before the
# test. A control, the same replay without the 20 extra engines, reproduced its run's
# test RMSE to every printed digit, so the replay is faithful. How to read the outcome
# was written down before the refits ran
# (`benchmarks/measurements/refit_check_2026-12-06.md`): one refitted predictor meets
# the bar if the mean over 25 seeds is at most 12.5; the refit helps (hurts) if the
# mean paired change is below -0.1 (above +0.1) with at least 18 of 25 seeds lower
# (higher).
#
# ```bash
# python benchmarks/refit_check.py run results/search/FD001_baseline_seed{0..4}_custom-beb824ff.json \
#     results/ensemble/FD001_baseline_seed{5..24}_custom-beb824ff.json \
#     > benchmarks/measurements/refit_check_2026-12-06.jsonl
# ```

# %%
REFITS = SEARCH.parent / "refit_check_2026-12-06.jsonl"
refits = pd.read_json(REFITS, lines=True) if REFITS.is_file() else pd.DataFrame()
if len(refits):
    refits["refit"] = [t["rmse"] for t in refits["refit_test"]]
    refits["change"] = refits["refit"] - refits["run_test_rmse"]
    # training cost in window-passes: epochs x windows, refit over run
    epochs_run = [pd.read_json(Path("..") / f, typ="series")["epochs_run"] for f in refits["file"]]
    refits["cost"] = refits["epochs"] * refits["train_windows"]
    refits["cost"] /= np.array(epochs_run) * refits["run_train_windows"]
    refits = refits.sort_values("seed", ignore_index=True)
    by_group = refits.groupby(refits["seed"] // 5)
    refit_table = pd.DataFrame(
        {
            "seeds": [f"{g.seed.min()}-{g.seed.max()}" for _, g in by_group],
            "mean of the five runs": by_group["run_test_rmse"].mean().to_numpy(),
            "mean of the five refits": by_group["refit"].mean().to_numpy(),
        }
    )
    display(table(refit_table))
    change = refits["change"]
    print(
        f"{len(refits)} refits: test RMSE {refits['refit'].mean():.2f} ± "
        f"{refits['refit'].std():.2f} (their runs: {refits['run_test_rmse'].mean():.2f} ± "
        f"{refits['run_test_rmse'].std():.2f}); paired change {change.mean():+.2f} ± "
        f"{change.std():.2f}, lower on {(change < 0).sum()} of {len(change)} seeds"
    )
    print(
        f"cost of a refit: {refits['cost'].min():.2f} to {refits['cost'].max():.2f} of its "
        f"run's training (epochs x windows), so run and refit together "
        f"{1 + refits['cost'].min():.1f} to {1 + refits['cost'].max():.1f} runs"
    )
    mean = refits["refit"].mean()
    verdict = "meets" if mean <= TARGET else "misses"
    print(f"reading fixed in advance: one refitted predictor {verdict} the bar ({mean:.4f})")
    if change.mean() < -0.1 and (change < 0).sum() >= 18:
        print("reading fixed in advance: the refit helps")
    elif change.mean() > 0.1 and (change > 0).sum() >= 18:
        print("reading fixed in advance: the refit hurts")
    else:
        print("reading fixed in advance: no clear change")
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(refits["run_test_rmse"], refits["refit"], s=15)
    low, high = 11.8, 13.6
    ax.plot([low, high], [low, high], "k-", lw=0.8, label="no change")
    ax.axhline(TARGET, color="grey", ls="--", lw=0.8, label=f"target {TARGET}")
    ax.set(xlabel="run: test RMSE", ylabel="its refit: test RMSE", xlim=(low, high))
    ax.set(ylim=(low, high), title="below the line: the refit is closer")
    ax.legend(fontsize=8)
else:
    print("no refits (benchmarks/measurements/refit_check_2026-12-06.jsonl) here")

# %% [markdown]
# By the reading fixed in advance, one refitted predictor misses the bar, by the
# narrowest of margins: the 25 refits average 12.5007, less than a thousandth above
# 12.5, so they sit on the bar rather than below it, and three of the five groups of
# five are at or below it. By the other reading the refit helps, just: it lowers the
# test RMSE by 0.12 on average, on 18 of the 25 seeds (the least the reading allows),
# for 0.55 to 1.26 runs' worth of extra training. That is about a third of what
# averaging five runs gains (12.62 to 12.30), for a third or less of its extra cost
# (four more runs). In the figure, the runs that scored lowest mostly rose with their
# refits and those that scored highest mostly fell; part of that is what any two noisy
# draws of the same quantity show (regression to the mean), so it does not say which
# runs a refit helps. Nothing is adopted from this check either.

# %% [markdown]
# ## Exercises
#
# Three exercises: the warm-up by hand, an experiment on the validation score, and
# one measure of a paired comparison that rulkit does not compute for you.

# %% [markdown]
# ### Exercise 1: how long does the warm-up hold the learning rate back?
#
# The warm-up of section 1 raises the learning rate in a straight line from
# `start` × lr at step 0 to lr at step `warmup_steps`, and holds it there. Write
# `first_step_at(fraction, warmup_steps, start)`: the first step (an integer, counted
# from 1) at which the learning rate reaches at least `fraction` × lr, without calling
# rulkit. The check tries the book's warm-up (10 epochs of 54 steps from 0.1 × lr)
# and other ramps.
#
# <details><summary>Hint</summary>
#
# Write the rate at step $k$ as a fraction of lr: $\text{start} + (1 - \text{start})
# \min(1, k / \text{warmup})$. Solve for the smallest $k$ that reaches the target,
# and remember that a target at or below `start` is reached at once.
#
# </details>


# %%
def first_step_at(fraction, warmup_steps, start):
    ### BEGIN SOLUTION
    if fraction <= start:
        return 1
    return int(math.ceil((fraction - start) / (1 - start) * warmup_steps - 1e-9))
    ### END SOLUTION


# %%
book = profile_config("full", subset="FD001")
ramp = lr_schedule(book, steps_per_epoch=54)
for fraction in (0.5, 0.9, 1.0):
    k = first_step_at(fraction, 540, book.warmup_start)
    assert ramp.at(k) >= fraction * book.lr - 1e-12 and ramp.at(k - 1) < fraction * book.lr, (
        f"the book's LR first reaches {fraction} x lr at another step than {k}"
    )
for fraction, warmup, start, expected in (
    (0.5, 100, 0.0, 50),
    (0.75, 8, 0.5, 4),
    (0.2, 30, 0.3, 1),
):
    got = first_step_at(fraction, warmup, start)
    assert got == expected, f"first_step_at({fraction}, {warmup}, {start}) = {got}, not {expected}"
print(
    f"Correct: the book's LR reaches half its value at step {first_step_at(0.5, 540, 0.1)}, "
    f"in epoch {math.ceil(first_step_at(0.5, 540, 0.1) / 54)}, and its full value only at the "
    "end of epoch 10"
)

# %% [markdown]
# ### Exercise 2 (experiment): would scoring the windows below the cap choose later?
#
# Every run records its validation RMSE twice per epoch: over all validation windows
# (the choice) and over the windows below the RUL cap only (`val_rmse_below_cap`).
# The next cell finds, for each tuned run, the epoch each score would choose.
#
# Before you run it, write down in the cell below: on the windows below the cap, does
# the validation error reach its lowest point earlier, at the same epoch, or later than
# over all windows? Why might it? Then run the cell and explain what you see in the
# cell after it.
#
# <details><summary>Hint</summary>
#
# Look at the ablation table's two region columns: which region's error grows when a
# run memorises its training engines, the healthy windows at the cap or the windows
# where the wear shows?
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Prediction (model answer).* Later or at the same epoch: the error at the cap rises
# first when the network memorises (it learns engine-specific patterns in healthy
# windows, where the target is flat), so the score below the cap keeps improving a
# little longer.

# %%
choice = pd.DataFrame(
    [
        {
            "method": r["method"],
            "seed": r["seed"],
            "all windows": int(np.argmin(r["curves"]["val_rmse"])) + 1,
            "below the cap": int(np.argmin(r["curves"]["val_rmse_below_cap"])) + 1,
        }
        for r in sorted(tuned_runs, key=lambda r: (r["method"], r["seed"]))
    ]
)
choice["later"] = choice["below the cap"] - choice["all windows"]
print(choice.to_string(index=False))
print(
    f"later in {(choice.later > 0).sum()}, same in {(choice.later == 0).sum()}, "
    f"earlier in {(choice.later < 0).sum()} of {len(choice)} runs"
)

# %% [markdown] tags=["answer", "points-2"]
# *Explanation (model answer).* Read the counts above: the score below the cap chooses
# a later epoch in 11 of the 20 tuned runs, the same one in 7 and an earlier one in 2,
# and it never chooses beyond epoch 16. The memorisation shows first at the cap, so
# the error below it keeps improving a little longer. But choosing on those windows
# would move the checkpoint by ten epochs at most: it would not give the network the
# hundred-plus useful epochs the reference CNN has. The ablation row
# `val_scoring=below_cap` measured what it does to the test error on one seed.

# %% [markdown]
# ### Exercise 3: on how many engines is one run closer?
#
# A paired comparison looks at the same engines twice. Its simplest summary is a
# count: on what share of the test engines is run A's prediction closer to the truth
# than run B's? Write `share_closer(pred_a, pred_b, true)`: that share (ties count as
# half), from three NumPy arrays, without calling rulkit. The check uses made-up
# predictions, then applies your function to the tuned GRACE and baseline runs of
# seed 0.
#
# <details><summary>Hint</summary>
#
# Compare absolute errors engine by engine: a boolean array for "A closer", another
# for "equal", and the mean of one plus half the other.
#
# </details>


# %%
def share_closer(pred_a, pred_b, true):
    ### BEGIN SOLUTION
    err_a, err_b = np.abs(np.asarray(pred_a) - true), np.abs(np.asarray(pred_b) - true)
    return float(np.mean(err_a < err_b) + 0.5 * np.mean(err_a == err_b))
    ### END SOLUTION


# %%
true = np.array([10.0, 20.0, 30.0, 40.0])
assert share_closer([11, 20, 35, 40], [12, 25, 31, 40], true) == 0.625, (
    "A is closer on engines 1 and 2, B on engine 3, and they tie on engine 4: (2 + 0.5) / 4"
)
assert share_closer(true, true, true) == 0.5, "two identical runs are each closer on half"
assert share_closer([0, 0], [5, 5], np.array([5.0, 5.0])) == 0.0, "B is exact on both engines"
pair = {
    r["method"]: r for r in tuned_runs if r["seed"] == 0 and r["method"] in ("grace", "baseline")
}
if len(pair) == 2:
    g, b = pair["grace"]["per_engine"], pair["baseline"]["per_engine"]
    share = share_closer(g["pred"], b["pred"], np.asarray(g["true"]))
    print(f"Correct. Tuned recipe, seed 0: GRACE is closer on {share:.0%} of the test engines")
else:
    print("Correct.")

# %% [markdown]
# ## Summary
#
# - The book's recipe, run as written, chooses its checkpoint within the first few
#   epochs on FD001 and then memorises the training engines.
# - The data pipeline is not the cause: a 45-thousand-parameter reference CNN
#   trained on the same windows, chosen on the same validation engines, reaches the
#   published figure of its paper.
# - The ablation points to the inputs and the window (leave out the operating
#   settings on FD001, look back 40 cycles) and to a narrower BiLSTM; the `tuned`
#   profile combines them with a shorter patience. Its runs still choose early epochs:
#   after about ten epochs the network starts to predict wear in healthy validation
#   engines.
# - A smaller DualTaskModel without BatchNorm, trained with input noise and a lower
#   learning rate (`lean`), delays that and chooses later epochs. It is the closest of
#   the three recipes to the reference network, but its baseline is still above it:
#   our training explains a good part of the gap to the book's figures, not all of it.
# - An Optuna search around `lean` on validation engines lowers the validation RMSE on
#   five seeds, but its best trial chooses epochs inside the warm-up and `lean` stays
#   the recipe. Runs with different windows compare fairly only on the same validation
#   windows (`val_from_cycle`). Scoring the held-out engines at the test engines' ages
#   (`val_scoring="test_ages"`) ranks the recipes the same way. Weighing every RUL band
#   the same (`"rul_bands"`) gives a winner that chooses after the warm-up and passes
#   the five-seed check on validation, but not on the test; it is not adopted yet.
# - Recipes trained without input noise score 1.2 to 1.9 lower on validation than on
#   the test; `lean` does not. Validation-only searches are drawn to that gap. Adding
#   `lean`'s noise to the two noise-free winners halves their gap and lowers their test
#   RMSE, but raises the validation score of one: the validation engines do not reward
#   input noise, so a score on them alone cannot choose it.
# - Under `tuned` and `lean`, GABA's RUL weight is on its floor when the checkpoint is
#   taken, and the four methods differ by less than their seed-to-seed spread.
#   Under the noisy trial 7, AMNL's and GRACE's small RMSE advantage over the baseline
#   disappears while their lower NASA score stays: differences this small depend on
#   the recipe.
# - No epoch rule could take the recipes built on `lean` to a baseline of 12.5 on
#   FD001: even the epoch of lowest test RMSE, which no honest protocol may choose,
#   gains them only about 0.2. Averaging five runs gains more, at five times the cost:
#   over five groups of the noisy trial 7, every average lies at or below 12.5, while
#   its single runs average 12.62 over 25 seeds. Training once more on all 100
#   engines for the epochs validation chose lowers a run by 0.12 on average, to
#   12.50, on the bar and not below it.

# %% [markdown]
# ## Check your understanding
#
# 1. Choosing the epoch with the recorded *test* curves would lower every test RMSE
#    of this chapter. Why would it make the tables worthless all the same?

# %% [markdown] tags=["answer"]
# *Model answer.* A test figure is worth reporting because the test engines had no say
# in how the model was made. Choosing the epoch on them turns the test set into a
# second validation set: the reported figure becomes the best of many noisy
# evaluations, biased low, and nothing is left to estimate how the model does on
# engines it was not tuned on. The recorded curves serve only to measure how large
# that bias would have been.

# %% [markdown]
# 2. In the ablation table every seed-1 row has a higher validation RMSE than the
#    seed-0 rows. Is seed 1 a worse seed?

# %% [markdown] tags=["answer"]
# *Model answer.* Not necessarily: the seed also draws the validation engines, so
# seed 1 is scored on other engines than seed 0, and some engines are harder to
# predict than others. Validation figures are comparable only between runs that share
# their validation engines, that is, between rows of the same seed; across seeds the
# test figures, scored on the same 100 test engines, are the ones to compare.

# %% [markdown]
# 3. With targets in cycles, why does GABA's RUL weight fall to its floor, and why does
#    the RUL gradient still outweigh the health gradient on the shared backbone there?

# %% [markdown] tags=["answer"]
# *Model answer.* GABA makes the RUL weight proportional to the health gradient's
# norm over the sum of both norms. With targets in cycles the RUL loss, and with it its
# gradient, is hundreds of times larger than the health loss's, so that weight is far
# below 0.05 and the floor holds it there. With the RUL weight at the floor and the
# health weight at the rest, the pulls are equal only if the RUL gradient is at most 19
# times the health gradient (chapter 17); it is larger than that, so the RUL task still
# pulls harder, and GABA trains like a fixed weighting of the two losses.

# %% [markdown]
# 4. The lean recipe adds Gaussian noise to every training window, and its runs choose
#    later epochs than the tuned ones. Why could noise on the *inputs* delay the climb
#    of the error on healthy validation engines, and what would you measure to check
#    that explanation?

# %% [markdown] tags=["answer"]
# *Model answer.* Healthy engines are not identical: each starts at slightly different
# sensor levels. A network can fit the target of 125 on its training engines by
# recognising each engine from such small, steady differences instead of by the
# absence of wear; on a new engine the same kind of difference is then read as wear,
# and the prediction drops below 125. Noise of about the size of those differences
# makes them unreliable, while the changes that wear produces are several times
# larger and survive it. To check: measure how far the healthy levels of the
# training engines are apart compared with the noise; train with noise of several
# sizes and watch the error at the cap; and compare a per-engine shift of the inputs
# (which should move the predictions of a network that keys on levels) between the
# two recipes.
