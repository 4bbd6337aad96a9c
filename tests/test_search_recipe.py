"""benchmarks/search_recipe.py: its first trial is `lean` as it is, and its table sorts by
validation (the search itself runs for an hour and is not a unit test)."""

import importlib.util
import json
from dataclasses import asdict
from pathlib import Path

import optuna

from rulkit.config import profile_config
from rulkit.model import build_model

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("search", ROOT / "benchmarks/search_recipe.py")
search = importlib.util.module_from_spec(spec)
spec.loader.exec_module(search)


def lean_and_point():
    lean = profile_config("lean", subset="FD001", method="baseline")
    point = profile_config(
        "lean",
        subset="FD001",
        method="baseline",
        **search.suggest(optuna.trial.FixedTrial(search.LEAN_POINT)),
    )
    return lean, point


def test_first_trial_trains_the_lean_recipe():
    lean, point = lean_and_point()
    a, b = asdict(lean), asdict(point)
    assert {k: v for k, v in a.items() if k != "model"} == {
        k: v for k, v in b.items() if k != "model"
    }
    # the point spells out two dropouts that lean leaves at the model's defaults
    build = lambda c: build_model("dual", 14, c.window, c.rul_scale, **c.model)
    assert repr(build(lean)) == repr(build(point))
    assert sum(p.numel() for p in build(point).parameters()) == 77_940


def test_a_changed_field_reaches_the_config():
    fields = {**search.LEAN_POINT, "window": 50, "width": 16, "lr": 1e-4}
    cfg = profile_config("lean", **search.suggest(optuna.trial.FixedTrial(fields)))
    assert (cfg.window, cfg.model["conv_channels"], cfg.lr) == (50, [16, 16, 16], 1e-4)


def test_table_lists_the_best_validation_first(tmp_path):
    base = {**search.LEAN_POINT, "epochs": 30, "best_epoch": 20, "seconds": 1.0}
    lines = [
        {**base, "trial": 0, "state": "COMPLETE", "val": 12.6},
        {**base, "trial": 1, "state": "PRUNED", "val": 14.1},
        {**base, "trial": 2, "state": "COMPLETE", "val": 11.9},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in lines))
    rows = search.table(str(path)).splitlines()[2:]
    assert [r.split("|")[1].strip() for r in rows] == ["2", "0", "1"]
    assert "| pruned | 14.10 |" in rows[2]


def test_best_flags_set_only_what_differs_from_lean(tmp_path):
    base = {**search.LEAN_POINT, "epochs": 30, "best_epoch": 20, "seconds": 1.0}
    lines = [
        {**base, "trial": 0, "state": "COMPLETE", "val": 12.6},
        {**base, "trial": 1, "state": "COMPLETE", "val": 11.9, "window": 50, "lr": 5e-4},
        {**base, "trial": 2, "state": "PRUNED", "val": 11.0, "window": 30},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in lines))
    flags = search.best_flags(str(path))
    assert flags.startswith("--set lr=0.0005 --set window=50")
    # the model dict differs only in spelling out the default dropouts
    assert '"conv_dropout":0.15' in flags


def test_carry_over_keeps_only_trials_scored_like_this_study(tmp_path):
    base = {**search.LEAN_POINT, "epochs": 30, "best_epoch": 20, "seconds": 1.0}
    lines = [
        {**base, "trial": 0, "state": "COMPLETE", "val": 12.6},  # window 40: other score
        {**base, "trial": 1, "state": "COMPLETE", "val": 11.9, "window": 50},
        {**base, "trial": 2, "state": "PRUNED", "val": 14.0, "window": 50, "epochs": 8},
    ]
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join(json.dumps(d) for d in lines))
    db = tmp_path / "new.db"
    assert search.carry_over(str(old), "unused", str(db)) == 2
    trials = search.study(str(db)).trials
    assert [t.user_attrs["carried_from"] for t in trials] == [1, 2]
    assert [t.value for t in trials] == [11.9, None]
    assert trials[1].intermediate_values == {8: 14.0}
