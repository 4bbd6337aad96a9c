"""A small synthetic fleet in C-MAPSS format, for tests that run without NASA's files.

Engines start healthy, degrade exponentially after a random onset, and are cut
at failure (training file) or at a random earlier cycle (test file). Sensor
readings depend on the operating condition, so per-condition normalisation
matters here exactly as it does on FD002/FD004.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .cmapss import COLUMNS, SENSORS, CMAPSSTables

# Operating points (altitude-like, Mach-like, throttle) loosely shaped like FD002's six.
_CONDITIONS = np.array(
    [[0.0, 0.0, 100.0], [10.0, 0.25, 100.0], [20.0, 0.70, 100.0],
     [25.0, 0.62, 60.0], [35.0, 0.84, 100.0], [42.0, 0.84, 100.0]]
)  # fmt: skip


def _engine(rng: np.random.Generator, n_cycles: int, n_conditions: int, unit: int) -> pd.DataFrame:
    cond = rng.integers(0, n_conditions, n_cycles) if n_conditions > 1 else np.zeros(n_cycles, int)
    settings = _CONDITIONS[cond] + rng.normal(0, 0.002, (n_cycles, 3))
    onset = rng.uniform(0.2, 0.6) * n_cycles
    t = np.arange(n_cycles)
    wear = np.where(t > onset, np.expm1((t - onset) / (n_cycles - onset) * 2.0), 0.0)
    sensitivity = np.linspace(-1.0, 1.0, len(SENSORS))
    sensitivity[[0, 4, 5, 9, 15, 17, 18]] = 0.0  # the dropped sensors stay flat
    base = 100.0 + 10.0 * np.arange(len(SENSORS))[None, :] + 5.0 * cond[:, None]
    sensors = base + wear[:, None] * sensitivity[None, :] * 3.0 + rng.normal(0, 0.3, base.shape)
    data = np.column_stack([np.full(n_cycles, unit), t + 1, settings, sensors])
    return pd.DataFrame(data, columns=COLUMNS).astype({"unit": np.int64, "cycle": np.int64})


def synthetic_tables(
    n_train: int = 12,
    n_test: int = 8,
    n_conditions: int = 1,
    min_cycles: int = 60,
    max_cycles: int = 160,
    seed: int = 0,
    subset: str = "FD001",
) -> CMAPSSTables:
    """A fleet of ``n_train`` run-to-failure and ``n_test`` truncated engines."""
    rng = np.random.default_rng(seed)
    train = pd.concat(
        [_engine(rng, int(rng.integers(min_cycles, max_cycles)), n_conditions, u + 1)
         for u in range(n_train)],
        ignore_index=True,
    )  # fmt: skip
    tests, rul = [], []
    for u in range(n_test):
        full = _engine(rng, int(rng.integers(min_cycles, max_cycles)), n_conditions, u + 1)
        keep = int(rng.integers(10, len(full)))  # some test engines are shorter than a window
        tests.append(full.iloc[:keep])
        rul.append(len(full) - keep)
    test = pd.concat(tests, ignore_index=True)
    return CMAPSSTables(subset, train, test, np.asarray(rul, dtype=np.float64))


def write_cmapss_files(
    tables: CMAPSSTables, folder: str | os.PathLike, compress: bool = False
) -> Path:
    """Write ``tables`` as the three C-MAPSS text files of its subset."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".txt.gz" if compress else ".txt"
    opener = gzip.open if compress else open

    def dump(name: str, lines: list[str]) -> None:
        with opener(folder / f"{name}_{tables.subset}{suffix}", "wt") as handle:
            handle.write("\n".join(lines) + "\n")

    for name, frame in (("train", tables.train), ("test", tables.test)):
        ints = frame[["unit", "cycle"]].astype(int).astype(str)
        floats = frame[COLUMNS[2:]].map(lambda v: f"{v:.4f}")
        dump(name, (ints.agg(" ".join, axis=1) + " " + floats.agg(" ".join, axis=1) + " ").tolist())
    dump("RUL", [str(int(r)) for r in tables.test_rul])
    return folder
