"""Is a difference between two submissions larger than the noise? Two answers.

- :func:`corrected_ttest`: the fold scores of two runs on the same folds,
  paired, with Nadeau and Bengio's corrected resampled t-test (Machine
  Learning 52, 2003). The folds of a CV scheme overlap, so their scores are
  correlated and the plain paired t-test is far too confident; the
  correction multiplies the variance of the mean difference by
  ``1/J + n_valid/n_train`` instead of ``1/J`` (J folds).
- :func:`bootstrap_difference`: a percentile bootstrap confidence interval of
  the difference of one score on the bagged test predictions of the two
  runs, the same resampled test rows for both (a paired bootstrap), scored
  with the problem's own score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rampconf.scores import UndefinedScore

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from rampconf.scores import BaseScore

__all__ = ["BootstrapResult", "TTestResult", "bootstrap_difference", "bootstrap_differences",
           "corrected_ttest"]


@dataclass(frozen=True)
class TTestResult:
    """Nadeau–Bengio corrected resampled t-test of ``b - a`` over paired folds.

    Attributes
    ----------
    mean_difference : float
        Mean over folds of ``score_b - score_a``.
    statistic : float
        The corrected t statistic (±inf when every fold differs by the same amount).
    df : int
        Degrees of freedom, ``n_folds - 1``.
    pvalue : float
        Two-sided p-value (NaN with fewer than two folds).
    n_folds : int
    """

    mean_difference: float
    statistic: float
    df: int
    pvalue: float
    n_folds: int


def corrected_ttest(scores_a: Sequence[float], scores_b: Sequence[float],
                    n_train: npt.ArrayLike, n_valid: npt.ArrayLike) -> TTestResult:
    """Nadeau–Bengio corrected resampled t-test on paired fold scores.

    Parameters
    ----------
    scores_a, scores_b
        One score per fold of two runs on the same folds, in the same order.
    n_train, n_valid
        Training and valid rows per fold (a number, or one per fold: their
        means are used), for the correction ``n_valid / n_train``.

    Returns
    -------
    TTestResult
        ``t = mean(d) / sqrt((1/J + n_valid/n_train) * var(d))`` with
        ``d = b - a``, ``var`` the sample variance (``ddof=1``), and the
        two-sided p-value of Student's t with ``J - 1`` degrees of freedom.

    Raises
    ------
    ValueError
        Scores of different lengths, or a non-positive ``n_train``.
    """
    from scipy import stats

    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired fold scores must have one value per fold each, got "
                         f"shapes {a.shape} and {b.shape}")
    mean_train = float(np.mean(np.asarray(n_train, dtype=float)))
    if not mean_train > 0:
        raise ValueError(f"n_train > 0 must hold, got {mean_train}")
    ratio = float(np.mean(np.asarray(n_valid, dtype=float))) / mean_train
    differences = b - a
    n_folds = len(differences)
    mean = float(np.mean(differences)) if n_folds else float("nan")
    if n_folds < 2:
        return TTestResult(mean, float("nan"), max(n_folds - 1, 0), float("nan"), n_folds)
    variance = float(np.var(differences, ddof=1)) * (1.0 / n_folds + ratio)
    if variance == 0.0:
        statistic = 0.0 if mean == 0.0 else float(np.sign(mean) * np.inf)
    else:
        statistic = mean / float(np.sqrt(variance))
    pvalue = float(2.0 * stats.t.sf(abs(statistic), n_folds - 1))
    return TTestResult(mean, statistic, n_folds - 1, pvalue, n_folds)


@dataclass(frozen=True)
class BootstrapResult:
    """Paired bootstrap of ``score(b) - score(a)`` on the same rows.

    Attributes
    ----------
    difference : float
        ``score(y, b) - score(y, a)`` on all rows.
    low, high : float
        Percentile confidence interval of the difference.
    confidence : float
    n_resamples : int
        Resamples on which both scores were defined (the others are dropped).
    """

    difference: float
    low: float
    high: float
    confidence: float
    n_resamples: int

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of zero."""
        return bool(self.low > 0 or self.high < 0)


def _score(score: BaseScore, y_true: np.ndarray, y_pred: np.ndarray,
           weights: np.ndarray | None) -> float:
    try:
        return float(score(y_true, y_pred, weights))
    except UndefinedScore:
        return float("nan")


def bootstrap_difference(score: BaseScore, y_true: np.ndarray, pred_a: np.ndarray,
                         pred_b: np.ndarray, weights: np.ndarray | None = None,
                         n_bootstrap: int = 1000, confidence: float = 0.95,
                         random_state: int | np.random.Generator | None = 0
                         ) -> BootstrapResult:
    """Percentile bootstrap interval of ``score(b) - score(a)``, rows resampled with replacement.

    Parameters
    ----------
    score
        A score of the problem (called as in a run: ``score(y_true, y_pred, weights)``).
    y_true
        Encoded targets of the rows (e.g. the test set).
    pred_a, pred_b
        Two predictions of the same rows (e.g. two runs' bagged test predictions).
    weights
        Per-sample weights of the rows, for scores that need them.
    n_bootstrap
        Number of resamples; each draws ``len(y_true)`` rows with replacement,
        the same rows for ``a`` and ``b``.
    confidence
        Coverage of the interval (0.95: the 2.5 % and 97.5 % percentiles).
    random_state
        Seed (or generator) of the resampling.
    """
    return bootstrap_differences(score, y_true, pred_a, [pred_b], weights, n_bootstrap,
                                 confidence, random_state)[0]


def bootstrap_differences(score: BaseScore, y_true: np.ndarray, reference: np.ndarray,
                          others: Sequence[np.ndarray], weights: np.ndarray | None = None,
                          n_bootstrap: int = 1000, confidence: float = 0.95,
                          random_state: int | np.random.Generator | None = 0
                          ) -> list[BootstrapResult]:
    """:func:`bootstrap_difference` of each of ``others`` against ``reference``, same resamples.

    The reference is scored once per resample; with the same ``random_state``
    the result for each of ``others`` equals :func:`bootstrap_difference`'s.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"0 < confidence < 1 must hold, got {confidence}")
    rng = np.random.default_rng(random_state)
    n = len(y_true)
    base = _score(score, y_true, reference, weights)
    observed = [_score(score, y_true, pred, weights) - base for pred in others]
    differences: list[list[float]] = [[] for _ in others]
    for _ in range(n_bootstrap):
        rows = rng.integers(0, n, size=n)
        w = None if weights is None else weights[rows]
        truth = y_true[rows]
        ref = _score(score, truth, reference[rows], w)
        for found, pred in zip(differences, others, strict=True):
            diff = _score(score, truth, pred[rows], w) - ref
            if np.isfinite(diff):
                found.append(diff)
    tail = (1.0 - confidence) / 2.0 * 100.0
    results = []
    for value, found in zip(observed, differences, strict=True):
        low, high = np.percentile(found, [tail, 100.0 - tail]) if found else (np.nan, np.nan)
        results.append(BootstrapResult(value, float(low), float(high), confidence, len(found)))
    return results
