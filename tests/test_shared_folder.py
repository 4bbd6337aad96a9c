"""A results folder shared by several workers and machines (NFS, a cluster): temporary
files are removed only when they are certainly this host's and their writer is dead, and
the run lock's heartbeat survives a flaky folder yet notices when the lock is lost."""

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rulkit.runs.checkpoint import RunLock, remove_stale_temporaries

REAL_REPLACE = os.replace


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    return int(out.stdout)


def wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def failing_lock_writes(monkeypatch, lock: Path, times: float, then=None) -> list:
    """Make the first ``times`` renames onto ``lock`` fail with OSError (a flaky shared
    folder), after doing ``then(lock)``; returns the list of failures so far."""
    failures = []

    def replace(src, dst, *args, **kwargs):
        if Path(dst) == lock and len(failures) < times:
            Path(src).unlink(missing_ok=True)
            if then is not None:
                then(lock)
            failures.append(time.time())
            raise OSError(5, "Input/output error (simulated)")
        return REAL_REPLACE(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return failures


# ------------------------------------------------------------------ stale temporaries


def test_another_hosts_temporary_survives(tmp_path, dead_pid):
    # Its pid means nothing on this machine: it may be a checkpoint being written right now.
    other = tmp_path / f".run.pt.node-7.{dead_pid}.0a1b2c3d.tmp"
    other.write_bytes(b"half a checkpoint")
    remove_stale_temporaries(tmp_path)
    assert other.exists()


@pytest.mark.parametrize("name", [".notes.tmp", ".run.pt.tmp", ".run.pt.x.y.tmp"])
def test_a_temporary_of_unknown_form_survives(tmp_path, name):
    (tmp_path / name).write_text("not ours to judge")
    remove_stale_temporaries(tmp_path)
    assert (tmp_path / name).exists()


def test_the_heartbeat_temporary_of_a_live_run_survives(tmp_path, monkeypatch):
    # Another worker starting in the same folder cleans up while our heartbeat is being
    # written: the half-written lock must stay, and the heartbeat must go on.
    lock = tmp_path / "run.lock"
    survived = []

    def replace(src, dst, *args, **kwargs):
        if Path(dst) == lock:
            remove_stale_temporaries(tmp_path)
            survived.append(Path(src).exists())
        return REAL_REPLACE(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    with RunLock(lock, heartbeat=0.02) as run:
        first = json.loads(lock.read_text())["heartbeat"]
        assert wait_until(lambda: len(survived) >= 3)
        assert all(survived)
        assert wait_until(lambda: json.loads(lock.read_text())["heartbeat"] > first)
        assert run._thread.is_alive() and not run.lost


def test_this_hosts_temporary_of_a_dead_writer_is_removed(tmp_path):
    # A process that died while writing: a temporary named the way every writer names it.
    script = (
        "import sys\nfrom pathlib import Path\nfrom rulkit.results import temp_path\n"
        "temp_path(Path(sys.argv[1])).write_bytes(b'half a checkpoint')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "run.pt")], check=True)
    assert len(list(tmp_path.glob(".run.pt.*.tmp"))) == 1
    remove_stale_temporaries(tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))


def test_temporary_names_say_host_and_pid(tmp_path, monkeypatch):
    from rulkit.results import temp_owner, temp_path

    monkeypatch.setattr(socket, "gethostname", lambda: "gpu1.cluster.example.org")
    tmp = temp_path(tmp_path / "FD001_grace_seed0_full.json")
    assert tmp.parent == tmp_path and tmp.name.startswith(".FD001_grace_seed0_full.json.")
    assert temp_owner(tmp.name) == ("gpu1_cluster_example_org", os.getpid())
    assert temp_path(tmp_path / "a") != temp_path(tmp_path / "a")
    assert temp_owner(".run.pt.1234.tmp") is None


# ------------------------------------------------------------------ the heartbeat


def test_the_heartbeat_survives_failed_writes(tmp_path, monkeypatch, caplog):
    lock = tmp_path / "run.lock"
    failures = failing_lock_writes(monkeypatch, lock, times=3)
    with caplog.at_level(logging.WARNING), RunLock(lock, heartbeat=0.02) as run:
        first = json.loads(lock.read_text())["heartbeat"]
        assert wait_until(lambda: json.loads(lock.read_text())["heartbeat"] > first)
        assert len(failures) == 3
        assert run._thread.is_alive() and not run.lost
    assert len([r for r in caplog.records if "lock" in r.getMessage()]) == 1  # logged once
    assert not list(tmp_path.glob(".*.tmp"))


def _take_over(lock: Path) -> None:
    record = {"host": "node-7", "pid": 1, "token": "theirs", "heartbeat": time.time()}
    lock.write_text(json.dumps(record))


@pytest.mark.parametrize("then", [_take_over, Path.unlink], ids=["taken over", "removed"])
def test_a_lock_lost_while_the_heartbeat_failed_is_marked_lost(tmp_path, monkeypatch, then):
    # The usual way to lose a lock: the heartbeat cannot write for a while, another worker
    # judges it stale and takes it over (or it is removed). The run must learn of it.
    lock = tmp_path / "run.lock"
    failing_lock_writes(monkeypatch, lock, times=1, then=then)
    with RunLock(lock, heartbeat=0.02) as run:
        assert wait_until(lambda: run.lost)
    if then is _take_over:  # and releasing it leaves the new holder's lock alone
        assert json.loads(lock.read_text())["token"] == "theirs"


def test_a_lock_that_cannot_be_refreshed_for_too_long_is_marked_lost(tmp_path, monkeypatch):
    lock = tmp_path / "run.lock"
    failing_lock_writes(monkeypatch, lock, times=float("inf"))
    with RunLock(lock, heartbeat=0.02, stale_after=0.2) as run:
        assert wait_until(lambda: run.lost)
        assert wait_until(lambda: not run._thread.is_alive())  # and stops beating
