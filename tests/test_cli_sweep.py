"""The command line and the resumable sweep, on a synthetic FD001 written to disk."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _support import TINIER_MODEL, nan_loss_at_step, rulkit_argv, set_options

from rulkit.cli import main
from rulkit.data import synthetic_tables, write_cmapss_files
from rulkit.runs.sweep import grid, parse_seeds, sweep

# Overrides of the smoke profile for every run these tests start: one epoch of a tiny model.
TINY = {
    "model": TINIER_MODEL,
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
def test_bad_names_list_the_valid_ones(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("rulkit: error:") and message in err
    assert "Traceback" not in err


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
    argv += set_options(TINY)
    assert main(argv) == 0
    (path,) = tmp_path.glob("FD001_amnl_seed0_custom-*.json")  # overridden: not "smoke"
    record = json.loads(path.read_text())
    assert record["status"] == "ok" and record["config"]["max_train_engines"] == 4
    assert record["profile"] == "custom" and record["base_profile"] == "smoke"
    assert "test RMSE" in capsys.readouterr().out
    assert not list((tmp_path / "checkpoints").glob("*.pt")), "checkpoint left behind"
    assert main(argv) == 0  # the same command again: nothing to do
    assert "already done" in capsys.readouterr().out


def test_no_time_starts_nothing(tmp_path):
    summary = sweep(
        ["FD001"], ["gaba"], [0, 1], tmp_path, "smoke", "cpu", max_minutes=0, progress=False
    )
    assert summary["not_started"] == 2 and summary["ok"] == 0
    assert not list(tmp_path.glob("*.json"))


def _sweep_cmd(out, data_dir):
    return rulkit_argv(
        "sweep",
        *("--subsets", "FD001", "--methods", "baseline", "gaba", "--seeds", "0-1"),
        *("--profile", "smoke", "--device", "cpu", "--quiet", "--out", out),
        settings={"data_dir": str(data_dir), **TINY},
    )


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
    assert [f.split("_custom-")[0] for f in files] == sorted(
        f"FD001_{m}_seed{s}" for m in ("baseline", "gaba") for s in (0, 1)
    )
    assert all(json.loads((out / f).read_text())["status"] == "ok" for f in files)
    for name, stamp in stamps.items():  # finished runs were skipped, not redone
        assert (out / name).stat().st_mtime_ns == stamp
    assert f"{len(stamps)} already done" in done.stdout


def _shared_sweep(out, data_dir, *extra, epochs=1):
    cmd = _sweep_cmd(out, data_dir) + ["--set", f"max_epochs={epochs}", *extra]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _results(out):
    return {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}


@pytest.mark.slow
def test_three_concurrent_sweeps_train_every_run_once(synthetic_dir, tmp_path):
    out = tmp_path / "results"
    procs = [_shared_sweep(out, synthetic_dir) for _ in range(3)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], logs
    results = _results(out)
    assert len(results) == 4, sorted(results)
    for name, record in results.items():
        assert record["status"] == "ok", name
        assert len(record["provenance"]["segments"]) == 1, f"{name} was trained twice"
    trained = sum(int(log.split(" ok,")[0].rsplit(" ", 1)[1]) for log in logs)
    assert trained == 4, logs  # the three summaries add up to the grid
    assert not list((out / "checkpoints").glob("*.lock")), "a lock was left behind"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.split(") ", 1)[1][0] != "Z"


@pytest.mark.slow
def test_kill_9_of_a_sweep_stops_its_child_and_another_sweep_resumes_it(synthetic_dir, tmp_path):
    out = tmp_path / "results"
    extra = ["--set", "batch_size=16", "--set", "max_train_engines=8"]
    first = _shared_sweep(out, synthetic_dir, *extra, epochs=3)
    ckpts = out / "checkpoints"
    deadline = time.time() + 120
    while time.time() < deadline and not list(ckpts.glob("*.pt")):
        time.sleep(0.05)
    (lock,) = ckpts.glob("*.lock")
    child = json.loads(lock.read_text())["pid"]
    first.kill()  # SIGKILL of the sweep alone: its child is not in its process group
    first.communicate()
    deadline = time.time() + 30
    while time.time() < deadline and _pid_alive(child):
        time.sleep(0.05)
    assert not _pid_alive(child), "the orphaned trainer kept running"
    assert not lock.exists(), "the child did not release its lock"

    second = _shared_sweep(out, synthetic_dir, *extra, epochs=3)
    log = second.communicate(timeout=600)[0]
    assert second.returncode == 0, log
    results = _results(out)
    assert len(results) == 4
    segments = {name: r["provenance"]["segments"] for name, r in results.items()}
    resumed = [name for name, s in segments.items() if len(s) == 2]
    assert len(resumed) == 1, segments
    assert segments[resumed[0]][0]["ended"] == "signal SIGTERM"
    assert all(len(s) == 1 for name, s in segments.items() if name not in resumed)


def test_shards_split_the_grid(tmp_path):
    from rulkit.runs.sweep import parse_shard

    assert parse_shard("1/3") == (1, 3) and parse_shard(None) == (0, 1)
    with pytest.raises(ValueError, match="0 <= i < n"):
        parse_shard("3/3")
    planned = [
        sweep(
            ["FD001"],
            ["gaba", "grace"],
            [0, 1, 2],
            tmp_path,
            "smoke",
            "cpu",
            max_minutes=0,
            progress=False,
            shard=(i, 3),
        )["planned"]
        for i in range(3)
    ]
    assert planned == [2, 2, 2]


def test_missing_data_is_one_clear_line(tmp_path, capsys):
    for command in ("train", "sweep"):
        argv = [
            command,
            "--profile",
            "smoke",
            "--device",
            "cpu",
            "--quiet",
            "--data-dir",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "out"),
        ]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("rulkit: error:") and "RULKIT_DATA_DIR" in err, err
        assert "Traceback" not in err
    assert not list((tmp_path / "out").glob("**/*.json")), "a run was started anyway"


def test_failed_runs_are_kept_unless_retried(synthetic_dir, tmp_path, capsys, monkeypatch):
    from rulkit.runs import train_run
    from rulkit.train import profile_config

    settings = dict(TINY, data_dir=str(synthetic_dir))
    cfg = profile_config("smoke", subset="FD001", method="gaba", seed=0, device="cpu", **settings)
    with monkeypatch.context() as patch:
        nan_loss_at_step(patch, 1)
        failed = train_run(cfg, progress=False, out_dir=tmp_path)
    assert failed.status == "failed"
    args = (["FD001"], ["gaba"], [0], tmp_path, "smoke", "cpu")
    kept = sweep(*args, overrides=settings, progress=False)
    assert kept["skipped"] == 1 and kept["ok"] == 0
    retried = sweep(*args, overrides=settings, retry_failed=True, progress=False)
    assert retried["ok"] == 1, retried
    assert json.loads((tmp_path / f"{cfg.run_name()}.json").read_text())["status"] == "ok"


def test_a_run_that_finishes_while_being_stopped_counts_as_what_it_wrote(tmp_path):
    from rulkit.runs.checkpoint import EXIT_STOPPED
    from rulkit.runs.sweep import _count

    (tmp_path / "FD001_baseline_seed0_smoke.json").write_text('{"status": "ok"}')
    summary = {"ok": 0, "failed": 0, "stopped": 0, "log": []}
    assert _count(summary, "FD001_baseline_seed0_smoke", 0, tmp_path, 0.0) == "ok"
    assert _count(summary, "FD001_grace_seed0_smoke", EXIT_STOPPED, tmp_path, 0.0) == "stopped"
    assert _count(summary, "FD001_gaba_seed0_smoke", -15, tmp_path, 0.0) == "stopped"
    assert _count(summary, "FD001_amnl_seed0_smoke", 1, tmp_path, 0.0) == "failed"
    assert (summary["ok"], summary["stopped"], summary["failed"]) == (1, 2, 1)
    assert summary["log"][3]["status"] == "exit code 1, no result file"


@pytest.mark.slow
def test_a_second_sigterm_does_not_cut_short_the_save(synthetic_dir, tmp_path):
    # timeout(1) sends SIGTERM to the sweep and then to its whole process group.
    out = tmp_path / "results"
    first = _shared_sweep(out, synthetic_dir, "--set", "batch_size=16", epochs=200)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "checkpoints").glob("*.pt")):
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    time.sleep(0.1)  # the sweep now waits for its child to save
    first.send_signal(signal.SIGTERM)
    log = first.communicate(timeout=180)[0]
    assert first.returncode == 75, log
    assert "Traceback" not in log and "1 stopped for time" in log, log
    (ckpt,) = (out / "checkpoints").glob("*.pt")
    assert not list((out / "checkpoints").glob("*.lock")), "the child did not release its lock"
    segments = torch.load(ckpt, weights_only=True)["segments"]
    assert segments[-1]["ended"] == "signal SIGTERM"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_time_limit_counts_from_the_start_of_the_process(monkeypatch):
    from rulkit import cli

    # A process that waits 1.5 s before it imports rulkit: its age includes the wait.
    code = "import time; time.sleep(1.5); from rulkit import cli; print(cli._seconds_since_start())"
    age = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
    assert 1.5 <= age < 60
    monkeypatch.setattr(cli, "_seconds_since_start", lambda: 30.0)
    assert cli._minutes_left(2.0) == pytest.approx(1.5)
    assert cli._minutes_left(0.25) == 0.0 and cli._minutes_left(None) is None


def _autogroup_in_effect() -> bool:
    """Autogroup scheduling applies: the file exists and names a group. A process whose
    ancestors never started a session (setsid) stays in the kernel's default autogroup,
    whose file reads empty (as PID 1's does on these machines, and CI's tests did)."""
    from rulkit.runs.sweep import autogroup_nice

    return os.access("/proc/self/autogroup", os.W_OK) and autogroup_nice() is not None


@pytest.mark.skipif(not _autogroup_in_effect(), reason="no Linux autogroup scheduling here")
def test_a_trained_child_keeps_the_sweeps_autogroup_niceness():
    """Each run starts its own session, hence a new autogroup at nice 0; the sweep copies
    its own autogroup niceness into it, so a lowered campaign stays lowered."""
    import functools

    from rulkit.runs.sweep import _child_setup

    show = [sys.executable, "-c", "print(open('/proc/self/autogroup').read())"]
    child = subprocess.run(
        show,
        capture_output=True,
        text=True,
        start_new_session=True,
        preexec_fn=functools.partial(_child_setup, 7),
        check=True,
    )
    assert child.stdout.split()[-2:] == ["nice", "7"]
    plain = subprocess.run(show, capture_output=True, text=True, start_new_session=True, check=True)
    assert plain.stdout.split()[-2:] == ["nice", "0"]  # what a run got before the fix


def test_autogroup_nice_reads_the_value_and_none_where_the_file_is_empty(tmp_path, monkeypatch):
    from rulkit.runs import sweep

    file = tmp_path / "autogroup"
    monkeypatch.setattr(sweep, "AUTOGROUP", file)
    assert sweep.autogroup_nice() is None  # no file
    file.write_text("")  # what a process in the default autogroup reads
    assert sweep.autogroup_nice() is None
    file.write_text("/autogroup-236 nice 19\n")
    assert sweep.autogroup_nice() == 19


def test_child_setup_retries_a_write_the_kernel_refuses_as_too_soon(monkeypatch):
    from rulkit.runs import sweep

    written = []

    class Refusing:
        """Refuses the first write with EAGAIN, as the kernel does within 0.1 s."""

        def write_text(self, text):
            if not written:
                written.append(None)
                raise BlockingIOError
            written.append(text)

    monkeypatch.setattr(sweep, "AUTOGROUP", Refusing())
    monkeypatch.setattr(sweep, "_die_with_parent", lambda: None)
    monkeypatch.setattr(sweep.time, "sleep", lambda s: None)
    sweep._child_setup(19)
    assert written == [None, "19"]
    written.clear()
    sweep._child_setup(0)  # nothing to copy: no write at all
    assert written == []
