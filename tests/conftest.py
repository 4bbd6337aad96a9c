"""Shared fixtures: the real C-MAPSS folder (skipped when absent) and synthetic files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rulkit.data import SUBSETS, synthetic_tables, write_cmapss_files
from rulkit.data.cmapss import have_all_files

# Synthetic fleets are tiny on purpose; FD002/FD004 get six operating conditions like NASA's.
SYNTHETIC_CONDITIONS = {"FD001": 1, "FD002": 6, "FD003": 1, "FD004": 6}


@pytest.fixture(scope="session")
def cmapss_dir() -> Path:
    """The real C-MAPSS folder from RULKIT_DATA_DIR; skips the test when it is not usable."""
    env = os.environ.get("RULKIT_DATA_DIR")
    if not env:
        pytest.skip("RULKIT_DATA_DIR is not set: tests on NASA's C-MAPSS files are skipped")
    folder = Path(env).expanduser()
    if not have_all_files(folder):
        pytest.skip(f"RULKIT_DATA_DIR={folder} does not hold the twelve C-MAPSS files")
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
