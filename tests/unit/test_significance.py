"""Nadeau–Bengio's corrected t-test and the paired bootstrap, against numbers worked out here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rampconf.plugin import make_plugin
from rampconf.scores import BaseScore
from rampconf.significance import bootstrap_difference, bootstrap_differences, corrected_ttest

A = [0.80, 0.82, 0.79, 0.85, 0.81]
B = [0.83, 0.84, 0.80, 0.88, 0.82]


def score(name: str) -> BaseScore:
    return make_plugin("score", name, {}, f"problem.scores.{name}", BaseScore, name=name)


def test_corrected_ttest_by_hand():
    # d = b - a = [0.03, 0.02, 0.01, 0.03, 0.01]: mean 0.02, sample variance 0.0001;
    # corrected variance (1/5 + 20/80) * 0.0001 = 0.000045; t = 0.02 / sqrt(0.000045)
    result = corrected_ttest(A, B, n_train=80, n_valid=20)
    assert result.mean_difference == pytest.approx(0.02)
    assert result.statistic == pytest.approx(0.02 / math.sqrt(0.000045))
    assert result.statistic == pytest.approx(2.9814239699997196)
    assert result.df == 4 and result.n_folds == 5
    assert result.pvalue == pytest.approx(2 * stats.t.sf(2.9814239699997196, 4))
    assert result.pvalue == pytest.approx(0.04068, abs=5e-5)


def test_without_the_correction_it_is_scipys_paired_t_test():
    """n_valid = 0 removes the correction term: the plain paired t-test remains."""
    plain = corrected_ttest(A, B, n_train=1, n_valid=0)
    expected = stats.ttest_rel(B, A)
    assert plain.statistic == pytest.approx(expected.statistic)
    assert plain.pvalue == pytest.approx(expected.pvalue)
    # the correction only widens: the same data is less significant
    assert corrected_ttest(A, B, n_train=80, n_valid=20).pvalue > plain.pvalue


def test_corrected_ttest_uses_mean_sizes_and_names_bad_input():
    per_fold = corrected_ttest(A, B, n_train=[79, 81, 80, 80, 80], n_valid=[20] * 5)
    assert per_fold.statistic == pytest.approx(corrected_ttest(A, B, 80, 20).statistic)
    same = corrected_ttest(A, A, 80, 20)
    assert same.statistic == 0.0 and same.pvalue == 1.0
    constant = corrected_ttest(A, [a + 0.01 for a in A], 80, 20)
    assert constant.statistic == math.inf and constant.pvalue == 0.0
    assert math.isnan(corrected_ttest([0.8], [0.9], 80, 20).pvalue)
    with pytest.raises(ValueError, match="one value per fold"):
        corrected_ttest(A, B[:3], 80, 20)
    with pytest.raises(ValueError, match="n_train > 0 must hold, got 0"):
        corrected_ttest(A, B, 0, 20)


def test_bootstrap_of_accuracy_by_hand():
    """The same resamples drawn again with NumPy give the same interval."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60)
    right_a = rng.random(60) < 0.7
    right_b = rng.random(60) < 0.85
    proba = np.eye(2)

    def predictions(right: np.ndarray) -> np.ndarray:
        return proba[np.where(right, y, 1 - y)] * 0.8 + 0.1

    result = bootstrap_difference(score("accuracy"), y, predictions(right_a),
                                  predictions(right_b), n_bootstrap=500, random_state=11)
    draws = np.random.default_rng(11)
    diffs = []
    for _ in range(500):
        rows = draws.integers(0, 60, size=60)
        diffs.append(right_b[rows].mean() - right_a[rows].mean())
    low, high = np.percentile(diffs, [2.5, 97.5])
    assert result.difference == pytest.approx(right_b.mean() - right_a.mean())
    assert (result.low, result.high) == (pytest.approx(low), pytest.approx(high))
    assert result.n_resamples == 500 and result.confidence == 0.95
    assert result.excludes_zero == (low > 0 or high < 0)


def test_bootstrap_of_identical_predictions_is_zero_and_undefined_resamples_are_dropped():
    y = np.array([0, 1, 0, 1, 1, 0])
    pred = np.column_stack([1 - np.linspace(0.1, 0.9, 6), np.linspace(0.1, 0.9, 6)])
    same = bootstrap_difference(score("roc_auc"), y, pred, pred, n_bootstrap=200)
    assert (same.difference, same.low, same.high) == (0.0, 0.0, 0.0)
    assert not same.excludes_zero
    # six rows: some resamples hold one label only, where ROC AUC is undefined
    assert 150 < same.n_resamples < 200


def test_many_comparisons_share_the_resamples():
    rng = np.random.default_rng(0)
    y = rng.normal(size=40)
    reference = y + rng.normal(scale=1.0, size=40)
    others = [y + rng.normal(scale=s, size=40) for s in (0.5, 2.0)]
    rmse = score("rmse")
    together = bootstrap_differences(rmse, y, reference, others, n_bootstrap=300,
                                     random_state=5)
    alone = [bootstrap_difference(rmse, y, reference, o, n_bootstrap=300, random_state=5)
             for o in others]
    assert together == alone
    assert together[0].difference < 0 < together[1].difference  # rmse: lower is better
    with pytest.raises(ValueError, match="0 < confidence < 1"):
        bootstrap_difference(rmse, y, reference, others[0], confidence=95)
