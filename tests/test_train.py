"""The training engine on a synthetic fleet with a tiny model (seconds per run)."""

import json
import math

import numpy as np
import pytest
from _support import nan_loss_at_step, tiny_config

from rulkit.data import prepare, synthetic_tables
from rulkit.methods import METHODS
from rulkit.runs import train_run
from rulkit.train import profile_config, train


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_trains_and_reports(method, fleet, tmp_path):
    # out_dir: the deprecated path chapter 12 still takes, handed to rulkit.runs.train_run
    result = train(tiny_config(method), data=fleet, progress=False, out_dir=tmp_path)
    assert result.status == "ok", result.error
    assert all(math.isfinite(result.test[k]) for k in ("rmse", "nasa", "accuracy", "macro_f1"))
    losses = result.curves["train_loss_rul"]
    assert losses[-1] < 0.8 * losses[0], f"{method}: RUL loss did not fall: {losses}"
    assert result.name.startswith(f"FD001_{method}_seed0_custom-")  # tiny model: not "smoke"
    saved = json.loads((tmp_path / f"{result.name}.json").read_text())
    for key in (
        "subset",
        "method",
        "seed",
        "profile",
        "config",
        "test",
        "per_engine",
        "best_epoch",
        "epochs_run",
        "curves",
        "task_history",
        "provenance",
        "status",
    ):
        assert key in saved, key
    assert saved["status"] == "ok" and saved["error"] is None
    assert len(saved["per_engine"]["pred"]) == len(fleet.test) == 8
    for key in ("device", "torch", "git_commit", "wall_time_s", "python"):
        assert key in saved["provenance"], key
    assert saved["config"]["method"] == method
    assert 1 <= saved["best_epoch"] <= saved["epochs_run"] <= 5


def test_same_seed_same_metrics(fleet):
    a = train(tiny_config("gaba", max_epochs=2), data=fleet, progress=False)
    b = train(tiny_config("gaba", max_epochs=2), data=fleet, progress=False)
    c = train(tiny_config("gaba", max_epochs=2, seed=1), data=fleet, progress=False)
    assert a.test == b.test and a.per_engine == b.per_engine
    assert a.curves["val_rmse"] == b.curves["val_rmse"]
    assert a.per_engine["pred"] != c.per_engine["pred"]


def test_gaba_weights_warmup_floor_and_sum(fleet):
    cfg = tiny_config("gaba", gaba_warmup_steps=7, gaba_floor=0.2, gaba_beta=0.5, max_epochs=2)
    h = train(cfg, data=fleet, progress=False).task_history
    w = np.column_stack([h["weight_rul"], h["weight_health"]])
    steps = np.asarray(h["step"])
    assert (w[steps <= 7] == 0.5).all(), "weights must be exactly 0.5/0.5 during warm-up"
    after = w[steps > 7]
    assert len(after) and not np.allclose(after, 0.5), "weights never moved after warm-up"
    assert (w >= 0.2 - 1e-6).all(), "a weight fell below the floor"
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    assert (np.asarray(h["grad_norm_rul"]) > 0).all()


def test_baseline_records_grad_norms_too(fleet):
    h = train(tiny_config("baseline", max_epochs=1), data=fleet, progress=False).task_history
    assert len(h["step"]) > 3 and (np.asarray(h["grad_norm_health"]) > 0).all()
    assert set(h["weight_rul"]) == {0.5}


def test_nan_loss_stops_the_run_and_is_recorded(fleet, tmp_path, monkeypatch):
    nan_loss_at_step(monkeypatch, 3)
    result = train_run(tiny_config("grace"), data=fleet, progress=False, out_dir=tmp_path)
    assert result.status == "failed"
    assert "non-finite" in result.error and "epoch 1" in result.error
    saved = json.loads((tmp_path / f"{result.name}.json").read_text())
    assert saved["status"] == "failed" and "NonFiniteError" in saved["error"]


def test_test_set_is_not_used_for_selection(fleet):
    """Scrambling the test targets changes no training curve and no chosen epoch."""
    a = train(tiny_config("amnl", max_epochs=3), data=fleet, progress=False)
    scrambled = prepare(tables=synthetic_tables(n_train=12, n_test=8, seed=1), seed=0)
    scrambled.test.y_rul[:] = 0.0
    scrambled.test.X[:] = 123.0
    b = train(tiny_config("amnl", max_epochs=3), data=scrambled, progress=False)
    assert a.curves == b.curves and a.best_epoch == b.best_epoch
    assert a.test["rmse"] != b.test["rmse"]


def test_profiles():
    smoke = profile_config("smoke")
    full = profile_config("full")
    assert full.max_epochs == 500 and full.batch_size == 256 and full.max_train_engines is None
    assert smoke.max_train_engines and smoke.max_epochs < 20
    auto = profile_config("auto", device="cpu")
    assert auto.profile == "smoke"
    with pytest.raises(ValueError, match="valid profiles"):
        profile_config("huge")
    with pytest.raises(TypeError, match="unknown config"):
        profile_config("smoke", epochs=3)


def test_a_non_finite_loss_names_its_epoch_and_steps(fleet, monkeypatch):
    """A NaN in epoch 2 fails the run at that epoch's end, naming the epoch and its steps;
    epoch 1 counts as run."""
    n = train(tiny_config("baseline", max_epochs=1), data=fleet, progress=False).steps
    assert n > 2, "epochs of one or two steps: the test would prove nothing"
    nan_loss_at_step(monkeypatch, n + 2)
    result = train(tiny_config("baseline", max_epochs=3), data=fleet, progress=False)
    assert result.status == "failed"
    assert result.error.startswith(
        f"NonFiniteError: non-finite loss or gradient in epoch 2 (steps {n + 1}-{2 * n})"
    ), result.error
    assert result.epochs_run == 1


def test_measuring_task_gradients_every_other_step(fleet):
    cfg = tiny_config("grace", grad_norm_every=2, gaba_warmup_steps=6, max_epochs=2)
    result = train(cfg, data=fleet, progress=False)
    assert result.status == "ok", result.error
    h = result.task_history
    steps, w = np.asarray(h["step"]), np.asarray(h["weight_rul"])
    assert (w[steps <= 6] == 0.5).all(), "the warm-up clock counts training steps"
    assert not np.allclose(w[steps > 6], 0.5)
    every = train(tiny_config("grace", max_epochs=2), data=fleet, progress=False)
    assert result.per_engine["pred"] != every.per_engine["pred"]  # the knob really acts


def test_val_from_cycle_scores_the_windows_of_a_longer_window():
    """Window 40 scored from cycle 50 sees exactly the validation windows that window 50
    has (one per cycle from 50 on), on the same engines."""
    from rulkit.train import Trainer, window_end_cycles

    tables = synthetic_tables(n_train=12, n_test=8, seed=1)
    short = prepare(tables=tables, window=40, seed=0)
    long = prepare(tables=tables, window=50, seed=0)
    late = window_end_cycles(short.val.unit, 40) >= 50
    assert 0 < late.sum() == len(long.val) < len(short.val)
    np.testing.assert_array_equal(short.val.unit[late], long.val.unit)
    np.testing.assert_array_equal(short.val.y_rul[late], long.val.y_rul)
    assert Trainer(tiny_config("baseline", window=40), short).val_mask is None
    scored = Trainer(tiny_config("baseline", window=40, val_from_cycle=50), short).val_mask
    assert int(scored.sum()) == len(long.val)


def test_test_ages_scoring_cuts_each_held_out_engine_at_the_test_ages():
    """Oracle: each held-out engine cut at every test age it survives to and windowed by
    the test's own code (last_windows pads ages shorter than the window), one score each."""
    import torch

    from rulkit.data.prepare import last_windows
    from rulkit.train import Trainer

    tables = synthetic_tables(n_train=12, n_test=8, seed=1)
    fleet = prepare(tables=tables, window=30, seed=0)
    ages = fleet.test.n_cycles
    assert (ages < 30).any() and (ages >= 30).any()  # both kinds of cut are exercised
    trainer = Trainer(tiny_config("baseline", window=30, val_scoring="test_ages"), fleet)
    trainer.train_epoch()
    val_rmse = trainer.end_epoch()
    model = trainer.stepper.ema.model.eval()
    errors = []
    for unit in fleet.state.val_units:
        engine = tables.train[tables.train["unit"] == unit]
        for age in ages[ages <= len(engine)]:
            cut = engine.iloc[:age]
            X, _ = last_windows(fleet.state.transform(cut), cut["unit"].to_numpy(), 30)
            with torch.no_grad():
                pred = float(model(torch.as_tensor(X, dtype=torch.float32))[0][0])
            errors.append(pred - min(len(engine) - age, fleet.state.rul_cap))
    assert len(errors) > 2 * len(fleet.state.val_units)  # several ages per engine
    assert val_rmse == pytest.approx(math.sqrt(np.mean(np.square(errors))), rel=1e-4)
    pred = trainer._predict(model, "val").numpy()
    plain = math.sqrt(np.mean((pred - fleet.val.y_rul) ** 2))
    assert val_rmse != pytest.approx(plain, rel=1e-3)


def test_rul_bands_scoring_is_the_mean_of_the_per_band_squared_errors():
    """Oracle: the RMSE of the mean over RUL bands (five below the cap, the cap itself) of
    each band's mean squared error, on the windows from cycle 40 on."""
    from rulkit.train import Trainer, window_end_cycles

    tables = synthetic_tables(n_train=12, n_test=8, seed=1)
    fleet = prepare(tables=tables, window=30, rul_cap=60.0, seed=0)  # short synthetic lives
    cfg = tiny_config(
        "baseline", window=30, rul_cap=60.0, val_scoring="rul_bands", val_from_cycle=40
    )
    trainer = Trainer(cfg, fleet)
    trainer.train_epoch()
    val_rmse = trainer.end_epoch()
    pred = trainer._predict(trainer.stepper.ema.model.eval(), "val").numpy()
    late = window_end_cycles(fleet.val.unit, 30) >= 40
    y, err = fleet.val.y_rul[late], (pred - fleet.val.y_rul)[late] ** 2
    cap = fleet.state.rul_cap
    edges = [(lo, lo + cap / 5) for lo in np.arange(5) * cap / 5] + [(cap, math.inf)]
    per_band = [
        err[(y >= lo) & (y < hi)].mean() for lo, hi in edges if ((y >= lo) & (y < hi)).any()
    ]
    assert len(per_band) == 6  # every band has windows
    assert val_rmse == pytest.approx(math.sqrt(np.mean(per_band)), rel=1e-4)
    assert val_rmse != pytest.approx(math.sqrt(err.mean()), rel=1e-3)
