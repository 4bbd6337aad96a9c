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
# early one. This chapter makes the trade-off concrete and turns it into a
# choice of method for a deployment. The second half of the book's chapter 13, the
# three losses in code (the worked example, the drop-in modules and three
# pitfalls), is the next notebook, `07_losses_in_code`.
#
# **Learning goals**
#
# - explain the asymmetry of the NASA score and compute it for any error;
# - build an example in which RMSE and the NASA score rank two models in
#   opposite order;
# - read an RMSE-NASA Pareto picture and tell dominated methods from trade-offs;
# - choose a method for a deployment with $J(w)$ and know what the weight $w$
#   means in costs, and why the candidate list is part of the choice.

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
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from rulkit import metrics, published, regimes
from rulkit.plots import METHOD_COLORS, pareto_front
from rulkit.report import config_label, results_paragraph, run_set
from rulkit.results import load_measured

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
#
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
RECIPES = ("full", "tuned", "lean")
records, records_from = load_measured(RESULTS_DIR)
print("results read:", run_set(records))  # tests/test_results_current.py checks this line
# the book's recipe and the tuned and lean ones (chapter "Training it well"); ablation
# runs and the single-task reference network are not methods of this chapter
rows = [
    {
        "profile": config_label(r),
        "subset": r["subset"],
        "method": r["method"],
        "rmse": r.get("test", {}).get("rmse"),
        "nasa": r.get("test", {}).get("nasa"),
    }
    for r in records
    if config_label(r) in RECIPES
]
measured = pd.DataFrame(rows, columns=["profile", "subset", "method", "rmse", "nasa"]).dropna()
if measured.empty:
    print("No measured results yet: this chapter shows the book's figures only.")
    print(f"Searched {records_from}.")
else:
    measured = measured.groupby(["profile", "subset", "method"], as_index=False).agg(
        seeds=("rmse", "size"), rmse=("rmse", "mean"), nasa=("nasa", "mean")
    )
    print(f"{len(rows)} runs of these recipes from {records_from}; seed means (measured here):")
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
for recipe in RECIPES:
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
# drawn from. This project's runs of the book's recipe (the `full` profile) cover
# FD001 only, so FD001 is where figures measured under that recipe can enter the
# choice (FD002 and FD004 follow below, under the `lean` recipe). Below,
# $J(w)$ on the book's FD001 figures and, where there are any, on the seed means
# measured here, each panel titled with its source, followed by the method $J$
# chooses on each stretch of $w$.


# %%
def show_choices(table, measured_title=None):
    """J(w) of each source of ``table`` in its own panel, then the method J picks on each
    stretch of w; returns the sources."""
    sources = list(dict.fromkeys(table.source))
    fig, axes = plt.subplots(len(sources), 1, figsize=(8, 3.6 * len(sources)), squeeze=False)
    for ax, source in zip(axes[:, 0], sources):
        title = measured_title if source == regimes.SOURCE_MEASURED else None
        regimes.chooser_figure(table, source=source, ax=ax, title=title)
    plt.show()
    for source in sources:
        part = table[table.source == source]
        spans = regimes.choices(list(part.method), part.rmse, part.nasa)
        print(
            f"{source}: " + ", ".join(f"{m} for w in [{lo:.3f}, {hi:.3f}]" for lo, hi, m in spans)
        )
    return sources


fd001 = regimes.regime_table(RESULTS_DIR, subset="FD001")
print(fd001.attrs["figures_from"])
print(fd001[["source", "method", "seeds", "rmse", "nasa"]].round(2).to_string(index=False))
sources = show_choices(fd001)

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
# ### The FD002/FD004 choice under a recipe that trains
#
# The runs of the book's recipe stop at FD001, but the `lean` recipe of the chapter
# "Training it well" has trained the four methods on FD002 and FD004, five seeds
# each. Its seed means over the two subsets, the pair the book's regimes are drawn
# from, go into $J$ next to the book's means. The two sources differ in recipe and
# protocol, so compare the choices they lead to, not the numbers.

# %%
lean_pair = regimes.regime_table(RESULTS_DIR, subset="FD002+FD004", profile="lean")
print(lean_pair.attrs["figures_from"])
shown = ["source", "method", "seeds", "rmse", "nasa", "rmse_std", "nasa_std"]
print(lean_pair[shown].round(2).to_string(index=False))
show_choices(lean_pair, f"J(w): {regimes.SOURCE_MEASURED}, lean recipe, FD002+FD004 (5 seeds)")
measured = lean_pair[lean_pair.source == regimes.SOURCE_MEASURED]
if len(measured):
    rmse_span, nasa_span = np.ptp(measured.rmse), np.ptp(measured.nasa)
    print(f"measured here: RMSE range {rmse_span:.2f}, NASA range {nasa_span:.0f} over the methods")

# %% [markdown]
# Under `lean` the choice collapses. AMNL has both the lowest mean RMSE (14.66) and
# the lowest mean NASA score (824) over FD002 and FD004, so $J$ picks it at every
# $w$, where the book's means switch from AMNL to GABA at $w = 0.487$ and to GRACE at
# 0.820. The margin is thin: GRACE is 0.02 RMSE and 12 NASA points behind, well
# inside the two methods' spread over seeds printed above (0.20 to 0.22 RMSE, 24 to
# 26 NASA), so other seeds could swap the two. The bands of one standard deviation
# fill most of the lower panel because $J$ stretches the 0.17 RMSE and 60 NASA
# points between the best and the worst method to the whole range from 0 to 1. What
# the measured means do not show at all is the book's trade: no method here buys a
# lower NASA score with a higher RMSE, and none comes near halving the NASA score of
# another.

# %% [markdown]
# The same chooser as above, live, on FD001: its source menu switches between the
# book's means and the figures measured here.

# %%
regimes.chooser_chart(fd001)

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
# ### Exercise 2: how much more a late error costs
#
# The section on the NASA score compared a late error of 10 cycles with an early
# one of 13. Now compare errors of the *same* size. Write
# `late_to_early(d, a_early=13.0, a_late=10.0)`: the score of one engine predicted
# `d` cycles late divided by the score of one predicted `d` cycles early, with the
# two time constants as arguments, using NumPy only. The check tries several sizes
# and other constants; the cell then prints the ratio for errors of 1 to 40
# cycles. Is a late error a fixed multiple of an early one?
#
# <details><summary>Hint</summary>
#
# Both branches have the form $e^{|d|/a} - 1$, with their own constant $a$.
# `np.expm1(x)` computes $e^x - 1$ without losing digits when $x$ is small.
#
# </details>


# %%
def late_to_early(d, a_early=13.0, a_late=10.0):
    raise NotImplementedError("Exercise: write your answer here")


# %%
for d, a_early, a_late in [
    (10.0, 13.0, 10.0),
    (40.0, 13.0, 10.0),
    (0.001, 13.0, 10.0),
    (20.0, 20.0, 40.0),
]:
    want = np.expm1(d / a_late) / np.expm1(d / a_early)
    got = late_to_early(d, a_early, a_late)
    assert np.isclose(got, want, rtol=1e-6), (
        f"d = {d}, a_early = {a_early}, a_late = {a_late}: you get {got:.4f}, expected {want:.4f}. "
        "Late errors use a_late, early ones a_early, and both scores are e^(|d|/a) - 1."
    )
sizes = [1, 5, 10, 20, 40]
print("late / early cost for errors of", sizes, "cycles:")
print(np.round([late_to_early(d) for d in sizes], 3))

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
# - The asymmetry grows with the error: a late error costs 1.315 times an early one
#   of the same size at 1 cycle and 2.59 times at 40 cycles (Exercise 2).
# - RMSE and NASA can rank models in opposite order, so "best" needs a stated
#   measure.
# - In the book's published numbers, GRACE dominates on FD001. On the FD002/FD004
#   mean, AMNL, GABA and GRACE form a trade-off front. Measured here under the `lean`
#   recipe, that front is gone: AMNL is lowest on both scores, by small margins.
# - $J(w)$ with min-max normalisation turns the ratio of late to early costs into a
#   choice. On the book's own means the order of the choices matches its
#   deployment regimes, but the switch points lie elsewhere.
# - The candidate list is part of the rule: a method that can never be chosen
#   still moves the switch points (Exercise 3).
#
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
