"""RULKIT_STRICT=1 (tests/_support.py): an environment skip becomes a failure, a plain skip
stays a skip. Checked on a throwaway test file run by a pytest of its own (seconds)."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SAMPLE = """
import pytest
from _support import need, need_module

@pytest.fixture(scope="session")
def data():
    need(False, "no data here")

def test_no_data(data):
    pass

def test_no_tool():
    need(False, "no such tool")

def test_no_package():
    need_module("rulkit_no_such_package")

def test_importorskip():
    pytest.importorskip("rulkit_no_such_package")

def test_other_platform():
    pytest.skip("not on this platform")

def test_present():
    need(True, "never said")
"""


def run_sample(tmp_path: Path, strict: bool) -> tuple[dict[str, str], str]:
    """({test: passed/failure/error/skipped}, output) of the sample under its own pytest."""
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k not in ("RULKIT_STRICT", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    if strict:
        env["RULKIT_STRICT"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "_support", "-p", "no:cacheprovider"]
    cmd += ["--junitxml=report.xml", "test_sample.py"]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    outcomes = {}
    for case in ET.parse(tmp_path / "report.xml").iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name")] = kinds[0] if kinds else "passed"
    return outcomes, done.stdout + done.stderr


@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
def test_environment_skips_fail_only_under_the_switch(tmp_path, strict):
    outcomes, out = run_sample(tmp_path, strict)
    env_skip = "failure" if strict else "skipped"
    assert outcomes == {
        "test_no_data": "error" if strict else "skipped",  # a fixture that fails: an error
        "test_no_tool": env_skip,
        "test_no_package": env_skip,
        "test_importorskip": env_skip,
        "test_other_platform": "skipped",
        "test_present": "passed",
    }, out
    if strict:
        assert "RULKIT_STRICT=1, and the environment lacks what this needs: no such tool" in out
        assert "RULKIT_STRICT=1, and a package is missing" in out
