"""Score types: a number computed from ``y_true`` and ``y_pred``.

Concrete scores live in plugins and are registered under the
``rampconf.scores`` entry-point group. A score that has no value on some
arrays (ROC AUC with one label present, a ratio over nothing) raises
:class:`UndefinedScore` with the reason: the engine records NaN for it, never
a failed fold, and warns once with the reason.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from rampconf.plugin import ParamsT, Plugin

if TYPE_CHECKING:
    from rampconf.predictions import BasePrediction

__all__ = ["BaseScore", "BaseWeightedScore", "UndefinedScore"]


class UndefinedScore(Exception):
    """The score has no value on these arrays; the message says why in a few words.

    Raised by :meth:`BaseScore.score` (e.g. ``UndefinedScore("only one label
    among the true values")``). While scoring a run, the engine records the
    value as NaN, shown as such in the tables and CSV files, and prints one
    warning per score and reason.
    """


class BaseScore(Plugin[ParamsT]):
    """Base class of score types.

    Lifecycle: built once per run from the problem's ``scores`` entry, with
    the display ``name`` and ``precision`` of that entry, before any data is
    read (a score that wraps other scores builds them in its constructor).
    :meth:`check_prediction` is called once, in the main process, when the
    training data is loaded and before any fold trains. :meth:`score` is
    called in the main process for every fold and step (train, valid, test)
    and for every point of the bagging curve. It may
    assume non-empty arrays of the same length, restricted to the rows that
    hold a prediction, ``y_true`` encoded by the problem's prediction type
    and ``y_pred`` checked by it (:meth:`BasePrediction.check_y_pred`). It
    raises :class:`UndefinedScore` when the score has no value on these
    arrays (recorded as NaN), and ``ValueError`` when the arrays do not suit
    it (while scoring a fold, that is the fold's failure). Subclasses
    implement :meth:`score`; a score that needs per-sample weights derives
    from :class:`BaseWeightedScore` instead.

    Class attributes
    ----------------
    greater_is_better : bool
        Direction of the score; sweeps maximise or minimise accordingly.
    minimum, maximum : float
        Bounds of the score (may be infinite).
    default_precision : int
        Digits shown in tables when the problem does not set ``precision``.
    needs_weights : bool
        Whether the score takes the data's per-sample weights (see
        :class:`BaseWeightedScore`).
    """

    greater_is_better: ClassVar[bool] = True
    minimum: ClassVar[float] = -np.inf
    maximum: ClassVar[float] = np.inf
    default_precision: ClassVar[int] = 2
    needs_weights: ClassVar[bool] = False

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

    def check_prediction(self, prediction: BasePrediction) -> None:
        """Check that the score's parameters agree with the problem (default: nothing to check).

        Called once per run, after the prediction type has seen the training
        targets (:meth:`BasePrediction.setup`, so its labels are known) and
        before any fold trains. Raise ``ValueError`` saying what disagrees
        (``score_matrix is 3x3 but the problem has 4 labels``): the run stops
        with a configuration error naming the score (exit code 2).
        """

    @abc.abstractmethod
    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The score of ``y_pred`` against ``y_true`` (both non-empty, same length).

        Raises
        ------
        UndefinedScore
            The score has no value on these arrays (the message says why).
        """

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray,
                 weights: np.ndarray | None = None) -> float:
        """The score as a float; ``weights`` (one per sample) are ignored unless it needs them."""
        return float(self.score(y_true, y_pred))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.params!r})"


class BaseWeightedScore(BaseScore[ParamsT]):
    """Base class of scores that weigh each sample with the data's per-sample weights.

    The weights come from the data (the reader's ``Dataset.weights``, e.g. the
    event weights of a physics simulation), never from ``y_true``. The engine
    checks before any fold runs that the problem's data has them, and calls
    the score with the weights of the rows scored. Subclasses implement
    :meth:`score_weighted`; :meth:`score` without weights gives every sample
    weight 1.
    """

    needs_weights: ClassVar[bool] = True

    @abc.abstractmethod
    def score_weighted(self, y_true: np.ndarray, y_pred: np.ndarray,
                       weights: np.ndarray) -> float:
        """The score of ``y_pred`` against ``y_true`` with one weight per sample."""

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return self.score_weighted(y_true, y_pred, np.ones(len(y_true)))

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray,
                 weights: np.ndarray | None = None) -> float:
        if weights is None:
            return float(self.score(y_true, y_pred))
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (len(y_true),):
            raise ValueError(f"{self.name}: expected one weight per sample ({len(y_true)}), "
                             f"got shape {weights.shape}")
        return float(self.score_weighted(y_true, y_pred, weights))
