"""Time the C-MAPSS pipeline on NASA's files: load_cmapss alone, then the whole prepare().

Usage: RULKIT_DATA_DIR=/path/to/CMAPSSData python benchmarks/bench_prepare.py [--repeats N]

Prints the median (and the fastest) of N runs per subset, with the window counts so a
reader can see what each figure bought. Exits with status 1 when RULKIT_DATA_DIR is unset.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(median seconds, fastest seconds, last result) over ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    env = os.environ.get("RULKIT_DATA_DIR")
    if not env:
        print(
            "RULKIT_DATA_DIR is not set: this benchmark needs NASA's C-MAPSS files.\n"
            "Set it to the folder holding train_FD00x.txt(.gz), test_FD00x.txt(.gz) and "
            "RUL_FD00x.txt(.gz), e.g.\n  RULKIT_DATA_DIR=../shared/data/CMAPSSData "
            "python benchmarks/bench_prepare.py",
            file=sys.stderr,
        )
        return 1
    data_dir = Path(env).expanduser()

    from rulkit.data import load_cmapss, prepare
    from rulkit.data.cmapss import have_all_files

    if not have_all_files(data_dir):
        print(f"RULKIT_DATA_DIR={data_dir} does not hold the twelve C-MAPSS files", file=sys.stderr)
        return 1

    prepare("FD001", data_dir)  # warm-up: imports scikit-learn, fills the file cache
    print(f"data: {data_dir}  repeats: {args.repeats} (median, fastest in brackets)")
    header = f"{'subset':<8}{'load_cmapss s':>20}{'prepare s':>20}{'windows':>10}{'test':>6}"
    print(header)
    print("-" * len(header))
    for subset in ("FD001", "FD002", "FD003", "FD004"):
        load_med, load_min, _ = timed(lambda s=subset: load_cmapss(s, data_dir), args.repeats)
        prep_med, prep_min, p = timed(lambda s=subset: prepare(s, data_dir), args.repeats)
        print(
            f"{subset:<8}{load_med:>11.3f} ({load_min:.3f}){prep_med:>11.3f} ({prep_min:.3f})"
            f"{len(p.train) + len(p.val):>10}{len(p.test):>6}"
        )
    print(f"cpus: {os.cpu_count()} (k-means on FD002/FD004 uses them all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
