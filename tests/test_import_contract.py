"""The teaching core never imports the long-run machinery (issue 17).

A reader who opens ``rulkit/train.py`` for chapters 15, 18 and 22 must find the loop
and nothing about locks, signals or checkpoint files: those live in ``rulkit.runs``,
which imports the core, never the other way round. One import is allowed, the
deprecation shim that keeps ``train(..., out_dir=...)`` and ``rulkit.train.RunStopped``
working for one release (chapter 12 and the book's "Running" page still use them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORE = [
    "rulkit/train.py",
    "rulkit/model.py",
    "rulkit/losses.py",
    "rulkit/balancing.py",
    "rulkit/methods.py",
    "rulkit/metrics.py",
    "rulkit/config.py",
    "rulkit/reference.py",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "rulkit/data").glob("*.py")),
]

# The long-run machinery, and the old paths that now stand for it.
FORBIDDEN = ("rulkit.runs", "rulkit.checkpoint", "rulkit.sweep")

# (file, function): the one allowed import, the deprecation shim that train(out_dir=...) and
# rulkit.train.RunStopped & co. go through (kept for one release).
ALLOWED = {("rulkit/train.py", "_runs")}


def _package(path: str) -> str:
    """The package a module file belongs to: 'rulkit' for rulkit/train.py."""
    return ".".join(Path(path).with_suffix("").parts[:-1])


def _absolute(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    base = package.split(".")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def runs_imports(source: str, path: str) -> list[tuple[int, str | None, str]]:
    """Every import of the long-run machinery in ``source`` (the text of module ``path``,
    relative to the repository): (line, enclosing function or None, module imported).
    Counts ``import``, ``from ... import`` (relative too, and ``from . import runs``) and
    ``importlib.import_module`` / ``__import__`` of a literal name, anywhere in the file."""
    package, found = _package(path), []

    def visit(node: ast.AST, function: str | None) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call) and node.args:
            func, first = node.func, node.args[0]
            called = getattr(func, "attr", None) or getattr(func, "id", None)
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant):
                name = str(first.value)
                level = len(name) - len(name.lstrip("."))  # relative: to this module's package
                names = [_absolute(name[level:] or None, level, package)]
        hits = sorted({n for n in names if _forbidden(n)})
        if hits:
            found.append((node.lineno, function, hits[0]))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source, filename=path), None)
    return found


def violations(source: str, path: str) -> list[tuple[int, str | None, str]]:
    return [hit for hit in runs_imports(source, path) if (path, hit[1]) not in ALLOWED]


@pytest.mark.parametrize("path", CORE)
def test_the_teaching_core_does_not_import_the_run_machinery(path):
    assert violations((ROOT / path).read_text(), path) == []


def test_the_one_allowed_import_is_the_deprecation_shim():
    hits = runs_imports((ROOT / "rulkit/train.py").read_text(), "rulkit/train.py")
    assert [(function, module) for _, function, module in hits] == [("_runs", "rulkit.runs")]


def test_the_run_machinery_imports_the_core():
    tree = ast.parse((ROOT / "rulkit/runs/resumable.py").read_text())
    imported = {
        _absolute(node.module, node.level, "rulkit.runs")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert {"rulkit.train", "rulkit.config"} <= imported


PLANTED = [
    ("rulkit/train.py", "from .runs import train_run\n"),
    ("rulkit/train.py", "from . import runs\n"),
    ("rulkit/train.py", "import rulkit.runs.checkpoint as c\n"),
    ("rulkit/train.py", "from .checkpoint import save_checkpoint\n"),  # the old path
    ("rulkit/train.py", "from .sweep import sweep\n"),
    ("rulkit/model.py", "def f():\n    from rulkit.runs.resumable import RunStopped\n"),
    ("rulkit/train.py", "def train(c):\n    from .runs import train_run\n"),  # not the shim
    ("rulkit/data/prepare.py", "from ..runs import checkpoint\n"),
    ("rulkit/losses.py", "import importlib\nm = importlib.import_module('rulkit.runs')\n"),
    ("rulkit/losses.py", "m = __import__('rulkit.sweep')\n"),
    (
        "rulkit/train.py",
        "class T:\n    def f(self):\n        from .runs.checkpoint import RunLock\n",
    ),
]


@pytest.mark.parametrize("path,source", PLANTED)
def test_a_planted_import_is_caught(path, source):
    assert violations(source, path), f"not caught: {source!r} in {path}"


@pytest.mark.parametrize(
    "path,source",
    [
        ("rulkit/train.py", "from .results import RunResult\nfrom .runsheet import x\n"),
        ("rulkit/train.py", "from . import metrics\nimport rulkit.config\n"),
        ("rulkit/data/prepare.py", "from .cmapss import load_cmapss\n"),  # rulkit.data.cmapss
        ("rulkit/train.py", "def _runs():\n    from . import runs\n"),  # the allowed shim
    ],
)
def test_what_is_not_the_run_machinery_passes(path, source):
    assert violations(source, path) == []


def test_the_old_paths_still_work_for_one_release():
    import rulkit.checkpoint
    import rulkit.runs
    import rulkit.runs.checkpoint
    import rulkit.runs.sweep
    import rulkit.sweep
    import rulkit.train

    assert rulkit.checkpoint is rulkit.runs.checkpoint and rulkit.sweep is rulkit.runs.sweep
    for name in ("RunStopped", "checkpoint_path", "lock_path", "completed_result"):
        assert getattr(rulkit.train, name) is getattr(rulkit.runs, name), name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        rulkit.train.nothing  # noqa: B018
