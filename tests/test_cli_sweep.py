"""The command line and the resumable sweep, on a synthetic FD001 written to disk."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rulkit.cli import main
from rulkit.data import synthetic_tables, write_cmapss_files
from rulkit.sweep import grid, parse_seeds, sweep

TINY = {
    "model": {
        "conv_channels": [8, 8, 8],
        "lstm_hidden": 8,
        "attention_heads": 2,
        "funnel": [16, 8, 8],
        "rul_head": [8],
        "health_head": [8],
    },
    "max_epochs": 1,
    "batch_size": 64,
    "threads": 1,
    "max_train_engines": 4,
}


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmapss")
    write_cmapss_files(synthetic_tables(n_train=8, n_test=4, seed=3), folder)
    return folder


def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds(["0,2", "5"]) == [0, 2, 5]
    with pytest.raises(ValueError):
        parse_seeds("")


def test_grid_is_seed_major_and_validated():
    runs = grid(["FD002", "fd4"], ["gaba", "grace"], [0, 1])
    assert [r.seed for r in runs] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert {r.subset for r in runs} == {"FD002", "FD004"}
    with pytest.raises(ValueError, match="valid methods"):
        grid(["FD001"], ["magic"], [0])


def test_help_lists_methods_and_subsets(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in ("train", "sweep", "report", "grace", "dwa", "FD004", "RULKIT_DATA_DIR"):
        assert word in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--method", "magic"], "valid methods: baseline, amnl, gaba, grace"),
        (["train", "--subset", "FD007"], "valid subsets: FD001, FD002, FD003, FD004"),
        (["sweep", "--methods", "gaba", "nope"], "valid methods"),
        (["train", "--set", "epochs=3"], "unknown config field"),
    ],
)
def test_bad_names_list_the_valid_ones(argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert message in str(exit_info.value)


def test_train_cli_writes_result(synthetic_dir, tmp_path, capsys):
    argv = [
        "train",
        "--subset",
        "FD001",
        "--method",
        "amnl",
        "--profile",
        "smoke",
        "--quiet",
        "--device",
        "cpu",
        "--data-dir",
        str(synthetic_dir),
        "--out",
        str(tmp_path),
    ]
    for key, value in TINY.items():
        argv += ["--set", f"{key}={json.dumps(value)}"]
    assert main(argv) == 0
    record = json.loads((tmp_path / "FD001_amnl_seed0_smoke.json").read_text())
    assert record["status"] == "ok" and record["config"]["max_train_engines"] == 4
    assert "test RMSE" in capsys.readouterr().out


def test_budget_zero_starts_nothing(tmp_path):
    summary = sweep(
        ["FD001"], ["gaba"], [0, 1], tmp_path, "smoke", "cpu", budget_minutes=0, progress=False
    )
    assert summary["not_started"] == 2 and summary["ok"] == 0
    assert not list(tmp_path.glob("*.json"))


def _sweep_cmd(out, data_dir):
    cmd = [
        sys.executable,
        "-m",
        "rulkit",
        "sweep",
        "--subsets",
        "FD001",
        "--methods",
        "baseline",
        "gaba",
        "--seeds",
        "0-1",
        "--profile",
        "smoke",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(out),
        "--set",
        f"data_dir={json.dumps(str(data_dir))}",
    ]
    for key, value in TINY.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    return cmd


def test_killed_sweep_resumes_without_loss(synthetic_dir, tmp_path):
    out = tmp_path / "results"
    proc = subprocess.Popen(
        _sweep_cmd(out, synthetic_dir),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its running child, mid-flight
    proc.wait()
    first = sorted(out.glob("*.json"))
    assert first, "no run finished before the kill"
    for path in first:
        assert json.loads(path.read_text())["status"] == "ok"  # whole files only
    stamps = {p.name: p.stat().st_mtime_ns for p in first}

    done = subprocess.run(
        _sweep_cmd(out, synthetic_dir), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(p.name for p in out.glob("*.json"))
    assert files == sorted(
        f"FD001_{m}_seed{s}_smoke.json" for m in ("baseline", "gaba") for s in (0, 1)
    )
    assert all(json.loads((out / f).read_text())["status"] == "ok" for f in files)
    for name, stamp in stamps.items():  # finished runs were skipped, not redone
        assert (out / name).stat().st_mtime_ns == stamp
    assert f"{len(stamps)} already done" in done.stdout
