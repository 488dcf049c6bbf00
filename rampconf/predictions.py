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

    from matplotlib.figure import Figure, SubFigure

    from rampconf.extras import Extra

__all__ = ["BasePrediction", "LabelIndex", "TargetError"]


class TargetError(ValueError):
    """Targets that a prediction type cannot score, with the first bad sample.

    Raised by :meth:`BasePrediction.encode_y`; the engine turns it into a
    :class:`~rampconf.errors.DataError` that names the data file, the target
    column and the row, before any fold runs.

    Attributes
    ----------
    row : int
        Position (from 0) of the first bad sample in the targets.
    column : int or None
        Index of the bad target column when the targets have several, else None.
    n_bad : int
        How many samples are bad.
    """

    def __init__(self, message: str, row: int, column: int | None = None,
                 n_bad: int = 1) -> None:
        super().__init__(message)
        self.row, self.column, self.n_bad = int(row), column, int(n_bad)


def _label_value(value: Any) -> Any:
    """A label as a plain Python value: NumPy scalars unwrapped, 1.0 written as 1."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class LabelIndex:
    """The position of each label, labels compared as values (``1 == 1.0 == np.int64(1)``).

    A label of the problem's YAML written as text matches data of the same
    text (``'1'`` matches ``1`` and ``1.0``). The same comparison places the
    targets (:meth:`BasePrediction.encode_y`) and a fitted model's
    ``classes_`` (:func:`rampconf.workflows.predict_with`), so a label that
    is accepted before training is accepted after it.

    Raises
    ------
    ValueError
        When two labels are the same value (``[0, 0, 1]``, ``[1, 1.0]``).
    """

    def __init__(self, labels: Sequence[Any]) -> None:
        self.labels = list(labels)
        self._by_value: dict[Any, int] = {}
        self._by_text: dict[str, int] = {}
        for position, label in enumerate(self.labels):
            value = _label_value(label)
            earlier = self._by_value.get(value, self._by_text.get(str(value)))
            if earlier is not None:
                raise ValueError(f"label {label!r} is given twice (positions {earlier} and "
                                 f"{position}); labels must be distinct values")
            self._by_value[value] = position
            self._by_text[str(value)] = position

    def positions(self, values: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Position of each value among the labels; -1 for a value that is not a label."""
        out = np.empty(len(values), dtype=int)
        for i, raw in enumerate(np.asarray(values, dtype=object).tolist()):
            value = _label_value(raw)
            try:
                found = self._by_value.get(value)
            except TypeError:  # unhashable
                found = None
            out[i] = found if found is not None else self._by_text.get(str(value), -1)
        return out


class BasePrediction(Plugin[ParamsT]):
    """Base class of prediction types.

    Lifecycle: built once per run, before any data is read. Then, in the main
    process, :meth:`setup` once with the raw training targets (before
    anything else is called) and :meth:`encode_y` on the training and the
    test targets. A pickled copy (after ``setup``) goes to each fold process,
    where a workflow may use it (``predict_method``, ``labels``); what the
    fold returns comes back as plain data, and :meth:`check_y_pred` checks
    it in the main process. Then: :meth:`empty`, :meth:`combine` and
    :meth:`has_prediction` when bagging the folds, :meth:`to_columns` and
    :meth:`pack` when saving predictions, :meth:`save_figures` when the run
    draws pictures. Later, on saved predictions (re-scoring, blending, the
    HTML report; after ``setup`` on the run's training targets):
    :meth:`unpack`, :meth:`combine` and :meth:`plot_predictions`. Subclasses
    implement :meth:`check_y_pred`; the defaults of the others suit a float
    array whose rows are the samples.

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
        """Raw targets -> the ``y_true`` array that scores receive.

        Called before any fold runs, on the training and on the test targets.

        Raises
        ------
        TargetError
            A target this type cannot score (a label not among the problem's,
            NaN or infinite values, ...), naming the first bad sample.
        """
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

    def unpack(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """The prediction that :meth:`pack` stored as ``arrays`` (same keys), for re-scoring.

        The default reads the array stored under the empty key.
        """
        return np.asarray(arrays[""])

    def plot_predictions(self, figure: Figure | SubFigure, y_true: np.ndarray,
                         y_pred: np.ndarray) -> bool:
        """Draw a summary picture of predictions against the truth on ``figure``.

        Called by the HTML report with the bagged valid predictions of the rows
        that hold one (and the encoded targets of those rows); the figure is a
        ``matplotlib.figure.Figure`` (or a sub-figure), never pyplot's.
        Returns whether anything was drawn; the default draws nothing.
        """
        return False

    def save_figures(self, folder: Path, X: Any, y_true: np.ndarray, y_pred: np.ndarray,
                     rows: np.ndarray, fold: int) -> list[Path]:
        """Draw pictures of some predictions (rows ``rows`` of a fold's valid set).

        Called in the main process after the folds, when the run option
        ``n_figures`` is positive. Default: nothing to draw.
        """
        return []
