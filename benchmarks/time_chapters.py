"""Time every chapter notebook on this machine and record it in rulkit/times.json.

Each notebook is executed once, in its own process, into a temporary copy (the committed
outputs are not touched). CPU seconds are the user plus system time of that process and
its children; the load average is read before and after, because this machine is shared.

    python benchmarks/time_chapters.py             # all chapters, one after another
    python benchmarks/time_chapters.py 06 07       # only these (the others keep their row)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "rulkit" / "times.json"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_notebook(path: Path, timeout: int) -> dict:
    """Execute one notebook in a fresh kernel; its wall and CPU minutes and the load."""
    load_before = os.getloadavg()[0]
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            f"--ExecutePreprocessor.timeout={timeout}",
            "--output",
            str(out),
            str(path),
        ]
        subprocess.run(cmd, check=True, cwd=path.parent, capture_output=True)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    cells = json.loads(path.read_text())["cells"]
    title = "".join(cells[0]["source"]).splitlines()[0].lstrip("# ").strip()
    return {
        "notebook": path.stem,
        "title": title,
        "wall_min": round(wall / 60, 1),
        "cpu_min": round(cpu / 60, 1),
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="notebook number prefixes, e.g. 06 07")
    parser.add_argument("--timeout", type=int, default=1800)
    args = parser.parse_args()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if p.name[:2] in args.only]
    times = json.loads(TIMES.read_text())
    old = {r["notebook"]: r for r in (times.get("chapters") or {}).get("rows", [])}
    existing = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    rows = {k: v for k, v in old.items() if k in existing}
    for path in notebooks:
        row = time_notebook(path, args.timeout)
        rows[row["notebook"]] = row
        print(json.dumps(row), flush=True)
    times["chapters"] = {
        "date": time.strftime("%Y-%m-%d"),
        "command": "python benchmarks/time_chapters.py",
        "threads": os.environ.get("OMP_NUM_THREADS", "all"),
        "rows": [rows[k] for k in sorted(rows)],
    }
    TIMES.write_text(json.dumps(times, indent=2) + "\n")


if __name__ == "__main__":
    main()
