"""The module map in ``rulkit/__init__.py`` names every module of the package, and the
README's Layout table and CONTRIBUTING name no module that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import rulkit

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rulkit"
MAP_ENTRY = re.compile(r"^- ``([\w.]+/?)``:", re.M)
TICKED = re.compile(r"`([^`\s]+)`")


def package_modules() -> set[str]:
    """Map names of what the package holds: ``x`` for rulkit/x.py, ``data.x`` for
    rulkit/data/x.py, ``data/`` for the data package, ``runs/`` for rulkit/runs/ if present."""
    names = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    names |= {f"data.{p.stem}" for p in (PACKAGE / "data").glob("*.py") if p.name != "__init__.py"}
    names.add("data/")
    if (PACKAGE / "runs" / "__init__.py").is_file():
        names.add("runs/")
    return names


def map_names() -> list[str]:
    return MAP_ENTRY.findall(rulkit.__doc__ or "")


def test_the_map_names_every_module():
    missing = package_modules() - set(map_names())
    assert not missing, f"rulkit/__init__.py's module map lacks {sorted(missing)}"


def test_the_map_names_each_module_once_and_only_modules_that_exist():
    names = map_names()
    assert len(names) == len(set(names)), "a module stands twice in the map"
    # runs/ may be named before it lands in the tree (it is being moved in)
    stale = set(names) - package_modules() - {"runs/"}
    assert not stale, f"the module map names modules that do not exist: {sorted(stale)}"


def test_the_map_entries_are_one_line_each():
    doc = rulkit.__doc__ or ""
    lines = [line for line in doc.splitlines() if MAP_ENTRY.match(line)]
    assert len(lines) == len(map_names())
    for line in lines:
        assert len(line) <= 100, line


def _module_paths(text: str, row_filter) -> list[str]:
    """Backticked ``.py`` files and folders in the markdown table rows that ``row_filter``
    keeps, as paths from the repository root (a bare name is taken as under rulkit/)."""
    paths = []
    for row in text.splitlines():
        if not row.startswith("|") or not row_filter(row):
            continue
        for token in TICKED.findall(row):
            if not (token.endswith(".py") or token.endswith("/")):
                continue
            if token.startswith("rulkit/"):
                paths.append(token)
            elif "/" not in token.rstrip("/"):
                paths.append(f"rulkit/{token}")
    return paths


def _is_package_row(row: str) -> bool:
    first = row.strip("|").split("|")[0].strip()
    return first.startswith("`rulkit/")


def _layout_section(readme: str) -> str:
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, "README.md has no Layout section"
    return match.group(1)


def test_readme_layout_names_only_modules_that_exist():
    layout = _layout_section((ROOT / "README.md").read_text(encoding="utf-8"))
    paths = _module_paths(layout, _is_package_row)
    assert paths, "the Layout table names no module of rulkit"
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"README's Layout table names modules that do not exist: {missing}"


def test_contributing_names_only_modules_that_exist():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    paths = _module_paths(text, _is_package_row)
    # any other mention of a module by its path, in prose or tables
    paths += [t for t in TICKED.findall(text) if t.startswith("rulkit/") and t.endswith(".py")]
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"CONTRIBUTING.md names modules that do not exist: {missing}"


def test_the_checks_catch_a_stale_name():
    row = "| `rulkit/` | `data/`, `model.py`, `gone.py` |"
    assert _module_paths(row, _is_package_row) == [
        "rulkit/",
        "rulkit/data/",
        "rulkit/model.py",
        "rulkit/gone.py",
    ]
    assert not (ROOT / "rulkit/gone.py").exists()
    assert MAP_ENTRY.findall("- ``gone``: a module\n- ``runs/``: a package") == ["gone", "runs/"]
