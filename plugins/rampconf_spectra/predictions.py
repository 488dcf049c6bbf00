"""The combined prediction type: several prediction types side by side."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from rampconf.errors import ConfigError
from rampconf.plugin import StrictModel, make_plugin
from rampconf.predictions import BasePrediction, TargetError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure, SubFigure

__all__ = ["Combined", "CombinedParams", "PartRef"]


class PartRef(StrictModel):
    """One part of a combined prediction or score: a registered type and its parameters."""

    type: str = Field(description="registered name of the part's type")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="parameters of that type")


class CombinedParams(StrictModel):
    """Parameters of the ``combined`` prediction type."""

    parts: list[PartRef] = Field(
        min_length=1, description="{type, params} of the prediction type of each target "
                                  "column, e.g. [{type: multiclass, params: {labels: [A, B]}}, "
                                  "{type: regression}]")


class Combined(BasePrediction[CombinedParams]):
    """Several prediction types side by side, one target column each (RAMP's combined type).

    The raw target is ``(n_samples, n_parts)``: column ``i`` is the target of
    part ``i`` (e.g. ``molecule`` then ``concentration``). ``y_true`` given to
    scores is the float array ``(n_samples, n_parts)`` whose column ``i`` is
    part ``i``'s encoded target (a label index for ``multiclass``, the value
    for ``regression``). A prediction is the float array of every part's
    prediction, columns concatenated in part order: a part with two columns or
    more (class probabilities) takes them all, a part of one column
    (``regression``) takes one. Each part is checked by its own type, and
    bagged by its own type's :meth:`combine` (the NaN-aware mean over folds,
    of clipped and renormalised probabilities for ``multiclass``).
    """

    def __init__(self, params: CombinedParams | None = None) -> None:
        super().__init__(params)
        self.parts: list[BasePrediction] = []
        errors: list[str] = []
        for i, ref in enumerate(self.params.parts):
            if ref.type == "combined":
                errors.append(f"problem.prediction.parts.{i}.type: a combined prediction cannot be "
                              f"a part")
                continue
            try:
                self.parts.append(make_plugin(
                    "prediction", ref.type, dict(ref.params),
                    f"problem.prediction.parts.{i}.params", BasePrediction))
            except ConfigError as exc:
                errors.extend(exc.lines)
        if errors:
            raise ConfigError(errors[0], lines=errors)

    # ------------------------------------------------------------------ layout

    def widths(self) -> list[int]:
        """Number of prediction columns of each part (known after :meth:`setup`)."""
        return [len(labels) if (labels := getattr(part, "labels", None)) is not None else 1
                for part in self.parts]

    def slices(self) -> list[slice]:
        """Prediction columns of each part."""
        edges = np.concatenate([[0], np.cumsum(self.widths())]).astype(int)
        return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]

    @property
    def labels(self) -> list[Any] | None:
        """Labels of the first part that has labels (the classification part), else None."""
        for part in self.parts:
            labels = getattr(part, "labels", None)
            if labels is not None:
                return list(labels)
        return None

    def _columns(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] != len(self.parts):
            raise ValueError(f"a combined prediction of {len(self.parts)} parts needs targets "
                             f"of shape (n_samples, {len(self.parts)}), one column per part "
                             f"(data.target lists them), got shape {y.shape}")
        return y

    def _part_values(self, y_pred: np.ndarray, i: int) -> np.ndarray:
        values = y_pred[:, self.slices()[i]]
        return values[:, 0] if self.widths()[i] == 1 else values

    # ------------------------------------------------------------------ protocol

    def setup(self, y_train: np.ndarray) -> None:
        y_train = self._columns(y_train)
        for i, part in enumerate(self.parts):
            part.setup(y_train[:, i])

    def encode_y(self, y: np.ndarray) -> np.ndarray:
        y = self._columns(y)
        columns = []
        for i, part in enumerate(self.parts):
            try:
                encoded = np.asarray(part.encode_y(y[:, i]), dtype=float)
            except TargetError as exc:  # the part's target is column i
                raise TargetError(str(exc), row=exc.row, column=i, n_bad=exc.n_bad) from None
            if encoded.ndim != 1:
                raise ValueError(f"part {i} ({type(part).__name__}) encodes its target as shape "
                                 f"{encoded.shape}; a combined part needs one value per sample")
            columns.append(encoded)
        return np.column_stack(columns)

    def check_y_pred(self, y_pred: Any, y_true: np.ndarray) -> np.ndarray:
        try:
            values = np.asarray(y_pred, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected a float array, got {type(y_pred).__name__}: "
                             f"{exc}") from None
        width = sum(self.widths())
        expected = (len(y_true), width)
        if values.shape != expected:
            layout = " + ".join(f"{w} ({type(p).__name__.lower()})"
                                for w, p in zip(self.widths(), self.parts, strict=True))
            raise ValueError(f"expected a combined prediction of shape {expected} "
                             f"(columns {layout}), got shape {values.shape}")
        checked = []
        for i, part in enumerate(self.parts):
            truth = y_true[:, i].astype(int) if self.widths()[i] > 1 else y_true[:, i]
            try:
                part_values = np.asarray(part.check_y_pred(self._part_values(values, i), truth),
                                         dtype=float)
            except ValueError as exc:
                raise ValueError(f"part {i} ({type(part).__name__.lower()}): {exc}") from None
            checked.append(part_values.reshape(len(values), -1))
        return np.concatenate(checked, axis=1)

    def empty(self, n_samples: int, like: np.ndarray) -> np.ndarray:
        return np.full((n_samples, sum(self.widths())), np.nan)

    def has_prediction(self, y_pred: np.ndarray) -> np.ndarray:
        """A sample holds a prediction when every part holds one."""
        mask = np.ones(len(y_pred), dtype=bool)
        for i, part in enumerate(self.parts):
            values = y_pred[:, self.slices()[i]]
            mask &= part.has_prediction(values[:, 0] if values.shape[1] == 1 else values)
        return mask

    def combine(self, y_preds: Sequence[np.ndarray]) -> np.ndarray:
        """Bag each part with its own type's :meth:`combine`, then concatenate."""
        combined = []
        for i, part in enumerate(self.parts):
            bagged = np.asarray(part.combine([self._part_values(np.asarray(y, dtype=float), i)
                                              for y in y_preds]), dtype=float)
            combined.append(bagged.reshape(bagged.shape[0], -1))
        return np.concatenate(combined, axis=1)

    def to_columns(self, y_pred: np.ndarray) -> dict[str, np.ndarray]:
        columns: dict[str, np.ndarray] = {}
        for i, part in enumerate(self.parts):
            for name, values in part.to_columns(self._part_values(y_pred, i)).items():
                columns[name if name not in columns else f"part{i}_{name}"] = values
        return columns

    def plot_predictions(self, figure: Figure | SubFigure, y_true: np.ndarray,
                         y_pred: np.ndarray) -> bool:
        """Each part's own picture side by side (a part that draws nothing leaves its place)."""
        drawn = False
        panels = figure.subfigures(1, len(self.parts), squeeze=False)[0]
        for i, (part, panel) in enumerate(zip(self.parts, panels, strict=True)):
            truth = y_true[:, i].astype(int) if self.widths()[i] > 1 else y_true[:, i]
            drawn |= part.plot_predictions(panel, truth, self._part_values(y_pred, i))
        return drawn
