"""Score types: a number computed from ``y_true`` and ``y_pred``.

Concrete scores live in plugins and are registered under the
``rampconf.scores`` entry-point group.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np

from rampconf.plugin import ParamsT, Plugin

__all__ = ["BaseScore"]


class BaseScore(Plugin[ParamsT]):
    """Base class of score types.

    Lifecycle: built once per run from the problem's ``scores`` entry, with
    the display ``name`` and ``precision`` of that entry, before any data is
    read (a score that wraps other scores builds them in its constructor).
    :meth:`score` is called in the main process for every fold and step
    (train, valid, test) and for every point of the bagging curve. It may
    assume non-empty arrays of the same length, restricted to the rows that
    hold a prediction, ``y_true`` encoded by the problem's prediction type
    and ``y_pred`` checked by it (:meth:`BasePrediction.check_y_pred`); it
    raises ``ValueError`` when the arrays do not suit it (while scoring a
    fold, that is the fold's failure). Subclasses implement :meth:`score`.

    Class attributes
    ----------------
    greater_is_better : bool
        Direction of the score; sweeps maximise or minimise accordingly.
    minimum, maximum : float
        Bounds of the score (may be infinite).
    default_precision : int
        Digits shown in tables when the problem does not set ``precision``.
    """

    greater_is_better: ClassVar[bool] = True
    minimum: ClassVar[float] = -np.inf
    maximum: ClassVar[float] = np.inf
    default_precision: ClassVar[int] = 2

    def __init__(
        self,
        params: ParamsT | None = None,
        *,
        name: str | None = None,
        precision: int | None = None,
    ) -> None:
        super().__init__(params)
        self.name = name or type(self).__name__
        self.precision = self.default_precision if precision is None else precision

    @abc.abstractmethod
    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The score of ``y_pred`` against ``y_true`` (both non-empty, same length)."""

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(self.score(y_true, y_pred))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.params!r})"
