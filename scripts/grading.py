#!/usr/bin/env python3
"""Exercises graded with nbgrader: student copies, a teacher's course folder, scores.

The chapter notebooks mark their exercises as CONTRIBUTING.md describes, and this
module turns those marks into nbgrader's cell metadata, then lets nbgrader's own
``generate_assignment`` command make the student copies (solutions replaced,
outputs cleared, checks locked and checksummed). Marks, per exercise
(``### Exercise N: title`` starts exercise N):

* a code cell with ``### BEGIN SOLUTION`` ... ``### END SOLUTION``: an autograded
  answer (grade id ``exN-answer``);
* the first code cell after an answer: its check, an autograder test worth the
  points of its tag ``points-K`` (default 1; grade id ``exN-check``);
* a markdown cell tagged ``answer``: a written answer, graded by hand, worth its
  ``points-K`` (default 1); the chapter holds the model answer, the student copy
  a blank (grade id ``exN-written``, or ``written-K`` outside an exercise);
* a cell tagged ``locked``: read-only. The first code cell (the Colab install cell)
  is always read-only.

A cell that already carries ``nbgrader`` metadata keeps it. Commands::

    python scripts/grading.py student                 # notebooks/ -> notebooks/student/
    python scripts/grading.py student --src tests/data --out /tmp/stu
    python scripts/grading.py course ~/course         # a teacher's nbgrader course folder
    python scripts/grading.py course ~/course 06_accuracy_vs_safety
    python scripts/grading.py show                    # exercises, grade ids and points

``course`` writes ``nbgrader_config.py``, ``source/<chapter>/<chapter>.ipynb`` for
each chapter, and runs ``nbgrader generate_assignment`` for each into
``release/``; the teacher then collects into ``submitted/<student>/<chapter>/``
and runs ``nbgrader autograde <chapter>`` (see book/teaching.md).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "notebooks"
PATTERN = "[0-9][0-9]_*.ipynb"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = 'raise NotImplementedError("Exercise: write your answer here")'
TEXT_STUB = "*Write your answer here.*"
TAG_ANSWER = "answer"
TAG_LOCKED = "locked"
POINTS_RE = re.compile(r"^points-(\d+(?:\.\d+)?)$")
EXERCISE_RE = re.compile(r"^#{2,4}\s*Exercise\s+(\d+)\b", re.MULTILINE)
HEADING_RE = re.compile(r"^#{1,2}\s", re.MULTILINE)
SCHEMA_VERSION = 3
STUDENT_ASSIGNMENT = "student"

NBGRADER_CONFIG = f"""\
# nbgrader configuration of a rulkit course folder (written by scripts/grading.py).
c = get_config()  # noqa: F821
c.ClearSolutions.code_stub = {{"python": {PLACEHOLDER!r}}}
c.ClearSolutions.text_stub = {TEXT_STUB!r}
# the chapters that train a model take minutes on a CPU
c.Execute.timeout = 1800
c.Execute.interrupt_on_timeout = True
"""

README = """\
# Student notebooks

The chapters of the rulkit book with the exercise solutions taken out, made by
nbgrader (`make student`, which runs `scripts/grading.py student`). Each exercise
cell ends in

    raise NotImplementedError("Exercise: write your answer here")

Replace that line with your answer and run the check cell below it: it tells you
whether your answer is right, and what is wrong if it is not. Written answers go
where the notebook says *Write your answer here.* All outputs are cleared; run the
notebook from the top. Nothing but rulkit needs to be installed: the checks are
plain Python.

For teachers: the cells carry nbgrader's metadata (grade ids, points, checksums),
so a class's copies can be autograded with `nbgrader autograde`; see the page
"Teaching with this book". Do not edit these files by hand: the next
`make student` overwrites them.
"""


class GradingMarkError(ValueError):
    """The exercise marks of a notebook cannot be turned into nbgrader metadata."""


class GradedCell(NamedTuple):
    index: int  # cell index in the notebook
    grade_id: str
    kind: str  # "answer", "check", "written", "locked"
    points: float  # 0 for answers and locked cells


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _points(cell, where: str) -> float | None:
    found = [float(m.group(1)) for t in _tags(cell) if (m := POINTS_RE.match(t))]
    if len(found) > 1:
        raise GradingMarkError(f"{where}: several points-K tags {found}")
    return found[0] if found else None


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _count_markers(source: str, where: str) -> int:
    begins = sum(1 for line in source.splitlines() if line.strip().startswith(BEGIN))
    ends = sum(1 for line in source.splitlines() if line.strip().startswith(END))
    if begins != ends:
        raise GradingMarkError(f"{where}: {begins} {BEGIN!r} but {ends} {END!r}")
    return begins


def grading_metadata(nb, name: str = "notebook"):
    """A copy of ``nb`` with nbgrader metadata derived from the exercise marks.

    Returns ``(notebook, cells)`` where ``cells`` lists every graded or locked cell.
    """
    nb = copy.deepcopy(nb)
    cells: list[GradedCell] = []
    used: set[str] = set()
    exercise: int | None = None
    awaiting_check: str | None = None  # grade id stem of an answer that needs its check
    first_code = True
    written = 0

    def new_id(stem: str) -> str:
        grade_id, k = stem, 2
        while grade_id in used:
            grade_id, k = f"{stem}-{k}", k + 1
        used.add(grade_id)
        return grade_id

    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        tags = _tags(cell)
        points = _points(cell, where)
        if "nbgrader" in cell.metadata:  # explicit metadata wins
            meta = cell.metadata["nbgrader"]
            used.add(meta["grade_id"])
            kind = "check" if meta.get("grade") and not meta.get("solution") else "answer"
            cells.append(GradedCell(index, meta["grade_id"], kind, float(meta.get("points", 0))))
            continue
        if cell.cell_type == "markdown":
            match = EXERCISE_RE.search(cell.source)
            heading = HEADING_RE.search(cell.source)
            if (match or heading) and awaiting_check:
                raise GradingMarkError(f"{where}: the answer {awaiting_check} has no check")
            if match:
                exercise = int(match.group(1))
            elif heading:  # a chapter or section heading ends the exercise
                exercise = None
            if TAG_ANSWER in tags:
                if exercise is not None:
                    stem = f"ex{exercise}-written"
                else:
                    written += 1
                    stem = f"written-{written}"
                pts = 1.0 if points is None else points
                cell.metadata["nbgrader"] = _meta(
                    new_id(stem), solution=True, grade=True, points=pts
                )
                cells.append(
                    GradedCell(index, cell.metadata["nbgrader"]["grade_id"], "written", pts)
                )
            elif points is not None:
                raise GradingMarkError(
                    f"{where}: a points tag on a markdown cell that is no answer"
                )
            continue
        if cell.cell_type != "code":
            continue
        markers = _count_markers(cell.source, where)
        if markers:
            if exercise is None:
                raise GradingMarkError(f"{where}: a solution outside any '### Exercise N' section")
            if awaiting_check:
                raise GradingMarkError(f"{where}: the answer {awaiting_check} has no check")
            if points is not None:
                raise GradingMarkError(f"{where}: points belong on the check cell, not the answer")
            grade_id = new_id(f"ex{exercise}-answer")
            cell.metadata["nbgrader"] = _meta(grade_id, solution=True)
            cells.append(GradedCell(index, grade_id, "answer", 0.0))
            awaiting_check = grade_id
        elif awaiting_check:
            pts = 1.0 if points is None else points
            grade_id = new_id(f"ex{exercise}-check")
            cell.metadata["nbgrader"] = _meta(grade_id, grade=True, locked=True, points=pts)
            cells.append(GradedCell(index, grade_id, "check", pts))
            awaiting_check = None
        elif TAG_LOCKED in tags or first_code:
            stem = "colab-install" if first_code else f"locked-{index}"
            grade_id = new_id(stem)
            cell.metadata["nbgrader"] = _meta(grade_id, locked=True)
            cells.append(GradedCell(index, grade_id, "locked", 0.0))
        elif points is not None:
            raise GradingMarkError(f"{where}: a points tag on a code cell that is no check")
        first_code = False
    if awaiting_check:
        raise GradingMarkError(f"{name}: the answer {awaiting_check} has no check cell after it")
    return nb, cells


def staged_notebook(path: Path):
    """The chapter as nbgrader's source: grading metadata on, editor-only metadata off."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nb, cells = grading_metadata(nb, path.name)
    nb.metadata.pop("jupytext", None)  # a student copy must not create a .py twin
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timings of the author's run
        cell.metadata.pop("ExecuteTime", None)
    return nb, cells


def chapter_notebooks(source_dir: Path = SOURCE_DIR) -> list[Path]:
    return sorted(Path(source_dir).glob(PATTERN))


def run_nbgrader(course_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course_dir`` with this interpreter's nbgrader.

    nbgrader calls the ``alembic`` command of its own environment, so that
    environment's bin folder goes first on PATH even when it is not activated.
    """
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def write_course(course_dir: Path, notebooks: dict[str, list[Path]]) -> dict[str, list]:
    """Lay out an nbgrader course folder: config + ``source/<assignment>/<nb>.ipynb``.

    ``notebooks`` maps assignment names to chapter notebooks. Returns the graded
    cells per notebook file name.
    """
    course_dir = Path(course_dir)
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    graded = {}
    for assignment, paths in notebooks.items():
        folder = course_dir / "source" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for path in paths:
            nb, cells = staged_notebook(Path(path))
            nbformat.write(nb, folder / Path(path).name)
            graded[Path(path).name] = cells
    return graded


def generate(course_dir: Path, assignment: str, database: bool = True) -> Path:
    """``nbgrader generate_assignment``: the student copies in ``release/<assignment>/``."""
    args = ["generate_assignment", assignment, "--force"]
    if not database:
        args.append("--no-db")
    run_nbgrader(course_dir, *args)
    return Path(course_dir) / "release" / assignment


def _py_percent(nb) -> str:
    """The py:percent twin of ``nb`` for reading and diffs: tags only (nbgrader's metadata
    stays in the .ipynb), without the jupytext version (stable across versions)."""
    import jupytext

    nb = copy.deepcopy(nb)
    nb.metadata["jupytext"] = {
        "cell_metadata_filter": "tags,-all",
        "notebook_metadata_filter": "kernelspec",
    }
    text = jupytext.writes(nb, fmt="py:percent")
    return "".join(
        line for line in text.splitlines(keepends=True) if "jupytext_version:" not in line
    )


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def make_student_notebooks(
    source_dir: Path = SOURCE_DIR, out_dir: Path | None = None, quiet: bool = False
) -> dict[str, int]:
    """Student copies of every chapter in ``source_dir``, made by nbgrader, into ``out_dir``.

    Each copy comes with its py:percent twin and the folder with a README; student
    copies of chapters that no longer exist are deleted. Returns ``{file name:
    number of solution blocks removed}``.
    """
    source_dir = Path(source_dir)
    out_dir = Path(out_dir) if out_dir is not None else source_dir / "student"
    chapters = chapter_notebooks(source_dir)
    if not chapters:
        raise FileNotFoundError(f"no chapter notebooks ({PATTERN}) in {source_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    removed: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="rulkit-nbgrader-") as tmp:
        course = Path(tmp)
        write_course(course, {STUDENT_ASSIGNMENT: chapters})
        release = generate(course, STUDENT_ASSIGNMENT, database=False)
        for path in chapters:
            text = (release / path.name).read_text(encoding="utf-8")
            student = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
            changed = _write_if_changed(out_dir / path.name, text)
            changed |= _write_if_changed(out_dir / f"{path.stem}.py", _py_percent(student))
            source = nbformat.read(path, as_version=nbformat.NO_CONVERT)
            removed[path.name] = sum(
                c.source.count(BEGIN) for c in source.cells if c.cell_type == "code"
            )
            if not quiet:
                state = "written" if changed else "unchanged"
                print(f"{out_dir / path.name}: {removed[path.name]} solution(s) removed ({state})")
    names = {p.name for p in chapters}
    for stale in sorted([*out_dir.glob(PATTERN), *out_dir.glob(PATTERN[:-6] + ".py")]):
        if stale.with_suffix(".ipynb").name not in names:
            stale.unlink()
            if not quiet:
                print(f"{stale}: removed (no such chapter any more)")
    _write_if_changed(out_dir / "README.md", README)
    return removed


def put_back_solutions(student, source):
    """A copy of the student notebook ``student`` with every answer cell's source
    taken from the instructor's ``source`` (matched by grade id): a perfect submission."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    student = copy.deepcopy(student)
    for cell in student.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    return student


def scores(course_dir: Path, assignment: str) -> dict[tuple[str, str], dict]:
    """Scores in the gradebook: {(student, notebook): {...}} after ``nbgrader autograde``."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{Path(course_dir) / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(assignment):
            for nb in submission.notebooks:
                out[(submission.student_id, nb.name)] = {
                    "score": nb.score,
                    "max_score": nb.max_score,
                    "code_score": nb.code_score,
                    "max_code_score": nb.max_code_score,
                    "written_score": nb.written_score,
                    "max_written_score": nb.max_written_score,
                    "needs_manual_grade": nb.needs_manual_grade,
                    "grades": {g.name: (g.auto_score, g.max_score) for g in nb.grades},
                }
    return out


# --------------------------------------------------------------------------- command line


def _show(source_dir: Path) -> None:
    for path in chapter_notebooks(source_dir):
        _, cells = grading_metadata(nbformat.read(path, as_version=4), path.name)
        auto = sum(c.points for c in cells if c.kind == "check")
        manual = sum(c.points for c in cells if c.kind == "written")
        print(f"{path.name}: {auto:g} autograded + {manual:g} written points")
        for c in cells:
            if c.kind != "locked":
                print(f"  cell {c.index:>3}  {c.kind:<8} {c.grade_id:<16} {c.points:g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    student = sub.add_parser("student", help="write the student copies (make student)")
    student.add_argument("--src", type=Path, default=SOURCE_DIR, help="chapter notebooks")
    student.add_argument("--out", type=Path, default=None, help="default: SRC/student")
    student.add_argument("--quiet", action="store_true", help="print nothing")
    course = sub.add_parser("course", help="lay out a teacher's nbgrader course folder")
    course.add_argument("course_dir", type=Path)
    course.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    course.add_argument("--src", type=Path, default=SOURCE_DIR, help="chapter notebooks")
    show = sub.add_parser("show", help="list the graded cells and points of each chapter")
    show.add_argument("--src", type=Path, default=SOURCE_DIR, help="chapter notebooks")
    args = parser.parse_args(argv)
    try:
        if args.command == "student":
            make_student_notebooks(args.src, args.out, args.quiet)
        elif args.command == "show":
            _show(args.src)
        else:
            chapters = chapter_notebooks(args.src)
            if args.chapters:
                chapters = [p for p in chapters if p.stem in args.chapters]
                missing = sorted(set(args.chapters) - {p.stem for p in chapters})
                if missing:
                    raise FileNotFoundError(f"no such chapters in {args.src}: {missing}")
            write_course(args.course_dir, {p.stem: [p] for p in chapters})
            for path in chapters:
                generate(args.course_dir, path.stem)
                print(f"released {args.course_dir / 'release' / path.stem / path.name}")
            print(
                f"next: collect into {args.course_dir}/submitted/<student>/<chapter>/, then "
                f"`nbgrader autograde <chapter>` in {args.course_dir}"
            )
    except (FileNotFoundError, GradingMarkError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
