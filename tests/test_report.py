"""Report tables and figures from a handful of fake result files."""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from rulkit import published
from rulkit.cli import main
from rulkit.report import (
    PAIRED_N_BOOT,
    bootstrap_ci,
    build_report,
    comparison_table,
    paired_difference,
    paired_markdown,
    paired_table,
    seed_spread,
    summary_table,
)
from rulkit.results import RunResult, load_results, write_result
from rulkit.train import TrainConfig


def fake_result(subset, method, seed, bias, n_engines=20, profile="full") -> RunResult:
    true = np.random.default_rng(int(subset[2:])).uniform(5, 125, n_engines)  # same engines
    rng = np.random.default_rng([int(subset[2:]), len(method), seed])
    pred = true + bias + rng.normal(0, 3, n_engines)
    config = TrainConfig(subset=subset, method=method, seed=seed, profile=profile)
    result = RunResult.start(config, {"device_name": "fake", "wall_time_s": 1.0})
    err = pred - true
    result.status = "ok"
    result.test = {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "nasa": float(np.where(err < 0, np.expm1(-err / 13), np.expm1(err / 10)).sum()),
        "rmse_uncapped": 0.0,
        "nasa_uncapped": 0.0,
        "accuracy": 0.5,
        "macro_f1": 0.4,
    }
    result.per_engine = {
        "unit": list(range(1, n_engines + 1)),
        "true": true.tolist(),
        "true_uncapped": true.tolist(),
        "pred": pred.tolist(),
    }
    result.best_epoch, result.epochs_run = 3, 5
    result.curves = {
        "epoch": [1, 2, 3, 4, 5],
        "val_rmse": [30.0, 20.0, 15.0 + seed, 16.0 + seed, 17.0],
        "test_rmse": [31.0, 19.0, 16.0, 14.5, 18.0],
        "weight_rul": [0.5] * 5,
        "weight_health": [0.5] * 5,
    }
    steps = list(range(0, 100, 10))
    result.task_history = {
        "step": steps,
        "weight_rul": [0.5] * 10,
        "weight_health": [0.5] * 10,
        "grad_norm_rul": [1.0] * 10,
        "grad_norm_health": [0.01] * 10,
    }
    return result


@pytest.fixture
def results_dir(tmp_path):
    for subset in ("FD002", "FD004"):
        for method, bias in (("amnl", -2.0), ("grace", 1.0)):
            for seed in range(3):
                write_result(fake_result(subset, method, seed, bias), tmp_path)
    failed = fake_result("FD002", "gaba", 0, 0.0)
    failed.status, failed.error = "failed", "NonFiniteError: boom"
    write_result(failed, tmp_path)
    (tmp_path / "notes.json").write_text(json.dumps({"unrelated": True}))
    return tmp_path


def test_load_results_filters_status_and_foreign_json(results_dir):
    assert len(load_results(results_dir)) == 12
    assert len(load_results(results_dir, status=None)) == 13


def test_summary_matches_numpy(results_dir):
    records = load_results(results_dir)
    summary = summary_table(records, n_boot=300)
    cell = summary[(summary.subset == "FD002") & (summary.method == "grace")].iloc[0]
    rmses = [
        r["test"]["rmse"] for r in records if r["subset"] == "FD002" and r["method"] == "grace"
    ]
    assert cell.seeds == 3
    assert cell.rmse_mean == pytest.approx(np.mean(rmses))
    assert cell.rmse_std == pytest.approx(np.std(rmses, ddof=1))
    assert cell.rmse_ci_low < cell.rmse_mean < cell.rmse_ci_high


def test_bootstrap_interval_shrinks_with_agreement():
    same = [fake_result("FD001", "amnl", 0, 0.0, n_engines=200)] * 3
    ci = bootstrap_ci([r.to_dict() for r in same], n_boot=500)
    rmse = same[0].test["rmse"]
    assert ci["rmse"][0] < rmse < ci["rmse"][1]
    assert ci["rmse"][1] - ci["rmse"][0] < 1.5


def test_comparison_keeps_book_and_ours_apart(results_dir):
    summary = summary_table(load_results(results_dir), n_boot=100)
    table = comparison_table(summary, "full")
    assert len(table) == len(published.BOOK)
    row = table[(table.subset == "FD002+FD004") & (table.method == "grace")].iloc[0]
    assert row["book RMSE (published)"] == "7.92"
    ours = summary[summary.method == "grace"].rmse_mean.mean()
    assert row["rulkit RMSE (full, measured)"] == f"{ours:.2f}"
    missing = table[(table.subset == "FD001") & (table.method == "baseline")].iloc[0]
    assert missing["rulkit RMSE (full, measured)"] == "-" and missing["rulkit seeds"] == 0


def test_report_cli_writes_tables_and_figures(results_dir, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", str(results_dir), "--out", str(out), "--bootstrap", "200"]) == 0
    for name in (
        "summary.md",
        "summary.csv",
        "runs.csv",
        "pareto_full.png",
        "task_weights_full.png",
    ):
        assert (out / name).stat().st_size > 0, name
    text = (out / "summary.md").read_text()
    assert "published" in text and "measured" in text and "Protocol" in text
    assert "12 runs" in text


def test_report_on_empty_folder(tmp_path):
    written = build_report(tmp_path, tmp_path / "r")
    assert written["n_runs"] == 0 and "No successful" in (tmp_path / "r" / "README.md").read_text()


def test_comparison_shows_the_books_spread_where_it_prints_one(results_dir):
    table = comparison_table(summary_table(load_results(results_dir), n_boot=50), "full")
    row = table[(table.subset == "FD002") & (table.method == "gaba")].iloc[0]
    assert row["book RMSE (published)"] == "7.53 ± 0.65"
    assert row["book NASA (published)"] == "224.2 ± 22.4"


def test_overridden_runs_are_never_pooled_with_the_full_recipe(tmp_path):
    for seed in range(2):
        write_result(fake_result("FD001", "grace", seed, 0.0), tmp_path)
    custom = fake_result("FD001", "grace", 0, 30.0)
    config = TrainConfig(subset="FD001", method="grace", seed=0, max_epochs=3)
    custom.profile, custom.config_hash = "custom", config.config_hash()
    write_result(custom, tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 3  # its own file, nothing overwritten
    summary = summary_table(load_results(tmp_path), n_boot=50)
    labels = dict(zip(summary.profile, summary.seeds))
    assert labels == {"full": 2, f"custom-{config.config_hash()}": 1}
    full = comparison_table(summary, "full")
    cell = full[(full.subset == "FD001") & (full.method == "grace")]
    assert int(cell["rulkit seeds"].iloc[0]) == 2  # the biased custom run is not in it


def test_selection_gap_floor_share_and_words():
    records = [fake_result("FD001", "grace", s, 0.5).to_dict() for s in range(2)]
    from rulkit.report import floor_table, gap_sentences, selection_gap_table

    gaps = selection_gap_table(records)
    assert list(gaps["chosen epoch (validation)"]) == [3, 3]
    assert list(gaps["best epoch on test"]) == [4, 4]
    assert list(gaps["gap"]) == [1.5, 1.5]  # 16.0 at the chosen epoch, 14.5 at best
    for r in records:  # after a warm-up of 100 steps: rows at steps 110..190
        r["task_history"] = {
            "step": list(range(10, 200, 10)),
            "weight_rul": [0.5] * 10 + [0.05] * 6 + [0.2] * 3,
            "weight_health": [0.5] * 10 + [0.95] * 6 + [0.8] * 3,
            "grad_norm_rul": [1.0] * 19,
            "grad_norm_health": [0.01] * 19,
        }
    floors = floor_table(records)
    assert list(floors["share of recorded steps on the floor"]) == [round(6 / 9, 3)] * 2
    # pulls: 0.05 * 1 / (0.95 * 0.01) = 5.26 (6 rows), 0.2 / (0.8 * 0.01) = 25 (3 rows)
    assert list(floors["median RUL/health pull"]) == [5.26, 5.26]
    summary = summary_table(records, n_boot=20)
    (words,) = gap_sentences(summary)
    rmse = summary.rmse_mean.iloc[0]
    assert words.startswith(f"FD001 grace: measured RMSE {rmse:.2f}")
    assert "against the book's 9.14" in words and "(2 seeds)" in words
    assert ("higher" if rmse > 9.14 else "lower") in words


def test_report_shows_every_run_and_the_new_figures(results_dir, tmp_path):
    written = build_report(results_dir, tmp_path / "report", n_boot=50)
    text = (tmp_path / "report" / "summary.md").read_text()
    assert "## Every run" in text and "test set would have been worth" in text
    assert "validation_full" in written and (tmp_path / "report" / "validation_full.png").exists()


def test_the_packaged_summary_matches_results():
    """rulkit/measured.json is what `make measured` builds from results/ (stale -> fail)."""
    from pathlib import Path

    from rulkit.results import MEASURED, build_measured

    root = Path(__file__).resolve().parent.parent
    shipped = json.loads(MEASURED.read_text())["runs"]
    assert shipped == json.loads(json.dumps(build_measured(root / "results"))), (
        "rulkit/measured.json is stale: run `make measured` and commit it"
    )


def test_measured_results_are_found_away_from_the_repository(tmp_path, monkeypatch):
    import rulkit.results as results

    folder = tmp_path / "results"
    for seed in range(2):
        write_result(fake_result("FD001", "grace", seed, 0.0), folder)
    runs, source = results.load_measured(folder)
    assert len(runs) == 2 and str(folder) in source
    packaged = tmp_path / "measured.json"
    results.write_measured(folder, packaged)
    monkeypatch.setattr(results, "MEASURED", packaged)
    monkeypatch.setattr(results, "__file__", str(tmp_path / "site" / "rulkit" / "results.py"))
    runs, source = results.load_measured()  # no checkout beside the package: the summary
    assert "shipped with rulkit" in source and len(runs) == 2
    assert runs[0]["test"] == json.loads(json.dumps(load_results(folder)[0]["test"]))
    summary = summary_table(runs, n_boot=20)  # the report works on compact records
    assert int(summary.seeds.iloc[0]) == 2


def test_the_readme_table_matches_results():
    from pathlib import Path

    from rulkit.report import README_END, README_START, measured_markdown

    root = Path(__file__).resolve().parent.parent
    text = (root / "README.md").read_text()
    block = text[text.index(README_START) + len(README_START) : text.index(README_END)]
    assert block.strip() == measured_markdown(load_results(root / "results")).strip(), (
        "README's measured results are stale: run `make measured`"
    )


def test_the_readme_table_lists_full_runs_beside_the_book(tmp_path):
    from rulkit.report import measured_markdown

    records = [fake_result("FD001", "grace", s, 0.5).to_dict() for s in range(2)]
    records[0]["provenance"]["segments"] = [{}, {}, {}]
    text = measured_markdown(records)
    assert "| FD001 grace seed 0 |" in text and "| 9.14 / 121.4 |" in text
    assert "| 3 |" in text  # three segments
    custom = fake_result("FD001", "grace", 0, 0.5)
    custom.profile, custom.config_hash = "custom", "abcd1234"
    assert "No full-recipe run has finished yet" in measured_markdown([custom.to_dict()])


def test_the_readme_recipe_rows_name_their_own_devices():
    from dataclasses import asdict

    from rulkit.config import profile_config
    from rulkit.report import measured_markdown

    records = [fake_result("FD001", "grace", 0, 0.5).to_dict()]  # a book-recipe run
    for subset, device in (("FD001", "cpu A"), ("FD002", "cpu B")):
        for seed in range(2):
            r = fake_result(subset, "baseline", seed, 0.5).to_dict()
            lean = profile_config("lean", subset=subset, method="baseline", seed=seed)
            r.update(profile="lean", config_hash=None, config=json.loads(json.dumps(asdict(lean))))
            r["provenance"]["device_name"] = device
            records.append(r)
    rows = [line for line in measured_markdown(records).splitlines() if "| lean |" in line]
    assert len(rows) == 2
    assert rows[0].endswith("| cpu A |") and rows[1].endswith("| cpu B |")


def test_beside_book_shows_one_subset_measured_where_it_exists(tmp_path):
    from rulkit.report import beside_book

    write_result(fake_result("FD001", "amnl", 0, bias=2.0), tmp_path)
    write_result(fake_result("FD001", "amnl", 1, bias=2.0, profile="smoke"), tmp_path)
    records = load_results(tmp_path)
    table = beside_book(records, "FD001", ["baseline", "amnl"])
    assert list(table.method) == ["baseline", "amnl"]  # the book's order
    amnl = table[table.method == "amnl"].iloc[0]
    assert amnl["book RMSE (published)"] == "10.43"
    full = [r for r in records if r["profile"] == "full"]
    assert amnl["rulkit RMSE (full, measured)"] == f"{full[0]['test']['rmse']:.2f}"
    assert amnl["rulkit seeds"] == 1  # the smoke run is not counted
    assert table[table.method == "baseline"].iloc[0]["rulkit RMSE (full, measured)"] == "-"
    empty = beside_book([], "FD001")
    assert len(empty) == 4 and set(empty["rulkit seeds"]) == {0}


def test_result_files_get_the_usual_permissions(tmp_path):
    """Written via a temporary file, a result must still be readable by the folder's other
    users, like any file the process creates (mkstemp alone would make it private)."""
    import os
    import stat

    from rulkit.results import atomic_write_text

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.json", "{}")
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) & 0o400


# --- paired comparisons (issue 16, item 3) ----------------------------------------------

REPO_RESULTS = Path(__file__).resolve().parent.parent / "results"
FD001_FULL = {
    f"FD001_{m}_seed{s}_full.json"
    for m, s in (
        ("baseline", 0),
        ("baseline", 1),
        ("amnl", 0),
        ("amnl", 1),
        ("gaba", 0),
        ("grace", 0),
    )
}


def _oracle_paired(run_a, run_b, metric, n_boot, seed):
    """Hand-written loop over replicates: (point difference, replicate differences)."""
    pa = run_a["per_engine"]["pred"]
    pb = run_b["per_engine"]["pred"]
    t = run_a["per_engine"]["true"]
    n = len(t)

    def score(pred, rows):
        if metric == "rmse":
            return math.sqrt(sum((pred[i] - t[i]) ** 2 for i in rows) / len(rows))
        total = 0.0
        for i in rows:
            d = pred[i] - t[i]
            total += math.exp(-d / 13) - 1 if d < 0 else math.exp(d / 10) - 1
        return total

    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    reps = [score(pa, row) - score(pb, row) for row in idx.tolist()]
    return score(pa, range(n)) - score(pb, range(n)), np.array(reps)


def _moved_away(run, by):
    """A copy of ``run`` whose every prediction lies ``by`` further from the truth."""
    out = copy.deepcopy(run)
    pred = np.asarray(run["per_engine"]["pred"])
    true = np.asarray(run["per_engine"]["true"])
    assert np.all(pred != true)
    out["per_engine"]["pred"] = (pred + by * np.sign(pred - true)).tolist()
    return out


@pytest.mark.parametrize("metric", ["rmse", "nasa"])
def test_paired_difference_equals_a_hand_written_loop(metric):
    a = fake_result("FD001", "amnl", 0, 0.5, n_engines=30).to_dict()
    b = fake_result("FD001", "grace", 1, -1.0, n_engines=30).to_dict()
    got = paired_difference(a, b, metric, n_boot=1500, seed=7)
    point, reps = _oracle_paired(a, b, metric, 1500, 7)
    assert got.metric == metric and got.n_engines == 30 and got.n_boot == 1500
    assert got.difference == pytest.approx(point, rel=1e-12)
    assert got.low == pytest.approx(np.percentile(reps, 2.5), rel=1e-9)
    assert got.high == pytest.approx(np.percentile(reps, 97.5), rel=1e-9)
    assert got.share_a_lower == pytest.approx(np.mean(reps < 0))
    assert 0 < got.share_a_lower < 1  # the two runs really differ engine by engine
    # the point difference is the difference of the runs' own test metrics
    assert got.difference == pytest.approx(a["test"][metric] - b["test"][metric], rel=1e-9)
    # another seed gives other replicates; the same seed the very same figures
    assert paired_difference(a, b, metric, n_boot=1500, seed=8).low != got.low
    assert paired_difference(a, b, metric, n_boot=1500, seed=7) == got


def test_paired_difference_of_a_run_with_itself_is_exactly_zero():
    a = fake_result("FD001", "amnl", 0, 1.0, n_engines=40).to_dict()
    for metric in ("rmse", "nasa"):
        p = paired_difference(a, copy.deepcopy(a), metric)
        assert (p.difference, p.low, p.high, p.share_a_lower) == (0.0, 0.0, 0.0, 0.0)
        assert p.n_boot == PAIRED_N_BOOT == 10_000 and not p.excludes_zero


def test_pairing_sees_a_difference_that_separate_intervals_hide():
    a = fake_result("FD001", "amnl", 0, 0.0, n_engines=50).to_dict()
    b = _moved_away(a, 0.5)  # every engine's squared error and NASA score rise
    sep_a, sep_b = bootstrap_ci([a]), bootstrap_ci([b])
    for metric in ("rmse", "nasa"):
        # the per-run intervals overlap: judged by overlap, "no difference"
        assert sep_b[metric][0] < sep_a[metric][1]
        worse = paired_difference(b, a, metric)
        assert 0 < worse.low <= worse.difference <= worse.high and worse.share_a_lower == 0.0
        better = paired_difference(a, b, metric)
        assert better.high < 0 and better.share_a_lower == 1.0
        assert better.difference == pytest.approx(-worse.difference)
        assert better.excludes_zero and "difference -" in str(better)


def test_paired_difference_refuses_runs_of_other_engines():
    a = fake_result("FD001", "amnl", 0, 0.0, n_engines=20).to_dict()
    reordered = copy.deepcopy(a)
    for key in ("unit", "true", "pred"):
        reordered["per_engine"][key] = reordered["per_engine"][key][::-1]
    with pytest.raises(ValueError, match="same test engines in the same order.*in order"):
        paired_difference(a, reordered)
    fewer = copy.deepcopy(a)
    for key in ("unit", "true", "pred"):
        fewer["per_engine"][key] = fewer["per_engine"][key][:-1]
    with pytest.raises(ValueError, match="20 and 19 units"):
        paired_difference(a, fewer, "nasa")
    other_truth = copy.deepcopy(a)
    other_truth["per_engine"]["true"] = [t + 1 for t in a["per_engine"]["true"]]
    with pytest.raises(ValueError, match="different truth"):
        paired_difference(a, other_truth)
    with pytest.raises(ValueError, match="metric must be one of"):
        paired_difference(a, a, "mae")


def test_seed_spread_with_three_seeds_and_with_one():
    runs = [fake_result("FD002", "amnl", s, -2.0).to_dict() for s in (2, 0, 1)]
    runs += [fake_result("FD002", "grace", 0, 1.0).to_dict()]
    runs += [fake_result("FD002", "grace", 1, 1.0, profile="smoke").to_dict()]  # not full
    for metric in ("rmse", "nasa"):
        v = np.array([r["test"][metric] for r in runs[:3]])
        s = seed_spread(runs, "amnl", "FD002", metric)
        assert (s.n, s.seeds) == (3, (0, 1, 2))
        assert s.mean == pytest.approx(v.mean()) and s.sd == pytest.approx(v.std(ddof=1))
        assert (s.min, s.max) == (v.min(), v.max()) and s.sd > 0
        assert "over 3 seeds" in str(s)
    one = seed_spread(runs, "grace", "FD002")
    assert (one.n, one.seeds, one.mean) == (1, (0,), runs[3]["test"]["rmse"])
    assert one.min == one.max == one.mean and math.isnan(one.sd)
    assert "1 seed" in str(one) and "sd undefined" in str(one)
    assert seed_spread(runs, "grace", "FD002", profile=None).n == 2
    assert seed_spread(runs, "gaba", "FD002").n == 0


def test_paired_table_mean_row_pairs_the_same_engines_across_seeds():
    runs = [
        fake_result("FD003", m, s, bias).to_dict()
        for m, bias in (("baseline", 0.0), ("amnl", -1.0))
        for s in range(3)
    ]
    runs.append(fake_result("FD003", "amnl", 5, -1.0).to_dict())  # no baseline partner
    table = paired_table(runs, "FD003", metric="nasa", n_boot=800, seed=3)
    assert list(table.seed) == [0, 1, 2, "mean"] and set(table.method) == {"amnl"}
    reps = []
    for s in range(3):
        point, r = _oracle_paired(runs[3 + s], runs[s], "nasa", 800, 3)
        row = table.iloc[s]
        assert row.difference == pytest.approx(point, rel=1e-9)
        assert row.difference == pytest.approx(row.value - row.reference_value)
        assert row.ci_low == pytest.approx(np.percentile(r, 2.5), rel=1e-9)
        reps.append(r)
    mean = table.iloc[3]
    diffs = table.difference.iloc[:3].to_numpy(float)
    assert mean.n_seeds == 3 and mean.difference == pytest.approx(diffs.mean())
    assert mean.sd_over_seeds == pytest.approx(diffs.std(ddof=1))
    assert mean.ci_low == pytest.approx(np.percentile(np.mean(reps, axis=0), 2.5), rel=1e-9)
    assert mean.ci_high == pytest.approx(np.percentile(np.mean(reps, axis=0), 97.5), rel=1e-9)
    with pytest.raises(ValueError, match="reference method 'gaba'"):
        paired_table(runs, "FD003", reference="gaba")


def _committed_fd001():
    records = [r for r in load_results(REPO_RESULTS) if Path(r["_path"]).name in FD001_FULL]
    assert len(records) == 6
    return records


def test_paired_table_on_the_committed_fd001_runs():
    records = _committed_fd001()
    by = {(r["method"], r["seed"]): r for r in records}
    test = {key: r["test"] for key, r in by.items()}
    for metric, tol in (("rmse", 1e-4), ("nasa", 1e-2)):
        table = paired_table(records, "FD001", "baseline", metric)
        assert list(zip(table.method, table.seed)) == [
            ("amnl", 0), ("amnl", 1), ("amnl", "mean"), ("gaba", 0), ("grace", 0)
        ]  # fmt: skip
        assert set(table.reference) == {"baseline"} and set(table.n_engines) == {100}
        for row in table[table.seed != "mean"].itertuples():
            want = test[(row.method, row.seed)][metric] - test[("baseline", row.seed)][metric]
            assert row.difference == pytest.approx(want, abs=tol)
            assert row.ci_low < row.difference < row.ci_high
            direct = paired_difference(
                by[(row.method, row.seed)], by[("baseline", row.seed)], metric
            )
            assert (direct.low, direct.high) == (row.ci_low, row.ci_high)
        amnl = table[table.method == "amnl"].difference.to_numpy(float)
        assert amnl[2] == pytest.approx(amnl[:2].mean())
        assert table.sd_over_seeds.iloc[2] == pytest.approx(abs(amnl[0] - amnl[1]) / math.sqrt(2))
        assert table.sd_over_seeds.drop(index=2).isna().all()
        # seed 0 of amnl is worse than baseline's seed 0, seed 1 better than baseline's seed 1
        assert amnl[0] > 0 > amnl[1]
    rmse = paired_table(records, "FD001")
    assert rmse.difference.iloc[1] == pytest.approx(14.0231 - 15.4128, abs=1e-3)
    assert rmse.ci_low.iloc[3] > 0  # gaba seed 0 above baseline seed 0 on the same engines
    text = paired_markdown(rmse)
    lines = text.splitlines()
    assert lines[0].startswith("| method | seed | RMSE method | RMSE baseline |")
    assert "| amnl | mean of 2 | 14.51 | 14.95 | -0.44 |" in text
    assert "seeds disagree" in lines[4] and lines[5].endswith("| higher |")
    assert "One seed only for gaba, grace" in text
    assert paired_table(records, "FD001").equals(rmse)  # deterministic (printed by notebooks)


def test_report_cli_prints_the_paired_table(tmp_path, capsys):
    for name in FD001_FULL:
        (tmp_path / name).write_text((REPO_RESULTS / name).read_text())
    out = tmp_path / "no-report"
    assert main(["report", str(tmp_path), "--paired", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## FD001 RMSE (full recipe): paired differences to baseline" in text
    assert "## FD001 NASA (full recipe): paired differences to baseline" in text
    assert text.count("| gaba | 0 |") == 2 and not out.exists()
    assert (
        main(["report", str(tmp_path), "--paired", "--reference", "grace", "--bootstrap", "300"])
        == 0
    )
    text = capsys.readouterr().out
    assert "| baseline | 0 | 14.49 | 14.58 | -0.09 |" in text and "| amnl | 1 |" not in text
    assert main(["report", str(tmp_path), "--paired", "--reference", "nope"]) == 0
    assert "no FD001 run of the reference method 'nope'" in capsys.readouterr().out
    # another recipe: none of these files is a tuned run
    assert main(["report", str(tmp_path), "--paired", "--recipe", "tuned"]) == 0
    assert "| gaba | 0 |" not in capsys.readouterr().out


def test_ensemble_rmse_averages_predictions_per_engine():
    from rulkit.report import ensemble_rmse

    records = [fake_result("FD001", "baseline", s, 0.0).to_dict() for s in range(2)]
    true = np.asarray(records[0]["per_engine"]["true"], dtype=float)
    records[0]["per_engine"]["pred"] = list(true + 4.0)
    records[1]["per_engine"]["pred"] = list(true - 2.0)
    # each run is off by 4 and 2 cycles everywhere; their mean prediction by 1
    assert ensemble_rmse(records) == pytest.approx(1.0)
    assert ensemble_rmse(records[:1]) == pytest.approx(4.0)
    records[1]["per_engine"]["unit"] = list(reversed(records[1]["per_engine"]["unit"]))
    with pytest.raises(ValueError, match="same test engines"):
        ensemble_rmse(records)
    with pytest.raises(ValueError, match="no runs"):
        ensemble_rmse([])
