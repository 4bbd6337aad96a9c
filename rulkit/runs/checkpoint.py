"""Surviving interruptions: checkpoint files, run locks and stop requests
(the training chapters 15, 18 and 22, and the book's "Running" page).

A full run is longer than most slices of compute (a Colab session, a borrowed
GPU, a preemptible job). So a run writes its whole state to a checkpoint at
every epoch end and when asked to stop, and running the same command again
continues from it. Three small pieces make that safe:

* :func:`save_checkpoint` / :func:`load_checkpoint`: one file per run, written
  to a temporary name and renamed, so a kill at any moment leaves either the
  old or the new checkpoint, never a torn one; plain containers of tensors and
  numbers, read back with ``torch.load(weights_only=True)`` (no pickle);
* :class:`RunLock`: a lock file per run, created exclusively, naming its
  holder (host, pid) and refreshed by a heartbeat, so any number of workers on
  one machine or on several sharing a folder train every run exactly once; a
  lock whose holder died is taken over, and a holder that finds its lock gone
  stops (:attr:`RunLock.lost`);
* :class:`StopRequest`: SIGTERM/SIGINT (what Slurm's ``--signal`` and
  preemptible clouds send) turn into a flag the training loop checks after
  every step.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path

import torch

from ..results import atomic_write, atomic_write_text, temp_host, temp_owner
from ..train import rng_state, set_rng_state  # noqa: F401  (the core: Trainer saves them)

log = logging.getLogger(__name__)

# Exit statuses of `rulkit train` / `rulkit sweep` besides 0 (done) and 1 (failed).
EXIT_STOPPED = 75  # stopped for time or by a signal; the checkpoint is kept: run again
EXIT_LOCKED = 73  # another live worker holds the run's lock


def save_checkpoint(state: dict, path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    atomic_write(path, lambda handle: torch.save(state, handle), binary=True)
    return path


def load_checkpoint(path: str | os.PathLike, map_location="cpu", mmap: bool = False) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors and plain containers only).
    ``mmap=True`` maps the tensors instead of reading them: cheap when only the counters
    and curves are wanted."""
    return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)


def remove_stale_temporaries(folder: str | os.PathLike) -> None:
    """Delete half-written files left in ``folder`` by a process of this host that died."""
    here = temp_host()
    for tmp in Path(folder).glob(".*.tmp"):
        owner = temp_owner(tmp.name)
        # Another host's pid says nothing here (a shared folder: its writer may be busy), and
        # a name of another form is not ours to judge: only this host's dead writers' go.
        if owner is not None and owner[0] == here and not _pid_alive(owner[1]):
            tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- stop requests


class StopRequest:
    """A flag set by SIGTERM/SIGINT while the context is active (main thread only).

    The training loop checks :attr:`reason` after every step, saves a checkpoint
    and returns. A second Ctrl-C (SIGINT) raises :class:`KeyboardInterrupt` at once,
    for a user who really wants out; further SIGTERMs are ignored (already stopping).
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.reason: str | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.reason is None:
            self.reason = f"signal {signal.Signals(signum).name}"
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


# ---------------------------------------------------------------------------- run locks


class RunLocked(RuntimeError):
    """Another live worker holds this run."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) holds nothing
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def lock_holder(path: str | os.PathLike, stale_after: float = 180.0) -> dict | None:
    """The live holder of the lock at ``path``, or None when it is free or stale.

    Stale: the holder's process is gone (same host), or its heartbeat is older
    than ``stale_after`` seconds (any host; covers other machines and hung or
    reused pids).
    """
    record = _read_json(Path(path))
    if record is None:
        return None
    if time.time() - float(record.get("heartbeat", 0)) > stale_after:
        return None
    if record.get("host") == socket.gethostname() and not _pid_alive(int(record.get("pid", -1))):
        return None
    return record


class RunLock:
    """An exclusive, heartbeat-refreshed lock file for one run.

    ``acquire()`` creates the file with ``O_EXCL``; if it exists and its holder is
    alive it raises :class:`RunLocked`, and if the holder is dead it takes the lock
    over (under a short-lived takeover file, so two workers never both win). A
    daemon thread refreshes the heartbeat every ``heartbeat`` seconds and sets
    :attr:`lost` when the lock is no longer this holder's, or could not be refreshed
    for so long that others may judge it stale; the training loop then stops.
    """

    def __init__(self, path: str | os.PathLike, heartbeat: float = 30.0, stale_after: float = 180):
        self.path = Path(path)
        self.heartbeat, self.stale_after = heartbeat, stale_after
        self.token = uuid.uuid4().hex
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> dict:
        return {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": self.token,
            "started": self._started,
            "heartbeat": time.time(),
        }

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(self._record()))
        return True

    def _take_over_if_stale(self) -> None:
        guard = self.path.with_name(self.path.name + ".takeover")
        with contextlib.suppress(OSError):  # a takeover that died half-way
            if time.time() - guard.stat().st_mtime > 30:
                guard.unlink()
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return  # someone else is taking it over right now
        os.close(fd)
        try:
            stale = _read_json(self.path)
            if stale is not None and lock_holder(self.path, self.stale_after) is None:
                again = _read_json(self.path)  # unlink only the lock judged stale
                if again is not None and again.get("token") == stale.get("token"):
                    self.path.unlink(missing_ok=True)
        finally:
            guard.unlink(missing_ok=True)

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._started = time.time()
        if not self._create():
            self._take_over_if_stale()
            if not self._create():
                holder = _read_json(self.path) or {}
                raise RunLocked(
                    f"{self.path.stem} is being trained by pid {holder.get('pid')} on "
                    f"{holder.get('host')} (lock {self.path})"
                )
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        return self

    def _refresh(self) -> bool:
        """Rewrite the heartbeat; False when the lock is not ours any more (taken over, removed)."""
        try:
            record = json.loads(self.path.read_text())
        except FileNotFoundError:
            return False
        if record.get("token") != self.token:
            return False
        atomic_write_text(self.path, json.dumps(self._record()))
        return True

    def _beat(self) -> None:
        """The heartbeat thread: refresh until released, or until the lock is lost."""
        refreshed, warned = time.time(), False
        while not self._stop.wait(self.heartbeat):
            try:
                if not self._refresh():
                    self.lost = True  # taken over or removed: stop training
                    return
                refreshed = time.time()
            except Exception as err:  # a hiccup of a shared folder (NFS): retry at the next beat
                if not warned:
                    log.warning("cannot refresh the run lock %s (%s); retrying", self.path, err)
                    warned = True
                # Others may judge the lock stale before the next beat: stop rather than race
                # a new holder for the checkpoint.
                if time.time() + self.heartbeat - refreshed > self.stale_after:
                    self.lost = True
                    return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        record = _read_json(self.path)
        if record is not None and record.get("token") == self.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
