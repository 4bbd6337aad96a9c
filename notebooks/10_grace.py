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
# # Chapters 20-23: GRACE, balanced gradients on a failure-weighted loss
#
# The book's two ideas act at different levels. AMNL (chapters 14-16) changes
# *what* the RUL task asks for: an error on a window close to failure counts up to
# twice as much as an error on a healthy window. GABA (chapters 17-19) changes
# *how hard* each task may pull on the shared backbone. The two do not compete,
# so they can be combined, and the combination is GRACE: GABA's task weights on
# top of AMNL's failure-weighted error. This chapter builds GRACE from its two
# parts, trains it once, and then asks the practical question the book ends its
# method chapters with: given what a late maintenance call costs compared with an
# early one, which method should an operator deploy?
#
# **Learning goals**
#
# - describe each training method as two choices (the RUL error, the task
#   weights) and place GRACE among them;
# - compute the AMNL, GABA and GRACE losses on one batch, and explain why GRACE's
#   RUL term pulls on the backbone about as hard as GABA's, and measure how far
#   AMNL's weights turn the direction of its pull;
# - train GRACE and read its curves and weight trajectory;
# - explain the RMSE-NASA trade-off in terms of early and late errors;
# - apply the deployment criterion $J(w)$ to a table of results, and know what it
#   can and cannot decide.

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

import rulkit
from rulkit import metrics, plots, published, regimes
from rulkit.balancing import FixedWeights, simplified_gaba, task_gradients
from rulkit.config import expected_cost, notebook_profile
from rulkit.losses import amnl_weights, task_losses, weighted_mse
from rulkit.methods import METHODS
from rulkit.report import beside_book, config_label, run_set, summary_table
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
# ## Two choices make a method
#
# Every method of the book is two decisions. Is the RUL error the plain mean
# squared error, or AMNL's failure-weighted one? And who sets the two task weights:
# fixed numbers, GABA, or one of the reference methods from the literature?
# `rulkit.methods.METHODS` holds all seven as such pairs.

# %%
# NBVAL_CHECK_OUTPUT
lines = [f"{'method':<12}{'RUL error':<18}{'task weights':<22}description"]
for m in METHODS.values():
    balancer = type(m.make_balancer(TrainConfig())).__name__
    error = "failure-weighted" if m.amnl else "plain MSE"
    lines.append(f"{m.name:<12}{error:<18}{balancer:<22}{m.description}")
print("\n".join(lines))

# %% [markdown]
# Read as a grid, the four methods of the book fill a two-by-two table:
#
# | | fixed 0.5/0.5 weights | GABA weights |
# |---|---|---|
# | plain MSE | baseline | GABA |
# | failure-weighted MSE | AMNL | **GRACE** |
#
# In GRACE, AMNL's own fixed $\lambda_\text{hs} = 0.5$ is switched off: the task
# weights come from GABA only. With $w_i = 2 - \min(y_i, 125)/125$ the
# per-window AMNL weight,
#
# $$L_\text{GRACE} = \lambda_\text{rul}\, \frac{\sum_i w_i (\hat y_i - y_i)^2}{\sum_i w_i} + \lambda_\text{hs}\, \text{CE},
# \qquad \lambda_t \propto 1/g_t,$$
#
# where $g_\text{rul}$ is now the norm of the gradient of the **weighted** MSE on
# the shared backbone.

# %% [markdown]
# ## The three losses on one batch
#
# We take 64 training windows of FD001 and an untrained `DualTaskModel` (seed 0, in
# `eval` mode, so without dropout). The data are prepared exactly as the training run below will see them.
# The task weights come from the simplified GABA of the worked example (sum 2, no
# average, floor or warm-up), so that one batch decides them. Gradient norms come
# from autograd, and their last digits depend on the machine, so the output of this
# section is not compared by the tests.

# %%
cfg = profile_config(PROFILE, subset="FD001", method="grace")
data = prepare_for(cfg)
pick = np.random.default_rng(0).choice(len(data.train), size=64, replace=False)
xb = torch.from_numpy(data.train.X[pick])
yb = torch.from_numpy(data.train.y_rul[pick])
hb = torch.from_numpy(data.train.y_health[pick])

torch.manual_seed(0)
model = rulkit.DualTaskModel(n_features=data.n_features).eval()
rul_pred, logits = model(xb)
shared = list(model.shared_parameters())
print(
    f"untrained predictions: {rul_pred.min().item():.1f} to {rul_pred.max().item():.1f} cycles; "
    f"targets: {yb.min().item():.0f} to {yb.max().item():.0f}"
)

# %%
plain = task_losses(rul_pred, yb, logits, hb)  # [MSE, CE]
weighted = task_losses(rul_pred, yb, logits, hb, amnl=True)  # [wMSE, CE]
grad_mse, grad_ce = task_gradients(plain, shared)
grad_wmse, _ = task_gradients(weighted, shared)
flat = lambda grads: torch.cat([g.reshape(-1) for g in grads])
g_mse, g_ce, g_wmse = (flat(g).norm().item() for g in (grad_mse, grad_ce, grad_wmse))

gaba = simplified_gaba()
gaba.observe(torch.tensor([g_mse, g_ce]))
grace = simplified_gaba()
grace.observe(torch.tensor([g_wmse, g_ce]))
fixed = FixedWeights((0.5, 0.5))
rows = [
    ("AMNL", weighted, fixed.weights(), g_wmse),
    ("GABA", plain, gaba.weights(), g_mse),
    ("GRACE", weighted, grace.weights(), g_wmse),
]
print(
    f"{'method':<7}{'RUL loss':>10}{'CE':>7}{'g_rul':>9}{'g_hs':>8}{'lam_rul':>9}{'lam_hs':>8}"
    f"{'RUL pull':>10}{'health pull':>13}{'total':>9}"
)
for name, losses, lam, g_r in rows:
    total = (lam * losses).sum().item()
    print(
        f"{name:<7}{losses[0].item():>10.1f}{losses[1].item():>7.3f}{g_r:>9.3f}{g_ce:>8.4f}"
        f"{lam[0].item():>9.5f}{lam[1].item():>8.4f}{lam[0].item() * g_r:>10.4f}"
        f"{lam[1].item() * g_ce:>13.4f}{total:>9.3f}"
    )

# %%
assert all(torch.isfinite(losses).all() for _, losses, _, _ in rows)
for name, _, lam, g_r in rows[1:]:
    assert np.isclose(lam[0].item() * g_r, lam[1].item() * g_ce, rtol=1e-4), (
        f"{name}: the simplified GABA weights must balance the two pulls"
    )
assert torch.isclose((fixed.weights() * weighted).sum(), 0.5 * weighted[0] + 0.5 * weighted[1])

# %% [markdown]
# Three things to read from the table.
#
# - **AMNL** keeps fixed weights, so its RUL term pulls on the backbone many times
#   harder than the health term (compare its two pull columns), as the baseline's
#   would.
# - **GABA and GRACE** pull with the same strength on both tasks. The two
#   strengths are also nearly the same *between* the two methods: for two tasks
#   the common pull of the simplified form is
#   $2 g_\text{rul} g_\text{hs} / (g_\text{rul} + g_\text{hs})$, which is about
#   $2 g_\text{hs}$ whenever $g_\text{rul} \gg g_\text{hs}$. The size of the RUL
#   gradient, weighted or not, has all but dropped out.
# - What AMNL's weights can still change inside GRACE is therefore the
#   **direction** of the RUL gradient: which windows it tries to fix first. The
#   next cell measures how much they change it, as the cosine between the two RUL
#   gradients on the backbone.

# %%
cosine = torch.nn.functional.cosine_similarity(flat(grad_mse), flat(grad_wmse), dim=0).item()
w_batch = amnl_weights(yb)
print(f"cosine between the MSE and the weighted-MSE gradient on the backbone: {cosine:.4f}")
print(
    f"AMNL weights in this batch: {w_batch.min().item():.3f} to {w_batch.max().item():.3f}, "
    f"mean {w_batch.mean().item():.3f}"
)

# %% [markdown]
# A cosine of 0.94 means that the two gradients point almost the same way: on this
# batch AMNL's weights turn GRACE's RUL gradient only a little away from GABA's.
# For an untrained model that predicts nearly the same RUL for every window this is
# to be expected: the error of each window is its distance from that one prediction, and
# AMNL's weights only tilt the sum towards the windows near failure. The figure shows
# the tilt.

# %%
err2 = ((rul_pred - yb) ** 2).detach().numpy()
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].scatter(yb, w_batch, s=12, color="C3")
axes[0].set(xlabel="true RUL (capped)", ylabel="AMNL weight $w_i$", title="weights of the batch")
share_plain = err2 / err2.sum()
share_weighted = w_batch.numpy() * err2 / (w_batch.numpy() * err2).sum()
order = np.argsort(yb.numpy())
axes[1].plot(yb.numpy()[order], np.cumsum(share_plain[order]), color="C2", label="plain MSE")
axes[1].plot(yb.numpy()[order], np.cumsum(share_weighted[order]), color="C3", label="weighted MSE")
axes[1].set(
    xlabel="true RUL (capped)",
    ylabel="cumulative share of the loss",
    title="where the RUL loss comes from",
)
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The left panel is AMNL's rule: weight 2 at failure, falling linearly to 1 at the
# cap. The right panel shows what it does to the loss. Each curve adds up the share
# of the RUL loss that comes from windows up to a given true RUL; the weighted curve
# rises faster at the left, so more of the weighted loss, and of its gradient, comes
# from windows near failure. An untrained model predicts roughly the same RUL for
# every window, so its errors are large at both ends of the range; once the model has
# learnt the rough shape of the degradation, the errors near failure are the ones
# that matter most to an operator, and there the weights count double.

# %% [markdown]
# ## Training GRACE
#
# One run of GRACE on FD001 with the notebook's `PROFILE`: by default the smoke
# profile (8 training engines, at most 5 epochs, GABA warm-up 10 steps and beta
# 0.9), with `"full"` the book's recipe. The prepared data from above are passed in, so
# they are not prepared twice. A smoke run checks that the pipeline works; its test
# score says nothing about the method.

# %%
print(expected_cost(PROFILE, runs=1))
result = train(cfg, data=data, progress=PROGRESS)
# What the figures are, from the run's configuration: "smoke" or "full" for a profile as
# it is, "custom-<hash>" when a setting that changes the training was overridden.
what = {
    "smoke": "smoke numbers: the pipeline works, the figures are not a result",
    "full": "the full recipe, one seed: one measurement, not a five-seed mean",
}.get(cfg.label(), f"a custom configuration ({cfg.label()}): not the book's recipe")
print(
    f"profile {cfg.profile}: {result.steps} steps in {result.epochs_run} epochs, best epoch "
    f"{result.best_epoch}; test RMSE {result.test['rmse']:.2f}, NASA {result.test['nasa']:.1f}, "
    f"health accuracy {result.test['accuracy']:.3f} ({what})"
)

# %%
assert result.status == "ok", result.error
assert all(np.isfinite(result.test[k]) for k in ("rmse", "nasa", "accuracy"))
curve = result.curves["train_loss_rul"]
assert curve[-1] < curve[0], f"the RUL training loss should fall: {curve}"
hist = {k: np.asarray(v, dtype=np.float64) for k, v in result.task_history.items()}
warm = hist["step"] <= cfg.gaba_warmup_steps
assert np.all(hist["weight_rul"][warm] == 0.5), "GRACE's weights are 0.5/0.5 in the warm-up"
assert min(hist["weight_rul"].min(), hist["weight_health"].min()) >= cfg.gaba_floor - 1e-6
assert np.allclose(hist["weight_rul"] + hist["weight_health"], 1.0, atol=1e-5)

# %%
fig = plots.training_curves(result)
fig.suptitle(f"GRACE on FD001, {cfg.profile} profile", fontsize=10)
fig.tight_layout()
plt.show()

# %%
fig = plots.task_history(result)
fig.suptitle(f"GRACE on FD001, {cfg.profile} profile: task weights and gradient norms", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# How does this compare with smoke runs of AMNL (chapters 14-16) and of GABA (the
# previous chapter)? Not by the numbers: a handful of engines and five epochs decide
# nothing, and a single seed of each is noise. What can be compared is the
# mechanics.
#
# - The **RUL loss** in the left panel is the weighted MSE, as for AMNL. It cannot be
#   compared in value with GABA's plain MSE: at equal errors the two differ by the
#   weights' emphasis.
# - The **task weights** behave as GABA's: 0.5/0.5 during the warm-up, then a drift
#   towards a small RUL weight, down to the floor of 0.05 while the RUL gradient on
#   the backbone dwarfs the health gradient (quickly here, with the smoke profile's
#   beta of 0.9; over hundreds of steps with the full recipe's 0.99: in the seed-0
#   FD001 run it is first on the floor at step 240, after the checkpoint that is
#   scored, from step 216). AMNL's fixed 0.5/0.5 never moves.
# - The **gradient norms** are those of the weighted MSE, which differ from GABA's
#   MSE norms by the emphasis of the weights, and GABA's rule adapts to whatever
#   they are.
#
# Whether the combination is better than each part is a question for the full
# recipe, over five seeds, on all four subsets: the results chapter.

# %% [markdown]
# ## Accuracy or safety: the RMSE-NASA trade-off
#
# Chapter 13 introduced the two scores. RMSE treats early and late errors alike;
# the NASA score charges a late error (the engine flies on past the point where it
# should have been serviced) more than an early one. A method can therefore buy a
# lower NASA score with a slightly higher RMSE, by moving errors from the late side
# to the early side. The test predictions of the run above show where the NASA
# score comes from. If the points form a straight diagonal stripe, the model predicts
# nearly the same RUL for every engine, as an undertrained smoke model does; its late
# errors then sit on the engines closest to failure, which are exactly the errors
# AMNL's weights are meant to shrink.

# %%
per = result.per_engine
true_t, pred_t = np.asarray(per["true"]), np.asarray(per["pred"])
d = pred_t - true_t
s = metrics.nasa_scores(pred_t, true_t)
late = d >= 0
fig, ax = plt.subplots()
ax.scatter(true_t[~late], d[~late], s=8 + 40 * s[~late] / s.max(), color="C0", label="early")
ax.scatter(true_t[late], d[late], s=8 + 40 * s[late] / s.max(), color="C3", label="late")
ax.axhline(0, color="k", lw=0.6)
ax.set(xlabel="true RUL (capped)", ylabel="error d = predicted - true")
ax.set_title(
    f"GRACE {cfg.profile} run: {late.sum()} late engines give {s[late].sum() / s.sum():.0%} of the "
    f"NASA score (marker size ~ score)",
    fontsize=10,
)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The book's own figures show the trade-off the methods are built for. They are
# **published in the book, not measured here** (5-seed means, under the book's own
# protocol, which differs from ours; see the results chapter). The next cell
# computes how much each method changes both scores relative to AMNL.

# %%
# NBVAL_CHECK_OUTPUT
print("published in the book, not measured here:", published.BOOK_PROTOCOL)
print(f"{'subset':<13}{'method':<9}{'RMSE':>7}{'NASA':>8}{'RMSE vs AMNL':>15}{'NASA vs AMNL':>15}")
for subset in ("FD001", "FD002+FD004"):
    ref_rmse, ref_nasa = published.book_figure(subset, "amnl")
    for method in ("baseline", "amnl", "gaba", "grace"):
        r, n = published.book_figure(subset, method)
        if r is None or n is None:
            continue
        print(
            f"{subset:<13}{method:<9}{r:>7.2f}{n:>8.1f}{(r - ref_rmse) / ref_rmse:>+15.1%}"
            f"{(n - ref_nasa) / ref_nasa:>+15.1%}"
        )

# %% [markdown]
# On the book's FD002/FD004 means, GABA and GRACE pay about 6% in RMSE for a NASA
# score that is roughly halved: a real trade-off. On FD001, GRACE is better on both
# scores, and AMNL has the worst NASA score of the four. Its loss does not aim at
# the NASA score: it weights each window's squared error by how close the window's
# *true* RUL is to failure (2 at RUL 0, falling to 1 at the cap), the same for a
# late as for an early prediction, so nothing in it favours the early side that
# the NASA score rewards. Whether these patterns survive a protocol
# that never looks at the test set is exactly what the results chapter checks.

# %% [markdown]
# ## Choosing for a deployment: $J(w)$
#
# When two methods trade RMSE against NASA score, the choice depends on the
# operator. With $c_\text{early}$ the cost of a cycle of life wasted by early
# maintenance and $c_\text{late}$ the cost of a cycle flown too long, the book sets
# $w = c_\text{late}/(c_\text{late} + c_\text{early})$ and chooses the candidate
# with the smallest
#
# $$J(w) = (1 - w)\, \widetilde{\text{RMSE}} + w\, \widetilde{\text{NASA}},$$
#
# where the tilde is min-max normalisation over the candidates (best 0, worst 1).
# Its regimes: delivery truck $w \in [0, 0.15]$, airline 787 $[0.15, 0.40]$, cruise
# ship $[0.40, 1]$. Chapter 13 derived $J$; here we turn it into a function that
# takes a table of candidates, so that it can be applied to measured results as
# soon as they exist.

# %%
REGIMES = [("delivery truck", 0.0, 0.15), ("airline 787", 0.15, 0.40), ("cruise ship", 0.40, 1.0)]
W_GRID = np.linspace(0, 1, 10_001)


def minmax(values):
    """Best candidate 0, worst 1 (lower is better); all 0 if they are equal."""
    v = np.asarray(values, dtype=np.float64)
    span = v.max() - v.min()
    return (v - v.min()) / span if span > 0 else np.zeros_like(v)


def j_scores(candidates, w):
    """J(w) for a table with columns method, rmse, nasa: one row per w, one column per method."""
    w = np.atleast_1d(np.asarray(w, dtype=np.float64))[:, None]
    return (1 - w) * minmax(candidates.rmse) + w * minmax(candidates.nasa)


def choices(candidates):
    """What J picks in each regime (in order of increasing w), and where the pick changes.
    The switch points are exact (chapter 13's `regimes.switch_points`: where two lines
    cross), not read off a grid of w."""
    names, rmse, nasa = list(candidates.method), candidates.rmse, candidates.nasa
    switches = regimes.switch_points(names, rmse, nasa)
    picks = {
        name: list(
            dict.fromkeys(
                [
                    regimes.winner(lo, names, rmse, nasa),
                    *(s.after for s in switches if lo < s.w < hi),
                ]
            )
        )
        for name, lo, hi in REGIMES
    }
    return picks, [(s.w, s.before, s.after) for s in switches]


def show_choices(candidates, label):
    picks, switches = choices(candidates)
    print(label)
    for name, lo, hi in REGIMES:
        print(f"  {name:<15} w in [{lo:.2f}, {hi:.2f}]: J picks {' then '.join(picks[name])}")
    for w_s, a, b in switches:
        print(f"  switch from {a} to {b} at w = {w_s:.3f}")
    if not switches:
        print(f"  no switch: {picks['delivery truck'][0]} has the lowest J for every w")


# %% [markdown]
# First the measured results: the full-recipe runs of this project (the files in
# `results/` at the root of the repository, or on Colab the summary shipped with
# rulkit), beside the book's figures for FD001, then aggregated over seeds by
# `rulkit.report.summary_table`. Every subset with at least two measured methods
# becomes one table of candidates for $J$.

# %%
records, source = load_measured(Path("..") / "results")
print("results read:", run_set(records))  # tests/test_results_current.py checks this line
records = [r for r in records if config_label(r) == "full"]
print(f"{len(records)} full-recipe runs, read from {source}")
print(beside_book(records, "FD001").to_string(index=False))
print()
if records:
    summary = summary_table(records)
    for subset, part in summary.groupby("subset"):
        part = part.dropna(subset=["rmse_mean", "nasa_mean"])
        if len(part) < 2:
            continue
        measured = pd.DataFrame(
            {"method": part.method, "rmse": part.rmse_mean, "nasa": part.nasa_mean}
        ).reset_index(drop=True)
        seeds = ", ".join(f"{m} {n}" for m, n in zip(part.method, part.seeds))
        show_choices(measured, f"{subset}, measured here (full recipe; seeds: {seeds})")
else:
    print(
        "No full-recipe runs yet, so J(w) cannot be applied to measured results. Below it is "
        "applied to the book's published figures instead, to show how it works."
    )

# %% [markdown]
# On this project's FD001 runs every measured RMSE lies well above the book's (the
# table above), and the four methods lie close together. $J$ still makes a choice,
# at the switch points printed above. With so few seeds per method (the `seeds`
# column) a switch is a property of point estimates, not evidence that one method is
# the more accurate or the safer: the paired differences of the results chapter are
# no larger than the spread from seed to seed (the second caution below). The
# published figures, next, show what $J$ does when one method leads on both scores.

# %% [markdown]
# The same function applied to the four methods of the book's FD001 table. These
# figures are **published in the book, not measured here**.

# %%
# NBVAL_CHECK_OUTPUT
book_fd001 = pd.DataFrame(
    [(m, r, n) for s_, m, r, n in published.BOOK if s_ == "FD001" and n is not None],
    columns=["method", "rmse", "nasa"],
)
book_fd001["rmse~"] = minmax(book_fd001.rmse)
book_fd001["nasa~"] = minmax(book_fd001.nasa)
print(book_fd001.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
print()
show_choices(book_fd001, "FD001, published in the book, not measured here")

# %%
costs = j_scores(book_fd001, W_GRID)
fig, ax = plt.subplots()
for (regime, lo, hi), shade in zip(REGIMES, ["#fde0c5", "#d9ecf2", "#e3f1dc"]):
    ax.axvspan(lo, hi, color=shade, zorder=0)
    ax.text((lo + hi) / 2, 1.03, regime, ha="center", va="bottom", fontsize=8)
for k, method in enumerate(book_fd001.method):
    ax.plot(W_GRID, costs[:, k], color=plots.METHOD_COLORS[method], lw=2, label=method)
ax.set(xlim=(0, 1), ylim=(-0.03, 1.12), xlabel="w = c_late / (c_late + c_early)", ylabel="J(w)")
ax.set_title("J(w) on the book's FD001 figures (published, not measured here)", fontsize=10, pad=16)
ax.legend(fontsize=8, loc="center right")
fig.tight_layout()
plt.show()

# %% [markdown]
# On the book's FD001 figures the criterion has nothing to decide: GRACE has both
# the lowest RMSE and the lowest NASA score, so its normalised scores are both 0
# and its $J$ is 0 for every $w$. A method that is best on both scores wins for
# every operator. $J$ only matters between methods on the Pareto front, such as
# AMNL, GABA and GRACE on the book's FD002/FD004 means (chapter 13).
#
# Two cautions before using $J$ on any table, including ours above.
#
# - **The normalisation depends on the candidates.** Adding or removing a method
#   changes the minimum and maximum, and with them every switch point. With only
#   two candidates that trade off, the normalised scores are 0 and 1 in opposite
#   order, so the switch is at $w = 0.5$ whatever the numbers are.
# - **Means hide the spread.** If two methods differ by less than the seed-to-seed
#   spread or the bootstrap interval of the results chapter, the choice between them
#   is not decided by the data, whatever $J$ says.

# %% [markdown]
# ## Exercises
#
# Three exercises, from the easiest to the hardest. Exercise 3 is an experiment:
# write your prediction down before you run its cell.

# %% [markdown]
# ### Exercise 1: how much of the NASA score is late?
#
# Write `late_share(pred, true)`: the fraction of the summed NASA score that comes
# from late predictions ($d = \hat y - y \ge 0$). Use only NumPy. The check applies
# it to the GRACE run's test predictions and to a constructed fleet of two engines.
#
# <details><summary>Hint</summary>
#
# Compute every engine's score first, $e^{-d/13} - 1$ when $d < 0$ and
# $e^{d/10} - 1$ when $d \ge 0$ (`np.where`), then divide the sum over the late
# engines by the sum over all of them.
#
# </details>


# %%
def late_share(pred, true):
    ### BEGIN SOLUTION
    d = np.asarray(pred, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    s_all = np.where(d < 0, np.exp(-d / 13) - 1, np.exp(d / 10) - 1)
    return float(s_all[d >= 0].sum() / s_all.sum())
    ### END SOLUTION


# %%
expected_share = s[late].sum() / s.sum()
assert np.isclose(late_share(pred_t, true_t), expected_share), (
    f"for the GRACE run you get {late_share(pred_t, true_t):.4f}, expected {expected_share:.4f}: "
    "late means d = pred - true >= 0, and the score of a late error is exp(d/10) - 1"
)
assert np.isclose(
    late_share([10.0, 20.0], [0.0, 30.0]), np.expm1(1) / (np.expm1(1) + np.expm1(10 / 13))
), (
    "one engine 10 cycles late and one 10 cycles early: the late one scores e - 1, the early one "
    "e**(10/13) - 1"
)
print(f"Correct: {late_share(pred_t, true_t):.0%} of this run's NASA score comes from late engines")


# %% [markdown]
# ### Exercise 2: GRACE by hand
#
# Write `my_grace_loss(pred, true, logits, labels, g_rul, g_hs)` for the
# simplified form (weights summing to 2), using only basic torch operations: the
# AMNL weights $w_i = 2 - \min(y_i, 125)/125$, the weighted MSE normalised by the
# sum of the weights, the cross-entropy (`torch.nn.functional.cross_entropy` is
# allowed), and $\lambda_\text{rul} = 2 g_\text{hs}/(g_\text{rul} + g_\text{hs})$,
# $\lambda_\text{hs} = 2 g_\text{rul}/(g_\text{rul} + g_\text{hs})$. It returns a
# scalar tensor. The check compares it with rulkit's simplified GRACE on the batch
# above, and with equal norms, where both weights are 1.
#
# <details><summary>Hint</summary>
#
# Build it in the order of the loss table: weights, weighted MSE, cross-entropy,
# task weights, sum. `torch.clamp(true, max=125.0)` caps the targets; keep every
# step a tensor operation so that the result stays a tensor.
#
# </details>


# %%
def my_grace_loss(pred, true, logits, labels, g_rul, g_hs):
    ### BEGIN SOLUTION
    w = 2.0 - torch.clamp(true, max=125.0) / 125.0
    wmse = (w * (pred - true) ** 2).sum() / w.sum()
    ce = torch.nn.functional.cross_entropy(logits, labels)
    lam_rul = 2 * g_hs / (g_rul + g_hs)
    lam_hs = 2 * g_rul / (g_rul + g_hs)
    return lam_rul * wmse + lam_hs * ce
    ### END SOLUTION


# %%
with torch.no_grad():
    mine = float(my_grace_loss(rul_pred, yb, logits, hb, g_wmse, g_ce))
    theirs = float(grace.loss(weighted))
assert np.isclose(mine, theirs, rtol=1e-4), (
    f"you get {mine:.4f}, rulkit's simplified GRACE gets {theirs:.4f}. Is the weighted MSE divided "
    "by the sum of the weights, and does the RUL weight have g_hs in its numerator?"
)
with torch.no_grad():
    same = float(my_grace_loss(rul_pred, yb, logits, hb, 1.0, 1.0))
assert np.isclose(same, float(weighted.detach().sum()), rtol=1e-4), (
    "with equal norms both weights are 1, so GRACE is wMSE + CE"
)
print("Correct: your GRACE loss matches rulkit's simplified form")

# %% [markdown]
# ### Exercise 3 (experiment): a steeper failure weighting inside GRACE
#
# Inside GRACE, GABA sets the task weights from the gradient norms, and AMNL's
# failure weighting shapes the RUL gradient. What happens if the failure weighting
# is made much steeper, say a weight of 10 at failure instead of 2 (`W_MAX = 10`,
# still 1 at the cap)? The next code cell repeats the measurement of this chapter on
# the same batch and the same untrained model, once with the book's weights and once
# with `W_MAX`: the weighted MSE, the norm of its gradient on the backbone, the
# simplified GABA weight of the RUL task, the RUL pull, and the cosine between the
# plain-MSE gradient and the weighted one.
#
# Before you run it, write down in the cell below this one what you expect for each
# of these: larger, smaller or about the same as with the book's weights, and
# roughly by how much. Then run the cell (try other values of `W_MAX`, including 1,
# which makes GRACE into GABA) and explain in the cell after it what you see against
# your prediction.
#
# <details><summary>Hint</summary>
#
# The weighted MSE is normalised by the sum of the weights, so it stays an average
# of squared errors. The common pull of the simplified form is
# $2 g_\text{rul} g_\text{hs}/(g_\text{rul} + g_\text{hs})$: how much does it depend on
# $g_\text{rul}$ when $g_\text{rul} \gg g_\text{hs}$? And which windows dominate the
# weighted average when the weight at failure is ten times the weight at the cap?
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Prediction (model answer).* The weighted MSE stays of the same order, since it is
# an average of the same squared errors with other weights. Whatever happens to the
# norm of its gradient, GABA undoes it: the RUL weight moves the other way, and the
# pull, about twice the health gradient's norm, stays nearly the same. What changes
# is the direction: with a weight of 10 at failure the windows near failure dominate
# the RUL gradient, so its cosine with the plain-MSE gradient should fall clearly
# below the 0.94 of the book's weights.

# %%
W_MAX = 10.0  # AMNL's weight at failure; the book's is 2.0
rul_x, logits_x = model(xb)  # the same untrained model and batch as above
ce_x = task_losses(rul_x, yb, logits_x, hb)[1]
grad_plain_x = flat(task_gradients([((rul_x - yb) ** 2).mean()], shared)[0])
print(
    f"{'w_max':>6}{'mean error':>12}{'wMSE':>9}{'g_rul':>8}{'g_hs':>8}{'lam_rul':>10}"
    f"{'RUL pull':>10}{'cosine with MSE gradient':>26}"
)
for w_max in (2.0, W_MAX):
    w_x = amnl_weights(yb, w_max=w_max)
    mean_error = ((w_x * (rul_x - yb)).sum() / w_x.sum()).item()  # weighted mean of pred - true
    wmse_x = weighted_mse(rul_x, yb, w_x)
    grad_w, grad_h = (flat(g) for g in task_gradients([wmse_x, ce_x], shared))
    g_w, g_h = grad_w.norm().item(), grad_h.norm().item()
    grace_x = simplified_gaba()
    grace_x.observe(torch.tensor([g_w, g_h]))
    lam_x = grace_x.weights()[0].item()
    cos_x = torch.nn.functional.cosine_similarity(grad_plain_x, grad_w, dim=0).item()
    print(
        f"{w_max:>6.1f}{mean_error:>+12.1f}{wmse_x.item():>9.1f}{g_w:>8.3f}{g_h:>8.4f}"
        f"{lam_x:>10.5f}{lam_x * g_w:>10.4f}{cos_x:>26.4f}"
    )

# %% [markdown] tags=["answer", "points-2"]
# *Explanation (model answer).* Two parts of the prediction hold. The pull hardly
# moves: 0.3542 with the book's weights and 0.3698 with a weight of 10 at failure,
# both close to twice the health gradient's norm of 0.1888, because GABA's RUL
# weight falls from 0.12446 to 0.04190 while the RUL gradient's norm grows from
# 2.846 to 8.825. The weighted MSE stays of the same order (2065.4 and 1655.8). The
# direction, though, changes far more than predicted: the cosine with the plain-MSE
# gradient goes from 0.9421 to -0.9514, so the steeper weighting makes the RUL
# gradient point almost the opposite way. The mean-error column says why. The
# untrained model predicts nearly the same RUL for every window, too low for the
# healthy windows and too high for those near failure. With the book's weights the
# weighted mean error is -4.4 cycles: the predictions are too low on balance, and
# the gradient asks to raise them, as the plain MSE's does. With a weight of 10 at
# failure the windows near failure win, the weighted mean error becomes +17.5, and
# the gradient asks to lower all predictions. GABA keeps the strength of the RUL
# task's pull; AMNL's weights decide where it pulls, and a steep weighting can
# reverse it.

# %% [markdown]
# ## Summary
#
# - GRACE is GABA's task weights on AMNL's failure-weighted RUL error; AMNL's fixed
#   $\lambda_\text{hs}$ is switched off.
# - Because GABA equalises the pulls on the backbone, the size of the RUL gradient
#   drops out; what AMNL can still contribute inside GRACE is a turn of the RUL
#   gradient's direction towards the windows near failure. On an untrained model
#   the turn is small: the two RUL gradients have a cosine of 0.94.
# - On the book's published FD002/FD004 means GABA and GRACE trade about 6% of RMSE
#   for about half the NASA score; on FD001 the book has GRACE best on both.
# - $J(w)$ turns the ratio of late to early costs into a choice between methods on
#   the Pareto front. It decides nothing between a dominated method and the one that
#   dominates it, its switch points depend on which candidates are compared, and it
#   is only as good as the spread of the results allows. On this project's FD001
#   runs it does pick different methods for different $w$, but between methods whose
#   paired differences are no larger than the spread from seed to seed.

# %% [markdown]
# ## Check your understanding
#
# 1. In GRACE, GABA's weights cancel the size of the RUL gradient on the backbone.
#    What is left of AMNL's contribution, and what did this chapter measure about it?

# %% [markdown] tags=["answer"]
# *Model answer.* The direction of the RUL gradient: AMNL's weights make the errors
# of the windows near failure count more, which turns the RUL gradient towards
# fixing those windows first. With the book's weights the turn is small on an
# untrained model: the plain and the weighted RUL gradients have a cosine of 0.94
# on the batch of this chapter. Exercise 3 shows how much more a steeper weighting
# turns it, while the pull stays about the same.

# %% [markdown]
# 2. Exercise 1 measured the share of the GRACE smoke run's NASA score that comes
#    from late engines. Why does that figure say little about how safe GRACE is in
#    service?

# %% [markdown] tags=["answer"]
# *Model answer.* The run is a smoke run: 8 training engines, at most 5 epochs and
# one seed, so its predictions are those of a barely trained model, and the late
# engines are wherever such a model happens to overshoot. The NASA score grows
# exponentially with a late error, so a few engines dominate it and it moves a lot
# from run to run. A statement about GRACE's safety needs the full recipe over
# several seeds, with the spread between seeds, and a comparison with the other
# methods under the same protocol.
