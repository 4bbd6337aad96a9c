"""Published figures to compare against: the book's (SPEC section 8) and the literature's.

These are other people's numbers, kept as data so that tables can show them
*beside* what this project measures, each labelled with its source and protocol.
Nothing here is ever presented as a rulkit result.
"""

from __future__ import annotations

BOOK_PROTOCOL = (
    "the book's own runs (5-seed means); its earlier edition chose checkpoints on the test set"
)
STANDARD_PROTOCOL = "last window per test engine, RUL capped at 125, truth from RUL_FD00x.txt"

# (subset, method, RMSE, NASA score); None where the book gives no figure.
# "FD002+FD004" is the book's mean over the two subsets.
BOOK = [
    ("FD002+FD004", "amnl", 7.45, 446.7),
    ("FD002+FD004", "gaba", 7.89, 235.7),
    ("FD002+FD004", "grace", 7.92, 232.7),
    ("FD002", "gaba", 7.53, 224.2),
    ("FD002", "grace", 7.72, 223.4),
    ("FD002", "amnl", 6.74, None),
    ("FD001", "baseline", 10.08, 143.2),
    ("FD001", "amnl", 10.43, 434.4),
    ("FD001", "gaba", 9.63, 130.4),
    ("FD001", "grace", 9.14, 121.4),
    ("FD003", "baseline", 11.53, None),
    ("FD003", "grace", 13.12, None),
]
BOOK_STD = {("FD002", "gaba"): (0.65, 22.4)}  # the only spreads the book prints

# Standard-protocol results as published (RMSE, score) per subset FD001..FD004.
LITERATURE = {
    "Deep LSTM (Zheng et al., 2017)": [(16.14, 338), (24.49, 4450), (16.18, 852), (28.17, 5550)],
    "DCNN (Li, Ding & Sun, 2018)": [(12.61, 273.7), (22.36, 10412), (12.64, 284.1), (23.31, 12466)],
    "MS-DCNN (Li et al., 2020)": [(11.44, 196.22), (19.35, 3747), (11.67, 241.89), (22.22, 4844)],
    "DAST (Zhang et al., 2022)": [
        (11.43, 203.15),
        (15.25, 924.96),
        (11.32, 154.92),
        (18.23, 1490.72),
    ],
    "STAR (Fan, Li & Chang, 2024)": [(10.61, 169), (13.47, 784), (10.71, 202), (15.87, 1449)],
    "STA-HPINN (2025)": [(11.27, 211.03), (13.21, 764.42), (8.30, 119.93), (13.31, 849.98)],
}


def book_figure(subset: str, method: str) -> tuple[float | None, float | None]:
    """The book's (RMSE, NASA) for one cell, (None, None) when it prints none."""
    for sub, meth, rmse, nasa in BOOK:
        if sub == subset and meth == method:
            return rmse, nasa
    return None, None
