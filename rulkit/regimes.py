"""Deployment regimes (book chapter 13): which method to deploy for a given cost of lateness.

The book scores each candidate method with

    J(w) = (1 - w) * RMSE~ + w * NASA~,    w = c_late / (c_late + c_early),

where ``~`` is min-max normalisation over the candidate methods (best 0, worst 1)
and ``c_late`` / ``c_early`` are the costs of a late and of an early prediction.
The method with the lowest J is chosen. J is a straight line in w for every
method, so the choice changes only where two lines cross, and those switch points
have a closed form (:func:`switch_points`). The book names three regimes with
bands at w = 0.15 and 0.40 (:data:`REGIMES`).

The figures come from a small table (:data:`COLUMNS`), one row per (source,
method): the book's published means (:func:`published_table`) and, when result
files exist, this project's measured seed means and spreads (:func:`measured_table`).
:func:`chooser_chart` draws the interactive chooser (a Vega-Lite chart that runs in
the browser: no kernel needed; its constant part is the package file
``rulkit/chooser.vl.json``, which :func:`chooser_spec` fills with the figures),
:func:`chooser_figure` the same picture as a static matplotlib figure for print and
for readers without JavaScript.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import html
import json
import math
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import published
from .methods import COLOURS as METHOD_COLORS
from .methods import LABELS as METHOD_LABELS
from .methods import METHOD_ORDER

# --------------------------------------------------------------------------- the book's regimes

#: The book's three deployment regimes: (name, w from, w to, the book's method).
REGIMES = (
    ("delivery truck", 0.0, 0.15, "amnl"),
    ("airline 787", 0.15, 0.40, "gaba"),
    ("cruise ship", 0.40, 1.0, "grace"),
)
#: The two band edges between the regimes.
BANDS = (0.15, 0.40)

SOURCE_BOOK = "book (published)"
SOURCE_MEASURED = "measured here"
#: Columns of a regime table: one row per (source, method).
COLUMNS = ["source", "subset", "method", "seeds", "rmse", "nasa", "rmse_std", "nasa_std"]
# METHOD_ORDER, METHOD_LABELS and METHOD_COLORS: the one table in rulkit.methods.
MAX_METHODS = 7  # 2**7 - 1 candidate sets are precomputed for the chart


def label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def weight(c_late: float, c_early: float) -> float:
    """w = c_late / (c_late + c_early): the share of the total cost that comes from lateness."""
    c_late, c_early = float(c_late), float(c_early)
    if c_late < 0 or c_early < 0 or c_late + c_early <= 0:
        raise ValueError(f"costs must be >= 0 and not both 0, got {c_late}, {c_early}")
    return c_late / (c_late + c_early)


def regime(w: float) -> str:
    """Name of the book's regime band that contains w (a band edge belongs to the band above)."""
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"w must lie in [0, 1], got {w}")
    for name, lo, hi, _ in REGIMES:
        if lo <= w < hi:
            return name
    return REGIMES[-1][0]


# --------------------------------------------------------------------------- J(w)


def minmax(values) -> np.ndarray:
    """Scale to [0, 1] over the candidates: best (lowest) 0, worst 1; all 0 if they are equal."""
    v = np.asarray(values, dtype=np.float64)
    span = v.max() - v.min()
    return (v - v.min()) / span if span > 0 else np.zeros_like(v)


def deployment_cost(w, rmse, nasa) -> np.ndarray:
    """J(w) of every candidate: rows are the values of w, columns the methods."""
    w = np.atleast_1d(np.asarray(w, dtype=np.float64))[:, None]
    return (1 - w) * minmax(rmse) + w * minmax(nasa)


def _lines(rmse, nasa) -> tuple[np.ndarray, np.ndarray]:
    """J_i(w) = a_i + b_i w: intercepts a = RMSE~ and slopes b = NASA~ - RMSE~."""
    r, n = minmax(rmse), minmax(nasa)
    return r, n - r


def _best(w: float, rmse, nasa) -> int:
    """Index of the lowest J(w); a tie goes to the lower slope (the one that stays
    lowest just above w), then to the earlier candidate."""
    j = deployment_cost(w, rmse, nasa)[0]
    _, b = _lines(rmse, nasa)
    return min(range(len(j)), key=lambda i: (j[i], b[i], i))


def winner(w: float, methods: Sequence[str], rmse, nasa) -> str:
    """The method J chooses at w (ties as in :func:`switch_points`)."""
    _check(methods, rmse, nasa)
    return methods[_best(float(w), rmse, nasa)]


class Switch(NamedTuple):
    """At ``w`` the choice changes from ``before`` to ``after`` (``after`` wins from w on)."""

    w: float
    before: str
    after: str


def switch_points(methods: Sequence[str], rmse, nasa) -> list[Switch]:
    """Every w in (0, 1] where the method with the lowest J changes, exactly.

    Each J_i is a line a_i + b_i w, so the choice is the lower envelope of the
    lines. Starting from the winner at w = 0, the next switch is the nearest
    crossing with a line of lower slope: w = (a_j - a_i) / (b_i - b_j). Slopes
    fall at every switch, so there are at most k - 1 of them.
    """
    _check(methods, rmse, nasa)
    a, b = _lines(rmse, nasa)
    current, here = _best(0.0, rmse, nasa), 0.0
    out: list[Switch] = []
    while True:
        crossings = []
        for j in range(len(a)):
            if b[j] < b[current]:
                w = (a[j] - a[current]) / (b[current] - b[j])
                if here < w <= 1.0:
                    crossings.append((w, b[j], j))
        if not crossings:
            return out
        here, _, nxt = min(crossings)
        out.append(Switch(float(here), methods[current], methods[nxt]))
        current = nxt


def choices(methods: Sequence[str], rmse, nasa) -> list[tuple[float, float, str]]:
    """The choice as intervals: [(w from, w to, method), ...] covering [0, 1]."""
    switches = switch_points(methods, rmse, nasa)
    edges = [0.0, *(s.w for s in switches), 1.0]
    names = [winner(0.0, methods, rmse, nasa), *(s.after for s in switches)]
    return [(lo, hi, m) for lo, hi, m in zip(edges[:-1], edges[1:], names)]


def _check(methods, rmse, nasa) -> None:
    if not (len(methods) == len(rmse) == len(nasa)) or not len(methods):
        raise ValueError("methods, rmse and nasa must be equally long and not empty")
    if not np.all(np.isfinite(np.asarray(rmse, float))) or not np.all(
        np.isfinite(np.asarray(nasa, float))
    ):
        raise ValueError("rmse and nasa must be finite numbers")


# --------------------------------------------------------------------------- the figures


def _ordered(methods: Iterable[str]) -> list[str]:
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return sorted(dict.fromkeys(methods), key=lambda m: (rank.get(m, len(rank)), m))


def published_table(subset: str = "FD002+FD004", seeds: int = 5) -> pd.DataFrame:
    """The book's published means for ``subset`` (methods with both RMSE and NASA)."""
    rows = []
    for sub, method, rmse, nasa in published.BOOK:
        if sub != subset or rmse is None or nasa is None:
            continue
        r_std, n_std = published.BOOK_STD.get((sub, method), (math.nan, math.nan))
        rows.append((SOURCE_BOOK, subset, method, seeds, rmse, nasa, r_std, n_std))
    if not rows:
        raise ValueError(f"the book publishes no RMSE and NASA pairs for {subset!r}")
    return _finish(pd.DataFrame(rows, columns=COLUMNS))


def measured_table(
    records, subset: str = "FD002+FD004", profile: str = "full", source: str = SOURCE_MEASURED
) -> pd.DataFrame:
    """Seed means and spreads of measured runs, as a regime table.

    ``records``: result dicts (:func:`rulkit.results.load_results`), or a frame with
    columns subset, method, seed, rmse, nasa (e.g. :func:`rulkit.report.runs_table`).
    A combined subset such as ``"FD002+FD004"`` averages the subsets seed by seed
    (only seeds run on every part count), then takes mean and standard deviation
    over seeds, as the book's mean over FD002 and FD004 does. Empty when nothing fits.
    """
    if isinstance(records, pd.DataFrame):
        runs = records.copy()
    else:
        runs = pd.DataFrame(
            [
                {
                    "profile": r.get("profile"),
                    "subset": r.get("subset"),
                    "method": r.get("method"),
                    "seed": r.get("seed"),
                    "rmse": (r.get("test") or {}).get("rmse"),
                    "nasa": (r.get("test") or {}).get("nasa"),
                }
                for r in records
                if r.get("status", "ok") == "ok"
            ],
            columns=["profile", "subset", "method", "seed", "rmse", "nasa"],
        )
    if "profile" in runs and profile is not None:
        runs = runs[runs.profile == profile]
    parts = subset.split("+")
    runs = runs[runs.subset.isin(parts)].dropna(subset=["rmse", "nasa"])
    rows = []
    for method, group in runs.groupby("method", sort=False):
        per_seed = group.groupby(["seed", "subset"])[["rmse", "nasa"]].mean().unstack("subset")
        per_seed = per_seed.dropna()  # seeds that ran on every part of the subset
        if per_seed.empty or per_seed["rmse"].shape[1] != len(parts):
            continue
        rmse = per_seed["rmse"].mean(axis=1)
        nasa = per_seed["nasa"].mean(axis=1)
        n = len(rmse)
        r_std = float(rmse.std(ddof=1)) if n > 1 else math.nan
        n_std = float(nasa.std(ddof=1)) if n > 1 else math.nan
        rows.append(
            (source, subset, method, n, float(rmse.mean()), float(nasa.mean()), r_std, n_std)
        )
    return _finish(pd.DataFrame(rows, columns=COLUMNS))


def regime_table(
    results_dir=None, subset: str = "FD002+FD004", profile: str = "full", fallback: bool = True
):
    """The book's figures, plus this project's measured ones where there are any.

    Measured figures come from the result files in ``results_dir``. When it holds none
    (a notebook opened on Colab, where ``../results`` does not exist) and ``fallback`` is
    true, they come from :func:`rulkit.results.load_measured`: the ``results/`` folder of
    a checkout, else the summary shipped inside the package (``rulkit/measured.json``).
    ``table.attrs["figures_from"]`` says where the figures came from (a few short lines).
    """
    from . import results as _results

    tables = [published_table(subset)]
    where = None
    if results_dir is not None:
        folder = Path(results_dir)
        has_files = folder.is_dir() and any(folder.glob("*.json"))
        try:
            if has_files or not fallback:
                records = _results.load_results(folder) if has_files else []
                where = f"the result files in {folder}" if has_files else f"{folder} (no files)"
            else:
                records, where = _results.load_measured()
        except OSError:
            records = []
        measured = measured_table(records, subset, profile)
        if len(measured):
            tables.append(measured)
    table = _finish(pd.concat(tables, ignore_index=True))
    note = [f"{SOURCE_BOOK!r}: the book's {subset} means."]
    if len(tables) > 1:
        seeds = tables[1].seeds
        count = f"{seeds.min()}" + ("" if seeds.min() == seeds.max() else f" to {seeds.max()}")
        plural = "s" if seeds.max() > 1 else ""
        note.append(
            f"{SOURCE_MEASURED!r}: seed means of {profile}-profile runs ({count} seed{plural}"
            f" per method),\n  from {where}."
        )
    elif where is not None:
        note.append(f"No {profile}-profile {subset} runs measured here yet; searched\n  {where}.")
    table.attrs["figures_from"] = "\n".join(note)
    return table


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    table = table.astype({"seeds": "int64", "rmse": float, "nasa": float})
    table[["rmse_std", "nasa_std"]] = table[["rmse_std", "nasa_std"]].astype(float)
    return table[COLUMNS].reset_index(drop=True)


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """Validate a regime table; returns it with missing optional columns added."""
    table = pd.DataFrame(table).copy()
    for column, default in (("subset", ""), ("seeds", 1), ("rmse_std", math.nan)):
        if column not in table:
            table[column] = default
    if "nasa_std" not in table:
        table["nasa_std"] = math.nan
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise ValueError(f"regime table lacks columns {missing}")
    if table.empty:
        raise ValueError("regime table is empty")
    if table.duplicated(["source", "method"]).any():
        raise ValueError("regime table has several rows for one (source, method)")
    if not np.isfinite(table[["rmse", "nasa"]].to_numpy(float)).all():
        raise ValueError("regime table has missing or infinite RMSE / NASA values")
    if table.method.nunique() > MAX_METHODS:
        raise ValueError(f"at most {MAX_METHODS} methods, got {table.method.nunique()}")
    return _finish(table)


def _each_set(table: pd.DataFrame):
    """(source, mask, methods, rows by method) for every source and non-empty candidate set."""
    methods = _ordered(table.method)
    for source, part in table.groupby("source", sort=False):
        part = part.set_index("method")
        for mask in range(1, 2 ** len(methods)):
            chosen = [m for i, m in enumerate(methods) if mask >> i & 1 and m in part.index]
            if chosen:
                yield source, mask, chosen, part


def candidate_sets(table: pd.DataFrame) -> pd.DataFrame:
    """Switch points of every source and every non-empty candidate set.

    Candidate set ``mask`` holds the k-th method of :data:`METHOD_ORDER` (among those in
    the table) when bit k is set; a method a source lacks is ignored. Columns: source,
    mask, methods (comma-separated), first (the choice at w = 0), k (switch number, -1
    for a set without switches), w, before, after.
    """
    table = check_table(table)
    rows = []
    for source, mask, chosen, part in _each_set(table):
        sw = switch_points(chosen, part.loc[chosen, "rmse"], part.loc[chosen, "nasa"])
        first = winner(0.0, chosen, part.loc[chosen, "rmse"], part.loc[chosen, "nasa"])
        base = {"source": source, "mask": mask, "methods": ",".join(chosen), "first": first}
        if not sw:
            rows.append({**base, "k": -1, "w": math.nan, "before": first, "after": first})
        for k, s in enumerate(sw):
            rows.append({**base, "k": k, "w": s.w, "before": s.before, "after": s.after})
    return pd.DataFrame(rows)


def _envelopes(table: pd.DataFrame) -> list[dict]:
    """The lower envelope (the chosen J) of every source and candidate set, as polylines."""
    out = []
    for source, mask, chosen, part in _each_set(table):
        rmse, nasa = part.loc[chosen, "rmse"], part.loc[chosen, "nasa"]
        r, n = minmax(rmse), minmax(nasa)
        spans = choices(chosen, rmse, nasa)
        points = [(lo, chosen.index(m)) for lo, _, m in spans] + [(1.0, chosen.index(spans[-1][2]))]
        for seq, (w, k) in enumerate(points):
            j = (1 - w) * r[k] + w * n[k]
            out.append({"source": source, "mask": mask, "seq": seq, "x": w, "j": float(j)})
    return out


# --------------------------------------------------------------------------- the static figure


def chooser_figure(
    table: pd.DataFrame | None = None,
    source: str | None = None,
    methods: Sequence[str] | None = None,
    ax=None,
    title: str | None = None,
):
    """J(w) of each candidate as a matplotlib figure: the chosen method drawn bold,
    switch points dashed, the book's regimes shaded, +-1 std bands where known."""
    import matplotlib.pyplot as plt

    table = check_table(published_table() if table is None else table)
    source = source if source is not None else table.source.iloc[0]
    part = table[table.source == source].set_index("method")
    if part.empty:
        raise ValueError(f"no rows for source {source!r}; sources: {sorted(set(table.source))}")
    chosen = [m for m in _ordered(part.index) if methods is None or m in methods]
    if not chosen:
        raise ValueError("no candidate methods left")
    part = part.loc[chosen]
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.5))
    fig = fig or ax.figure
    shades = ["#fde0c5", "#d9ecf2", "#e3f1dc"]
    for (name, lo, hi, _), shade in zip(REGIMES, shades):
        ax.axvspan(lo, hi, color=shade, zorder=0)
        ax.text((lo + hi) / 2, 1.13, name, ha="center", va="bottom", fontsize=8)
    r, n = minmax(part.rmse), minmax(part.nasa)
    r_span = max(part.rmse.max() - part.rmse.min(), 0) or 1.0
    n_span = max(part.nasa.max() - part.nasa.min(), 0) or 1.0
    w = np.array([0.0, 1.0])
    for k, m in enumerate(chosen):
        color = METHOD_COLORS.get(m, "k")
        j = (1 - w) * r[k] + w * n[k]
        ax.plot(w, j, color=color, lw=1.2, label=label(m))
        spread = (1 - w) * np.nan_to_num(part.rmse_std.iloc[k] / r_span) + w * np.nan_to_num(
            part.nasa_std.iloc[k] / n_span
        )
        if spread.any():
            ax.fill_between(w, j - spread, j + spread, color=color, alpha=0.12, lw=0)
    for lo, hi, m in choices(chosen, part.rmse, part.nasa):
        k = chosen.index(m)
        seg = np.array([lo, hi])
        ax.plot(seg, (1 - seg) * r[k] + seg * n[k], color=METHOD_COLORS.get(m, "k"), lw=4)
    for s in switch_points(chosen, part.rmse, part.nasa):
        ax.axvline(s.w, color="k", lw=0.8, ls="--")
        ax.text(s.w, -0.06, f"{s.w:.3f}", ha="center", va="top", fontsize=8)
    ax.set(xlim=(0, 1), ylim=(-0.12, 1.12), xlabel="w = c_late / (c_late + c_early)")
    ax.set_ylabel("J(w), bold: chosen")
    seeds = int(part.seeds.max())
    ax.set_title(
        title or f"J(w): {source}, {part.subset.iloc[0]} ({seeds} seed{'s' * (seeds != 1)})",
        fontsize=10,
        pad=16,
    )
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the interactive chart

VEGALITE_VERSION = "6.4.1"  # the schema the spec is written for
VEGALITE_MAJOR_MINOR = "6.4"  # what the book bundles (vl-convert's bundle of this version)
#: Where Jupyter and Colab load Vega from (the book rewrites this to its local bundle).
CDN_LIBS = (
    "https://cdn.jsdelivr.net/npm/vega@6",
    f"https://cdn.jsdelivr.net/npm/vega-lite@{VEGALITE_VERSION}",
    "https://cdn.jsdelivr.net/npm/vega-embed@7",
)
CHART_CLASS = "rulkit-chooser"
_STYLE = (
    ".rulkit-chooser .vega-bindings{display:flex;flex-wrap:wrap;gap:.25em 1.2em;"
    "font-size:.9em;margin-top:.4em}"
    ".rulkit-chooser .vega-bind-name{margin-right:.35em}"
    ".rulkit-chooser .vega-bind input[type=range]{vertical-align:middle}"
)


#: The chooser's Vega-Lite document, a template (package data; see its "//" comments).
SPEC_TEMPLATE = "chooser.vl.json"


@functools.cache
def _template() -> dict:
    text = resources.files(__package__).joinpath(SPEC_TEMPLATE).read_text(encoding="utf-8")
    return json.loads(text)


def _fill(node, values: dict):
    """A deep copy of ``node`` with "{{name}}" replaced by ``values[name]``, a list item
    "{{*name}}" by the items of ``values[name]``, and every "//" (comment) key dropped."""
    if isinstance(node, str) and node.startswith("{{") and node.endswith("}}"):
        return copy.deepcopy(values[node[2:-2]])
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items() if k != "//"}
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, str) and item.startswith("{{*") and item.endswith("}}"):
                out.extend(copy.deepcopy(values[item[3:-2]]))
            else:
                out.append(_fill(item, values))
        return out
    return node


def chooser_spec(
    table: pd.DataFrame | None = None,
    w: float = 0.3,
    c_late: float = 3.0,
    c_early: float = 1.0,
    width: int = 500,
    height: int = 300,
) -> dict:
    """The Vega-Lite spec of the chooser (a plain dict; no Altair needed).

    Everything the reader changes is a Vega-Lite parameter bound to an input: the
    slider ``w_set`` (or the costs ``c_late``, ``c_early`` when ``mode`` is
    "costs"), one checkbox ``use_<method>`` per method and, with several sources,
    the selector ``source``. J(w), its normalisation over the ticked methods and
    the winner are computed in the browser with the same formulas as here; the
    switch points of every candidate set are precomputed by :func:`switch_points`.
    The constant part of the spec is the package file ``rulkit/chooser.vl.json``;
    this fills in the figures and whatever depends on them or on the arguments.
    """
    table = check_table(published_table() if table is None else table)
    methods = _ordered(table.method)
    sources = list(dict.fromkeys(table.source))
    bits = {m: 1 << i for i, m in enumerate(methods)}

    def std(value):
        return None if math.isnan(value) else float(value)

    rows = [
        dict(source=t.source, subset=t.subset, method=t.method, label=label(t.method))
        | dict(order=methods.index(t.method), bit=bits[t.method], seeds=int(t.seeds))
        | dict(rmse=float(t.rmse), nasa=float(t.nasa))
        | dict(rmse_std=std(t.rmse_std), nasa_std=std(t.nasa_std))
        for t in table.itertuples()
    ]
    switches = [
        dict(source=s.source, mask=int(s.mask), w=float(s.w))
        | dict(text=f"{label(s.before)} → {label(s.after)}: {s.w:.3f}", k=int(s.k))
        for s in candidate_sets(table).itertuples()
        if s.k >= 0
    ]
    (r0, *_), (r1, *_), (r2, *_) = REGIMES
    major = VEGALITE_VERSION.split(".")[0]
    spec = _fill(
        _template(),
        {
            "schema": f"https://vega.github.io/schema/vega-lite/v{major}.json",
            "width": width,
            "height": height,
            "switch_label_y": height * 0.3,
            "w": float(w),
            "c_late": float(c_late),
            "c_early": float(c_early),
            "source": sources[0],
            "sources": sources,
            "methods": methods,
            "use_methods": [
                {
                    "name": f"use_{m}",
                    "value": True,
                    "bind": {"input": "checkbox", "name": f"{label(m)} "},
                }
                for m in methods
            ],
            "mask_expr": " + ".join(f"(use_{m} ? {bits[m]} : 0)" for m in methods),
            "regime_expr": f"w < {BANDS[0]} ? '{r0}' : w < {BANDS[1]} ? '{r1}' : '{r2}'",
            "labels": [label(m) for m in methods],
            "colors": [METHOD_COLORS.get(m, "#000000") for m in methods],
            "bands": [
                {"name": name, "lo": lo, "hi": hi, "mid": (lo + hi) / 2, "book": label(book)}
                for name, lo, hi, book in REGIMES
            ],
            "regime_names": [name for name, *_ in REGIMES],
            "rows": rows,
            "switches": switches,
            "envelope": _envelopes(table),
        },
    )
    params = {p["name"]: p for p in spec["params"]}
    if len(sources) < 2:  # nothing to choose
        del params["source"]["bind"]
    if table[["rmse_std", "nasa_std"]].isna().all().all():  # no spread to show
        del params["show_spread"]["bind"]
    return spec


_LOADER = """\
(function (root) {
  if (!root) { return; }
  var chart = root.querySelector(".rulkit-chooser-chart");
  var spec = JSON.parse(root.querySelector("script.rulkit-chooser-spec").textContent);
  var libs = JSON.parse(root.querySelector("script.rulkit-chooser-libs").textContent);
  function fail(message) {
    root.setAttribute("data-state", "error");
    chart.textContent = "The interactive chart could not be shown (" + message + ").";
  }
  function show() {
    window.vegaEmbed(chart, spec, {actions: false, renderer: "svg"}).then(function (result) {
      root.rulkitView = result.view;
      root.setAttribute("data-state", "ready");
    }).catch(function (err) { fail(String(err)); });
  }
  function loadAll() {  // one script after the other; shared by all charts of the page
    return libs.reduce(function (ready, src) {
      return ready.then(function () {
        return new Promise(function (resolve, reject) {
          var s = document.createElement("script");
          s.src = src;
          s.onload = resolve;
          s.onerror = function () { reject(new Error("could not load " + src)); };
          document.head.appendChild(s);
        });
      });
    }, Promise.resolve());
  }
  if (window.vegaEmbed) { show(); return; }
  if (typeof define === "function" && define.amd && libs.length === 3) {  // RequireJS pages
    requirejs.config({paths: {"vega": libs[0] + "?noext", "vega-lite": libs[1] + "?noext",
                              "vega-embed": libs[2] + "?noext"}});
    require(["vega-embed"], function (embed) { window.vegaEmbed = embed; show(); },
            function (err) { fail(String(err)); });
    return;
  }
  window.rulkitVegaLoading = window.rulkitVegaLoading || loadAll();
  window.rulkitVegaLoading.then(function () {
    if (window.vegaEmbed) { show(); } else { fail("vegaEmbed is missing"); }
  }, function (err) { fail(String(err)); });
})(document.currentScript ? document.currentScript.parentElement
                          : document.getElementById("%(id)s"));
"""


def _json_for_script(value) -> str:
    """JSON that is safe inside a <script> element."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class ChooserChart:
    """The interactive chooser as a notebook output (HTML that draws a Vega-Lite chart).

    In Jupyter and Colab the page loads Vega from the jsDelivr CDN, as Altair's own
    HTML output does; the book's Sphinx extension (``book/_ext/rulkit_book.py``)
    rewrites that list to the copy bundled into ``_static``, so the rendered book
    needs no network. The HTML is deterministic: the same figures give the same bytes.
    """

    def __init__(self, spec: dict, table: pd.DataFrame):
        self.spec = spec
        self.table = table

    @property
    def id(self) -> str:
        digest = hashlib.sha1(_json_for_script(self.spec).encode()).hexdigest()[:12]
        return f"{CHART_CLASS}-{digest}"

    def to_html(self, libs: Sequence[str] = CDN_LIBS) -> str:
        summary = html.escape(self.summary())
        return (
            f'<div class="{CHART_CLASS}" id="{self.id}" data-state="loading">\n'
            f"<style>{_STYLE}</style>\n"
            f'<div class="rulkit-chooser-chart"><p>{summary}</p></div>\n'
            f'<script type="application/json" class="rulkit-chooser-spec">'
            f"{_json_for_script(self.spec)}</script>\n"
            f'<script type="application/json" class="rulkit-chooser-libs">'
            f"{_json_for_script(list(libs))}</script>\n"
            f"<script>\n{_LOADER % {'id': self.id}}</script>\n</div>\n"
        )

    def summary(self) -> str:
        lines = []
        for source, part in self.table.groupby("source", sort=False):
            part = part.set_index("method").loc[_ordered(part.method)]
            sw = switch_points(list(part.index), part.rmse, part.nasa)
            first = winner(0.0, list(part.index), part.rmse, part.nasa)
            steps = "".join(f", from w = {s.w:.3f} {label(s.after)}" for s in sw)
            lines.append(f"{source}: J chooses {label(first)}{steps}.")
        return " ".join(lines)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.to_html(), "text/plain": f"Regime chooser. {self.summary()}"}

    def save_html(self, path, libs: Sequence[str] | None = None) -> None:
        """A standalone page; with ``libs=None`` Vega is inlined (needs vl-convert-python)."""
        if libs is None:
            import vl_convert

            bundle = vl_convert.javascript_bundle(vl_version=VEGALITE_MAJOR_MINOR)
            body = self.to_html(libs=[]).replace(
                "<script>\n", f"<script>\n{bundle}\n</script>\n<script>\n", 1
            )
        else:
            body = self.to_html(libs)
        head = '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n'
        page = f"{head}{body}</body></html>\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)


def chooser_chart(table: pd.DataFrame | None = None, **spec_options) -> ChooserChart:
    """The interactive regime chooser for ``table`` (default: the book's FD002+FD004 means).

    Display it in a notebook (it is the cell's output). Options go to :func:`chooser_spec`.
    """
    table = check_table(published_table() if table is None else table)
    return ChooserChart(chooser_spec(table, **spec_options), table)
