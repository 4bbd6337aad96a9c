"""Static checks of the chapter notebooks: nothing is executed here (nbval does that).

* every ``notebooks/NN_*.ipynb`` has its jupytext twin ``NN_*.py`` with the same code;
* the first code cell is the Colab install cell, pointing at the book's repository;
* the Colab launch link the book renders for each chapter is well formed and
  points at a file that exists in the repository;
* the table of contents and the notebooks agree;
* every chapter states its learning goals and has 3-5 exercises, marked for
  nbgrader as CONTRIBUTING.md describes (the marks are read by scripts/grading.py):
  each with a hint, autograded checks that say when an answer is right, at least
  one experiment (a prediction, then an explanation), and a closing "Check your
  understanding" section with model answers;
* committed notebooks carry their outputs, executed top to bottom, without errors;
* output-checked cells print nothing that changes from run to run (addresses,
  warnings, progress bars);
* the student copies (nbgrader's, via scripts/grading.py) lose every solution and
  only them, are generated deterministically, and the committed ones are current.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
COLAB = "https://colab.research.google.com"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
EXERCISE_RE = re.compile(r"^#{2,4}\s*Exercise\s+(\d+)\b", re.MULTILINE)
HEADING_RE = re.compile(r"^#{1,2}\s", re.MULTILINE)
# A collapsed hint; the blank lines let MyST render the inner text as markdown.
HINT_RE = re.compile(
    r"<details>\s*<summary>Hint</summary>\s*\n\n.*?\S.*?\n\n\s*</details>", re.DOTALL
)
CHECK_SECTION_RE = re.compile(r"^##\s+Check your understanding\s*$", re.MULTILINE)
EXERCISES = (3, 5)  # how many exercises a chapter has, at least and at most
ADDRESS_RE = re.compile(r"\bat 0x[0-9a-fA-F]+|\b0x[0-9a-fA-F]{8,}\b")
PROGRESS_RE = re.compile(r"\d+%\|")  # tqdm bars

needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason="no chapter notebooks yet")
each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def is_checked(cell) -> bool:
    """nbval --nbval-lax compares only cells whose first line is this marker."""
    lines = cell.source.lstrip().splitlines()
    return bool(lines) and lines[0].strip() == "# NBVAL_CHECK_OUTPUT"


def output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "\n".join(
        str(data[k]) for k in ("text/plain", "text/html", "text/markdown") if k in data
    )


def repository() -> tuple[str, str, str]:
    """(owner, repo, branch) of the book's repository, from _config.yml."""
    url = CONFIG["repository"]["url"].rstrip("/")
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "github.com", url
    owner, repo = parts.path.strip("/").split("/")
    return owner, repo, CONFIG["repository"].get("branch", "main")


def toc_files(node=TOC) -> list[str]:
    """Every file named in _toc.yml, root first, in reading order."""
    out = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                out.append(node[key])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                out.extend(toc_files(child))
    return out


def load_grading():
    spec = importlib.util.spec_from_file_location("grading", ROOT / "scripts" / "grading.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grading = load_grading()


# --------------------------------------------------------------------------- presence


def test_chapter_notebooks_exist():
    assert NOTEBOOKS, f"no chapter notebooks (NN_slug.ipynb) in {NOTEBOOK_DIR}"


@each_notebook
def test_name_pattern(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), (
        f"{path.name}: chapter notebooks are named NN_slug.ipynb (lower case, underscores)"
    )


# --------------------------------------------------------------------------- pairing


@each_notebook
def test_paired_script_has_identical_code(path):
    script = path.with_suffix(".py")
    assert script.exists(), f"{path.name} has no paired {script.name}; run `make sync`"
    nb_code = [c.source for c in code_cells(jupytext.read(path))]
    py_code = [c.source for c in code_cells(jupytext.read(script))]
    assert len(nb_code) == len(py_code), (
        f"{path.name} has {len(nb_code)} code cells, {script.name} has {len(py_code)}; "
        "run `make sync`"
    )
    for i, (a, b) in enumerate(zip(nb_code, py_code)):
        assert a == b, f"code cell {i} differs between {path.name} and {script.name}; `make sync`"


# --------------------------------------------------------------------------- Colab


@each_notebook
def test_first_code_cell_installs_rulkit_on_colab_only(path):
    owner, repo, branch = repository()
    first = code_cells(read(path))[0].source
    assert '"google.colab" in sys.modules' in first, (
        f"{path.name}: the first code cell must install rulkit on Colab only (see CONTRIBUTING.md)"
    )
    specs = re.findall(r"rulkit @ (git\+\S+?)[\"']", first)
    expected = f"git+{CONFIG['repository']['url'].rstrip('/')}@{branch}"
    assert specs == [expected], (
        f"{path.name}: the install cell must pip-install 'rulkit @ {expected}' "
        f"(from _config.yml), found {specs}"
    )
    assert "check=True" in first, f"{path.name}: the install must fail loudly (check=True)"


def test_launch_button_configuration():
    launch = CONFIG["launch_buttons"]
    assert launch["colab_url"].rstrip("/") == COLAB
    # "" (not ".") or sphinx-book-theme puts "/./" into every launch link.
    assert CONFIG["repository"].get("path_to_book", "") in ("", None)
    assert CONFIG["execute"]["execute_notebooks"] == "off"


@each_notebook
def test_colab_can_open_the_notebook(path):
    """Colab opens {colab}/github/{owner}/{repo}/blob/{branch}/{path} (the link itself, as
    the book renders it, is checked in the browser test): the path must need no escaping
    and the file must be one git keeps, or Colab could never open it."""
    rel = path.relative_to(ROOT).as_posix()
    assert re.fullmatch(r"[A-Za-z0-9_./-]+", rel), f"{rel}: characters a URL must escape"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", rel], cwd=ROOT, capture_output=True, check=False
    )
    assert ignored.returncode != 0, f"{rel} is git-ignored, so Colab could never open it"


# --------------------------------------------------------------------------- table of contents


def test_toc_entries_exist():
    missing = [
        f
        for f in toc_files()
        if not any((ROOT / f"{f}{ext}").is_file() for ext in ("", ".md", ".ipynb"))
    ]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_toc_has_no_duplicates():
    files = toc_files()
    assert len(files) == len(set(files)), f"duplicate entries in _toc.yml: {files}"


@each_notebook
def test_notebook_is_in_toc(path):
    entry = path.relative_to(ROOT).with_suffix("").as_posix()
    assert entry in {f.removesuffix(".ipynb") for f in toc_files()}, (
        f"{path.name} is not listed in _toc.yml"
    )


@needs_notebooks
def test_toc_lists_chapters_in_order():
    listed = [f for f in toc_files() if f.startswith("notebooks/")]
    assert listed == sorted(listed), f"_toc.yml lists the chapters out of order: {listed}"


# --------------------------------------------------------------------------- content


@each_notebook
def test_learning_goals_in_first_cell(path):
    first = read(path).cells[0]
    assert first.cell_type == "markdown", f"{path.name}: cell 1 must be markdown (title)"
    assert first.source.lstrip().startswith("# "), f"{path.name}: cell 1 must start with a title"
    assert "learning goals" in first.source.lower(), f"{path.name}: no 'Learning goals' in cell 1"


def exercises(nb) -> list[tuple[int, int]]:
    """(cell index, exercise number) of every '### Exercise N' heading."""
    return [
        (i, int(m.group(1)))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and (m := EXERCISE_RE.search(c.source))
    ]


def graded_cells(path: Path):
    """The notebook and its graded cells, as scripts/grading.py reads the marks."""
    nb = read(path)
    try:
        _, cells = grading.grading_metadata(nb, path.name)
    except grading.GradingMarkError as err:
        pytest.fail(f"bad exercise marks (CONTRIBUTING.md, Grading): {err}")
    return nb, cells


@each_notebook
def test_exercises_are_numbered_and_graded(path):
    nb, cells = graded_cells(path)
    found = exercises(nb)
    numbers = [n for _, n in found]
    lo, hi = EXERCISES
    assert lo <= len(numbers) <= hi, f"{path.name}: {len(numbers)} exercises, expected {lo} to {hi}"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: exercises {numbers}"
    for index, n in found:
        assert HINT_RE.search(nb.cells[index].source), (
            f"{path.name}: exercise {n} has no collapsed hint: add "
            "'<details><summary>Hint</summary>', a blank line, the hint, a blank line, '</details>'"
        )
        mine = [c for c in cells if c.grade_id.startswith(f"ex{n}-")]
        assert any(c.kind in ("check", "written") and c.points > 0 for c in mine), (
            f"{path.name}: exercise {n} earns no points (no check cell, no written answer)"
        )
    kinds = [c.kind for c in cells]
    assert "answer" in kinds, f"{path.name}: no autograded exercise ({BEGIN!r} ... {END!r})"
    text = "\n".join(c.source for c in code_cells(nb))
    assert text.count(BEGIN) == text.count(END) >= kinds.count("answer"), (
        f"{path.name}: unbalanced solution markers"
    )


@each_notebook
def test_check_cells_say_when_an_answer_is_right(path):
    nb, cells = graded_cells(path)
    for c in cells:
        if c.kind != "check":
            continue
        source = nb.cells[c.index].source
        where = f"{path.name}, {c.grade_id} (cell {c.index})"
        assert "assert" in source, f"{where}: a check cell must assert, with a message"
        assert "print(" in source, f"{where}: a check cell must print a line when it passes"
        last = ast.parse(_strip_magics(source)).body[-1]
        assert not (isinstance(last, ast.Expr) and not isinstance(last.value, ast.Call)), (
            f"{where}: ends with a bare expression, which nbgrader reads as a partial score"
        )


@each_notebook
def test_an_experiment_with_prediction_and_explanation(path):
    """At least one exercise asks for a prediction before running (an ungraded written
    answer) and an explanation after it (a graded written answer)."""
    nb, cells = graded_cells(path)
    experiments = []
    for _, n in exercises(nb):
        written = [c for c in cells if c.grade_id.startswith(f"ex{n}-") and c.kind == "written"]
        if any(c.points == 0 for c in written[:1]) and any(c.points > 0 for c in written[1:]):
            experiments.append(n)
    assert experiments, (
        f"{path.name}: no experiment: an exercise needs a prediction (markdown tagged "
        "'answer', 'points-0') and, after the run, an explanation (tagged 'answer', points > 0)"
    )


@each_notebook
def test_written_answers_hold_a_model_answer(path):
    nb, cells = graded_cells(path)
    for c in cells:
        if c.kind == "written":
            text = nb.cells[c.index].source.strip()
            assert len(text) > 40 and text != grading.TEXT_STUB, (
                f"{path.name}: written answer {c.grade_id} (cell {c.index}) has no model answer"
            )


@each_notebook
def test_check_your_understanding_at_the_end(path):
    nb, cells = graded_cells(path)
    heads = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    starts = [i for i in heads if CHECK_SECTION_RE.search(nb.cells[i].source)]
    assert len(starts) == 1, f"{path.name}: needs one '## Check your understanding' section"
    start = starts[0]
    assert start > max(i for i, _ in exercises(nb)), (
        f"{path.name}: 'Check your understanding' must come after the exercises"
    )
    section = []
    for i in range(start + 1, len(nb.cells)):
        if nb.cells[i].cell_type == "markdown" and HEADING_RE.search(nb.cells[i].source):
            break
        section.append(i)
    answers = {c.index for c in cells if c.kind == "written"}
    assert any(i in answers for i in section), (
        f"{path.name}: 'Check your understanding' needs a markdown cell tagged 'answer' "
        "with the model answer after each question"
    )
    heading_only = not CHECK_SECTION_RE.sub("", nb.cells[start].source).strip()
    questions = [
        i
        for i in ([] if heading_only else [start]) + section
        if nb.cells[i].cell_type == "markdown" and i not in answers
    ]
    unanswered = [i for i in questions if i + 1 not in answers]
    assert questions and not unanswered, (
        f"{path.name}: in 'Check your understanding' each question (markdown) must be followed "
        f"by its model answer (markdown tagged 'answer'); cells without one: {unanswered}"
    )


@each_notebook
def test_committed_with_outputs(path):
    cells = code_cells(read(path))
    counts = [c.execution_count for c in cells]
    assert all(isinstance(n, int) for n in counts), (
        f"{path.name}: code cells without an execution count; run `make notebooks` and commit "
        "the executed notebook"
    )
    assert counts == sorted(counts) and len(set(counts)) == len(counts), (
        f"{path.name}: cells were not executed top to bottom in one go: {counts}"
    )
    assert any(c.outputs for c in cells), f"{path.name}: no outputs at all"
    errors = [i for i, c in enumerate(cells) if any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"{path.name}: code cells {errors} ended with an error"


@each_notebook
def test_checked_outputs_are_reproducible(path):
    for i, cell in enumerate(code_cells(read(path))):
        if not is_checked(cell):
            continue
        for output in cell.outputs:
            text = output_text(output)
            assert not ADDRESS_RE.search(text), (
                f"{path.name}: checked code cell {i} prints a memory address: "
                f"{ADDRESS_RE.search(text).group(0)!r}; print values, not object reprs"
            )
            assert not (output.get("output_type") == "stream" and output.get("name") == "stderr"), (
                f"{path.name}: checked code cell {i} writes to stderr (a warning or progress bar)"
            )
            assert not PROGRESS_RE.search(text), (
                f"{path.name}: checked code cell {i} shows a progress bar"
            )


# --------------------------------------------------------------------------- student copies


def _strip_magics(source: str) -> str:
    return "\n".join(
        "pass" if line.lstrip()[:1] in "%!" and line.strip() else line
        for line in source.splitlines()
    )


@pytest.fixture(scope="module")
def student_copies(tmp_path_factory):
    """Fresh student copies of every chapter, made by nbgrader (scripts/grading.py)."""
    out = tmp_path_factory.mktemp("student")
    before = {p: p.read_bytes() for p in NOTEBOOKS}
    try:
        removed = grading.make_student_notebooks(NOTEBOOK_DIR, out, quiet=True)
    except grading.GradingMarkError as err:
        pytest.fail(f"bad exercise marks: {err}")
    assert {p: p.read_bytes() for p in NOTEBOOKS} == before, "the chapters were modified"
    return out, removed


@needs_notebooks
def test_student_copies(student_copies):
    out, removed = student_copies
    assert sorted(removed) == [p.name for p in NOTEBOOKS]
    assert (out / "README.md").read_text() == grading.README
    for path in NOTEBOOKS:
        original, student = read(path), read(out / path.name)
        blocks = sum(c.source.count(BEGIN) for c in code_cells(original))
        assert removed[path.name] == blocks >= 1
        assert len(student.cells) == len(original.cells)
        raises = 0
        for cell in code_cells(student):
            assert BEGIN not in cell.source and END not in cell.source
            assert cell.outputs == [] and cell.execution_count is None
            raises += cell.source.count(grading.PLACEHOLDER)
            ast.parse(_strip_magics(cell.source))  # indentation kept
        assert raises == blocks, f"{path.name}: {raises} placeholders for {blocks} solutions"
        assert "jupytext" not in student.metadata
        twin = jupytext.read(out / f"{path.stem}.py")  # the py:percent twin, same code
        assert [c.source for c in code_cells(twin)] == [c.source for c in code_cells(student)]
        # the solutions and written answers are gone from the student copy, and only they
        for i, (a, b) in enumerate(zip(original.cells, student.cells)):
            meta = b.metadata.get("nbgrader", {})
            if meta.get("solution"):
                if b.cell_type == "markdown":
                    assert b.source == grading.TEXT_STUB, f"{path.name}, cell {i}"
                continue
            assert a.source == b.source, f"{path.name}, cell {i} changed although it is no answer"
            if meta.get("grade"):
                assert meta.get("locked") and b.metadata.get("editable") is False, (
                    f"{path.name}, cell {i}: a check cell must be read-only"
                )


@needs_notebooks
def test_student_copies_are_deterministic(student_copies, tmp_path):
    """The command line (`make student`) writes the same bytes as a second run."""
    first, _ = student_copies
    cmd = [sys.executable, str(ROOT / "scripts" / "grading.py"), "student", "--quiet"]
    subprocess.run([*cmd, "--out", str(tmp_path)], check=True, cwd=ROOT)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_unbalanced_solution_markers_are_rejected():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("pass"),
        nbformat.v4.new_markdown_cell("### Exercise 1: x"),
        nbformat.v4.new_code_cell(f"x = 1\n{BEGIN}\ny = 2\n"),
    ]
    with pytest.raises(grading.GradingMarkError, match="but 0"):
        grading.grading_metadata(nb, "unbalanced")


@needs_notebooks
def test_committed_student_copies_are_current(student_copies):
    """notebooks/student/ is what `make student` makes now (run it after editing a chapter)."""
    fresh_dir, _ = student_copies
    committed = NOTEBOOK_DIR / "student"
    fresh = sorted(p.name for p in fresh_dir.iterdir())
    assert sorted(p.name for p in committed.iterdir()) == fresh
    for name in fresh:
        ours, theirs = (committed / name).read_text(), (fresh_dir / name).read_text()
        if name.endswith(".ipynb"):  # compare content, not the serialiser's layout
            ours, theirs = json.loads(ours), json.loads(theirs)
        assert ours == theirs, f"notebooks/student/{name} is out of date: run `make student`"


# --------------------------------------------------------------------------- one repository address

REPO_LINK_RE = re.compile(
    r"(?:github\.com|colab\.research\.google\.com/github)/([A-Za-z0-9_.-]+)/([A-Za-z0-9_-]+)"
    r"(?:\.git)?(?:@([A-Za-z0-9_./-]+?))?(?=[\"'`\s)>/]|$)"
)


def _texts_that_name_the_repository():
    """(where, text) for every page, notebook cell and file that may link to the repository."""
    out = []
    for path in [
        *sorted((ROOT / "book").glob("*.md")),
        ROOT / "README.md",
        ROOT / "CONTRIBUTING.md",
    ]:
        if path.is_file():
            out.append((path.relative_to(ROOT).as_posix(), path.read_text()))
    for path in NOTEBOOKS:
        for i, cell in enumerate(read(path).cells):
            out.append((f"{path.name} cell {i}", cell.source))
    for path in sorted((ROOT / "rulkit").rglob("*.py")) + sorted((ROOT / "scripts").glob("*.py")):
        out.append((path.relative_to(ROOT).as_posix(), path.read_text()))
    return out


def wrong_repository_links(texts, owner, repo, branch):
    """Links in ``texts`` ((where, text) pairs) to the book's repository that disagree with
    (owner, repo, branch); links to other repositories are left alone."""
    wrong = []
    for where, text in texts:
        for match in REPO_LINK_RE.finditer(text):
            found_owner, found_repo, found_branch = match.groups()
            ours = found_owner == owner or found_repo == repo
            install = "git+" in text[max(0, match.start() - 12) : match.start()]
            if not (ours or install or "colab" in match.group(0)):
                continue  # someone else's repository (a cited paper's code, say)
            if (found_owner, found_repo) != (owner, repo) or (
                found_branch is not None and found_branch != branch
            ):
                wrong.append(f"{where}: {match.group(0)}")
    return wrong


def test_repository_address_comes_from_config():
    """The book's repository (owner, name, branch) is set once, in _config.yml: every install
    command, clone command and Colab link in the pages, notebooks and package agrees with it."""
    owner, repo, branch = repository()
    wrong = wrong_repository_links(_texts_that_name_the_repository(), owner, repo, branch)
    assert not wrong, (
        f"links to the book's repository must be {owner}/{repo}@{branch} (from _config.yml):\n  "
        + "\n  ".join(wrong)
    )


def test_a_stale_repository_link_is_caught():
    texts = [
        ("a", 'pip install "rulkit @ git+https://github.com/rulkit-book/rulkit@main"'),
        ("b", 'pip install "rulkit @ git+https://github.com/old-owner/old-name@main"'),
        ("c", "git clone https://github.com/old-owner/rulkit"),
        ("d", "https://colab.research.google.com/github/rulkit-book/rulkit/blob/dev/x.ipynb"),
        ("e", "<https://github.com/nautel/cmapss-rul-miras>"),
        ("f", 'pip install "rulkit @ git+https://github.com/rulkit-book/rulkit@dev"'),
    ]
    wrong = wrong_repository_links(texts, "rulkit-book", "rulkit", "main")
    assert [w.split(":")[0] for w in wrong] == ["b", "c", "f"]
