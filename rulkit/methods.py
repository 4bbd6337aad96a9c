"""The training methods of the book's Table I, in one registry (chapters 13-23).

A method is two choices: is the RUL error failure-weighted (AMNL's sample
weights), and which balancer sets the two task weights. Adding an eighth method
means adding one entry to :data:`METHODS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .balancing import DWA, GABA, Balancer, FixedWeights, GradNorm, UncertaintyWeighting


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    amnl: bool  # failure-weighted MSE on the RUL branch
    make_balancer: Callable[..., Balancer]  # called with the training config


def _gaba(cfg) -> GABA:
    return GABA(beta=cfg.gaba_beta, floor=cfg.gaba_floor, warmup_steps=cfg.gaba_warmup_steps)


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method(
            "baseline",
            "fixed 0.5/0.5 task weights, plain MSE",
            False,
            lambda cfg: FixedWeights((1 - cfg.lam_hs, cfg.lam_hs)),
        ),
        Method(
            "amnl",
            "failure-weighted MSE, fixed 0.5/0.5 task weights",
            True,
            lambda cfg: FixedWeights((1 - cfg.lam_hs, cfg.lam_hs)),
        ),
        Method(
            "gaba",
            "inverse-gradient-norm task weights (EMA, floor, warm-up), plain MSE",
            False,
            _gaba,
        ),
        Method("grace", "GABA task weights on AMNL's failure-weighted MSE", True, _gaba),
        Method(
            "rul_only",
            "the RUL loss alone (health weight 0): single-task models such as the DCNN",
            False,
            lambda cfg: FixedWeights((1.0, 0.0)),
        ),
        Method(
            "uncertainty",
            "Kendall et al. 2018: learned log-variance weights",
            False,
            lambda cfg: UncertaintyWeighting(),
        ),
        Method(
            "gradnorm",
            "Chen et al. 2018: GradNorm, alpha 1.5",
            False,
            lambda cfg: GradNorm(alpha=cfg.gradnorm_alpha, lr=cfg.gradnorm_lr),
        ),
        Method(
            "dwa",
            "Liu et al. 2019: dynamic weight average, T = 2",
            False,
            lambda cfg: DWA(temperature=cfg.dwa_temperature),
        ),
    ]
}


# How tables and figures show the methods, in one place (plots, regimes and report read it).
#: The book's four methods (Table I's first rows), the default of comparisons.
CORE_METHODS = ("baseline", "amnl", "gaba", "grace")
#: Display order of methods (the registry's order; ``rul_only``, a single-task check, is
#: not among the compared methods); unknown methods go last.
METHOD_ORDER = (*CORE_METHODS, "uncertainty", "gradnorm", "dwa")
#: A method's name as tables and legends print it.
LABELS = {
    "baseline": "Baseline",
    "amnl": "AMNL",
    "gaba": "GABA",
    "grace": "GRACE",
    "uncertainty": "Uncertainty",
    "gradnorm": "GradNorm",
    "dwa": "DWA",
}
#: A method's colour in every figure (matplotlib's tab10 colours).
COLOURS = {
    "baseline": "#7f7f7f",
    "amnl": "#1f77b4",
    "gaba": "#2ca02c",
    "grace": "#d62728",
    "uncertainty": "#9467bd",
    "gradnorm": "#8c564b",
    "dwa": "#e377c2",
}


def get_method(name: str) -> Method:
    try:
        return METHODS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; valid methods: {', '.join(METHODS)}") from None
