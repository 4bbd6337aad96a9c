"""The chapters that show results were executed on the runs that results/ holds now.

Each such chapter prints ``results read: <n> runs, fingerprint <hash>`` (from
:func:`rulkit.report.run_set`) when it loads the runs; a result file that lands after
the chapter was executed changes the fingerprint, and this test names the chapter to
re-execute (``make results-notebooks``). The packaged summary is checked the same way.
"""

import json
import re
import shutil
from pathlib import Path

from rulkit.report import run_set
from rulkit.results import MEASURED, load_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
FINGERPRINT = re.compile(r"results read: (\d+ runs, fingerprint [0-9a-f]{12})")


def printed_fingerprints(notebook: Path) -> set[str]:
    """The run-set fingerprints a notebook's committed outputs print."""
    found = set()
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            found.update(FINGERPRINT.findall(text if isinstance(text, str) else "".join(text)))
    return found


def stale_chapters(results_dir: Path, notebooks: list[Path]) -> dict[str, set[str]]:
    """{chapter: fingerprints it printed} for chapters not made from ``results_dir``."""
    now = run_set(load_results(results_dir))
    printed = {nb.name: printed_fingerprints(nb) for nb in notebooks}
    return {name: fps for name, fps in printed.items() if fps and fps != {now}}


def chapters() -> list[Path]:
    return sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))


def test_chapters_that_show_results_print_their_run_set():
    showing = {nb.name for nb in chapters() if printed_fingerprints(nb)}
    assert "11_training_it_well.ipynb" in showing, showing


def test_every_chapter_was_executed_on_the_runs_in_results():
    stale = stale_chapters(RESULTS, chapters())
    assert not stale, (
        f"chapters executed on other runs than results/ holds ({run_set(load_results(RESULTS))}):"
        f" {stale}; run `make measured results-notebooks`"
    )


def test_the_packaged_summary_holds_the_runs_in_results():
    packaged = json.loads(MEASURED.read_text())["runs"]
    assert run_set(packaged) == run_set(load_results(RESULTS)), "run `make measured`"


def test_a_planted_result_file_makes_the_chapters_stale(tmp_path):
    shutil.copytree(RESULTS, tmp_path / "results")
    assert not stale_chapters(tmp_path / "results", chapters())
    planted = json.loads((RESULTS / "FD001_baseline_seed0_tuned.json").read_text())
    planted["seed"] = 99
    (tmp_path / "results" / "FD001_baseline_seed99_tuned.json").write_text(json.dumps(planted))
    stale = stale_chapters(tmp_path / "results", chapters())
    assert "11_training_it_well.ipynb" in stale
