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
# # Chapters 8-11: The dual-task model
#
# Every method in this book, from the fixed-weight baseline to GRACE, trains the
# *same* network. What changes between methods is only how the two task losses
# are weighted, and GABA decides those weights by measuring gradients inside this
# network, on the part both tasks share. So before any loss is discussed we need
# to know the model well: what each block does to a window of sensor readings,
# where the 3.5 million parameters sit, which of them are shared and which belong
# to one task alone. This notebook assembles the `DualTaskModel` one block at a
# time on real C-MAPSS windows, so that every tensor shape has a reason.
#
# **Learning goals**
#
# - follow a batch of windows through the CNN, BiLSTM, self-attention, pooling,
#   shared funnel and the two heads, and explain every shape on the way;
# - read the parameter table and say why the BiLSTM and the attention dominate it;
# - define the *shared backbone* and explain why GABA measures task gradients there
#   and not in the heads;
# - show that attending from the last time step only gives the same numbers as
#   full self-attention at about half the cost;
# - know what the final ReLU of the RUL head guarantees, and what it can cost at
#   initialisation.

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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

import rulkit
from rulkit.balancing import inverse_norm_weights, shared_grad_norms
from rulkit.losses import task_losses
from rulkit.model import count_parameters, parameter_summary

# %% [markdown]
# ## Real windows to trace
#
# A shape trace is most convincing on real data, so we prepare FD001 with the
# pipeline of chapters 6 and 7: 14 sensors plus the 3 operating settings, windows
# of 30 cycles, RUL capped at 125. The model never sees anything else: a window is
# a small table of 30 time steps by $F$ features.

# %%
# NBVAL_CHECK_OUTPUT
data_dir = rulkit.fetch_cmapss()
data = rulkit.prepare("FD001", data_dir)
print(data)
print("features:", ", ".join(data.state.feature_names))

# %% [markdown]
# For the trace we take a batch of eight windows from four training engines: the
# first window of each engine (healthy, RUL at the cap) and its last one (the
# engine is one cycle from failure). The choice is deterministic, so every shape
# and every label below is the same on each run.

# %%
# NBVAL_CHECK_OUTPUT
engines = np.unique(data.train.unit)[:4]
idx = [np.flatnonzero(data.train.unit == u)[k] for u in engines for k in (0, -1)]
x = torch.from_numpy(data.train.X[idx])
y_rul = data.train.y_rul[idx]
print("batch x:", tuple(x.shape), "(B windows, T time steps, F features)")
for i, u, y, h in zip(idx, data.train.unit[idx], y_rul, data.train.y_health[idx]):
    print(f"window {i:>5}  engine {u:>3}  RUL {y:5.1f}  health class {h}")

# %% [markdown]
# ## The model at a glance
#
# `DualTaskModel` is an ordinary `torch.nn.Module`. Its top-level children are the
# blocks of chapters 8-11, in the order the data flows through them. We build it
# with a fixed seed so that the parameter values, and with them every number in
# this notebook, are reproducible (the section on the final ReLU shows why the
# seed once mattered more than it should). `eval()` switches off dropout and makes BatchNorm use its
# running statistics, so the forward pass is deterministic.

# %%
# NBVAL_CHECK_OUTPUT
SEED = 0
torch.manual_seed(SEED)
model = rulkit.DualTaskModel(n_features=data.n_features).eval()
for name, module in model.named_children():
    print(f"{name:<18}{type(module).__name__}")

# %% [markdown]
# ## Block 1: the CNN front end
#
# Sensor readings are noisy from cycle to cycle. A 1-D convolution with kernel 3
# looks at three neighbouring cycles at once and learns local patterns (a small
# step, a short rise) before any sequence model sees the data. Three blocks widen
# the channels $F \to 64 \to 128 \to 64$. Each block is
# Conv1d $\to$ BatchNorm $\to$ ReLU $\to$ Dropout(0.15); the convolution has no bias
# because BatchNorm adds its own shift right after it, and padding 1 keeps all
# 30 time steps.
#
# One detail matters for the shapes: PyTorch's `Conv1d` expects
# (batch, channels, time), while our windows are (batch, time, features). The
# model therefore transposes before the CNN and back after it.

# %%
print(model.cnn[0])

# %%
# NBVAL_CHECK_OUTPUT
lines = []
with torch.no_grad():
    h = x.transpose(1, 2)
    lines.append(f"{'input, channels first':<26}{tuple(h.shape)}")
    for k, block in enumerate(model.cnn, start=1):
        h = block(h)
        lines.append(f"{f'after conv block {k}':<26}{tuple(h.shape)}")
    h_cnn = h.transpose(1, 2)
lines.append(f"{'back to time first':<26}{tuple(h_cnn.shape)}")
print("\n".join(lines))

# %% [markdown]
# ## Block 2: the bidirectional LSTM
#
# Degradation is a slow trend over many cycles; convolutions with a reach of a
# few cycles cannot see it. The BiLSTM reads the 30 CNN feature vectors in both
# directions with 2 layers of 256 hidden units each (dropout 0.3 between the
# layers). At every time step the forward and backward states are concatenated,
# so the width becomes $2 \times 256 = 512$.
#
# Keep in mind what the last time step holds: its forward half has read the whole
# window, but its backward half has read only the last cycle. The attention block
# that follows is what lets the last step gather information from every cycle.

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    h_lstm, _ = model.lstm(h_cnn)
print(f"{'BiLSTM output':<26}{tuple(h_lstm.shape)}")
print(f"{'forward half':<26}{tuple(h_lstm[..., :256].shape)}")
print(f"{'backward half':<26}{tuple(h_lstm[..., 256:].shape)}")

# %% [markdown]
# ## Block 3: self-attention with a residual and post-LayerNorm
#
# Multi-head attention (8 heads of width 64) lets a time step take a weighted
# average over all 30 steps, with weights that depend on the content. The block is
# wrapped the way the original Transformer wraps it: the attention output goes
# through dropout (0.1), is *added* to its input (the residual), and the sum is
# normalised by LayerNorm. Normalising after the addition is called post-norm. The
# residual means the block can only add to what the BiLSTM found; it cannot throw
# it away.
#
# The model only ever uses the last time step after this block (see block 4), so
# it computes attention for that one query and no others. The section
# "Why only the last query" below checks that this changes nothing but the cost.

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    last = h_lstm[:, -1:]  # the query: the last time step only
    attended, _ = model.attention(last, h_lstm, h_lstm, need_weights=False)
    h_att = model.attention_norm(last + model.attention_dropout(attended))
print(f"{'query (last step)':<26}{tuple(last.shape)}")
print(f"{'keys and values':<26}{tuple(h_lstm.shape)}")
print(f"{'attention + residual + LN':<26}{tuple(h_att.shape)}")

# %% [markdown]
# ## Block 4: pooling to the last time step
#
# Both heads need one vector per window, not one per time step. The model keeps
# the (attended) last time step: it is the moment whose RUL we predict, and after
# attention it carries a summary of the whole window.

# %%
# NBVAL_CHECK_OUTPUT
pooled = h_att[:, 0]
print(f"{'pooled':<26}{tuple(pooled.shape)}")

# %% [markdown]
# ## Block 5: the shared funnel
#
# A small MLP narrows the 512-wide vector to 32 numbers: $512 \to 256 \to 64 \to 32$,
# each layer Linear $\to$ ReLU $\to$ Dropout. These 32 numbers are all either head
# ever sees. The funnel is the last part both tasks share, so it is where their
# demands meet most directly.

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    z = model.funnel(pooled)
print(model.funnel)
print(f"{'shared features z':<26}{tuple(z.shape)}")

# %% [markdown]
# ## Blocks 6 and 7: the two heads
#
# The **RUL head** is a regression MLP $32 \to 64 \to 32 \to 16 \to 1$ with ReLU
# between the layers *and after the last one*, so a predicted RUL can never be
# negative. The **health head** $32 \to 32 \to 16 \to 3$ ends without an
# activation: its three outputs are logits for normal, degrading and critical,
# which the cross-entropy loss turns into probabilities.

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    rul_pred = model.rul_head(z).squeeze(-1)
    health_logits = model.health_head(z)
print(f"{'RUL prediction':<26}{tuple(rul_pred.shape)}")
print(f"{'health logits':<26}{tuple(health_logits.shape)}")

# %% [markdown]
# The pieces add up to the model: calling `model(x)` gives exactly the tensors we
# computed block by block.

# %%
# NBVAL_CHECK_OUTPUT
with torch.no_grad():
    full_rul, full_logits = model(x)
print("RUL identical to model(x):   ", torch.equal(full_rul, rul_pred))
print("logits identical to model(x):", torch.equal(full_logits, health_logits))

# %% [markdown]
# ## The final ReLU: a guarantee with a price
#
# A final ReLU makes negative RUL impossible, which is physically right. But a ReLU
# passes no gradient when its input is negative. If, at initialisation, the last
# linear layer of the RUL head happens to output a negative number for *every*
# window, then every RUL prediction is exactly 0 and the RUL loss sends no gradient
# anywhere: the head is "dead" until the shared features drift enough (through the
# health loss) to push some inputs above zero.
#
# An untrained network maps all windows to nearly the same output, so whether the
# head starts alive is decided by the seed, not by the data. We check the sign of
# the pre-activation on our eight windows for seeds 0-7, first with PyTorch's
# default initialisation (`rul_bias_init=None`), then with rulkit's default, which
# starts the bias of the head's last layer at 62.5 cycles, half the RUL cap.


# %%
# NBVAL_CHECK_OUTPUT
def head_state(seed, **kwargs):
    torch.manual_seed(seed)
    candidate = rulkit.DualTaskModel(n_features=data.n_features, **kwargs).eval()
    with torch.no_grad():
        pre = candidate.rul_head[:-1](candidate.features(x))  # everything but the final ReLU
    return "alive" if (pre > 0).all() else "dead" if (pre < 0).all() else "mixed"


print(f"{'seed':<6}{'PyTorch default':>17}{'rulkit (bias 62.5)':>20}")
n_dead = {"default": 0, "rulkit": 0}
for seed in range(8):
    default, ours = head_state(seed, rul_bias_init=None), head_state(seed)
    n_dead["default"] += default == "dead"
    n_dead["rulkit"] += ours == "dead"
    print(f"{seed:<6}{default:>17}{ours:>20}")
print(
    f"dead at the start: {n_dead['default']} of 8 seeds (default), {n_dead['rulkit']} of 8 (rulkit)"
)

# %% [markdown]
# With PyTorch's default initialisation the head starts dead for more than half of
# these seeds, seed 0 among them; a RUL loss that stays flat for the first epochs
# is the symptom. The book does not say how the model is initialised, so rulkit
# takes the common remedy: a positive bias on the last layer. Every prediction
# then starts at about 62 cycles and the ReLU passes gradient from the first step.
# `rul_bias_init=None` restores PyTorch's default (see the errata page).

# %% [markdown]
# ## Where the parameters are
#
# The model has about 3.5 million parameters. The table lists them per block in
# data-flow order, with each block's share of the total and the size of the shared
# backbone.

# %%
# NBVAL_CHECK_OUTPUT
print(parameter_summary(model))

# %%
table = model.parameter_table()
names = [name for name, _ in table][::-1]
counts = [n for _, n in table][::-1]
colors = ["C3" if name.endswith("_head") else "C0" for name in names]
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.barh(names, counts, color=colors)
ax.set_xscale("log")
ax.set_xlabel("parameters (log scale)")
ax.set_title("DualTaskModel, F = 17: shared backbone (blue) and task heads (red)")
for i, n in enumerate(counts):
    ax.text(n * 1.1, i, f"{n:,}", va="center", fontsize=8)
ax.set_xlim(500, 2e7)
fig.tight_layout()
plt.show()

# %% [markdown]
# The BiLSTM holds almost two thirds of the parameters and the attention almost a
# third. The two heads together hold less than 0.2%. The chart needs a logarithmic
# axis to show the heads at all.
#
# Every LSTM layer and direction has four gates. Each gate has a weight matrix
# for its input and one for the recurrent state, plus two bias vectors (PyTorch
# keeps two), so a layer with input size $n$ and hidden size $H$ has
# $4\,(H n + H^2 + 2H)$ parameters per direction. The attention block has
# projections for queries, keys, values and the output, each $d \times d$ plus a
# bias: $4d^2 + 4d$ with $d = 512$. Exercise 1 checks the first formula against
# the table, and exercise 2 asks what both predict when the BiLSTM is made smaller.

# %% [markdown]
# ### Seventeen or fourteen input features?
#
# The book's text sometimes speaks of 14 input channels (the kept sensors), while
# its model code is built for 17 (the 14 sensors plus the 3 operating settings).
# rulkit follows the code (F = 17) and keeps F = 14 one switch away:
# `prepare(..., use_settings=False)` and `DualTaskModel(n_features=14)`. The input
# width only affects the first convolution, which has $3 \cdot F \cdot 64$ weights,
# so the two variants differ by $3 \cdot 3 \cdot 64 = 576$ parameters.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(SEED)
model_14 = rulkit.DualTaskModel(n_features=14)
n_17, n_14 = count_parameters(model), count_parameters(model_14)
print(f"F = 17 (14 sensors + 3 settings): {n_17:>10,} parameters")
print(f"F = 14 (14 sensors only):         {n_14:>10,} parameters")
print(f"difference:                       {n_17 - n_14:>10,} = 3 x (17 - 14) x 64")
assert n_17 - n_14 == 3 * (17 - 14) * 64

# %% [markdown]
# ## The shared backbone, and why GABA measures gradients there
#
# The **shared backbone** is everything except the two heads: CNN, BiLSTM,
# attention with its LayerNorm, and the funnel. Both losses send gradients into it,
# and the optimiser applies their sum. The heads are private: the RUL loss never
# touches the health head and vice versa.
#
# This is why GABA measures each task's gradient norm on the shared parameters.
# In a head there is no conflict to balance, because only one task updates it. In
# the backbone, a task whose gradient is 100 times larger decides the direction of
# every update, and the other task is ignored. GABA compares
# $g_t = \lVert \partial L_t / \partial \theta_{\text{shared}} \rVert$ across tasks
# and gives each task a weight proportional to $1/g_t$, so both pull on the backbone
# equally hard. `shared_parameters()` and `head_parameters()` give the two groups.

# %%
# NBVAL_CHECK_OUTPUT
n_shared = sum(p.numel() for p in model.shared_parameters())
n_rul_head = sum(p.numel() for p in model.head_parameters("rul"))
n_health_head = sum(p.numel() for p in model.head_parameters("health"))
print(f"shared backbone: {n_shared:>10,}  ({n_shared / n_17:.2%})")
print(f"RUL head:        {n_rul_head:>10,}")
print(f"health head:     {n_health_head:>10,}")
print(f"total:           {n_shared + n_rul_head + n_health_head:>10,}")
assert n_shared + n_rul_head + n_health_head == n_17

# %% [markdown]
# How different are the two gradients? We take 32 random training windows, compute
# the plain MSE of the RUL task and the cross-entropy of the health task, and
# measure each loss's gradient norm on the shared backbone with rulkit's
# `shared_grad_norms`, the function GABA uses during training. The model is
# untrained: every window gets about the same RUL prediction, near the 62.5 cycles
# at which rulkit starts the head's last bias, while the targets go from 0 to 125,
# so the squared errors are large at both ends of the range.
# The exact values depend on the machine's floating-point arithmetic, so this
# output is not compared by the tests; the assertion checks what must hold.

# %%
rng = np.random.default_rng(0)
pick = rng.choice(len(data.train), size=32, replace=False)
xb = torch.from_numpy(data.train.X[pick])
yb = torch.from_numpy(data.train.y_rul[pick])
hb = torch.from_numpy(data.train.y_health[pick])
rul_b, logits_b = model(xb)
losses = task_losses(rul_b, yb, logits_b, hb)
g = shared_grad_norms(model, losses)
lam = inverse_norm_weights(g)
print(
    f"RUL predictions {rul_b.min().item():.1f} to {rul_b.max().item():.1f} cycles, "
    f"targets {yb.min().item():.0f} to {yb.max().item():.0f}"
)
print(f"L_rul (MSE) = {losses[0].item():9.1f}   g_rul = {g[0].item():.4g}")
print(f"L_hs  (CE)  = {losses[1].item():9.3f}   g_hs  = {g[1].item():.4g}")
print(f"g_rul / g_hs = {(g[0] / g[1]).item():.0f}")
print(f"GABA weights (summing to 1): lam_rul = {lam[0].item():.5f}, lam_hs = {lam[1].item():.5f}")
assert g[0] > g[1] > 0, "the RUL gradient should dominate on an untrained model"

# %% [markdown]
# On this batch the RUL gradient on the backbone is 47 times larger than the
# health gradient (the ratio printed above). A fixed 0.5/0.5 weighting would leave
# the health task with little say in how the shared features develop. GABA's
# inverse-norm weights shift nearly all the weight to the health loss, so that the
# two weighted gradients have the same norm. The ratio is not a constant: chapter
# 12 measures it over several initialisations and batches, and along a training
# run. The book's worked example in chapter 13 assumes norms of 4.81 against
# 0.0096, a ratio of about 500.

# %% [markdown]
# ## Why only the last query
#
# Full self-attention computes an output for every one of the 30 time steps, and
# each output depends only on its own query row. All 30 steps serve as keys and
# values for every query, but the queries do not interact. Because the model keeps
# only the last step, all the other outputs would be computed and then thrown away.
# LayerNorm works on each time step separately too, so the residual and the norm
# do not mix steps either. Hence
#
# $$\mathrm{LN}\big(h + \mathrm{Attn}(h, h, h)\big)_{T} = \mathrm{LN}\big(h_T + \mathrm{Attn}(h_T, h, h)\big).$$
#
# We check this numerically on our batch: full attention followed by taking the
# last step, against the model's own `features` path.

# %%
with torch.no_grad():
    full, _ = model.attention(h_lstm, h_lstm, h_lstm, need_weights=False)
    z_full = model.attention_norm(h_lstm + model.attention_dropout(full))[:, -1]
    features_full = model.funnel(z_full)
    features_model = model.features(x)
diff = (features_full - features_model).abs().max().item()
print(f"largest difference in the 32 shared features: {diff:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
same = torch.allclose(features_full, features_model, rtol=0, atol=1e-5)
print("full attention and last-query attention agree to 1e-5:", same)
assert same

# %% [markdown]
# The difference is at the level of float32 rounding. The two paths add up the
# same numbers in a different order, so they are not always bit-identical.
#
# **The cost.** Per window with $T = 30$ steps and width $d = 512$, full attention
# needs $T d^2$ multiply-adds for each of the four projections and $2 T^2 d$ for the
# scores and the weighted sum. With one query, the query and output projections
# shrink from $T d^2$ to $d^2$ each, and the scores from $T^2 d$ to $T d$. The
# key and value projections stay, which is why the saving is about half and not
# 30-fold.

# %%
# NBVAL_CHECK_OUTPUT
T, d = x.shape[1], 2 * model.lstm.hidden_size
macs_full = 4 * T * d * d + 2 * T * T * d
macs_last = (2 * T + 2) * d * d + 2 * T * d
print(f"full attention:       {macs_full:>12,} multiply-adds per window")
print(f"last query only:      {macs_last:>12,} multiply-adds per window")
print(f"ratio last / full:    {macs_last / macs_full:.3f}")

# %% [markdown]
# PyTorch's FLOP counter confirms the formula; it counts two FLOPs per
# multiply-add. The counter cannot see inside PyTorch's fused attention kernels, so
# we ask it to count the plain path: `train` mode (the attention module has no
# dropout of its own, so the numbers are unchanged) and `need_weights=True`, which
# makes PyTorch compute the scores with ordinary matrix products.


# %%
# NBVAL_CHECK_OUTPUT
def attention_flops(query, keys):
    model.attention.train()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.attention(query, keys, keys, need_weights=True)
    model.attention.eval()
    return counter.get_total_flops()


B = x.shape[0]
flops_full = attention_flops(h_lstm, h_lstm)
flops_last = attention_flops(h_lstm[:, -1:], h_lstm)
print(f"counted, per window: full {flops_full // (2 * B):,}, last query {flops_last // (2 * B):,}")
assert flops_full == 2 * B * macs_full and flops_last == 2 * B * macs_last

# %% [markdown]
# Wall-clock time follows the FLOPs only roughly: fused kernels, memory traffic
# and the number of CPU threads all matter. Here is one measurement on this
# machine for a batch of 256 windows (not compared by the tests).

# %%
h_big = torch.randn(256, T, d)
lines = []
with torch.no_grad():
    for label, query in [("full", h_big), ("last query", h_big[:, -1:])]:
        model.attention(query, h_big, h_big, need_weights=False)  # warm-up
        start = time.perf_counter()
        for _ in range(5):
            model.attention(query, h_big, h_big, need_weights=False)
        lines.append(f"{label:<11} {(time.perf_counter() - start) / 5 * 1000:7.1f} ms per batch")
print("\n".join(lines))

# %% [markdown]
# ## What the last step attends to (untrained)
#
# Asking the attention block for its weights shows where the last step looks. The
# weights are averaged over the 8 heads. In an untrained model they are uniform to
# within a tiny fraction, $1/30$ per step: nothing yet makes one cycle more
# informative than another, and the curves lie on top of the dashed line. After training, you can draw the same figure and see
# whether the model learns to look at the most recent cycles.

# %%
with torch.no_grad():
    _, weights = model.attention(h_lstm[:, -1:], h_lstm, h_lstm, need_weights=True)
weights = weights[:, 0].numpy()  # (B, T), averaged over heads

fig, ax = plt.subplots(figsize=(8, 3.5))
steps = np.arange(1, T + 1)
for k in range(0, len(idx), 2):
    ax.plot(
        steps, weights[k], color="C0", alpha=0.7, label="first window (healthy)" if k == 0 else None
    )
    ax.plot(
        steps,
        weights[k + 1],
        color="C3",
        alpha=0.7,
        label="last window (at failure)" if k == 0 else None,
    )
ax.axhline(1 / T, color="k", lw=0.8, ls="--", label="uniform, 1/30")
ax.set(
    xlabel="time step in the window",
    ylabel="attention weight",
    title="Last-step attention, untrained model",
    ylim=(0, 2 / T),
)
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()
print(f"largest deviation from 1/30: {np.abs(weights - 1 / T).max():.1e}")

# %%
assert np.allclose(weights.sum(axis=1), 1, atol=1e-5), "attention weights of a query sum to 1"

# %% [markdown]
# ## Exercises
#
# The exercises go from easy to harder. Each has a hint, folded away: try without
# it first. The cell after each answer checks it and says what is wrong, if
# anything.
#
# ### Exercise 1: count the BiLSTM parameters by formula
#
# Use the rule from the parameter section, $4\,(H n + H^2 + 2H)$ per layer and
# direction, to write `lstm_parameters(H, n_in, layers=2, directions=2)`: the
# parameter count of an LSTM with `H` hidden units, `layers` stacked layers and one
# or two directions, whose first layer reads `n_in` numbers per step. Each later
# layer reads the output of the layer below, all directions concatenated. The cell
# applies it to the model's BiLSTM ($H = 256$, fed by the CNN's 64 channels); the
# check compares that with the model's table, then tries smaller LSTMs with one
# direction and with other numbers of layers, which the model cannot build.
#
# <details><summary>Hint</summary>
#
# Three things are easy to miss: each direction has its own weights; a layer
# above the first reads the concatenated output of all directions below it, not
# `n_in` numbers; and the rule already counts both bias vectors of a gate.
#
# </details>


# %%
def lstm_parameters(H, n_in, layers=2, directions=2):
    ### BEGIN SOLUTION
    total = 0
    for layer in range(layers):
        n = n_in if layer == 0 else directions * H
        total += directions * 4 * (H * n + H * H + 2 * H)
    return total
    ### END SOLUTION


lstm_by_formula = lstm_parameters(256, 64)
print(f"BiLSTM parameters by formula: {lstm_by_formula:,}")

# %%
lstm_in_model = dict(model.parameter_table())["bilstm"]
assert lstm_by_formula == lstm_in_model, (
    f"your formula gives {lstm_by_formula:,}, the model has {lstm_in_model:,}: "
    "did you count both directions, two bias vectors per gate, and an input of 2H=512 "
    "for the second layer?"
)
for args, want in [((1, 1, 1, 1), 16), ((2, 3, 2, 1), 104), ((1, 1, 2, 2), 72)]:
    got = lstm_parameters(*args)
    assert got == want, (
        f"lstm_parameters(H, n_in, layers, directions) = lstm_parameters{args}: expected {want}, "
        f"got {got}. Use the arguments, not the model's sizes"
    )
print(f"Correct: {lstm_by_formula:,} parameters, the BiLSTM's row of the table.")

# %% [markdown]
# ### Exercise 2 (experiment): halve the BiLSTM
#
# `DualTaskModel(n_features=17, lstm_hidden=128)` builds the same model with a
# BiLSTM of 128 hidden units per direction instead of 256. The attention then
# works on $d = 2H = 256$ instead of 512, and the funnel's first layer reads 256
# numbers instead of 512.
#
# **Before running anything**, predict in the next cell: by about what factor does
# the total parameter count shrink? Which blocks shrink by about 4, which by about
# 2, which not at all? Then build the smaller model as `small` (seed it with
# `SEED` first) and run the cell, which prints both tables side by side. Last,
# explain the result in the cell after the check.
#
# <details><summary>Hint</summary>
#
# Look at how each formula grows with $H$: a term in $H^2$ or $d^2$ shrinks 4-fold
# when $H$ halves, a term in $H$ alone only 2-fold, and a block that never sees $H$
# does not change. Which terms dominate the BiLSTM and the attention?
#
# </details>

# %% [markdown] tags=["answer", "points-0"]
# *Prediction (written before running).* The BiLSTM and the attention hold almost
# all parameters and are dominated by $H^2$ and $d^2$ terms, so they shrink about
# 4-fold, and with them the whole model, to roughly a quarter (a little more,
# since the BiLSTM's first-layer input weights only halve). The LayerNorm has one
# scale and one shift per feature, so it halves. The funnel's first layer halves,
# its other layers stay. The CNN and the two heads do not depend on $H$ and keep
# their size.

# %%
### BEGIN SOLUTION
torch.manual_seed(SEED)
small = rulkit.DualTaskModel(n_features=data.n_features, lstm_hidden=128)
### END SOLUTION
big_table, small_table = dict(model.parameter_table()), dict(small.parameter_table())
print(f"{'block':<16}{'H = 256':>11}{'H = 128':>11}{'factor':>9}")
for name, n_big in big_table.items():
    print(f"{name:<16}{n_big:>11,}{small_table[name]:>11,}{n_big / small_table[name]:>8.2f}x")
n_small = count_parameters(small)
print(f"{'total':<16}{n_17:>11,}{n_small:>11,}{n_17 / n_small:>8.2f}x")

# %%
assert small.lstm.hidden_size == 128, (
    f"`small` has a BiLSTM of {small.lstm.hidden_size} units: build it with lstm_hidden=128"
)
assert small.cnn[0][0].in_channels == data.n_features, (
    f"`small` reads {small.cnn[0][0].in_channels} features, the data has {data.n_features}"
)
print("Correct: the model with H = 128 is built. Compare the table with your prediction.")

# %% [markdown] tags=["answer", "points-2"]
# *What happened.* The total fell from 3,497,220 to 1,001,220 parameters, 3.49
# times fewer. The attention shrank 3.99-fold: it is four $d \times d$ matrices,
# and its biases are all that keeps it from exactly 4. The BiLSTM shrank 3.77-fold,
# less than 4, because its first layer's input weights ($H \times 64$ per gate)
# grow only linearly in $H$. The LayerNorm halved (2.00x), as a term in $d$ must.
# The funnel shrank 1.78-fold: only its first layer reads the 512 (now 256)
# numbers. The CNN and the heads are unchanged (1.00x). The prediction of "about a
# quarter" holds because the two quadratic blocks are almost the whole model.

# %% [markdown]
# ### Exercise 3: which parameters does the RUL loss reach?
#
# Write `n_reached_by(loss)`: ask autograd for the gradient of `loss` with respect
# to *all* parameters of `model`, with `allow_unused=True`, and count the
# parameters (elements, not tensors) whose gradient is not `None`. The cell applies
# it to the plain MSE of the RUL task on the batch of 32 windows above (`rul_b`,
# `yb`) and stores the count in `n_reached`; the check also applies it to the
# health task's cross-entropy. Which blocks make up each count?
#
# <details><summary>Hint</summary>
#
# `torch.autograd.grad` with `allow_unused=True` returns one entry per tensor you
# pass, `None` for a tensor the loss does not depend on; keep the graph
# (`retain_graph=True`) so that a second loss on the same batch can use it.
#
# </details>


# %%
def n_reached_by(loss):
    ### BEGIN SOLUTION
    params = list(model.parameters())
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return sum(p.numel() for p, gr in zip(params, grads) if gr is not None)
    ### END SOLUTION


n_reached = n_reached_by(((rul_b - yb) ** 2).mean())
print(f"parameters reached by the RUL loss: {n_reached:,}")

# %%
assert n_reached == n_shared + n_rul_head, (
    f"got {n_reached:,}; expected shared backbone + RUL head = {n_shared + n_rul_head:,}. "
    "The health head must not be reached; count p.numel() for each parameter whose gradient "
    "is not None."
)
n_reached_hs = n_reached_by(torch.nn.functional.cross_entropy(logits_b, hb))
assert n_reached_hs == n_shared + n_health_head, (
    f"the cross-entropy reaches {n_reached_hs:,} by your count; expected shared backbone + "
    f"health head = {n_shared + n_health_head:,}: count what the loss you are given reaches"
)
print(f"Correct: the RUL loss reaches the shared backbone and the RUL head, {n_reached:,} in all.")

# %% [markdown]
# ### Exercise 4: predict the loss at the start
#
# An untrained model predicts almost the same RUL for every window, close to the
# starting bias $b$ of the RUL head's last layer (62.5 by default; the batch of 32
# windows above got predictions of 62.6). Without building any model, write
# `predicted_start_loss(b, y)` that predicts the RUL loss (the plain MSE) of such a
# model on the targets `y`, from `b` and `y` alone. The check builds the model
# with $b$ = 0, 62.5, 100 and 125 and compares your prediction with the measured
# loss. Before running it, work out from your formula which starting bias would
# make the loss smallest on the batch `yb`; the check prints it.
#
# <details><summary>Hint</summary>
#
# If every prediction equals $b$, the MSE is the mean of $(b - y_i)^2$. Write
# $b - y_i = (b - \bar y) + (\bar y - y_i)$ and expand: the cross term averages
# to zero. Which $b$ makes what is left smallest?
#
# </details>


# %%
def predicted_start_loss(b, y):
    """The MSE of a model that predicts ``b`` for every target in ``y``."""
    ### BEGIN SOLUTION
    y = np.asarray(y, dtype=np.float64)
    return float((b - y.mean()) ** 2 + y.var())
    ### END SOLUTION


# %%
y_np = yb.numpy().astype(np.float64)
lines = [f"{'b':>6}{'predicted L_rul':>17}{'measured L_rul':>16}"]
for b in [0.0, 62.5, 100.0, 125.0]:
    torch.manual_seed(SEED)
    start_model = rulkit.DualTaskModel(n_features=data.n_features, rul_bias_init=b).eval()
    with torch.no_grad():
        measured = ((start_model(xb)[0] - yb) ** 2).mean().item()
    guess = predicted_start_loss(b, y_np)
    lines.append(f"{b:>6.1f}{guess:>17.1f}{measured:>16.1f}")
    assert abs(guess / measured - 1) < 0.02, (
        f"for b = {b} you predict {guess:.1f}, the model's loss is {measured:.1f}: "
        "the loss of a constant prediction b is the mean of (b - y)^2"
    )
grid = np.linspace(0, 125, 1251)
best_b = float(grid[np.argmin([predicted_start_loss(b, y_np) for b in grid])])
assert abs(best_b - y_np.mean()) < 0.2, (
    f"your formula is smallest at b = {best_b:.1f}, but the loss of a constant prediction "
    f"is smallest at the mean target, {y_np.mean():.1f}: expand (b - y)^2 around the mean"
)
print("\n".join(lines))
print(
    f"Correct: your predictions are within 2% of the model. The loss at the start is "
    f"smallest for b = {best_b:.1f}, the mean target of the batch."
)

# %% [markdown]
# ## Summary
#
# - A window (30 steps $\times$ F) flows through CNN (local patterns), BiLSTM
#   (trends, width 512), attention with a residual and post-LayerNorm (the last step
#   gathers from all steps), last-step pooling, and a funnel to 32 shared features.
#   Two small heads turn these into a non-negative RUL and three health logits.
# - Of about 3.5 M parameters, 99.8% are in the shared backbone. The BiLSTM and
#   the attention dominate. F = 17 and F = 14 differ by only 576 parameters.
# - Both tasks compete in the backbone, so GABA measures gradient norms there. On
#   one batch of an untrained model the RUL gradient is 47 times larger than the
#   health gradient; chapter 12 shows how the ratio varies.
# - Computing attention for the last query only gives the same features at about
#   half the FLOPs.
# - The final ReLU guarantees RUL $\ge 0$, but with PyTorch's default initialisation
#   it starts dead for most seeds; rulkit starts the last bias at 62.5 cycles.

# %% [markdown]
# ## Check your understanding
#
# 1. Exercise 4 shows that a starting bias at the mean target gives a smaller
#    RUL loss at the start than rulkit's 62.5. Does that make 62.5 a bad choice?
#    What is the starting bias for?

# %% [markdown] tags=["answer"]
# Not necessarily. The bias is there to keep the final ReLU alive: with every
# pre-activation positive, the RUL loss sends gradient from the first step (the
# seed table above: 0 of 8 seeds start dead with the bias, against more than half
# without it). Any start well above zero does that. The bias is a trained
# parameter, so training moves it towards the targets anyway; a start near the
# mean target only saves the first part of that journey. (Chapter 12 shows that
# it also changes how much the RUL task pulls on the backbone at the start.)

# %% [markdown]
# 2. Why does GABA compare the two tasks' gradient norms on the shared backbone,
#    and not on all parameters, heads included?

# %% [markdown] tags=["answer"]
# Only the backbone is updated by both losses, so only there does one task's
# gradient crowd out the other's. Each head receives the gradient of one task
# alone (exercise 3: the RUL loss never reaches the health head); counting the
# heads would add to each task's norm a part that competes with nothing, and the
# weights would then balance the wrong thing.
