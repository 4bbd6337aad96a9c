"""rulkit.regimes: J(w), the exact switch points, the regime tables and the chooser chart.

The switch points are checked against an independent brute-force scan of w (the
way notebook 06 computed them), on the book's figures and on random tables. The
chart's own logic (normalisation, J and the winner, computed by Vega in the
browser) is checked without a browser by rendering its scenegraph with
vl-convert at chosen parameter values; tests/test_book_browser.py checks the same
in the rendered book.
"""

from __future__ import annotations

import copy
import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from rulkit import published, regimes
from rulkit.regimes import Switch

matplotlib.use("Agg")

BOOK = regimes.published_table("FD002+FD004")
STEP = 1e-5
GRID = np.linspace(0.0, 1.0, 100_001)


def scan(methods, rmse, nasa, grid=GRID):
    """Brute force, independent of rulkit.regimes: (w, before, after) wherever the
    argmin of J changes on the grid (w is the first grid point of the new winner)."""
    r = np.asarray(rmse, float)
    n = np.asarray(nasa, float)
    r = (r - r.min()) / (r.max() - r.min()) if r.max() > r.min() else np.zeros_like(r)
    n = (n - n.min()) / (n.max() - n.min()) if n.max() > n.min() else np.zeros_like(n)
    j = (1 - grid[:, None]) * r + grid[:, None] * n
    best = j.argmin(axis=1)
    return [
        (grid[k + 1], methods[best[k]], methods[best[k + 1]]) for k in np.flatnonzero(np.diff(best))
    ]


# --------------------------------------------------------------------------- basics


def test_weight_and_regimes():
    assert regimes.weight(3, 1) == 0.75
    assert regimes.weight(0, 2) == 0.0 and regimes.weight(5, 0) == 1.0
    with pytest.raises(ValueError):
        regimes.weight(0, 0)
    with pytest.raises(ValueError):
        regimes.weight(-1, 1)
    assert regimes.BANDS == (0.15, 0.40)
    assert [r[0] for r in regimes.REGIMES] == ["delivery truck", "airline 787", "cruise ship"]
    assert [r[3] for r in regimes.REGIMES] == ["amnl", "gaba", "grace"]
    assert regimes.regime(0.0) == regimes.regime(0.1499) == "delivery truck"
    assert regimes.regime(0.15) == regimes.regime(0.3999) == "airline 787"
    assert regimes.regime(0.40) == regimes.regime(1.0) == "cruise ship"
    with pytest.raises(ValueError):
        regimes.regime(1.01)


def test_minmax_and_cost():
    assert regimes.minmax([7.45, 7.89, 7.92]).tolist() == pytest.approx([0, 0.44 / 0.47, 1])
    assert regimes.minmax([3.0, 3.0]).tolist() == [0.0, 0.0]
    j = regimes.deployment_cost([0.0, 1.0], [1.0, 2.0], [20.0, 10.0])
    assert j.shape == (2, 2)
    assert j.tolist() == [[0.0, 1.0], [1.0, 0.0]]


# --------------------------------------------------------------------------- switch points


def test_book_switch_points_match_the_notebook():
    """Notebook 06 printed 0.4871 (AMNL -> GABA) and 0.8199 (GABA -> GRACE) from a 1e-5 scan."""
    methods = list(BOOK.method)
    exact = regimes.switch_points(methods, BOOK.rmse, BOOK.nasa)
    assert [(s.before, s.after) for s in exact] == [("amnl", "gaba"), ("gaba", "grace")]
    assert f"{exact[0].w:.4f}" == "0.4870" and f"{exact[1].w:.4f}" == "0.8199"
    scanned = scan(methods, BOOK.rmse, BOOK.nasa)
    assert [(b, a) for _, b, a in scanned] == [(s.before, s.after) for s in exact]
    for (w_scan, _, _), s in zip(scanned, exact):
        assert s.w <= w_scan < s.w + STEP + 1e-12  # the scan reports the first grid point after
    # the closed form of notebook 06's exercise 3
    r, n = regimes.minmax(BOOK.rmse), regimes.minmax(BOOK.nasa)
    assert exact[0].w == pytest.approx((r[1] - r[0]) / ((r[1] - r[0]) + (n[0] - n[1])), abs=1e-15)
    assert regimes.winner(0.0, methods, BOOK.rmse, BOOK.nasa) == "amnl"
    assert [c[2] for c in regimes.choices(methods, BOOK.rmse, BOOK.nasa)] == [
        "amnl",
        "gaba",
        "grace",
    ]


def test_fd001_grace_dominates():
    fd001 = regimes.published_table("FD001")
    methods = list(fd001.method)
    assert regimes.switch_points(methods, fd001.rmse, fd001.nasa) == []
    assert regimes.winner(0.3, methods, fd001.rmse, fd001.nasa) == "grace"


@pytest.mark.parametrize("seed", range(40))
def test_switch_points_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 8))
    methods = [f"m{i}" for i in range(k)]
    rmse = rng.uniform(6, 14, k).round(int(rng.integers(1, 4)))
    nasa = rng.uniform(100, 900, k).round(int(rng.integers(0, 3)))
    exact = regimes.switch_points(methods, rmse, nasa)
    scanned = scan(methods, rmse, nasa, GRID[1:])  # w = 0 exactly: ties go to the lower slope
    near = [s for s in exact if min(abs(s.w - g) for g in (0.0, 1.0)) < STEP]
    if near:  # a switch on the grid's edge: the scan cannot see it
        pytest.skip("switch point within one grid step of 0 or 1")
    # a pair of switches closer than the grid step looks like one switch to the scan
    if any(b.w - a.w < 2 * STEP for a, b in zip(exact, exact[1:])):
        pytest.skip("two switch points closer than the grid step")
    assert [(b, a) for _, b, a in scanned] == [(s.before, s.after) for s in exact], (rmse, nasa)
    for (w_scan, _, _), s in zip(scanned, exact):
        assert s.w - 1e-9 <= w_scan <= s.w + STEP + 1e-9
    for s in exact:  # the winner changes exactly there
        assert regimes.winner(max(s.w - 1e-9, 0), methods, rmse, nasa) == s.before
        assert regimes.winner(min(s.w + 1e-9, 1), methods, rmse, nasa) == s.after
    assert len(exact) <= k - 1
    assert all(0 < a.w < b.w for a, b in zip(exact, exact[1:]))


def test_switch_points_edge_cases():
    # one candidate: never a switch
    assert regimes.switch_points(["a"], [7.0], [300.0]) == []
    # two candidates with a trade-off always switch at w = 0.5 (both measures normalised to 0/1)
    assert regimes.switch_points(["a", "b"], [7.0, 8.0], [400.0, 200.0]) == [Switch(0.5, "a", "b")]
    # a dominated method never wins
    assert regimes.switch_points(["a", "b"], [7.0, 8.0], [200.0, 400.0]) == []
    # identical figures: the first listed wins everywhere
    assert regimes.switch_points(["a", "b"], [7.0, 7.0], [200.0, 200.0]) == []
    assert regimes.winner(0.7, ["a", "b"], [7.0, 7.0], [200.0, 200.0]) == "a"
    # equal RMSE: the lower NASA wins from w = 0 on (the tie goes to the lower slope)
    assert regimes.switch_points(["a", "b"], [7.0, 7.0], [400.0, 200.0]) == []
    assert regimes.winner(0.0, ["a", "b"], [7.0, 7.0], [400.0, 200.0]) == "b"
    # equal NASA: the switch would be at w = 1, where both are equal
    assert regimes.switch_points(["a", "b"], [7.0, 8.0], [200.0, 200.0]) == [Switch(1.0, "a", "b")]
    with pytest.raises(ValueError):
        regimes.switch_points(["a"], [7.0, 8.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        regimes.switch_points(["a", "b"], [7.0, math.nan], [1.0, 2.0])


# --------------------------------------------------------------------------- tables


def test_published_table():
    assert list(BOOK.columns) == regimes.COLUMNS
    assert list(BOOK.method) == ["amnl", "gaba", "grace"]
    assert (BOOK.source == regimes.SOURCE_BOOK).all()
    for row in BOOK.itertuples():
        assert published.book_figure("FD002+FD004", row.method) == (row.rmse, row.nasa)
    fd002 = regimes.published_table("FD002")  # AMNL has no NASA figure there: left out
    assert list(fd002.method) == ["gaba", "grace"]
    assert fd002.set_index("method").loc["gaba", "rmse_std"] == 0.65
    with pytest.raises(ValueError):
        regimes.published_table("FD003")


def record(subset, method, seed, rmse, nasa, profile="full", status="ok"):
    return {
        "schema": 1,
        "subset": subset,
        "method": method,
        "seed": seed,
        "profile": profile,
        "status": status,
        "test": {"rmse": rmse, "nasa": nasa},
    }


def test_measured_table_combines_subsets_seed_by_seed():
    records = [
        record("FD002", "gaba", 0, 7.0, 200.0),
        record("FD004", "gaba", 0, 9.0, 300.0),
        record("FD002", "gaba", 1, 8.0, 220.0),
        record("FD004", "gaba", 1, 10.0, 340.0),
        record("FD002", "gaba", 2, 5.0, 100.0),  # no FD004 run for seed 2: left out
        record("FD002", "amnl", 0, 6.0, 400.0),
        record("FD004", "amnl", 0, 8.0, 500.0),
        record("FD002", "grace", 0, 1.0, 1.0, profile="smoke"),  # other profile
        record("FD004", "grace", 0, 1.0, 1.0, status="failed"),
    ]
    table = regimes.measured_table(records, "FD002+FD004")
    assert list(table.columns) == regimes.COLUMNS
    rows = table.set_index("method")
    assert sorted(rows.index) == ["amnl", "gaba"]
    assert rows.loc["gaba", "seeds"] == 2
    assert rows.loc["gaba", "rmse"] == pytest.approx(8.5)  # seeds 0 and 1: 8.0 and 9.0
    assert rows.loc["gaba", "nasa"] == pytest.approx(265.0)  # 250 and 280
    assert rows.loc["gaba", "rmse_std"] == pytest.approx(np.std([8.0, 9.0], ddof=1))
    assert rows.loc["amnl", "seeds"] == 1 and math.isnan(rows.loc["amnl", "rmse_std"])
    single = regimes.measured_table(records, "FD002").set_index("method")
    assert single.loc["gaba", "seeds"] == 3
    assert regimes.measured_table(records, "FD001").empty
    # the same from a frame of runs (rulkit.report.runs_table's columns)
    frame = pd.DataFrame(
        [
            {k: r[k] for k in ("profile", "subset", "method", "seed")} | r["test"]
            for r in records[:4]
        ]
    )
    assert regimes.measured_table(frame).set_index("method").loc["gaba", "rmse"] == pytest.approx(
        8.5
    )


def test_regime_table_reads_result_files(tmp_path):
    empty = regimes.regime_table(tmp_path, fallback=False)
    assert empty.source.unique().tolist() == [regimes.SOURCE_BOOK]
    assert "No full-profile FD002+FD004 runs measured here yet" in empty.attrs["figures_from"]
    for subset in ("FD002", "FD004"):
        for method, (r, n) in {"amnl": (7.0, 400.0), "gaba": (8.0, 250.0)}.items():
            for seed in (0, 1):
                path = tmp_path / f"{subset}_{method}_seed{seed}_full.json"
                path.write_text(json.dumps(record(subset, method, seed, r + seed, n + seed)))
    table = regimes.regime_table(tmp_path)
    assert table.source.unique().tolist() == [regimes.SOURCE_BOOK, regimes.SOURCE_MEASURED]
    measured = table[table.source == regimes.SOURCE_MEASURED].set_index("method")
    assert measured.loc["amnl", "rmse"] == pytest.approx(7.5)
    assert measured.loc["gaba", "seeds"] == 2
    assert (
        f"(2 seeds per method),\n  from the result files in {tmp_path}."
        in table.attrs["figures_from"]
    )
    one = tmp_path / "one"
    one.mkdir()
    (one / "FD001_amnl_seed0_full.json").write_text(json.dumps(record("FD001", "amnl", 0, 15, 485)))
    (one / "FD001_gaba_seed0_full.json").write_text(json.dumps(record("FD001", "gaba", 0, 14, 400)))
    assert "(1 seed per method)" in regimes.regime_table(one, subset="FD001").attrs["figures_from"]


def test_regime_table_falls_back_to_the_packaged_summary(tmp_path, monkeypatch):
    """On Colab ../results does not exist: the figures come from rulkit.results.load_measured."""
    from rulkit import results

    records = [
        record(subset, method, seed, r + seed, n)
        for subset in ("FD002", "FD004")
        for method, (r, n) in {"amnl": (7.0, 400.0), "gaba": (8.0, 250.0)}.items()
        for seed in (0, 1, 2)
    ]
    packaged = "the summary shipped with rulkit (rulkit/measured.json, built from results/)"
    monkeypatch.setattr(results, "load_measured", lambda results_dir=None: (records, packaged))
    table = regimes.regime_table(tmp_path / "missing")
    measured = table[table.source == regimes.SOURCE_MEASURED].set_index("method")
    assert measured.loc["amnl", "rmse"] == pytest.approx(8.0)
    assert measured.loc["gaba", "seeds"] == 3
    assert f"(3 seeds per method),\n  from {packaged}." in table.attrs["figures_from"]
    monkeypatch.setattr(results, "load_measured", lambda results_dir=None: ([], packaged))
    table = regimes.regime_table(tmp_path / "missing")
    assert table.source.unique().tolist() == [regimes.SOURCE_BOOK]
    assert f"measured here yet; searched\n  {packaged}." in table.attrs["figures_from"]


def test_check_table():
    with pytest.raises(ValueError, match="several rows"):
        regimes.check_table(pd.concat([BOOK, BOOK]))
    with pytest.raises(ValueError, match="lacks"):
        regimes.check_table(BOOK.drop(columns="nasa"))
    bad = BOOK.copy()
    bad.loc[0, "nasa"] = math.nan
    with pytest.raises(ValueError, match="missing"):
        regimes.check_table(bad)
    many = pd.DataFrame(
        {"source": "x", "method": [f"m{i}" for i in range(8)], "rmse": 1.0, "nasa": 1.0}
    )
    with pytest.raises(ValueError, match="at most 7"):
        regimes.check_table(many)
    minimal = regimes.check_table(BOOK[["source", "method", "rmse", "nasa"]])
    assert list(minimal.columns) == regimes.COLUMNS


def test_candidate_sets_cover_every_subset():
    sets = regimes.candidate_sets(BOOK)
    assert sorted(sets["mask"].unique()) == list(range(1, 8))
    full = sets[sets["mask"] == 7]
    assert full.w.tolist() == [
        s.w for s in regimes.switch_points(list(BOOK.method), BOOK.rmse, BOOK.nasa)
    ]
    pair = sets[sets.methods == "amnl,gaba"]
    assert pair.w.tolist() == [0.5]
    alone = sets[sets.methods == "gaba"]
    assert alone.k.tolist() == [-1]


# --------------------------------------------------------------------------- the static figure


def test_chooser_figure():
    import matplotlib.pyplot as plt

    fig = regimes.chooser_figure()
    ax = fig.axes[0]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 2  # the two switch points
    assert [round(ln.get_xdata()[0], 6) for ln in dashed] == [0.487043, 0.819923]
    bold = [ln for ln in ax.lines if ln.get_linewidth() >= 4]
    assert len(bold) == 3  # AMNL, GABA, GRACE each chosen on one interval
    plt.close(fig)
    fig = regimes.chooser_figure(BOOK, methods=["gaba", "grace"])
    assert len([ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--"]) == 1
    plt.close(fig)
    with pytest.raises(ValueError):
        regimes.chooser_figure(BOOK, source="nowhere")


# --------------------------------------------------------------------------- the chart

ILLUSTRATION = pd.DataFrame(
    {
        "source": "illustration",
        "subset": "FD002+FD004",
        "method": ["baseline", "amnl", "gaba", "grace"],
        "seeds": 3,
        "rmse": [8.40, 7.60, 7.95, 7.85],
        "nasa": [410.0, 430.0, 250.0, 265.0],
        "rmse_std": [0.30, 0.25, 0.35, 0.30],
        "nasa_std": [40.0, 45.0, 20.0, 25.0],
    }
)
TWO_SOURCES = regimes.check_table(pd.concat([BOOK, ILLUSTRATION], ignore_index=True))


def test_spec_is_json_and_deterministic():
    spec = regimes.chooser_spec(TWO_SOURCES)
    text = json.dumps(spec, allow_nan=False)  # no NaN may reach the browser
    assert json.dumps(regimes.chooser_spec(TWO_SOURCES), allow_nan=False) == text
    names = [p["name"] for p in spec["params"]]
    for name in ("source", "mode", "w_set", "c_late", "c_early", "w", "mask"):
        assert name in names
    assert [n for n in names if n.startswith("use_")] == [
        "use_baseline",
        "use_amnl",
        "use_gaba",
        "use_grace",
    ]
    source = next(p for p in spec["params"] if p["name"] == "source")
    assert source["bind"]["options"] == [regimes.SOURCE_BOOK, "illustration"]
    one = regimes.chooser_spec(BOOK)
    assert "bind" not in next(p for p in one["params"] if p["name"] == "source")
    # the spread checkbox appears only when some figures have a spread over seeds
    assert "bind" in next(p for p in spec["params"] if p["name"] == "show_spread")
    assert "bind" not in next(p for p in one["params"] if p["name"] == "show_spread")
    # precomputed switch points: exactly those of candidate_sets
    sets = regimes.candidate_sets(TWO_SOURCES)
    want = sorted((s.source, s.mask, s.w) for s in sets.itertuples() if s.k >= 0)
    got = sorted((s["source"], s["mask"], s["w"]) for s in spec["datasets"]["switches"])
    assert got == want


def test_spec_validates_against_the_vega_lite_schema():
    alt = pytest.importorskip("altair")
    if not alt.SCHEMA_VERSION.startswith(f"v{regimes.VEGALITE_VERSION.split('.')[0]}"):
        pytest.skip(f"altair {alt.__version__} validates Vega-Lite {alt.SCHEMA_VERSION}")
    alt.Chart.from_dict(regimes.chooser_spec(TWO_SOURCES))  # raises if the spec is invalid


def placeholders(node):
    """The "{{name}}" / "{{*name}}" placeholders of the chooser's template."""
    if isinstance(node, str) and node.startswith("{{") and node.endswith("}}"):
        yield node.strip("{}*")
    elif isinstance(node, dict):
        for key, value in node.items():
            if key != "//":
                yield from placeholders(value)
    elif isinstance(node, list):
        for item in node:
            yield from placeholders(item)


def test_spec_template_is_package_data_and_filled():
    """The constant Vega-Lite document is rulkit/chooser.vl.json (shipped with the package);
    chooser_spec fills every placeholder, drops the comments and leaves the template alone."""
    from importlib import resources

    text = resources.files("rulkit").joinpath(regimes.SPEC_TEMPLATE).read_text(encoding="utf-8")
    template = json.loads(text)
    assert template == regimes._template()
    names = set(placeholders(template))
    assert {"rows", "switches", "envelope", "use_methods", "w", "width", "height"} <= names
    spec = regimes.chooser_spec(TWO_SOURCES, w=0.7, c_late=5, c_early=2.5, width=640, height=200)
    flat = json.dumps(spec)
    assert "{{" not in flat and '"//"' not in flat
    assert spec["width"] == 640 and spec["height"] == 200
    values = {p["name"]: p.get("value") for p in spec["params"]}
    assert (values["w_set"], values["c_late"], values["c_early"]) == (0.7, 5.0, 2.5)
    spec["datasets"]["methods"].clear()  # the caller's copy is its own
    assert regimes._template() == template
    assert regimes.chooser_spec(TWO_SOURCES)["datasets"]["methods"]


def test_spec_carries_the_figures():
    """A change planted in the figures changes the spec exactly there: the filler fills."""
    planted = BOOK.copy()
    planted.loc[planted.method == "gaba", "rmse"] = 7.123456
    before, after = regimes.chooser_spec(BOOK), regimes.chooser_spec(planted)
    assert before != after
    assert "7.123456" in json.dumps(after) and "7.123456" not in json.dumps(before)
    rows = {r["method"]: r for r in after["datasets"]["methods"]}
    assert rows["gaba"]["rmse"] == 7.123456
    assert rows["amnl"] == {r["method"]: r for r in before["datasets"]["methods"]}["amnl"]
    assert after["datasets"]["switches"] != before["datasets"]["switches"]
    assert after["datasets"]["envelope"] != before["datasets"]["envelope"]
    assert {k: v for k, v in after.items() if k != "datasets"} == {
        k: v for k, v in before.items() if k != "datasets"
    }  # the rest of the document depends on the methods and sources, not on the figures
    renamed = BOOK.assign(source="elsewhere")
    spec = regimes.chooser_spec(renamed)
    assert spec["usermeta"]["rulkit"]["sources"] == ["elsewhere"]
    assert next(p for p in spec["params"] if p["name"] == "source")["value"] == "elsewhere"


def test_html_output():
    chart = regimes.chooser_chart(TWO_SOURCES)
    bundle = chart._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    page = bundle["text/html"]
    assert page == regimes.chooser_chart(TWO_SOURCES).to_html()  # same figures, same bytes
    assert f'id="{chart.id}"' in page and 'class="rulkit-chooser"' in page
    libs = page.split('class="rulkit-chooser-libs">')[1].split("</script>")[0]
    assert json.loads(libs) == list(regimes.CDN_LIBS)
    spec = page.split('class="rulkit-chooser-spec">')[1].split("</script>")[0]
    assert "<" not in spec and json.loads(spec) == json.loads(json.dumps(chart.spec))
    local = chart.to_html(libs=["../_static/x.js"])
    assert "cdn.jsdelivr" not in local.split("<script>")[0]
    assert "J chooses AMNL, from w = 0.487 GABA, from w = 0.820 GRACE" in bundle["text/plain"]


def chosen_label(spec, **values) -> str:
    """Render the chart with vl-convert at the given parameter values; the read-out text."""
    vlc = pytest.importorskip("vl_convert")
    spec = copy.deepcopy(spec)
    for param in spec["params"]:
        if param["name"] in values:
            param["value"] = values[param["name"]]
    scene = vlc.vegalite_to_scenegraph(spec, vl_version=regimes.VEGALITE_MAJOR_MINOR)
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") == "chosen_label_marks":
                found.extend(item.get("text") for item in node.get("items", []))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(scene)
    assert len(found) == 1, found
    return found[0]


def test_chart_computes_the_winner_like_python():
    """The chart's own arithmetic (in Vega) agrees with switch_points on both sides of
    every switch, for the full candidate set and with a method unticked."""
    spec = regimes.chooser_spec(TWO_SOURCES)
    book = list(BOOK.method)
    for s in regimes.switch_points(book, BOOK.rmse, BOOK.nasa):
        below, above = round(s.w - 0.0005, 3), round(s.w + 0.0005, 3)
        assert chosen_label(spec, w_set=below).endswith(regimes.label(s.before))
        assert chosen_label(spec, w_set=above).endswith(regimes.label(s.after))
    # without GABA: AMNL against GRACE switches at 0.5
    assert chosen_label(spec, w_set=0.499, use_gaba=False).endswith("AMNL")
    assert chosen_label(spec, w_set=0.501, use_gaba=False).endswith("GRACE")
    # the other source, and w from the costs: c_late 3, c_early 1 -> w = 0.75
    ill = ILLUSTRATION
    sw = regimes.switch_points(list(ill.method), ill.rmse, ill.nasa)
    label = chosen_label(spec, source="illustration", mode="costs", c_late=3.0, c_early=1.0)
    assert label.startswith("w = 0.750 (cruise ship)")
    assert label.endswith(regimes.label(regimes.winner(0.75, list(ill.method), ill.rmse, ill.nasa)))
    assert [s.after for s in sw] == ["grace", "gaba"]


def test_book_bundles_the_vega_lite_version_of_the_spec():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "book" / "_ext" / "rulkit_book.py"
    spec = importlib.util.spec_from_file_location("rulkit_book", path)
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    assert ext.VEGALITE_VERSION == regimes.VEGALITE_MAJOR_MINOR
    assert regimes.VEGALITE_VERSION.startswith(regimes.VEGALITE_MAJOR_MINOR + ".")
    assert regimes.chooser_spec()["$schema"].endswith(
        f"/v{regimes.VEGALITE_MAJOR_MINOR.split('.')[0]}.json"
    )
