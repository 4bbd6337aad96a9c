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
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 6: Operating conditions and per-condition normalisation
#
# On FD002 and FD004 an engine changes its flight condition from one cycle to
# the next, and every change moves the sensor readings by far more than a
# whole lifetime of wear does. Fed to a network as they are, the sensor traces
# look like noise, and the network would spend its capacity learning the six
# flight conditions instead of the slow drift that announces a failure. This
# notebook shows how `rulkit.prepare` finds the conditions with k-means,
# normalises every sensor within its condition, and why all fitted statistics
# must come from the training engines alone.
#
# **Learning goals**
#
# - find the operating conditions of FD002 with k-means on the three settings
#   and read the fitted centroids;
# - measure how much of each sensor's variance is explained by the condition;
# - compare a global z-score with a per-condition z-score on one engine;
# - check that the normalised sensors have mean 0 and standard deviation 1 in
#   every condition;
# - verify that the fitted statistics come from training engines only.

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
from rulkit.data import KEPT_SENSORS, SETTINGS

plt.rcParams["figure.figsize"] = (8, 3.5)

# %% [markdown]
# We load the raw FD002 tables and run the whole pre-processing pipeline once.
# `prepare` returns the windows (chapter 7) and, in `prep.state`, everything it
# fitted along the way. This notebook is about that fitted state.

# %%
data_dir = rulkit.fetch_cmapss()
tables = rulkit.load_cmapss("FD002", data_dir)
prep = rulkit.prepare("FD002", data_dir)
state = prep.state
print(prep)

# %% [markdown]
# `prepare` holds out 20% of the training engines for validation before it
# fits anything. The rows of the remaining **training engines** are the only
# rows the statistics below are computed from.

# %%
train_file = tables.train
is_fit_row = train_file["unit"].isin(state.train_units).to_numpy()
fit_rows = train_file[is_fit_row]

# %%
# NBVAL_CHECK_OUTPUT
print("engines in train_FD002:", train_file["unit"].nunique())
print("training engines:", len(state.train_units), "| validation engines:", len(state.val_units))
print("rows used for fitting:", len(fit_rows), "of", len(train_file))

# %% [markdown]
# ## Why the raw sensors look like noise
#
# Take one training engine and plot a sensor, the HPC outlet static pressure
# `s_11`, cycle by cycle. In chapter 5 this sensor rose smoothly towards
# failure on FD001. On FD002 it jumps between six levels, one per operating
# condition, and the jumps dwarf the wear. The colours below are the condition
# each cycle was flown in (found by k-means, see the next section); the right
# panel keeps only the cycles flown in one condition, and the upward trend is
# back.

# %%
unit = state.train_units[0]
engine = train_file[train_file["unit"] == unit]
engine_cond = state.assign_conditions(engine[SETTINGS].to_numpy())

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].scatter(engine["cycle"], engine["s_11"], c=engine_cond, cmap="tab10", vmax=9, s=6)
axes[0].set_title(f"engine {unit}: s_11, all cycles")
one = engine_cond == 5
axes[1].plot(engine["cycle"][one], engine["s_11"][one], ".-", color="tab:brown", lw=0.6, ms=3)
axes[1].set_title("the same engine, condition 5 only")
for ax in axes:
    ax.set_xlabel("cycle")
    ax.set_ylabel("s_11 (Ps30)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Finding the conditions with k-means
#
# The three settings of FD002 sit in six tiny clusters (chapter 5), so
# k-means with six clusters finds them reliably. `prepare` fits it on the
# settings of the training rows and sorts the centroids by `setting_1`, then
# `setting_2`, then `setting_3`, so that condition numbers do not depend on
# k-means' random start. New rows, including every test row, are assigned to
# the nearest centroid; k-means is never refitted on them.

# %%
centroids = np.asarray(state.centroids)
fit_cond = state.assign_conditions(fit_rows[SETTINGS].to_numpy())
test_cond = state.assign_conditions(tables.test[SETTINGS].to_numpy())
centroid_table = pd.DataFrame(centroids, columns=SETTINGS).rename_axis("condition")
centroid_table["training rows"] = np.bincount(fit_cond, minlength=len(centroids))
centroid_table["test rows"] = np.bincount(test_cond, minlength=len(centroids))

# %%
# NBVAL_CHECK_OUTPUT
print(centroid_table.to_string(float_format=lambda x: f"{x:.3f}"))

# %% [markdown]
# The clusters are far apart compared with their size. The largest distance of
# any row to its centroid is a tiny fraction of the smallest distance between
# two centroids, so the assignment is unambiguous, for test rows as for
# training rows.


# %%
def max_distance_to_centroid(settings):
    cond = state.assign_conditions(settings)
    return np.sqrt(((settings - centroids[cond]) ** 2).sum(axis=1)).max()


between = np.sqrt(((centroids[:, None] - centroids[None]) ** 2).sum(axis=-1))

# %%
# NBVAL_CHECK_OUTPUT
print(
    f"largest row-to-centroid distance, training rows: {max_distance_to_centroid(fit_rows[SETTINGS].to_numpy()):.3f}"
)
print(
    f"largest row-to-centroid distance, test rows:     {max_distance_to_centroid(tables.test[SETTINGS].to_numpy()):.3f}"
)
print(f"smallest distance between two centroids:        {between[between > 0].min():.3f}")

# %% [markdown]
# ## How much of a sensor is the condition?
#
# We can put a number on "the jumps dwarf the wear". Split each sensor's total
# variance into a part **between** conditions (how far the six condition means
# lie from the overall mean) and a part **within** conditions (how far the
# readings scatter around their own condition's mean):
#
# $$
# \underbrace{\sum_i (x_i - \bar x)^2}_{\text{total}}
# = \underbrace{\sum_c n_c (\bar x_c - \bar x)^2}_{\text{between}}
# + \underbrace{\sum_c \sum_{i \in c} (x_i - \bar x_c)^2}_{\text{within}}
# $$
#
# The between share, between / total, is the fraction of the variance that
# knowing the condition explains. Only the within part can contain wear. We
# compute it with NumPy on the raw readings of the training rows.

# %%
raw = fit_rows[list(KEPT_SENSORS)].to_numpy()
counts = np.bincount(fit_cond)
cond_means = np.stack([raw[fit_cond == c].mean(axis=0) for c in range(len(counts))])
overall = raw.mean(axis=0)
total_ss = ((raw - overall) ** 2).sum(axis=0)
between_ss = (counts[:, None] * (cond_means - overall) ** 2).sum(axis=0)
within_ss = ((raw - cond_means[fit_cond]) ** 2).sum(axis=0)
share = pd.DataFrame(
    {"between share": between_ss / total_ss, "within share": within_ss / total_ss},
    index=list(KEPT_SENSORS),
)

# %%
# NBVAL_CHECK_OUTPUT
print(share.to_string(float_format=lambda x: f"{x:.4f}"))
print(f"between + within = total for every sensor: {np.allclose(between_ss + within_ss, total_ss)}")

# %%
fig, ax = plt.subplots()
ax.bar(share.index, share["within share"], color="tab:blue")
ax.set_yscale("log")
ax.set_ylabel("within-condition share")
ax.set_title("FD002 training rows: share of variance NOT explained by the condition")
fig.tight_layout()
plt.show()

# %% [markdown]
# The bar chart shows the part that is left for wear, on a log scale because
# it is so small. The condition explains at least 96.5% of the variance of every
# kept sensor (the least is `s_14`), and at least 99.46% of every other one
# (`s_11`); for `s_7`, `s_8`, `s_12` and
# `s_13` less than one part in ten thousand is left. This is why the
# normalisation must be done per condition: any scaling that treats all rows
# alike keeps the between-condition part, and with it the jumps.

# %% [markdown]
# ## Global z-score versus per-condition z-score
#
# A **global z-score** subtracts one mean and divides by one standard deviation
# per sensor, computed over all training rows. It changes units, not shape: the
# six levels remain. A **per-condition z-score** uses the mean and standard
# deviation of the sensor *within the row's condition*:
#
# $$ z_i = \frac{x_i - \mu_{c(i)}}{\sigma_{c(i)}} $$
#
# so every condition is centred on 0 with spread 1, and what is left is the
# engine's deviation from a typical engine in that condition. `prepare` stores
# $\mu$ and $\sigma$ for every (condition, sensor) pair in `state.sensor_mean`
# and `state.sensor_std`; `state.transform` applies them. We compute the
# global version ourselves for comparison.

# %%
sensor = "s_11"
col = list(KEPT_SENSORS).index(sensor)
global_z = (engine[sensor] - raw[:, col].mean()) / raw[:, col].std()
features = state.transform(engine)  # settings first, then the 14 kept sensors
per_cond_z = features[:, state.feature_names.index(sensor)]

fig, axes = plt.subplots(3, 1, figsize=(8, 6.5), sharex=True)
for ax, values, title in [
    (axes[0], engine[sensor], "raw"),
    (axes[1], global_z, "global z-score"),
    (axes[2], per_cond_z, "per-condition z-score"),
]:
    ax.scatter(engine["cycle"], values, c=engine_cond, cmap="tab10", vmax=9, s=5)
    ax.set_title(f"engine {unit}, {sensor}: {title}", fontsize=10)
axes[2].plot(
    engine["cycle"], pd.Series(per_cond_z).rolling(15, center=True).mean(), color="k", lw=1.5
)
axes[2].set_xlabel("cycle")
fig.tight_layout()
plt.show()

# %% [markdown]
# The middle panel is the top panel with a new y-axis. Only the bottom panel
# shows a degradation trend; the black line, a 15-cycle moving average, makes
# it easy to see. The same holds for every kept sensor, as the next figure
# shows for four of them.

# %%
fig, axes = plt.subplots(2, 2, figsize=(9, 5), sharex=True)
for ax, name in zip(axes.flat, ["s_2", "s_4", "s_7", "s_15"]):
    z = features[:, state.feature_names.index(name)]
    ax.plot(engine["cycle"], z, color="0.6", lw=0.6)
    ax.plot(engine["cycle"], pd.Series(z).rolling(15, center=True).mean(), color="k", lw=1.5)
    ax.set_title(f"{name}, per-condition z-score", fontsize=10)
for ax in axes[1]:
    ax.set_xlabel("cycle")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## After normalisation: mean 0, standard deviation 1 in every condition
#
# On the training rows the per-condition z-score has mean 0 and standard
# deviation 1 in every condition, by construction. On the validation and test
# engines, which the statistics never saw, the values are close to 0 and 1
# but not exact: that gap is the honest picture of how new engines will look.
# The test engines deviate more. They are cut off before failure, so they are
# younger on average: their readings sit on the healthy side of the training
# mean, and their spread is smaller because the strongly degraded last cycles,
# which widen the training distribution, are missing.


# %%
def per_condition_moments(frame):
    """Mean and std of the normalised sensors, per condition (rows) and sensor (columns)."""
    cond = state.assign_conditions(frame[SETTINGS].to_numpy())
    z = state.transform(frame)[:, len(SETTINGS) :].astype(np.float64)
    means = np.stack([z[cond == c].mean(axis=0) for c in range(len(centroids))])
    stds = np.stack([z[cond == c].std(axis=0) for c in range(len(centroids))])
    return means, stds


val_rows = train_file[train_file["unit"].isin(state.val_units)]
summary = {}
for name, frame in [("train", fit_rows), ("val", val_rows), ("test", tables.test)]:
    means, stds = per_condition_moments(frame)
    summary[name] = {
        "mean min": means.min(),
        "mean max": means.max(),
        "std min": stds.min(),
        "std max": stds.max(),
    }

# %%
# NBVAL_CHECK_OUTPUT
# Over all 6 conditions x 14 sensors; rounded, with -0.000 printed as 0.000.
print(pd.DataFrame(summary).T.to_string(float_format=lambda x: f"{np.round(x, 3) + 0.0:.3f}"))

# %%
means, stds = per_condition_moments(val_rows)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for ax, values, title, center in [
    (axes[0], means, "mean", 0.0),
    (axes[1], stds, "standard deviation", 1.0),
]:
    image = ax.imshow(values, cmap="coolwarm", vmin=center - 0.5, vmax=center + 0.5)
    ax.set_xticks(range(len(KEPT_SENSORS)), KEPT_SENSORS, rotation=90, fontsize=8)
    ax.set_ylabel("condition")
    ax.set_title(f"validation engines: {title}", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### What about the settings?
#
# After the per-condition z-score the sensors no longer tell which condition a
# cycle was flown in. With the default 17 input features (see the book's
# model), the three settings are kept as well, scaled by one global z-score
# from the training rows, so the network still knows the condition. Setting
# `use_settings=False` in `prepare` gives the 14-sensor input instead.

# %%
# NBVAL_CHECK_OUTPUT
print("features:", state.n_features, state.feature_names[:4], "...")
for name, mean, std in zip(SETTINGS, state.setting_mean, state.setting_std):
    print(f"{name}: mean {mean:8.3f}, std {std:8.3f}")

# %% [markdown]
# On the single-condition subsets the same rule has a side effect worth
# knowing. There the settings only wobble by measurement noise (chapter 5), and
# a z-score blows that noise up to unit variance, so on FD001 two of the 17
# inputs are pure noise and the third (`setting_3`, exactly constant) is 0
# everywhere. A network can learn to ignore them, and `use_settings=False`
# removes them.

# %%
# NBVAL_CHECK_OUTPUT
fd001 = rulkit.prepare("FD001", data_dir)
raw_std = rulkit.load_cmapss("FD001", data_dir).train[SETTINGS].std(ddof=0)
z_std = fd001.train.X[:, -1, :3].std(axis=0)  # the last row of every window
for name, before, after in zip(SETTINGS, raw_std, z_std):
    print(f"FD001 {name}: raw std {before:.4f} -> std after z-score {after:.2f}")

# %% [markdown]
# ## Fitted on training engines only
#
# Every number in the state (centroids, sensor means and standard deviations,
# setting means) is computed from the rows of the training engines. The
# validation engines are held out so that early stopping and model selection
# see engines whose statistics played no part in the fit; the test engines
# come from a different file and are only ever transformed. If the statistics
# had been fitted on all engines, information about the held-out engines would
# leak into the inputs of the training engines.
#
# We can check both claims from the state itself.

# %%
# NBVAL_CHECK_OUTPUT
train_set, val_set = set(state.train_units), set(state.val_units)
print("training and validation engines overlap:", len(train_set & val_set), "engines")
print(
    "together they are all engines of train_FD002:", train_set | val_set == set(train_file["unit"])
)
print("recomputed means match the state:", np.allclose(cond_means, state.sensor_mean))
all_cond = state.assign_conditions(train_file[SETTINGS].to_numpy())
all_raw = train_file[list(KEPT_SENSORS)].to_numpy()
all_means = np.stack([all_raw[all_cond == c].mean(axis=0) for c in range(len(centroids))])
print("means over all 260 engines match the state:", np.allclose(all_means, state.sensor_mean))

# %% [markdown]
# The state is saved as JSON (chapter 7 shows how) so anyone can open it and
# see exactly what was fitted. Its fields:

# %%
# NBVAL_CHECK_OUTPUT
for key, value in vars(state).items():
    shape = np.shape(value) if isinstance(value, list) else value
    print(f"{key:18s} {shape}")

# %% [markdown]
# ## Exercises

# %% [markdown]
# ### Exercise 1: assign conditions by hand
#
# Write `nearest_condition(settings, centroids)` that returns, for each row of
# an `(n, 3)` array of settings, the index of the nearest centroid (Euclidean
# distance). It will be checked on the settings of all FD002 test rows, with
# rulkit's centroids and with the same centroids numbered the other way round.
#
# <details><summary>Hint</summary>
#
# Broadcasting gives every row's difference to every centroid at once, an array
# of shape `(n, number of centroids, 3)`. Take the norm over the settings axis,
# then the index of the smallest distance in each row.
#
# </details>


# %%
def nearest_condition(settings, centroids):
    ### BEGIN SOLUTION
    distance = np.linalg.norm(settings[:, None, :] - centroids[None, :, :], axis=-1)
    return distance.argmin(axis=1)
    ### END SOLUTION


test_settings = tables.test[SETTINGS].to_numpy()
my_cond = np.asarray(nearest_condition(test_settings, centroids))

# %%
assert my_cond.shape == (len(test_settings),), (
    f"expected one condition per row, shape ({len(test_settings)},), got {my_cond.shape}"
)
mismatch = int((my_cond != state.assign_conditions(test_settings)).sum())
assert mismatch == 0, (
    f"{mismatch} rows get a different condition than rulkit's: did you take the argmin over "
    "the centroids (axis 1) of the distance of each row to each centroid?"
)
order = np.arange(len(centroids))[::-1]  # the same centroids, numbered the other way round
flipped = np.asarray(nearest_condition(test_settings, centroids[order]))
assert np.array_equal(flipped, order[state.assign_conditions(test_settings)]), (
    "with the centroids numbered the other way round, every row's index should flip too: "
    "use the centroids you are given"
)
tiny = np.asarray(
    nearest_condition(np.array([[0.0, 0, 0], [10, 0, 0]]), np.array([[9.0, 0, 0], [1, 0, 0]]))
)
assert tiny.tolist() == [1, 0], (
    f"two rows, two centroids: expected [1, 0], you return {tiny.tolist()}"
)
print(f"Correct: all {len(my_cond)} FD002 test rows get rulkit's condition")

# %% [markdown]
# ### Exercise 2: a per-condition z-score for one sensor
#
# Write `per_condition_zscore(values, cond, fit_values, fit_cond)` for one sensor:
# using only the **training engines'** values of that sensor (`fit_values`) and
# their conditions (`fit_cond`), compute the sensor's mean and standard deviation
# in each condition, then normalise `values`, whose conditions are `cond`, with
# them. Use NumPy's default standard deviation (`ddof=0`), as `rulkit` does. The
# cell below applies it to sensor `s_4` of the engine `engine`; the check also
# applies it to sensor `s_11`.
#
# <details><summary>Hint</summary>
#
# Build two arrays of six numbers, `mu[c]` and `sigma[c]`, from the rows of
# `fit_values` whose `fit_cond` is `c`. Indexing them with the engine's
# conditions, `mu[cond]`, gives every cycle its own condition's statistics.
#
# </details>


# %%
def per_condition_zscore(values, cond, fit_values, fit_cond):
    ### BEGIN SOLUTION
    mu = np.array([fit_values[fit_cond == c].mean() for c in range(6)])
    sigma = np.array([fit_values[fit_cond == c].std() for c in range(6)])
    return (values - mu[cond]) / sigma[cond]
    ### END SOLUTION


my_z = np.asarray(
    per_condition_zscore(
        engine["s_4"].to_numpy(), engine_cond, fit_rows["s_4"].to_numpy(), fit_cond
    )
)

# %%
expected = state.transform(engine)[:, state.feature_names.index("s_4")]
assert my_z.shape == expected.shape, f"expected shape {expected.shape}, got {my_z.shape}"
error = np.abs(my_z - expected).max()
assert error < 1e-4, (
    f"your z-scores differ from rulkit's by up to {error:.4f}. Use the mean and std of the "
    "training rows of the same condition, and np.std's default ddof=0 (pandas' .std() uses ddof=1)."
)
z_11 = np.asarray(
    per_condition_zscore(
        engine["s_11"].to_numpy(), engine_cond, fit_rows["s_11"].to_numpy(), fit_cond
    )
)
error_11 = np.abs(z_11 - state.transform(engine)[:, state.feature_names.index("s_11")]).max()
assert error_11 < 1e-4, (
    f"for sensor s_11 your z-scores differ from rulkit's by up to {error_11:.4f}: compute the "
    "statistics from the values you are given, not from one fixed sensor"
)
print(f"Correct: your z-scores of s_4 match rulkit's on all {len(my_z)} cycles of engine {unit}")

# %% [markdown]
# ### Exercise 3: where do the statistics come from?
#
# Write `condition_means(units)` that returns a `(6, 14)` array with the mean
# of each kept sensor in each condition, computed from the rows of the given
# engines only. With `state.train_units` it must reproduce
# `state.sensor_mean`; with all 260 engines it must not.
#
# <details><summary>Hint</summary>
#
# Select the rows of the engines in `units` from `train_file`, give them their
# conditions with `state.assign_conditions`, and average the kept sensors
# (`KEPT_SENSORS`) over the rows of each condition.
#
# </details>


# %%
def condition_means(units):
    ### BEGIN SOLUTION
    rows = train_file[train_file["unit"].isin(units)]
    cond = state.assign_conditions(rows[SETTINGS].to_numpy())
    values = rows[list(KEPT_SENSORS)].to_numpy()
    return np.stack([values[cond == c].mean(axis=0) for c in range(6)])
    ### END SOLUTION


mine_train = np.asarray(condition_means(state.train_units))
mine_all = np.asarray(condition_means(train_file["unit"].unique()))

# %%
assert mine_train.shape == (6, 14), f"expected shape (6, 14), got {mine_train.shape}"
assert np.allclose(mine_train, state.sensor_mean), (
    "with the training engines your means should equal state.sensor_mean: select the rows "
    "of those engines, assign their conditions, then average each sensor per condition"
)
assert not np.allclose(mine_all, state.sensor_mean), (
    "with all engines the means should differ from the state: are you ignoring `units`?"
)
print("Correct: the state was fitted on the training engines only")

# %% [markdown]
# ### Exercise 4 (experiment): how many conditions should k-means look for?
#
# `prepare` asks k-means for six clusters on FD002 because the data has six
# operating conditions. What if it asked for fewer or more? The cell after the
# prediction clusters the settings of the training rows with `k` clusters for
# each `k` in `K_VALUES` and prints, as in the variance table above, the share of
# each sensor's variance that is left *within* the clusters (for `s_11`, and the
# largest and the median over the 14 kept sensors), and the sizes of the
# smallest and the largest cluster. Change `K_VALUES` to try other values (each
# `k` takes a few seconds).
#
# **Before you run it**, predict in the next cell how the within-cluster share
# changes for `k` below 6 and above 6. Afterwards, explain the printed figures.
#
# <details><summary>Hint</summary>
#
# Think about what a cluster *is* when `k` is too small (two conditions must
# share one) and when it is too large (one condition is cut into pieces). Which
# of the two leaves the jumps between conditions inside a cluster?
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# My prediction: with fewer than six clusters, k-means has to put two flight
# conditions into one cluster, so the jump between their sensor levels stays
# inside the cluster and the within share grows a lot, the more so the smaller
# `k`. With more than six clusters, k-means cuts a condition into pieces; each
# piece is still one flight condition, so the within share should stay about
# where it is for `k = 6`.

# %%
from sklearn.cluster import KMeans

K_VALUES = [3, 4, 5, 6, 7, 8]
settings_fit = fit_rows[SETTINGS].to_numpy()
i_s11 = list(KEPT_SENSORS).index("s_11")
print(f"{'k':>2}{'within s_11':>13}{'max':>9}{'median':>9}{'smallest':>10}{'largest':>9}")
for k in K_VALUES:
    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(settings_fit)
    sizes = np.bincount(labels)
    means_k = np.stack([raw[labels == c].mean(axis=0) for c in range(k)])
    within_k = ((raw - means_k[labels]) ** 2).sum(axis=0) / total_ss
    print(
        f"{k:>2}{within_k[i_s11]:>13.4f}{within_k.max():>9.4f}{np.median(within_k):>9.5f}"
        f"{sizes.min():>10}{sizes.max():>9}"
    )

# %% [markdown] tags=["answer", "points-2"]
# Above six the prediction holds: `k = 7` and `k = 8` cut the largest condition
# (10630 rows at `k = 6`) into pieces, and the shares do not move (`s_11` 0.0054,
# median 0.00141, as for `k = 6`). Below six the share grows, but not evenly. At
# `k = 5` the largest cluster (17047 rows) holds two conditions, yet the share of
# `s_11` barely changes (0.0057 against 0.0054): those two conditions happen to
# give `s_11` similar levels. Other sensors do see the merge, and the median share
# rises from 0.00141 to 0.00427. At `k = 4` and `k = 3` the share of `s_11` is
# several times larger (0.0361 and 0.0771). So too many clusters cost nothing
# here, too few mix conditions, and a single sensor can hide a merge: judge `k`
# on all sensors, or from the settings themselves, as chapter 5 did.

# %% [markdown]
# ## Check your understanding
#
# `prepare` computes the centroids and the per-condition means and standard
# deviations from the training engines only, and only transforms the validation
# and test engines. Suppose it fitted them on every engine, test engines
# included. What would go wrong, and how would you notice?

# %% [markdown] tags=["answer", "points-1"]
# Information about the engines we evaluate on would leak into the inputs: each
# training window would be normalised with statistics that partly describe the
# test engines, and the test score would no longer measure how the model does on
# engines it has never seen. Nothing would crash and no output would look wrong,
# which is why the leak has to be prevented by construction rather than noticed
# afterwards. The check is the one in this chapter: recompute the statistics from the training engines alone and compare
# them with the state (they must match), and from all engines (they must not).
