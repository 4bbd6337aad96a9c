# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     notebook_metadata_filter: kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 13: Accuracy versus safety
#
# A RUL model is judged twice. RMSE asks how close the predictions are on
# average, and it does not care about the direction of an error. The NASA score
# asks what the errors would cost an operator: a prediction that comes too *late*
# means an engine keeps flying past the point where it should have been serviced,
# and the score punishes that much harder than an early call. The two measures do
# not always agree, so "the best model" depends on which one you ask, and in
# practice on what a late maintenance call costs the operator compared with an
# early one. This chapter makes the trade-off concrete. It also puts the book's
# three losses (AMNL, GABA and GRACE) side by side and recomputes the book's worked
# example, which does not reproduce the printed figures exactly. The notebook
# shows why, from the numbers.
#
# **Learning goals**
#
# - explain the asymmetry of the NASA score and compute it for any error;
# - build an example in which RMSE and the NASA score rank two models in
#   opposite order;
# - read an RMSE-NASA Pareto picture and tell dominated methods from trade-offs;
# - choose a method for a deployment with $J(w)$ and know what the weight $w$
#   means in costs;
# - compute AMNL, GABA and GRACE on one batch, and trace every difference between
#   the book's worked example and a faithful re-run of it to a specific number;
# - use the book's losses as drop-in PyTorch modules in a training loop of your own;
# - demonstrate three pitfalls of choosing a method: GRACE by default (its cost in
#   backward passes), the missing `.detach()`, and mixing AMNL's fixed task weight
#   with GABA's;
# - say where each method has been used, and what this companion can confirm of it.

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
import inspect
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display
from torch.nn.attention import SDPBackend, sdpa_kernel

import rulkit
from rulkit import metrics, published, reference, regimes
from rulkit.balancing import (
    GABA,
    FixedWeights,
    combine_gradients,
    global_norm,
    inverse_norm_weights,
    shared_grad_norms,
    simplified_gaba,
    task_gradients,
)
from rulkit.data import HEALTH_CLASSES
from rulkit.losses import (
    AMNLLoss,
    GABALoss,
    GRACELoss,
    amnl_loss,
    task_losses,
    worked_example_inputs_torch,
    worked_example_torch,
)
from rulkit.plots import METHOD_COLORS, pareto_front
from rulkit.report import config_label, results_paragraph, run_set
from rulkit.results import load_measured
from rulkit.train import TrainingStep, profile_config

# %% [markdown]
# ## The NASA score punishes late predictions
#
# For one test engine let $d = \hat{y} - y$ be the predicted minus the true RUL.
# A negative $d$ is an *early* prediction: maintenance is scheduled before it is
# needed and some useful life is wasted. A positive $d$ is *late*: the engine runs
# past the point where it should have been serviced. The NASA (PHM08) score is
#
# $$s(d) = \begin{cases} e^{-d/13} - 1 & d < 0 \ \text{(early)} \\ e^{d/10} - 1 & d \ge 0 \ \text{(late)} \end{cases}$$
#
# summed over all engines; lower is better. Both branches grow exponentially, but
# the late branch has the shorter scale (10 against 13 cycles), so it grows faster.
# `rulkit.metrics.nasa_scores` gives the per-engine values.

# %%
d = np.linspace(-40, 40, 801)
s = metrics.nasa_scores(d, np.zeros_like(d))
sq = d**2 / np.max(d**2) * s.max()  # squared error, scaled to the same height

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(d[d < 0], s[d < 0], color="C0", lw=2, label="early: $e^{-d/13}-1$")
ax.plot(d[d >= 0], s[d >= 0], color="C3", lw=2, label="late: $e^{d/10}-1$")
ax.plot(d, sq, color="k", lw=0.8, ls="--", label="squared error (scaled): symmetric")
ax.axvline(0, color="k", lw=0.5)
ax.set(xlabel="error d = predicted - true RUL (cycles)", ylabel="per-engine NASA score")
ax.set_title("The NASA score is asymmetric: late predictions cost more")
ax.legend(fontsize=8, loc="upper center")
fig.tight_layout()
plt.show()

# %% [markdown]
# The table puts numbers on the picture. For the same size of error, a late
# prediction costs more, and the gap widens as the error grows.

# %%
# NBVAL_CHECK_OUTPUT
sizes = np.array([5, 10, 20, 30, 40])
early = metrics.nasa_scores(-sizes, np.zeros(len(sizes)))
late = metrics.nasa_scores(sizes, np.zeros(len(sizes)))
print(f"{'|d|':>4}{'early':>10}{'late':>10}{'late/early':>12}")
for size, e, lt in zip(sizes, early, late):
    print(f"{size:>4}{e:>10.2f}{lt:>10.2f}{lt / e:>12.2f}")

# %% [markdown]
# Equating the two branches, $e^{d_\text{late}/10} = e^{|d_\text{early}|/13}$, gives
# $|d_\text{early}| = 1.3\, d_\text{late}$. Under the NASA score, a late error of
# 10 cycles costs as much as an early error of 13 cycles.

# %%
# NBVAL_CHECK_OUTPUT
late_10 = metrics.nasa_scores([10.0], [0.0])[0]
early_13 = metrics.nasa_scores([-13.0], [0.0])[0]
print(f"late by 10 cycles: {late_10:.4f}   early by 13 cycles: {early_13:.4f}")

# %% [markdown]
# ## RMSE and the NASA score can disagree
#
# RMSE squares the errors, so a few large errors hurt it more than many small
# ones. The NASA score cares about the direction of an error as well as its size.
# The two measures can therefore rank models in opposite order. Here is a
# constructed fleet of ten test engines and two imaginary models:
#
# - **cautious** predicts every engine 10 cycles early;
# - **sharp** is exact on eight engines and 20 cycles late on two.

# %%
true_rul = np.arange(10.0, 110.0, 10.0)
cautious = true_rul - 10
sharp = true_rul.copy()
sharp[[2, 7]] += 20

# %%
# NBVAL_CHECK_OUTPUT
candidates = {"cautious": cautious, "sharp": sharp}
scores = {
    name: (metrics.rmse(p, true_rul), metrics.nasa_score(p, true_rul))
    for name, p in candidates.items()
}
print(f"{'model':<10}{'RMSE':>8}{'NASA':>8}")
for name, (r, n) in scores.items():
    print(f"{name:<10}{r:>8.2f}{n:>8.2f}")
best_rmse = min(scores, key=lambda k: scores[k][0])
best_nasa = min(scores, key=lambda k: scores[k][1])
print(f"best by RMSE: {best_rmse}; best by NASA: {best_nasa}")

# %%
fig, ax = plt.subplots(figsize=(8, 3))
engines = np.arange(1, len(true_rul) + 1)
ax.bar(engines - 0.2, cautious - true_rul, width=0.4, color="C0", label="cautious")
ax.bar(engines + 0.2, sharp - true_rul, width=0.4, color="C3", label="sharp")
ax.axhline(0, color="k", lw=0.5)
ax.set(xlabel="test engine", ylabel="error d (cycles)", xticks=engines)
ax.set_title("Ten small early errors, or two large late ones?")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# RMSE prefers *sharp*: eight perfect predictions outweigh two large misses.
# The NASA score prefers *cautious*: its ten errors are all early, and early errors
# are cheap, while sharp's two late misses each cost $e^2 - 1 \approx 6.4$. Which
# model is better depends on the operator, and the rest of this chapter makes that
# dependence explicit.

# %% [markdown]
# ## The RMSE-NASA Pareto picture
#
# With two measures, one method **dominates** another if it is at least as good on
# both and strictly better on one. The methods that no other method dominates form
# the **Pareto front**. A dominated method never needs to be chosen. Choosing
# between methods on the front is a trade-off, and no measure of accuracy alone
# can settle it.
#
# No model has been trained for this chapter, so we use the figures the book
# publishes: 5-seed means under the book's own protocol, which `rulkit.published`
# records and the next cell prints. They are **published in the book, not
# measured here**. Two panels: the four methods on FD001, and the
# book's mean over FD002 and FD004, the two subsets with six operating conditions.

# %%
# NBVAL_CHECK_OUTPUT
print("book protocol:", published.BOOK_PROTOCOL)


def book_points(subset):
    """(method, RMSE, NASA) the book publishes for one subset, where it gives both."""
    return [(m, r, n) for s_, m, r, n in published.BOOK if s_ == subset and n is not None]


panels = ["FD001", "FD002+FD004"]
print(f"{'subset':<13}{'method':<10}{'RMSE':>7}{'NASA':>8}  on the Pareto front")
for subset in panels:
    points = book_points(subset)
    front = set(pareto_front(np.array([p[1] for p in points]), np.array([p[2] for p in points])))
    for k, (method, r, n) in enumerate(points):
        print(f"{subset:<13}{method:<10}{r:>7.2f}{n:>8.1f}  {'yes' if k in front else 'no'}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, subset in zip(axes, panels):
    points = book_points(subset)
    r = np.array([p[1] for p in points])
    n = np.array([p[2] for p in points])
    for method, ri, ni in points:
        ax.scatter(ri, ni, s=50, color=METHOD_COLORS[method], zorder=3)
        offset = (6, -12) if method == "grace" else (6, 4)  # keep GABA and GRACE apart
        ax.annotate(method, (ri, ni), textcoords="offset points", xytext=offset, fontsize=9)
    front = pareto_front(r, n)
    order = front[np.argsort(r[front])]
    ax.plot(r[order], n[order], "k--", lw=0.8)
    ax.scatter(r[front], n[front], s=160, facecolors="none", edgecolors="k", label="Pareto front")
    ax.set(title=subset, xlabel="RMSE (cycles)", ylabel="NASA score (sum)")
    ax.margins(0.25)
axes[0].legend(fontsize=8, loc="upper left")
fig.suptitle("Published in the book, not measured here (5-seed means)", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The two panels tell different stories.
#
# - On **FD001** GRACE has both the lowest RMSE and the lowest NASA score, so it
#   dominates the other three methods and forms the front on its own. AMNL has
#   the *highest* NASA score in this panel, and it is dominated even by the
#   baseline (10.08 and 143.2 against AMNL's 10.43 and 434.4), although the book
#   recommends it for accuracy. Its loss gives no reason to expect otherwise: it
#   weights each window's squared error by how close the window's *true* RUL is to
#   failure (2 at RUL 0, falling to 1 at the cap), the same for a late as for an
#   early prediction, while the NASA score punishes late ones.
# - On the **FD002/FD004 mean** there is a genuine trade-off: AMNL has the lowest
#   RMSE but by far the highest NASA score, while GABA and GRACE give up about
#   half a cycle of RMSE to roughly halve the NASA score. All three methods sit on
#   the front.
#
# Only the second case needs a decision rule; the next section provides one.

# %% [markdown]
# ### Measured results, when there are any
#
# Runs of `rulkit train` write one JSON file each into `results/` at the root of
# the repository. If such files exist, we show their seed means next to the
# book's figures. Where the folder is missing (on Colab, say), rulkit falls back
# on the summary of the committed results that ships with the package, and the
# cell says which it used. Smoke-profile runs are only a check that the code runs;
# their numbers say nothing about the methods.

# %%
RESULTS_DIR = Path("..") / "results"
records, records_from = load_measured(RESULTS_DIR)
print("results read:", run_set(records))  # tests/test_results_current.py checks this line
# the book's recipe and the tuned one (chapter "Training it well"); ablation runs and the
# single-task reference network are not methods of this chapter
rows = [
    {
        "profile": config_label(r),
        "subset": r["subset"],
        "method": r["method"],
        "rmse": r.get("test", {}).get("rmse"),
        "nasa": r.get("test", {}).get("nasa"),
    }
    for r in records
    if config_label(r) in ("full", "tuned")
]
measured = pd.DataFrame(rows, columns=["profile", "subset", "method", "rmse", "nasa"]).dropna()
if measured.empty:
    print("No measured results yet: this chapter shows the book's figures only.")
    print(f"Searched {records_from}.")
else:
    measured = measured.groupby(["profile", "subset", "method"], as_index=False).agg(
        seeds=("rmse", "size"), rmse=("rmse", "mean"), nasa=("nasa", "mean")
    )
    print(f"{len(rows)} runs of these two recipes from {records_from}; seed means (measured here):")
    print(measured.to_string(index=False, float_format=lambda v: f"{v:.2f}"))

# %%
if not measured.empty:
    groups = list(measured.groupby(["profile", "subset"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.6), squeeze=False)
    for ax, ((profile, subset), part) in zip(axes[0], groups):
        for row in part.itertuples():
            color = METHOD_COLORS.get(row.method, "k")
            ax.scatter(row.rmse, row.nasa, s=50, color=color, zorder=3)
            ax.annotate(
                f"{row.method} ({row.seeds})",
                (row.rmse, row.nasa),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
            )
        for method, r, n in book_points(subset):
            ax.scatter(
                r, n, s=50, facecolors="none", edgecolors=METHOD_COLORS.get(method, "k"), zorder=3
            )
        ax.set(
            title=f"{subset}, {profile} profile", xlabel="RMSE (cycles)", ylabel="NASA score (sum)"
        )
        ax.margins(0.25)
    fig.suptitle(
        "Filled: measured here (seeds in brackets). Hollow: published in the book.", fontsize=10
    )
    fig.tight_layout()
    plt.show()

# %% [markdown]
# What the filled points show, in sentences built from the runs when this cell runs
# (so they stay true as seeds arrive): for each recipe, the seeds behind each point,
# the seed means beside the book's figures, and the paired differences to the
# baseline on the same test engines, with the baseline's own spread from seed to seed
# for scale. The results chapter adds intervals and curves.

# %%
for recipe in ("full", "tuned"):
    display(Markdown(results_paragraph(records, "FD001", profile=recipe)))
above = [
    (row.profile, row.method)
    for row in measured.itertuples()
    if row.subset == "FD001"
    and row.rmse > published.book_figure("FD001", row.method)[0]
    and row.nasa > published.book_figure("FD001", row.method)[1]
]
print(
    f"measured FD001 means above the book's figure on both metrics: {len(above)} of "
    f"{(measured.subset == 'FD001').sum()}"
)

# %% [markdown]
# ## Choosing for a deployment: $J(w)$
#
# To choose a point on the front, we have to say how much a late call costs
# compared with an early one. Let $c_\text{early}$ be the cost of one cycle of
# wasted life (an engine serviced too soon) and $c_\text{late}$ the cost of running
# one cycle too long (risk, an unscheduled removal, a diverted flight). The weight
#
# $$w = \frac{c_\text{late}}{c_\text{late} + c_\text{early}} \in [0, 1]$$
#
# is the share of the total cost that comes from being late. The book combines the
# two measures into
#
# $$J(w) = (1 - w)\,\widetilde{\text{RMSE}} + w\,\widetilde{\text{NASA}},$$
#
# where the tilde means min-max normalised over the candidate methods: the best
# candidate gets 0 and the worst gets 1 on each measure. The normalisation is
# needed because RMSE is measured in cycles and the NASA score is in the hundreds.
# Without it, $w$ would mostly convert units instead of expressing a preference.
# The method with the smallest $J(w)$ is chosen.
#
# The book names three regimes: a **delivery truck** ($w \in [0, 0.15]$: a late
# call means a roadside repair, so accuracy matters most), an **airline** such as a
# 787 fleet ($[0.15, 0.40]$), and a **cruise ship** ($[0.40, 1]$: an engine
# failure at sea is very expensive). If a late call costs three times as much as an
# early one, for instance, then $w = 3/(3+1) = 3/4$.


# %% [markdown]
# `rulkit.regimes` implements all of this: `regimes.minmax` and
# `regimes.deployment_cost` are the two formulas above, and `regimes.REGIMES`
# holds the book's three bands. Here are the two functions:

# %%
for function in (regimes.minmax, regimes.deployment_cost):
    print(inspect.getsource(function))

# %% [markdown]
# The candidates are the three methods of the book's FD002/FD004 mean, the case
# with a real trade-off. After normalisation each method is a pair of numbers
# between 0 and 1.

# %%
# NBVAL_CHECK_OUTPUT
methods, rmse_b, nasa_b = map(list, zip(*book_points("FD002+FD004")))
print(f"{'method':<8}{'RMSE':>7}{'NASA':>8}{'RMSE~':>8}{'NASA~':>8}")
for m, r, n, rt, nt in zip(methods, rmse_b, nasa_b, regimes.minmax(rmse_b), regimes.minmax(nasa_b)):
    print(f"{m:<8}{r:>7.2f}{n:>8.1f}{rt:>8.4f}{nt:>8.4f}")
i_gaba, i_grace = methods.index("gaba"), methods.index("grace")
print(
    f"GRACE minus GABA: RMSE {rmse_b[i_grace] - rmse_b[i_gaba]:+.2f}, "
    f"NASA {nasa_b[i_grace] - nasa_b[i_gaba]:+.1f}"
)

# %% [markdown]
# For each method, $J$ is a straight line in $w$: it starts at
# $\widetilde{\text{RMSE}}$ for $w = 0$ and ends at $\widetilde{\text{NASA}}$ for
# $w = 1$. The chosen method can therefore change only where two lines cross, and
# `regimes.switch_points` computes those crossings exactly, from the closed form
# of the intersection of two lines, rather than by scanning $w$.

# %%
# NBVAL_CHECK_OUTPUT
switches = regimes.switch_points(methods, rmse_b, nasa_b)
print(f"at w = 0, J picks {regimes.winner(0.0, methods, rmse_b, nasa_b)}")
for sw in switches:
    print(f"at w = {sw.w:.4f}, the choice switches from {sw.before} to {sw.after}")

# %% [markdown]
# The figure draws the three lines over the book's regimes. The bold segments are
# the chosen method, and the dashed lines are the switch points. An interactive
# version follows below; this static one is for print and for readers without
# JavaScript.

# %%
book_table = regimes.published_table("FD002+FD004")
fig = regimes.chooser_figure(
    book_table,
    source=regimes.SOURCE_BOOK,
    title="J(w) on the book's FD002/FD004 means (published, not measured here)",
)
plt.show()

# %% [markdown]
# The dashed lines mark where the lowest $J$ changes hands. Compare them with the
# shaded regimes. The book assigns AMNL to the truck, GABA to the airline and
# GRACE to the cruise ship, and the *order* matches $J$: accuracy first, then
# the balanced method, then the safest one. The boundaries do not match. On the
# book's own published means, $J$ keeps AMNL over the whole airline range and
# beyond, up to $w = 0.4870$, and GRACE takes over only at $w = 0.8199$, near the
# right end of the cruise-ship range. GABA and
# GRACE are only 3.0 NASA points and 0.03 RMSE apart, so small changes in the inputs
# move the second switch a lot. The next cell lists what $J$ picks inside each
# shaded regime.

# %%
# NBVAL_CHECK_OUTPUT
spans = regimes.choices(methods, rmse_b, nasa_b)  # [(w from, w to, method), ...]
for regime, lo, hi, book_pick in regimes.REGIMES:
    picked = [m for start, stop, m in spans if start <= hi and stop >= lo]
    print(
        f"{regime:<15} w in [{lo:.2f}, {hi:.2f}]: J picks {' then '.join(picked):<24} book: {book_pick}"
    )

# %% [markdown]
# On FD001 the question does not arise: GRACE dominates in the book's figures, so
# it has the lowest $J$ for every $w$. A dominated method can never win, whatever
# the weight.

# %%
# NBVAL_CHECK_OUTPUT
m1, r1, n1 = map(list, zip(*book_points("FD001")))
winners_fd001 = {m for _, _, m in regimes.choices(m1, r1, n1)}
print("FD001, methods J picks for some w in [0, 1]:", ", ".join(sorted(winners_fd001)))

# %% [markdown]
# ### Try it: the regime chooser
#
# The chart below is the same picture, live. Move $w$, or choose **set the costs**
# and move $c_\text{late}$ and $c_\text{early}$, from which $w$ follows. The bold
# line is the method $J$ chooses, the dashed lines are the switch points and the
# shading shows the book's three regimes. Untick a method and the normalisation,
# the lines and the switch points are recomputed for the remaining candidates.
# The source menu switches between the book's published means and this project's
# measured results, when there are any (with a band of one standard deviation over
# the seeds); the cell prints where the figures came from. The chart runs in the
# browser: it needs no Python kernel once drawn. In the rendered book it also needs
# no network; in Jupyter and Colab it loads its charting library (Vega) from a CDN.

# %%
figures = regimes.regime_table(RESULTS_DIR, subset="FD002+FD004")
print(figures.attrs["figures_from"])
regimes.chooser_chart(figures)

# %% [markdown]
# ### The same choice on this project's measurements
#
# The chooser above works on the book's FD002/FD004 means, the pair its regimes are
# drawn from. This project's runs cover FD001 only so far (see the results chapter),
# so that is where measured figures can enter the choice. Below,
# $J(w)$ on the book's FD001 figures and, where there are any, on the seed means
# measured here, each panel titled with its source, followed by the method $J$
# chooses on each stretch of $w$.

# %%
fd001 = regimes.regime_table(RESULTS_DIR, subset="FD001")
print(fd001.attrs["figures_from"])
print(fd001[["source", "method", "seeds", "rmse", "nasa"]].round(2).to_string(index=False))
sources = list(dict.fromkeys(fd001.source))
fig, axes = plt.subplots(len(sources), 1, figsize=(8, 3.6 * len(sources)), squeeze=False)
for ax, source in zip(axes[:, 0], sources):
    regimes.chooser_figure(fd001, source=source, ax=ax)
plt.show()
for source in sources:
    part = fd001[fd001.source == source]
    spans = regimes.choices(list(part.method), part.rmse, part.nasa)
    print(f"{source}: " + ", ".join(f"{m} for w in [{lo:.3f}, {hi:.3f}]" for lo, hi, m in spans))

# %% [markdown]
# On the book's FD001 means the choice is easy: GRACE has both the lowest RMSE and
# the lowest NASA score, so it wins at every $w$ and no regime matters. On the means
# measured here, the printed stretches above say where the choice switches. Read any
# such split with care. $J$ rescales each metric to the range of the candidates, so it
# stretches measured RMSEs that lie within about one RMSE of each other over the full
# 0-to-1 scale (the range is printed below), and it sees point estimates only: the
# paired differences above are mostly smaller than the spread from seed to seed. A
# choice between methods needs differences larger than their uncertainty.

# %%
for source in sources[1:]:
    part = fd001[fd001.source == source]
    print(
        f"{source}: RMSE from {part.rmse.min():.2f} to {part.rmse.max():.2f}, "
        f"NASA from {part.nasa.min():.1f} to {part.nasa.max():.1f}"
    )

# %% [markdown]
# The same chooser as above, live, on FD001: its source menu switches between the
# book's means and the figures measured here.

# %%
regimes.chooser_chart(fd001)

# %% [markdown]
# ## The three losses on one batch
#
# The methods differ in how they combine the two task losses of a batch:
#
# - **Baseline**: $\tfrac12 \text{MSE} + \tfrac12 \text{CE}$.
# - **AMNL**: $\tfrac12 \text{wMSE} + \tfrac12 \text{CE}$. The RUL errors are weighted
#   by $w_i = 2 - \min(y_i, 125)/125$, which is 2 at failure and 1 at the cap, and
#   the weighted MSE is normalised by the sum of the weights.
# - **GABA**: $\lambda_\text{rul} \text{MSE} + \lambda_\text{hs} \text{CE}$, with
#   $\lambda_t \propto 1/g_t$ where $g_t$ is the norm of task $t$'s gradient on the
#   shared backbone (section 12.1). Here we use the simplified form of the worked
#   example: raw weights that sum to 2, with no moving average, floor or warm-up.
# - **GRACE**: GABA's weights applied to AMNL's wMSE and the CE.
#
# We evaluate all four on one batch of 32 real FD001 training windows with an
# untrained `DualTaskModel` (seed 1; any seed would do, since with rulkit's initial
# RUL bias of 62.5 cycles the head starts alive for every seed chapters 8-11
# checked). In `eval` mode the forward pass has no dropout. The gradient norms
# come from autograd, and their last digits depend on the machine's floating-point
# arithmetic, so this output is not compared by the tests.

# %%
data = rulkit.prepare("FD001", rulkit.fetch_cmapss())
rng = np.random.default_rng(0)
pick = rng.choice(len(data.train), size=32, replace=False)
xb = torch.from_numpy(data.train.X[pick])
yb = torch.from_numpy(data.train.y_rul[pick])
hb = torch.from_numpy(data.train.y_health[pick])

torch.manual_seed(1)
model = rulkit.DualTaskModel(n_features=data.n_features).eval()
rul_pred, logits = model(xb)

# %%
plain = task_losses(rul_pred, yb, logits, hb)  # [MSE, CE]
weighted = task_losses(rul_pred, yb, logits, hb, amnl=True)  # [wMSE, CE]

g_plain = shared_grad_norms(model, plain)  # g_rul of the MSE, g_hs
g_weighted = shared_grad_norms(model, weighted)  # g_rul of the weighted MSE, g_hs
gaba = simplified_gaba()
gaba.observe(g_plain)
grace = simplified_gaba()
grace.observe(g_weighted)

fixed = FixedWeights((0.5, 0.5))
table = [
    ("baseline", plain, fixed.weights(), fixed.loss(plain), None),
    ("AMNL", weighted, fixed.weights(), amnl_loss(rul_pred, yb, logits, hb), None),
    ("GABA", plain, gaba.weights(), gaba.loss(plain), g_plain),
    ("GRACE", weighted, grace.weights(), grace.loss(weighted), g_weighted),
]
print(
    f"{'method':<9}{'RUL loss':>10}{'CE':>8}{'g_rul/g_hs':>12}{'lam_rul':>10}{'lam_hs':>9}{'total':>10}"
)
for name, losses, lam, total, g in table:
    ratio = f"{(g[0] / g[1]).item():.1f}" if g is not None else "-"
    print(
        f"{name:<9}{losses[0].item():>10.1f}{losses[1].item():>8.3f}{ratio:>12}"
        f"{lam[0].item():>10.5f}{lam[1].item():>9.5f}{total.item():>10.3f}"
    )

# %%
assert all(torch.isfinite(t[3]) for t in table)
assert torch.isclose(table[1][3], 0.5 * weighted[0] + 0.5 * weighted[1]), (
    "AMNL is 0.5 wMSE + 0.5 CE"
)
assert weighted[0] < plain[0], "on this batch the weighted MSE is the smaller (see the next cell)"
assert gaba.weights()[0] < 0.05 and torch.isclose(gaba.weights().sum(), torch.tensor(2.0))

# %% [markdown]
# Why is AMNL's weighted MSE smaller than the plain MSE here, when AMNL is meant
# to make errors count *more*? Its weights are a weighted *average*: they move
# emphasis between windows, they do not inflate the loss. Where the errors sit
# decides which way the average moves, so we split the batch by health class.

# %%
err2 = ((rul_pred - yb) ** 2).detach().numpy().astype(np.float64)
w_b = reference.amnl_weights(yb.numpy())
print(
    f"untrained RUL predictions: {rul_pred.min().item():.1f} to {rul_pred.max().item():.1f} cycles"
)
print(
    f"{'class':<10}{'windows':>8}{'mean w':>8}{'mean sq. error':>16}"
    f"{'share of MSE':>14}{'share of wMSE':>15}"
)
for k, name in enumerate(HEALTH_CLASSES):
    in_class = hb.numpy() == k
    print(
        f"{name:<10}{in_class.sum():>8}{w_b[in_class].mean():>8.3f}{err2[in_class].mean():>16.0f}"
        f"{err2[in_class].sum() / err2.sum():>14.1%}"
        f"{(w_b * err2)[in_class].sum() / (w_b * err2).sum():>15.1%}"
    )

# %% [markdown]
# Read the two tables together.
#
# - The **RUL loss** is in the thousands for every method. The untrained model
#   predicts about 62.5 cycles for every window (the starting bias of its RUL
#   head), so the errors are large at *both* ends of the range: healthy windows on
#   the plateau at 125 are predicted about 62 cycles too low, windows at failure
#   about 62 cycles too high, and only the degrading windows in the middle come
#   close. On this batch the normal windows carry the largest mean squared error
#   (3095, against 2058 for the critical ones and 85 for the degrading ones) and
#   the smallest weights. AMNL's weights move emphasis from them to the critical
#   and degrading windows, whose errors are smaller here, so the weighted average
#   comes out *smaller* than the plain one (2257.0 against 2459.6). On a batch with
#   more windows at failure it could come out larger: the weights decide which
#   errors count, not whether the loss grows.
# - With **fixed weights** (baseline, AMNL) the total is essentially half the RUL
#   loss, and the cross-entropy hardly counts.
# - **GABA and GRACE** give the RUL loss a weight of about one to two hundredths
#   (0.01186 and 0.01902), because its gradient on the backbone is 167.7 times
#   (MSE) and 104.2 times (weighted MSE) larger than the health gradient.
#   After weighting, the two tasks pull on the backbone equally hard. The weighted
#   RUL term still makes up most of the total's *value*: GABA balances gradients,
#   not loss values, and a large loss can have a gradient of modest size.
#
# The totals of different methods are not comparable with each other: each is the
# objective of its own method. What matters is the direction each one sends the
# shared parameters in.

# %% [markdown]
# ## The worked example of section 13.4
#
# The book illustrates the three losses with a small computation and prints its
# results: **13.0524** for AMNL, **2.2954** for GABA and **2.2954** for GRACE. The
# recipe is fully specified:
#
# - NumPy: `np.random.seed(0)`; 32 true RULs `randint(0, 126)` as float32;
#   predictions 5 cycles below the truth; logits `randn(32, 3)`; health labels
#   `randint(0, 3)`.
# - GABA's gradient norms are given as $g_\text{rul} = 4.81$ and
#   $g_\text{hs} = 0.0096$, with $\varepsilon = 10^{-8}$. GABA is applied to the
#   scalar losses $L_\text{rul} = 25.0$ and $L_\text{hs} = 1.10$. AMNL and GRACE are
#   computed on the batch.
# - PyTorch: the same recipe with `torch.manual_seed(0)`, `torch.randint` and
#   `torch.randn`.
#
# rulkit implements it twice. `rulkit.reference.worked_example()` is a plain NumPy
# oracle that shares no code with the training losses, and
# `rulkit.losses.worked_example_torch()` uses the PyTorch losses the trainer uses.
# We run both exactly as specified and put their results next to the book's.

# %%
# NBVAL_CHECK_OUTPUT
rul_pred_np, rul_true_np, logits_np, y_hs_np = reference.worked_example_inputs()
print("first 8 true RULs: ", rul_true_np[:8].astype(int).tolist())
print("first 8 labels:    ", y_hs_np[:8].tolist())
print("errors (pred - true):", sorted(set((rul_pred_np - rul_true_np).tolist())))
weights_np = reference.amnl_weights(rul_true_np)
print(f"AMNL sample weights: min {weights_np.min():.4f}, max {weights_np.max():.4f}")

# %%
# NBVAL_CHECK_OUTPUT
book = reference.BOOK_PRINTS
ours_np = reference.worked_example()
ours_pt = worked_example_torch()
print(f"{'loss':<7}{'book':>10}{'NumPy':>10}{'PyTorch':>10}")
for key in ("amnl", "gaba", "grace"):
    print(f"{key.upper():<7}{book[key]:>10.4f}{ours_np[key]:>10.4f}{ours_pt[key]:>10.4f}")

# %% [markdown]
# Only GABA comes close, and even GABA is off in the fourth decimal. The
# intermediates show where the other two differ:

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'intermediate':<16}{'NumPy':>10}{'PyTorch':>10}")
for key in ("wmse", "cross_entropy", "lam_rul", "lam_hs"):
    print(f"{key:<16}{ours_np[key]:>10.4f}{ours_pt[key]:>10.4f}")

# %% [markdown]
# The book's chapter-14 formula normalises the weighted MSE by the sum of the
# weights. Its later training code divides by the batch size instead. rulkit keeps
# both (`normalise="weights"` or `"batch"`), so here is the whole example under
# each:

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'normalisation':<15}{'loss':<7}{'book':>10}{'NumPy':>10}{'PyTorch':>10}")
for norm in ("weights", "batch"):
    r_np, r_pt = reference.worked_example(norm), worked_example_torch(norm)
    for key in ("wmse", "amnl", "gaba", "grace"):
        shown = f"{book[key]:>10.4f}" if key in book else f"{'-':>10}"
        print(f"{norm:<15}{key.upper():<7}{shown}{r_np[key]:>10.4f}{r_pt[key]:>10.4f}")

# %% [markdown]
# ### AMNL: 13.1216 instead of 13.0524
#
# Every prediction is exactly 5 cycles low, so every squared error is 25. With the
# sum-of-weights normalisation, a weighted mean of a constant is that constant:
# $\text{wMSE} = \sum_i w_i \cdot 25 / \sum_i w_i = 25$, whatever the weights are.
# With the batch-mean normalisation it is $25 \cdot \bar{w}$, where $\bar{w}$ is the
# mean AMNL weight of this batch.
#
# With $\lambda_\text{hs} = 0.5$, AMNL is $0.5 \cdot \text{wMSE} + 0.5 \cdot \text{CE}$.
# Solving for the cross-entropy gives the value the book's figure implies, which
# we compare with the cross-entropy of the seeded batch.

# %%
# NBVAL_CHECK_OUTPUT
w_bar = reference.amnl_weights(rul_true_np).mean()
wmse_weights = reference.weighted_mse(
    rul_pred_np, rul_true_np, reference.amnl_weights(rul_true_np), "weights"
)
wmse_batch = reference.weighted_mse(
    rul_pred_np, rul_true_np, reference.amnl_weights(rul_true_np), "batch"
)
ce_np = reference.cross_entropy(logits_np, y_hs_np)
lam_hs_amnl = 0.5
print(f"wMSE, sum-of-weights normalisation: {wmse_weights:.4f}")
print(f"wMSE, batch-mean normalisation:     {wmse_batch:.4f} = 25 x mean weight {w_bar:.4f}")
print(f"cross-entropy of the seeded batch:  {ce_np:.4f}")
implied_ce = (book["amnl"] - (1 - lam_hs_amnl) * wmse_weights) / lam_hs_amnl
print(f"CE implied by the book's AMNL ({book['amnl']:.4f}), sum-of-weights wMSE: {implied_ce:.4f}")
implied_ce_batch = (book["amnl"] - (1 - lam_hs_amnl) * wmse_batch) / lam_hs_amnl
print(f"CE implied with the batch-mean wMSE instead:              {implied_ce_batch:.4f}")
print(
    f"AMNL with the seeded batch's own CE: 0.5 x {wmse_weights:.0f} + 0.5 x {ce_np:.4f} = {ours_np['amnl']:.4f}"
)

# %% [markdown]
# The book's 13.0524 is consistent with a weighted MSE of exactly 25 (the
# sum-of-weights normalisation) and a cross-entropy of 1.1048. The batch-mean
# normalisation cannot produce it at all, because it would need a negative
# cross-entropy. The seeded inputs, however, give a cross-entropy of 1.2432, and
# so AMNL = 13.1216. Note that 1.1048 is close to the 1.10 the book hands to GABA
# as $L_\text{hs}$. This suggests that the printed AMNL came from a batch whose
# cross-entropy was about 1.10, not from the seeded draw. We do not change the
# inputs to force agreement: the seeded recipe is what the book specifies, and
# 13.1216 is what it gives.

# %% [markdown]
# ### GABA: 2.2952 instead of 2.2954
#
# Simplified GABA with weights summing to 2 is
# $\lambda_\text{rul} = 2 g_\text{hs} / (g_\text{rul} + g_\text{hs})$ and
# $\lambda_\text{hs} = 2 g_\text{rul} / (g_\text{rul} + g_\text{hs})$, up to
# $\varepsilon$. It does not use the batch at all, only the four given numbers. With
# $g_\text{rul} = 4.81$ the result rounds to 2.2952. With $g_\text{rul} = 4.80$,
# which makes the ratio $g_\text{rul}/g_\text{hs}$ exactly 500, it rounds to the
# book's 2.2954.

# %%
# NBVAL_CHECK_OUTPUT
g_rul, g_hs = reference.WORKED_EXAMPLE_NORMS
L_rul, L_hs = reference.WORKED_EXAMPLE_SCALAR_LOSSES
for g in (g_rul, 4.80):
    lam_r, lam_h = reference.gaba_weights(g, g_hs)
    value = reference.loss_gaba(L_rul, L_hs, g, g_hs)
    print(
        f"g_rul = {g:.2f}: ratio g_rul/g_hs = {g / g_hs:.2f}, lam_rul = {lam_r:.6f}, lam_hs = {lam_h:.6f}, "
        f"GABA = {lam_r:.6f} x {L_rul:.2f} + {lam_h:.6f} x {L_hs:.2f} = {value:.6f} -> {value:.4f}"
    )

# %% [markdown]
# Which values of $g_\text{rul}$ print the book's figure? GABA decreases as
# $g_\text{rul}$ grows, so a scan of $g_\text{rul}$ finds a single interval:

# %%
# NBVAL_CHECK_OUTPUT
grid = np.round(np.arange(4.750, 4.850, 0.0001), 4)
prints_book = np.array(
    [f"{reference.loss_gaba(L_rul, L_hs, g, g_hs):.4f}" == f"{book['gaba']:.4f}" for g in grid]
)
print(
    f"g_rul values (step 1e-4) that print {book['gaba']:.4f}: {grid[prints_book].min():.4f} to {grid[prints_book].max():.4f}"
)
print(
    f"4.80 inside: {bool(prints_book[grid == 4.80][0])}; 4.81 inside: {bool(prints_book[grid == 4.81][0])}"
)

# %% [markdown]
# The printed 2.2954 therefore corresponds to $g_\text{rul}$ between about 4.798 and
# 4.803, for example the round ratio 500:1. The value 4.81 given in the text lies
# outside this interval. The difference is tiny, but it shows that the printed
# figure was not computed from the norms the text states.

# %% [markdown]
# ### GRACE: 2.5810 instead of 2.2954
#
# GRACE applies GABA's weights to the batch's *own* losses: the AMNL-weighted MSE
# (25.0 here) and the cross-entropy (1.2432). The book prints the same value for
# GRACE as for GABA. That happens only if GRACE receives the scalar losses 25.0 and
# 1.10 that GABA was given, rather than the batch's losses. Since the wMSE is
# exactly 25.0 either way, the whole gap comes from the cross-entropy:
# $\text{GRACE} - \text{GABA} = \lambda_\text{hs}\,(1.2432 - 1.10)$.

# %%
# NBVAL_CHECK_OUTPUT
lam_r, lam_h = reference.gaba_weights(g_rul, g_hs)
grace_batch = reference.loss_grace(rul_pred_np, rul_true_np, logits_np, y_hs_np, (g_rul, g_hs))
grace_scalars = reference.loss_gaba(L_rul, L_hs, g_rul, g_hs)
grace_scalars_480 = reference.loss_gaba(L_rul, L_hs, 4.80, g_hs)
print(
    f"GRACE on the batch:   {lam_r:.6f} x {wmse_weights:.4f} + {lam_h:.6f} x {ce_np:.4f} = {grace_batch:.4f}"
)
print(
    f"GRACE fed the scalars {L_rul:.2f} and {L_hs:.2f}: {grace_scalars:.4f} (= GABA: {grace_scalars == ours_np['gaba']})"
)
print(f"the same with g_rul = 4.80:         {grace_scalars_480:.4f} (book: {book['grace']:.4f})")
print(
    f"gap lam_hs x (CE - {L_hs:.2f}) = {lam_h:.6f} x {ce_np - L_hs:.4f} = {lam_h * (ce_np - L_hs):.4f}"
)
print(f"GRACE(batch) - GABA        = {grace_batch - ours_np['gaba']:.4f}")

# %% [markdown]
# ### PyTorch: different random numbers, same recipe
#
# `torch.manual_seed(0)` and `np.random.seed(0)` seed two different random number
# generators, so the "same" recipe produces different inputs. Below are the first
# draws of each, from `rulkit.losses.worked_example_inputs_torch()`, the function
# `worked_example_torch()` draws its inputs with.

# %%
# NBVAL_CHECK_OUTPUT
_, rul_true_pt, logits_pt, y_hs_pt = worked_example_inputs_torch()
print("NumPy   first 8 true RULs:", rul_true_np[:8].astype(int).tolist())
print("PyTorch first 8 true RULs:", rul_true_pt[:8].int().tolist())
print("NumPy   first 8 labels:   ", y_hs_np[:8].tolist())
print("PyTorch first 8 labels:   ", y_hs_pt[:8].tolist())

# %% [markdown]
# The predictions are again exactly 5 low, so the sum-of-weights wMSE is again 25.
# The cross-entropy of PyTorch's random logits is different, however, and AMNL and
# GRACE change with it. The batch-mean wMSE changes too, because the targets, and
# with them the mean weight, are different. GABA sees only the given scalars and
# norms, so it is identical in both libraries.
#
# To show that the difference comes from the inputs and not from the code, we feed
# PyTorch's inputs to the NumPy oracle. It reproduces PyTorch's numbers.

# %%
# NBVAL_CHECK_OUTPUT
x_np = ((rul_true_pt - 5).numpy(), rul_true_pt.numpy(), logits_pt.numpy(), y_hs_pt.numpy())
oracle_amnl = reference.loss_amnl(*x_np)
oracle_grace = reference.loss_grace(*x_np, (g_rul, g_hs))
ce_pt = reference.cross_entropy(x_np[2], x_np[3])
print(
    f"PyTorch cross-entropy {ours_pt['cross_entropy']:.4f}; NumPy oracle on the same inputs {ce_pt:.4f}"
)
print(
    f"PyTorch AMNL  {ours_pt['amnl']:.4f}; oracle {oracle_amnl:.4f} = 0.5 x 25 + 0.5 x {ce_pt:.4f}"
)
print(
    f"PyTorch GRACE {ours_pt['grace']:.4f}; oracle {oracle_grace:.4f} = {lam_r:.6f} x 25 + {lam_h:.6f} x {ce_pt:.4f}"
)
print(
    f"GABA: PyTorch {ours_pt['gaba']:.4f}, NumPy {ours_np['gaba']:.4f}, identical: {ours_pt['gaba'] == ours_np['gaba']}"
)
assert abs(oracle_amnl - ours_pt["amnl"]) < 1e-4 and abs(oracle_grace - ours_pt["grace"]) < 1e-4

# %% [markdown]
# **In short.** The three printed figures of section 13.4 do not come from the
# seeded recipe printed next to them:
#
# - The printed AMNL implies a cross-entropy of 1.1048, where the seeded batch
#   gives 1.2432.
# - The printed GABA matches $g_\text{rul} = 4.80$, not the stated 4.81.
# - The printed GRACE equals GABA, which requires feeding GRACE GABA's scalar
#   losses instead of the batch's.
#
# PyTorch's generator draws different inputs again. Each difference is explained by
# a number computed above, and none of them affects how the methods work. When
# checking your own implementation against the book, compare with the oracle
# (`rulkit.reference`) on the seeded inputs, not with the printed figures.

# %% [markdown]
# ## The book's listings: the NumPy reference and drop-in PyTorch modules
#
# The book gives its three losses as code twice, in NumPy and as PyTorch
# `nn.Module` classes. rulkit keeps the NumPy version as `rulkit.reference`: it
# shares no code with the training losses, and every test of those losses compares
# them with it, which makes it the *oracle*. Here it is, printed from the installed
# package, so what you read is what the tests run.

# %%
for function in (
    reference.amnl_weights,
    reference.weighted_mse,
    reference.cross_entropy,
    reference.loss_amnl,
    reference.gaba_weights,
    reference.loss_gaba,
    reference.loss_grace,
):
    print(inspect.getsource(function))

# %% [markdown]
# The PyTorch classes are `rulkit.losses.AMNLLoss`, `GABALoss` and `GRACELoss`, with
# the call signatures of the book's listings: `AMNLLoss()(rul_pred, rul_true,
# logits, y_hs)`, GABA on the two task losses and their gradient norms,
# `GABALoss(...)(L_rul, L_hs, grad_norms)`, and `GRACELoss(...)(rul_pred,
# rul_true, logits, y_hs, norms)`. `.simplified()` builds the worked example's form
# (weights summing to 2, no average, floor or warm-up). On the worked example's
# NumPy inputs they print the oracle's figures above:

# %%
# NBVAL_CHECK_OUTPUT
p_np, y_np, z_np, h_np = (torch.as_tensor(a) for a in reference.worked_example_inputs())
book_norms = reference.WORKED_EXAMPLE_NORMS
amnl_module = AMNLLoss()(p_np, y_np, z_np, h_np)
gaba_module = GABALoss.simplified()(25.0, 1.10, grad_norms=book_norms)
grace_module = GRACELoss.simplified()(p_np, y_np, z_np, h_np, norms=book_norms)
print(f"AMNLLoss:                             {amnl_module.item():.4f}")
print(f"GABALoss.simplified on 25.0 and 1.10: {gaba_module.item():.4f}")
print(f"GRACELoss.simplified:                 {grace_module.item():.4f}")

# %% [markdown]
# ### Use them in your own training loop
#
# In a loop of your own, give `GABALoss` or `GRACELoss` the model's shared
# parameters. Each call then measures the two gradient norms on them, updates its
# controller and returns the weighted loss, whose weights are constants for
# `backward()`. The controller is the full form by default (moving average 0.99,
# floor 0.05, warm-up 100 steps); its state lives in `criterion.balancer`, a
# `rulkit.balancing.GABA`, and is saved with `criterion.state_dict()`. Three steps
# of GRACE with AdamW on the batch above:

# %%
torch.manual_seed(0)
net = rulkit.DualTaskModel(n_features=data.n_features)
criterion = GRACELoss(net.shared_parameters())  # full form: EMA, floor, warm-up
optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
for step in range(1, 4):
    rul_hat, logits_hat = net(xb)
    loss = criterion(rul_hat, yb, logits_hat, hb)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    optimizer.step()
    g_r, g_h = criterion.last_grad_norms.tolist()
    w_r, w_h = criterion.last_weights.tolist()
    print(
        f"step {step}: loss {loss.item():8.2f}, g_rul/g_hs {g_r / g_h:6.1f}, "
        f"weights {w_r:.2f}/{w_h:.2f}"
    )
assert int(criterion.balancer.step) == 3 and not criterion.last_weights.requires_grad

# %% [markdown]
# The weights stay at 0.5/0.5: these are steps 1-3 of the 100-step warm-up, while
# the moving average already follows the norms. Measuring the norms inside the
# loss costs one backward pass per task, and `loss.backward()` one more: two more
# than a fixed-weight loss. rulkit's own trainer gets away with one, as the first
# pitfall below measures.
#
# ## Three pitfalls when choosing a method
#
# The book's section 13.4 ends with three mistakes that are easy to make when
# picking and implementing a method. Each can be shown on a CPU in seconds.
#
# ### Pitfall 1: GRACE by default
#
# GRACE has the best NASA score in every table of the book that prints one, so
# why not use it always? Because balancing costs compute: GABA and GRACE need the gradient of
# *each* task on the shared backbone at every step. The book counts two extra
# backward passes per step for this. rulkit needs one. Its training step
# (`rulkit.train.TrainingStep`) takes the two task gradients with
# `torch.autograd.grad`, measures their norms on the backbone, and then *reuses*
# them, weighted, as the update, instead of backpropagating the weighted loss a
# third time. We count the backward passes with a hook on the first convolution's
# weight (it fires once per pass) and time a few steps of each method's own
# training step, batches of 32 FD001 windows on this CPU. The last row is GRACE
# done the book's way: measure both norms, then call `backward()` on the weighted
# loss.

# %%
STEP_BATCH, ROUNDS = 32, 4
step_rng = np.random.default_rng(1)
step_batches = []
for _ in range(ROUNDS + 1):
    rows = step_rng.choice(len(data.train), size=STEP_BATCH, replace=False)
    step_batches.append(
        tuple(
            torch.from_numpy(a[rows]) for a in (data.train.X, data.train.y_rul, data.train.y_health)
        )
    )


def book_grace_step(stepper, x, y_rul, y_health):
    """GRACE as the book describes it: measure both norms, then backpropagate the weighted loss."""
    rul_hat, logits_hat = stepper.model(x)
    losses = task_losses(rul_hat, y_rul, logits_hat, y_health, amnl=True)
    stepper.balancer.observe(shared_grad_norms(stepper.model, losses), losses)  # two passes
    stepper.optimizer.zero_grad(set_to_none=True)
    stepper.balancer.loss(losses).backward()  # a third pass
    stepper.optimizer.step()


variants = {
    "baseline": "baseline",
    "AMNL": "amnl",
    "GABA": "gaba",
    "GRACE": "grace",
    "GRACE, the book's way": "grace",
}
passes, steps = {}, {}
for label, method in variants.items():
    torch.manual_seed(0)
    config = profile_config("smoke", subset="FD001", method=method, device="cpu")
    stepper = TrainingStep(config, data.n_features, torch.device("cpu"))
    run_step = (lambda *b, s=stepper: book_grace_step(s, *b)) if "book" in label else stepper
    counter = [0]
    hook = stepper.model.cnn[0][0].weight.register_hook(
        lambda grad, c=counter: c.__setitem__(0, c[0] + 1)
    )
    run_step(*step_batches[0])  # the step that is counted (and warms up)
    passes[label] = counter[0]
    hook.remove()
    steps[label] = run_step
# Time the methods in turns, round after round, so that a change in the machine's load
# affects them all alike; report the median over the rounds.
times = {label: [] for label in variants}
for b in step_batches[1:]:
    for label, run_step in steps.items():
        start = time.perf_counter()
        run_step(*b)
        times[label].append(time.perf_counter() - start)
seconds = {label: float(np.median(t)) for label, t in times.items()}
print(f"{'step':<23}{'s per step':>11}{'x baseline':>12}")
for label, sec in seconds.items():
    print(f"{label:<23}{sec:>11.3f}{sec / seconds['baseline']:>12.2f}")

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'step':<23}{'backward passes':>16}{'extra':>7}")
for label, n in passes.items():
    print(f"{label:<23}{n:>16}{n - passes['baseline']:>7}")
assert passes["GRACE"] == passes["baseline"] + 1 == passes["GRACE, the book's way"] - 1

# %% [markdown]
# The counts are exact. The times are one measurement on a shared CPU (not
# compared by the tests) and vary from run to run; what does not vary is that the
# extra passes are paid on every step of a run that can last hundreds of epochs. Choosing GRACE by default
# spends it even where balancing cannot change the choice of an operator, for
# instance where one method dominates the others on both scores. The errata page
# records the difference in the pass count.
#
# ### Pitfall 2: the missing `.detach()`
#
# GABA's weights are computed *from* gradients. If the norms are taken with
# `create_graph=True` (as when copying code written for methods that do train
# through gradient norms, such as GradNorm) and are not detached, the weights
# become functions of the parameters. Backpropagating
# $\lambda_\text{rul} L_\text{rul} + \lambda_\text{hs} L_\text{hs}$ then also
# differentiates the weights, and the update gains the term
# $\sum_t L_t \nabla_\theta \lambda_t$: a second-order term (it differentiates
# through the gradient norms, that is, through Hessian-vector products) that pushes
# the network to change its own gradient norms. We compare that update with the
# safe one on a small model of the same architecture, because a second backward
# pass through the full-size model is slow on a CPU. PyTorch's fused attention
# kernel cannot even be differentiated twice, so the unsafe path has to run with
# the plain `math` kernel.

# %%
torch.manual_seed(0)
small = rulkit.DualTaskModel(
    n_features=data.n_features, conv_channels=(16, 32, 16), lstm_hidden=32, funnel=(32, 16)
).eval()
small_shared, small_params = list(small.shared_parameters()), list(small.parameters())
xs, ys, hs = xb[:16], yb[:16], hb[:16]


def small_losses():
    with sdpa_kernel(SDPBackend.MATH):
        rul_hat, logits_hat = small(xs)
    return task_losses(rul_hat, ys, logits_hat, hs)


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors if t is not None])


start = time.perf_counter()
losses_s = small_losses()
lam_safe = inverse_norm_weights(shared_grad_norms(small, losses_s))  # detached norms
update_safe = flat(
    torch.autograd.grad((lam_safe * losses_s).sum(), small_params, allow_unused=True)
)
t_safe = time.perf_counter() - start

start = time.perf_counter()
losses_s = small_losses()
task_grads = [
    torch.autograd.grad(L, small_shared, create_graph=True, allow_unused=True) for L in losses_s
]
norms_unsafe = torch.stack([global_norm([g for g in gs if g is not None]) for gs in task_grads])
lam_unsafe = inverse_norm_weights(norms_unsafe)  # still part of the graph
with sdpa_kernel(SDPBackend.MATH):
    update_unsafe = flat(
        torch.autograd.grad((lam_unsafe * losses_s).sum(), small_params, allow_unused=True)
    )
t_unsafe = time.perf_counter() - start

print(f"weights, safe:   {lam_safe.tolist()}  requires grad: {lam_safe.requires_grad}")
print(f"weights, unsafe: {lam_unsafe.tolist()}  requires grad: {lam_unsafe.requires_grad}")
print(f"update norm, safe {update_safe.norm():.4g}, unsafe {update_unsafe.norm():.4g}")
print(
    f"cosine between the two updates: {F.cosine_similarity(update_safe, update_unsafe, dim=0):.4f}"
)
print(f"time: safe {t_safe:.2f} s, unsafe {t_unsafe:.2f} s")
assert torch.allclose(lam_safe, lam_unsafe.detach()) and lam_unsafe.requires_grad

# %% [markdown]
# Same weights, different update. The second-order term dominates: the unsafe
# update is 539.5 long against the safe one's 1.571, and it points elsewhere (a
# cosine of -0.0737 between the two). The timing shows its price. A moving
# average makes it worse. The average of non-detached weights keeps each step's
# graph alive, so the next step's `backward()` runs into the graph the previous
# step already freed (or, with `retain_graph=True`, memory grows with every step):

# %%
ema = torch.tensor([0.5, 0.5])
outcome, step = "no error", 0
try:
    while step < 2:
        step += 1
        losses_s = small_losses()
        task_grads = [
            torch.autograd.grad(L, small_shared, create_graph=True, allow_unused=True)
            for L in losses_s
        ]
        norms_now = torch.stack(
            [global_norm([g for g in gs if g is not None]) for gs in task_grads]
        )
        ema = 0.9 * ema + 0.1 * inverse_norm_weights(norms_now)  # no .detach()
        with sdpa_kernel(SDPBackend.MATH):
            (ema * losses_s).sum().backward()
except RuntimeError as err:
    outcome = f"step {step}: RuntimeError: {str(err).splitlines()[0][:60]}..."
print(outcome)
small.zero_grad(set_to_none=True)

# %% [markdown]
# The safe pattern is the one `rulkit.balancing` uses: the norms are measured
# without `create_graph` and detached (`shared_grad_norms` returns
# `.detach()`-ed norms), `GABA.observe` detaches them again before they enter the
# moving average, and the weights enter the update as constants. Even the unsafe
# norms above leave no trace in rulkit's controller:

# %%
# NBVAL_CHECK_OUTPUT
controller = GABA()
controller.observe(norms_unsafe)
print("norms given to GABA.observe require grad:", norms_unsafe.requires_grad)
print("GABA's moving average requires grad:     ", controller.ema.requires_grad)
print("GABA's weights require grad:             ", controller.weights().requires_grad)

# %% [markdown]
# ### Pitfall 3: mixing AMNL's fixed task weight with GABA's weights
#
# AMNL has a fixed task weight of its own, $\lambda_\text{hs} = 0.5$, so that
# its total is $(1 - \lambda_\text{hs})\,\text{wMSE} + \lambda_\text{hs}\,\text{CE}$.
# GRACE switches it off and lets GABA set the task weights. What happens if it is
# kept? There are two places to put it. *Before* the measurement, the fixed factors
# scale the two losses that GABA measures. *After* it, they multiply GABA's
# weights. We take the two task gradients of the batch above (AMNL's weighted MSE
# and the cross-entropy, on the seed-1 model), apply both variants for
# $\lambda_\text{hs} = 0.5$ and $0.2$, and compare the pulls on the backbone and
# the direction of the update with GRACE's.

# %%
shared = list(model.shared_parameters())
grads_t = task_gradients(task_losses(rul_pred, yb, logits, hb, amnl=True), shared)
g_t = torch.stack([global_norm(g) for g in grads_t])
lam_grace = inverse_norm_weights(g_t)
update_grace = flat(combine_gradients(grads_t, lam_grace))
print(f"{'lam_hs':>6}  {'fixed factor':<13}{'RUL pull / health pull':>24}{'cosine with GRACE':>19}")
for lam_hs in (0.5, 0.2):
    factor = torch.tensor([1 - lam_hs, lam_hs])
    on_gradients = {
        "before GABA": inverse_norm_weights(factor * g_t) * factor,  # GABA measures c_t g_t
        "after GABA": lam_grace * factor,  # GABA's weights, then the fixed factor
    }
    for where, w in on_gradients.items():
        pull = w * g_t
        update = flat(combine_gradients(grads_t, w))
        cosine = F.cosine_similarity(update, update_grace, dim=0)
        print(
            f"{lam_hs:>6.1f}  {where:<13}{(pull[0] / pull[1]).item():>24.4f}{cosine.item():>19.4f}"
        )

# %% [markdown]
# Applied *before* the measurement, the fixed factor is cancelled: GABA divides it
# out again, the pulls stay equal (ratio 1) and the update points exactly where
# GRACE's does (cosine 1); only its length changes. Applied *after*, it breaks
# equal pull by the factor $(1 - \lambda_\text{hs})/\lambda_\text{hs}$. With the
# book's $\lambda_\text{hs} = 0.5$ that factor is 1, so only the step size halves,
# which AdamW hardly notices; with $\lambda_\text{hs} = 0.2$ the RUL task pulls 4
# times harder than the health task, the imbalance GABA was meant to remove. Either
# way a fixed task weight adds nothing to GRACE, which is why GRACE switches it
# off.
#
# ## Where each method has already been used
#
# The book's section 13.4 also lists where its methods have been applied. Here are
# the applications it names, with what this companion can and cannot confirm.
#
# | application (as the book names it) | method | source the book gives | verified here? | note |
# |---|---|---|---|---|
# | turbofan engines, NASA C-MAPSS | AMNL, GABA, GRACE | the book's primary source, an IEEE/CAA *Journal of Automatica Sinica* 2025 paper (see the references) | partly | This companion re-implements all three and runs them on C-MAPSS. Its full-recipe runs on FD001 are made on a CPU, one at a time, and the results chapter shows those that have finished; everything else here is a smoke run. Its protocol selects checkpoints on validation engines, unlike the book's earlier edition. Whether the published figures hold is open (results chapter). |
# | lithium-ion battery life | AMNL | Severson et al., *Nature Energy*, 2019 | no | A battery study: it predicts cycle life from early-cycle discharge features with regularised linear models. It uses no failure-weighted loss and no dual-task network, so it is at most related work on life prediction, not a use of AMNL as such. |
# | wind-turbine pilots | as the book's table says | none | no | The book cites no source, so there is nothing to check. Read it as a claim, not as evidence. |
#
# A "no" does not say that a method would fail there; it says that nothing in this
# companion, and nothing the book cites, shows that it has been used there.

# %% [markdown]
# ## Exercises
#
# ### Exercise 1: the NASA score in NumPy, with any time constants
#
# Write `my_nasa_score(pred, true, a_early=13.0, a_late=10.0)` that returns the
# summed NASA score using only NumPy (`np.exp`, `np.where`), with its two time
# constants as arguments: an early error ($d < 0$) costs $e^{-d/a_\text{early}} - 1$
# and a late one $e^{d/a_\text{late}} - 1$. With the defaults it is the NASA score,
# and the check compares it with `rulkit.metrics.nasa_score` on the cautious and
# sharp models above and on random errors. Then it changes the constants, which
# rulkit's function does not take: the asymmetry is in those two numbers.
#
# <details><summary>Hint</summary>
#
# Compute the errors `d = pred - true` first. `np.where(d < 0, early, late)`
# picks, element by element, the early or the late branch, each divided by its
# own constant; then sum.
#
# </details>


# %%
def my_nasa_score(pred, true, a_early=13.0, a_late=10.0):
    raise NotImplementedError("Exercise: write your answer here")


# %%
test_rng = np.random.default_rng(7)
random_pred = true_rul + test_rng.normal(0, 15, size=true_rul.shape)
for name, pred in [("cautious", cautious), ("sharp", sharp), ("random", random_pred)]:
    mine, theirs = my_nasa_score(pred, true_rul), metrics.nasa_score(pred, true_rul)
    assert np.isclose(mine, theirs, rtol=1e-9), (
        f"{name}: you get {mine:.4f}, rulkit gets {theirs:.4f}. Is d = pred - true (not true - pred)? "
        "Early (d < 0) uses 13, late (d >= 0) uses 10, and the -1 is inside each branch."
    )
# two engines, one 20 cycles early and one 20 cycles late, under other constants
pair_pred, pair_true = np.array([0.0, 40.0]), np.array([20.0, 20.0])
for a_early, a_late in [(20.0, 40.0), (10.0, 13.0)]:
    mine = my_nasa_score(pair_pred, pair_true, a_early=a_early, a_late=a_late)
    want = np.expm1(20 / a_early) + np.expm1(20 / a_late)
    assert np.isclose(mine, want, rtol=1e-9), (
        f"with a_early = {a_early} and a_late = {a_late} you get {mine:.4f}, expected {want:.4f}: "
        "divide early errors by a_early and late ones by a_late, not by fixed numbers"
    )
print("Correct: my_nasa_score agrees with rulkit on all three models, and takes any constants")

# %% [markdown]
# ### Exercise 2: GABA's weights for any number of tasks
#
# The simplified GABA weights of two tasks sum to 2; with $K$ tasks they sum to
# $K$, each proportional to the inverse of its task's gradient norm, so that every
# task pulls with the same weighted norm $\lambda_t g_t$. Write
# `my_gaba_weights(norms)`: the $K$ weights (a NumPy array) for a list of $K$ norms,
# without calling rulkit (`rulkit.reference.gaba_weights` takes two tasks only). The
# cell applies it to the norms $g_\text{rul} = 12.0$ and $g_\text{hs} = 0.3$; the
# check compares those with rulkit and then tries three tasks.
#
# <details><summary>Hint</summary>
#
# Each weight is proportional to the inverse of its own norm,
# $\lambda_t = c / g_t$. Choose $c$ so that the $K$ weights sum to $K$. For two
# tasks, simplify: the RUL weight ends up with the *health* norm in its numerator.
#
# </details>


# %%
def my_gaba_weights(norms):
    raise NotImplementedError("Exercise: write your answer here")


g_rul_ex, g_hs_ex = 12.0, 0.3
lam_rul, lam_hs = my_gaba_weights([g_rul_ex, g_hs_ex])
print(f"lam_rul = {lam_rul:.5f}, lam_hs = {lam_hs:.5f}")

# %%
expected = reference.gaba_weights(g_rul_ex, g_hs_ex)
assert np.isclose(lam_rul + lam_hs, 2.0), (
    f"the weights should sum to 2, yours sum to {lam_rul + lam_hs:.4f}"
)
assert np.allclose([lam_rul, lam_hs], expected, rtol=1e-6), (
    f"expected {expected[0]:.5f} and {expected[1]:.5f}: the RUL weight is proportional to 1/g_rul, "
    "so it is the *health* norm that appears in its numerator"
)
assert np.isclose(lam_rul * g_rul_ex, lam_hs * g_hs_ex), (
    "the weighted gradient norms should be equal"
)
norms3 = np.array([12.0, 0.3, 1.5])
lam3 = np.asarray(my_gaba_weights(norms3), dtype=np.float64)
assert lam3.shape == (3,), f"three norms need three weights, you return shape {lam3.shape}"
assert np.isclose(lam3.sum(), 3.0), f"three weights sum to 3, yours sum to {lam3.sum():.4f}"
assert np.allclose(lam3 * norms3, lam3[0] * norms3[0]), (
    f"the weighted norms lam_t * g_t should all be equal, yours are {(lam3 * norms3).round(4)}"
)
print(
    f"Correct: both tasks now pull with norm {lam_rul * g_rul_ex:.4f}; "
    f"with three tasks each pulls with {lam3[0] * norms3[0]:.4f}"
)

# %% [markdown]
# ### Exercise 3 (experiment): who is on the candidate list?
#
# $J$ normalises each measure over the *candidates*, so the list of candidates is
# part of the decision rule. Experiment with it on the book's FD002/FD004 means
# (`methods`, `rmse_b`, `nasa_b` above), in three steps.
#
# 1. **Predict** first, in the cell below, before running anything:
#    (a) where $J$ switches when only AMNL and GRACE are candidates (GABA dropped),
#    and when only AMNL and GABA are; (b) what happens to the switch from AMNL to
#    GABA if a fourth method joins that is worse than all three on both measures
#    (RMSE 9.0, NASA 600), so that it can never be chosen.
# 2. Write `first_switch(candidates, figures)`: the $w$ of the first switch point of
#    $J$ among the method names in `candidates`, with `figures` a dict
#    `{method: (rmse, nasa)}`, or `None` when one method wins for every $w$. Use
#    `regimes.switch_points`. The cell after the check runs the experiment.
# 3. **Explain** what you see against your prediction.
#
# <details><summary>Hint</summary>
#
# With only two candidates, min-max normalisation turns every measure into 0 (the
# better method) and 1 (the worse). Write down the two lines $J(w)$ that this
# gives for a trade-off (one method better on RMSE, the other on NASA). For part
# (b), look at what the new method does to the *span* (worst minus best) that each
# measure is divided by.
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Write your answer here.*


# %%
def first_switch(candidates, figures):
    raise NotImplementedError("Exercise: write your answer here")


# %%
figures_b = dict(zip(methods, zip(rmse_b, nasa_b)))
checks = {
    ("amnl", "gaba", "grace"): switches[0].w,
    ("amnl", "grace"): 0.5,
    ("gaba", "amnl"): 0.5,
}
for candidates, want in checks.items():
    got = first_switch(candidates, figures_b)
    assert got is not None and np.isclose(got, want, atol=1e-9), (
        f"candidates {candidates}: expected the first switch at w = {want:.4f}, got {got}. "
        "Take the figures of the candidates only, in the order of `candidates`, and return the "
        "w of the first Switch that regimes.switch_points gives."
    )
dominant = {"a": (7.0, 200.0), "b": (8.0, 300.0)}
assert first_switch(["a", "b"], dominant) is None, (
    "when one method is better on both measures it wins for every w: return None, not a number"
)
print("Correct: first_switch finds the switch point of any candidate set")

# %%
worse = {**figures_b, "worse": (9.0, 600.0)}
for candidates in [
    ["amnl", "gaba", "grace"],
    ["amnl", "grace"],
    ["amnl", "gaba"],
    ["gaba", "grace"],
    ["amnl", "gaba", "grace", "worse"],
]:
    found = regimes.switch_points(
        candidates, [worse[m][0] for m in candidates], [worse[m][1] for m in candidates]
    )
    steps = ", ".join(f"{sw.before}->{sw.after} at w = {sw.w:.4f}" for sw in found)
    print(f"{' + '.join(candidates):<28} {steps or 'no switch'}")

# %% [markdown] tags=["answer", "points-2"]
# *Write your answer here.*

# %% [markdown]
# ## Summary
#
# - The NASA score charges more for a late error than for an early one of the same
#   size; a late error of $d$ cycles costs as much as an early one of $1.3\,d$.
# - RMSE and NASA can rank models in opposite order, so "best" needs a stated
#   measure.
# - In the book's published numbers, GRACE dominates on FD001. On the FD002/FD004
#   mean, AMNL, GABA and GRACE form a trade-off front.
# - $J(w)$ with min-max normalisation turns the ratio of late to early costs into a
#   choice. On the book's own means the order of the choices matches its
#   deployment regimes, but the switch points lie elsewhere.
# - The worked example of section 13.4, run faithfully, gives
#   AMNL 13.1216, GABA 2.2952 and GRACE 2.5810 in NumPy. Each gap to the printed
#   figures traces to one specific input. PyTorch's seed draws different inputs
#   and moves AMNL and GRACE again.
# - `rulkit.reference` is the NumPy oracle; `AMNLLoss`, `GABALoss` and `GRACELoss`
#   in `rulkit.losses` are the book's losses as drop-in PyTorch modules.
# - Three pitfalls: GRACE costs one backward pass more per step than the baseline
#   in rulkit (two in the book's recipe), so it is not free; norms that are not
#   detached add a second-order term to the update and break a moving average; a
#   fixed task weight on top of GABA is cancelled (before the measurement) or
#   breaks equal pull (after it).

# %% [markdown]
# ## Check your understanding
#
# On the book's FD001 figures, GRACE dominates the other methods. Does the choice
# of $w$ matter there, and what does $J$ of the chosen method equal?

# %% [markdown] tags=["answer", "points-1"]
# *Write your answer here.*

# %% [markdown]
# An operator tells you that a late maintenance call costs four times as much as an
# early one. Which $w$ is that, and which method does $J$ choose on the book's
# FD002/FD004 means? How far is that $w$ from a switch point?

# %% [markdown] tags=["answer", "points-1"]
# *Write your answer here.*
