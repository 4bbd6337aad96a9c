"""RMSE, the NASA/PHM08 score and the health-state metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rulkit.metrics import (
    accuracy,
    confusion_matrix,
    health_metrics,
    macro_f1,
    nasa_score,
    nasa_scores,
    rmse,
    rul_metrics,
)

E = math.e


@pytest.mark.parametrize(
    "d, expected",
    [
        (-13.0, E - 1),
        (10.0, E - 1),
        (0.0, 0.0),
        (-26.0, E**2 - 1),
        (20.0, E**2 - 1),
        (-1.0, math.exp(1 / 13) - 1),
    ],
)
def test_nasa_score_per_engine(d, expected):
    """d = pred - true; early (d < 0) divides by 13, late by 10."""
    assert nasa_scores([100.0 + d], [100.0])[0] == pytest.approx(expected, rel=1e-12)


def test_nasa_score_is_a_sum_over_engines():
    pred, true = [87.0, 110.0, 50.0], [100.0, 100.0, 50.0]  # d = -13, +10, 0
    assert nasa_score(pred, true) == pytest.approx(2 * (E - 1), rel=1e-12)


def test_late_costs_more_than_early():
    for gap in (1.0, 5.0, 13.0, 40.0):
        assert nasa_score([100 + gap], [100]) > nasa_score([100 - gap], [100])


def test_rmse():
    assert rmse([3.0, -1.0, 2.0, 0.0], [0.0, 3.0, 2.0, 0.0]) == pytest.approx(2.5)  # sqrt(25/4)
    assert rmse([7, 7], [7, 7]) == 0.0


def test_rul_metrics_with_and_without_uncapped_truth():
    out = rul_metrics([100.0, 120.0], [110.0, 125.0], true_uncapped=[110.0, 140.0])
    assert out["rmse"] == pytest.approx(math.sqrt((100 + 25) / 2))
    assert out["rmse_uncapped"] == pytest.approx(math.sqrt((100 + 400) / 2))
    assert out["nasa"] == pytest.approx(math.expm1(10 / 13) + math.expm1(5 / 13))
    assert set(rul_metrics([1.0], [1.0])) == {"rmse", "nasa"}


# true:  0 0 0 1 1 2 2 2
# pred:  0 0 1 1 2 2 2 0
LABELS_TRUE = [0, 0, 0, 1, 1, 2, 2, 2]
LABELS_PRED = [0, 0, 1, 1, 2, 2, 2, 0]


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix(LABELS_PRED, LABELS_TRUE)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 1, 1], [1, 0, 2]])
    # one true-0 predicted as 2 must land in row 0, column 2 (not row 2, column 0)
    np.testing.assert_array_equal(confusion_matrix([2], [0]), [[0, 0, 1], [0, 0, 0], [0, 0, 0]])


def test_accuracy():
    assert accuracy(LABELS_PRED, LABELS_TRUE) == pytest.approx(5 / 8)


def test_macro_f1_by_hand():
    # class 0: tp 2, fp 1, fn 1 -> 2/3; class 1: tp 1, fp 1, fn 1 -> 1/2; class 2: tp 2, fp 1,
    # fn 1 -> 2/3
    assert macro_f1(LABELS_PRED, LABELS_TRUE) == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)


def test_macro_f1_skips_a_class_absent_everywhere():
    assert macro_f1([0, 1, 1], [0, 1, 0]) == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert macro_f1([0, 1], [0, 1]) == 1.0


def test_health_metrics_bundle():
    out = health_metrics(LABELS_PRED, LABELS_TRUE)
    assert out["accuracy"] == pytest.approx(5 / 8)
    assert out["confusion"] == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
