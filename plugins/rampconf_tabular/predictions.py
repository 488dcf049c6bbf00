"""Tabular prediction types: multiclass probabilities and regression values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from rampconf.plugin import StrictModel
from rampconf.predictions import BasePrediction, LabelIndex, TargetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure, SubFigure

__all__ = ["Multiclass", "MulticlassParams", "Regression"]

Label = str | int | float | bool
#: Bagging clips fold probabilities to [CLIP, 1 - CLIP] before renormalising (ramp-workflow's).
CLIP = 1e-15


def _check_finite(values: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
    if bad.size:
        shown = ", ".join(map(str, bad[:5])) + (", ..." if bad.size > 5 else "")
        rows = "row" if bad.size == 1 else "rows"
        raise ValueError(f"NaN or infinite values in {bad.size} {rows} of {what} "
                         f"({rows} {shown})")


class MulticlassParams(StrictModel):
    """Parameters of the ``multiclass`` prediction type."""

    labels: list[Label] | None = Field(
        None, min_length=2, description="the labels in the column order of the probabilities; "
                                        "null: the sorted labels of the training targets")

    @field_validator("labels")
    @classmethod
    def _distinct(cls, labels: list[Label] | None) -> list[Label] | None:
        if labels is not None:
            LabelIndex(labels)  # raises on a label given twice (1 and 1.0 are the same)
        return labels


class Multiclass(BasePrediction[MulticlassParams]):
    """Class probabilities, one column per label (binary is two labels).

    ``y_true`` given to scores is the index of each sample's label in
    ``labels``; a prediction is a float array of shape ``(n_samples, n_labels)``
    whose columns follow ``labels``, every value in [0, 1] (rows need not sum
    to 1). Bagging (:meth:`combine`) follows ramp-workflow: each fold's
    probabilities are clipped to ``[1e-15, 1 - 1e-15]`` and every row divided
    by its sum, then the folds are averaged where they hold a prediction.
    """

    predict_method: ClassVar[Literal["predict", "predict_proba"]] = "predict_proba"

    def setup(self, y_train: np.ndarray) -> None:
        labels = self.params.labels
        if labels is None:
            labels = sorted(np.unique(np.asarray(y_train)).tolist())
        self.labels: list[Any] = list(labels)

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        # Labels compare as values (1 == 1.0), as predict_with places a model's classes.
        codes = LabelIndex(self.labels).positions(y)
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            unknown = sorted({str(v) for v in y[bad].tolist()})
            raise TargetError(f"targets hold labels {unknown[:5]} that are not among the "
                              f"problem's labels {self.labels}", row=int(bad[0]), n_bad=bad.size)
        return codes

    def check_y_pred(self, y_pred: Any, y_true: np.ndarray) -> np.ndarray:
        values = np.asarray(y_pred, dtype=float)
        expected = (len(y_true), len(self.labels))
        if values.shape != expected:
            raise ValueError(
                f"expected class probabilities of shape {expected} "
                f"(samples, labels {self.labels}), got shape {values.shape}"
            )
        _check_finite(values, "the predicted probabilities")
        outside = np.flatnonzero(((values < 0) | (values > 1)).any(axis=1))
        if outside.size:
            row = int(outside[0])
            column = int(np.flatnonzero((values[row] < 0) | (values[row] > 1))[0])
            value, label = float(values[row, column]), self.labels[column]
            more = f" ({outside.size} rows in all)" if outside.size > 1 else ""
            raise ValueError(f"probabilities must be in [0, 1]: row {row} holds {value!r} for "
                             f"label {label!r}{more}")
        return values

    def combine(self, y_preds: Sequence[np.ndarray]) -> np.ndarray:
        """Average the folds' probabilities, each clipped and renormalised first (ramp-workflow's).

        Rows without a prediction (NaN) stay NaN and are left out of the mean.
        """
        stacked = np.clip(np.stack([np.asarray(y, dtype=float) for y in y_preds]),
                          CLIP, 1.0 - CLIP)
        return super().combine(stacked / stacked.sum(axis=2, keepdims=True))

    def to_columns(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        return {f"proba_{label}": y_pred[:, j] for j, label in enumerate(self.labels)}

    def plot_predictions(self, figure: Figure | SubFigure, y_true: np.ndarray,
                         y_pred: np.ndarray) -> bool:
        """The confusion matrix of the most probable label: counts, rows the true label."""
        from sklearn.metrics import confusion_matrix

        n = len(self.labels)
        counts = confusion_matrix(np.asarray(y_true, dtype=int), np.argmax(y_pred, axis=1),
                                  labels=list(range(n)))
        ax = figure.subplots()
        ax.imshow(counts, cmap="Blues")
        for (i, j), count in np.ndenumerate(counts):
            ax.text(j, i, str(count), ha="center", va="center",
                    color="white" if count > counts.max() / 2 else "black")
        names = [str(label) for label in self.labels]
        ax.set_xticks(range(n), names, rotation=45 if n > 4 else 0)
        ax.set_yticks(range(n), names)
        ax.set_xlabel("predicted label (most probable)")
        ax.set_ylabel("true label")
        ax.set_title("confusion matrix")
        return True


class Regression(BasePrediction):
    """Real values, one column per target (a 1-D array for a single target).

    A prediction has the shape of the targets: ``(n_samples,)`` for one target
    column, ``(n_samples, n_targets)`` for several; a single-target submission
    may also return ``(n_samples, 1)``.
    """

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        raw = np.asarray(y)
        try:
            values = raw.astype(float)
        except (TypeError, ValueError):
            for (row, column), value in np.ndenumerate(raw.reshape(len(raw), -1)):
                try:
                    float(value)
                except (TypeError, ValueError):
                    raise TargetError(f"regression targets must be numbers, got {value!r}",
                                      row=row, column=column if raw.ndim > 1 else None
                                      ) from None
            raise
        flat = values.reshape(len(values), -1)
        bad = ~np.isfinite(flat)
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            rows = int(bad.any(axis=1).sum())
            raise TargetError(f"regression targets must be finite, got {flat[row, column]} "
                              f"({rows} row(s) hold NaN or infinite values)", row=row,
                              column=column if values.ndim > 1 else None, n_bad=rows)
        return values

    def check_y_pred(self, y_pred: Any, y_true: np.ndarray) -> np.ndarray:
        try:
            values = np.asarray(y_pred, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected real-valued predictions, got {type(y_pred).__name__}: "
                             f"{exc}") from None
        if y_true.ndim == 1 and values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.shape != y_true.shape:
            raise ValueError(f"expected predictions of shape {y_true.shape}, "
                             f"got shape {values.shape}")
        _check_finite(values, "the predictions")
        return values

    def to_columns(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        if y_pred.ndim == 1:
            return {"y_pred": y_pred}
        return super().to_columns(y_pred)

    def plot_predictions(self, figure: Figure | SubFigure, y_true: np.ndarray,
                         y_pred: np.ndarray) -> bool:
        """Predicted against true values, one panel per target (at most four), with y = x."""
        truth = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
        predicted = np.asarray(y_pred, dtype=float).reshape(len(y_pred), -1)
        n_panels = min(truth.shape[1], 4)
        axes = np.atleast_1d(figure.subplots(1, n_panels, squeeze=False)[0])
        for j, ax in enumerate(axes):
            ax.scatter(truth[:, j], predicted[:, j], s=10, alpha=0.6)
            low = float(min(truth[:, j].min(), predicted[:, j].min()))
            high = float(max(truth[:, j].max(), predicted[:, j].max()))
            ax.plot([low, high], [low, high], color="grey", lw=1, ls="--")
            ax.set_xlabel("true value" if n_panels == 1 else f"true value (target {j})")
            ax.set_ylabel("predicted value")
        axes[0].set_title("predicted against true")
        return True
