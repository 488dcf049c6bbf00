"""Prediction types: how predictions look, are checked, combined and saved.

A prediction type turns the raw targets of a data set into the ``y_true``
array that scores receive, checks what a submission predicts, and combines
the predictions of several folds (CV bagging).
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from rampconf.plugin import ParamsT, Plugin

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from rampconf.extras import Extra

__all__ = ["BasePrediction"]


class BasePrediction(Plugin[ParamsT]):
    """Base class of prediction types.

    Lifecycle: built once per run, before any data is read. Then, in the main
    process, :meth:`setup` once with the raw training targets (before
    anything else is called) and :meth:`encode_y` on the training and the
    test targets. In the fold workers (after ``setup``, on a pickled copy),
    :meth:`check_y_pred` on every prediction a submission returns. Back in
    the main process: :meth:`empty`, :meth:`combine` and
    :meth:`has_prediction` when bagging the folds, :meth:`to_columns` and
    :meth:`pack` when saving predictions, :meth:`save_figures` when the run
    draws pictures. Subclasses implement :meth:`check_y_pred`; the defaults
    of the others suit a float array whose rows are the samples.

    A canonical prediction is a NumPy array whose first axis is the sample.
    Rows that hold no prediction (a sample outside a fold's valid set) are NaN
    (or ``None`` for object arrays), see :meth:`has_prediction`.
    """

    #: Method of a scikit-learn estimator that gives this kind of prediction.
    predict_method: ClassVar[Literal["predict", "predict_proba"]] = "predict"
    #: The extra that :meth:`save_figures` imports; when it is missing, a run
    #: skips the pictures with a warning instead of failing.
    figures_require: ClassVar[Extra | None] = None

    def setup(self, y_train: np.ndarray) -> None:
        """Learn what depends on the training targets (e.g. the labels); default: nothing."""

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        """Raw targets -> the ``y_true`` array that scores receive."""
        return np.asarray(y)

    @abc.abstractmethod
    def check_y_pred(self, y_pred: Any, y_true: np.ndarray) -> np.ndarray:
        """Check and canonicalise a submission's prediction for the samples of ``y_true``.

        ``y_true`` is encoded (:meth:`encode_y`); ``y_pred`` is whatever the
        workflow returned and may be of any type.

        Raises
        ------
        ValueError
            With a message saying which shape or values were expected and found.
        """

    def empty(self, n_samples: int, like: np.ndarray) -> np.ndarray:
        """A prediction for ``n_samples`` samples that holds no prediction (NaN)."""
        return np.full((n_samples, *like.shape[1:]), np.nan)

    def has_prediction(self, y_pred: np.ndarray) -> np.ndarray:
        """Boolean mask of the samples that hold a prediction."""
        values = y_pred.reshape(len(y_pred), -1)
        return ~np.all(np.isnan(values), axis=1)

    def combine(self, y_preds: Sequence[np.ndarray]) -> np.ndarray:
        """Combine fold predictions for the same samples (CV bagging): NaN-aware mean."""
        stacked = np.stack([np.asarray(y, dtype=float) for y in y_preds])
        mask = ~np.isnan(stacked)
        counts = mask.sum(axis=0)
        total = np.where(mask, stacked, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)

    def to_columns(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        """Named columns for saving a prediction as a table."""
        values = y_pred.reshape(len(y_pred), -1)
        return {f"y_pred_{j}": values[:, j] for j in range(values.shape[1])}

    def pack(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        """Plain numeric arrays that hold ``y_pred``, for ``.npz`` files (no pickles).

        The default stores the array itself under the empty key; prediction
        types with ragged predictions return several arrays (their docstring
        says which).
        """
        return {"": np.asarray(y_pred)}

    def save_figures(self, folder: Path, X: Any, y_true: np.ndarray, y_pred: np.ndarray,
                     rows: np.ndarray, fold: int) -> list[Path]:
        """Draw pictures of some predictions (rows ``rows`` of a fold's valid set).

        Called in the main process after the folds, when the run option
        ``n_figures`` is positive. Default: nothing to draw.
        """
        return []
