"""benchmarks/refit_check.py: its control replays a finished run exactly, and its refit
trains on the validation engines' windows too (the 25 refits themselves took 45 minutes
and are not a unit test)."""

import importlib.util
import json
from pathlib import Path

import pytest
from _support import TINIER_MODEL, tiny_config

from rulkit.data import synthetic_tables, write_cmapss_files
from rulkit.results import write_result
from rulkit.train import train

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("refit", ROOT / "benchmarks/refit_check.py")
refit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refit)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny FD001 run on synthetic files, written as a result file. With a plateau
    patience of 0, every epoch that does not improve validation halves the LR."""
    folder = tmp_path_factory.mktemp("cmapss")
    write_cmapss_files(synthetic_tables(n_train=12, n_test=8, seed=1), folder)
    config = tiny_config(
        "baseline",
        model=TINIER_MODEL,
        max_epochs=6,
        lr=0.03,
        seed=1,
        plateau_patience=0,
        data_dir=str(folder),
    )
    result = train(config, progress=False)
    assert result.status == "ok" and result.best_epoch >= 1
    return folder, write_result(result, tmp_path_factory.mktemp("results")), result


def test_the_control_reproduces_the_runs_test_rmse(finished_run, monkeypatch):
    folder, path, result = finished_run
    monkeypatch.setenv("RULKIT_DATA_DIR", str(folder))
    record = refit.refit(str(path), add_val=False)
    assert record["control"] and record["epochs"] == result.best_epoch
    assert record["train_windows"] == record["run_train_windows"]
    assert record["refit_test"]["rmse"] == pytest.approx(result.test["rmse"], abs=1e-9)


def test_the_refit_adds_the_validation_windows(finished_run, monkeypatch):
    folder, path, result = finished_run
    monkeypatch.setenv("RULKIT_DATA_DIR", str(folder))
    record = refit.refit(str(path))
    assert record["train_windows"] == result.data["n_train_windows"] + result.data["n_val_windows"]
    assert record["run_test_rmse"] == result.test["rmse"]
    assert record["refit_test"]["rmse"] != pytest.approx(result.test["rmse"])
    assert len(record["pred"]) == len(record["true"]) == result.data["n_test_engines"]


def test_the_replay_follows_the_runs_validation_curve(finished_run, monkeypatch, tmp_path):
    """Fed a validation curve that only worsens, the replayed plateau rule lowers the LR
    after every epoch from the second; fed one that only improves, never. The two
    replays must end in different models."""
    folder, path, result = finished_run
    monkeypatch.setenv("RULKIT_DATA_DIR", str(folder))
    assert result.best_epoch >= 3  # else the LR differs in no replayed epoch
    run = json.loads(path.read_text())
    test_rmse = {}
    for name, sign in (("worse", 1), ("better", -1)):
        run["curves"]["val_rmse"] = [20.0 + sign * e for e in range(result.epochs_run)]
        changed = tmp_path / f"{name}.json"
        changed.write_text(json.dumps(run))
        test_rmse[name] = refit.refit(str(changed), add_val=False)["refit_test"]["rmse"]
    assert test_rmse["worse"] != pytest.approx(test_rmse["better"], abs=1e-6)
