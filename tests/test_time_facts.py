"""Every time quoted to a reader comes from rulkit/times.json (issue 16, item 6)."""

import copy
import importlib.util
import json
from pathlib import Path

import pytest

from rulkit.config import expected_cost, measured_times

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("time_facts", ROOT / "scripts" / "time_facts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


time_facts = load_script()


def test_documents_quote_the_times_file():
    times = measured_times()
    stale = [
        p
        for p in time_facts.BLOCKS
        if time_facts.render(p, (ROOT / p).read_text(), times) != (ROOT / p).read_text()
    ]
    assert not stale, f"run python scripts/time_facts.py: {stale} differ from rulkit/times.json"


@pytest.mark.parametrize("path", list(time_facts.BLOCKS))
def test_a_changed_figure_makes_the_documents_stale(path):
    times = copy.deepcopy(measured_times())
    times["smoke_run"]["rows"][0]["seconds"] += 1
    times["ci_fresh_clone"]["seconds"] += 1
    times["full_run_cpu_hours"]["high"] += 1
    if times.get("chapters"):
        times["chapters"]["rows"][0]["wall_min"] += 1
    text = (ROOT / path).read_text()
    assert time_facts.render(path, text, times) != text


def test_expected_cost_reads_the_times_file():
    times = measured_times()
    smoke, tuned = times["smoke_run"], times["tuned_vs_full_cpu"]
    assert f"{smoke['low_s']} s to {round(smoke['high_s'] / 60)} minutes" in (
        expected_cost("smoke")
    )
    assert f"{tuned['low']} to {tuned['high']}" in expected_cost("tuned")
    hours = times["full_run_cpu_hours"]
    assert f"{hours['low']} to {hours['high']} hours" in expected_cost("full")


def test_smoke_range_spans_its_rows():
    smoke = measured_times()["smoke_run"]
    seconds = [r["seconds"] for r in smoke["rows"]]
    assert (smoke["low_s"], smoke["high_s"]) == (min(seconds), max(seconds))


def test_full_run_hours_match_the_committed_runs():
    runs = [json.loads(p.read_text()) for p in sorted((ROOT / "results").glob("FD001_*_full.json"))]
    assert runs, "no full-recipe FD001 result in results/"
    cpu = [
        r["provenance"]["wall_time_s"] / 3600
        for r in runs
        if "cuda" not in str(r["provenance"].get("device", ""))
    ]
    hours = measured_times()["full_run_cpu_hours"]
    assert (hours["low"], hours["high"]) == (round(min(cpu), 1), round(max(cpu), 1))


def test_lean_run_minutes_match_the_committed_runs():
    runs = [json.loads(p.read_text()) for p in sorted((ROOT / "results").glob("FD001_*_lean.json"))]
    assert runs, "no lean FD001 result in results/"
    minutes = [r["provenance"]["wall_time_s"] / 60 for r in runs]
    lean = measured_times()["lean_run_cpu_minutes"]
    assert (lean["low"], lean["high"]) == (round(min(minutes), 1), round(max(minutes), 1))
    assert f"{lean['low']} to {lean['high']} minutes" in expected_cost("lean")


def test_chapter_rows_name_existing_notebooks():
    chapters = measured_times()["chapters"]
    assert chapters, "run python benchmarks/time_chapters.py"
    names = {p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert {r["notebook"] for r in chapters["rows"]} == names
