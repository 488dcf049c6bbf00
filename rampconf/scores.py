"""Score types: a number computed from ``y_true`` and ``y_pred``.

Concrete scores live in plugins (``rampconf.plugins.*.scores``) and are
registered under the ``rampconf.scores`` entry-point group.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from rampconf.plugin import Plugin, StrictModel

__all__ = ["BaseScore"]


class BaseScore(Plugin):
    """Base class of score types.

    Lifecycle: built once per run from the problem's ``scores`` entry, with
    the display ``name`` and ``precision`` of that entry. :meth:`score` is
    called for every fold and step (train, valid, test) and for bagged
    predictions, on the rows that hold a prediction only, with ``y_true``
    encoded by the problem's prediction type and ``y_pred`` canonical.

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
        params: StrictModel | None = None,
        *,
        name: str | None = None,
        precision: int | None = None,
    ) -> None:
        super().__init__(params)
        self.name = name or type(self).__name__
        self.precision = self.default_precision if precision is None else precision

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The score of ``y_pred`` against ``y_true`` (both non-empty, same length)."""
        raise NotImplementedError

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(self.score(y_true, y_pred))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.params!r})"
