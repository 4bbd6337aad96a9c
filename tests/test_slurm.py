"""benchmarks/slurm_array.sh on a real one-node Slurm cluster (Debian's slurm-wlm, started
here as root in a temporary folder): two array tasks share a grid, one is preempted with
`scancel --signal=TERM`, and every run still ends up trained once. Skipped, with the
reason, where Slurm is not installed or the test does not run as root. About a minute."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _support import TINIER_MODEL, need, set_values

from rulkit.data import synthetic_tables, write_cmapss_files

ROOT = Path(__file__).resolve().parent.parent
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel")

pytestmark = pytest.mark.slow


def slurm_conf(folder: Path) -> str:
    host = socket.gethostname()
    return f"""ClusterName=rulkittest
SlurmctldHost={host}
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket={folder}/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmdSpoolDir={folder}/spool/slurmd
StateSaveLocation={folder}/spool/ctld
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
SlurmUser=root
SlurmdUser=root
KillWait=30
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName={host} CPUs={os.cpu_count()} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
"""


@pytest.fixture
def cluster(tmp_path):
    missing = [
        d for d in DAEMONS if shutil.which(d) is None and not Path(f"/usr/sbin/{d}").exists()
    ]
    need(
        not missing,
        f"Slurm is not installed, no {missing} (apt-get install slurm-wlm; .ci/run does)",
    )
    need(os.geteuid() == 0, "a private Slurm cluster needs root")
    folder = tmp_path / "slurm"
    (folder / "spool" / "slurmd").mkdir(parents=True)
    (folder / "spool" / "ctld").mkdir(parents=True)
    key = folder / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder))
    env = dict(os.environ, SLURM_CONF=str(conf))
    sbin = lambda name: shutil.which(name) or f"/usr/sbin/{name}"
    subprocess.run(
        [
            sbin("munged"),
            "--force",
            f"--socket={folder}/munge.socket",
            f"--key-file={key}",
            f"--pid-file={folder}/munged.pid",
            f"--log-file={folder}/munged.log",
            f"--seed-file={folder}/munged.seed",
        ],
        check=True,
    )
    subprocess.run([sbin("slurmctld"), "-f", str(conf)], check=True, env=env)
    subprocess.run([sbin("slurmd"), "-f", str(conf)], check=True, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        info = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True)
        if info.stdout.strip() == "idle":
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the Slurm node never came up: {info.stdout} {info.stderr}")
    yield env
    for pidfile in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((folder / pidfile).read_text()), 15)


def squeue(env) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %T"], env=env, capture_output=True, text=True)
    return out.stdout.split("\n") if out.stdout.strip() else []


def test_an_array_shares_the_grid_and_survives_a_preemption(cluster, tmp_path):
    data = tmp_path / "data"
    write_cmapss_files(synthetic_tables(n_train=8, n_test=4, seed=3), data)
    results = tmp_path / "results"
    sets = set_values(
        dict(
            model=TINIER_MODEL,
            max_epochs=30,
            early_stop_patience=1000,
            batch_size=16,
            threads=1,
            max_train_engines=8,
        )
    )
    env = dict(
        cluster,
        RESULTS=str(results),
        SUBSETS="FD001",
        METHODS="baseline gaba",
        SEEDS="0-1",
        PROFILE="smoke",
        DEVICE="cpu",
        RULKIT_DATA_DIR=str(data),
        RULKIT=f"{sys.executable} -m rulkit",
        PYTHONPATH=str(ROOT),
        SWEEP_ARGS=" ".join(f"--set {s}" for s in sets),
    )
    job = subprocess.run(
        [
            "sbatch",
            "--parsable",
            "--array=0-1",
            "--gres=none",
            "--cpus-per-task=1",
            f"--output={tmp_path}/slurm-%A_%a.out",
            str(ROOT / "benchmarks" / "slurm_array.sh"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    ckpts = results / "checkpoints"
    deadline = time.time() + 180
    while time.time() < deadline and len(list(ckpts.glob("*.pt"))) < 2:
        time.sleep(0.2)  # both tasks are training a run
    assert len(list(ckpts.glob("*.pt"))) >= 2, (tmp_path / f"slurm-{job}_0.out").read_text()
    subprocess.run(["scancel", "--signal=TERM", "--batch", f"{job}_1"], env=env, check=True)
    deadline = time.time() + 600
    while time.time() < deadline and squeue(env):
        time.sleep(1)
    logs = "\n".join(p.read_text() for p in tmp_path.glob("slurm-*.out"))
    assert not squeue(env), f"the array did not finish:\n{logs}"
    done = {p.name: json.loads(p.read_text()) for p in results.glob("*.json")}
    assert len(done) == 4, f"{sorted(done)}\n{logs}"
    segments = [len(r["provenance"]["segments"]) for r in done.values()]
    assert all(r["status"] == "ok" for r in done.values())
    assert sorted(segments)[-1] == 2 and segments.count(2) == 1, f"{segments}\n{logs}"
    (preempted,) = [r for r in done.values() if len(r["provenance"]["segments"]) == 2]
    assert preempted["provenance"]["segments"][0]["ended"] == "signal SIGTERM"
