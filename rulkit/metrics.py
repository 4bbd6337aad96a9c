"""Evaluation metrics: RMSE, the NASA/PHM08 score and health-state metrics (book chapter 13)."""

from __future__ import annotations

import numpy as np


def rmse(pred, true) -> float:
    """Root mean squared error."""
    d = np.asarray(pred, np.float64) - np.asarray(true, np.float64)
    return float(np.sqrt(np.mean(d**2)))


def nasa_scores(pred, true) -> np.ndarray:
    """Per-engine NASA score: exp(-d/13) - 1 if early (d < 0), exp(d/10) - 1 if late."""
    d = np.asarray(pred, np.float64) - np.asarray(true, np.float64)
    return np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))


def nasa_score(pred, true) -> float:
    """The NASA/PHM08 score summed over engines (lower is better; late costs more)."""
    return float(nasa_scores(pred, true).sum())


def confusion_matrix(pred, true, n_classes: int = 3) -> np.ndarray:
    """Counts[i, j] = windows of true class i predicted as class j."""
    pred, true = np.asarray(pred, np.int64), np.asarray(true, np.int64)
    return np.bincount(true * n_classes + pred, minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


def accuracy(pred, true) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(true)))


def macro_f1(pred, true, n_classes: int = 3) -> float:
    """Unweighted mean of per-class F1; a class absent from both pred and truth is skipped."""
    cm = confusion_matrix(pred, true, n_classes)
    tp = np.diag(cm).astype(np.float64)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    present = (support + predicted) > 0
    f1 = 2 * tp[present] / (support[present] + predicted[present])
    return float(f1.mean()) if f1.size else float("nan")


def rul_metrics(pred, true, true_uncapped=None) -> dict:
    """RMSE and NASA score against the capped truth (and the uncapped one, if given)."""
    out = {"rmse": rmse(pred, true), "nasa": nasa_score(pred, true)}
    if true_uncapped is not None:
        out["rmse_uncapped"] = rmse(pred, true_uncapped)
        out["nasa_uncapped"] = nasa_score(pred, true_uncapped)
    return out


def health_metrics(pred, true, n_classes: int = 3) -> dict:
    return {
        "accuracy": accuracy(pred, true),
        "macro_f1": macro_f1(pred, true, n_classes),
        "confusion": confusion_matrix(pred, true, n_classes).tolist(),
    }
