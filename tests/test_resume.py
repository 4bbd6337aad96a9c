"""Runs that survive interruption: checkpoints, exact resume, time slices, run identity,
and the run lock (a tiny model on a synthetic fleet; seconds per run)."""

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from _support import TINY_MODEL, rulkit_argv, stop_after_step, tiny_config

from rulkit.data import prepare, synthetic_tables, write_cmapss_files
from rulkit.runs import RunStopped, checkpoint_path, train_run
from rulkit.runs.checkpoint import (
    EXIT_STOPPED,
    RunLock,
    RunLocked,
    load_checkpoint,
    lock_holder,
    remove_stale_temporaries,
    save_checkpoint,
)
from rulkit.train import TrainConfig, profile_config, train

# What must come out the same, however often a run was interrupted.
OUTCOME = (
    "test",
    "val",
    "per_engine",
    "best_epoch",
    "epochs_run",
    "steps",
    "curves",
    "task_history",
)


def tiny(method="grace", **overrides) -> TrainConfig:
    """tiny_config with four epochs (of 7 steps on the fleet)."""
    return tiny_config(method, **{"max_epochs": 4, **overrides})


def outcome(result) -> dict:
    record = result if isinstance(result, dict) else result.to_dict()
    return {k: record[k] for k in OUTCOME}


@pytest.mark.parametrize("method", ["grace", "gradnorm", "dwa", "uncertainty"])
def test_stopping_mid_epoch_and_resuming_is_exact(method, fleet, tmp_path, monkeypatch):
    """Every piece of state travels: balancer (EMA, clocks, GradNorm's optimiser, DWA's
    history, log-variances), optimiser, weight EMA, schedule, RNGs, records."""
    reference = train(tiny(method), data=fleet, progress=False)
    for step in (3, 10, 17):  # epochs have 7 steps: inside epochs 1, 2 and 3
        with monkeypatch.context() as patch, pytest.raises(RunStopped, match="stopped by"):
            stop_after_step(patch, step)
            train_run(tiny(method), data=fleet, progress=False, out_dir=tmp_path)
        state = load_checkpoint(checkpoint_path(tmp_path, tiny(method)))
        assert state["step"] == step and state["partial"] is not None
    resumed = train_run(tiny(method), data=fleet, progress=False, out_dir=tmp_path)
    assert outcome(resumed) == outcome(reference)
    assert len(resumed.provenance["segments"]) == 4
    assert not checkpoint_path(tmp_path, tiny(method)).exists(), "checkpoint not deleted"


def test_time_slices_give_the_uninterrupted_result(fleet, tmp_path):
    """max_minutes=0: every call stops at its first epoch end; the fifth call finishes."""
    reference = train(tiny("gaba"), data=fleet, progress=False)
    cfg = tiny("gaba", max_minutes=0)
    for epoch in (1, 2, 3):
        with pytest.raises(RunStopped, match=f"epoch {epoch}, stopped for time"):
            train_run(cfg, data=fleet, progress=False, out_dir=tmp_path)
        assert not list(tmp_path.glob("*.json")), "a stopped run wrote a result file"
    result = train_run(cfg, data=fleet, progress=False, out_dir=tmp_path, keep_checkpoint=True)
    assert outcome(result) == outcome(reference)
    segments = result.provenance["segments"]
    assert [(s["start_epoch"], s["end_epoch"]) for s in segments] == [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
    ]
    assert [s["ended"] for s in segments] == ["time limit"] * 3 + ["finished"]
    assert all(s["host"] == socket.gethostname() and s["wall_s"] > 0 for s in segments)
    assert result.provenance["wall_time_s"] == pytest.approx(sum(s["wall_s"] for s in segments))
    assert checkpoint_path(tmp_path, cfg).exists(), "keep_checkpoint=True deleted it"


def test_checkpoint_is_plain_tensors_and_numbers(fleet, tmp_path, monkeypatch):
    stop_after_step(monkeypatch, 9)
    with pytest.raises(RunStopped):
        train_run(tiny("gradnorm"), data=fleet, progress=False, out_dir=tmp_path)
    path = checkpoint_path(tmp_path, tiny("gradnorm"))
    state = torch.load(path, weights_only=True)  # raises on any pickled object
    for key in (
        "model",
        "ema",
        "optimizer",
        "balancer",
        "lr",
        "rng",
        "history",
        "curves",
        "best",
        "epoch",
        "step",
        "config",
        "segments",
        "partial",
    ):
        assert key in state, key
    assert "_extra_state" in state["balancer"], "GradNorm's optimiser state is missing"
    assert set(state["rng"]) >= {"python", "numpy", "torch", "cuda", "batch_order"}


def test_a_checkpoint_of_another_config_is_refused(fleet, tmp_path, monkeypatch):
    with monkeypatch.context() as patch, pytest.raises(RunStopped):
        stop_after_step(patch, 2)
        train_run(tiny("grace"), data=fleet, progress=False, out_dir=tmp_path)
    ckpt = checkpoint_path(tmp_path, tiny("grace"))
    other = checkpoint_path(tmp_path, tiny("grace", lr=0.05))
    other.parent.mkdir(exist_ok=True)
    ckpt.rename(other)  # the same file name, another config inside
    with pytest.raises(ValueError, match=r"lr: checkpoint 0\.01 vs requested 0\.05"):
        train_run(tiny("grace", lr=0.05), data=fleet, progress=False, out_dir=tmp_path)
    assert other.exists(), "the refused checkpoint must be left alone"


def test_a_run_may_change_device_threads_and_limits_between_slices(fleet, tmp_path, monkeypatch):
    with monkeypatch.context() as patch, pytest.raises(RunStopped):
        stop_after_step(patch, 2)
        train_run(tiny("baseline"), data=fleet, progress=False, out_dir=tmp_path)
    more = tiny("baseline", threads=2, eval_batch_size=7, max_minutes=60.0)
    assert more.run_name() == tiny("baseline").run_name()
    assert train_run(more, data=fleet, progress=False, out_dir=tmp_path).status == "ok"


# ------------------------------------------------------------------ run identity


def test_run_names_say_what_was_trained():
    full = profile_config("full", subset="FD001", method="grace", seed=3)
    assert full.label() == "full" and full.run_name() == "FD001_grace_seed3_full"
    assert profile_config("smoke").label() == "smoke"
    # runtime and record fields do not change what is trained
    same = profile_config(
        "full",
        subset="FD001",
        method="grace",
        seed=3,
        device="cpu",
        threads=2,
        record_every=1,
        record_test_rmse=True,
        max_minutes=5,
    )
    assert same.run_name() == full.run_name()
    changed = profile_config("full", subset="FD001", method="grace", seed=3, lr=0.1)
    assert changed.label().startswith("custom-") and len(changed.label()) == len("custom-") + 8
    assert changed.overrides() == {"lr": 0.1}
    assert profile_config("full", lr=1).label() == profile_config("full", lr=1.0).label()
    other = profile_config("full", subset="FD001", method="grace", seed=3, max_epochs=3)
    assert len({changed.label(), other.label(), full.label()}) == 3
    # a smoke run with the full recipe's value for a field is still a change to smoke
    assert profile_config("smoke", max_epochs=500).label().startswith("custom-")


def test_overridden_runs_are_not_labelled_full(fleet, tmp_path):
    result = train_run(tiny("amnl", max_epochs=1), data=fleet, progress=False, out_dir=tmp_path)
    record = json.loads((tmp_path / f"{result.name}.json").read_text())
    assert record["profile"] == "custom" and record["base_profile"] == "smoke"
    assert record["config_hash"] and result.name.endswith(record["config_hash"])


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="val_fraction must be in"):
        profile_config("smoke", val_fraction=0)
    with pytest.raises(ValueError, match="max_minutes must be >= 0"):
        profile_config("smoke", max_minutes=-1)
    with pytest.raises(ValueError, match="model must be a mapping"):  # --set model= unquoted
        profile_config("smoke", model="{lstm_hidden:32}")


def test_all_nan_validation_is_a_failed_run(tmp_path):
    data = prepare(tables=synthetic_tables(n_train=12, n_test=8, seed=1), seed=0)
    data.val.X[:] = float("nan")
    result = train_run(tiny("baseline", max_epochs=2), data=data, progress=False, out_dir=tmp_path)
    assert result.status == "failed" and "validation RMSE is nan" in result.error
    assert json.loads((tmp_path / f"{result.name}.json").read_text())["status"] == "failed"


def test_lr_curve_records_the_rate_each_epoch_trained_with(fleet):
    """With patience 0 every epoch that does not improve halves the rate of the NEXT one."""
    cfg = tiny("baseline", max_epochs=6, plateau_patience=0, early_stop_patience=10)
    c = train(cfg, data=fleet, progress=False).curves
    assert c["lr"][0] == pytest.approx(cfg.lr)  # warm-up (one epoch) ends on its last step
    best = math.inf
    for e in range(len(c["lr"]) - 1):
        improved = c["val_rmse"][e] < best * (1 - 1e-4)
        best = min(best, c["val_rmse"][e]) if improved else best
        assert c["lr"][e + 1] == pytest.approx(c["lr"][e] * (1 if improved else 0.5))
    assert len(set(c["lr"])) > 1, "the plateau rule never acted: the test proves nothing"


def test_recording_the_test_curve_changes_nothing_chosen(fleet):
    plain = train(tiny("grace"), data=fleet, progress=False)
    recorded = train(tiny("grace", record_test_rmse=True), data=fleet, progress=False)
    test_curve = recorded.curves.pop("test_rmse")
    assert len(test_curve) == recorded.epochs_run and all(math.isfinite(v) for v in test_curve)
    assert outcome(recorded) == outcome(plain)
    assert recorded.name == plain.name


# ------------------------------------------------------------------ files and locks


def test_a_kill_during_the_checkpoint_write_leaves_the_old_one(tmp_path):
    path = tmp_path / "run.pt"
    save_checkpoint({"epoch": 1, "w": torch.ones(3)}, path)
    script = (
        "import sys, torch\n"
        "from rulkit.runs.checkpoint import save_checkpoint\n"
        "state = {'epoch': 2, 'w': torch.zeros(60_000_000)}\n"
        "while True:\n"
        "    save_checkpoint(state, sys.argv[1])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)])
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".run.pt.*.tmp")):
        time.sleep(0.005)
    proc.kill()  # SIGKILL while the temporary file is being written
    proc.wait()
    assert list(tmp_path.glob(".run.pt.*.tmp")), "never caught the write in progress"
    assert load_checkpoint(path)["epoch"] in (1, 2)  # the old file or a whole new one
    remove_stale_temporaries(tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_lock_is_exclusive_and_released(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path):
        assert lock_holder(path)["pid"] == os.getpid()
        with pytest.raises(RunLocked, match="is being trained by pid"):
            RunLock(path).acquire()
    assert not path.exists() and lock_holder(path) is None


def test_a_dead_holders_lock_is_taken_over(tmp_path):
    path = tmp_path / "run.lock"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    record = {
        "host": socket.gethostname(),
        "pid": int(dead),
        "token": "x",
        "heartbeat": time.time(),
    }
    path.write_text(json.dumps(record))
    assert lock_holder(path) is None  # same host, process gone
    with RunLock(path) as lock:
        assert json.loads(path.read_text())["token"] == lock.token


def test_another_hosts_lock_is_stale_only_when_its_heartbeat_is(tmp_path):
    path = tmp_path / "run.lock"
    record = {"host": "elsewhere", "pid": 1, "token": "x", "heartbeat": time.time()}
    path.write_text(json.dumps(record))
    with pytest.raises(RunLocked):
        RunLock(path, stale_after=60).acquire()
    path.write_text(json.dumps({**record, "heartbeat": time.time() - 61}))
    with RunLock(path, stale_after=60):
        assert json.loads(path.read_text())["host"] == socket.gethostname()


def test_the_heartbeat_refreshes_the_lock(tmp_path):
    path = tmp_path / "run.lock"
    with RunLock(path, heartbeat=0.05):
        first = json.loads(path.read_text())["heartbeat"]
        time.sleep(0.3)
        assert json.loads(path.read_text())["heartbeat"] > first


# ------------------------------------------------------------------ real processes


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmapss")
    write_cmapss_files(synthetic_tables(n_train=16, n_test=4, seed=3), folder)
    return folder


def cli_train(out, data_dir, *extra):
    """`rulkit train` of a tiny model; epochs of ~70 steps so that a signal lands inside one."""
    cmd = rulkit_argv(
        "train",
        *("--subset", "FD001", "--method", "grace", "--profile", "smoke", "--device", "cpu"),
        *("--quiet", "--out", out, "--data-dir", data_dir),
        *extra,
        settings=dict(
            model=TINY_MODEL,
            batch_size=16,
            max_train_engines=16,
            max_epochs=4,
            threads=1,
            record_every=1,
        ),
    )
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(out, data_dir) -> dict:
    proc = cli_train(out, data_dir)
    log, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, log
    (path,) = out.glob("FD001_grace_seed0_custom-*.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def uninterrupted(synthetic_dir, tmp_path_factory):
    return finish(tmp_path_factory.mktemp("reference"), synthetic_dir)


def wait_for(predicate, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_epoch_checkpoints_and_the_rerun_is_exact(
    sig, synthetic_dir, uninterrupted, tmp_path
):
    out = tmp_path / "out"
    proc = cli_train(out, synthetic_dir)
    ckpt_dir = out / "checkpoints"
    assert wait_for(lambda: list(ckpt_dir.glob("*.pt"))), "epoch 1 never ended"
    time.sleep(0.2)  # inside epoch 2 (an epoch takes a second or two)
    sent = time.time()
    proc.send_signal(sig)
    log, _ = proc.communicate(timeout=60)
    assert time.time() - sent < 10, "took too long to save and stop"
    assert proc.returncode == EXIT_STOPPED, log
    assert f"stopped by signal {sig.name}; run the same command to continue" in log
    assert re.search(r"in epoch \d \(step \d+\)", log), log  # mid-epoch, not at its end
    (ckpt,) = ckpt_dir.glob("*.pt")
    assert load_checkpoint(ckpt)["partial"] is not None
    resumed = finish(out, synthetic_dir)
    assert outcome(resumed) == outcome(uninterrupted)
    assert [s["ended"] for s in resumed["provenance"]["segments"]] == [
        f"signal {sig.name}",
        "finished",
    ]


@pytest.mark.slow
def test_kill_9_at_any_moment_loses_at_most_an_epoch(synthetic_dir, uninterrupted, tmp_path):
    """kill -9 leaves no chance to save: what survives is the checkpoint of the last epoch
    end, so only the epoch in progress is redone. Each process is killed a moment after a
    checkpoint landed; every epoch it was seen to finish must survive the kill, and the next
    process must start from there."""
    out = tmp_path / "out"
    ckpt_dir = out / "checkpoints"
    last = lambda: max((p.stat().st_mtime_ns for p in ckpt_dir.glob("*.pt")), default=0)

    def saved_epoch() -> int:
        (ckpt,) = ckpt_dir.glob("*.pt")
        state = load_checkpoint(ckpt)
        assert state["partial"] is None, "only a stop request saves inside an epoch"
        return state["epoch"]

    kept = []  # the epoch of the checkpoint each killed process left behind
    for delay in (0.05, 0.4, 0.2):  # after a checkpoint: inside the next epoch
        seen = last()
        proc = cli_train(out, synthetic_dir)
        wait_for(lambda: last() > seen or proc.poll() is not None)  # noqa: B023
        finished = saved_epoch()  # an epoch end this process reached
        time.sleep(delay)
        if proc.poll() is not None:
            break
        proc.kill()
        proc.communicate()
        left = saved_epoch()
        assert left >= finished > (kept[-1] if kept else 0), (kept, finished, left)
        kept.append(left)
    assert len(kept) >= 2
    resumed = finish(out, synthetic_dir)
    assert outcome(resumed) == outcome(uninterrupted)
    segments = resumed["provenance"]["segments"]
    # each process took over at the epoch its predecessor's checkpoint held: nothing
    # before that epoch end was trained twice
    spans = [(s["start_epoch"], s["end_epoch"]) for s in segments]
    assert spans == list(zip([0, *kept], [*kept, resumed["epochs_run"]])), (spans, kept)
    ends = [s["ended"] for s in segments]
    assert ends[-1] == "finished" and all(e.startswith("killed") for e in ends[:-1])


def test_notebooks_train_the_smoke_profile_unless_asked(monkeypatch):
    from rulkit.config import expected_cost, notebook_profile

    monkeypatch.delenv("RULKIT_PROFILE", raising=False)
    assert notebook_profile() == "smoke"
    monkeypatch.setenv("RULKIT_PROFILE", "Full")
    assert notebook_profile() == "full"
    monkeypatch.setenv("RULKIT_PROFILE", "huge")
    with pytest.raises(ValueError, match="must be 'smoke' or 'full'"):
        notebook_profile()
    assert "500 epochs" in expected_cost("full", 2) and "2 run(s)" in expected_cost("full", 2)
    assert "5 epochs" in expected_cost("smoke")


def test_status_says_where_each_run_stands(fleet, tmp_path, capsys, monkeypatch):
    """`rulkit status`: finished runs from their files, part-way runs from their checkpoints
    (who holds them, the earliest epoch early stopping allows, time left at their pace)."""
    from rulkit.cli import main
    from rulkit.runs.sweep import progress

    done = train_run(tiny("amnl"), data=fleet, progress=False, out_dir=tmp_path)
    name = tiny("amnl").run_name()
    cfg = tiny("gaba", max_minutes=0)
    for _ in range(2):  # two one-epoch slices: paused at epoch 2
        with pytest.raises(RunStopped):
            train_run(cfg, data=fleet, progress=False, out_dir=tmp_path)
    (tmp_path / "checkpoints" / "FD001_dwa_seed0_custom.pt").write_bytes(b"not a checkpoint")
    rows = {r["run"]: r for r in progress(tmp_path)}
    assert set(rows) == {name, cfg.run_name(), "FD001_dwa_seed0_custom"}
    finished = rows[name]
    assert finished["state"] == "ok" and finished["epoch"] == done.epochs_run
    assert finished["best epoch"] == done.best_epoch and finished["min hours left"] == 0
    part = rows[cfg.run_name()]
    state = load_checkpoint(checkpoint_path(tmp_path, cfg))
    assert part["state"] == "paused" and part["epoch"] == 2
    assert part["best epoch"] == state["best"]["epoch"]
    assert part["earliest end"] == min(cfg.max_epochs, state["best"]["epoch"] + 5)
    last = state["segments"][-1]
    pace = last["wall_s"] / (last["end_epoch"] - last["start_epoch"])
    assert part["min hours left"] == pytest.approx((part["earliest end"] - 2) * pace / 3600)
    assert part["segments"] == 2
    assert rows["FD001_dwa_seed0_custom"]["state"].startswith("unreadable checkpoint")
    early = tiny("dwa")  # stopped inside epoch 1: no validation yet
    with monkeypatch.context() as patch, pytest.raises(RunStopped):
        stop_after_step(patch, 2)
        train_run(early, data=fleet, progress=False, out_dir=tmp_path)
    row = {r["run"]: r for r in progress(tmp_path)}[early.run_name()]
    assert row["epoch"] == 0 and row["best val RMSE"] is None
    assert row["earliest end"] == min(early.max_epochs, 1 + early.early_stop_patience)

    lock = checkpoint_path(tmp_path, cfg).with_suffix(".lock")  # a live holder: this process
    now = time.time()
    record = {"host": socket.gethostname(), "pid": os.getpid(), "started": now, "heartbeat": now}
    lock.write_text(json.dumps(record))
    held = {r["run"]: r for r in progress(tmp_path)}[cfg.run_name()]
    assert held["state"] == f"training (pid {os.getpid()} on {socket.gethostname()})"

    assert main(["status", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert cfg.run_name() in text and name in text
    assert "1 finished, 0 failed, 1 training now, 1 paused" in text
    assert main(["status", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_sigterm_while_the_lock_is_given_back_leaves_no_lock(tmp_path):
    # The signal comes at the worst moment: training is over and the lock is being released.
    script = f"""
import os, signal
from rulkit.data import prepare, synthetic_tables
from rulkit.runs import checkpoint, train_run
from rulkit.train import profile_config
release = checkpoint.RunLock.release
def late_release(self):
    os.kill(os.getpid(), signal.SIGTERM)
    release(self)
checkpoint.RunLock.release = late_release
cfg = profile_config("smoke", subset="FD001", model={TINY_MODEL!r}, max_epochs=1,
                     batch_size=64, device="cpu", threads=1)
data = prepare(tables=synthetic_tables(n_train=12, n_test=8, seed=1), seed=0)
train_run(cfg, data=data, progress=False, out_dir={str(tmp_path)!r})
print("survived")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and "survived" in done.stdout, done.stderr[-2000:]
    assert list(tmp_path.glob("*.json")), "no result file"
    assert not list((tmp_path / "checkpoints").glob("*.lock")), "a lock was left behind"
