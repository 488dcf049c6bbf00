"""Weighted scores: per-sample weights from a data column that is not a feature.

Every score here is a :class:`~rampconf.scores.BaseWeightedScore`: it gets
``y_true`` (label indices, as ``multiclass`` encodes them), ``y_pred`` (class
probabilities of shape ``(n, k)`` whose columns follow the problem's labels)
and the per-sample ``weights`` of the rows scored, which the engine takes
from the data (the ``weighted_csv`` reader's weight column). Binary scores
take label index 1 as the positive class (the signal) and ``y_pred[:, 1]`` as
its probability.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field
from sklearn import metrics

from rampconf.plugin import StrictModel
from rampconf.scores import BaseWeightedScore, UndefinedScore

__all__ = ["AMS", "AMSParams", "WeightedAccuracy", "WeightedROCAUC", "ams"]


def ams(s: float, b: float, br: float = 10.0) -> float:
    """Approximate median significance ``sqrt(2 ((s + b + br) ln(1 + s / (b + br)) - s))``.

    ``s`` and ``b`` are the selected signal and background weights, ``br`` the
    regularisation term (10 in the Higgs challenge). 0 when ``s`` is 0; infinite when
    ``b + br`` is 0 and ``s`` is not (its limit).
    """
    if s < 0 or b < 0 or br < 0:
        raise ValueError(f"s, b and br must be >= 0, got {s}, {b}, {br}")
    if s == 0:
        return 0.0
    if b + br == 0:
        return float(np.inf)  # the limit of the AMS as b + br -> 0 (what br is there to avoid)
    radicand = 2.0 * ((s + b + br) * np.log1p(s / (b + br)) - s)
    return float(np.sqrt(max(radicand, 0.0)))


class AMSParams(StrictModel):
    """Parameters of the ``ams`` score."""

    br: float = Field(10.0, ge=0, description="regularisation term added to the selected "
                                              "background weight b (10 in the Higgs challenge)")
    threshold: float = Field(0.5, ge=0, le=1, description="an event is selected when its "
                                                          "predicted signal probability is "
                                                          "above this")


class AMS(BaseWeightedScore[AMSParams]):
    """Approximate median significance of the Higgs challenge (weighted, binary).

    The weights are the data's per-sample (event) weights, a column that is
    neither feature nor target. Events whose predicted signal
    probability ``y_pred[:, 1]`` is above ``threshold`` are selected;
    ``s`` is the total weight of selected true signal (label index 1), ``b``
    that of selected background (label index 0), and
    ``AMS = sqrt(2 ((s + b + br) ln(1 + s / (b + br)) - s))``. In [0, inf),
    greater is better.

    The AMS is computed on the weights as given: on a fold's valid rows the
    totals are those of that subset (the Higgs challenge renormalised weights
    to the full set's totals; rescale the weights in the data to do so).
    """

    minimum: ClassVar[float] = 0.0
    default_precision: ClassVar[int] = 3

    def score_weighted(self, y_true: np.ndarray, y_pred: np.ndarray,
                       weights: np.ndarray) -> float:
        labels = np.asarray(y_true)
        y_pred = np.asarray(y_pred, dtype=float)
        if y_pred.ndim != 2 or y_pred.shape[1] != 2:
            raise ValueError(f"the AMS needs (background, signal) probabilities of shape "
                             f"(n, 2), got shape {y_pred.shape}")
        selected = y_pred[:, 1] > self.params.threshold
        s = float(weights[selected & (labels == 1)].sum())
        b = float(weights[selected & (labels == 0)].sum())
        return ams(s, b, self.params.br)


class WeightedAccuracy(BaseWeightedScore):
    """Weighted accuracy: the weight share of samples whose predicted label is the true one.

    As ``accuracy_score(y_true, argmax(y_pred), sample_weight=weights)``, the
    weights coming from a data column that is not a feature. In [0, 1],
    greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_weighted(self, y_true: np.ndarray, y_pred: np.ndarray,
                       weights: np.ndarray) -> float:
        if not weights.sum() > 0:
            raise UndefinedScore("the rows scored weigh 0 in all")
        predicted = np.argmax(np.asarray(y_pred, dtype=float), axis=1)
        return float(metrics.accuracy_score(y_true, predicted, sample_weight=weights))


class WeightedROCAUC(BaseWeightedScore):
    """Weighted area under the ROC curve, with the data's per-sample weights.

    Binary: ``roc_auc_score(y_true == 1, y_pred[:, 1], sample_weight=weights)``;
    more labels: the macro average of one-vs-rest AUCs with the same weights.
    Undefined with one label among the true values. In [0, 1], greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_weighted(self, y_true: np.ndarray, y_pred: np.ndarray,
                       weights: np.ndarray) -> float:
        labels = np.asarray(y_true)
        y_pred = np.asarray(y_pred, dtype=float)
        if y_pred.ndim == 2 and y_pred.shape[1] == 2:
            if len(np.unique(labels)) < 2:
                raise UndefinedScore("only one label among the true values")
            return float(metrics.roc_auc_score(labels == 1, y_pred[:, 1],
                                               sample_weight=weights))
        one_hot = np.eye(y_pred.shape[1])[labels]
        if not (one_hot.any(axis=0) & ~one_hot.all(axis=0)).all():
            raise UndefinedScore("a label is never or always the true value (its one-vs-rest "
                                 "AUC is undefined)")
        return float(metrics.roc_auc_score(one_hot, y_pred, average="macro",
                                           sample_weight=weights))
