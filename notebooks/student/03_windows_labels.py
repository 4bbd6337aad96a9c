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
# # Chapter 7: Windows, RUL targets and health labels
#
# A network does not read a whole engine history at once. It reads a short,
# fixed-length window of the most recent cycles and answers two questions
# about the last one: how many cycles are left (the RUL, a regression target),
# and is the engine normal, degrading or critical (the health state, a
# classification target). How the windows are cut, how the RUL target is
# shaped and how the test engines are turned into inputs decide what the
# model can learn and what the reported RMSE means. This notebook takes apart
# the last steps of `rulkit.prepare` and the object it returns.
#
# **Learning goals**
#
# - explain how windows of 30 cycles with stride 1 are cut from each engine and
#   count them with a formula;
# - describe the piecewise-linear RUL target capped at 125 cycles and why it is
#   used;
# - derive the three health classes from the capped RUL (thresholds 80 and 30);
# - explain why the test set has exactly one window per engine and how short
#   test engines are padded;
# - know the difference between the capped and the uncapped test truth;
# - find your way around what `prepare` returns, including the fitted state
#   saved as JSON.

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
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import rulkit
from rulkit.data import HEALTH_CLASSES, SUBSETS, FittedState, health_labels

plt.rcParams["figure.figsize"] = (8, 3.5)

# %% [markdown]
# We prepare all four subsets with the book's defaults (window 30, cap 125,
# thresholds 80/30, 20% of the training engines held out for validation,
# seed 0). Passing the loaded tables to `prepare` lets us reuse them below.

# %%
data_dir = rulkit.fetch_cmapss()
tables = {s: rulkit.load_cmapss(s, data_dir) for s in SUBSETS}
preps = {s: rulkit.prepare(s, tables=tables[s]) for s in SUBSETS}
for s in SUBSETS:
    print(preps[s])

# %% [markdown]
# ## Windows that slide along an engine
#
# Each window holds 30 consecutive cycles of one engine, all 17 features
# (3 settings and 14 sensors, normalised as in chapter 6). The next window
# starts one cycle later (stride 1), so consecutive windows share 29 cycles.
# A window never crosses from one engine into the next. Its targets belong to
# its **last** cycle: the model sees cycles $t-29, \dots, t$ and predicts the
# RUL at cycle $t$, which is exactly the situation in service, where only the
# past is known.
#
# The picture below shows one FD001 training engine: a sensor at the top, and
# below it every 20th window as a bar, with a dot at the cycle whose RUL it
# predicts.

# %%
fd1 = preps["FD001"]
unit = fd1.state.train_units[0]
engine = tables["FD001"].train.query("unit == @unit")
features = fd1.state.transform(engine)
n_cycles = len(engine)
W = fd1.state.window
starts = np.arange(0, n_cycles - W + 1)

fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True, height_ratios=[1, 1.4])
s11 = features[:, fd1.state.feature_names.index("s_11")]
axes[0].plot(engine["cycle"], s11, color="0.4", lw=0.8)
axes[0].axvspan(1, W, color="tab:blue", alpha=0.2, label="first window")
axes[0].axvspan(n_cycles - W + 1, n_cycles, color="tab:red", alpha=0.2, label="last window")
axes[0].set_ylabel("s_11 (z-score)")
axes[0].legend(loc="upper left", fontsize=8)
shown = list(starts[::20]) + [starts[-1]]
for row, start in enumerate(shown):
    axes[1].plot([start + 1, start + W], [row, row], lw=4, color="tab:blue", alpha=0.6)
    axes[1].plot(start + W, row, "o", color="tab:red", ms=4)
axes[1].set_yticks([])
axes[1].set_ylabel("windows")
axes[1].set_xlabel("cycle")
axes[0].set_title(
    f"FD001 engine {unit}: {n_cycles} cycles give {len(starts)} windows (every 20th shown)"
)
fig.tight_layout()
plt.show()

# %% [markdown]
# An engine with $T$ recorded cycles has $T - W + 1$ windows of length $W$: the
# first starts at cycle 1, the last ends at cycle $T$. We check this, and that
# the first window of the engine holds exactly its first 30 normalised rows.

# %%
# NBVAL_CHECK_OUTPUT
in_engine = fd1.train.unit == unit
print(f"engine {unit}: T = {n_cycles}, T - W + 1 = {n_cycles - W + 1}, windows = {in_engine.sum()}")
first = fd1.train.X[in_engine][0]
print("first window equals rows 1..30 of the engine:", np.array_equal(first, features[:W]))
print("shape of one window:", first.shape)

# %% [markdown]
# ## How many windows each subset gives
#
# Summed over all training engines the formula gives the window counts of the
# book: FD001 17,731; FD002 46,219; FD003 21,820; FD004 54,028. `prepare` splits
# them by engine into a training and a validation part, so the two parts must
# add up to these totals.

# %%
rows = {}
for s in SUBSETS:
    p = preps[s]
    life = tables[s].train.groupby("unit")["cycle"].max()
    rows[s] = {
        "train engines": len(p.state.train_units),
        "val engines": len(p.state.val_units),
        "train windows": len(p.train),
        "val windows": len(p.val),
        "train + val": len(p.train) + len(p.val),
        "sum of T - 29": int((life - W + 1).sum()),
    }
counts = pd.DataFrame.from_dict(rows, orient="index")

# %%
# NBVAL_CHECK_OUTPUT
print(counts.to_string())
print()
for s in SUBSETS:
    print(f"{s}: train+val windows = {counts.loc[s, 'train + val']:,}")

# %% [markdown]
# The arrays are large because neighbouring windows overlap: each row of the
# table is copied into up to 30 windows. For FD004 the training windows alone
# take about 88 MB as float32.

# %%
# NBVAL_CHECK_OUTPUT
for s in SUBSETS:
    X = preps[s].train.X
    print(f"{s}: train X {X.shape} {X.dtype}, {X.nbytes / 1e6:6.1f} MB")

# %% [markdown]
# ## The RUL target, capped at 125
#
# For a training engine the true RUL at cycle $t$ is $T - t$: a straight line
# from $T-1$ down to 0. Early in life that target is not learnable: chapter 5
# showed that the sensors are flat for a long time, so an engine with a long
# life ahead looks the same as one with half of it left. Asking the model to tell
# them apart only adds noise to the loss. The common remedy is a
# **piecewise-linear** target: constant at $R_{max} = 125$ while the engine is
# healthy, then falling linearly to 0,
#
# $$ y_t = \min(T - t,\ 125). $$
#
# The figure shows the true and the capped target along the same engine, and
# the targets `prepare` attached to its windows (one per window, at its last
# cycle).

# %%
true_rul = n_cycles - engine["cycle"].to_numpy()
window_end_cycle = starts + W  # cycle number of each window's last row
cap = fd1.state.rul_cap

fig, ax = plt.subplots()
ax.plot(engine["cycle"], true_rul, "--", color="0.5", label="true RUL  $T - t$")
ax.plot(engine["cycle"], np.minimum(true_rul, cap), color="tab:blue", lw=2, label="capped target")
ax.plot(
    window_end_cycle,
    fd1.train.y_rul[in_engine],
    ".",
    color="tab:red",
    ms=3,
    label="y_rul of windows",
)
ax.axvspan(1, W - 1, color="0.9", label="no window ends here")
ax.set_xlabel("cycle")
ax.set_ylabel("RUL (cycles)")
ax.set_title(f"FD001 engine {unit}: target with cap {cap:.0f}")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The first 29 cycles get no target of their own: no complete window ends
# there. How many windows sit on the plateau depends on the engine's lifetime;
# over each subset it is a large share.

# %%
# NBVAL_CHECK_OUTPUT
for s in SUBSETS:
    y = preps[s].train.y_rul
    print(f"{s}: {np.mean(y == cap):6.1%} of training windows have the capped target {cap:.0f}")

# %% [markdown]
# ## Health labels
#
# The second task classifies each window into three health states, read off
# the **capped** RUL with the thresholds 80 and 30:
#
# | class | name | capped RUL $y$ |
# |---|---|---|
# | 0 | normal | $y > 80$ |
# | 1 | degrading | $30 < y \le 80$ |
# | 2 | critical | $y \le 30$ |
#
# The labels add no new information (they are a function of the RUL), but they
# give the network a second, coarser view of the same target, which is what
# the multi-task methods of the later chapters exploit.

# %%
labels = fd1.train.y_health[in_engine]
fig, ax = plt.subplots()
colors = ["tab:green", "tab:orange", "tab:red"]
for k, name in enumerate(HEALTH_CLASSES):
    mask = labels == k
    ax.scatter(
        window_end_cycle[mask], fd1.train.y_rul[in_engine][mask], s=6, color=colors[k], label=name
    )
for threshold in fd1.state.health_thresholds:
    ax.axhline(threshold, color="0.5", lw=0.8, ls=":")
ax.set_xlabel("cycle (last cycle of the window)")
ax.set_ylabel("capped RUL")
ax.set_title(f"FD001 engine {unit}: health label of each window")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Every training engine ends with exactly the same number of degrading and
# critical windows: the windows whose capped RUL is 0..30 (31 windows) are
# critical, those with 31..80 (50 windows) degrading. Only the number of normal
# windows grows with the lifetime. The classes are therefore imbalanced, and
# the imbalance differs between subsets.

# %%
class_counts = pd.DataFrame(
    {s: np.bincount(preps[s].train.y_health, minlength=3) for s in SUBSETS},
    index=list(HEALTH_CLASSES),
).T
per_engine = pd.DataFrame({"unit": fd1.train.unit, "label": fd1.train.y_health})
per_engine = per_engine.groupby("unit")["label"].value_counts().unstack()

# %%
# NBVAL_CHECK_OUTPUT
print(class_counts.to_string())
print("FD001 critical windows per engine:", sorted(int(v) for v in per_engine[2].unique()))
print("FD001 degrading windows per engine:", sorted(int(v) for v in per_engine[1].unique()))

# %%
shares = class_counts.div(class_counts.sum(axis=1), axis=0)
fig, ax = plt.subplots()
x = np.arange(len(SUBSETS))
for k, name in enumerate(HEALTH_CLASSES):
    ax.bar(x + (k - 1) * 0.27, shares[name], 0.27, color=colors[k], label=name)
ax.set_xticks(x, SUBSETS)
ax.set_ylabel("share of training windows")
ax.set_title("Health classes of the training windows")
ax.set_ylim(0, 0.8)
ax.legend(ncols=3)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The test set: one window per engine
#
# A test engine is cut off at some cycle, and the RUL file gives its true RUL
# at exactly that last cycle. That is the only cycle we have an answer for, so
# each test engine contributes **one** window, the one that ends at its last
# recorded cycle. The test RMSE is therefore an average over engines, not over
# windows, and every engine counts once.

# %%
# NBVAL_CHECK_OUTPUT
for s in SUBSETS:
    t = preps[s].test
    print(
        f"{s}: {tables[s].test['unit'].nunique()} test engines -> test X {t.X.shape}, "
        f"shortest engine {t.n_cycles.min()} cycles, "
        f"padded engines {preps[s].info['n_padded_test_engines']}"
    )

# %% [markdown]
# ### Padding the short test engines
#
# Some test engines of FD002 (6) and FD004 (11) have fewer than 30 recorded
# cycles, so no full window ends at their last cycle. Dropping them would
# change the test set and make scores incomparable, so `prepare` pads them:
# the missing rows at the front of the window are filled with copies of the
# engine's first row (the design decision of this book). The model then sees a
# flat start followed by the real history.
#
# Here is the shortest test engine of FD004.

# %%
fd4 = preps["FD004"]
i = int(np.argmin(fd4.test.n_cycles))
short_unit, short_len = int(fd4.test.unit[i]), int(fd4.test.n_cycles[i])
window = fd4.test.X[i]
n_pad = W - short_len
raw_rows = fd4.state.transform(tables["FD004"].test.query("unit == @short_unit"))

# %%
# NBVAL_CHECK_OUTPUT
print(f"FD004 test engine {short_unit}: {short_len} cycles, {n_pad} padded rows")
print("padded rows all equal the first real row:", bool((window[:n_pad] == raw_rows[0]).all()))
print("the rest is the engine's history:", np.array_equal(window[n_pad:], raw_rows))

# %%
fig, ax = plt.subplots()
for name in ["s_4", "s_11", "s_15"]:
    ax.plot(np.arange(1, W + 1), window[:, fd4.state.feature_names.index(name)], ".-", label=name)
ax.axvspan(0.5, n_pad + 0.5, color="0.85", label="padding (copies of row 1)")
ax.set_xlabel("position in the window")
ax.set_ylabel("z-score")
ax.set_title(f"FD004 test engine {short_unit}: a padded window")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Capped and uncapped test truth
#
# The RUL file holds the true, uncapped RUL. Some test engines were cut off
# early and still have more than 125 cycles to live. A model trained on capped
# targets has never seen a target above 125, so it rarely predicts much more
# (nothing in the network forbids it: the RUL head's final ReLU bounds the
# prediction from below only). Scored against the uncapped truth it would be
# charged for errors that a capped model can hardly avoid. The book therefore
# scores against the **capped** truth by default
# (`test.y_rul`), as common open benchmarks do, and reports the uncapped score
# (`test.y_rul_uncapped`) as well.

# %%
# NBVAL_CHECK_OUTPUT
for s in SUBSETS:
    t = preps[s].test
    above = int((t.y_rul_uncapped > cap).sum())
    print(
        f"{s}: true RUL up to {t.y_rul_uncapped.max():.0f}, {above:3d} of {len(t)} engines above {cap:.0f}, "
        f"capped mean {t.y_rul.mean():5.1f} vs uncapped mean {t.y_rul_uncapped.mean():5.1f}"
    )

# %%
t2 = preps["FD002"].test
fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(t2.y_rul_uncapped, t2.y_rul, s=10)
ax.plot([0, 200], [0, 200], ":", color="0.5")
ax.set_xlabel("uncapped true RUL (RUL_FD002.txt)")
ax.set_ylabel("capped test target")
ax.set_title("FD002 test engines")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What `prepare` returns
#
# `prepare` returns a `Prepared` object with three `Split`s and the fitted
# state:
#
# - `.train`, `.val`: all windows of the training and validation engines, with
#   `X` (windows, 30, 17) float32, `y_rul` (capped RUL) float32, `y_health`
#   int64 and `unit` (the engine of each window);
# - `.test`: one window per test engine, with the same fields plus
#   `y_rul_uncapped` and `n_cycles` (the recorded length of each engine);
# - `.state`: the `FittedState` of chapter 6;
# - `.info`: a few facts, such as the number of padded test engines.

# %%
# NBVAL_CHECK_OUTPUT
for name in ["train", "val", "test"]:
    split = getattr(fd1, name)
    fields = ["X", "y_rul", "y_health", "unit", "y_rul_uncapped", "n_cycles"]
    parts = [
        f"{f} {getattr(split, f).shape} {getattr(split, f).dtype}"
        for f in fields
        if getattr(split, f) is not None
    ]
    print(f"{name:5s}: " + ", ".join(parts))
print("info:", fd1.info)
print("n_features:", fd1.n_features)

# %% [markdown]
# The state is saved as plain JSON. Anyone can open the file and see every
# fitted number and the engine lists, and check that no test engine was used.
# Loading it back gives an identical state, which can transform new data
# exactly as during training.

# %%
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "state_FD001.json"
    fd1.state.save(path)
    text = path.read_text()
    loaded = FittedState.load(path)

# %%
# NBVAL_CHECK_OUTPUT
stored = json.loads(text)
print("keys:", ", ".join(stored))
print("loaded state equals the original:", loaded == fd1.state)
print("window, cap, thresholds:", stored["window"], stored["rul_cap"], stored["health_thresholds"])
print(
    "engines in the state:",
    len(stored["train_units"]) + len(stored["val_units"]),
    "(all from train_FD001)",
)
same = np.array_equal(
    loaded.transform(tables["FD001"].test), fd1.state.transform(tables["FD001"].test)
)
print("the loaded state transforms the test table identically:", same)

# %% [markdown]
# ## Exercises
#
# The exercises go from easy to harder. Each has a hint, folded away: try without
# it first. The cell after each answer checks it and says what is wrong, if
# anything.

# %% [markdown]
# ### Exercise 1: health labels at the boundaries, for any thresholds
#
# Write `my_health_labels(y, thresholds=(80, 30))` that maps an array of capped
# RUL values to health classes. With the book's thresholds the classes are
# 0 (normal, $y > 80$), 1 (degrading, $30 < y \le 80$) and 2 (critical,
# $y \le 30$); with $K$ thresholds, listed from the highest down, there are
# $K + 1$ classes, and a value equal to a threshold belongs to the class below
# it, as 80 is degrading. Mind the boundaries: the check tries values on and next
# to them, with the book's thresholds and with a finer scale of four classes
# (rulkit's `health_labels` takes exactly two thresholds).
#
# <details><summary>Hint</summary>
#
# Look at one value and walk down the thresholds: each threshold that the value
# does *not* exceed moves it one class further towards critical. Which class does
# $y = 80$ belong to with the book's thresholds?
#
# </details>


# %%
def my_health_labels(y, thresholds=(80, 30)):
    raise NotImplementedError("Exercise: write your answer here")


# %%
edges = np.array([125.0, 81.0, 80.5, 80.0, 30.5, 30.0, 0.0])
mine = np.asarray(my_health_labels(edges))
assert mine.tolist() == [0, 0, 0, 1, 1, 2, 2], (
    f"for y = {edges.tolist()} expected [0, 0, 0, 1, 1, 2, 2], got {mine.tolist()}: "
    "80 itself is degrading and 30 itself is critical"
)
y2 = preps["FD002"].train.y_rul
wrong = int((np.asarray(my_health_labels(y2)) != health_labels(y2)).sum())
assert wrong == 0, f"{wrong} FD002 training windows get a different label than rulkit's"
finer = np.asarray(my_health_labels([125.0, 100.0, 60.5, 60.0, 20.0, 0.0], (100, 60, 20)))
assert finer.tolist() == [0, 1, 1, 2, 3, 3], (
    f"with the thresholds (100, 60, 20) expected the classes [0, 1, 1, 2, 3, 3], got "
    f"{finer.tolist()}: use the thresholds you are given, as many as there are"
)
print(f"Correct: your labels agree with rulkit's on all {len(y2):,} FD002 training windows.")

# %% [markdown]
# ### Exercise 2: the targets of one engine
#
# An engine has `n_cycles` recorded cycles and is cut into windows of length
# `window` with stride 1. Return the array of capped RUL targets of its windows,
# in order (first window first). You need two things from this chapter: which
# cycle each window ends at, and the capped target of that cycle.
#
# <details><summary>Hint</summary>
#
# The first window ends at cycle `window`, the last at cycle `n_cycles`, so
# `np.arange(window, n_cycles + 1)` lists the last cycles. The target at cycle
# $t$ is $\min(T - t, \text{cap})$; `np.minimum` works on whole arrays.
#
# </details>


# %%
def window_targets(n_cycles, window=30, cap=125.0):
    raise NotImplementedError("Exercise: write your answer here")


# %%
mine = np.asarray(window_targets(n_cycles))
expected = fd1.train.y_rul[in_engine]
assert mine.shape == expected.shape, (
    f"engine {unit} has {len(expected)} windows, you returned {len(mine)} targets: "
    "the windows end at cycles 30, 31, ..., T"
)
assert mine[-1] == 0, "the last window ends at the failure cycle, so its target is 0"
assert np.allclose(mine, expected), (
    "your targets differ from rulkit's: the target is min(T - t, 125) with t the window's last cycle"
)
short = np.asarray(window_targets(40, window=30, cap=5.0))
assert short.tolist() == [5.0] * 5 + [5.0, 4.0, 3.0, 2.0, 1.0, 0.0], (
    f"for a 40-cycle engine, window 30 and cap 5 you return {short.tolist()}: "
    "use the window and cap arguments, not the book's defaults"
)
print(f"Correct: your {len(mine)} targets for engine {unit} equal rulkit's.")

# %% [markdown]
# ### Exercise 3: pad a short engine
#
# Given the normalised rows of one test engine, an `(n, F)` array, return its
# last window of length 30: the last 30 rows, or, if the engine is shorter, all
# its rows preceded by copies of its first row.
#
# <details><summary>Hint</summary>
#
# `rows[:1]` is the first row with its 2-D shape kept; `np.repeat(rows[:1], k,
# axis=0)` gives `k` copies of it, and `np.concatenate` puts the padding in front
# of the real rows. Handle the long engine first: `rows[-window:]`.
#
# </details>


# %%
def last_window(rows, window=30):
    raise NotImplementedError("Exercise: write your answer here")


# %%
mine = np.asarray(last_window(raw_rows))
assert mine.shape == (W, fd4.n_features), (
    f"expected shape ({W}, {fd4.n_features}), got {mine.shape}"
)
assert np.array_equal(mine, fd4.test.X[i]), (
    f"your window for FD004 test engine {short_unit} ({short_len} cycles) differs from rulkit's: "
    "pad at the front with copies of the first row"
)
long_rows = fd4.state.transform(tables["FD004"].test.query("unit == 1"))
assert np.array_equal(np.asarray(last_window(long_rows)), fd4.test.X[0]), (
    "for an engine longer than the window, return its last 30 rows"
)
print(f"Correct: your padded window for FD004 test engine {short_unit} equals rulkit's.")

# %% [markdown]
# ### Exercise 4 (experiment): a lower cap and a longer window
#
# The window length 30 and the cap 125 are choices, and `prepare` takes both as
# arguments (`window=...`, `rul_cap=...`). Before changing them, predict what
# happens on FD001 (training and validation windows together):
#
# 1. with the cap lowered from 125 to 100 (window 30): the number of windows, the
#    number of windows in each health class, and the share of windows whose target
#    sits on the cap;
# 2. with windows of 40 cycles (cap 125): the same quantities, and the number of
#    test engines that need padding.
#
# Write your prediction in the next cell, with a reason for each, **before** you
# run anything. Then complete the code cell: prepare FD001 twice more, with the
# two changed settings, and collect `summarise(...)` of each preparation in the
# dictionary `experiment`. The cell prints the three rows side by side. Finally,
# explain in the last cell what matched your prediction and what did not.
#
# <details><summary>Hint</summary>
#
# `rulkit.prepare("FD001", tables=tables["FD001"], rul_cap=100)` reuses the loaded
# tables, so each call takes a second or two. For the prediction: does the cap
# change where the windows are cut? Are the thresholds 80 and 30 below or above
# both caps? A window of 40 cycles ends at cycle 40 at the earliest: what happens
# to the engine's first windows, and to a test engine with fewer than 40 cycles?
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Write your answer here.*


# %%
def summarise(prep):
    """Window count, health classes, share at the cap and padded test engines of one run."""
    y = np.concatenate([prep.train.y_rul, prep.val.y_rul])
    health = np.concatenate([prep.train.y_health, prep.val.y_health])
    normal, degrading, critical = np.bincount(health, minlength=3)
    return {
        "window": prep.state.window,
        "cap": prep.state.rul_cap,
        "windows": len(y),
        "normal": int(normal),
        "degrading": int(degrading),
        "critical": int(critical),
        "at cap": round(float(np.mean(y == prep.state.rul_cap)), 3),
        "padded test engines": prep.info["n_padded_test_engines"],
    }


raise NotImplementedError("Exercise: write your answer here")
print(pd.DataFrame.from_dict(experiment, orient="index").to_string())

# %%
rows_seen = {(row["window"], row["cap"]) for row in experiment.values()}
for setting in [(30, 125.0), (30, 100.0), (40, 125.0)]:
    assert setting in rows_seen, (
        f"no row with window {setting[0]} and cap {setting[1]:.0f}: prepare FD001 with "
        "rul_cap=100, and separately with window=40, and summarise each"
    )
for row in experiment.values():
    if (row["window"], row["cap"]) == (30, 100.0):
        check = summarise(rulkit.prepare("FD001", tables=tables["FD001"], rul_cap=100))
    elif (row["window"], row["cap"]) == (40, 125.0):
        check = summarise(rulkit.prepare("FD001", tables=tables["FD001"], window=40))
    else:
        check = summarise(preps["FD001"])
    assert row == check, (
        f"the row for window {row['window']}, cap {row['cap']} is not summarise(...)"
    )
print("Correct: the three settings are measured. Now compare them with your prediction.")

# %% [markdown] tags=["answer", "points-2"]
# *Write your answer here.*

# %% [markdown]
# ## Check your understanding
#
# 1. Suppose the cap were 60 instead of 125, with the thresholds still 80 and 30.
#    What would the health labels of the training windows look like, and what
#    would that do to the health task?

# %% [markdown] tags=["answer"]
# *Write your answer here.*

# %% [markdown]
# 2. The test RMSE of a model is an average over test engines, one window each,
#    although the true RUL of a test engine is known at every one of its cycles,
#    not only at the last. How is it known there, and why not score every window
#    of every test engine?

# %% [markdown] tags=["answer"]
# *Write your answer here.*
