"""No autograded exercise can be passed by calling rulkit instead of solving it.

Many exercises ask for something rulkit already computes (the NASA score, AMNL's
weights, the floor projection, a health label), and their checks compare the answer
with rulkit. A check that only does that is passed by the one-line call of the
library function, or by returning the figures the notebook already holds. For every
autograded exercise (the answer and check cells that scripts/grading.py finds), this
module either

* builds such a shortcut submission, the exercise's answer cell with its solution
  replaced by the shortcut, runs the answer cell and then the check cell, and
  requires the check to fail (nbgrader gives a check its points when it raises no
  error, so a failing check is 0 points); and runs the model solution the same way
  and requires the check to pass (full points); or
* says in :data:`NO_SHORTCUT` why there is no library shortcut to test.

The cells run directly, not through ``nbgrader autograde`` (tests/test_grading.py does
that for whole chapters): the answer and check cells of the chapter notebook run in a
namespace made by running only the earlier cells that define the names they use,
found by reading the code. Where those cells train models (chapter 12's demonstration
runs), :data:`STAND_INS` supplies the same kind of object without training. Exercises
of chapters 01-04 read the C-MAPSS files (RULKIT_DATA_DIR) and are skipped without
them.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
RESULTS_DIR = ROOT / "results"


def _load_grading():
    spec = importlib.util.spec_from_file_location("grading", ROOT / "scripts" / "grading.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grading = _load_grading()

#: (chapter, exercise) -> shortcut submissions. Each submission replaces the solution
#: blocks of the answer cell, in order (a string for one block, a tuple for several);
#: an exercise can list several submissions, and every one must earn 0 points.
SHORTCUTS: dict[tuple[str, int], list] = {
    ("01_cmapss_data", 2): ["return list(DROPPED_SENSORS)"],
    ("02_normalisation", 1): ["return state.assign_conditions(settings)"],
    ("02_normalisation", 2): [
        'return state.transform(engine)[:, state.feature_names.index("s_4")]'
    ],
    ("02_normalisation", 3): ["return state.sensor_mean"],
    ("03_windows_labels", 1): ["return health_labels(y)", "return health_labels(y, thresholds)"],
    ("04_dual_task_model", 1): ['return dict(model.parameter_table())["bilstm"]'],
    ("04_dual_task_model", 3): ["return n_shared + n_rul_head"],
    ("06_accuracy_vs_safety", 1): ["return metrics.nasa_score(pred, true)"],
    ("06_accuracy_vs_safety", 2): [
        "return float(metrics.nasa_scores([d], [0.0])[0] / metrics.nasa_scores([-d], [0.0])[0])"
    ],
    ("07_losses_in_code", 1): [
        "return reference.gaba_weights(*norms)",
        "return reference.gaba_weights(norms[0], norms[1])",
    ],
    ("08_amnl", 1): [
        "return amnl_weights(torch.arange(float(n_cycles)), cap, w_min, w_max).numpy()",
        "return amnl_weights(torch.arange(1.0, n_cycles + 1), cap, w_min, w_max).numpy()",
    ],
    ("08_amnl", 3): [
        (
            "return weighted_mse(torch.as_tensor(pred), torch.as_tensor(target), "
            "torch.as_tensor(weights)).item()",
            grading.PLACEHOLDER,  # rulkit has no function for the pulls
        )
    ],
    ("09_gaba", 5): [
        "return project_to_floor(torch.tensor(w, dtype=torch.float64), floors).numpy()",
        "return project_to_floor(torch.tensor(w, dtype=torch.float64), max(floors)).numpy()",
    ],
    ("11_training_it_well", 1): [
        "return next(k for k in range(1, 10**6) "
        'if lr_schedule(profile_config("full"), 54).at(k) >= fraction * 1e-3)'
    ],
    ("12_reproducing_results", 1): ['return record["test"]'],
    ("12_reproducing_results", 2): ['return bootstrap_ci(records, n_boot, seed=seed)["rmse"]'],
    ("12_reproducing_results", 3): [
        "return sorted(table.method.iloc[plots.pareto_front("
        "table.rmse_mean.to_numpy(), table.nasa_mean.to_numpy())])"
    ],
}

#: (chapter, exercise) -> why no library call answers it.
NO_SHORTCUT: dict[tuple[str, int], str] = {
    ("01_cmapss_data", 1): "no rulkit function returns engine lifetimes",
    ("01_cmapss_data", 3): "no rulkit function returns the failure cycles of test engines",
    ("01_cmapss_data", 4): "no rulkit function counts rounded operating conditions",
    ("03_windows_labels", 2): "rulkit cuts windows from tables, not from a cycle count",
    ("03_windows_labels", 3): (
        "rulkit's last_windows is not imported in the chapter and is no attribute of "
        "rulkit.data; it needs an import from rulkit.data.prepare and an engine numbering"
    ),
    ("03_windows_labels", 4): "an experiment that runs rulkit.prepare by design",
    ("04_dual_task_model", 2): "building the model with rulkit is the answer",
    ("04_dual_task_model", 4): "no rulkit function predicts the starting loss",
    ("05_gradient_imbalance", 1): "gradients by autograd on given numbers, no rulkit call",
    ("05_gradient_imbalance", 2): (
        "the check's own reference takes a forward pass, task_losses and shared_grad_norms: "
        "no single call"
    ),
    ("05_gradient_imbalance", 3): "no rulkit function rescales the RUL loss",
    ("05_gradient_imbalance", 4): "an experiment that uses rulkit's helpers by design",
    ("06_accuracy_vs_safety", 3): "the exercise asks to use regimes.switch_points",
    ("07_losses_in_code", 2): "no rulkit function applies a fixed task weight around GABA's",
    ("07_losses_in_code", 3): "an experiment: its text allows rulkit.reference for the helper",
    ("08_amnl", 4): "no rulkit function gives the ratio of the two normalisations",
    ("09_gaba", 1): "no rulkit function gives the floor for equal pull",
    ("09_gaba", 3): "no rulkit function inverts the EMA's reaction time",
    ("09_gaba", 4): "rulkit's GABA keeps its average inside an object: no one-step call",
    ("10_grace", 1): "no rulkit function splits the NASA score into late and early",
    ("10_grace", 2): "rulkit's GRACE needs a controller's state, the NumPy oracle NumPy inputs",
    ("11_training_it_well", 3): "no rulkit function counts the engines one run is closer on",
    ("12_reproducing_results", 4): "the exercise asks to use bootstrap_ci",
}

#: Names whose defining cells train models: the same kind of object, made without
#: training (the committed full-recipe result files stand in for the demonstration runs).
STAND_INS: dict[str, dict[str, str]] = {
    "12_reproducing_results": {
        "demo_records": (
            "from rulkit.results import load_results\n"
            f"demo_records = [r for r in load_results({str(RESULTS_DIR)!r})\n"
            "                if r['subset'] == 'FD001' and r['profile'] == 'full']\n"
        ),
    },
}

#: Chapters whose cells read the C-MAPSS files.
NEEDS_DATA = {"01_cmapss_data", "02_normalisation", "03_windows_labels", "04_dual_task_model"}


# --------------------------------------------------------------------------- notebook reading


def _chapter(stem: str):
    return nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)


def _exercises(stem: str) -> dict[int, tuple[int, int]]:
    """Exercise number -> (answer cell index, check cell index), as grading.py marks them."""
    _, cells = grading.grading_metadata(_chapter(stem), f"{stem}.ipynb")
    found: dict[int, list[int]] = {}
    for c in cells:
        match = re.fullmatch(r"ex(\d+)-(answer|check)", c.grade_id)
        if match:
            found.setdefault(int(match.group(1)), []).append(c.index)
    return {n: (idx[0], idx[1]) for n, idx in found.items()}


def all_exercises() -> list[tuple[str, int]]:
    return [
        (path.stem, n)
        for path in grading.chapter_notebooks(NOTEBOOK_DIR)
        for n in sorted(_exercises(path.stem))
    ]


def _python(source: str) -> str:
    """A cell's source as plain Python (IPython magics translated)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names read anywhere, names the cell defines or changes at its top level) of
    ``source``; what a function body assigns stays local to it."""
    read, stored = set(), set()

    class Visitor(ast.NodeVisitor):
        def visit_Name(self, node):
            (read if isinstance(node.ctx, ast.Load) else stored).add(node.id)

        def visit_FunctionDef(self, node):
            stored.add(node.name)
            self.visit_Lambda(node)

        visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

        def visit_Lambda(self, node):
            """A body (function, lambda, comprehension) reads what it does not bind."""
            local, loads = set(), set()
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name):
                    (loads if isinstance(inner.ctx, ast.Load) else local).add(inner.id)
                elif isinstance(inner, ast.arg):
                    local.add(inner.arg)
            read.update(loads - local)

        visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_Lambda

        def visit_Import(self, node):
            stored.update((a.asname or a.name).split(".")[0] for a in node.names)

        visit_ImportFrom = visit_Import

        def _changed(self, target):  # x[i] = ..., x.a = ...: a change of x
            while isinstance(target, (ast.Subscript, ast.Attribute)):
                target = target.value
            if isinstance(target, ast.Name):
                stored.add(target.id)

        def visit_Assign(self, node):
            for target in node.targets:
                self._changed(target)
            self.generic_visit(node)

        def visit_AugAssign(self, node):
            self._changed(node.target)
            self.generic_visit(node)

        visit_AnnAssign = visit_AugAssign

    Visitor().visit(ast.parse(_python(source)))
    return read, stored


def setup_cells(stem: str, before: int, needed: set[str]) -> list[int]:
    """Indices of the code cells before ``before`` that define or change ``needed``, and,
    recursively, what those cells need; the Colab install cell and stand-ins excluded."""
    nb = _chapter(stem)
    code = [i for i, c in enumerate(nb.cells[:before]) if c.cell_type == "code"][1:]
    names = {i: _names(nb.cells[i].source) for i in code}
    stand_ins = set(STAND_INS.get(stem, {}))
    chosen: set[int] = set()
    todo = set(needed) - stand_ins - set(dir(builtins))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        for i in code:
            if name in names[i][1] and i not in chosen:
                chosen.add(i)
                todo |= names[i][0] - seen - stand_ins - set(dir(builtins))
    return sorted(chosen)


def with_shortcut(source: str, blocks) -> str:
    """The answer cell with its solution blocks replaced, in order, by ``blocks``."""
    blocks = [blocks] if isinstance(blocks, str) else list(blocks)
    out, inside, k = [], False, 0
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(grading.BEGIN):
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in blocks[k].splitlines())
            inside, k = True, k + 1
        elif stripped.startswith(grading.END):
            inside = False
        elif not inside:
            out.append(line)
    assert k == len(blocks), f"{k} solution blocks, {len(blocks)} shortcut blocks"
    return "\n".join(out)


class Exercise:
    """An exercise's answer and check, and the namespace its check runs in."""

    def __init__(self, stem: str, number: int):
        self.stem, self.number = stem, number
        nb = _chapter(stem)
        answer, check = _exercises(stem)[number]
        self.answer, self.check = nb.cells[answer].source, nb.cells[check].source
        read = set()
        for source in (self.answer, self.check, *self._shortcut_sources()):
            read |= _names(source)[0]
        defined = _names(self.answer)[1] | _names(self.check)[1]
        self.setup = [nb.cells[i].source for i in setup_cells(stem, answer, read - defined)]

    def _shortcut_sources(self) -> list[str]:
        return [with_shortcut(self.answer, s) for s in SHORTCUTS.get((self.stem, self.number), [])]

    def namespace(self) -> dict:
        ns: dict = {"__name__": "__main__"}
        for snippet in STAND_INS.get(self.stem, {}).values():
            exec(compile(snippet, "<stand-in>", "exec"), ns)
        for source in self.setup:
            exec(compile(_python(source), f"<{self.stem} setup>", "exec"), ns)
        return ns

    def points(self, ns: dict, answer: str) -> tuple[bool, str]:
        """Run the answer (an error there is the student's) and the check: did it pass?"""
        try:
            exec(compile(_python(answer), "<answer>", "exec"), ns)
        except Exception as err:  # noqa: BLE001 - nbgrader runs on after a failing answer
            note = f"answer raised {type(err).__name__}: {err}"
        else:
            note = "answer ran"
        try:
            exec(compile(_python(self.check), "<check>", "exec"), ns)
        except Exception as err:  # noqa: BLE001
            return False, f"{note}; check raised {type(err).__name__}: {str(err)[:300]}"
        return True, note


@pytest.fixture
def in_notebook_dir(monkeypatch):
    monkeypatch.chdir(NOTEBOOK_DIR)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _params():
    marks = []
    for key in SHORTCUTS:
        extra = [pytest.mark.slow] if key[0] in NEEDS_DATA else []
        marks.append(pytest.param(*key, marks=extra, id=f"{key[0]}-ex{key[1]}"))
    return marks


# --------------------------------------------------------------------------- tests


def test_every_autograded_exercise_is_accounted_for():
    exercises = set(all_exercises())
    assert exercises, "no autograded exercises found"
    assert not set(SHORTCUTS) & set(NO_SHORTCUT), "an exercise is listed twice"
    missing = sorted(exercises - set(SHORTCUTS) - set(NO_SHORTCUT))
    assert not missing, f"exercises with neither a shortcut test nor a reason: {missing}"
    stale = sorted((set(SHORTCUTS) | set(NO_SHORTCUT)) - exercises)
    assert not stale, f"listed exercises that no longer exist: {stale}"


def test_shortcuts_replace_every_solution_block():
    for (stem, number), submissions in SHORTCUTS.items():
        answer = _chapter(stem).cells[_exercises(stem)[number][0]].source
        for blocks in submissions:
            text = with_shortcut(answer, blocks)
            assert grading.BEGIN not in text and grading.END not in text
            ast.parse(_python(text))


@pytest.mark.parametrize("stem, number", _params())
def test_shortcut_earns_nothing_and_solution_everything(stem, number, in_notebook_dir, request):
    if stem in NEEDS_DATA:
        request.getfixturevalue("cmapss_dir")
        os.environ.setdefault("RULKIT_DATA_DIR", str(request.getfixturevalue("cmapss_dir")))
    exercise = Exercise(stem, number)
    for blocks in SHORTCUTS[(stem, number)]:
        passed, note = exercise.points(exercise.namespace(), with_shortcut(exercise.answer, blocks))
        assert not passed, f"{stem} exercise {number}: the shortcut {blocks!r} passes ({note})"
    passed, note = exercise.points(exercise.namespace(), exercise.answer)
    assert passed, f"{stem} exercise {number}: the model solution fails: {note}"
