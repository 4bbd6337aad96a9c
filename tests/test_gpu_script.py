"""benchmarks/gpu_session.sh on the CPU: a tiny grid, a wall limit that cuts a run mid-way,
and a second call given the first call's state back, which finishes it; nothing is lost.
About a minute on a 2-core machine."""

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from _support import TINIER_MODEL, set_values

from rulkit.data import synthetic_tables, write_cmapss_files

ROOT = Path(__file__).resolve().parent.parent


def call(out: Path, carry: Path, data: Path, wall: int, epochs: int) -> None:
    env = dict(
        os.environ,
        OUT=str(out),
        CARRY_IN=str(carry),
        RULKIT_DATA_DIR=str(data),
        WALL=str(wall),
        RESERVE="4",
        BANK_SECONDS="3",
        BENCH="0",
        JOBS="1",
        GRID="tiny",
        PROFILE="smoke",
        SEEDS="0",
        PYTHON=sys.executable,
        EXTRA_SET=" ".join(
            set_values(
                dict(
                    model=TINIER_MODEL,
                    max_epochs=epochs,
                    early_stop_patience=1000,
                    batch_size=16,
                    threads=1,
                )
            )
        ),
    )
    done = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_session.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=wall + 120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def unpack(out: Path, into: Path) -> None:
    parts = sorted(out.glob("state.tgz.*"))
    assert parts and len(list(out.iterdir())) <= 8, "more files than a device call returns"
    assert all(p.stat().st_size <= 16 * 2**20 for p in parts)
    blob = b"".join(p.read_bytes() for p in parts)
    into.mkdir(parents=True, exist_ok=True)
    (into / "state.tgz").write_bytes(blob)
    with tarfile.open(into / "state.tgz") as tar:
        tar.extractall(into, filter="data")
    (into / "state.tgz").unlink()


@pytest.mark.slow
def test_two_calls_finish_what_one_call_could_not(tmp_path):
    data = tmp_path / "data"
    write_cmapss_files(synthetic_tables(n_train=16, n_test=4, seed=3), data)
    carry = tmp_path / "carry"
    # First call: too short for the grid. Two runs of 120 tiny epochs (about 0.3-0.6 s
    # each on 2 cores): the first run cannot finish inside the 35 s wall on any machine.
    call(tmp_path / "out1", carry, data, wall=35, epochs=120)
    session = (tmp_path / "out1" / "session.log").read_text()
    assert re.search(r"[1-9] stopped for time", session), session
    unpack(tmp_path / "out1", carry)
    first = {p.name for p in carry.glob("*.json")}
    ckpts = list((carry / "checkpoints").glob("*.pt"))
    assert ckpts, "the first call left no checkpoint to continue from"
    assert len(first) < 2, "the first call finished everything: the wall did not cut a run"
    # Second call: the state comes back in and the grid completes.
    call(tmp_path / "out2", carry, data, wall=500, epochs=120)  # ends when done
    final = tmp_path / "final"
    unpack(tmp_path / "out2", final)
    results = {p.name: json.loads(p.read_text()) for p in final.glob("*.json")}
    assert len(results) == 2 and all(r["status"] == "ok" for r in results.values())
    assert first <= set(results), "a finished result was lost"
    resumed = [r for r in results.values() if len(r["provenance"]["segments"]) > 1]
    assert resumed, "no run continued from a checkpoint of the first call"
    assert resumed[0]["provenance"]["segments"][0]["ended"] in ("time limit", "signal SIGTERM")
    assert not list((final / "checkpoints").glob("*.pt")), "finished runs left checkpoints"
