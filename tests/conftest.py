"""Shared fixtures: the real C-MAPSS folder, synthetic files and the tiny synthetic fleet;
and the RULKIT_STRICT=1 switch (tests/_support.py), under which a test skipped for want of
its environment (data, Slurm, Chromium, nbgrader, a built book) fails instead."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tests/_support.py is imported as `_support` by the test files, whatever pytest's import
# mode and working directory: this folder goes on sys.path before any test file is imported.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from _support import STRICT, need, pytest_runtest_makereport  # noqa: E402, F401  (the hook)

from rulkit.data import SUBSETS, prepare, synthetic_tables, write_cmapss_files  # noqa: E402
from rulkit.data.cmapss import have_all_files  # noqa: E402

# Synthetic fleets are tiny on purpose; FD002/FD004 get six operating conditions like NASA's.
SYNTHETIC_CONDITIONS = {"FD001": 1, "FD002": 6, "FD003": 1, "FD004": 6}


def pytest_report_header(config):
    if STRICT:
        return "RULKIT_STRICT=1: a test that lacks its environment fails instead of skipping"


@pytest.fixture(scope="session")
def cmapss_dir() -> Path:
    """The real C-MAPSS folder from RULKIT_DATA_DIR; skips the test when it is not usable
    (fails under RULKIT_STRICT=1)."""
    env = os.environ.get("RULKIT_DATA_DIR")
    need(env, "RULKIT_DATA_DIR is not set: tests on NASA's C-MAPSS files are skipped")
    folder = Path(env).expanduser()
    need(have_all_files(folder), f"RULKIT_DATA_DIR={folder} does not hold the twelve C-MAPSS files")
    return folder


@pytest.fixture
def write_synthetic():
    """Factory: write synthetic C-MAPSS files into a folder and return {file name: rows}."""

    def write(folder: Path, subsets=SUBSETS, compress: bool = False, **kwargs) -> dict[str, int]:
        rows = {}
        for i, subset in enumerate(subsets):
            options = {"n_train": 6, "n_test": 5, "n_conditions": SYNTHETIC_CONDITIONS[subset]}
            options.update(kwargs)
            tables = synthetic_tables(seed=i, subset=subset, **options)
            write_cmapss_files(tables, folder, compress=compress)
            rows[f"train_{subset}.txt"] = len(tables.train)
            rows[f"test_{subset}.txt"] = len(tables.test)
            rows[f"RUL_{subset}.txt"] = len(tables.test_rul)
        return rows

    return write


@pytest.fixture(scope="module")
def fleet():
    """The synthetic FD001 fleet of the training tests (12 training engines, 8 test
    engines), prepared once per test file: tiny_config's epochs have 7 steps on it."""
    return prepare(tables=synthetic_tables(n_train=12, n_test=8, seed=1), seed=0)
