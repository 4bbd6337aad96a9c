"""Figures the book draws from runs and result files (chapters 12-23 and the results chapter)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .methods import COLOURS as METHOD_COLORS  # one table of method colours (rulkit.methods)


def _get(record, key):
    """Field of a RunResult or of its JSON dict."""
    return record[key] if isinstance(record, dict) else getattr(record, key)


def training_curves(result, axes=None):
    """Training task losses and validation RMSE per epoch of one run."""
    curves = _get(result, "curves")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].semilogy(curves["epoch"], curves["train_loss_rul"], label="RUL loss")
    axes[0].semilogy(curves["epoch"], curves["train_loss_health"], label="health loss")
    axes[0].set(xlabel="epoch", ylabel="mean training loss", title="training losses")
    axes[0].legend()
    axes[1].plot(curves["epoch"], curves["val_rmse"], color="k")
    best = _get(result, "best_epoch")
    if best:
        axes[1].axvline(best, ls="--", color="grey", label=f"best epoch {best}")
        axes[1].legend()
    axes[1].set(xlabel="epoch", ylabel="RMSE (cycles)", title="validation RMSE (EMA weights)")
    axes[0].figure.tight_layout()
    return axes[0].figure


def task_history(result, axes=None):
    """Recorded task weights and shared-backbone gradient norms against the step."""
    h = _get(result, "task_history")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].plot(h["step"], h["weight_rul"], label="RUL")
    axes[0].plot(h["step"], h["weight_health"], label="health")
    axes[0].set(xlabel="step", ylabel="task weight", title="task weights", ylim=(0, 1))
    axes[0].legend()
    axes[1].semilogy(h["step"], h["grad_norm_rul"], label="RUL")
    axes[1].semilogy(h["step"], h["grad_norm_health"], label="health")
    axes[1].set(xlabel="step", ylabel="||grad|| on shared backbone", title="gradient norms")
    axes[1].legend()
    axes[0].figure.tight_layout()
    return axes[0].figure


def predictions(result, ax=None, uncapped: bool = False):
    """Predicted vs true RUL for every test engine, engines sorted by true RUL."""
    per = _get(result, "per_engine")
    true = np.asarray(per["true_uncapped" if uncapped else "true"])
    pred = np.asarray(per["pred"])
    order = np.argsort(true)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    ax.plot(true[order], "k-", lw=1.5, label="true RUL" + (" (uncapped)" if uncapped else ""))
    ax.plot(pred[order], ".", color="C3", label="predicted")
    ax.set(xlabel="test engine (sorted by true RUL)", ylabel="RUL (cycles)")
    ax.legend()
    return ax.figure


def pareto(summary: pd.DataFrame, axes=None):
    """RMSE against NASA score (mean ± std over seeds), one panel per subset,
    with the Pareto-optimal methods joined by a line."""
    subsets = sorted(summary.subset.unique())
    if axes is None:
        _, axes = plt.subplots(1, len(subsets), figsize=(4.2 * len(subsets), 3.6), squeeze=False)
        axes = axes[0]
    for ax, subset in zip(axes, subsets):
        part = summary[summary.subset == subset]
        for row in part.itertuples():
            ax.errorbar(
                row.rmse_mean,
                row.nasa_mean,
                xerr=np.nan_to_num(row.rmse_std),
                yerr=np.nan_to_num(row.nasa_std),
                fmt="o",
                capsize=3,
                color=METHOD_COLORS.get(row.method, "k"),
                label=row.method,
            )
        front = pareto_front(part.rmse_mean.to_numpy(), part.nasa_mean.to_numpy())
        pts = part.iloc[front].sort_values("rmse_mean")
        ax.plot(pts.rmse_mean, pts.nasa_mean, "k--", lw=0.8, alpha=0.6)
        ax.set(title=subset, xlabel="RMSE (cycles)", ylabel="NASA score (sum)")
    axes[0].legend(fontsize=8)
    axes[0].figure.tight_layout()
    return axes[0].figure


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of points not dominated in (x, y), both to be minimised."""
    keep = []
    for i in range(len(x)):
        dominated = np.any((x <= x[i]) & (y <= y[i]) & ((x < x[i]) | (y < y[i])))
        if not dominated:
            keep.append(i)
    return np.asarray(keep, dtype=int)


def task_weight_trajectories(records: list, ax=None):
    """Mean RUL-task weight against training step, per subset and method."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    groups: dict[tuple[str, str], list] = {}
    for r in records:
        groups.setdefault((_get(r, "subset"), _get(r, "method")), []).append(r)
    styles = ["-", "--", ":", "-."]
    subsets = sorted({k[0] for k in groups})
    for (subset, method), runs in sorted(groups.items()):
        steps = np.asarray(_get(runs[0], "task_history")["step"])
        if steps.size == 0:
            continue
        n = min(len(_get(r, "task_history")["step"]) for r in runs)
        w = np.mean([_get(r, "task_history")["weight_rul"][:n] for r in runs], axis=0)
        ax.plot(
            steps[:n],
            w,
            styles[subsets.index(subset) % 4],
            color=METHOD_COLORS.get(method, "k"),
            label=f"{subset} {method}",
        )
    ax.set(
        xlabel="training step",
        ylabel="weight of the RUL task",
        ylim=(0, 1),
        title="task-weight trajectories (mean over seeds)",
    )
    ax.legend(fontsize=7, ncol=2)
    return ax.figure


def validation_curves(records: list, ax=None):
    """Validation RMSE against epoch, one line per run (colour = method), with the chosen
    epoch marked; the test RMSE of every epoch, where recorded, dotted (never used to choose)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    seen = set()
    for r in sorted(records, key=lambda r: (_get(r, "method"), _get(r, "seed"))):
        c, method = _get(r, "curves"), _get(r, "method")
        color = METHOD_COLORS.get(method, "k")
        label = f"{_get(r, 'subset')} {method}"
        ax.plot(
            c["epoch"], c["val_rmse"], color=color, lw=1, label=None if label in seen else label
        )
        seen.add(label)
        if c.get("test_rmse"):
            ax.plot(c["epoch"], c["test_rmse"], ":", color=color, lw=0.8)
        best = _get(r, "best_epoch")
        if best:
            ax.plot(best, c["val_rmse"][best - 1], "o", color=color, ms=4)
    ax.set(
        xlabel="epoch",
        ylabel="RMSE (cycles)",
        yscale="log",
        title="validation RMSE per epoch (dots: chosen epoch; dotted: test, record only)",
    )
    # plain numbers (10, 15, 20, ...) rather than powers of ten on the log axis
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7, ncol=2)
    return ax.figure


def close_all() -> None:
    plt.close("all")
