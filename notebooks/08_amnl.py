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
# # Chapters 14-16: AMNL, a loss that cares most about the end of life
#
# A plain MSE treats an error of 20 cycles the same whether the engine has a
# hundred cycles left or ten. In service these are not the same mistake: an engine that is
# about to fail and is predicted to have plenty of life left is the error that
# costs an engine, or worse. AMNL, the first of the book's three methods, makes the
# errors near failure count more: every window's squared error gets a weight set by
# how close the window's *true* RUL is to failure, growing linearly from 1 at the
# cap (125 cycles or more) to 2 at failure, and the weighted MSE is combined with
# the health cross-entropy under fixed 0.5/0.5 task weights. The weight does not
# depend on the sign of the error: a late and an early prediction of the same size
# on the same window cost the same, so AMNL is not the asymmetry of the NASA score
# (chapter 13), which punishes late predictions more. This notebook takes
# the loss apart on small, exact examples, shows where it lives in rulkit, and
# then trains AMNL and the baseline side by side on a small scale, with an honest
# look at what such a small comparison can and cannot say.
#
# **Learning goals**
#
# - write down AMNL's sample weights $w(y) = 2 - \min(y, 125)/125$ and say which
#   windows they favour;
# - compute the weighted MSE with both normalisations, by the sum of the weights
#   and by the batch size, and explain why the first keeps the loss on the scale of
#   a plain MSE;
# - state AMNL's total loss with its fixed task weights, and what AMNL does *not*
#   change about the balance between the two tasks;
# - find AMNL in rulkit (`rulkit.losses`, `rulkit.methods`);
# - train AMNL and the baseline with the same seed and data, compare their training
#   curves, per-engine predictions and errors near failure, and judge how much a
#   single small run can tell.

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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

import rulkit
from rulkit import metrics, plots
from rulkit.config import expected_cost, notebook_profile
from rulkit.data import HEALTH_CLASSES
from rulkit.losses import amnl_loss, amnl_weights, task_losses, weighted_mse
from rulkit.methods import METHODS
from rulkit.published import BOOK_PROTOCOL, book_figure
from rulkit.report import beside_book, results_paragraph, run_set
from rulkit.results import load_measured
from rulkit.train import TrainConfig, prepare_for, profile_config, train

plt.rcParams["figure.figsize"] = (8, 3.5)

# %% [markdown]
# **Training profile.** This chapter trains models, and `PROFILE` below decides
# how big they are. `"smoke"`, the default, trains on 8 engines for at most 5
# epochs: minutes per run on a CPU (the printed cost below), enough to watch the mechanics,
# too little to measure anything. `"full"` is the book's recipe, up to 500 epochs
# per run: hours per run, and a GPU is the place for it. `notebook_profile()`
# reads the environment variable `RULKIT_PROFILE`: to switch, set
# `RULKIT_PROFILE=full` before starting Jupyter (on Colab, run
# `%env RULKIT_PROFILE=full` in a cell above this one), or write `PROFILE = "full"`
# in the cell below. A GPU alone never switches it. Every training cell prints
# what it will cost before it starts, and with `"full"` it shows a progress bar.

# %%
PROFILE = notebook_profile()  # "smoke" unless RULKIT_PROFILE=full is set
PROGRESS = PROFILE == "full"  # progress bars for the long runs only
print(f"training profile: {PROFILE}")

# %% [markdown]
# ## The sample weights
#
# For a window whose (capped) RUL target is $y$, AMNL uses the weight
#
# $$w(y) = w_\max - (w_\max - w_\min)\,\frac{\min(y, R_\max)}{R_\max}
# = 2 - \frac{\min(y, 125)}{125},$$
#
# with $w_\min = 1$, $w_\max = 2$ and $R_\max = 125$. A window at failure
# ($y = 0$) counts twice as much as a healthy window on the plateau
# ($y = 125$), and the weight falls linearly in between. Because the targets are
# already capped at 125, the $\min$ only matters for uncapped inputs; every
# window on the plateau gets weight 1. In rulkit the weights are
# `rulkit.losses.amnl_weights`.

# %%
# NBVAL_CHECK_OUTPUT
y_points = torch.tensor([0.0, 10.0, 30.0, 62.5, 80.0, 100.0, 125.0, 200.0])
for y_value, w in zip(y_points, amnl_weights(y_points)):
    print(f"y = {y_value.item():6.1f}  ->  w = {w.item():.4f}")

# %% [markdown]
# Where do the health classes of chapter 7 fall on this line? A critical window
# ($y \le 30$) has a weight of at least 1.76, a degrading one ($30 < y \le 80$)
# between 1.36 and 1.76, a normal one at most 1.36.

# %%
y_grid = torch.linspace(0, 160, 321)
fig, ax = plt.subplots()
ax.plot(y_grid, amnl_weights(y_grid), color="C0", lw=2, label="AMNL weight $w(y)$")
ax.axhline(1, color="0.5", ls=":", label="plain MSE (weight 1)")
bands = [(80, 160, "tab:green"), (30, 80, "tab:orange"), (0, 30, "tab:red")]
for (lo, hi, color), name in zip(bands, HEALTH_CLASSES):
    ax.axvspan(lo, hi, color=color, alpha=0.12, label=name)
ax.axvline(125, color="k", lw=0.8, ls="--")
ax.text(127, 1.5, "cap $R_{max}$ = 125", fontsize=8)
ax.set(xlabel="target RUL $y$ (cycles)", ylabel="sample weight", ylim=(0.8, 2.1))
ax.set_title("AMNL's sample weights and the health classes")
ax.legend(fontsize=8, ncols=2, loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# How much of the loss do the critical windows carry? On the FD001 training
# windows (the same preparation as in chapters 6 and 7) we compare each class's
# share of the windows with its share of the total weight.

# %%
# NBVAL_CHECK_OUTPUT
data_dir = rulkit.fetch_cmapss()
full = rulkit.prepare("FD001", data_dir)
w_all = amnl_weights(torch.from_numpy(full.train.y_rul).double()).numpy()
classes = full.train.y_health
print(f"{'class':<10}{'windows':>9}{'share':>8}{'mean w':>8}{'weight share':>14}")
for k, name in enumerate(HEALTH_CLASSES):
    mask = classes == k
    print(
        f"{name:<10}{mask.sum():>9,}{mask.mean():>8.1%}{w_all[mask].mean():>8.3f}"
        f"{w_all[mask].sum() / w_all.sum():>14.1%}"
    )
print(f"{'all':<10}{len(w_all):>9,}{1:>8.1%}{w_all.mean():>8.3f}{1:>14.1%}")

# %% [markdown]
# The critical windows are 17.7% of the training windows but carry 24.4% of the
# total weight; the normal windows fall from 53.9% of the windows to 42.9% of the
# weight. AMNL does not turn the loss into a loss on the critical windows only; it
# tilts it towards them.

# %% [markdown]
# ## Two ways to normalise the weighted MSE
#
# With per-window errors $e_i = \hat y_i - y_i$ and weights $w_i$ there are two
# natural ways to average:
#
# $$\text{wMSE}_\text{weights} = \frac{\sum_i w_i e_i^2}{\sum_i w_i}, \qquad
# \text{wMSE}_\text{batch} = \frac{1}{B}\sum_i w_i e_i^2
# = \bar w \cdot \text{wMSE}_\text{weights},$$
#
# with $\bar w$ the mean weight of the batch. The book's chapter-14 formula is the
# first; its later code uses the second. rulkit keeps both:
# `weighted_mse(pred, target, weights, normalise="weights")` (the default, also
# `TrainConfig.wmse_normalise`) or `normalise="batch"`.
#
# Both give the windows the same *relative* importance; they differ only by the
# factor $\bar w$, which lies between 1 and 2 and depends on the batch. The first
# is a weighted *average* of squared errors: if every window has the same error
# $e$, it is exactly $e^2$, like a plain MSE, so its square root is still an error
# in cycles. The second is not: the same constant error gives $\bar w e^2$, larger
# for batches with many windows near failure.
#
# Here is a batch of eight fixed targets and three error patterns: the same error
# of 5 cycles everywhere, an error of 10 cycles on the three windows nearest
# failure only, and the same error on the three healthiest windows only.

# %%
# NBVAL_CHECK_OUTPUT
y_batch = torch.tensor([0.0, 10.0, 25.0, 50.0, 90.0, 125.0, 125.0, 125.0], dtype=torch.float64)
w_batch = amnl_weights(y_batch)
errors = {
    "5 everywhere": torch.full_like(y_batch, 5.0),
    "10 near failure": torch.tensor([10.0, 10, 10, 0, 0, 0, 0, 0], dtype=torch.float64),
    "10 when healthy": torch.tensor([0.0, 0, 0, 0, 0, 10, 10, 10], dtype=torch.float64),
}
print("weights:", " ".join(f"{w:.3f}" for w in w_batch.tolist()))
print(f"mean weight of the batch: {w_batch.mean().item():.4f}")
print(f"{'error pattern':<18}{'plain MSE':>10}{'wMSE weights':>14}{'wMSE batch':>12}")
for name, e in errors.items():
    pred = y_batch + e
    plain = weighted_mse(pred, y_batch)
    by_weights = weighted_mse(pred, y_batch, w_batch, normalise="weights")
    by_batch = weighted_mse(pred, y_batch, w_batch, normalise="batch")
    print(f"{name:<18}{plain.item():>10.4f}{by_weights.item():>14.4f}{by_batch.item():>12.4f}")

# %% [markdown]
# - A constant error of 5 cycles gives exactly 25 with the `weights`
#   normalisation, as with the plain MSE; the `batch` normalisation reports
#   $25\,\bar w$.
# - The same 10-cycle error costs more near failure than on healthy windows under
#   both normalisations, and by the same factor (the ratio of the two rows is the
#   same in both columns): that is AMNL's intent.
#
# Why does the factor $\bar w$ matter, if it does not change which windows count
# more? Because the RUL loss is added to a second loss with fixed task weights.
# Multiplying $L_\text{rul}$ by $\bar w$ is the same as raising its task weight
# from 0.5 to $0.5\,\bar w$, by an amount that changes from batch to batch. With
# the `weights` normalisation the RUL loss stays on the scale of the baseline's
# plain MSE, so AMNL and the baseline differ only in *which* errors count, not in
# how loud the RUL task is.
#
# How large is $\bar w$ in practice? We draw 500 random batches of 256 FD001
# training windows (the book's batch size) and look at their mean weight.

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
batch_means = np.array(
    [w_all[rng.choice(len(w_all), size=256, replace=False)].mean() for _ in range(500)]
)
print(f"mean weight over all training windows: {w_all.mean():.4f}")
print(
    f"mean weight of a batch of 256: {batch_means.mean():.4f} +- {batch_means.std():.4f} "
    f"(range {batch_means.min():.4f} to {batch_means.max():.4f})"
)
print(
    f"effective RUL task weight under 'batch': 0.5 x {w_all.mean():.3f} = {0.5 * w_all.mean():.3f}"
)

# %%
fig, ax = plt.subplots()
ax.hist(batch_means, bins=30, color="C0", alpha=0.8)
ax.axvline(1, color="0.5", ls=":", label="'weights' normalisation: factor 1")
ax.axvline(w_all.mean(), color="C3", lw=2, label=f"dataset mean weight {w_all.mean():.3f}")
ax.set(xlabel="factor $\\bar w$ between 'batch' and 'weights'", ylabel="batches of 256")
ax.set_title("FD001 training windows, 500 random batches")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Under the `batch` normalisation the RUL loss of AMNL is about a third larger
# than a plain MSE with the same errors, and it jitters by a few percent from
# batch to batch. For a single-task model trained with Adam this would hardly
# matter (Adam is nearly insensitive to a constant scale of the loss), but here it
# changes the balance against the health loss. rulkit therefore uses the
# `weights` normalisation by default and keeps the `batch` variant as a documented
# option (`wmse_normalise="batch"`) for reproducing the book's later code.

# %% [markdown]
# ## AMNL's total loss: fixed 0.5/0.5 task weights
#
# AMNL adds the health cross-entropy with a fixed task weight $\lambda_\text{hs}$:
#
# $$L_\text{AMNL} = (1 - \lambda_\text{hs})\,\text{wMSE} + \lambda_\text{hs}\,
# \text{CE}, \qquad \lambda_\text{hs} = 0.5.$$
#
# That is `rulkit.losses.amnl_loss`. We check it on the batch above, with fixed
# logits for the health head.

# %%
# NBVAL_CHECK_OUTPUT
pred = y_batch + errors["5 everywhere"]
logits = torch.tensor(
    [[0.1, 0.4, 2.0], [0.0, 0.5, 1.5], [0.2, 1.0, 1.0], [0.3, 1.2, 0.1]] + [[1.5, 0.5, 0.0]] * 4,
    dtype=torch.float64,
)
labels = torch.tensor([2, 2, 2, 1, 0, 0, 0, 0])
wmse, ce = task_losses(pred, y_batch, logits, labels, amnl=True)
total = amnl_loss(pred, y_batch, logits, labels, lam_hs=0.5)
print(f"wMSE = {wmse.item():.4f}, CE = {ce.item():.4f}")
print(f"0.5 * wMSE + 0.5 * CE = {0.5 * wmse.item() + 0.5 * ce.item():.4f}")
print(f"amnl_loss             = {total.item():.4f}")

# %% [markdown]
# The fixed weights leave the imbalance of chapter 12 untouched: the RUL loss, in
# cycles$^2$, still dwarfs the cross-entropy, and its gradient still dominates the
# shared backbone. AMNL changes *which RUL errors* the backbone is pushed to fix,
# not *how hard each task pushes*. Balancing the tasks is GABA's job (chapters
# 17-19); GRACE (chapters 20-23) combines both ideas.
#
# ## Where AMNL lives in rulkit
#
# - `rulkit/losses.py`: `amnl_weights` (the weights above), `weighted_mse` (both
#   normalisations), `rul_loss` and `task_losses` (the two task losses, with or
#   without AMNL's weights), and `amnl_loss` (the total loss, for use outside the
#   trainer).
# - `rulkit/methods.py`: the registry `METHODS`. A method is two choices, whether
#   the RUL loss is failure-weighted and which balancer sets the task weights.
#   AMNL and the baseline differ in the first choice only.
#
# The trainer never calls `amnl_loss` itself: it computes both task losses with
# `task_losses(..., amnl=method.amnl)` and lets the method's balancer combine
# them, here `FixedWeights((1 - lam_hs, lam_hs))`.

# %%
# NBVAL_CHECK_OUTPUT
default = TrainConfig()
for name in ("baseline", "amnl"):
    method = METHODS[name]
    balancer = method.make_balancer(default)
    weights = ", ".join(f"{w:.2f}" for w in balancer.weights().tolist())
    print(f"{name:<9} amnl={method.amnl!s:<6} {type(balancer).__name__}({weights})")
    print(f"{'':<9} {method.description}")
print(f"default normalisation of the weighted MSE: {default.wmse_normalise!r}")

# %% [markdown]
# ## Training AMNL and the baseline
#
# Now the two methods on real data. To make the comparison as fair as a single
# pair of runs can be, both use the same seed (so the same initial weights and the
# same order of batches) and the very same prepared data object, so the only
# difference is the RUL loss. With the notebook's default `PROFILE = "smoke"`
# that is eight training engines (two more held out for validation), five epochs
# and batches of 64, a few minutes per run on a laptop CPU (the
# `seconds` row of the table shows what this machine took); `"full"` is the book's
# recipe.

# %%
cfg = {m: profile_config(PROFILE, subset="FD001", method=m) for m in ("baseline", "amnl")}
data = prepare_for(cfg["amnl"])
print(expected_cost(PROFILE, runs=len(cfg)))
runs = {m: train(c, data=data, progress=PROGRESS) for m, c in cfg.items()}
for m, r in runs.items():
    assert r.status == "ok", f"{m}: {r.error}"
    for key in ("train_loss_rul", "train_loss_health", "val_rmse"):
        assert np.isfinite(r.curves[key]).all(), f"{m}: non-finite {key}"
    assert np.isfinite([r.test["rmse"], r.test["nasa"]]).all(), f"{m}: non-finite test metrics"
    assert r.curves["train_loss_rul"][-1] < r.curves["train_loss_rul"][0], f"{m}: RUL loss rose"
table = pd.DataFrame(
    {
        m: {
            "profile": r.profile,
            "train engines": r.data["train_units"],
            "epochs": r.epochs_run,
            "best epoch": r.best_epoch,
            "val RMSE": r.val["rmse"],
            "test RMSE": r.test["rmse"],
            "test NASA": r.test["nasa"],
            "health acc.": r.test["accuracy"],
            "seconds": r.provenance["wall_time_s"],
        }
        for m, r in runs.items()
    }
)
print(table.to_string(float_format=lambda v: f"{v:.2f}"))

# %% [markdown]
# Before reading anything into these figures, check *which* weights were scored.
# The trainer scores the test engines once, with the (EMA) weights of the epoch
# that had the lowest validation RMSE. In the smoke profile only two validation
# engines decide, so that choice is itself noisy, and it can fall
# on the first epoch, whose weights are still close to the initial model that
# predicts about 62.5 cycles for every engine. The spread of the test predictions
# tells whether the chosen checkpoint tells engines apart at all.

# %%
for m, r in runs.items():
    pred = np.asarray(r.per_engine["pred"])
    print(
        f"{m:<9} checkpoint of epoch {r.best_epoch} of {r.epochs_run}: test predictions "
        f"from {pred.min():.1f} to {pred.max():.1f} cycles (std {pred.std():.1f})"
    )
    if pred.std() < 5:
        print(
            f"{'':<9} -> nearly the same RUL for every engine: this checkpoint has not learned "
            "to tell engines apart, so its test figures say nothing about the method"
        )

# %% [markdown]
# The training curves of both runs, drawn with `rulkit.plots.training_curves`.
# Because rulkit normalises the weighted MSE by the sum of the weights, AMNL's
# RUL loss (lower left panel) is on the same scale as the baseline's plain MSE
# (upper left), and the two can be read side by side.

# %%
fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True)
for row, (m, r) in zip(axes, runs.items()):
    plots.training_curves(r, axes=row)
    row[0].set_title(f"{m}: training losses")
    row[1].set_title(f"{m}: validation RMSE")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Predictions per test engine
#
# `rulkit.plots.predictions` sorts the 100 FD001 test engines by their true
# (capped) RUL and shows each engine's prediction, one window per engine.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, (m, r) in zip(axes, runs.items()):
    plots.predictions(r, ax=ax)
    ax.set_title(f"{m}: test RMSE {r.test['rmse']:.1f}, NASA {r.test['nasa']:.0f}")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Errors near failure and far from it
#
# AMNL's promise is about the windows near failure. We therefore split the test
# engines at a true RUL of 30 cycles (the critical class) and compare, per group,
# the RMSE, the mean signed error (positive means *late*: the model thinks the
# engine has more life left than it has), the share of late predictions and the
# NASA score, which punishes late predictions harder than early ones.

# %%
rows = []
errors_by_method = {}
for m, r in runs.items():
    true = np.asarray(r.per_engine["true"])
    d = np.asarray(r.per_engine["pred"]) - true
    errors_by_method[m] = (true, d)
    for group, mask in (("true RUL <= 30", true <= 30), ("true RUL > 30", true > 30)):
        rows.append(
            {
                "method": m,
                "group": group,
                "engines": int(mask.sum()),
                "RMSE": metrics.rmse(d[mask], 0),
                "mean error": d[mask].mean(),
                "late share": (d[mask] > 0).mean(),
                "NASA": metrics.nasa_score(d[mask], 0),
            }
        )
near_far = pd.DataFrame(rows).set_index(["group", "method"]).sort_index()
assert np.isfinite(near_far[["RMSE", "mean error", "NASA"]].to_numpy()).all()
print(near_far.to_string(float_format=lambda v: f"{v:.2f}"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for m, (true, d) in errors_by_method.items():
    axes[0].scatter(true, d, s=12, alpha=0.7, color=plots.METHOD_COLORS[m], label=m)
axes[0].axhline(0, color="k", lw=0.8)
axes[0].axvline(30, color="tab:red", ls="--", lw=0.8)
axes[0].set(xlabel="true RUL (capped)", ylabel="error pred - true (cycles)")
axes[0].set_title("per-engine error (above 0: late)")
axes[0].legend(fontsize=8)
groups = [(m, near) for near in (True, False) for m in errors_by_method]
box_data = [errors_by_method[m][1][(errors_by_method[m][0] <= 30) == near] for m, near in groups]
box = axes[1].boxplot(box_data, patch_artist=True)
for patch, (m, _) in zip(box["boxes"], groups):
    patch.set_facecolor(plots.METHOD_COLORS[m])
    patch.set_alpha(0.6)
axes[1].set_xticks(
    range(1, len(groups) + 1),
    [f"{m}\n{'<= 30' if near else '> 30'}" for m, near in groups],
    fontsize=8,
)
axes[1].axhline(0, color="k", lw=0.8)
axes[1].set(ylabel="error (cycles)", title="errors near failure and far from it")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the table and the figure together with the check of the checkpoints above.
# Neither checkpoint is a constant predictor: both spread their test predictions
# over almost the whole range (standard deviations of 38.3 and 38.7 cycles), so the
# errors are the models' own, not the mirror image of the true RUL that a
# checkpoint predicting about 62.5 cycles everywhere would leave. In this pair of
# runs AMNL's errors near failure are the smaller ones: an RMSE of 13.09 against
# 19.39 cycles on the 25 engines with a true RUL of at most 30.
#
# Is that difference real, or would another sample of test engines reverse it? A
# bootstrap over the test engines answers that part of the question: draw the
# engines of each group with replacement, recompute both methods' RMSE on the same
# draw, and look at the spread of the difference over 2,000 draws.

# %%
boot_rng = np.random.default_rng(0)
true_t = np.asarray(runs["amnl"].per_engine["true"])
err = {m: np.asarray(r.per_engine["pred"]) - true_t for m, r in runs.items()}
print(f"{'group':<16}{'engines':>8}{'':>2}{'RMSE of':<17}{'point':>7}{'95% interval':>18}")
for group, mask in (("true RUL <= 30", true_t <= 30), ("true RUL > 30", true_t > 30)):
    idx = np.flatnonzero(mask)
    draws = boot_rng.choice(idx, size=(2000, idx.size), replace=True)  # the same draws for both
    point = {m: np.sqrt(np.mean(e[idx] ** 2)) for m, e in err.items()}
    boot = {m: np.sqrt(np.mean(e[draws] ** 2, axis=1)) for m, e in err.items()}
    point["amnl - baseline"] = point["amnl"] - point["baseline"]
    boot["amnl - baseline"] = boot["amnl"] - boot["baseline"]
    for m, values in boot.items():
        low, high = np.percentile(values, [2.5, 97.5])
        interval = f"[{low:.2f}, {high:.2f}]"
        print(f"{group:<16}{idx.size:>8}{'':>2}{m:<17}{point[m]:>7.2f}{interval:>18}")

# %% [markdown]
# Over the test engines, this pair of runs separates the two groups. Near
# failure AMNL's RMSE is lower by 6.30 cycles, with a 95% interval of
# [-9.57, -1.55] for the difference: it does not contain zero, so another sample of
# test engines of the same kind would hardly reverse the order. Far from failure
# the two runs are within 0.35 cycles of each other, and that interval,
# [-1.15, 0.43], does contain zero. That is the pattern AMNL's weights aim for: the
# gain sits in the windows near failure that they favour. But the interval covers
# the choice of test engines only, not the choice of seed, which the next section
# comes to.

# %% [markdown]
# ### How much can this comparison tell?
#
# Very little, and it is worth being precise about why.
#
# - **The scale is tiny.** The smoke profile trains on eight engines for five
#   epochs; the book's recipe trains on 80 engines for up to 500 epochs, with five
#   seeds per method. Smoke test RMSEs like the 21.86 and 20.37 cycles above say
#   that the pipeline works, not how good either method is.
# - **A noisy choice of checkpoint.** Two validation engines decide which epoch
#   is scored, as shown above.
# - **One seed per method.** With the same seed, initial weights and batch order
#   are shared, but the two losses send the weights along different paths from the
#   first step on. The bootstrap above measures how much the figures depend on
#   *which test engines* are scored; it says nothing about how much they would
#   move with another seed, which is the spread the book's five seeds per method
#   are for. A single pair of runs cannot measure that.
# - **The near-failure group is small.** Only the test engines with a true RUL of
#   at most 30 cycles form it, 25 here, so its RMSE moves a lot with a handful of
#   engines, as the width of its bootstrap interval shows.
#
# For scale, here are the book's own FD001 figures (5-seed means of its full
# recipe). They are the book's numbers under its protocol, not results of this
# notebook.

# %%
# NBVAL_CHECK_OUTPUT
print(f"The book's FD001 figures ({BOOK_PROTOCOL}):")
for m in ("baseline", "amnl"):
    rmse_book, nasa_book = book_figure("FD001", m)
    print(f"  {m:<9} RMSE {rmse_book:6.2f}   NASA {nasa_book:7.1f}")

# %% [markdown]
# Note what the book reports on FD001: AMNL's RMSE is close to the baseline's, and
# its NASA score is *higher*, not lower. Weighting the errors near failure does not
# by itself make the predictions earlier; the NASA score depends on the sign of the
# errors, and the weighted MSE is symmetric in the sign. The book's case for AMNL
# rests on FD002 and FD004, the subsets with six operating conditions (chapter 13
# and the results chapter).

# %% [markdown]
# ## Full-recipe results, when there are any
#
# Runs of the book's full recipe (the CPU campaign or the GPU script of the
# results chapter, both `rulkit sweep`) write one JSON file each into `results/` at
# the root of the repository, and `make measured` packs them into a summary that
# ships with rulkit, so that a notebook opened on Colab finds them too.
# `load_measured` says which of the two it read; `beside_book` puts the book's
# FD001 figures (published) beside this project's (measured) for the same cells.

# %%
records, source = load_measured(Path("..") / "results")
print("results read:", run_set(records))  # tests/test_results_current.py checks this line
print(f"Full-recipe runs read from {source}.")
print(beside_book(records, "FD001", ["baseline", "amnl"]).to_string(index=False))

# %% [markdown]
# What these runs say, in sentences built from them when the cell runs, for the book's
# recipe and for the tuned and lean recipes of the chapter "Training it well" (AMNL against the
# baseline, paired on the same test engines):

# %%
for recipe in ("full", "tuned", "lean"):
    display(Markdown(results_paragraph(records, "FD001", ("baseline", "amnl"), profile=recipe)))

# %% [markdown]
# All three recipes land well above the book's RMSE figures; the lean recipe's NASA
# scores (252.5 for AMNL) are below the book's 434.4 for AMNL. Under none of them does
# AMNL differ from the baseline by more than the baseline's own seeds differ from each
# other. The results chapter shows each run's engine-level interval and training
# curves.

# %% [markdown]
# ## Exercises
#
# Four exercises, from the easiest to the hardest. Exercise 2 is an experiment:
# write your prediction down before you run its cell.

# %% [markdown]
# ### Exercise 1: AMNL's weights along one engine's life
#
# AMNL weights a window by its *true* RUL, and for a training engine that follows
# from the cycle: an engine that runs $n$ cycles and fails after the last one has,
# at cycle $c$ (counted from 1), the true RUL $n - c$ (chapter 7). Write
# `life_weights(n_cycles, cap=125.0, w_min=1.0, w_max=2.0)`: the AMNL weight of the
# target at every cycle $1, \dots, n$, in cycle order, as a NumPy array, without
# calling rulkit. RUL values above the cap get the weight of the cap. The check
# tries the book's parameters on an engine of 200 cycles and other parameters on
# short engines.
#
# <details><summary>Hint</summary>
#
# First the RUL of every cycle: it counts down to 0 at the last cycle. Then clip it
# at the cap and go down in a straight line from `w_max` at a RUL of 0 to `w_min`
# at the cap: the slope is `(w_max - w_min) / cap`.
#
# </details>


# %%
def life_weights(n_cycles, cap=125.0, w_min=1.0, w_max=2.0):
    ### BEGIN SOLUTION
    rul = n_cycles - np.arange(1, n_cycles + 1, dtype=np.float64)
    return w_max - (w_max - w_min) * np.minimum(rul, cap) / cap
    ### END SOLUTION


# %%
mine = np.asarray(life_weights(200), dtype=np.float64)
assert mine.shape == (200,), f"one weight per cycle: expected shape (200,), got {mine.shape}"
assert np.isclose(mine[-1], 2.0), (
    f"at the last cycle (RUL 0) the weight is 2, not {mine[-1]:.4f}: the RUL counts down to 0"
)
assert np.allclose(mine[:75], 1.0), (
    "cycles 1-75 of a 200-cycle engine have a RUL of 125 or more: they get the weight of the cap, 1"
)
assert np.allclose(np.diff(mine[74:]), 1 / 125), (
    "over the last 125 cycles the weight should rise by (w_max - w_min) / cap = 1/125 a cycle"
)
short = np.asarray(life_weights(4, cap=2.0, w_min=1.0, w_max=3.0), dtype=np.float64)
assert np.allclose(short, [1.0, 1.0, 2.0, 3.0]), (
    f"4 cycles, cap 2, weights from 1 to 3: expected [1, 1, 2, 3], you return {short.round(4).tolist()}. "
    "Use the arguments cap, w_min and w_max rather than fixed numbers"
)
assert np.allclose(
    life_weights(3, cap=125.0, w_min=0.5, w_max=3.0), [3 - 2.5 * 2 / 125, 3 - 2.5 / 125, 3.0]
), "3 cycles have the RULs 2, 1 and 0; with w_min 0.5 and w_max 3 the slope is 2.5 / 125"
print(
    f"Correct: over a 200-cycle life the weight stays {mine[0]:.0f} for the first 75 cycles, "
    f"then rises to {mine[-1]:.0f} at the last"
)

# %% [markdown]
# ### Exercise 2 (experiment): a steeper weighting
#
# The book lets a window at failure count twice as much as a healthy one
# (`w_max = 2`). Suppose an operator asks for five times as much, `w_max = 5`,
# with `w_min = 1` and the cap at 125 unchanged. Before you run the next code
# cell, write down in the cell below this one:
#
# 1. the weight of a window at RUL 0 and of a window at RUL 125;
# 2. the share of the total weight that the critical FD001 training windows then
#    carry: 24.4% with the book's weights (table above), and 17.7% of the windows.
#    Will it be about five times their share of the windows, more than half of the
#    weight, or something else?
# 3. what happens to the mean weight, the factor between the `batch` and the
#    `weights` normalisations.
#
# Then run the cell (change `W_MAX` to try other values) and explain, in the cell
# after it, what you see against what you predicted.
#
# <details><summary>Hint</summary>
#
# Only the windows near failure get much heavier; the weight of a window on the
# plateau stays `w_min`. Look at the table of the health classes above: which
# class has most of the windows, and how heavy do the degrading windows become?
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Prediction (model answer).* The weight at RUL 0 becomes 5, the weight at
# RUL 125 stays 1 (the cap and `w_min` are unchanged). The critical windows'
# share of the weight should grow from 24.4%, but not to five times their
# share of the windows: the degrading windows get heavier too, and the normal
# windows, more than half of all windows, still count. I expect well under half of
# the weight. The mean weight grows, so the `batch` normalisation would inflate the
# RUL loss even more than the factor of about 1.36 it has with the book's weights.

# %%
# NBVAL_CHECK_OUTPUT
W_MAX = 5.0  # the book's AMNL uses 2.0; try other values
y_train = torch.from_numpy(full.train.y_rul).double()
for w_max in (2.0, W_MAX):
    w_try = amnl_weights(y_train, w_max=w_max).numpy()
    ends = amnl_weights(torch.tensor([0.0, 125.0], dtype=torch.float64), w_max=w_max)
    shares = ", ".join(
        f"{name} {w_try[classes == k].sum() / w_try.sum():.1%}"
        for k, name in enumerate(HEALTH_CLASSES)
    )
    print(
        f"w_max {w_max:.1f}: weight {ends[0].item():.2f} at RUL 0, {ends[1].item():.2f} at RUL 125; "
        f"mean weight {w_try.mean():.3f}"
    )
    print(f"{'':<11}share of the total weight: {shares}")

# %% [markdown] tags=["answer", "points-2"]
# *Explanation (model answer).* The ends come out as predicted: a weight of 5.00 at
# RUL 0 and 1.00 at RUL 125. The critical windows' share of the total weight
# rises only from 24.4% to 32.8%, far from five times their 17.7% of the
# windows: the degrading windows, whose weights now lie between about 2.4 and 4, take the
# largest share (37.7%), and the normal windows still carry 29.5%. Making
# the weights steeper tilts the loss further but does not turn it into a loss on
# the windows near failure. The mean weight grows from 1.359 to 2.434, so with the
# `batch` normalisation the RUL task would count about 2.4 times as much against the
# health task; with the `weights` normalisation a constant error still costs
# exactly its square.

# %% [markdown]
# ### Exercise 3: the weighted MSE, and how hard each window pulls
#
# Write `my_weighted_mse(pred, target, weights)` (NumPy arrays) with the
# `weights` normalisation, $L = \sum_i w_i e_i^2 / \sum_i w_i$ with
# $e_i = \hat y_i - y_i$, and `my_pulls(pred, target, weights)`: the gradient of
# that loss with respect to each prediction, $\partial L / \partial \hat y_i$ (what
# each window contributes to the update), without calling rulkit or autograd. The
# check verifies that a constant error $e$ costs $e^2$ whatever the weights,
# compares the loss with rulkit, and tests the pulls on late and early errors.
#
# <details><summary>Hint</summary>
#
# Multiply each squared error by its weight, add them up, and divide by the sum of
# the weights, not by the number of windows. The sum of the weights does not
# depend on the predictions, so differentiating $w_i e_i^2$ is all there is to it.
#
# </details>


# %%
def my_weighted_mse(pred, target, weights):
    ### BEGIN SOLUTION
    pred, target, weights = (np.asarray(a, dtype=np.float64) for a in (pred, target, weights))
    return float(np.sum(weights * (pred - target) ** 2) / np.sum(weights))
    ### END SOLUTION


def my_pulls(pred, target, weights):
    ### BEGIN SOLUTION
    pred, target, weights = (np.asarray(a, dtype=np.float64) for a in (pred, target, weights))
    return 2 * weights * (pred - target) / np.sum(weights)
    ### END SOLUTION


# %%
check_rng = np.random.default_rng(7)
target = check_rng.uniform(0, 125, size=64)
weights = amnl_weights(torch.from_numpy(target)).numpy()
for e in (-7.0, 3.0, 12.5):
    value = my_weighted_mse(target + e, target, weights)
    assert np.isclose(value, e**2), (
        f"a constant error of {e} gives {value:.4f}, expected {e**2}: divide by the sum of the "
        "weights, not by the batch size"
    )
    pulls = np.asarray(my_pulls(target + e, target, weights), dtype=np.float64)
    assert pulls.shape == target.shape, (
        f"one pull per window: expected shape (64,), got {pulls.shape}"
    )
    assert np.isclose(pulls.sum(), 2 * e), (
        f"a constant error of {e} should give pulls summing to 2e = {2 * e}, yours sum to "
        f"{pulls.sum():.4f}: L = e**2 whatever the weights, so dL/de = 2e"
    )
    assert np.allclose(pulls / (weights * e), pulls[0] / (weights[0] * e)), (
        "at equal errors a window's pull should be proportional to its weight"
    )
noisy = target + check_rng.normal(0, 10, size=64)
reference = weighted_mse(
    torch.from_numpy(noisy), torch.from_numpy(target), torch.from_numpy(weights), "weights"
).item()
mine = my_weighted_mse(noisy, target, weights)
assert np.isclose(mine, reference), f"you get {mine:.4f}, rulkit's weighted_mse {reference:.4f}"
late = np.asarray(my_pulls(noisy, target, weights), dtype=np.float64)
early = np.asarray(my_pulls(2 * target - noisy, target, weights), dtype=np.float64)
assert np.allclose(
    late / (weights * (noisy - target)), late[0] / (weights[0] * (noisy[0] - target[0]))
), "a window's pull should be proportional to its weight times its error"
assert np.allclose(early, -late), (
    "mirroring every error (late <-> early) should only flip the pulls"
)
print(
    "Correct: a constant error e costs e**2, random errors match rulkit's weighted_mse, and a "
    "window pulls in proportion to its weight and its error, late or early alike"
)

# %% [markdown]
# ### Exercise 4: how loud is the RUL task under the `batch` normalisation?
#
# Write `batch_to_weights_factor(y_true)` that returns the factor by which the
# `batch` normalisation of AMNL's weighted MSE exceeds the `weights`
# normalisation for a batch with targets `y_true`, whatever the errors are. The
# check uses it on a random batch, then on the critical and on the normal FD001
# training windows. Then say in words, in the cell after the check, what these two
# factors would do to the balance between the RUL and the health task if a batch
# held only critical windows, or only normal ones.
#
# <details><summary>Hint</summary>
#
# Write both normalisations out for the same errors and weights and divide one by
# the other: the errors cancel. What is left depends only on the weights, and so
# only on the targets.
#
# </details>


# %%
def batch_to_weights_factor(y_true):
    ### BEGIN SOLUTION
    w = amnl_weights(torch.as_tensor(np.asarray(y_true, dtype=np.float64))).numpy()
    return float(np.mean(w))
    ### END SOLUTION


# %%
y_check = check_rng.uniform(0, 125, size=32)
pred_check = y_check + check_rng.normal(0, 15, size=32)
t_pred, t_true = torch.from_numpy(pred_check), torch.from_numpy(y_check)
w_check = amnl_weights(t_true)
ratio = (
    weighted_mse(t_pred, t_true, w_check, "batch")
    / weighted_mse(t_pred, t_true, w_check, "weights")
).item()
factor = batch_to_weights_factor(y_check)
assert np.isclose(factor, ratio), (
    f"your factor is {factor:.4f}, but batch / weights = {ratio:.4f} on this batch; "
    "write both formulas out and divide one by the other"
)
critical = full.train.y_rul[full.train.y_health == 2]
normal = full.train.y_rul[full.train.y_health == 0]
print(
    f"Correct: the factor is {batch_to_weights_factor(critical):.3f} on the critical windows "
    f"and {batch_to_weights_factor(normal):.3f} on the normal ones"
)

# %% [markdown] tags=["answer", "points-1"]
# *Model answer.* The factor is the batch's mean AMNL weight. On a batch of
# critical windows only it is 1.880, on normal ones 1.083. Under the `batch`
# normalisation the RUL loss is multiplied by that factor, which is the same as
# raising the RUL task's weight from 0.5 to 0.5 times the factor while the health
# task stays at 0.5: on the critical batch the RUL task would count almost twice
# as much as the health task, on the normal batch only a little more. The
# balance between the tasks would then depend on which windows a batch happens to
# hold. Under the `weights` normalisation the factor is always 1.

# %% [markdown]
# ## Summary
#
# - AMNL weights each window by $w(y) = 2 - \min(y,125)/125$: twice as much at
#   failure as on the healthy plateau. On FD001 this moves a few percentage points
#   of the loss towards the critical windows.
# - Normalised by the sum of the weights, the weighted MSE is a weighted average
#   of squared errors: a constant error $e$ gives $e^2$, and the loss stays on the
#   scale of the baseline's MSE. Normalised by the batch size it is larger by the
#   batch's mean weight (about 1.36 on FD001), which silently raises the RUL task's
#   weight and varies from batch to batch. rulkit defaults to the first and keeps
#   the second as an option.
# - AMNL's total loss is $0.5\,\text{wMSE} + 0.5\,\text{CE}$ with fixed weights, so
#   the gradient imbalance of chapter 12 remains. AMNL changes which RUL errors
#   count, not how hard each task pulls.
# - In rulkit, AMNL is `amnl_weights`, `weighted_mse` and `amnl_loss` in
#   `rulkit/losses.py`, and `METHODS["amnl"]` in `rulkit/methods.py`.
# - A pair of smoke runs on a CPU checks that everything works; it cannot rank the
#   methods. The book's FD001 figures have AMNL close to the baseline in RMSE and
#   worse in the NASA score.

# %% [markdown]
# ## Check your understanding
#
# 1. A model predicts 20 cycles too late on one window near failure and 20 cycles
#    too early on another window with the same target. Which of the two errors
#    costs more under AMNL's loss? What does that say about the claim that AMNL
#    makes a model more cautious, and which figures of this chapter fit your answer?

# %% [markdown] tags=["answer"]
# *Model answer.* Both cost the same. AMNL's weight depends on the target $y$ only,
# not on the sign of the error, and the squared error is symmetric, so AMNL does not
# by itself push predictions to the early side. It makes every error near failure
# count more, late or early. That fits the book's own FD001 figures printed above:
# AMNL's NASA score (434.4), which punishes late predictions, is worse than the
# baseline's (143.2), with an RMSE close to it.

# %% [markdown]
# 2. The bootstrap above gives AMNL's smoke run a lower RMSE near failure than the
#    baseline's, with an interval for the difference that excludes zero. Why is
#    that still no evidence that AMNL is the better method?

# %% [markdown] tags=["answer"]
# *Model answer.* The interval covers only the choice of test engines. Both runs
# used one seed each, so nothing measures how much the difference would move with
# another seed, which is the spread the book's five seeds per method are for. The
# runs are also tiny (8 training engines, 5 epochs), and their checkpoint was picked
# by two validation engines. The comparison shows that the pipeline works; ranking
# the methods needs the full recipe over several seeds.
