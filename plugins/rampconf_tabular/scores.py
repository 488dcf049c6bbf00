"""Tabular score types: the classification and regression scores of RAMP.

Every score reproduces ramp-workflow 0.7.0 number for number (checked against
``reference/score_vectors.json`` of the shared kits) unless its docstring says
otherwise. Conventions of the arrays that :meth:`BaseScore.score` receives:

* classification: ``y_true`` holds label indices ``0..k-1`` (1-D int) and
  ``y_pred`` class probabilities of shape ``(n, k)``. A predicted label is
  ``argmax(y_pred, axis=1)`` (ties go to the first label). Binary scores take
  label 1 as the positive class and column 1 as its probability.
* regression: ``y_true`` and ``y_pred`` are float arrays of the same shape,
  ``(n,)`` or ``(n, k)``; scores run over all values.

A score with no value on some arrays raises
:class:`~rampconf.scores.UndefinedScore` (recorded as NaN with the reason):
where ramp-workflow gives NaN (ROC AUC or Gini with one label present, a
normalised RMSE of a constant target predicted exactly, ...) or fails (the
Brier skill score with one label present). Where it gives an infinite value
(a normalised RMSE of a constant target with errors), so do we.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import numpy as np
import sklearn
from pydantic import Field, FiniteFloat, field_validator
from scipy.stats import rankdata
from sklearn import metrics
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from rampconf.compat import compat_default
from rampconf.plugin import StrictModel
from rampconf.scores import BaseScore, UndefinedScore

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction

__all__ = [
    "MARE",
    "RMSE",
    "ROCAUC",
    "Accuracy",
    "BalancedAccuracy",
    "BinParams",
    "BrierScore",
    "BrierScoreReliability",
    "BrierScoreResolution",
    "BrierSkillScore",
    "ClassificationError",
    "F1Above",
    "F1AboveParams",
    "MacroAveragedRecall",
    "NegativeLogLikelihood",
    "NormalizedGini",
    "NormalizedRMSE",
    "RelativeRMSE",
    "ReliabilityParams",
    "SklearnScorer",
    "SklearnScorerParams",
    "SoftAccuracy",
    "SoftAccuracyParams",
]

#: Lower clip of probabilities in the log-likelihood: float64 machine epsilon
#: (what scikit-learn's ``log_loss``, which ramp-workflow calls, clips to).
EPS = float(np.finfo(np.float64).eps)
#: ramp-workflow's Brier bin edges: 0, 0.1, ..., 1.0, 1.1 (``np.arange(0, 1.2, 0.1)``).
RAMP_BRIER_EDGES = np.arange(0, 1.2, 0.1)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``, ties sharing their average rank (``scipy.stats.rankdata``).

    The same numbers as SciPy's (half-integers, exact), without its generic
    machinery, which cost more than the rest of a small score. NaN: SciPy's.
    """
    if np.isnan(values).any():
        return rankdata(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    bounds = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(0.5 * (bounds[1:] + bounds[:-1] + 1), np.diff(bounds))
    return ranks


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]``: bins ``[e_i, e_i+1)``, the last one closed.

    The same counts (one comparison per value against the sorted edges), without
    NumPy's sort of the values; values outside the edges or NaN are not counted.
    """
    index = np.searchsorted(edges, values, side="right") - 1
    n_bins = len(edges) - 1
    index[values == edges[-1]] = n_bins - 1
    return np.bincount(index[(index >= 0) & (index < n_bins)], minlength=n_bins)


def _labels(y_pred: np.ndarray) -> np.ndarray:
    """Predicted label indices: the column of the highest probability (first on ties)."""
    return np.argmax(np.asarray(y_pred), axis=1)


ONE_LABEL = "only one label among the true values"


def _divide(numerator: float, denominator: float, why: str) -> float:
    """``numerator / denominator`` as NumPy gives it (±inf over 0), but 0 / 0 is undefined."""
    if denominator == 0:
        if numerator == 0 or numerator != numerator:
            raise UndefinedScore(why)
        return float(np.copysign(np.inf, numerator) * np.copysign(1.0, denominator))
    return float(numerator / denominator)


def _binary(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true == 1 as 0/1 floats, probability of label 1)`` of a binary problem."""
    y_pred = np.asarray(y_pred, dtype=float)
    if y_pred.ndim != 2 or y_pred.shape[1] != 2:
        raise ValueError(f"a binary score needs probabilities of shape (n, 2), "
                         f"got shape {y_pred.shape}")
    return (np.asarray(y_true) == 1).astype(float), y_pred[:, 1]


def _label_counts(y_true: np.ndarray, y_pred: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per label: true positives, true count, predicted count, and whether it occurs.

    One ``bincount`` of the confusion matrix; scikit-learn's label metrics give
    the same numbers but validate their inputs at length, which dominated the
    cost of scoring every fold and every point of the bagging curve.
    """
    k = np.asarray(y_pred).shape[1]
    confusion = np.bincount(np.asarray(y_true) * k + _labels(y_pred),
                            minlength=k * k).reshape(k, k)
    n_true, n_pred = confusion.sum(axis=1), confusion.sum(axis=0)
    return np.diag(confusion), n_true, n_pred, (n_true > 0) | (n_pred > 0)


# --------------------------------------------------------------------------- labels


class Accuracy(BaseScore):
    """Accuracy: the fraction of samples whose predicted label is the true label.

    As ``accuracy_score(y_true, argmax(y_pred))``; in [0, 1], greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.mean(_labels(y_pred) == np.asarray(y_true)))


class ClassificationError(Accuracy):
    """Classification error: ``1 - accuracy``; in [0, 1], lower is better."""

    greater_is_better: ClassVar[bool] = False

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return 1.0 - super().score(y_true, y_pred)


class MacroAveragedRecall(Accuracy):
    """Macro-averaged recall: the mean over labels of each label's recall.

    As ``recall_score(y_true, argmax(y_pred), average="macro")``: the labels are
    those present in ``y_true`` or in the predicted labels (a label that is
    predicted but never true has recall 0). In [0, 1], greater is better.
    """

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        tp, n_true, _, present = _label_counts(y_true, y_pred)
        recall = np.divide(tp, n_true, out=np.zeros(len(tp)), where=n_true > 0)
        return float(np.mean(recall[present]))


class BalancedAccuracy(Accuracy):
    """Balanced accuracy adjusted for chance, as ramp-workflow computes it.

    As ``balanced_accuracy_score(y_true, argmax(y_pred), adjusted=True)``:
    ``(r - 1/k) / (1 - 1/k)`` with ``r`` the mean recall over the ``k`` labels
    present in ``y_true`` (so 0 is chance level and 1 perfect). When every
    predicted label also occurs in ``y_true``, ``r`` is the macro-averaged recall.
    In [1/(1-k), 1] (so at worst -1, for two labels), greater is better.
    """

    minimum: ClassVar[float] = -1.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        tp, n_true, _, _ = _label_counts(y_true, y_pred)
        recall = tp[n_true > 0] / n_true[n_true > 0]
        chance = 1.0 / len(recall)
        # One label present: chance is 1; ramp-workflow gives -inf, or NaN when all are right.
        return _divide(float(np.mean(recall) - chance), 1.0 - chance,
                       f"{ONE_LABEL}: no chance level to adjust for")


class F1AboveParams(StrictModel):
    """Parameters of the ``f1_above`` score."""

    threshold: float = Field(0.5, ge=0.0, le=1.0,
                             description="a label counts when its F1 score is above this value")


class F1Above(BaseScore[F1AboveParams]):
    """Fraction of labels whose F1 score is strictly above a threshold.

    As ``mean(f1_score(y_true, argmax(y_pred), average=None) > threshold)``, over
    the labels present in ``y_true`` or predicted. In [0, 1], greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        tp, n_true, n_pred, present = _label_counts(y_true, y_pred)
        f1 = 2.0 * tp[present] / (n_true[present] + n_pred[present])
        return float(np.mean(f1 > self.params.threshold))


# --------------------------------------------------------------------------- probabilities


class NegativeLogLikelihood(BaseScore):
    """Negative log-likelihood of the true labels (log loss), as scikit-learn's ``log_loss``.

    The probabilities are clipped to ``[eps, 1 - eps]`` with ``eps`` the
    float64 machine epsilon (2.2e-16) and rows are *not* renormalised (what
    scikit-learn's ``log_loss``, which ramp-workflow calls, does); the score
    is the mean of ``-log p[i, y_true[i]]``. A true label predicted with
    probability 0 thus costs ``-log(2.2e-16) = 36.04``, also in a row of
    zeros. In [0, inf), lower is better.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        proba = np.asarray(y_pred, dtype=float)[np.arange(len(y_true)), y_true]
        return float(-np.mean(np.log(np.clip(proba, EPS, 1.0 - EPS))))


class ROCAUC(BaseScore):
    """Area under the ROC curve.

    Binary: as ``roc_auc_score(y_true == 1, y_pred[:, 1])``, computed as the
    Mann-Whitney statistic of the ranks (ties count one half). With more than two
    labels: the macro average over labels of the one-vs-rest AUC of each
    probability column (what ramp-workflow's one-hot call computes). In [0, 1],
    greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        y_pred = np.asarray(y_pred, dtype=float)
        if y_pred.shape[1] == 2:
            positive, proba = _binary(y_true, y_pred)
            n_pos = positive.sum()
            n_neg = len(positive) - n_pos
            if n_pos == 0 or n_neg == 0:
                raise UndefinedScore(ONE_LABEL)
            # Mann-Whitney U: the trapezoidal ROC area, ties counted one half.
            ranks = _average_ranks(proba)
            return float((ranks[positive == 1].sum() - n_pos * (n_pos + 1) / 2)
                         / (n_pos * n_neg))
        one_hot = np.eye(y_pred.shape[1])[y_true]
        if not (one_hot.any(axis=0) & ~one_hot.all(axis=0)).all():
            raise UndefinedScore("a label is never or always the true value (its one-vs-rest "
                                 "AUC is undefined)")
        return float(metrics.roc_auc_score(one_hot, y_pred, average="macro"))


def _gini(values: np.ndarray, ranking: np.ndarray) -> float:
    """Gini of ``values`` ordered by decreasing ``ranking`` (ties kept in row order)."""
    ordered = np.asarray(values, dtype=float)[np.argsort(-ranking, kind="stable")]
    cumulated = np.cumsum(ordered)
    n = len(ordered)
    if cumulated[-1] == 0:
        raise UndefinedScore("no true value is label 1 or above (the Gini's total is 0)")
    return float((cumulated.sum() / cumulated[-1] - (n + 1) / 2) / n)


class NormalizedGini(BaseScore):
    """Normalised Gini coefficient, as ramp-workflow computes it.

    The samples are sorted by decreasing ``y_pred[:, 1]``, ties kept in row
    order (a stable sort); with ``c`` the cumulative sums of the sorted
    ``y_true`` (label indices, as numbers), ``gini = (sum(c) / c[-1] - (n+1)/2) / n``;
    the score is that Gini divided by the Gini of ``y_true`` sorted by itself.
    Binary: the Gini of the positive label ranked by its probability
    (``2 * AUC - 1`` without ties). With more labels ramp-workflow still ranks
    by column 1 and weighs by the label *index*; kept for parity.
    In [-1, 1], greater is better.
    """

    minimum: ClassVar[float] = -1.0
    maximum: ClassVar[float] = 1.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        truth = np.asarray(y_true, dtype=float)
        # One label present (or one row): the Gini of the truth itself is 0.
        return _divide(_gini(truth, np.asarray(y_pred, dtype=float)[:, 1]), _gini(truth, truth),
                       ONE_LABEL if len(truth) > 1 else "a single row")


class SoftAccuracyParams(StrictModel):
    """Parameters of the ``soft_accuracy`` score."""

    score_matrix: tuple[tuple[FiniteFloat, ...], ...] | None = Field(
        None, description="square matrix: score_matrix[t][p] is the credit for predicting "
                          "label p when the truth is t (label order); null: the identity")

    @field_validator("score_matrix")
    @classmethod
    def _square(cls, value: tuple[tuple[float, ...], ...] | None) -> Any:
        if value is not None:
            widths = sorted({len(row) for row in value})
            if not value or widths != [len(value)]:
                raise ValueError(f"must be a non-empty square matrix, got {len(value)} "
                                 f"rows of lengths {widths}")
        return value


class SoftAccuracy(BaseScore[SoftAccuracyParams]):
    """Soft accuracy: accuracy with partial credit for near-misses.

    Probabilities are clipped to [0, 1] and each row divided by its sum
    (``q``); the score is ``mean_i sum_j score_matrix[y_true[i], j] * q[i, j]``,
    where a row of zeros scores 0 (as ramp-workflow).
    With the identity matrix it is the mean probability of the true label.
    Greater is better; bounds are the smallest and largest matrix entries
    (instance attributes ``minimum``/``maximum``; [0, 1] for the class).
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def __init__(self, params: SoftAccuracyParams | None = None, *, name: str | None = None,
                 precision: int | None = None) -> None:
        super().__init__(params, name=name, precision=precision)
        if self.params.score_matrix is not None:
            entries = np.asarray(self.params.score_matrix, dtype=float)
            self.minimum, self.maximum = float(entries.min()), float(entries.max())  # type: ignore[misc]

    def check_prediction(self, prediction: BasePrediction) -> None:
        """The matrix is sized to the problem's labels (one row and column per label)."""
        labels = getattr(prediction, "labels", None)
        matrix = self.params.score_matrix
        if matrix is not None and labels is not None and len(matrix) != len(labels):
            raise ValueError(f"score_matrix is {len(matrix)}x{len(matrix)} but the problem has "
                             f"{len(labels)} labels {list(labels)}; give one row and one column "
                             "per label, in the labels' order")

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        proba = np.clip(np.asarray(y_pred, dtype=float), 0.0, 1.0)
        total = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, total, out=np.zeros_like(proba), where=total > 0)
        k = proba.shape[1]
        matrix = np.eye(k) if self.params.score_matrix is None else np.asarray(
            self.params.score_matrix, dtype=float)
        if matrix.shape != (k, k):
            raise ValueError(f"score_matrix is {matrix.shape[0]}x{matrix.shape[0]} but the "
                             f"predictions have {k} labels")
        return float(np.mean(np.sum(matrix[y_true] * proba, axis=1)))


# --------------------------------------------------------------------------- Brier


class BrierScore(BaseScore):
    """Brier score of a binary problem: ``mean((y_pred[:, 1] - (y_true == 1))**2)``.

    As scikit-learn's ``brier_score_loss`` on the probability of label 1. In
    [0, 1], lower is better.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0
    default_precision: ClassVar[int] = 3

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        positive, proba = _binary(y_true, y_pred)
        return float(np.mean((proba - positive) ** 2))


class BrierSkillScore(BrierScore):
    """Brier skill score: ``1 - BS / BS_ref``, binary.

    ``BS_ref = mean((o - mean(o))**2)`` is the Brier score of always
    forecasting the climatology ``mean(o)`` (``o = y_true == 1``). In
    (-inf, 1] (ramp-workflow declares -1 as minimum, which is not a bound),
    greater is better; 0 is no better than climatology. Undefined with one
    label present (``BS_ref = 0``; ramp-workflow raises there).
    """

    greater_is_better: ClassVar[bool] = True
    minimum: ClassVar[float] = -np.inf

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        observed, _ = _binary(y_true, y_pred)
        reference = np.mean((observed - observed.mean()) ** 2)
        if reference == 0:
            raise UndefinedScore(f"{ONE_LABEL} (the climatology's Brier score is 0)")
        return 1.0 - super().score(y_true, y_pred) / float(reference)


class BinParams(StrictModel):
    """Parameters of the ``brier_score_resolution`` score: the bins of the forecasts."""

    bins: Annotated[int, Field(ge=1)] | tuple[FiniteFloat, ...] | None = Field(
        None, description="null: ramp-workflow's edges 0, 0.1, ..., 1.0, 1.1 (eleven bins); "
                          "an int m: m equal bins on [0, 1]; a list: the increasing bin edges")

    @field_validator("bins")
    @classmethod
    def _increasing(cls, value: int | tuple[float, ...] | None) -> Any:
        if isinstance(value, tuple) and (len(value) < 2 or np.any(np.diff(value) <= 0)):
            raise ValueError(f"bin edges must be at least two increasing numbers, got {value}")
        return value


class ReliabilityParams(BinParams):
    """Parameters of the ``brier_score_reliability`` score."""

    ramp_bin_centres: bool = Field(
        False, description="reproduce ramp-workflow's number: it takes f_k = 0.05 * bin width "
                           "(0.005 for each of its bins) instead of the midpoint, a bug",
        json_schema_extra=compat_default(ramp=True))


_BinParamsT = TypeVar("_BinParamsT", bound=BinParams)


class _BinnedBrier(BaseScore[_BinParamsT]):
    """Shared binning of the Brier decomposition (the bins of ``np.histogram``, counted
    by :func:`_histogram`)."""

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0
    default_precision: ClassVar[int] = 3

    def edges(self) -> np.ndarray:
        bins = self.params.bins
        if bins is None:
            return RAMP_BRIER_EDGES
        return np.linspace(0.0, 1.0, bins + 1) if isinstance(bins, int) else np.asarray(bins)

    def binned(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, ...]:
        """(observed 0/1, sample count and observed frequency of each non-empty bin)."""
        observed, forecast = _binary(y_true, y_pred)
        edges = self.edges()
        counts = _histogram(forecast, edges)
        positives = _histogram(forecast[observed == 1], edges)
        filled = counts > 0
        return observed, filled, counts[filled], positives[filled] / counts[filled]


class BrierScoreReliability(_BinnedBrier[ReliabilityParams]):
    """Reliability term of the Brier score decomposition (binary).

    The probabilities of label 1 are binned (``np.histogram``: bins closed on
    the left, the last one closed on both sides); with ``n_k`` forecasts in bin
    ``k``, ``o_k`` the fraction of them whose label is 1 and ``f_k`` the bin's
    forecast value, ``REL = sum_k n_k (f_k - o_k)**2 / n`` over non-empty bins.
    By default ``f_k`` is the bin's midpoint clipped to [0, 1] (so the
    default last bin [1, 1.1], which only holds forecasts equal to 1, has
    ``f_k = 1``). In [0, 1], lower is better.
    """

    greater_is_better: ClassVar[bool] = False

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        observed, filled, counts, frequency = self.binned(y_true, y_pred)
        edges = self.edges()
        centres = 0.05 * np.diff(edges) if self.params.ramp_bin_centres else (
            (edges[:-1] + edges[1:]) / 2)
        centres = np.clip(centres, 0.0, 1.0)[filled]
        return float(np.sum(counts * (centres - frequency) ** 2) / len(observed))


class BrierScoreResolution(_BinnedBrier[BinParams]):
    """Resolution term of the Brier score decomposition, over the uncertainty (binary).

    With the bins, ``n_k`` and ``o_k`` of :class:`BrierScoreReliability` and
    ``o = mean(y_true == 1)``: ``RES = sum_k n_k (o_k - o)**2 / n`` divided by
    the uncertainty ``o (1 - o)``, as ramp-workflow does. In [0, 1], greater
    is better.
    """

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        observed, _, counts, frequency = self.binned(y_true, y_pred)
        climatology = observed.mean()
        resolution = np.sum(counts * (frequency - climatology) ** 2) / len(observed)
        return _divide(float(resolution), float(climatology * (1.0 - climatology)),
                       f"{ONE_LABEL} (the uncertainty is 0)")


# --------------------------------------------------------------------------- regression


def _errors(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(y_true, dtype=float)
    return truth, truth - np.asarray(y_pred, dtype=float)


def _ratios(error: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``error / truth`` elementwise as NumPy divides (±inf, NaN for 0 / 0), quietly."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return error / truth


def _relative(value: float) -> float:
    if np.isnan(value):
        raise UndefinedScore("a true value is 0 and predicted exactly (0 / 0)")
    return float(value)


class RMSE(BaseScore):
    """Root mean squared error over all values: ``sqrt(mean((y_true - y_pred)**2))``.

    In [0, inf), lower is better.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.sqrt(np.mean(_errors(y_true, y_pred)[1] ** 2)))


class NormalizedRMSE(RMSE):
    """RMSE divided by the (population, ``ddof=0``) standard deviation of ``y_true``.

    In [0, inf), lower is better; 1 is the RMSE of predicting the mean. A
    constant target gives inf (undefined when predicted exactly).
    """

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return _divide(super().score(y_true, y_pred),
                       float(np.std(np.asarray(y_true, dtype=float))),
                       "the true values are constant and predicted exactly (0 / 0)")


class RelativeRMSE(RMSE):
    """Relative RMSE: ``sqrt(mean(((y_true - y_pred) / y_true)**2))``.

    In [0, inf), lower is better; inf when a true value is 0 and its
    prediction is not, undefined when a true 0 is predicted exactly.
    """

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        truth, error = _errors(y_true, y_pred)
        return _relative(np.sqrt(np.mean(_ratios(error, truth) ** 2)))


class MARE(RMSE):
    """Mean absolute relative error: ``mean(|y_true - y_pred| / |y_true|)``.

    In [0, inf), lower is better; inf and undefined as :class:`RelativeRMSE`.
    """

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        truth, error = _errors(y_true, y_pred)
        return _relative(np.mean(np.abs(_ratios(error, truth))))


# --------------------------------------------------------------------------- scikit-learn


class _GivenPredictions(RegressorMixin, BaseEstimator):
    """A fitted estimator whose ``predict`` returns predictions computed beforehand.

    How a scikit-learn scorer is called through its public API
    (``scorer(estimator, X, y_true)``) on predictions a fold already made.
    """

    def __init__(self, y_pred: np.ndarray) -> None:
        self.y_pred = y_pred

    def predict(self, X: Any) -> np.ndarray:
        return self.y_pred


class _GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A fitted classifier of the labels ``0..k-1`` whose probabilities are given."""

    def __init__(self, y_pred: np.ndarray) -> None:
        self.y_pred = y_pred
        self.classes_ = np.arange(y_pred.shape[1])

    def predict(self, X: Any) -> np.ndarray:
        return _labels(self.y_pred)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.y_pred

    def decision_function(self, X: Any) -> np.ndarray:
        # Binary: one column, the positive label's, as scikit-learn's classifiers return.
        return self.y_pred[:, 1] if self.y_pred.shape[1] == 2 else self.y_pred


def _score_with(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The value of the scikit-learn scorer ``name`` (sign included) on given predictions."""
    scorer = metrics.get_scorer(name)
    if not (y_true.ndim == 1 and y_pred.ndim == 2):
        try:
            return float(scorer(_GivenPredictions(y_pred), y_pred, y_true))
        except AttributeError:  # the scorer asked for predict_proba / decision_function
            raise ValueError(
                f"the scikit-learn scorer {name!r} needs class probabilities (y_true of labels, "
                f"y_pred of shape (n, k)), got y_true of shape {y_true.shape} and y_pred of "
                f"shape {y_pred.shape}") from None
    estimator = _GivenProbabilities(y_pred)
    if set(np.unique(y_true).tolist()) >= set(range(y_pred.shape[1])):
        return float(scorer(estimator, y_pred, y_true))
    # A label absent from y_true: a metric that infers the labels from y_true would
    # miscount the probability columns, so labels=range(k) is passed (as metadata,
    # scikit-learn's public way), unless the metric takes no labels.
    with sklearn.config_context(enable_metadata_routing=True):
        try:
            return float(scorer(estimator, y_pred, y_true, labels=estimator.classes_))
        except TypeError as exc:
            if "labels" not in str(exc):
                raise
    return float(scorer(estimator, y_pred, y_true))


class SklearnScorerParams(StrictModel):
    """Parameters of the ``sklearn`` score."""

    scorer: str = Field(description="a name of sklearn.metrics.get_scorer_names(), e.g. r2, "
                                    "f1_macro, neg_mean_absolute_error")

    @field_validator("scorer")
    @classmethod
    def _known(cls, value: str) -> str:
        names = metrics.get_scorer_names()
        if value not in names:
            close = difflib.get_close_matches(value, names, n=5, cutoff=0.6)
            hint = f"close names: {', '.join(close)}" if close else "no close name"
            raise ValueError(f"unknown scikit-learn scorer {value!r} ({hint}; all names: "
                             "sklearn.metrics.get_scorer_names())")
        return value


class SklearnScorer(BaseScore[SklearnScorerParams]):
    """Any scorer of scikit-learn's registry, by name (``r2``, ``f1_macro``, ...).

    The scorer is called through scikit-learn's public API on an estimator
    that returns the fold's predictions. Classification (``y_true`` 1-D and
    ``y_pred`` 2-D): a classifier of the labels ``0..k-1`` whose ``predict``
    gives ``argmax(y_pred)`` and whose ``predict_proba`` gives the
    probabilities (column 1 reaches the metric when there are two labels, as
    scikit-learn does); when a label is absent from ``y_true``, the metric
    gets ``labels=range(k)`` if it takes ``labels``. Otherwise (regression)
    ``predict`` gives ``y_pred`` as it is.

    A ``neg_*`` scorer (a loss) reports the positive metric (the MAE for
    ``neg_mean_absolute_error``) and its instance attributes say
    ``greater_is_better = False`` and ``minimum = 0``; other scorers keep the
    class attributes (greater is better, unbounded). Problems set the display
    ``name``; without one it is the metric's name.
    """

    def __init__(self, params: SklearnScorerParams | None = None, *, name: str | None = None,
                 precision: int | None = None) -> None:
        super().__init__(params, name=name, precision=precision)
        scorer = self.params.scorer
        if name is None:
            self.name = scorer.removeprefix("neg_")
        if scorer.startswith("neg_"):  # scikit-learn's name of a loss (a negated score)
            self.greater_is_better = False  # type: ignore[misc]
            self.minimum = 0.0  # type: ignore[misc]

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        value = _score_with(self.params.scorer, np.asarray(y_true), np.asarray(y_pred))
        return -value if self.params.scorer.startswith("neg_") else value
