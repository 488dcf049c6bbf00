"""Object-detection score types: the circle scores of RAMP's Mars craters challenge.

Every score reproduces ramp-workflow 0.7.0 number for number (checked against
``reference/score_vectors.json`` of the shared kits). Conventions:

* ``y_true``: one element per image, a ``(k, 3)`` array of ``(row, col, radius)``;
  ``y_pred``: one element per image, a ``(m, 4)`` array of ``(confidence, row,
  col, radius)``. Lists of tuples are accepted too; an image may have none.
* A detection counts when its confidence is *strictly* above ``conf_threshold``
  (every score but ``AveragePrecision``, which ranks all detections).
* ``minipatch = [row_min, row_max, col_min, col_max]`` is the scoring window: a
  circle is in it when its centre is in ``[row_min, row_max) x [col_min, col_max)``.
  Circles outside it still take part in the matching where RAMP lets them (see
  each score). ``None`` scores the whole image.
* Matching is one-to-one per image, maximising the summed IoU
  (``scipy.optimize.linear_sum_assignment``). The IoU is the exact one by
  default (the area of the lens of two circles, ``iou_formula: exact``);
  ``iou_formula: ramp`` is ramp-workflow's formula, which inflates partial
  overlaps (see :data:`~rampconf_detection.geometry.IoUFormula`). When IoUs tie
  exactly, ``ties: ramp`` picks the same optimal matching as ramp-workflow
  (:data:`~rampconf_detection.geometry.TieBreak`). ``compat=ramp`` selects both.
* The scores of one set of predictions share their pairs of overlapping circles
  and their matchings (:mod:`rampconf_detection.shared`): the eleven scores of
  the Mars craters kit compute three matchings, not nine.
* A ratio whose denominator is empty (no detection for precision, no true
  circle for recall, no match for the MADs, ...) is undefined, as in RAMP:
  recorded as NaN with the reason
  (:class:`~rampconf.scores.UndefinedScore`).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from rampconf.plugin import StrictModel
from rampconf.scores import UndefinedScore
from rampconf_detection.base import (
    IOU_FORMULA,
    RAMP_IOU,
    TIES,
    DetectionScore,
    Fraction,
    IoUParams,
    ThresholdParams,
    _ratio,
    _ThresholdScore,
)
from rampconf_detection.geometry import Flat, IoUFormula, TieBreak, in_window
from rampconf_detection.scp import SCP, SCPParams
from rampconf_detection.shared import shared

__all__ = [
    "OSPA",
    "SCP",
    "AveragePrecision",
    "AveragePrecisionParams",
    "DetectionPrecision",
    "DetectionRecall",
    "IoUParams",
    "MADCenter",
    "MADRadius",
    "OSPAParams",
    "SCPParams",
    "ThresholdParams",
]


class AveragePrecisionParams(StrictModel):
    """Parameters of the ``average_precision`` score."""

    iou_threshold: Fraction = Field(0.5, description="a hit needs an IoU strictly above this "
                                                     "value")
    iou_formula: IoUFormula = Field("exact", description=IOU_FORMULA,
                                    json_schema_extra=RAMP_IOU)


class AveragePrecision(DetectionScore[AveragePrecisionParams]):
    """Average precision: the area under the precision-recall curve of the ranked detections.

    All detections of all images are ranked by decreasing confidence (the order
    of ``argsort(confidence)[::-1]``). Walking down the ranking, a detection is a
    hit when the true circle of its image with the highest IoU has IoU above
    ``iou_threshold`` and no earlier hit took it (greedy, not an optimal
    matching). Precision and recall after each detection give the curve; the
    score is the exact (all-point interpolated, VOC 2010+) area
    ``sum((r[i+1] - r[i]) * max(p[i+1:]))`` with sentinels ``(0, 0)`` and ``(1, 0)``.
    No confidence threshold and no scoring window. 0 without any detection,
    undefined (NaN) without any true circle. In [0, 1], greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score(self, y_true: Any, y_pred: Any) -> float:
        true, pred, confidence = self.split(y_true, y_pred)
        if len(confidence) == 0:
            return 0.0
        if len(true.values) == 0:
            raise UndefinedScore("no true circle in any image")
        # Nearby (true, detection) pairs, sorted by true circle: every other true circle
        # has IoU 0 with the detection.
        t, p, iou = shared(true, pred, self.params.iou_formula).pairs()
        best_iou = np.zeros(len(confidence))
        best_true = np.full(len(confidence), -1, dtype=np.intp)
        if len(p):
            np.maximum.at(best_iou, p, iou)
            # The first true circle that reaches the maximum, as np.argmax: the lowest.
            at_max = np.flatnonzero(iou == best_iou[p])
            lowest = np.full(len(confidence), len(true.values), dtype=np.intp)
            np.minimum.at(lowest, p[at_max], t[at_max])
            reached = lowest < len(true.values)
            best_true[reached] = lowest[reached]
        order = np.argsort(confidence)[::-1]
        hit = best_iou[order] > self.params.iou_threshold
        candidates = np.flatnonzero(hit)
        # The first candidate (in ranking order) of each true circle is a hit.
        claimed = best_true[order][candidates]
        first_claim = np.full(len(true.values), len(candidates), dtype=np.intp)
        np.minimum.at(first_claim, claimed, np.arange(len(candidates)))
        is_tp = np.zeros(len(order), dtype=bool)
        is_tp[candidates[first_claim[first_claim < len(candidates)]]] = True
        n_tp = np.cumsum(is_tp)
        precision = n_tp / np.arange(1, len(order) + 1)
        recall = n_tp / len(true.values)
        return average_precision(precision, recall)


def average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the precision envelope ``max(p[i:])`` as a step function of recall."""
    rec = np.concatenate(([0.0], recall, [1.0]))
    pre = np.concatenate(([0.0], precision, [0.0]))
    envelope = np.maximum.accumulate(pre[::-1])[::-1]
    steps = np.flatnonzero(rec[1:] != rec[:-1])
    return float(np.sum((rec[steps + 1] - rec[steps]) * envelope[steps + 1]))


class OSPAParams(ThresholdParams):
    """Parameters of the ``ospa`` score."""

    iou_formula: IoUFormula = Field("exact", description=IOU_FORMULA,
                                    json_schema_extra=RAMP_IOU)
    ties: TieBreak = Field("grouped", description=TIES, json_schema_extra=RAMP_IOU)


class OSPA(_ThresholdScore[OSPAParams]):
    """Optimal subpattern assignment distance with the IoU as similarity (RAMP's variant).

    The true circles and the detections of each image are matched optimally,
    all of them whatever their position. Each matched circle whose centre is in
    the scoring window contributes the IoU of its pair (a pair with both ends
    in the window counts twice); the score is ``1 - sum / n`` where ``n`` counts
    the true circles and detections in the window. Nothing in the window of any
    image gives 1 (RAMP's value). In [0, 1], lower is better.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        true_in = in_window(true.values, self.params.minipatch)
        pred_in = in_window(pred.values[kept], self.params.minipatch)
        n_total = int(true_in.sum() + pred_in.sum())
        if n_total == 0:
            return 1.0
        # Pairs of IoU 0 add nothing.
        t, p, iou = shared(true, pred, self.params.iou_formula).match(
            np.ones(len(true.values), dtype=bool), kept, keep_zero=False, ties=self.params.ties)
        similarity = np.sum(iou * true_in[t]) + np.sum(iou * pred_in[p])
        return float(1.0 - similarity / n_total)


class _Matched(_ThresholdScore[IoUParams]):
    """Base of the scores on the optimal matching of true circles and detections."""

    #: Which side the scoring window filters *before* the matching: "pred" or "true".
    window_side: ClassVar[str] = "true"

    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        true_kept = np.ones(len(true.values), dtype=bool)
        if self.window_side == "pred":
            kept = kept & in_window(pred.values, self.params.minipatch)
        else:
            true_kept = in_window(true.values, self.params.minipatch)
        t, p, iou = shared(true, pred, self.params.iou_formula).match(
            true_kept, kept, keep_zero=self.counts_zero_iou(), ties=self.params.ties)
        # Rows of the kept circles, not copies of them.
        true_rows, pred_rows = np.flatnonzero(true_kept), np.flatnonzero(kept)
        return self.score_matches(true.values, pred.values, true_rows[t], pred_rows[p], iou,
                                  len(true_rows), len(pred_rows))

    @abc.abstractmethod
    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        """The score of the matched pairs ``(true[t], pred[p])`` with IoU ``iou``.

        ``n_true`` true circles and ``n_pred`` detections were kept for the matching.
        """

    def counts_zero_iou(self) -> bool:
        """Whether matched pairs of IoU 0 can count (else the matching may omit them)."""
        return False


class DetectionPrecision(_Matched):
    """Precision: the fraction of detections that match a true circle.

    Detections outside the scoring window are dropped, then matched optimally to
    *all* true circles of their image; a matched pair is correct when its IoU is
    above ``iou_threshold``. The score is the number of correct pairs over the
    number of detections in the window (undefined without any). In [0, 1],
    greater is better.
    """

    window_side: ClassVar[str] = "pred"
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        return _ratio(int(np.count_nonzero(iou > self.params.iou_threshold)), n_pred,
                      "no detection above the confidence threshold in the scoring window")


class DetectionRecall(_Matched):
    """Recall: the fraction of true circles that a detection matches.

    True circles outside the scoring window are dropped, then matched optimally
    to *all* detections of their image; a matched pair is correct when its IoU
    is above ``iou_threshold``. The score is the number of correct pairs over
    the number of true circles in the window (undefined without any). In [0, 1],
    greater is better.
    """

    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 1.0

    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        return _ratio(int(np.count_nonzero(iou > self.params.iou_threshold)), n_true,
                      "no true circle in the scoring window")


class _MeanDeviation(_Matched):
    """Mean of a per-pair deviation over matched pairs with IoU at least the threshold."""

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0

    def counts_zero_iou(self) -> bool:
        return self.params.iou_threshold <= 0

    @abc.abstractmethod
    def deviation(self, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Per matched pair (rows of ``true`` and ``pred``), the deviation to average."""

    def score_matches(self, true: np.ndarray, pred: np.ndarray, t: np.ndarray,
                      p: np.ndarray, iou: np.ndarray, n_true: int, n_pred: int) -> float:
        close = iou >= self.params.iou_threshold
        if not close.any():
            raise UndefinedScore(f"no detection matches a true circle with IoU >= "
                                 f"{self.params.iou_threshold:g}")
        return float(np.abs(self.deviation(true[t[close]], pred[p[close]])).mean())


class MADCenter(_MeanDeviation):
    """Mean absolute deviation of the centre, relative to the true radius.

    True circles outside the scoring window are dropped, then matched optimally
    to all detections of their image; over the pairs with IoU at least
    ``iou_threshold``, the mean of ``|centre_pred - centre_true| / radius_true``
    (Euclidean distance). Undefined (NaN) without such a pair. In [0, inf), lower is
    better.
    """

    def deviation(self, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
        distance = np.sqrt((pred[:, 0] - true[:, 0]) ** 2 + (pred[:, 1] - true[:, 1]) ** 2)
        return distance / true[:, 2]


class MADRadius(_MeanDeviation):
    """Mean absolute deviation of the radius, relative to the true radius.

    True circles outside the scoring window are dropped, then matched optimally
    to all detections of their image; over the pairs with IoU at least
    ``iou_threshold``, the mean of ``|radius_pred - radius_true| / radius_true``.
    Undefined (NaN) without such a pair. In [0, inf), lower is better.
    """

    def deviation(self, true: np.ndarray, pred: np.ndarray) -> np.ndarray:
        return (pred[:, 2] - true[:, 2]) / true[:, 2]
