"""Where and with what a result was produced: device, versions, git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from . import __version__


def git_commit(path: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit hash, working tree has uncommitted changes) of the rulkit checkout, if any.

    A copy made for another machine (a device machine, a container) takes the commit from
    the environment variable ``RULKIT_GIT_COMMIT``, set by whoever made the copy: it wins
    over a ``.git`` folder, which such a copy may carry from an older state.
    """
    root = Path(path or Path(__file__).resolve().parent.parent)
    if os.environ.get("RULKIT_GIT_COMMIT"):
        return os.environ["RULKIT_GIT_COMMIT"], None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = (
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            != ""
        )
        return commit, dirty
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("RULKIT_GIT_COMMIT") or None, None


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:  # Linux: the CPU's model name is more telling than the architecture
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(device: torch.device) -> dict:
    commit, dirty = git_commit()
    return {
        "device": str(device),
        "device_name": device_name(device),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_threads": torch.get_num_threads(),
        "rulkit": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
    }
