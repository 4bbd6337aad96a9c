"""Run results: one JSON file per run, written atomically, read back for reports.

The schema is documented in ``book/results_schema.md``; :data:`SCHEMA_VERSION`
changes whenever a field changes meaning.

Every file rulkit writes atomically (result, checkpoint, lock) goes through a temporary
named by :func:`temp_path`, which says which host and process writes it, so that a folder
shared by several machines is cleaned up only by the machine that left the litter.
Platforms: Linux and macOS are tested; Windows is best-effort (untested).
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

SCHEMA_VERSION = 2


@dataclass
class RunResult:
    subset: str
    method: str
    seed: int
    profile: str  # "full" or "smoke" as defined, "custom" when any field was overridden
    config: dict
    provenance: dict
    base_profile: str | None = None  # the profile the overrides were applied to
    config_hash: str | None = None  # short hash of the overrides (None for a plain profile)
    status: str = "running"  # "ok" or "failed"
    error: str | None = None
    test: dict = field(default_factory=dict)
    val: dict = field(default_factory=dict)
    per_engine: dict = field(default_factory=dict)
    best_epoch: int | None = None
    epochs_run: int | None = None
    steps: int | None = None
    curves: dict = field(default_factory=dict)
    task_history: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    @classmethod
    def start(cls, config, provenance: dict) -> RunResult:
        digest = config.config_hash()
        return cls(
            config.subset,
            config.method,
            config.seed,
            "custom" if digest else config.profile,
            asdict(config),
            provenance,
            base_profile=config.profile,
            config_hash=digest,
        )

    @property
    def label(self) -> str:
        return run_label(self.profile, self.config_hash)

    @property
    def name(self) -> str:
        return run_name(self.subset, self.method, self.seed, self.label)

    def to_dict(self, max_history: int = 500) -> dict:
        out = asdict(self)
        out["task_history"] = downsample(self.task_history, max_history)
        return out

    def __repr__(self) -> str:
        if self.status != "ok":
            return f"RunResult({self.name}: {self.status}: {self.error})"
        t = self.test
        health = f", health acc {t['accuracy']:.2f}" if "accuracy" in t else ""
        return (
            f"RunResult({self.name}: test RMSE {t['rmse']:.2f}, NASA {t['nasa']:.1f}"
            f"{health}; best epoch {self.best_epoch}/{self.epochs_run})"
        )


def run_label(profile: str, config_hash: str | None) -> str:
    """The recipe part of a run's name: ``profile`` as it is, ``custom-<hash>`` with overrides."""
    return f"custom-{config_hash}" if config_hash else profile


def run_name(subset: str, method: str, seed: int, label: str) -> str:
    """``FD002_grace_seed0_full``; ``label`` is the profile, or ``custom-<hash>``."""
    return f"{subset}_{method}_seed{seed}_{label}"


def downsample(columns: dict, max_points: int) -> dict:
    """Keep at most ``max_points`` evenly spaced rows of equally long columns."""
    lengths = {len(v) for v in columns.values()}
    if not columns or lengths == {0} or max(lengths) <= max_points:
        return dict(columns)
    n = max(lengths)
    keep = sorted({round(i * (n - 1) / (max_points - 1)) for i in range(max_points)})
    return {k: [v[i] for i in keep] for k, v in columns.items()}


def temp_host() -> str:
    """This machine's name as temporary file names carry it (no dots, so they parse)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "unknown"


def temp_path(path: Path) -> Path:
    """A fresh temporary beside ``path``: ``.<name>.<host>.<pid>.<random>.tmp``."""
    return path.with_name(f".{path.name}.{temp_host()}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


_TEMP_NAME = re.compile(r"\..+\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]{8}\.tmp")


def temp_owner(name: str) -> tuple[str, int] | None:
    """(host, pid) of a name made by :func:`temp_path`; None for any other name."""
    match = _TEMP_NAME.fullmatch(name)
    return (match[1], int(match[2])) if match else None


def atomic_write(path: Path, write: Callable[[IO], None], binary: bool = False) -> None:
    """Call ``write(handle)`` on a temporary file in the same folder, then rename: never
    a torn file (result JSONs here, checkpoints in :mod:`rulkit.runs`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        # open() gives the usual mode (0666 less the umask), so a results folder shared by
        # several users (a cluster's sweep) stays readable; no os.fchmod (not on Windows).
        with open(tmp, "xb" if binary else "x") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(text))


def result_path(out_dir: str | os.PathLike, name: str) -> Path:
    """Where the result file of the run called ``name`` (see :func:`run_name`) lives."""
    return Path(out_dir) / f"{name}.json"


def write_result(result: RunResult, out_dir: str | os.PathLike) -> Path:
    path = result_path(out_dir, result.name)
    atomic_write_text(path, json.dumps(result.to_dict(), indent=1, allow_nan=True))
    return path


def load_results(folder: str | os.PathLike, status: str | None = "ok") -> list[dict]:
    """All result files under ``folder`` (recursively), optionally of one status."""
    out = []
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(record, dict) or "schema" not in record or "method" not in record:
            continue
        if status is None or record.get("status") == status:
            record["_path"] = str(path)
            out.append(record)
    return out


# The measured results travel with the package, so that a notebook opened on its own (on
# Colab, say, where the repository's results/ folder is not there) still finds them.
MEASURED = Path(__file__).with_name("measured.json")


def _round(value, digits: int = 5):
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{digits}g}")
    if isinstance(value, list):
        return [_round(v, digits) for v in value]
    return value


def compact(record: dict) -> dict:
    """A result record without what the book never shows; curves and the task history
    rounded to 5 significant digits (metrics and predictions are kept as they are)."""
    keep = {k: v for k, v in record.items() if not k.startswith("_")}
    for key in ("curves", "task_history"):
        keep[key] = {k: _round(v) for k, v in record.get(key, {}).items()}
    prov = record.get("provenance", {})
    keep["provenance"] = {
        k: prov.get(k)
        for k in (
            "device_name",
            "torch",
            "git_commit",
            "git_dirty",
            "wall_time_s",
            "started",
            "segments",
        )
    }
    return keep


def build_measured(results_dir: str | os.PathLike) -> list[dict]:
    """The compact records of every successful result file under ``results_dir``."""
    records = load_results(results_dir)
    return sorted(
        (compact(r) for r in records),
        key=lambda r: json.dumps(
            [r["subset"], r["method"], r["seed"], r.get("config_hash") or r["profile"]]
        ),
    )


def write_measured(results_dir: str | os.PathLike = "results", path: Path = MEASURED) -> Path:
    """Rebuild the packaged summary from the result files (``make measured``)."""
    records = build_measured(results_dir)
    atomic_write_text(Path(path), json.dumps({"schema": SCHEMA_VERSION, "runs": records}) + "\n")
    return Path(path)


def load_measured(results_dir: str | os.PathLike | None = None) -> tuple[list[dict], str]:
    """(records, where they came from): the result files in ``results_dir`` if given, else
    the repository's ``results/`` when rulkit runs from a checkout, else the summary
    shipped inside the package."""
    checkout = Path(__file__).resolve().parent.parent / "results"
    for folder in ([Path(results_dir)] if results_dir is not None else []) + [checkout]:
        if folder.is_dir() and any(folder.glob("*.json")):
            return load_results(folder), f"the result files in {folder}"
    if MEASURED.is_file():
        runs = json.loads(MEASURED.read_text())["runs"]
        return runs, "the summary shipped with rulkit (rulkit/measured.json, built from results/)"
    return [], "nowhere: no result files and no packaged summary"
