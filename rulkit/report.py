"""Tables and figures built from result files only (the results chapter).

``rulkit report results/`` reads every per-run JSON file, aggregates seeds into
mean +- std with an engine-level bootstrap interval, and writes markdown/CSV
tables and the figures. Published figures appear beside ours, labelled as such.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import published
from .balancing import GABA_WARMUP_STEPS
from .config import run_label
from .data.prepare import RUL_CAP
from .methods import CORE_METHODS
from .metrics import nasa_scores
from .results import load_results

PROTOCOL = (
    "rulkit: last window per test engine, every engine scored (short ones padded), RUL cap "
    f"{RUL_CAP:g} "
    "for targets and test truth, checkpoint and early stopping on held-out validation engines only"
)


def config_label(record: dict) -> str:
    """``full`` / ``smoke`` for a profile used as it is, ``custom-<hash>`` for overrides."""
    return run_label(record["profile"], record.get("config_hash"))


def runs_table(records: list[dict]) -> pd.DataFrame:
    """One row per run with its headline figures and provenance."""
    rows = []
    for r in records:
        t, p = r.get("test", {}), r.get("provenance", {})
        rows.append(
            {
                "subset": r["subset"],
                "method": r["method"],
                "seed": r["seed"],
                "profile": config_label(r),
                "rmse": t.get("rmse"),
                "nasa": t.get("nasa"),
                "rmse_uncapped": t.get("rmse_uncapped"),
                "nasa_uncapped": t.get("nasa_uncapped"),
                "accuracy": t.get("accuracy"),
                "macro_f1": t.get("macro_f1"),
                "best_epoch": r.get("best_epoch"),
                "epochs_run": r.get("epochs_run"),
                "wall_time_s": p.get("wall_time_s"),
                "device": p.get("device_name"),
                "git_commit": (p.get("git_commit") or "")[:10],
            }
        )
    return pd.DataFrame(rows)


def bootstrap_ci(
    records: list[dict], n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Engine-level bootstrap interval of the seed-mean RMSE and NASA score.

    Resample test engines with replacement (the same engines for every seed, so
    seed-to-seed and engine-to-engine spread both enter), recompute each seed's
    metric on them, average over seeds.
    """
    pred = np.array([r["per_engine"]["pred"] for r in records], dtype=np.float64)  # (S, E)
    true = np.asarray(records[0]["per_engine"]["true"], dtype=np.float64)
    if any(r["per_engine"]["true"] != records[0]["per_engine"]["true"] for r in records):
        raise ValueError("runs of one cell must score the same test engines")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, true.size, size=(n_boot, true.size))
    sq = (pred - true) ** 2  # (S, E)
    rmse = np.sqrt(np.take(sq, idx, axis=1).mean(axis=-1)).mean(axis=0)  # (n_boot,)
    nasa = np.take(nasa_scores(pred, true[None, :]), idx, axis=1).sum(axis=-1).mean(axis=0)
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {
        "rmse": tuple(np.percentile(rmse, [lo, hi]).tolist()),
        "nasa": tuple(np.percentile(nasa, [lo, hi]).tolist()),
    }


PAIRED_N_BOOT = 10_000  # 10 000 replicates of 100 engines take a few milliseconds
METRICS = {"rmse": "RMSE", "nasa": "NASA"}


def _engine_losses(run: dict, metric: str) -> np.ndarray:
    """Per-engine loss whose mean (RMSE: then a square root) or sum (NASA) is the metric."""
    pe = run["per_engine"]
    pred = np.asarray(pe["pred"], dtype=np.float64)
    true = np.asarray(pe["true"], dtype=np.float64)
    if metric == "rmse":
        return (pred - true) ** 2
    if metric == "nasa":
        return nasa_scores(pred, true)
    raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")


def _metric_of(losses: np.ndarray, metric: str) -> np.ndarray:
    """The metric from per-engine losses along the last axis (rows of resampled engines)."""
    return np.sqrt(losses.mean(axis=-1)) if metric == "rmse" else losses.sum(axis=-1)


def _run_name(run: dict) -> str:
    return f"{run.get('subset', '?')} {run.get('method', '?')} seed {run.get('seed', '?')}"


def _check_same_engines(run_a: dict, run_b: dict) -> int:
    """Raise ValueError unless both runs scored the same units, in the same order, against
    the same truth; return the number of engines."""
    a, b = run_a["per_engine"], run_b["per_engine"]
    names = f"{_run_name(run_a)} and {_run_name(run_b)}"
    if list(a["unit"]) != list(b["unit"]):
        raise ValueError(
            f"a paired comparison needs the same test engines in the same order: {names} "
            f"scored {len(a['unit'])} and {len(b['unit'])} units that differ"
            + (" (in order)" if sorted(a["unit"]) == sorted(b["unit"]) else "")
        )
    if len(a["pred"]) != len(a["unit"]) or len(b["pred"]) != len(b["unit"]):
        raise ValueError(f"{names}: per_engine pred and unit lengths differ")
    if not np.allclose(a["true"], b["true"]):
        raise ValueError(f"{names} scored the same units against different truth (subset?)")
    return len(a["unit"])


def _boot_indices(n_engines: int, n_boot: int, seed: int) -> np.ndarray:
    """The engine-index matrix (n_boot, n_engines): default_rng(seed).integers(0, E, ...)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_engines, size=(n_boot, n_engines))


@dataclass(frozen=True)
class PairedDifference:
    """metric(a) - metric(b) on the same test engines, with its paired bootstrap interval.

    Both metrics are losses, so a negative difference means run a scored lower (better).
    ``share_a_lower`` is the fraction of bootstrap replicates in which a < b.
    """

    metric: str
    difference: float
    low: float
    high: float
    n_engines: int
    share_a_lower: float
    n_boot: int
    level: float = 0.95

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        d = 2 if self.metric == "rmse" else 1
        return (
            f"{METRICS[self.metric]} difference {self.difference:+.{d}f} "
            f"[{self.level:.0%} CI {self.low:+.{d}f}, {self.high:+.{d}f}], "
            f"a lower in {self.share_a_lower:.1%} of {self.n_boot} replicates, "
            f"{self.n_engines} engines"
        )


def _paired_replicates(
    run_a: dict, run_b: dict, metric: str, n_boot: int, seed: int
) -> tuple[float, np.ndarray, int]:
    """(metric(a) - metric(b), its n_boot bootstrap replicates, number of engines)."""
    n = _check_same_engines(run_a, run_b)
    loss_a, loss_b = _engine_losses(run_a, metric), _engine_losses(run_b, metric)
    idx = _boot_indices(n, n_boot, seed)
    diff = _metric_of(loss_a[idx], metric) - _metric_of(loss_b[idx], metric)  # (n_boot,)
    return float(_metric_of(loss_a, metric) - _metric_of(loss_b, metric)), diff, n


def _summarise(metric, point, diff, n, level) -> PairedDifference:
    lo, hi = np.percentile(diff, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return PairedDifference(
        metric=metric,
        difference=point,
        low=float(lo),
        high=float(hi),
        n_engines=n,
        share_a_lower=float(np.mean(diff < 0)),
        n_boot=int(diff.size),
        level=level,
    )


def paired_difference(
    run_a: dict,
    run_b: dict,
    metric: str = "rmse",
    n_boot: int = PAIRED_N_BOOT,
    seed: int = 0,
    level: float = 0.95,
) -> PairedDifference:
    """Engine-level PAIRED bootstrap of metric(run_a) - metric(run_b).

    Runs are result records (``load_results``/``load_measured``). Each replicate draws one
    set of test engines with replacement, ``default_rng(seed).integers(0, E, (n_boot, E))``,
    and scores BOTH runs on it, so the engines' shared difficulty cancels out of the
    difference. ``metric``: ``rmse`` (root of the mean squared error) or ``nasa`` (the sum
    of the per-engine scores). Raises ValueError unless both runs scored the same units in
    the same order.
    """
    point, diff, n = _paired_replicates(run_a, run_b, metric, n_boot, seed)
    return _summarise(metric, point, diff, n, level)


def _cell(records: list[dict], subset: str, method: str, profile: str | None) -> dict[int, dict]:
    """{seed: record} of one (profile, subset, method) cell; one record per seed."""
    out: dict[int, dict] = {}
    for r in records:
        if r["subset"] != subset or r["method"] != method:
            continue
        if profile is not None and config_label(r) != profile:
            continue
        if r["seed"] in out:
            raise ValueError(
                f"two runs of {subset} {method} seed {r['seed']}"
                + (" (pass profile= to pick one recipe)" if profile is None else "")
            )
        out[r["seed"]] = r
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class SeedSpread:
    """How one method's test metric varies over its seeds (sd with ddof=1; NaN for 1 seed)."""

    subset: str
    method: str
    metric: str
    n: int
    mean: float
    sd: float
    min: float
    max: float
    seeds: tuple[int, ...]

    def __str__(self) -> str:
        d = 2 if self.metric == "rmse" else 1
        name = f"{self.subset} {self.method} {METRICS[self.metric]}"
        if self.n == 0:
            return f"{name}: no run"
        if self.n == 1:
            return (
                f"{name}: {self.mean:.{d}f} from 1 seed (seed {self.seeds[0]}); one seed "
                "cannot show how much the figure moves from seed to seed (sd undefined)"
            )
        return (
            f"{name}: {self.mean:.{d}f} ± {self.sd:.{d}f} (mean ± sd over {self.n} seeds, "
            f"min {self.min:.{d}f}, max {self.max:.{d}f})"
        )


def seed_spread(
    records: list[dict],
    method: str,
    subset: str,
    metric: str = "rmse",
    profile: str | None = "full",
) -> SeedSpread:
    """Mean, sd, min, max and n of one method's test ``metric`` (``test[metric]`` of each
    run) over its seeds; ``profile`` as in :func:`config_label` (None: any recipe)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    cell = _cell(records, subset, method, profile)
    v = np.array([r["test"][metric] for r in cell.values()], dtype=np.float64)
    nan = float("nan")
    return SeedSpread(
        subset=subset,
        method=method,
        metric=metric,
        n=int(v.size),
        mean=float(v.mean()) if v.size else nan,
        sd=float(v.std(ddof=1)) if v.size > 1 else nan,
        min=float(v.min()) if v.size else nan,
        max=float(v.max()) if v.size else nan,
        seeds=tuple(cell),
    )


def paired_table(
    records: list[dict],
    subset: str,
    reference: str = "baseline",
    metric: str = "rmse",
    n_boot: int = PAIRED_N_BOOT,
    seed: int = 0,
    profile: str | None = "full",
    level: float = 0.95,
) -> pd.DataFrame:
    """Every other method against ``reference``, seed by seed, on the same test engines.

    One row per (method, seed) that both the method and the reference have: the two
    metrics, their paired difference (method - reference; negative = method lower) and its
    engine-level paired bootstrap interval. Methods with at least two such seeds also get a
    row with ``seed == "mean"``: the mean difference over the seed pairs, its interval
    (the same resampled engines for every pair, averaged) and ``sd_over_seeds``, the spread
    of the per-seed differences, which the engine interval does not contain.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    ref = _cell(records, subset, reference, profile)
    if not ref:
        raise ValueError(
            f"no {subset} run of the reference method {reference!r}"
            + (f" with the {profile} recipe" if profile is not None else "")
        )
    methods = sorted(
        {
            r["method"]
            for r in records
            if r["subset"] == subset
            and r["method"] != reference
            and (profile is None or config_label(r) == profile)
        }
    )
    rows = []
    for method in methods:
        cell = _cell(records, subset, method, profile)
        seeds = [s for s in cell if s in ref]
        pairs = []
        for s in seeds:
            a, b = cell[s], ref[s]
            point, diff, n = _paired_replicates(a, b, metric, n_boot, seed)
            p = _summarise(metric, point, diff, n, level)
            pairs.append((p, diff))
            rows.append(
                {
                    "subset": subset,
                    "method": method,
                    "reference": reference,
                    "metric": metric,
                    "seed": s,
                    "n_seeds": 1,
                    "value": float(_metric_of(_engine_losses(a, metric), metric)),
                    "reference_value": float(_metric_of(_engine_losses(b, metric), metric)),
                    "difference": p.difference,
                    "ci_low": p.low,
                    "ci_high": p.high,
                    "share_lower": p.share_a_lower,
                    "sd_over_seeds": np.nan,
                    "n_engines": p.n_engines,
                    "level": level,
                }
            )
        # the same engine count means the same index matrix: replicates pair up across seeds
        if len(pairs) >= 2 and len({p.n_engines for p, _ in pairs}) == 1:
            mine = rows[-len(pairs) :]
            diffs = np.array([p.difference for p, _ in pairs])
            mean_boot = np.mean([d for _, d in pairs], axis=0)  # (n_boot,)
            m = _summarise(metric, float(diffs.mean()), mean_boot, pairs[0][0].n_engines, level)
            rows.append(
                {
                    "subset": subset,
                    "method": method,
                    "reference": reference,
                    "metric": metric,
                    "seed": "mean",
                    "n_seeds": len(pairs),
                    "value": float(np.mean([r["value"] for r in mine])),
                    "reference_value": float(np.mean([r["reference_value"] for r in mine])),
                    "difference": m.difference,
                    "ci_low": m.low,
                    "ci_high": m.high,
                    "share_lower": m.share_a_lower,
                    "sd_over_seeds": float(diffs.std(ddof=1)),
                    "n_engines": m.n_engines,
                    "level": level,
                }
            )
    columns = [
        "subset", "method", "reference", "metric", "seed", "n_seeds", "value",
        "reference_value", "difference", "ci_low", "ci_high", "share_lower",
        "sd_over_seeds", "n_engines", "level",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _verdicts(table: pd.DataFrame) -> list[str]:
    """'lower' / 'higher' when the interval excludes 0, else 'no clear difference'; a
    'mean' row whose seed pairs differ in sign says 'seeds disagree' whatever its interval
    (that interval resamples engines only)."""
    out = []
    for row in table.itertuples():
        if row.seed == "mean":
            mine = table[(table.method == row.method) & (table.seed != "mean")]
            signs = set(np.sign(mine.difference))
            if len(signs) > 1:
                out.append("seeds disagree")
                continue
        out.append(
            "lower" if row.ci_high < 0 else "higher" if row.ci_low > 0 else "no clear difference"
        )
    return out


def paired_markdown(table: pd.DataFrame) -> str:
    """The paired table as markdown, in the style of :func:`summary_markdown`, with notes."""
    if table.empty:
        return "No method shares a seed with the reference: nothing to pair."
    metric, reference = table.metric.iloc[0], table.reference.iloc[0]
    name, d = METRICS[metric], 2 if metric == "rmse" else 1
    seed, level = table.seed, table.level.iloc[0]
    view = pd.DataFrame(
        {
            "method": table.method,
            "seed": [s if s != "mean" else f"mean of {n}" for s, n in zip(seed, table.n_seeds)],
            f"{name} method": [f"{v:.{d}f}" for v in table.value],
            f"{name} {reference}": [f"{v:.{d}f}" for v in table.reference_value],
            f"difference (method − {reference})": [f"{v:+.{d}f}" for v in table.difference],
            f"paired {level:.0%} CI": [
                f"[{a:+.{d}f}, {b:+.{d}f}]" for a, b in zip(table.ci_low, table.ci_high)
            ],
            "share of replicates lower": [f"{v:.1%}" for v in table.share_lower],
            "sd over seeds": [f"{v:.{d}f}" if np.isfinite(v) else "-" for v in table.sd_over_seeds],
            "verdict": _verdicts(table),
        }
    )
    single = sorted(set(table.method) - set(table.method[table.seed == "mean"]))
    notes = [
        f"Paired engine-level bootstrap ({table.n_engines.iloc[0]} test engines resampled "
        f"together for both runs); negative = lower {name} than {reference} (better). "
        "'no clear difference' = the interval contains 0.",
    ]
    if (table.seed == "mean").any():
        notes.append(
            "A 'mean of n' row averages the seed pairs; its interval resamples engines only, "
            "the spread from seed to seed is the 'sd over seeds' column ('seeds disagree': "
            "the seed pairs' differences have opposite signs)."
        )
    if single:
        notes.append(
            f"One seed only for {', '.join(single)}: no spread over seeds can be measured, "
            "and one seed's difference may not hold for another seed."
        )
    return to_markdown(view) + "\n\n" + "\n".join(notes)


def summary_table(records: list[dict], n_boot: int = 2000) -> pd.DataFrame:
    """Mean, std and bootstrap interval per (config, subset, method); the config is the
    profile's name, or ``custom-<hash>`` for runs with overrides (never pooled with it)."""
    runs = runs_table(records)
    rows = []
    for (profile, subset, method), group in runs.groupby(["profile", "subset", "method"]):
        chosen = [
            r
            for r in records
            if (config_label(r), r["subset"], r["method"]) == (profile, subset, method)
        ]
        ci = bootstrap_ci(chosen, n_boot)
        rows.append(
            {
                "profile": profile,
                "subset": subset,
                "method": method,
                "seeds": len(group),
                "rmse_mean": group.rmse.mean(),
                "rmse_std": group.rmse.std(ddof=1),
                "rmse_ci_low": ci["rmse"][0],
                "rmse_ci_high": ci["rmse"][1],
                "nasa_mean": group.nasa.mean(),
                "nasa_std": group.nasa.std(ddof=1),
                "nasa_ci_low": ci["nasa"][0],
                "nasa_ci_high": ci["nasa"][1],
                "rmse_uncapped_mean": group.rmse_uncapped.mean(),
                "nasa_uncapped_mean": group.nasa_uncapped.mean(),
                "accuracy_mean": group.accuracy.mean(),
                "macro_f1_mean": group.macro_f1.mean(),
                "wall_time_s_mean": group.wall_time_s.mean(),
            }
        )
    return pd.DataFrame(rows)


def per_seed_table(records: list[dict]) -> pd.DataFrame:
    """One row per run: its figures, how long it trained and in how many segments."""
    rows = []
    for r in sorted(records, key=lambda r: (config_label(r), r["subset"], r["method"], r["seed"])):
        p = r.get("provenance", {})
        rows.append(
            {
                "config": config_label(r),
                "subset": r["subset"],
                "method": r["method"],
                "seed": r["seed"],
                "RMSE": round(r["test"]["rmse"], 2),
                "NASA": round(r["test"]["nasa"], 1),
                "best epoch": r.get("best_epoch"),
                "epochs": r.get("epochs_run"),
                "hours": round((p.get("wall_time_s") or 0) / 3600, 2),
                "segments": len(p.get("segments") or [None]),
                "device": p.get("device_name"),
            }
        )
    return pd.DataFrame(rows)


def selection_gap_table(records: list[dict]) -> pd.DataFrame:
    """What choosing the epoch on the TEST set would have been worth, for runs that
    recorded the test RMSE of every epoch (``record_test_rmse``; never used to choose)."""
    rows = []
    for r in records:
        curve = r.get("curves", {}).get("test_rmse")
        if not curve:
            continue
        best = int(np.argmin(curve))
        chosen = r["best_epoch"]
        rows.append(
            {
                "config": config_label(r),
                "subset": r["subset"],
                "method": r["method"],
                "seed": r["seed"],
                "chosen epoch (validation)": chosen,
                "test RMSE there": round(curve[chosen - 1], 3),
                "best epoch on test": best + 1,
                "lowest test RMSE": round(curve[best], 3),
                "gap": round(curve[chosen - 1] - curve[best], 3),
            }
        )
    return pd.DataFrame(rows)


def ensemble_rmse(records: list[dict]) -> float:
    """Test RMSE of the runs' mean prediction per test engine (one averaged model; every
    run chose its own epoch on its own validation engines, the test chooses nothing)."""
    if not records:
        raise ValueError("no runs to average")
    first = records[0]["per_engine"]
    for r in records[1:]:
        _check_same_engines(records[0], r)
    mean_pred = np.mean([r["per_engine"]["pred"] for r in records], axis=0)
    return float(np.sqrt(np.mean((mean_pred - np.asarray(first["true"])) ** 2)))


def floor_table(records: list[dict]) -> pd.DataFrame:
    """For GABA and GRACE runs: how often the RUL weight sits on GABA's floor after the
    warm-up, and how much harder the RUL task still pulls on the shared backbone
    (median of w_rul * g_rul / (w_hs * g_hs) over the recorded steps)."""
    rows = []
    for r in records:
        cfg, h = r.get("config", {}), r.get("task_history", {})
        if r["method"] not in ("gaba", "grace") or not h.get("step"):
            continue
        steps = np.asarray(h["step"])
        after = steps > cfg.get("gaba_warmup_steps", GABA_WARMUP_STEPS)
        if not after.any():
            continue
        w_rul = np.asarray(h["weight_rul"])[after]
        w_hs = np.asarray(h["weight_health"])[after]
        pull = w_rul * np.asarray(h["grad_norm_rul"])[after]
        pull /= w_hs * np.asarray(h["grad_norm_health"])[after]
        rows.append(
            {
                "config": config_label(r),
                "subset": r["subset"],
                "method": r["method"],
                "seed": r["seed"],
                "floor": cfg.get("gaba_floor"),
                "share of recorded steps on the floor": round(
                    float(np.mean(w_rul <= cfg.get("gaba_floor", 0) + 1e-6)), 3
                ),
                "median RUL/health pull": round(float(np.median(pull)), 2),
                "recorded steps": int(after.sum()),
            }
        )
    return pd.DataFrame(rows)


def gap_sentences(summary: pd.DataFrame, profile: str = "full") -> list[str]:
    """The gap to the book's figure of every cell measured here, in words."""
    out = []
    ours = summary[summary.profile == profile]
    for row in ours.itertuples():
        b_rmse, b_nasa = published.book_figure(row.subset, row.method)
        if b_rmse is None:
            continue
        seeds = f"{row.seeds} seed{'s' if row.seeds > 1 else ''}"
        d = row.rmse_mean - b_rmse
        text = (
            f"{row.subset} {row.method}: measured RMSE {_pm(row.rmse_mean, row.rmse_std, 2)} "
            f"({seeds}) against the book's {b_rmse:.2f}, {abs(d):.2f} "
            f"{'higher' if d > 0 else 'lower'} ({d / b_rmse:+.0%})"
        )
        if b_nasa is not None:
            dn = row.nasa_mean - b_nasa
            text += (
                f"; NASA {_pm(row.nasa_mean, row.nasa_std, 1)} against {b_nasa:.1f}, "
                f"{abs(dn):.1f} {'higher' if dn > 0 else 'lower'} ({dn / b_nasa:+.0%})"
            )
        out.append(text + ".")
    return out


def _pm(mean: float, std: float, digits: int) -> str:
    if mean is None or not np.isfinite(mean):
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if np.isfinite(std) else "")


def _book(value: float | None, std: float | None, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def comparison_table(summary: pd.DataFrame, profile: str = "full") -> pd.DataFrame:
    """Ours (measured) next to the book's published figure, for every cell the book prints."""
    ours = summary[summary.profile == profile]
    rows = []
    for subset, method, b_rmse, b_nasa in published.BOOK:
        book_std = published.BOOK_STD.get((subset, method), (None, None))
        if subset == "FD002+FD004":  # the book's mean over the two subsets
            parts = ours[(ours.method == method) & ours.subset.isin(["FD002", "FD004"])]
            have = len(parts) == 2
            m_rmse = parts.rmse_mean.mean() if have else np.nan
            m_nasa = parts.nasa_mean.mean() if have else np.nan
            m_seeds = int(parts.seeds.min()) if have else 0
            s_rmse = s_nasa = np.nan
        else:
            cell = ours[(ours.subset == subset) & (ours.method == method)]
            have = len(cell) == 1
            m_rmse = float(cell.rmse_mean.iloc[0]) if have else np.nan
            s_rmse = float(cell.rmse_std.iloc[0]) if have else np.nan
            m_nasa = float(cell.nasa_mean.iloc[0]) if have else np.nan
            s_nasa = float(cell.nasa_std.iloc[0]) if have else np.nan
            m_seeds = int(cell.seeds.iloc[0]) if have else 0
        rows.append(
            {
                "subset": subset,
                "method": method,
                "book RMSE (published)": _book(b_rmse, book_std[0], 2),
                "book NASA (published)": _book(b_nasa, book_std[1], 1),
                f"rulkit RMSE ({profile}, measured)": _pm(m_rmse, s_rmse, 2),
                f"rulkit NASA ({profile}, measured)": _pm(m_nasa, s_nasa, 1),
                "rulkit seeds": m_seeds,
            }
        )
    return pd.DataFrame(rows)


def beside_book(records: list[dict], subset: str = "FD001", methods=None) -> pd.DataFrame:
    """The book's published figures of one subset beside this project's full-recipe
    measurements of the same cells, where they exist (the method chapters' tables)."""
    full = [r for r in records if config_label(r) == "full" and r["subset"] == subset]
    if full:
        summary = summary_table(full, n_boot=200)
    else:  # nothing measured yet: the book's cells alone
        summary = pd.DataFrame(columns=["profile", "subset", "method"])
    table = comparison_table(summary, "full")
    keep = (table.subset == subset) & (methods is None or table.method.isin(methods))
    return table[keep].reset_index(drop=True)


def literature_table() -> pd.DataFrame:
    """The standard-protocol figures of LITERATURE.md, as published."""
    rows = []
    for model, cells in published.LITERATURE.items():
        row = {"model (published)": model}
        for i, (rmse, score) in enumerate(cells, start=1):
            row[f"FD00{i} RMSE / score"] = f"{rmse:.2f} / {score:g}"
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table without extra dependencies."""
    cols = list(frame.columns)
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def summary_markdown(summary: pd.DataFrame) -> str:
    """Readable mean ± std [95% CI] table per profile, subset and method."""
    view = pd.DataFrame(
        {
            "profile": summary.profile,
            "subset": summary.subset,
            "method": summary.method,
            "seeds": summary.seeds,
            "RMSE mean ± std": [_pm(m, s, 2) for m, s in zip(summary.rmse_mean, summary.rmse_std)],
            "RMSE 95% CI": [
                f"[{a:.2f}, {b:.2f}]" for a, b in zip(summary.rmse_ci_low, summary.rmse_ci_high)
            ],
            "NASA mean ± std": [_pm(m, s, 1) for m, s in zip(summary.nasa_mean, summary.nasa_std)],
            "NASA 95% CI": [
                f"[{a:.1f}, {b:.1f}]" for a, b in zip(summary.nasa_ci_low, summary.nasa_ci_high)
            ],
            "health acc": [f"{v:.3f}" for v in summary.accuracy_mean],
        }
    )
    return to_markdown(view)


def build_report(
    results_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None, n_boot: int = 2000
) -> dict:
    """Write every table and figure for the results in ``results_dir``; return their paths."""
    from . import plots

    records = load_results(results_dir)
    out = Path(out_dir) if out_dir is not None else Path(results_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    if not records:
        (out / "README.md").write_text(f"No successful result files under {results_dir}.\n")
        return {"readme": str(out / "README.md"), "n_runs": 0}
    runs = runs_table(records)
    summary = summary_table(records, n_boot)
    runs.to_csv(out / "runs.csv", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    profiles = sorted(summary.profile.unique())
    lines = [
        f"# Results ({len(records)} runs)",
        "",
        f"Protocol: {PROTOCOL}.",
        "",
        "## Measured (mean ± std over seeds, engine-level bootstrap 95% CI)",
        "",
        summary_markdown(summary),
        "",
    ]
    for profile in profiles:
        lines += [
            f"## Beside the book's published figures ({profile} profile)",
            "",
            f"Book: {published.BOOK_PROTOCOL}.",
            "",
            to_markdown(comparison_table(summary, profile)),
            "",
        ]
    for profile in profiles:
        words = gap_sentences(summary, profile)
        if words:
            lines += [f"## The gap to the book, in words ({profile})", ""]
            lines += [f"- {w}" for w in words] + [""]
    lines += ["## Every run", "", to_markdown(per_seed_table(records)), ""]
    gaps = selection_gap_table(records)
    if len(gaps):
        lines += [
            "## What choosing the epoch on the test set would have been worth",
            "",
            "Runs made with `record_test_rmse` kept the test RMSE of every epoch, for the record "
            "only. The chosen epoch is the validation engines' choice; the gap is how much lower "
            "the test RMSE would look if the epoch were chosen on the test set instead.",
            "",
            to_markdown(gaps),
            "",
        ]
    floors = floor_table(records)
    if len(floors):
        lines += [
            "## GABA's floor: does the RUL weight sit on it?",
            "",
            to_markdown(floors),
            "",
        ]
    lines += [
        "## Published standard-protocol results (literature)",
        "",
        f"Protocol: {published.STANDARD_PROTOCOL}.",
        "",
        to_markdown(literature_table()),
    ]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    written.update(
        runs=str(out / "runs.csv"),
        summary=str(out / "summary.csv"),
        markdown=str(out / "summary.md"),
    )
    for profile in profiles:
        fig = plots.pareto(summary[summary.profile == profile])
        path = out / f"pareto_{profile}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        written[f"pareto_{profile}"] = str(path)
        chosen = [r for r in records if config_label(r) == profile]
        fig = plots.task_weight_trajectories(chosen)
        path = out / f"task_weights_{profile}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        written[f"task_weights_{profile}"] = str(path)
        fig = plots.validation_curves(chosen)
        path = out / f"validation_{profile}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        written[f"validation_{profile}"] = str(path)
    plots.close_all()
    written["n_runs"] = len(records)
    return written


README_START, README_END = "<!-- measured:start -->", "<!-- measured:end -->"
CAMPAIGN_COMMAND = "benchmarks/campaign.sh  (rulkit sweep ... --profile full --device cpu)"


def measured_markdown(records: list[dict]) -> str:
    """The README's "Measured results" block: every finished full-recipe run, with the
    book's figure beside it and the command that made it."""
    full = [r for r in records if config_label(r) == "full"]
    if not full:
        return (
            "No full-recipe run has finished yet. The CPU campaign on FD001 "
            f"(`{CAMPAIGN_COMMAND.split('  ')[0]}`) is under way; its runs continue from their "
            "checkpoints in every working session."
        )
    rows = []
    for r in sorted(full, key=lambda r: (r["subset"], r["method"], r["seed"])):
        p = r.get("provenance", {})
        b_rmse, b_nasa = published.book_figure(r["subset"], r["method"])
        rows.append(
            {
                "run": f"{r['subset']} {r['method']} seed {r['seed']}",
                "RMSE": f"{r['test']['rmse']:.2f}",
                "NASA": f"{r['test']['nasa']:.1f}",
                "book RMSE / NASA (published)": _book(b_rmse, None, 2)
                + " / "
                + _book(b_nasa, None, 1),
                "best / last epoch": f"{r['best_epoch']} / {r['epochs_run']}",
                "hours": f"{(p.get('wall_time_s') or 0) / 3600:.1f}",
                "segments": len(p.get("segments") or [None]),
                "device": p.get("device_name"),
                # a tree with uncommitted changes is marked: the commit alone does not say
                "commit": (p.get("git_commit") or "")[:7]
                + (" (dirty)" if p.get("git_dirty") else ""),
            }
        )
    command = (
        f"Made by `{CAMPAIGN_COMMAND.split('  ')[0]}` (`rulkit sweep --profile full`; the "
        "test set chooses nothing: it is scored at the end, and at every epoch for the record "
        "only); tables and figures: `rulkit report results`."
    )
    return to_markdown(pd.DataFrame(rows)) + "\n\n" + command + _other_recipes(records)


RECIPE_COMMANDS = {
    "tuned": "PLAN=benchmarks/plans/fd001_tuned.plan benchmarks/gpu_session.sh",
    "lean": "PROFILE=lean SEEDS=0-4 benchmarks/campaign.sh",
    "dcnn": "PLAN=benchmarks/plans/fd001_tuned.plan benchmarks/gpu_session.sh",
}


def _other_recipes(records: list[dict]) -> str:
    """Seed means of the recipes other than the book's (tuned, lean, the DCNN reference)."""
    rows = []
    for label in RECIPE_COMMANDS:
        runs = [r for r in records if config_label(r) == label]
        for subset, method in sorted({(r["subset"], r["method"]) for r in runs}):
            rmse, nasa = (seed_spread(records, method, subset, k, label) for k in METRICS)
            mine = [r for r in runs if (r["subset"], r["method"]) == (subset, method)]
            devices = {r.get("provenance", {}).get("device_name") for r in mine}
            rows.append(
                {
                    "recipe": label,
                    "run": f"{subset} {method}",
                    "seeds": rmse.n,
                    "RMSE mean ± sd": _pm(rmse.mean, rmse.sd, 2),
                    "NASA mean ± sd": _pm(nasa.mean, nasa.sd, 1),
                    "device": ", ".join(sorted(d for d in devices if d)),
                }
            )
    if not rows:
        return ""
    made = "; ".join(f"{k}: `{v}`" for k, v in RECIPE_COMMANDS.items())
    return (
        "\n\nOther recipes, seed means (`tuned` and `lean`: the recipes of the chapter "
        '"Training it well"; `dcnn`: the reference CNN of Li, Ding & Sun 2018, published '
        "FD001 RMSE 12.61):\n\n" + to_markdown(pd.DataFrame(rows)) + f"\n\nMade by {made}."
    )


def update_readme(readme: str | os.PathLike, records: list[dict]) -> bool:
    """Rewrite the block between the README's measured-results markers; True if changed."""
    path = Path(readme)
    text = path.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    new = text[:start] + "\n" + measured_markdown(records) + "\n" + text[end:]
    if new != text:
        path.write_text(new)
    return new != text


# ---------------------------------------------------------------- recipes (chapter "Training")
def recipe_overrides(record: dict, base: str = "full") -> dict:
    """The fields of a run's config that differ from the recipe ``base`` (the book's by
    default), leaving out what never changes training (device, records, epochs cap)."""
    from .config import RECORD_FIELDS, RUNTIME_FIELDS, TrainConfig, profile_config

    ref = json.loads(json.dumps(asdict(profile_config(base))))  # tuples as lists, as in files
    # a field a file lacks was added later, with the default that keeps the old behaviour
    config = {**json.loads(json.dumps(asdict(TrainConfig()))), **record["config"]}
    skip = {"subset", "method", "seed", "profile", "max_epochs", "data_dir"}
    skip |= RUNTIME_FIELDS | RECORD_FIELDS
    return {k: v for k, v in sorted(config.items()) if k not in skip and v != ref.get(k)}


def ablation_table(records: list[dict], base: str = "full") -> pd.DataFrame:
    """One row per run of an ablation: what it changed from ``base``, its validation RMSE
    (the choice), the same by region of life, its chosen epoch, and its test RMSE (for the
    record only), with the command that makes the row."""
    rows = []
    for r in records:
        changed = recipe_overrides(r, base)
        curves, i = r["curves"], r["best_epoch"] - 1
        region = lambda key: curves[key][i] if key in curves else float("nan")  # noqa: B023
        sets = " ".join(f"--set {_shell_pair(k, v)}" for k, v in changed.items())
        epochs = r["config"]["max_epochs"]
        rows.append(
            {
                "change": ", ".join(f"{k}={v}" for k, v in changed.items()) or "(the book's)",
                "method": r["method"],
                "seed": r["seed"],
                "val RMSE": curves["val_rmse"][i],
                "val below cap": region("val_rmse_below_cap"),
                "val at cap": region("val_rmse_at_cap"),
                "best epoch": r["best_epoch"],
                "epochs": r["epochs_run"],
                "test RMSE": r["test"]["rmse"],
                "command": f"rulkit train --subset {r['subset']} --method {r['method']} "
                f"--seed {r['seed']} --profile {base} --set max_epochs={epochs} {sets}".strip(),
            }
        )
    return pd.DataFrame(rows).sort_values(["seed", "val RMSE"], ignore_index=True)


def _shell_pair(key: str, value) -> str:
    """``key=value`` as a shell word for ``--set``: JSON, quoted where the shell needs it."""
    if isinstance(value, str):
        return f"{key}={value}"
    text = json.dumps(value, separators=(",", ":"))
    return f"'{key}={text}'" if isinstance(value, dict | list) else f"{key}={text}"


def run_set(records: list[dict]) -> str:
    """A short fingerprint of a set of runs (their names and test RMSEs): a chapter prints
    it beside its results, and a test compares it with the files in ``results/``."""
    names = sorted(
        f"{r['subset']}_{r['method']}_seed{r['seed']}_{config_label(r)}:{r['test']['rmse']:.4f}"
        for r in records
    )
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
    return f"{len(names)} runs, fingerprint {digest}"


def results_paragraph(
    records: list[dict],
    subset: str = "FD001",
    methods: tuple[str, ...] = CORE_METHODS,
    profile: str = "full",
    reference: str = "baseline",
) -> str:
    """What the runs of one recipe show, in sentences built from the runs themselves, so
    that a chapter's prose stays true as seeds arrive: seeds per method, seed means beside
    the book's figures, paired differences to ``reference`` and the seed-to-seed spread."""
    present = [m for m in methods if _cell(records, subset, m, profile)]
    if not present:
        return f"No run of the {profile} recipe on {subset} has finished yet."
    name = {"full": "the book's recipe"}.get(profile, f"the {profile} recipe")
    parts, means = [], {}
    for m in present:
        rmse, nasa = (seed_spread(records, m, subset, k, profile) for k in ("rmse", "nasa"))
        means[m] = (rmse.mean, nasa.mean)
        seeds = ", ".join(map(str, sorted(rmse.seeds)))
        book_rmse, book_nasa = published.book_figure(subset, m)
        book = f"; book {book_rmse:.2f} / {book_nasa:.1f}" if book_rmse and book_nasa else ""
        parts.append(
            f"{m} {rmse.mean:.2f} / {nasa.mean:.1f} ({rmse.n} seed{'s' * (rmse.n > 1)}: "
            f"{seeds}{book})"
        )
    text = [
        f"Runs of {name} on {subset}, test RMSE / NASA score, mean over seeds: "
        + "; ".join(parts)
        + "."
    ]
    best_rmse = min(means, key=lambda m: means[m][0])
    best_nasa = min(means, key=lambda m: means[m][1])
    text.append(
        f"Lowest mean RMSE: {best_rmse}; lowest mean NASA score: {best_nasa}"
        + (" (the same method)." if best_rmse == best_nasa else " (not the same method).")
    )
    if reference in present and len(present) > 1:
        table = paired_table(records, subset, reference, "rmse", profile=profile)
        verdicts = dict(zip(zip(table.method, table.seed), _verdicts(table)))
        sentences = []
        for m in present:
            if m == reference:
                continue
            rows = table[table.method == m]
            if rows.empty:
                continue
            row = rows[rows.seed == "mean"].iloc[0] if (rows.seed == "mean").any() else rows.iloc[0]
            label = "mean over seeds" if row.seed == "mean" else f"seed {row.seed}"
            sentences.append(
                f"{m} {row.difference:+.2f} [{row.ci_low:+.2f}, {row.ci_high:+.2f}] "
                f"({label}: {verdicts[(m, row.seed)]})"
            )
        text.append(
            f"Paired on the same test engines, RMSE difference to {reference} with its 95% "
            "interval: " + "; ".join(sentences) + "."
        )
        spread = seed_spread(records, reference, subset, "rmse", profile)
        if spread.n > 1:
            text.append(
                f"For scale, the {reference}'s own seeds differ with a standard deviation of "
                f"{spread.sd:.2f} RMSE ({spread.n} seeds)."
            )
        else:
            text.append(
                f"With one {reference} seed, the spread from seed to seed is not measured yet."
            )
    return " ".join(text)
