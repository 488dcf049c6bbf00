"""Scores of combined predictions: a weighted sum of part scores, and one part's score.

Both receive the arrays of the ``combined`` prediction type: ``y_true`` of
shape ``(n, n_parts)`` (column ``i`` is part ``i``'s encoded target) and
``y_pred`` whose columns are the parts' predictions side by side. ``widths``
gives the number of prediction columns of each part (``[4, 1]`` for four
class probabilities then one regression value). A part of two columns or more
is class probabilities: its score gets ``y_true`` as int label indices and
``y_pred`` as ``(n, width)``; a part of one column gets 1-D float arrays.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field, FiniteFloat, model_validator

from rampconf.errors import ConfigError
from rampconf.plugin import StrictModel, make_plugin
from rampconf.scores import BaseScore
from rampconf_spectra.predictions import PartRef

__all__ = ["CombinedScore", "CombinedScoreParams", "PartScore", "PartScoreParams", "split_part"]


def split_part(y_true: np.ndarray, y_pred: np.ndarray, widths: list[int], index: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, y_pred)`` of part ``index`` of combined arrays laid out as ``widths``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 2 or y_true.shape[1] != len(widths):
        raise ValueError(f"combined y_true must have one column per part ({len(widths)}), "
                         f"got shape {y_true.shape}: use the combined prediction type")
    if y_pred.ndim != 2 or y_pred.shape[1] != sum(widths):
        raise ValueError(f"combined y_pred must have {sum(widths)} columns (widths {widths}), "
                         f"got shape {y_pred.shape}")
    start = int(sum(widths[:index]))
    width = widths[index]
    if width == 1:
        return y_true[:, index].astype(float), y_pred[:, start].astype(float)
    return y_true[:, index].astype(int), y_pred[:, start:start + width]


def _build(ref: PartRef, path: str) -> BaseScore:
    if ref.type in ("combined", "part"):
        raise ConfigError(f"{path}.type: a {ref.type} score cannot be a part of a combined score")
    return make_plugin("score", ref.type, dict(ref.params), f"{path}.params", BaseScore)


WIDTHS = "prediction columns of each part, e.g. [4, 1]: four probabilities, then one value"


class CombinedScoreParams(StrictModel):
    """Parameters of the ``combined`` score."""

    parts: list[PartRef] = Field(min_length=1, description="{type, params} of the score of "
                                                           "each part, in part order")
    weights: list[FiniteFloat] = Field(description="weight of each part's score")
    widths: list[int] = Field(description=WIDTHS)

    @model_validator(mode="after")
    def _same_lengths(self) -> CombinedScoreParams:
        if not (len(self.parts) == len(self.weights) == len(self.widths)):
            raise ValueError(f"parts, weights and widths need one entry per part, got "
                             f"{len(self.parts)}, {len(self.weights)} and "
                             f"{len(self.widths)}")
        if any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")
        return self


class CombinedScore(BaseScore[CombinedScoreParams]):
    """Weighted sum of scores of the parts of a combined prediction (RAMP's ``Combined``).

    ``sum_i weights[i] * parts[i](part i)``; part ``i``'s score is applied to
    prediction part ``i``. All part scores must have the same direction, which
    is the combined score's; its bounds are the weighted sums of theirs.
    """

    greater_is_better: ClassVar[bool] = False
    minimum: ClassVar[float] = 0.0
    maximum: ClassVar[float] = 0.0
    default_precision: ClassVar[int] = 3

    def __init__(self, params: CombinedScoreParams | None = None, *, name: str | None = None,
                 precision: int | None = None) -> None:
        super().__init__(params, name=name or "combined", precision=precision)
        p = self.params
        path = f"problem.scores.{self.name}.parts"
        errors: list[str] = []
        self.scores: list[BaseScore] = []
        for i, ref in enumerate(p.parts):
            try:
                self.scores.append(_build(ref, f"{path}.{i}"))
            except ConfigError as exc:
                errors.extend(exc.lines)
        if not errors and len({s.greater_is_better for s in self.scores}) > 1:
            directions = ", ".join(f"{type(s).__name__}: "
                                   f"{'greater' if s.greater_is_better else 'lower'} is better"
                                   for s in self.scores)
            errors.append(f"{path}: cannot combine scores of opposite directions ({directions})")
        if errors:
            raise ConfigError(errors[0], lines=errors)
        # Instance attributes shadow the class defaults: direction and bounds of the parts.
        self.__dict__["greater_is_better"] = self.scores[0].greater_is_better
        self.__dict__["minimum"] = float(sum(w * s.minimum
                                             for w, s in zip(p.weights, self.scores, strict=True)))
        self.__dict__["maximum"] = float(sum(w * s.maximum
                                             for w, s in zip(p.weights, self.scores, strict=True)))

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        p = self.params
        total = 0.0
        for i, (weight, score) in enumerate(zip(p.weights, self.scores, strict=True)):
            total += weight * score.score(*split_part(y_true, y_pred, list(p.widths), i))
        return total


class PartScoreParams(StrictModel):
    """Parameters of the ``part`` score."""

    score: str = Field(description="registered type of the wrapped score "
                                   "(classification_error, mare, ...)")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="parameters of the wrapped score")
    index: int = Field(ge=0, description="the part it is applied to (0 is the first)")
    widths: list[int] = Field(description=WIDTHS)

    @model_validator(mode="after")
    def _index_in_range(self) -> PartScoreParams:
        if self.index >= len(self.widths):
            raise ValueError(f"index {self.index} is out of range for {len(self.widths)} "
                             f"parts (widths {self.widths})")
        if any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")
        return self


class PartScore(BaseScore[PartScoreParams]):
    """Any score applied to one part of a combined prediction (RAMP's ``MakeCombined``).

    Direction, bounds and default precision are those of the wrapped score.
    """

    def __init__(self, params: PartScoreParams, *, name: str | None = None,
                 precision: int | None = None) -> None:
        p = params
        inner = _build(PartRef(type=p.score, params=p.params),
                       f"problem.scores.{name or p.score}.score")
        super().__init__(p, name=name or inner.name,
                         precision=inner.precision if precision is None else precision)
        self.inner = inner
        self.__dict__["greater_is_better"] = inner.greater_is_better
        self.__dict__["minimum"] = inner.minimum
        self.__dict__["maximum"] = inner.maximum

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        p = self.params
        return self.inner.score(*split_part(y_true, y_pred, list(p.widths), p.index))
