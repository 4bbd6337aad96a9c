"""The knobs that recipes other than the book's use: the DCNN reference, target scaling,
validation scoring, the LR drop, and files written before these fields existed."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from _support import TINY_MODEL  # the fleet fixture is conftest's

from rulkit.config import TUNED, profile_config
from rulkit.data import prepare, synthetic_tables
from rulkit.model import DCNN, DualTaskModel, build_model
from rulkit.runs import train_run
from rulkit.train import Trainer, TrainingStep, _Lr

RESULTS = Path(__file__).resolve().parents[1] / "results"


def test_dcnn_has_the_papers_parameter_count():
    # by hand: three 10x1 convs of 10 filters (1->10, 10->10, 10->10), one 3x1 conv to 1
    # filter, FC 420->100, output 100->1
    by_hand = (10 * 10 + 10) + 2 * (10 * 10 * 10 + 10) + (10 * 3 + 1) + (420 * 100 + 100) + 101
    model = DCNN(n_features=14, window=30)
    assert sum(p.numel() for p in model.parameters()) == by_hand == 44_362


def test_dcnn_keeps_time_length_and_never_mixes_features():
    model = DCNN(n_features=5, window=12, kernel=4).eval()
    x = torch.randn(3, 12, 5)
    assert model.cnn(x.unsqueeze(1)).shape == (3, 1, 12, 5)  # same length for an even kernel
    y = x.clone()
    y[:, :, 2] += 1.0  # change feature 2 only: the conv output of the other features stays
    a, b = model.cnn(x.unsqueeze(1)), model.cnn(y.unsqueeze(1))
    others = [0, 1, 3, 4]
    assert torch.equal(a[..., others], b[..., others])
    assert not torch.equal(a[..., 2], b[..., 2])
    rul, logits = model(x)
    assert rul.shape == (3,) and torch.equal(logits, torch.zeros(3, 3))


def test_shared_and_head_parameters_partition_the_dcnn():
    model = DCNN()
    shared = {id(p) for p in model.shared_parameters()}
    head = {id(p) for p in model.head_parameters()}
    assert shared.isdisjoint(head) and shared | head == {id(p) for p in model.parameters()}
    assert list(model.head_parameters("health")) == []


def test_rul_scale_changes_the_unit_of_the_head_not_of_the_output():
    torch.manual_seed(0)
    scaled = DualTaskModel(n_features=4, rul_scale=125.0, rul_final_relu=False, **TINY_MODEL)
    scaled.eval()
    x = torch.randn(6, 30, 4)
    raw = scaled.rul_head(scaled.features(x)).squeeze(-1)
    rul, _ = scaled(x)
    torch.testing.assert_close(rul, raw * 125.0)
    # the head's bias starts at 62.5 cycles expressed in the head's unit
    last = [m for m in scaled.rul_head if isinstance(m, torch.nn.Linear)][-1]
    assert last.bias.item() == pytest.approx(62.5 / 125.0)
    assert not isinstance(scaled.rul_head[-1], torch.nn.ReLU)


def test_scaled_loss_is_the_mse_in_units_of_the_scale(fleet):
    cfg = profile_config(
        "smoke", subset="FD001", method="baseline", rul_scale=125.0, model=TINY_MODEL, device="cpu"
    )
    step = TrainingStep(cfg, fleet.n_features, torch.device("cpu"))
    x = torch.as_tensor(fleet.train.X[:32])
    y = torch.as_tensor(fleet.train.y_rul[:32])
    h = torch.as_tensor(fleet.train.y_health[:32])
    torch.manual_seed(5)  # the same dropout masks in both forward passes
    pred, _ = step.model(x)
    expected = float(((pred.detach().double() - y.double()) ** 2).mean() / 125.0**2)
    torch.manual_seed(5)
    losses, *_ = step(x, y, h)
    assert float(losses[0]) == pytest.approx(expected, rel=1e-5)


def test_below_cap_scoring_looks_only_at_windows_under_the_cap():
    # synthetic engines are short: a cap of 30 cycles gives capped windows
    fleet = prepare(tables=synthetic_tables(n_train=12, n_test=8, seed=1), seed=0, rul_cap=30)
    cfg = profile_config(
        "smoke",
        rul_cap=30.0,
        subset="FD001",
        method="baseline",
        val_scoring="below_cap",
        model=TINY_MODEL,
        device="cpu",
        max_epochs=1,
    )
    trainer = Trainer(cfg, data=fleet)
    trainer.train_epoch()
    val_rmse = trainer.end_epoch()
    pred = trainer._predict(trainer.stepper.ema.model, "val").numpy()
    true = fleet.val.y_rul
    below = true < cfg.rul_cap
    assert 0 < below.sum() < len(true)  # the synthetic fleet has capped windows too
    oracle = math.sqrt(np.mean((pred[below] - true[below]) ** 2))
    assert val_rmse == pytest.approx(oracle, rel=1e-5)
    assert trainer.curves["val_rmse_below_cap"] == [val_rmse]  # recorded for every run
    at_cap = math.sqrt(np.mean((pred[~below] - true[~below]) ** 2))
    assert trainer.curves["val_rmse_at_cap"][0] == pytest.approx(at_cap, rel=1e-5)
    assert val_rmse != pytest.approx(math.sqrt(np.mean((pred - true) ** 2)), rel=1e-3)


def test_lr_drop_multiplies_after_its_step_only():
    lr = _Lr(
        1e-3,
        warmup_steps=0,
        start=1.0,
        factor=0.5,
        patience=5,
        min_lr=1e-6,
        drop_step=100,
        drop_factor=0.1,
    )
    assert lr.at(100) == pytest.approx(1e-3)
    assert lr.at(101) == pytest.approx(1e-4)
    assert _Lr(1e-3, 0, 1.0, 0.5, 5, 1e-6).at(10**6) == pytest.approx(1e-3)  # no drop


def test_dcnn_profile_trains_rul_only_and_reports_no_health(fleet, tmp_path):
    cfg = profile_config("dcnn", subset="FD001", max_epochs=3, device="cpu", threads=1)
    plain = profile_config("dcnn", subset="FD001")
    assert plain.method == "rul_only" and plain.run_name() == "FD001_rul_only_seed0_dcnn"
    result = train_run(cfg, data=fleet, progress=False, out_dir=tmp_path)
    assert result.status == "ok", result.error
    assert "accuracy" not in result.test and math.isfinite(result.test["rmse"])
    assert "health acc" not in repr(result)
    with pytest.raises(ValueError, match="rul_only"):
        profile_config("dcnn", method="baseline")


def test_build_model_rejects_unknown_arch():
    with pytest.raises(ValueError, match="unknown arch"):
        build_model("transformer", 14, 30, 1.0)
    with pytest.raises(ValueError, match="val_scoring"):
        profile_config("full", val_scoring="last")


def test_files_written_before_the_new_fields_still_match_their_config():
    record = json.loads((RESULTS / "FD001_amnl_seed0_full.json").read_text())
    assert "rul_scale" not in record["config"]  # written before the field existed
    cfg = profile_config("full", subset="FD001", method="amnl", seed=0, record_test_rmse=True)
    assert cfg.differences(record["config"]) == []
    assert cfg.run_name() == "FD001_amnl_seed0_full"
    changed = profile_config("full", subset="FD001", method="amnl", rul_scale=125.0)
    assert "rul_scale" in changed.differences(record["config"])


def test_tuned_profile_departs_from_the_book_only_where_it_says():
    cfg = profile_config("tuned", subset="FD001", method="baseline")
    book = profile_config("full", subset="FD001", method="baseline")
    changed = {k for k in TUNED if getattr(cfg, k) != getattr(book, k)}
    assert changed == set(TUNED)  # every entry of TUNED is a real departure
    assert cfg.run_name() == "FD001_baseline_seed0_tuned"


def test_lean_profile_is_tuned_with_a_smaller_model_noise_and_a_lower_lr():
    from rulkit.config import LEAN
    from rulkit.model import build_model, count_parameters

    cfg = profile_config("lean", subset="FD001", method="gaba", seed=3)
    tuned = profile_config("tuned", subset="FD001", method="gaba", seed=3)
    changed = {k for k in LEAN if getattr(cfg, k) != getattr(tuned, k)}
    assert changed == {"model", "input_noise", "lr", "early_stop_patience", "max_epochs"}
    assert cfg.run_name() == "FD001_gaba_seed3_lean"

    def linear(a, b):
        return a * b + b

    def lstm_direction(n_in, h=32):
        return 4 * h * n_in + 4 * h * h + 8 * h

    conv = (3 * 14 * 32 + 32) + 2 * (3 * 32 * 32 + 32)  # with bias: no BatchNorm
    lstm = 2 * lstm_direction(32) + 2 * lstm_direction(64)
    attention = 4 * 64 * 64 + 4 * 64 + 2 * 64  # in/out projections, LayerNorm
    funnel = linear(64, 64) + linear(64, 32) + linear(32, 16)
    heads = linear(16, 64) + linear(64, 32) + linear(32, 16) + linear(16, 1)
    heads += linear(16, 32) + linear(32, 16) + linear(16, 3)
    model = build_model("dual", 14, cfg.window, cfg.rul_scale, **cfg.model)
    assert count_parameters(model) == conv + lstm + attention + funnel + heads == 77_940


def test_ablation_table_names_each_change_and_its_command():
    from rulkit.report import ablation_table, recipe_overrides
    from rulkit.results import load_results

    runs = load_results(RESULTS / "ablation")
    table = ablation_table(runs)
    assert len(table) == len(runs) > 0
    book = table[(table.change == "(the book's)") & (table.method == "baseline")]
    assert len(book) == 1 and book.command.iloc[0].endswith("--set max_epochs=40")
    window = table[table.change == "window=40"].iloc[0]
    assert window.command.endswith("--set max_epochs=40 --set window=40")
    run = next(r for r in runs if r["config"]["window"] == 40)
    assert window["val RMSE"] == run["curves"]["val_rmse"][run["best_epoch"] - 1]
    tuned = json.loads((RESULTS / "FD001_baseline_seed0_tuned.json").read_text())
    assert set(recipe_overrides(tuned)) == set(TUNED)  # what tuned changes, nothing else
    assert recipe_overrides(tuned, base="tuned") == {}


def test_results_paragraph_is_built_from_the_runs():
    from rulkit.report import results_paragraph
    from rulkit.results import load_results

    runs = load_results(RESULTS)
    text = results_paragraph(runs, "FD001", profile="tuned")
    baseline = [
        r["test"]["rmse"]
        for r in runs
        if r["profile"] == "tuned" and r["method"] == "baseline" and r["subset"] == "FD001"
    ]
    assert f"baseline {np.mean(baseline):.2f}" in text
    assert f"({len(baseline)} seeds: " in text and "Paired on the same test engines" in text
    fewer = [r for r in runs if not (r["method"] == "gaba" and r["seed"] > 0)]
    assert "gaba" in results_paragraph(fewer, profile="tuned").split("Lowest")[0]
    assert "(1 seed: 0;" in results_paragraph(fewer, profile="tuned")
    assert results_paragraph(runs, "FD003").startswith("No run of the full recipe on FD003")


def test_input_noise_draws_only_when_asked(fleet):
    x = torch.as_tensor(fleet.train.X[:16])
    y = torch.as_tensor(fleet.train.y_rul[:16])
    h = torch.as_tensor(fleet.train.y_health[:16])

    def first_loss(noise):
        cfg = profile_config(
            "smoke",
            subset="FD001",
            method="baseline",
            input_noise=noise,
            model={
                **TINY_MODEL,
                "conv_dropout": 0.0,
                "lstm_dropout": 0.0,
                "attention_dropout": 0.0,
                "funnel_dropout": 0.0,
            },
            device="cpu",
        )
        torch.manual_seed(0)
        step = TrainingStep(cfg, fleet.n_features, torch.device("cpu"))
        torch.manual_seed(1)
        losses, *_ = step(x, y, h)
        return float(losses[0]), torch.rand(1).item()  # the loss, and where the stream is

    plain, plain_next = first_loss(0.0)
    noisy, noisy_next = first_loss(0.5)
    assert noisy != plain  # the noise reached the model
    assert noisy_next != plain_next  # and it drew from the stream; noise 0 draws nothing
    assert first_loss(0.0) == (plain, plain_next)


def test_a_finished_run_is_not_trained_again_for_a_record_alone(tmp_path):
    from rulkit.runs import completed_result

    name = "FD002_grace_seed0_lean.json"  # made with record_test_rmse=True
    (tmp_path / name).write_text((RESULTS / name).read_text())
    cfg = profile_config("lean", subset="FD002", method="grace", seed=0, threads=1)
    assert not cfg.record_test_rmse
    assert completed_result(tmp_path, cfg)["test"]["rmse"] > 0  # done: the sweep skips it
    other = profile_config("lean", subset="FD002", method="grace", seed=0, val_from_cycle=50)
    assert completed_result(tmp_path, other) is None  # a training field differs: not done
