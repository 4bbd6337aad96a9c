"""Facts that several modules use live in one place (issue 17, item 2), with the values
the notebooks' outputs were made with."""

from __future__ import annotations

import inspect

from rulkit import balancing, config, losses, methods, model, plots, regimes, report
from rulkit.data import RUL_CAP, prepare


def _default(fn, name):
    return inspect.signature(fn).parameters[name].default


def test_the_rul_cap_is_one_constant():
    assert RUL_CAP == 125.0
    assert config.TrainConfig().rul_cap == RUL_CAP
    assert _default(prepare, "rul_cap") == RUL_CAP
    for fn in (
        losses.amnl_weights,
        losses.rul_loss,
        losses.task_losses,
        losses.amnl_loss,
        losses.AMNLLoss,
        losses.GRACELoss,
    ):
        assert _default(fn, "rul_cap") == RUL_CAP, fn
    assert _default(model.DualTaskModel, "rul_bias_init") == RUL_CAP / 2 == 62.5
    assert "RUL cap 125 for targets" in report.PROTOCOL


def test_gaba_defaults_are_the_balancers():
    values = (balancing.GABA_BETA, balancing.GABA_FLOOR, balancing.GABA_WARMUP_STEPS)
    assert values == (0.99, 0.05, 100)
    for fn in (balancing.GABA, losses.GABALoss):
        assert (_default(fn, "beta"), _default(fn, "floor"), _default(fn, "warmup_steps")) == values
    cfg = config.TrainConfig()
    assert (cfg.gaba_beta, cfg.gaba_floor, cfg.gaba_warmup_steps) == values
    gaba = balancing.GABA()
    assert (gaba.beta, gaba.floor, gaba.warmup_steps) == values


def test_one_table_of_method_order_labels_and_colours():
    assert plots.METHOD_COLORS is methods.COLOURS
    assert regimes.METHOD_COLORS is methods.COLOURS
    assert regimes.METHOD_LABELS is methods.LABELS
    assert regimes.METHOD_ORDER is methods.METHOD_ORDER
    assert methods.CORE_METHODS == ("baseline", "amnl", "gaba", "grace")
    assert _default(report.results_paragraph, "methods") == methods.CORE_METHODS
    assert methods.METHOD_ORDER[:4] == methods.CORE_METHODS
    assert set(methods.METHOD_ORDER) <= set(methods.METHODS)
    assert set(methods.LABELS) == set(methods.COLOURS) == set(methods.METHOD_ORDER)
    assert [methods.LABELS[m] for m in methods.METHOD_ORDER] == [
        "Baseline", "AMNL", "GABA", "GRACE", "Uncertainty", "GradNorm", "DWA"
    ]  # fmt: skip
    assert [methods.COLOURS[m] for m in methods.METHOD_ORDER] == [
        "#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"
    ]  # fmt: skip


def test_the_custom_label_is_configs():
    cfg = config.profile_config("full", lr=2e-3)
    digest = cfg.config_hash()
    assert cfg.label() == config.run_label("full", digest) == f"custom-{digest}"
    assert config.profile_config("smoke").label() == config.run_label("smoke", None) == "smoke"
    record = {"profile": "custom", "config_hash": digest}
    assert report.config_label(record) == cfg.label()
    assert report.config_label({"profile": "tuned", "config_hash": None}) == "tuned"
