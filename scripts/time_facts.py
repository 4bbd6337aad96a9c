"""Write the times quoted to readers from their one source, rulkit/times.json.

    python scripts/time_facts.py          # rewrite the blocks in README.md and book/*.md
    python scripts/time_facts.py --check  # exit 1 if any block differs from times.json

Blocks sit between ``<!-- times:NAME:start -->`` and ``<!-- times:NAME:end -->``;
the one table row of book/running.md that quotes times starts with ``| time |``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "rulkit" / "times.json"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def smoke_sentence(t: dict) -> str:
    s = t["smoke_run"]
    rows = "; ".join(f"{r['what']}: {r['seconds']} s" for r in s["rows"])
    return (
        "**What the times above rest on.** "
        f"Smoke runs on FD001, measured on {s['date']} on {t['machine']}, idle and shared "
        f"with other work (`{s['source']}`): {rows}. Contention stretched a run more than "
        "twentyfold; the chapters print the seconds each of their smoke runs took. The "
        f"full-recipe hours ({t['full_run_cpu_hours']['low']} to "
        f"{t['full_run_cpu_hours']['high']} per FD001 run) are the `wall_time_s` of the runs "
        "in `results/`."
    )


def running_time_row(t: dict) -> str:
    s, h = t["smoke_run"], t["full_run_cpu_hours"]
    return (
        f"| time | {s['low_s']} s to {round(s['high_s'] / 60)} minutes per run on "
        "this project's 2-core CPU, idle to heavily loaded (see below) | about half "
        f"an hour per seed on one A100 (the book's figure); {h['low']} to {h['high']} hours "
        "per FD001 run on this project's 2-core CPU |"
    )


def chapters_block(t: dict) -> str:
    c = t.get("chapters")
    if not c:
        return "The chapters have not been timed since they were last split or renumbered."
    rows = c["rows"]
    loads = [x for r in rows for x in r["load"]]
    total = sum(r["wall_min"] for r in rows)
    lines = [
        f"Measured on {c['date']} on {t['machine']}: `{c['command']}` executes each notebook "
        "once in a fresh kernel, with the C-MAPSS files present; CPU minutes are the user "
        f"plus system time of that kernel. The load average was {min(loads)} to {max(loads)} "
        f"while measuring (read before and after each notebook); in all {total:.0f} wall "
        "minutes. A GPU is never needed.",
        "",
        "| notebook | title | CPU minutes | wall minutes | load average (before, after) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        load = f"{r['load'][0]}, {r['load'][1]}"
        cells = f"{r['notebook']} | {r['title']} | {r['cpu_min']} | {r['wall_min']} | {load}"
        lines.append(f"| {cells} |")
    return "\n".join(lines)


def speed_block(t: dict) -> str:
    ci, tuned = t["ci_fresh_clone"], t["tuned_vs_full_cpu"]
    smoke = "; ".join(f"{r['seconds']} s {r['what']}" for r in t["smoke_run"]["rows"])
    rows = [
        (
            r["what"],
            r["figure"],
            r["command"] if r["command"] == "same run" else f"`{r['command']}`",
        )
        for r in t["benchmarks"]["rows"]
    ]
    rows += [
        ("one smoke run (train + test), FD001", smoke, f"`{t['smoke_run']['source']}`"),
        (
            "CPU cost of a tuned FD001 run against a full-recipe one",
            f"{tuned['low']}-{tuned['high']} ({tuned['load']})",
            f"`{tuned['command']}`",
        ),
    ]
    c = t.get("chapters")
    if c:
        total = sum(r["wall_min"] for r in c["rows"])
        rows.append(
            (
                "every chapter notebook, executed one after another",
                f"{total:.0f} wall minutes in all ({c['date']}; per chapter in book/teaching.md)",
                f"`{c['command']}`",
            )
        )
    q = t.get("make_quick")
    if q:
        rows.append(
            (
                "`make quick` (lint and fast tests)",
                f"{_minutes(q['seconds'])} ({q['load']})",
                "`make quick`",
            )
        )
    rows.append(
        (
            "CI from a fresh clone (venv, install, lint, tests, nbval, book, browser)",
            f"{ci['seconds']} s ({ci['seconds'] / 60:.0f} min) of its {ci['limit_s']} s limit, "
            f"{ci['date']}, {ci['load']}; earlier: {ci['earlier']}",
            "`.ci/run`",
        )
    )
    lines = [
        f"On {t['machine']} unless a row says otherwise; {t['benchmarks']['load']}.",
        "",
        "| what | figure | command |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        f"GPU figures, {t['gpu']}",
    ]
    return "\n".join(lines)


BLOCKS = {
    "README.md": {"speed": speed_block},
    "book/teaching.md": {"chapters": chapters_block},
    "book/running.md": {"smoke": smoke_sentence},
}


def render(path: str, text: str, times: dict) -> str:
    """``text`` with every times block (and running.md's time row) rewritten."""
    for name, make in BLOCKS[path].items():
        start, end = f"<!-- times:{name}:start -->", f"<!-- times:{name}:end -->"
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"{path}: no block {start} ... {end}")
        block = f"{start}\n{make(times)}\n{end}"
        text = pattern.sub(lambda _, block=block: block, text)
    if path == "book/running.md":
        text = re.sub(r"^\| time \|.*$", lambda _: running_time_row(times), text, flags=re.M)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    times = json.loads(TIMES.read_text())
    stale = []
    for path in BLOCKS:
        file = ROOT / path
        old = file.read_text()
        new = render(path, old, times)
        if new != old:
            stale.append(path)
            if not args.check:
                file.write_text(new)
    verb = "stale (run python scripts/time_facts.py)" if args.check else "rewritten"
    for path in stale:
        print(f"{path}: {verb}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
