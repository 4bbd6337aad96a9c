"""Autograding with nbgrader, end to end, as a teacher runs it (scripts/grading.py).

A temporary course folder gets the notebooks of :data:`ASSIGNMENTS` as nbgrader
sources; ``nbgrader generate_assignment`` releases the student copies; four
"students" hand in (a) the untouched copy, (b) the copy with the solutions put
back, (c) the untouched copy with its checks rewritten to pass, and (d) the
solutions minus the last exercise; ``nbgrader autograde`` scores them, then
``generate_feedback`` and ``export`` run as the teacher's last steps. The scores
must be: (a) and (c) the free points only, (b) every autograded point, (d) all
but the last check's points; written answers wait for the teacher.

Graded here: a small sample chapter (tests/data/grading/, seconds, no C-MAPSS
data) and the chapters of :data:`FAST` (each submission executes the whole
chapter; they need the C-MAPSS files, RULKIT_DATA_DIR, and are skipped without
them). The chapters that train for minutes (:data:`SLOW`) are graded only when
RULKIT_GRADE_ALL=1 is set. Expected scores come from each notebook's own marks
(scripts/grading.py), so adding an exercise to a chapter needs no change here.
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from _support import need, need_module

need_module("nbgrader", "nbgrader is not installed (pip install -e '.[dev]'; Python 3.11+)")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "tests" / "data" / "grading"
SAMPLE = SAMPLE_DIR / "00_sample_chapter.ipynb"
NOTEBOOK_DIR = ROOT / "notebooks"

ALL = ("untouched", "solved", "cheater", "partial")
#: Chapters graded in CI, with the submissions handed in: each one executes the chapter
#: once (01-04, 06 and 07 take seconds to a minute on a CPU).
FAST = {
    "01_cmapss_data": ALL,
    "02_normalisation": ALL,
    "03_windows_labels": ALL,
    "04_dual_task_model": ALL,
    "06_accuracy_vs_safety": ("untouched", "solved"),
    "07_losses_in_code": ("untouched", "solved"),
    "11_training_it_well": ("untouched", "solved"),  # reads result files (and counts windows)
}
#: Chapters that train for minutes (3-12 CPU-minutes per run): only with RULKIT_GRADE_ALL=1.
SLOW = {
    stem: ("untouched", "solved")
    for stem in (
        "05_gradient_imbalance",
        "08_amnl",
        "09_gaba",
        "10_grace",
        "12_reproducing_results",
    )
}
GRADE_ALL = os.environ.get("RULKIT_GRADE_ALL") == "1"
#: notebook -> (points an untouched copy earns, i.e. checks that pass without an answer;
#: the submissions to autograde). No chapter check passes without its answer.
ASSIGNMENTS = {SAMPLE: (0.0, ALL)} | {
    NOTEBOOK_DIR / f"{stem}.ipynb": (0.0, who)
    for stem, who in (FAST | SLOW if GRADE_ALL else FAST).items()
}


def load_grading():
    spec = importlib.util.spec_from_file_location("grading", ROOT / "scripts" / "grading.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grading = load_grading()


def read(path: Path):
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- marks -> metadata


def test_marks_become_nbgrader_metadata():
    nb, cells = grading.grading_metadata(read(SAMPLE), SAMPLE.name)
    got = [(c.grade_id, c.kind, c.points) for c in cells]
    assert got == [
        ("colab-install", "locked", 0.0),
        ("ex1-answer", "answer", 0.0),
        ("ex1-check", "check", 2.0),
        ("ex2-written", "written", 1.0),
        ("ex2-answer", "answer", 0.0),
        ("ex2-check", "check", 1.0),
        ("written-1", "written", 0.0),
    ]
    for c in cells:
        meta = nb.cells[c.index].metadata["nbgrader"]
        assert meta["grade_id"] == c.grade_id
        assert meta["solution"] == (c.kind in ("answer", "written"))
        assert meta["grade"] == (c.kind in ("check", "written"))
        assert meta["locked"] == (c.kind in ("check", "locked"))
    # the source notebook itself is not changed
    assert not any("nbgrader" in cell.metadata for cell in read(SAMPLE).cells)


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


md = nbformat.v4.new_markdown_cell
code = nbformat.v4.new_code_cell
SOLVED = "x = 0\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"


@pytest.mark.parametrize(
    "cells, message",
    [
        ((code("pass"), md("### Exercise 1: x"), code(SOLVED)), "has no check"),
        ((code("pass"), md("### Exercise 1: x"), code(SOLVED), md("## Summary")), "has no check"),
        ((code("pass"), code(SOLVED), code("assert x")), "outside any"),
        ((code("pass"), md("### Exercise 1"), code("### BEGIN SOLUTION\nx = 1")), "but 0"),
        (
            (code("pass"), md("### Exercise 1"), code(SOLVED, metadata={"tags": ["points-2"]})),
            "points belong",
        ),
        ((code("pass"), code("y = 1", metadata={"tags": ["points-1"]})), "no check"),
    ],
)
def test_bad_marks_are_reported(cells, message):
    with pytest.raises(grading.GradingMarkError, match=message):
        grading.grading_metadata(_nb(*cells))


def test_explicit_nbgrader_metadata_is_kept():
    explicit = {
        "grade": True,
        "grade_id": "my-check",
        "locked": True,
        "points": 5,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    nb = _nb(code("pass"), code("assert True", metadata={"nbgrader": explicit}))
    out, cells = grading.grading_metadata(nb)
    assert out.cells[1].metadata["nbgrader"] == explicit
    assert [(c.grade_id, c.points) for c in cells][-1] == ("my-check", 5.0)


# --------------------------------------------------------------------------- a whole course


def _broken_checks(student):
    """The student rewrites every check to pass (nbgrader restores them before grading)."""
    nb = copy.deepcopy(student)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            cell.source = "pass"
    return nb


def _without_last_answer(solved, student):
    """Every answer but the last autograded one (later exercises may build on earlier ones)."""
    nb = copy.deepcopy(solved)
    last = [
        i
        for i, c in enumerate(student.cells)
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ][-1]
    nb.cells[last].source = student.cells[last].source
    return nb


def _grade(root: Path, path: Path):
    """Release ``path`` in the course folder ``root``, hand in the submissions, autograde."""
    name = path.stem
    graded = grading.write_course(root, {name: [path]})[path.name]
    release = grading.generate(root, name)
    student = read(release / path.name)
    source = read(root / "source" / name / path.name)
    solved = grading.put_back_solutions(student, source)
    submissions = {
        "untouched": student,
        "solved": solved,
        "cheater": _broken_checks(student),
        "partial": _without_last_answer(solved, student),
    }
    for who in ASSIGNMENTS[path][1]:
        folder = root / "submitted" / who / name
        folder.mkdir(parents=True)
        nbformat.write(submissions[who], folder / path.name)
    grading.run_nbgrader(root, "autograde", name, "--force")
    return root, path, graded


@pytest.fixture(scope="module")
def course(tmp_path_factory, request):
    """One course folder; ``course(path)`` grades ``path`` once and returns
    (course dir, notebook path, graded cells). Chapters need the C-MAPSS files."""
    root = tmp_path_factory.mktemp("course")
    done: dict[Path, tuple] = {}

    def get(path: Path):
        if path.parent == NOTEBOOK_DIR:
            request.getfixturevalue("cmapss_dir")  # skips without the data
            need(path.is_file(), f"{path.name} does not exist")
        if path not in done:
            done[path] = _grade(root, path)
        return done[path]

    return get


@pytest.mark.parametrize("path", list(ASSIGNMENTS), ids=[p.stem for p in ASSIGNMENTS])
def test_release_is_a_student_copy(course, path):
    root, _, graded = course(path)
    source, student = read(path), read(root / "release" / path.stem / path.name)
    assert len(student.cells) == len(source.cells)
    assert "jupytext" not in student.metadata
    kinds = {c.index: c.kind for c in graded}
    for i, (a, b) in enumerate(zip(source.cells, student.cells)):
        assert grading.BEGIN not in b.source and grading.END not in b.source
        if b.cell_type == "code":
            assert b.outputs == [] and b.execution_count is None
        meta = b.metadata.get("nbgrader")
        if kinds.get(i) == "answer":
            assert grading.PLACEHOLDER in b.source and meta["checksum"]
        elif kinds.get(i) == "written":
            assert b.source == grading.TEXT_STUB
        else:
            assert a.source == b.source, f"cell {i} changed although it is no answer"
        if kinds.get(i) in ("check", "locked"):
            assert meta["locked"] and b.metadata.get("editable") is False


@pytest.mark.parametrize("path", list(ASSIGNMENTS), ids=[p.stem for p in ASSIGNMENTS])
def test_autograde_scores(course, path):
    root, _, graded = course(path)
    free, who_handed_in = ASSIGNMENTS[path]
    auto = sum(c.points for c in graded if c.kind == "check")
    written = sum(c.points for c in graded if c.kind == "written")
    assert auto > 0, f"{path.name} has no autograded points"
    last_check = [c for c in graded if c.kind == "check"][-1]
    got = grading.scores(root, path.stem)
    score = {who: got[(who, path.stem)] for who in who_handed_in}
    print(  # shown by `pytest -rP`: the scores a teacher would see
        f"{path.stem}: autograded "
        + ", ".join(f"{who} {s['code_score']:g}/{auto:g}" for who, s in score.items())
        + f"; written {written:g} points wait for the teacher"
    )
    for who, s in score.items():
        assert s["max_code_score"] == auto and s["max_written_score"] == written, who
    assert score["untouched"]["code_score"] == free, score["untouched"]["grades"]
    assert score["solved"]["code_score"] == auto, score["solved"]["grades"]
    if "cheater" in score:
        assert score["cheater"]["code_score"] == free, "rewritten checks must be restored"
    if "partial" in score:
        want = auto - last_check.points
        assert score["partial"]["code_score"] == want, score["partial"]["grades"]
    if written:  # written answers wait for the teacher
        assert score["solved"]["needs_manual_grade"]


def test_feedback_and_export(course):
    root, path, _ = course(SAMPLE)
    grading.run_nbgrader(root, "generate_feedback", path.stem, "--force")
    feedback = root / "feedback" / "solved" / path.stem / f"{path.stem}.html"
    assert feedback.is_file() and "ex1-check" in feedback.read_text()
    grading.run_nbgrader(root, "export")
    with open(root / "grades.csv", newline="") as f:
        rows = {
            row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == path.stem
        }
    assert set(rows) == set(ALL)
    assert float(rows["solved"]["score"]) > float(rows["untouched"]["score"])


# --------------------------------------------------------------------------- student copies


def test_student_copies_are_made_by_nbgrader_and_reproducible(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    before = SAMPLE.read_bytes()
    cmd = [sys.executable, str(ROOT / "scripts" / "grading.py"), "student", "--quiet"]
    for out in (first, second):
        subprocess.run([*cmd, "--src", str(SAMPLE_DIR), "--out", str(out)], check=True, cwd=ROOT)
    assert SAMPLE.read_bytes() == before, "the source notebook was modified"
    names = sorted(p.name for p in first.iterdir())
    assert names == ["00_sample_chapter.ipynb", "00_sample_chapter.py", "README.md"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    student = read(first / SAMPLE.name)
    assert sum(c.source.count(grading.PLACEHOLDER) for c in student.cells) == 2
    assert all("nbgrader" in c.metadata for c in student.cells if "grade_id" in str(c.metadata))
    twin = (first / "00_sample_chapter.py").read_text()
    assert "nbgrader" not in twin and grading.PLACEHOLDER in twin
