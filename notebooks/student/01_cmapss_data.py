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
# # Chapter 5: The C-MAPSS turbofan data
#
# Every number this book reports, from an RMSE to a NASA score, is measured on
# NASA's C-MAPSS data set: simulated turbofan engines that run until they fail.
# Before we build a model we need to know what the files hold, how the four
# subsets differ, and which of the 21 sensors carry any information at all. A
# model can only learn what the data shows it, and a wrong assumption about the
# data (say, that every subset has one flight regime) shows up much later as a
# puzzling error. This notebook looks at the raw tables and lets the data justify
# the choices the pre-processing of chapters 6 and 7 makes.
#
# **Learning goals**
#
# - know what the `train_`, `test_` and `RUL_` files of a subset contain and how
#   they fit together;
# - describe the four subsets by their operating conditions, fault modes, fleet
#   sizes and engine lifetimes;
# - show from the data why seven of the 21 sensors are dropped;
# - recognise one versus six operating conditions in the settings;
# - read sensor trajectories against cycles-to-failure.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import rulkit
from rulkit.data import DROPPED_SENSORS, KEPT_SENSORS, SENSORS, SETTINGS, SUBSETS

plt.rcParams["figure.figsize"] = (8, 3.5)

# %% [markdown]
# ## Getting the files
#
# C-MAPSS is distributed by NASA's Prognostics Center of Excellence as a zip
# archive with twelve text files, three per subset. `rulkit.fetch_cmapss()`
# makes sure they are on disk and returns their folder:
#
# - it looks in the folder named by the environment variable `RULKIT_DATA_DIR`
#   if that is set, otherwise in a per-user cache (`~/.cache/rulkit/CMAPSSData`);
# - if all twelve files are already there (plain `.txt` or gzip-compressed
#   `.txt.gz`), it downloads nothing;
# - otherwise it downloads the archive once, checks the row count of every file,
#   and only then moves the files into place, so an interrupted download never
#   leaves half a data set behind.
#
# On a machine without internet access, copy the files into a folder and point
# `RULKIT_DATA_DIR` at it before starting Python.

# %%
data_dir = rulkit.fetch_cmapss()

# %%
# NBVAL_CHECK_OUTPUT
# The folder's path differs between machines, so we list only the file names
# (without the .txt / .txt.gz ending, which also differs).
names = sorted({p.name.split(".")[0] for p in data_dir.iterdir() if "_FD00" in p.name})
print(len(names), "files")
for subset in SUBSETS:
    print(subset, [n for n in names if n.endswith(subset)])

# %% [markdown]
# ## What the three files of a subset hold
#
# - `train_FD00x.txt`: complete histories. Each engine starts in a healthy (but
#   individually worn) state and is recorded cycle by cycle **until it fails**. Its
#   last row is its failure cycle, so the remaining useful life (RUL) of every
#   row is known: last cycle minus current cycle.
# - `test_FD00x.txt`: the same kind of histories, but **cut off at some point
#   before failure**. The model sees the engine up to its last recorded cycle.
# - `RUL_FD00x.txt`: one number per test engine, the true RUL at its last
#   recorded cycle. This is the answer key; it is never used for training.
#
# Each row of a train or test file has 26 numbers: the engine (`unit`), the
# cycle, three operating settings and 21 sensor readings. `load_cmapss` reads
# the three files, names the columns and checks that engines and cycles are
# numbered consistently.

# %%
tables = {subset: rulkit.load_cmapss(subset, data_dir) for subset in SUBSETS}
fd1 = tables["FD001"]
print(fd1)

# %%
# NBVAL_CHECK_OUTPUT
print(fd1.train.iloc[:5, :9].round(4).to_string())
print("columns:", len(fd1.train.columns))

# %% [markdown]
# A test engine and its answer key belong together by position: the i-th
# number of the RUL file belongs to test engine i. Test engine 1 of FD001, for
# example, is observed for 31 cycles and would have failed 112 cycles later.

# %%
# NBVAL_CHECK_OUTPUT
observed = fd1.test.groupby("unit")["cycle"].max()
for unit in (1, 2, 3):
    rul = fd1.test_rul[unit - 1]
    print(
        f"test engine {unit}: observed {observed[unit]:3d} cycles, true RUL {rul:5.1f}, "
        f"would fail at cycle {observed[unit] + rul:.0f}"
    )

# %% [markdown]
# ## The four subsets
#
# The four subsets differ in two ways that matter for modelling:
#
# - **operating conditions**: FD001 and FD003 are flown at one operating point
#   (sea level); FD002 and FD004 mix six, from sea level to 42 thousand feet. The
#   condition changes from one cycle to the next, and it moves every sensor.
# - **fault modes**: in FD001 and FD002 only the high-pressure compressor (HPC)
#   degrades; in FD003 and FD004 either the HPC or the fan can fail.
#
# The fault mode of an engine is not recorded in the files (it comes from NASA's
# documentation), but the number of conditions can be read off the settings:
# the six operating points of FD002/FD004 have distinct altitudes
# (`setting_1`), so rounding it already separates them. The table below is built
# entirely from the loaded tables.

# %%
FAULT_MODES = {"FD001": 1, "FD002": 1, "FD003": 2, "FD004": 2}  # NASA's documentation


def subset_summary(subset):
    t = tables[subset]
    life = t.train.groupby("unit")["cycle"].max()
    test_len = t.test.groupby("unit")["cycle"].max()
    return {
        "conditions": t.train["setting_1"].round().nunique(),
        "fault modes": FAULT_MODES[subset],
        "train rows": len(t.train),
        "train engines": t.train["unit"].nunique(),
        "life min": life.min(),
        "life median": life.median(),
        "life max": life.max(),
        "test rows": len(t.test),
        "test engines": t.test["unit"].nunique(),
        "test < 30 cycles": int((test_len < 30).sum()),
    }


summary = pd.DataFrame.from_dict({s: subset_summary(s) for s in SUBSETS}, orient="index")

# %%
# NBVAL_CHECK_OUTPUT
print(summary.to_string())

# %% [markdown]
# Three things to take from the table:
#
# - FD002 and FD004 have 260 and 249 training engines, against 100 for FD001 and FD003,
#   which partly makes up for the harder, six-condition problem.
# - Engines live between 128 and 543 cycles. A model must therefore cope with
#   histories of very different length.
# - A few test engines are shorter than 30 cycles, the window length chapter 7
#   uses. They will need padding.

# %% [markdown]
# ## Operating settings: one cluster or six
#
# The three settings describe the flight condition (altitude, Mach number and
# throttle resolver angle). On FD001 they wobble by a few thousandths around a
# single point, which is measurement noise, not a change of condition. On FD002
# the same scatter falls into six tight clusters, one per operating condition.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for ax, subset in zip(axes, ["FD001", "FD002"]):
    train = tables[subset].train
    points = ax.scatter(
        train["setting_1"],
        train["setting_2"],
        c=train["setting_3"],
        s=8,
        cmap="viridis",
        vmin=60,
        vmax=100,
    )
    ax.set_title(f"{subset}: {train['setting_1'].round().nunique()} condition(s)")
    ax.set_xlabel("setting_1 (altitude, 1000 ft)")
    ax.set_ylabel("setting_2 (Mach)")
fig.colorbar(points, ax=axes, label="setting_3 (TRA)")
plt.show()

# %% [markdown]
# Note the axes: FD001's cloud spans about 0.02 in altitude, FD002's spans 42.
# The colour is the third setting, the throttle resolver angle (TRA): it is 100
# everywhere except in one FD002 condition, where it is 60.
# In chapter 6 a k-means clustering recovers the six conditions of FD002 and
# FD004 so that each sensor can be normalised within its condition.

# %% [markdown]
# ## The 21 sensors
#
# The sensors are temperatures, pressures, shaft speeds and flow quantities at
# different stations of the engine. Their names below follow the data set's
# original description (Saxena et al., 2008).

# %%
SENSOR_NAMES = {
    "s_1": "T2, fan inlet temperature",
    "s_2": "T24, LPC outlet temperature",
    "s_3": "T30, HPC outlet temperature",
    "s_4": "T50, LPT outlet temperature",
    "s_5": "P2, fan inlet pressure",
    "s_6": "P15, bypass-duct pressure",
    "s_7": "P30, HPC outlet pressure",
    "s_8": "Nf, physical fan speed",
    "s_9": "Nc, physical core speed",
    "s_10": "epr, engine pressure ratio",
    "s_11": "Ps30, HPC outlet static pressure",
    "s_12": "phi, fuel flow / Ps30",
    "s_13": "NRf, corrected fan speed",
    "s_14": "NRc, corrected core speed",
    "s_15": "BPR, bypass ratio",
    "s_16": "farB, burner fuel-air ratio",
    "s_17": "htBleed, bleed enthalpy",
    "s_18": "Nf_dmd, demanded fan speed",
    "s_19": "PCNfR_dmd, demanded corrected fan speed",
    "s_20": "W31, HPT coolant bleed",
    "s_21": "W32, LPT coolant bleed",
}
print("dropped by rulkit:", ", ".join(DROPPED_SENSORS))
print("kept:", len(KEPT_SENSORS), "sensors")

# %% [markdown]
# ## Why seven sensors are dropped
#
# A sensor can only help predict RUL if its reading changes as the engine wears.
# A reading that never changes is a constant, and a constant input teaches the
# model nothing (after normalisation it would even be 0/0). We can test this
# directly: how many distinct values does each sensor take over a whole
# training file, and how large is its standard deviation?
#
# We look at the two single-condition subsets first, because there any
# variation of a sensor must come from wear or noise, not from the flight
# condition.

# %%
rows = {}
for subset in ["FD001", "FD003"]:
    train = tables[subset].train
    rows[f"{subset} std"] = train[SENSORS].std()
    rows[f"{subset} unique"] = train[SENSORS].nunique()
sensor_table = pd.DataFrame(rows)
sensor_table["dropped"] = ["yes" if s in DROPPED_SENSORS else "" for s in SENSORS]

# %%
# NBVAL_CHECK_OUTPUT
print(sensor_table.to_string(float_format=lambda x: f"{x:.4f}"))
print("values of s_6 on FD001:", ", ".join(f"{v:.2f}" for v in sorted(fd1.train["s_6"].unique())))

# %% [markdown]
# On FD001 the picture is clear-cut. Six sensors take exactly one value:
# `s_1` and `s_5` (fan inlet temperature and pressure, fixed by the flight
# condition), `s_18` and `s_19` (demanded speeds, which are set points rather
# than measurements), `s_10` and `s_16`. The seventh, `s_6`, flips between two
# neighbouring values (21.60 and 21.61), one step of the last recorded digit
# rather than a usable trend. Every kept sensor takes at least a dozen values.
# On FD003, `s_6` and `s_10` take 17 and 4 distinct values. They
# are not perfectly flat there (their few levels shift a little as the engines
# wear), but they are quantised so coarsely that they add little to the finely
# resolved sensors. The book drops the same seven sensors on every subset, so
# that all subsets share the same 14 sensor inputs.
#
# A logarithmic bar chart makes the gap visible.

# %%
fig, ax = plt.subplots()
x = np.arange(len(SENSORS))
colors = ["tab:red" if s in DROPPED_SENSORS else "tab:blue" for s in SENSORS]
ax.bar(x - 0.2, sensor_table["FD001 unique"], 0.4, color=colors, label="FD001")
ax.bar(x + 0.2, sensor_table["FD003 unique"], 0.4, color=colors, alpha=0.5, label="FD003")
ax.set_yscale("log")
ax.set_xticks(x, SENSORS, rotation=90)
ax.set_ylabel("distinct values")
ax.set_title("Distinct values per sensor (red: dropped; solid FD001, light FD003)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### The same test on a six-condition subset
#
# On FD002 the raw spread of every sensor is dominated by the condition
# changes, so the whole-file statistics would mislead: `s_1` (fan inlet
# temperature) varies a lot, but only because the engine flies at different
# altitudes. The right question is whether a sensor varies **within** one
# condition. We label each row with its condition by rounding the altitude
# (chapter 6 does this properly with k-means) and count the distinct values per
# condition.

# %%
fd2 = tables["FD002"].train
condition = fd2["setting_1"].round().astype(int).rename("altitude")
unique_per_condition = fd2[SENSORS].groupby(condition).nunique().T
unique_per_condition.columns = [f"alt {a}" for a in unique_per_condition.columns]
unique_per_condition["dropped"] = ["yes" if s in DROPPED_SENSORS else "" for s in SENSORS]

# %%
# NBVAL_CHECK_OUTPUT
print("whole-file std of s_1 on FD002:", f"{fd2['s_1'].std():.2f}")
print(unique_per_condition.to_string())

# %% [markdown]
# Inside each condition the seven dropped sensors take at most three distinct
# values, while every kept sensor takes at least ten. The rule "drop the
# sensors that are (near-)constant" gives the same seven sensors on a
# single-condition and on a six-condition subset.

# %%
# NBVAL_CHECK_OUTPUT
dropped = list(DROPPED_SENSORS)
kept = list(KEPT_SENSORS)
per_cond = unique_per_condition.drop(columns="dropped")
print(
    "max distinct values of a dropped sensor in one condition:", per_cond.loc[dropped].max().max()
)
print("min distinct values of a kept sensor in one condition:   ", per_cond.loc[kept].min().min())

# %% [markdown]
# ## Sensor trajectories towards failure
#
# Plotting a sensor against the cycle number mixes young and old engines, since
# lifetimes differ. Plotting against **cycles to failure** (the negative RUL)
# lines all engines up at their failure point on the right. Here are five FD001
# engines for five kept sensors and one dropped sensor.

# %%
train1 = fd1.train.assign(
    to_failure=fd1.train["cycle"] - fd1.train.groupby("unit")["cycle"].transform("max")
)
units = [1, 2, 3, 4, 5]
fig, axes = plt.subplots(2, 3, figsize=(10, 5), sharex=True)
for ax, sensor in zip(axes.flat, ["s_2", "s_4", "s_7", "s_11", "s_12", "s_6"]):
    for unit in units:
        engine = train1[train1["unit"] == unit]
        ax.plot(engine["to_failure"], engine[sensor], lw=0.8)
    kind = "dropped" if sensor in DROPPED_SENSORS else "kept"
    ax.set_title(f"{sensor} ({SENSOR_NAMES[sensor].split(',')[0]}, {kind})", fontsize=9)
    ax.ticklabel_format(axis="y", useOffset=False)
for ax in axes[1]:
    ax.set_xlabel("cycles to failure")
fig.tight_layout()
plt.show()

# %% [markdown]
# The kept sensors are noisy, but they bend in one direction during the last
# 100 or so cycles: temperatures (`s_2`, `s_4`) and the HPC static pressure
# (`s_11`) rise, while the HPC outlet pressure (`s_7`) and the fuel-flow ratio
# (`s_12`) fall. Early in life the curves are flat: a young engine and a
# middle-aged one look alike. That observation motivates the capped RUL target
# of chapter 7. The dropped sensor `s_6` just flickers between its two values.

# %% [markdown]
# ### Two fault modes, seen in one sensor
#
# FD003 mixes two fault modes, and the data shows it. Compare the HPC outlet
# pressure `s_7` at the end of each engine's life (mean of its last 10 cycles)
# with its start (mean of its first 20 cycles): on FD001 it falls for every
# engine, on FD003 it falls for some engines and rises for the others.

# %%
fd3 = tables["FD003"].train


def end_minus_start(train, sensor):
    grouped = train.groupby("unit")[sensor]
    return grouped.apply(lambda x: x.iloc[-10:].mean() - x.iloc[:20].mean())


# %%
# NBVAL_CHECK_OUTPUT
for subset, train in [("FD001", fd1.train), ("FD003", fd3)]:
    change = end_minus_start(train, "s_7")
    print(
        f"{subset}: s_7 falls for {(change < 0).sum():3d} engines, rises for {(change > 0).sum():3d}"
    )

# %%
change3 = end_minus_start(fd3, "s_7")
fd3_to_failure = fd3["cycle"] - fd3.groupby("unit")["cycle"].transform("max")
fig, ax = plt.subplots()
for unit in range(1, 11):
    engine = fd3["unit"] == unit
    color = "tab:red" if change3[unit] > 0 else "tab:blue"
    ax.plot(fd3_to_failure[engine], fd3.loc[engine, "s_7"], color=color, lw=0.7)
ax.set_xlabel("cycles to failure")
ax.set_ylabel("s_7 (P30)")
ax.set_title("FD003, engines 1-10: s_7 rises (red) or falls (blue) towards failure")
fig.tight_layout()
plt.show()

# %% [markdown]
# A model for FD003 and FD004 must therefore learn that the same sensor can
# move either way as an engine approaches failure, depending on which part
# wears out.

# %% [markdown]
# ## How long engines live
#
# The distribution of lifetimes shows how much history a model gets per engine
# and how varied the targets are. The multi-fault subsets FD003 and FD004 have a
# long right tail: some engines run for more than 500 cycles.

# %%
fig, ax = plt.subplots()
bins = np.arange(120, 560, 20)
for subset in SUBSETS:
    life = tables[subset].train.groupby("unit")["cycle"].max()
    ax.hist(life, bins=bins, histtype="step", lw=1.5, label=subset)
ax.set_xlabel("lifetime of a training engine (cycles)")
ax.set_ylabel("engines")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The test engines are cut off at a random point. Their observed length plus
# their true RUL is the lifetime they would have had; for FD001 it resembles the
# training lifetimes, which is what we expect of engines drawn from the same
# fleet.

# %%
# NBVAL_CHECK_OUTPUT
for subset in SUBSETS:
    t = tables[subset]
    observed = t.test.groupby("unit")["cycle"].max().to_numpy()
    total = observed + t.test_rul
    train_life = t.train.groupby("unit")["cycle"].max()
    print(
        f"{subset}: median training lifetime {train_life.median():6.1f}, "
        f"median test observed {np.median(observed):6.1f} + true RUL {np.median(t.test_rul):5.1f}, "
        f"median test lifetime {np.median(total):6.1f}"
    )

# %% [markdown]
# ## Exercises

# %% [markdown]
# ### Exercise 1: lifetimes of the FD003 training engines
#
# Return a pandas Series indexed by engine number whose values are the
# lifetimes (last recorded cycle) of the FD003 training engines.
#
# <details><summary>Hint</summary>
#
# Every engine's history starts at cycle 1 and ends at its failure, so its
# lifetime is its largest `cycle`. Group the rows by `unit`.
#
# </details>


# %%
def lifetimes(train):
    raise NotImplementedError("Exercise: write your answer here")


life3 = lifetimes(tables["FD003"].train)

# %%
assert len(life3) == 100, f"FD003 has 100 training engines, your Series has {len(life3)} entries"
assert (life3.min(), life3.max()) == (145, 525), (
    f"FD003 lifetimes range from 145 to 525 cycles, you found {life3.min()} to {life3.max()}: "
    "did you take the number of rows or the last cycle of each engine?"
)
assert life3.sum() == len(tables["FD003"].train), (
    "the lifetimes should add up to the number of rows of the training file "
    "(every engine starts at cycle 1)"
)
print(f"Correct: FD003's 100 training engines live {life3.min()} to {life3.max()} cycles")

# %% [markdown]
# ### Exercise 2: find the near-constant sensors
#
# Write `near_constant(train, max_unique=2)`: the sorted list of the sensors that
# take **at most `max_unique`** distinct values over a training table. On FD001,
# compare the result with `rulkit.data.DROPPED_SENSORS`; the check also tries other
# limits on a small made-up table, where the dropped sensors are not the answer.
#
# <details><summary>Hint</summary>
#
# `DataFrame.nunique()` counts the distinct values of every column at once;
# select the columns in `SENSORS` first, then keep the names whose count is at
# most `max_unique`.
#
# </details>


# %%
def near_constant(train, max_unique=2):
    raise NotImplementedError("Exercise: write your answer here")


found = near_constant(fd1.train)
found

# %%
assert set(found) == set(DROPPED_SENSORS), (
    f"expected the seven dropped sensors {sorted(DROPPED_SENSORS)}, got {found}. "
    f"Missing: {sorted(set(DROPPED_SENSORS) - set(found))}, "
    f"extra: {sorted(set(found) - set(DROPPED_SENSORS))}"
)
made_up = pd.DataFrame({s: np.arange(6.0) for s in SENSORS})  # every sensor varies...
made_up["s_3"] = 7.0  # ...but s_3 takes one value,
made_up["s_9"] = [1.0, 2.0] * 3  # s_9 two
made_up["s_14"] = [1.0, 2.0, 3.0] * 2  # and s_14 three
for max_unique, want in ((1, ["s_3"]), (2, ["s_3", "s_9"]), (3, ["s_3", "s_9", "s_14"])):
    got = near_constant(made_up, max_unique)
    assert sorted(got) == sorted(want), (
        f"on the made-up table with max_unique={max_unique} you return {got}, expected {want}: "
        "count the distinct values of every sensor of the table you are given"
    )
print("Correct: the near-constant sensors of FD001 are exactly the dropped ones")

# %% [markdown]
# ### Exercise 3: when would a test engine have failed?
#
# For every FD001 test engine, compute the cycle at which it would have failed:
# its last observed cycle plus its true RUL from the RUL file. Return a NumPy
# array in engine order.
#
# <details><summary>Hint</summary>
#
# The last observed cycle of each test engine comes from `t.test`, grouped by
# `unit`; the true RULs are `t.test_rul`, one per engine in the same order.
#
# </details>


# %%
def failure_cycles(t):
    raise NotImplementedError("Exercise: write your answer here")


fail1 = failure_cycles(fd1)

# %%
fail1 = np.asarray(fail1)
assert fail1.shape == (100,), f"one value per test engine expected (100), got shape {fail1.shape}"
assert fail1[0] == 143, (
    f"test engine 1 is observed for 31 cycles and has a true RUL of 112, so it fails at "
    f"cycle 143; you got {fail1[0]}"
)
assert np.all(fail1 > fd1.test.groupby("unit")["cycle"].max().to_numpy()), (
    "an engine cannot fail before its last observed cycle: did you subtract the RUL?"
)
print(
    f"Correct: the FD001 test engines would have failed between cycles {fail1.min():.0f} and {fail1.max():.0f}"
)

# %% [markdown]
# ### Exercise 4 (experiment): counting conditions by rounding
#
# This chapter counted the operating conditions by rounding the altitude to
# whole thousands of feet. Rounding is a quick way to group readings, but how
# fine should it be? Write `count_conditions(train, decimals)`: the number of
# distinct rows of the three settings after rounding each to `decimals` decimal
# places (`decimals=-1` rounds to tens). The cell after the check counts them on
# FD001 and FD002 for `decimals` from -1 to 3; change `DECIMALS` to try others.
#
# **Before you run it**, write down in the next cell how many conditions you
# expect for each value on both subsets. Afterwards, explain what you see.
#
# <details><summary>Hint</summary>
#
# `train[SETTINGS].round(decimals)` rounds all three columns, and
# `.drop_duplicates()` keeps one row of each combination (`SETTINGS` lists the
# three setting columns). For the prediction, compare the scale of the rounding with
# the size of the noise on the settings (the scatter plot above) and with the
# distances between FD002's six altitudes.
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Write your answer here.*


# %%
def count_conditions(train, decimals):
    raise NotImplementedError("Exercise: write your answer here")


# %%
got = {subset: count_conditions(tables[subset].train, 0) for subset in ("FD001", "FD002", "FD003")}
assert got == {"FD001": 1, "FD002": 6, "FD003": 1}, (
    f"rounded to whole numbers, FD001 and FD003 have 1 condition and FD002 has 6; you found {got}. "
    "Round all three settings, then count the distinct rows (not the distinct values of each column)."
)
assert count_conditions(tables["FD001"].train, 3) > 1, (
    "rounded to 3 decimals, FD001's settings take several values: did you use `decimals`?"
)
print("Correct: whole-number rounding finds 1, 6 and 1 conditions on FD001, FD002 and FD003")

# %%
DECIMALS = [-1, 0, 1, 2, 3]
counts = pd.DataFrame(
    {
        subset: [count_conditions(tables[subset].train, d) for d in DECIMALS]
        for subset in ("FD001", "FD002")
    },
    index=pd.Index(DECIMALS, name="decimals"),
)
print(counts.T.to_string())
print("FD002 rows per rounded condition, decimals = -1 and 1:")
for d in (-1, 1):
    print(fd2[SETTINGS].round(d).value_counts().to_string(), end="\n\n")

# %% [markdown] tags=["answer", "points-2"]
# *Write your answer here.*

# %% [markdown]
# ## Check your understanding
#
# On FD002 the fan inlet temperature `s_1` has a large standard deviation over
# the whole training file (printed above), yet rulkit drops it. Why is that right?

# %% [markdown] tags=["answer", "points-1"]
# *Write your answer here.*
