"""Every figure the prose states must come from somewhere a reader can check.

A number written in a markdown cell of a chapter notebook is *traceable* when
one of these holds:

* it appears in that notebook's committed outputs or code, rounded to the digits
  it is written with (so "47" traces to 46.8, "86%" to 0.86 or 86%, and "17,731"
  to 17731);
* it is a declared constant or published figure: the book's and the literature's
  published figures (``rulkit.published``), the worked example's given inputs and
  printed results (``rulkit.reference``), the training recipe's settings
  (``rulkit.train``'s ``TrainConfig`` and smoke profile), the model's default
  sizes (``rulkit.model.DualTaskModel``), the kept and dropped sensors
  (``rulkit.data``), or one entry of :data:`DECLARED` below, each with its source;
* it is declared in :data:`CROSS_REFERENCES` as a figure quoted from another
  chapter, and it appears in that chapter's outputs.

The book pages listed in :data:`PAGES` are held to the same rule against every
chapter's outputs and code. A stale figure,
one that a re-execution changed in the outputs but not in the prose, is
therefore caught here. The test cannot see figures written in words ("hundreds
of times"), years (1950-2039, read as citations), chapter and section numbers,
numbers inside inline code (which is code, not a claim), or small integers that
happen to occur somewhere in a notebook; read the prose for those.
"""

from __future__ import annotations

import copy
import inspect
import re
from dataclasses import fields
from pathlib import Path

import nbformat
import pytest

from rulkit import published, reference
from rulkit.data import DROPPED_SENSORS, KEPT_SENSORS
from rulkit.model import DualTaskModel
from rulkit.train import SMOKE, TrainConfig

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Book pages whose figures are checked (the bibliography, references.md, is not: its
# numbers are volumes and pages). Add a page here when it quotes measured figures.
PAGES = [ROOT / "book" / f"{name}.md" for name in ("intro", "running", "protocol", "errata")]

# Declared figures that are neither outputs nor package constants: figure -> source.
DECLARED = {
    "500": "the book's '500x' imbalance: the ratio of its worked example's norms, 4.81/0.0096",
    "30": "the book's 'about 30 minutes per seed on one A100' (SPEC section 6)",
    "3.5": "the book's model size, 'about 3.5 M parameters' (SPEC section 3)",
    "3.10": "the oldest Python rulkit supports (pyproject.toml, requires-python)",
    # Standard-protocol ranges for FD002 / FD004 and the book's range (SPEC section 8).
    "12.5": "SPEC section 8: credible standard-protocol RMSE on FD002, about 12.5-13.5",
    "13.5": "SPEC section 8: credible standard-protocol RMSE on FD002, about 12.5-13.5",
    "13.3": "SPEC section 8: credible standard-protocol RMSE on FD004, about 13.3-15.9",
    "15.9": "SPEC section 8: credible standard-protocol RMSE on FD004, about 13.3-15.9",
    "6.7": "SPEC section 8: the book's FD002/FD004 RMSE, 6.7-8.3",
    "8.3": "SPEC section 8: the book's FD002/FD004 RMSE, 6.7-8.3",
    # The independent re-implementation (github.com/nautel/cmapss-rul-miras, LITERATURE.md).
    "12.6": "re-implementation (LITERATURE.md): plain DCNN, FD001 RMSE about 12.6",
    "12.3": "re-implementation (LITERATURE.md): plain DCNN, FD002 RMSE about 12.3",
    "12.1": "re-implementation (LITERATURE.md): plain DCNN, FD003 RMSE about 12.1",
    "13.1": "re-implementation (LITERATURE.md): plain DCNN, FD004 RMSE about 13.1",
    "10.3": "re-implementation (LITERATURE.md): STA-HPINN FD003 not reproduced, 10.3-11.7",
    "11.7": "re-implementation (LITERATURE.md): STA-HPINN FD003 not reproduced, 10.3-11.7",
    # smoke-run times (book/running.md, config.expected_cost)
    "32": "benchmarks/measurements/smoke_times_2026-12-04.txt: rulkit train, baseline, idle",
    "43": "benchmarks/measurements/smoke_times_2026-12-04.txt: rulkit train, GRACE, idle",
    "177": "benchmarks/measurements/smoke_times_2026-12-04.txt: chapter 14's smoke baseline",
    "207": "benchmarks/measurements/smoke_times_2026-12-04.txt: chapter 14's smoke AMNL",
    "722": "benchmarks/measurements/smoke_times_2026-12-04.txt: rulkit train, baseline",
    "975": "benchmarks/measurements/smoke_times_2026-12-04.txt: rulkit train, GRACE",
}

# Figures quoted from another chapter: (notebook stem, figure) -> stem of the chapter whose
# outputs hold it. The test checks that the source chapter does print it.
CROSS_REFERENCES = {
    ("09_gaba", "58"): "05_gradient_imbalance",
    # the book recipe's GABA/GRACE runs: first step on the floor, step of the checkpoint
    ("10_grace", "240"): "11_training_it_well",
    ("10_grace", "216"): "11_training_it_well",
    ("12_reproducing_results", "240"): "11_training_it_well",
    ("12_reproducing_results", "216"): "11_training_it_well",
    ("12_reproducing_results", "0.06"): "11_training_it_well",
    ("12_reproducing_results", "54"): "09_gaba",  # steps an epoch
}

NUMBER = re.compile(r"(?<![A-Za-z_\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)")
CORPUS_NUMBER = re.compile(r"(\d+(?:,\d{3})*)(\.\d+)?(?:[eE]([-+]?\d+))?")
REFERENCE = re.compile(
    r"(?:\b(?:chapters?|sections?|exercises?|Chapters?|Sections?|Exercises?)|§)\s*"
    r"\d+(?:\.\d+)?(?:\s*(?:-|–|to|and|,|or)\s*\d+(?:\.\d+)?)*"
)
URL = re.compile(r"https?://\S+|\]\([^)]*\)|<[^>]*>")
CODE_SPAN = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
YEAR = re.compile(r"^(19[5-9]\d|20[0-3]\d)$")


def output_texts(cell) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        for key in ("text/plain", "text/html", "text/markdown", "text/latex"):
            value = out.get("data", {}).get(key)
            if value:
                texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def numbers_in(text: str) -> set[float]:
    """Every number in code or output text, read generously (signs dropped)."""
    values = set()
    for whole, frac, exp in CORPUS_NUMBER.findall(text):
        value = float(whole.replace(",", "") + (frac or ""))
        values.add(value)
        if exp:
            values.add(value * 10 ** int(exp))
    return values


def corpus(nb) -> set[float]:
    values = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            values |= numbers_in(cell.source)
            for text in output_texts(cell):
                values |= numbers_in(text)
    return values


def declared_values() -> dict[float, str]:
    """Declared figures: the package's published figures and constants, and DECLARED."""
    out: dict[float, str] = {}
    for row in published.BOOK:
        for v in row[2:]:
            if v is not None:
                out[float(v)] = "rulkit.published.BOOK (the book's figures)"
    for pair in published.BOOK_STD.values():
        for v in pair:
            out[float(v)] = "rulkit.published.BOOK_STD"
    for cells in published.LITERATURE.values():
        for pair in cells:
            for v in pair:
                out[float(v)] = "rulkit.published.LITERATURE (the papers' figures)"
    for v in (
        *reference.BOOK_PRINTS.values(),
        *reference.WORKED_EXAMPLE_NORMS,
        *reference.WORKED_EXAMPLE_SCALAR_LOSSES,
    ):
        out[float(v)] = "rulkit.reference (the worked example's inputs and printed figures)"
    recipe = {f.name: getattr(TrainConfig(), f.name) for f in fields(TrainConfig)}
    for v in [*recipe.values(), *SMOKE.values()]:
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[float(v)] = "rulkit.train (the full recipe's and the smoke profile's settings)"
    model_defaults = inspect.signature(DualTaskModel).parameters.values()
    for v in [p.default for p in model_defaults]:
        for x in v if isinstance(v, tuple) else (v,):
            if isinstance(x, int | float) and not isinstance(x, bool):
                out[float(x)] = "rulkit.model.DualTaskModel's defaults (SPEC section 3)"
    out[float(len(KEPT_SENSORS))] = "rulkit.data.KEPT_SENSORS (the kept sensors)"
    out[float(len(DROPPED_SENSORS))] = "rulkit.data.DROPPED_SENSORS (the dropped sensors)"
    for figure, source in DECLARED.items():
        out[float(figure)] = source
    return out


def prose(text: str) -> str:
    """Markdown without code, links, chapter and section references."""
    return REFERENCE.sub(" ", URL.sub(" ", CODE_SPAN.sub(" ", text)))


def figures(text: str) -> list[str]:
    """The figures written in a piece of prose, as written (e.g. '17,731', '0.4871', '86%')."""
    found = []
    for whole, frac, percent in NUMBER.findall(prose(text)):
        token = whole + (frac or "") + percent
        if YEAR.match(token):
            continue
        found.append(token)
    return found


def traceable(token: str, values: set[float], declared: dict[float, str]) -> bool:
    digits = token.rstrip("%")
    value = float(digits.replace(",", ""))
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    half = 0.5 * 10.0**-decimals + 1e-9  # x rounds to the figure as written
    if any(abs(value - d) < 1e-12 for d in declared):
        return True
    for x in values:
        if abs(x - value) <= half:
            return True
        if token.endswith("%") and abs(100 * x - value) <= half:
            return True
    return False


def untraceable(nb, stem: str, values: set[float] | None = None) -> list[tuple[int, str]]:
    """(markdown cell index, figure) for every figure of the notebook's prose not traceable."""
    values = corpus(nb) if values is None else values
    declared = declared_values()
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for token in figures(cell.source):
            if traceable(token, values, declared):
                continue
            source = CROSS_REFERENCES.get((stem, token))
            if source is not None:
                other = nbformat.read(ROOT / "notebooks" / f"{source}.ipynb", as_version=4)
                if traceable(token, corpus(other), {}):
                    continue
            bad.append((i, token))
    return bad


def describe(nb, bad) -> str:
    lines = []
    for i, token in bad:
        text = nb.cells[i].source
        at = text.find(token.rstrip("%"))
        context = text[max(0, at - 60) : at + 40].replace("\n", " ")
        lines.append(f"  cell {i}: {token!r} in '...{context}...'")
    return "\n".join(lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_figure_in_the_prose_is_traceable(path):
    nb = nbformat.read(path, as_version=4)
    bad = untraceable(nb, path.stem)
    assert not bad, (
        f"{path.name}: figures in the prose that no output, code or declared figure supports "
        f"(stale after a re-execution?). Fix the prose from the outputs, print the figure, or "
        f"declare it in tests/test_prose_figures.py with its source:\n{describe(nb, bad)}"
    )


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_every_figure_on_a_book_page_is_traceable(path):
    values: set[float] = set()
    for nb_path in NOTEBOOKS:
        values |= corpus(nbformat.read(nb_path, as_version=4))
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(path.read_text())])
    bad = untraceable(page, path.stem, values)
    assert not bad, (
        f"book/{path.name}: figures that no chapter's output or code, and no declared figure, "
        f"supports:\n{describe(page, bad)}"
    )


def test_cross_references_point_at_printed_figures():
    for (stem, token), source in CROSS_REFERENCES.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        assert any(token in figures(c.source) for c in nb.cells if c.cell_type == "markdown"), (
            f"{stem} no longer quotes {token}: remove it from CROSS_REFERENCES"
        )
        other = nbformat.read(ROOT / "notebooks" / f"{source}.ipynb", as_version=4)
        outputs = set()
        for cell in other.cells:
            for text in output_texts(cell):
                outputs |= numbers_in(text)
        assert traceable(token, outputs, {}), f"{source} does not print {token} (quoted in {stem})"


# --------------------------------------------------------------------------- the checker itself


def test_reading_figures_from_prose():
    text = (
        "Chapter 12 measured 47 (section 13.4; chapters 17-19), 17,731 windows, 86% of "
        "the steps, w = 0.4871, FD001 and s_11, Kendall et al. (2018), $\\ln 3 \\approx 1.10$, "
        "`record_every=10` and [the schema](../book/results_schema.md)."
    )
    assert figures(text) == ["47", "17,731", "86%", "0.4871", "3", "1.10"]


def test_tracing_rules():
    values = {46.8, 0.86, 17731.0, 0.487104}
    assert traceable("47", values, {})
    assert traceable("86%", values, {})
    assert traceable("17,731", values, {})
    assert traceable("0.4871", values, {})
    assert not traceable("0.4872", values, {})
    assert not traceable("46", values, {})
    assert not traceable("45", values, {})
    assert traceable("45", values, {45.0: "declared"})


def _planted(nb, stem):
    """Replace the first traceable figure of three or more digits in a markdown cell by a
    figure that nothing supports; return (copy, cell index, planted figure)."""
    values, declared = corpus(nb), declared_values()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for token in figures(cell.source):
            digits = token.rstrip("%").replace(",", "").replace(".", "")
            if len(digits) < 2 or not traceable(token, values, declared):
                continue
            stale = token.rstrip("%")
            while traceable(stale, values, declared) or stale in cell.source:
                stale = str(int(stale.replace(",", "").replace(".", "")) * 7 + 3)
            planted = copy.deepcopy(nb)
            planted.cells[i].source = cell.source.replace(token.rstrip("%"), stale, 1)
            return planted, i, stale
    raise AssertionError(f"{stem}: no figure to plant a stale one in place of")


@pytest.mark.parametrize("stem", ["04_dual_task_model", "06_accuracy_vs_safety", "09_gaba"])
def test_a_planted_stale_figure_is_caught(stem):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    planted, cell, stale = _planted(nb, stem)
    assert (cell, stale) in untraceable(planted, stem)
    assert not [b for b in untraceable(nb, stem) if b[0] == cell], "the original cell was clean"
