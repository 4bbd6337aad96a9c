"""The figures of rulkit.plots, drawn from small hand-made records: what is on the axes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rulkit import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def record(method="grace", seed=0, val=(40.0, 14.0, 13.0, 18.0), test=None, best=3, weights=None):
    epochs = list(range(1, len(val) + 1))
    curves = {
        "epoch": epochs,
        "val_rmse": list(val),
        "train_loss_rul": [1000.0 / e for e in epochs],
        "train_loss_health": [1.0 / e for e in epochs],
    }
    if test is not None:
        curves["test_rmse"] = list(test)
    weights = [0.5, 0.2, 0.05] if weights is None else weights
    history = {
        "step": [10 * (k + 1) for k in range(len(weights))],
        "weight_rul": list(weights),
        "weight_health": [1 - w for w in weights],
    }
    return {
        "subset": "FD001",
        "method": method,
        "seed": seed,
        "best_epoch": best,
        "curves": curves,
        "task_history": history,
    }


def brute_force_front(x, y):
    """Skyline by sorting: walk the points by x (ties by y), keep each that lowers the best y."""
    order = sorted(range(len(x)), key=lambda i: (x[i], y[i]))
    keep, best_y, last = [], np.inf, None
    for i in order:
        if y[i] < best_y or (last is not None and (x[i], y[i]) == last):
            keep.append(i)
            best_y, last = min(best_y, y[i]), (x[i], y[i])
    return sorted(keep)


def test_pareto_front_matches_a_sorting_oracle():
    rng = np.random.default_rng(0)
    for _ in range(50):
        x = rng.integers(0, 6, size=8).astype(float)  # small integers: many ties
        y = rng.integers(0, 6, size=8).astype(float)
        assert plots.pareto_front(x, y).tolist() == brute_force_front(x, y)


def test_validation_curves_mark_the_chosen_epoch_and_draw_test_dotted():
    runs = [
        record("grace", 0, test=(41.0, 15.0, 12.5, 19.0), best=3),
        record("grace", 1, val=(42.0, 13.5, 14.0, 17.0), best=2),
        record("baseline", 0, best=3),
    ]
    fig = plots.validation_curves(runs)
    ax = fig.axes[0]
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dotted = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(solid) == 3 and len(dotted) == 1 and len(dots) == 3
    assert dotted[0].get_ydata().tolist() == [41.0, 15.0, 12.5, 19.0]
    marks = sorted((ln.get_xdata()[0], ln.get_ydata()[0]) for ln in dots)
    assert marks == [(2, 13.5), (3, 13.0), (3, 13.0)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["FD001 baseline", "FD001 grace"]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(label.replace(".", "").isdigit() for label in labels), labels


def test_task_weight_trajectories_average_seeds_up_to_the_shortest_run():
    runs = [
        record("gaba", 0, weights=[0.5, 0.2, 0.05]),
        record("gaba", 1, weights=[0.5, 0.1, 0.05, 0.05]),
        record("grace", 0, weights=[0.5, 0.3]),
    ]
    ax = plots.task_weight_trajectories(runs).axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert lines["FD001 gaba"].get_ydata() == pytest.approx([0.5, 0.15, 0.05])
    assert lines["FD001 gaba"].get_xdata().tolist() == [10, 20, 30]
    assert lines["FD001 grace"].get_ydata() == pytest.approx([0.5, 0.3])


def test_training_curves_mark_the_best_epoch():
    axes = plots.training_curves(record(best=3)).axes
    rul, health = axes[0].lines
    assert rul.get_ydata()[0] == 1000.0 and health.get_ydata()[-1] == 0.25
    (vline,) = [ln for ln in axes[1].lines if ln.get_linestyle() == "--"]
    assert vline.get_xdata()[0] == 3 and "best epoch 3" in vline.get_label()


def test_pareto_joins_the_undominated_methods():
    summary = pd.DataFrame(
        {
            "subset": ["FD001"] * 4,
            "method": ["baseline", "amnl", "gaba", "grace"],
            "rmse_mean": [14.5, 15.0, 15.2, 14.6],
            "nasa_mean": [462.0, 486.0, 523.0, 438.0],
            "rmse_std": [np.nan] * 4,
            "nasa_std": [np.nan] * 4,
        }
    )
    ax = plots.pareto(summary).axes[0]
    (front,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert front.get_xdata().tolist() == [14.5, 14.6]  # baseline and grace, by RMSE
    assert front.get_ydata().tolist() == [462.0, 438.0]
