"""The ``rulkit`` command: train one run, sweep a grid, report results, fetch the data."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from .config import PROFILES
from .data.cmapss import SUBSETS
from .methods import METHODS
from .runs.checkpoint import EXIT_LOCKED, EXIT_STOPPED, RunLocked

_IMPORTED = time.monotonic()

EPILOG = """examples:
  rulkit fetch                                  download C-MAPSS into the cache (once)
  rulkit train --subset FD001 --method grace    one run (smoke profile on a CPU, full on a GPU)
  rulkit train --subset FD001 --profile full --max-minutes 120   a two-hour slice; rerun to continue
  rulkit sweep --subsets FD002 FD004 --methods baseline amnl gaba grace --seeds 0-4 --out results
  rulkit report results --out results/report   tables and figures from result files
  rulkit status results                        which runs are done, part-way, and how long they need

exit status: 0 done, 1 a run failed, 2 usage or data error, 73 the run is held by another
worker, 75 stopped for time or by a signal with the checkpoint kept (run the same command
again to continue).

methods: {methods}
subsets: {subsets}
The data folder is --data-dir, else $RULKIT_DATA_DIR, else ~/.cache/rulkit/CMAPSSData."""


def _split(values: list[str]) -> list[str]:
    return [v for item in values for v in item.replace(",", " ").split()]


def _overrides(pairs: list[str]) -> dict:
    """``--set key=value`` pairs; values are JSON where they parse, strings otherwise."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SystemExit(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        default="auto",
        choices=list(PROFILES),
        help="smoke: a few engines and epochs (CPU minutes); full: the book's recipe; "
        'tuned: a recipe that trains (chapter "Training it well"); lean: a smaller model trained '
        "with input noise (the same chapter); dcnn: the reference CNN (method "
        "rul_only); auto: full on a GPU, smoke otherwise (default)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop at the first epoch end after this many minutes (counted from the command's "
        "start), keep the checkpoint and exit with status 75; the same command continues (a "
        "sweep starts no run after it)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="override any TrainConfig field, e.g. --set max_epochs=50 (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rulkit",
        description="Train and evaluate the DualTaskModel on NASA C-MAPSS with AMNL, GABA, GRACE "
        "and reference task-balancing methods.",
        epilog=EPILOG.format(methods=", ".join(METHODS), subsets=", ".join(SUBSETS)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train one run and write its result file")
    p.add_argument("--subset", default="FD001", help=f"one of {', '.join(SUBSETS)}")
    p.add_argument(
        "--method",
        default=None,
        help=f"one of {', '.join(METHODS)} (default grace; rul_only with --profile dcnn)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results", help="folder for the result JSON (default results)")
    p.add_argument("--data-dir", default=None, help="folder holding the C-MAPSS text files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--keep-checkpoint",
        action="store_true",
        help="keep the checkpoint after the result file is written",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="train again even if the result file of this config exists",
    )
    _common(p)

    p = sub.add_parser("sweep", help="run a grid of subsets x methods x seeds (resumable)")
    p.add_argument("--subsets", nargs="+", default=["FD001"], help="e.g. FD002 FD004")
    p.add_argument("--methods", nargs="+", default=["baseline", "amnl", "gaba", "grace"])
    p.add_argument("--seeds", nargs="+", default=["0"], help="e.g. 0-4 or 0,1,2")
    p.add_argument("--out", default="results")
    p.add_argument("--jobs", type=int, default=1, help="runs at a time on the device")
    p.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="take only runs I, I+N, I+2N, ... of the grid (0-based)",
    )
    p.add_argument("--retry-failed", action="store_true", help="rerun runs whose status is failed")
    p.add_argument("--data-dir", default=None, help="folder holding the C-MAPSS text files")
    p.add_argument("--quiet", action="store_true")
    _common(p)

    p = sub.add_parser("report", help="tables and figures from a folder of result files")
    p.add_argument("results", help="folder with result JSON files")
    p.add_argument("--out", default=None, help="output folder (default RESULTS/report)")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=None,
        help="bootstrap resamples (default 2000; 10000 with --paired)",
    )
    p.add_argument(
        "--paired",
        action="store_true",
        help="print each method's paired difference to --reference (same test engines, "
        "engine-level paired bootstrap) instead of writing the report",
    )
    p.add_argument(
        "--reference", default="baseline", help="reference method of --paired (default baseline)"
    )
    p.add_argument(
        "--recipe",
        default="full",
        help="recipe (profile) whose runs --paired compares: full (default), tuned, ...",
    )

    p = sub.add_parser(
        "status", help="where each run in a results folder stands (finished, part-way, left)"
    )
    p.add_argument("results", nargs="?", default="results", help="folder (default results)")

    p = sub.add_parser("fetch", help="download the C-MAPSS files into the cache (once)")
    p.add_argument("--data-dir", default=None)
    return parser


def _validate(subsets: list[str], methods: list[str]) -> None:
    from .data.cmapss import check_subset
    from .methods import get_method

    for s in subsets:  # ValueError naming the valid choices; main() prints it
        check_subset(s)
    for m in methods:
        get_method(m)


def _seconds_since_start() -> float:
    """Seconds since this process started (Linux: /proc), at least since this module was
    imported (where /proc is missing, or its clocks disagree inside a container)."""
    since_import = time.monotonic() - _IMPORTED
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(since_import, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))  # field 22
    except (OSError, ValueError, IndexError):
        return since_import


def _minutes_left(limit: float | None) -> float | None:
    """A ``--max-minutes`` limit counts from the command's start: the seconds spent on
    imports and data checks are taken off, so a caller's wall clock and ours agree."""
    return None if limit is None else max(0.0, limit - _seconds_since_start() / 60)


def _interrupt_once(signum, frame) -> None:
    """SIGTERM as Ctrl-C, once: timeout(1) signals the command and then its whole process
    group, and a second KeyboardInterrupt would cut short the wait for the children's save."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (FileNotFoundError, ValueError, TypeError, RunLocked) as err:
        if os.environ.get("RULKIT_DEBUG"):
            raise
        code = EXIT_LOCKED if isinstance(err, RunLocked) else 2
        print(f"rulkit: error: {err}", file=sys.stderr)
        return code


def _print_status(folder: Path) -> int:
    """Print the table of :func:`rulkit.runs.sweep.progress` and a line of totals."""
    import pandas as pd

    from .runs.sweep import progress

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    rows = progress(folder)
    if not rows:
        print(f"{folder}: no result files and no checkpoints")
        return 0
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-"))
    left = table["min hours left"].dropna()
    running = table.state.str.startswith("training").sum()
    paused = (table.state == "paused").sum()
    print(
        f"{(table.state == 'ok').sum()} finished, {(table.state == 'failed').sum()} failed, "
        f"{running} training now, {paused} paused; {table.hours.sum():.1f} run-hours so far"
        + (
            f"; the slowest part-way run needs at least {left.max():.1f} h more"
            if paused + running
            else ""
        )
    )
    return 0


def _dispatch(args) -> int:
    if args.command == "fetch":
        from .data import fetch_cmapss

        print(fetch_cmapss(args.data_dir))
        return 0

    if args.command == "report":
        from .report import build_report

        if not Path(args.results).is_dir():
            raise SystemExit(f"rulkit: error: {args.results} is not a folder")
        if args.paired:
            from .report import PAIRED_N_BOOT, paired_markdown, paired_table
            from .results import load_results

            records = load_results(args.results)
            if not records:
                print(f"No successful result files under {args.results}.")
            for subset in sorted({r["subset"] for r in records}):
                for metric in ("rmse", "nasa"):
                    print(
                        f"## {subset} {metric.upper()} ({args.recipe} recipe): paired "
                        f"differences to {args.reference}"
                    )
                    try:
                        table = paired_table(
                            records,
                            subset,
                            args.reference,
                            metric,
                            args.bootstrap or PAIRED_N_BOOT,
                            profile=args.recipe,
                        )
                    except ValueError as err:  # no reference run of this subset, say
                        print(f"\n{err}\n")
                        continue
                    print(f"\n{paired_markdown(table)}\n")
            return 0
        written = build_report(args.results, args.out, n_boot=args.bootstrap or 2000)
        for key, value in written.items():
            print(f"{key}: {value}")
        return 0

    if args.command == "status":
        return _print_status(Path(args.results))

    overrides = _overrides(args.set)
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.command == "train":
        if args.method is None:
            args.method = "rul_only" if args.profile == "dcnn" else "grace"
        _validate([args.subset], [args.method])
        from .config import profile_config
        from .results import result_path
        from .runs import RunStopped, completed_result, train_run

        if args.max_minutes is not None:
            overrides["max_minutes"] = _minutes_left(args.max_minutes)
        cfg = profile_config(
            args.profile,
            subset=args.subset.upper(),
            method=args.method.lower(),
            seed=args.seed,
            device=args.device,
            **overrides,
        )
        path = result_path(args.out, cfg.run_name())
        earlier = None if args.force else completed_result(args.out, cfg)
        if earlier is not None:
            if earlier["status"] == "failed":
                print(f"{cfg.run_name()}: failed earlier ({earlier['error']}); --force retries it")
                return 1
            print(f"{cfg.run_name()}: already done ({path}); --force trains it again")
            return 0
        try:
            result = train_run(
                cfg, progress=not args.quiet, out_dir=args.out, keep_checkpoint=args.keep_checkpoint
            )
        except RunStopped as stopped:
            print(stopped)
            return EXIT_STOPPED
        print(f"{result!r}\nwritten to {path}")
        return 0 if result.status == "ok" else 1

    if args.command == "sweep":
        from .runs.sweep import parse_seeds, parse_shard, sweep

        # SIGTERM (Slurm, a wall limit) ends the sweep like Ctrl-C: its children save and stop.
        signal.signal(signal.SIGTERM, _interrupt_once)

        subsets, methods = [s.upper() for s in _split(args.subsets)], _split(args.methods)
        _validate(subsets, methods)
        from .data import load_cmapss

        for subset in subsets:  # missing data: one line now, not one failure per run
            load_cmapss(subset, overrides.get("data_dir"))
        summary = sweep(
            subsets,
            methods,
            parse_seeds(args.seeds),
            args.out,
            args.profile,
            args.device,
            args.jobs,
            _minutes_left(args.max_minutes),
            overrides,
            args.retry_failed,
            progress=not args.quiet,
            shard=parse_shard(args.shard),
        )
        print(
            f"sweep: {summary['planned']} planned, {summary['skipped']} already done, "
            f"{summary['ok']} ok, {summary['failed']} failed, {summary['stopped']} stopped for "
            f"time, {summary['not_started']} not started, {summary['elsewhere']} left to other "
            f"workers, {summary['minutes']} min"
        )
        if summary["failed"]:
            return 1
        unfinished = summary["stopped"] + summary["not_started"] + summary["elsewhere"]
        return EXIT_STOPPED if unfinished else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
