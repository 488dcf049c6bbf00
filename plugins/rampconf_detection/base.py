"""Bases of the detection scores: parameters, the scoring window and the flat inputs."""

from __future__ import annotations

import abc
from typing import Annotated, Any, ClassVar, TypeVar

import numpy as np
from pydantic import AfterValidator, Field

from rampconf.compat import compat_default
from rampconf.plugin import StrictModel
from rampconf.scores import BaseScore, UndefinedScore
from rampconf_detection.geometry import Flat, IoUFormula, TieBreak, flatten

__all__ = ["DetectionScore", "IoUParams", "ThresholdParams"]


def _check_minipatch(window: list[int]) -> list[int]:
    row_min, row_max, col_min, col_max = window
    if min(window) < 0 or row_min > row_max or col_min > col_max:
        raise ValueError("[row_min, row_max, col_min, col_max] needs 0 <= row_min <= row_max "
                         "and 0 <= col_min <= col_max")
    return window


Minipatch = Annotated[list[int], Field(min_length=4, max_length=4),
                      AfterValidator(_check_minipatch)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


IOU_FORMULA = ("circle IoU: exact (the true lens area) or ramp (ramp-workflow 0.7.0's "
               "formula, which inflates partial overlaps)")
TIES = ("optimal matching used when IoUs tie exactly: grouped (each group of overlapping "
        "circles solved alone) or ramp (each image's whole IoU matrix, as ramp-workflow)")
#: ``compat=ramp``: ramp-workflow's IoU formula and tie-breaking.
RAMP_IOU = compat_default(ramp="ramp")


class ThresholdParams(StrictModel):
    """Confidence threshold and scoring window."""

    conf_threshold: Fraction = Field(0.5, description="detections count when their confidence "
                                                      "is above this value")
    minipatch: Minipatch | None = Field(
        None, description="scoring window [row_min, row_max, col_min, col_max] of the circle "
                          "centres; null: the whole image")


class IoUParams(ThresholdParams):
    """Parameters of the matching scores: threshold, window, IoU threshold and formula."""

    iou_threshold: Fraction = Field(
        0.5, description="IoU threshold of a matched pair: precision and recall count pairs "
                         "above it, the mean deviations pairs at least at it")
    iou_formula: IoUFormula = Field("exact", description=IOU_FORMULA,
                                    json_schema_extra=RAMP_IOU)
    ties: TieBreak = Field("grouped", description=TIES, json_schema_extra=RAMP_IOU)


def _ratio(numerator: float, denominator: float, nothing: str) -> float:
    if not denominator:
        raise UndefinedScore(nothing)
    return float(numerator / denominator)


_ParamsT = TypeVar("_ParamsT", bound=StrictModel)
_ThresholdT = TypeVar("_ThresholdT", bound=ThresholdParams)


class DetectionScore(BaseScore[_ParamsT]):
    """Base of the detection scores: reads the per-image circles into flat arrays.

    Lifecycle as :class:`~rampconf.scores.BaseScore`; :meth:`split` gives the
    circles of ``score``'s arguments as flat arrays.
    """

    default_precision: ClassVar[int] = 3

    def split(self, y_true: Any, y_pred: Any) -> tuple[Flat, Flat, np.ndarray]:
        """``(true circles, predicted circles, confidences)``, flat over images."""
        true, pred = flatten(y_true, 3), flatten(y_pred, 4)
        if true.n_images != pred.n_images:
            raise ValueError(f"y_true has {true.n_images} images but y_pred has "
                             f"{pred.n_images}")
        circles = Flat(pred.values[:, 1:], pred.image, pred.n_images)
        return true, circles, pred.values[:, 0]



class _ThresholdScore(DetectionScore[_ThresholdT]):
    """A detection score of the detections above the confidence threshold.

    Subclasses implement :meth:`score_kept`, called by :meth:`score` with the
    true circles, all detections and the mask of those whose confidence is
    above ``conf_threshold``.
    """

    def score(self, y_true: Any, y_pred: Any) -> float:
        true, pred, confidence = self.split(y_true, y_pred)
        return self.score_kept(true, pred, confidence > self.params.conf_threshold)

    @abc.abstractmethod
    def score_kept(self, true: Flat, pred: Flat, kept: np.ndarray) -> float:
        """The score of the detections ``pred.select(kept)`` against ``true``."""
